//! `pdsctl backup create H|DID`: the first Shamir backup of an account's rotation key.
//!
//! The key: with `--key FILE`, an existing rotation-key file (from `account create
//! --generate-recovery-key`); otherwise, when the DID has no user rotation key yet (the
//! relay's key is its only one), a new key is generated here and put first in
//! rotationKeys with a PLC update (`POST /v1/dids/{did}/rotate`), checked at the PLC
//! directory before anything is split. The key is split 2-of-3 (`pds::secret::split`)
//! and the shares placed (see `super`); the key itself is never written or printed.

use super::{
    Destinations, Placed, Share3, default_sheet, handle_of, put_share2, write_share1, write_share3,
};
use crate::ctx::Ctx;
use crate::device_opts::{DeviceOpts, account_device};
use crate::error::CliError;
use clap::{Args, ValueEnum};
use pds::crypto::{Curve, Keypair};
use serde::Serialize;
use std::path::PathBuf;

/// The curve of a new rotation key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CurveArg {
    Secp256k1,
    P256,
}

/// `pdsctl backup create`
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  pdsctl backup create alice.example.com --relay https://pds.example.com\n  pdsctl backup create alice.test --share3 sheet --sheet-out ~/alice-sheet\n  pdsctl --json --yes backup create did:plc:abc --password-file ./pw --key ./alice-recovery.json"
)]
pub struct CreateArgs {
    /// The account (handle or DID).
    #[arg(value_name = "HANDLE|DID")]
    pub account: String,
    /// What Share 3 becomes: a recovery sheet to print, or a share file for another
    /// device (`device` is accepted for `file`).
    #[arg(long, value_enum, default_value = "sheet")]
    pub share3: Share3,
    /// Where Share 3 goes: the sheet's base name (`.txt` and `.html` are added), or the
    /// share file. Default: ./recovery-sheet-<handle>-<epoch>.
    #[arg(long, value_name = "FILE")]
    pub sheet_out: Option<PathBuf>,
    /// Write Share 1 to this file (for another device) instead of this machine's
    /// keychain; required on the relay's own host.
    #[arg(long, value_name = "FILE")]
    pub share1_out: Option<PathBuf>,
    /// The curve of a newly generated rotation key.
    #[arg(long, value_enum, default_value = "secp256k1")]
    pub curve: CurveArg,
    /// Split this existing rotation-key file instead of generating a key.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// The account password (first line), to enrol this machine as a device.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    #[command(flatten)]
    pub opts: DeviceOpts,
}

/// What `backup create` prints.
#[derive(Debug, Serialize)]
pub struct Created {
    pub did: String,
    pub handle: Option<String>,
    pub rotation_key: String,
    /// Whether the key was generated now and put first in rotationKeys.
    pub key_added: bool,
    pub set_id: String,
    pub epoch: u32,
    pub shares: Placed,
}

pub async fn run(args: CreateArgs, ctx: &Ctx) -> Result<(), CliError> {
    let account = crate::cmd::account_id(&args.account)?;
    let a = account_device(ctx, &args.opts, &account, args.password_file.as_deref()).await?;
    let plc = args.opts.plc_url(ctx).await;
    let last = crate::plc::last_op(&plc, &a.did).await?;
    let current = last.op.rotation_keys();
    let relay_key = current.last().cloned().unwrap_or_default();
    let log = a.relay.rotation_log(&a.device).await?;
    if !log["held"].is_null() {
        return Err(CliError::Failed(format!(
            "{} already has a backup (set {}); make new shares with `pdsctl backup rotate`",
            a.did,
            log["held"]["setId"].as_str().unwrap_or("?")
        )));
    }
    super::check_share1_place(ctx, &a.relay, args.share1_out.as_deref()).await?;
    let keychain = args.opts.keychain()?;
    let handle = handle_of(&last);
    let out = args.sheet_out.clone().unwrap_or_else(|| {
        let next = log["lastEpoch"].as_u64().unwrap_or(0) as u32 + 1;
        default_sheet(handle.as_deref(), &a.did, next)
    });
    let to = Destinations {
        share3: args.share3,
        share3_out: &out,
        share1_out: args.share1_out.as_deref(),
    };
    let epoch = log["lastEpoch"].as_u64().unwrap_or(0) as u32 + 1;
    let split = |key: &Keypair| {
        pds::secret::split(key, epoch)
            .map_err(|e| CliError::Failed(format!("cannot split the key: {e}")))
    };
    // Shares 3 and 1 are written before the key can act (a new key is added to
    // rotationKeys only once two shares of it are safe), Share 2 last: the relay takes
    // only shares of a key the DID lists.
    let (key, key_added, shares, share3, sheet, share1) = match &args.key {
        Some(path) => {
            let key = crate::keyfile::read(path)?;
            crate::plc::position(&a.did, &last, &key)?;
            let shares = split(&key)?;
            let (share3, sheet) = write_share3(&shares[2], &a.did, handle.as_deref(), &to)?;
            let share1 = write_share1(&keychain, &a.did, &shares[0], &to)?;
            (key, false, shares, share3, sheet, share1)
        }
        None if current.len() == 1 => {
            let key = Keypair::generate(match args.curve {
                CurveArg::Secp256k1 => Curve::Secp256k1,
                CurveArg::P256 => Curve::P256,
            });
            let shares = split(&key)?;
            let (share3, sheet) = write_share3(&shares[2], &a.did, handle.as_deref(), &to)?;
            let share1 = write_share1(&keychain, &a.did, &shares[0], &to)?;
            let v = a
                .relay
                .rotate_keys(&a.device, &[key.did_key(), relay_key.clone()])
                .await?;
            if v["status"] != "submitted" {
                return Err(CliError::Failed(format!(
                    "the relay did not put the new key in rotationKeys: {v}"
                )));
            }
            // Believe the PLC directory, not the relay.
            let now = crate::plc::last_op(&plc, &a.did).await?;
            if now.op.rotation_keys().first() != Some(&key.did_key()) {
                return Err(CliError::Failed(format!(
                    "the PLC directory does not list the new key first in rotationKeys of {}",
                    a.did
                )));
            }
            (key, true, shares, share3, sheet, share1)
        }
        None => {
            return Err(CliError::Usage(format!(
                "{} already has a rotation key of its own ({}); split that key with --key FILE",
                a.did,
                current.first().cloned().unwrap_or_default()
            )));
        }
    };
    let share2 = put_share2(&a.relay, &a.device, &shares[1]).await?;
    let placed = Placed {
        share1,
        share2,
        share3,
        sheet,
    };
    let created = Created {
        did: a.did.clone(),
        handle,
        rotation_key: key.did_key(),
        key_added,
        set_id: shares[0].set_id().to_string(),
        epoch,
        shares: placed,
    };
    drop(key);
    if args.key.is_some() && !ctx.json {
        eprintln!(
            "the key file you gave is now split; delete it (or keep it offline): any 2 of the 3 \
             shares rebuild the key"
        );
    }
    ctx.emit(&created, |c| {
        format!(
            "backed up the rotation key {} of {} (set {}, epoch {}{})\n  share 1: {}\n  share 2: {}\n  share 3: {}\nany 2 shares recover: pdsctl recover {}",
            c.rotation_key,
            c.did,
            c.set_id,
            c.epoch,
            if c.key_added {
                "; the key is new and now first in rotationKeys"
            } else {
                ""
            },
            c.shares.share1,
            c.shares.share2,
            c.shares.share3,
            c.handle.as_deref().unwrap_or(&c.did)
        )
    })
}
