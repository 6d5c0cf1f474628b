//! `pdsctl backup rotate H|DID`: split the rotation key again. Two current shares are
//! gathered (by default this machine's keychain and the relay's escrow, which needs the
//! account password), the key is put together in memory and checked against the DID's
//! rotationKeys at the PLC directory, then split with a new set id and the next epoch;
//! the relay's share is replaced (logged as `resplit`), Share 1 and Share 3 are written
//! anew. Old shares stop combining with new ones.

use super::{
    Destinations, Placed, Share3, default_sheet, handle_of, put_share2, write_share1, write_share3,
};
use crate::ctx::Ctx;
use crate::device_opts::{DeviceOpts, account_device};
use crate::error::CliError;
use crate::shares::{self, Request, Source, Words};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;

/// `pdsctl backup rotate`
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  pdsctl backup rotate alice.test\n  pdsctl backup rotate alice.test --share keychain --words-file ./sheet-words.txt\n  pdsctl --json --yes backup rotate did:plc:abc --password-file ./pw --sheet-out ./new-sheet"
)]
pub struct RotateArgs {
    /// The account (handle or DID).
    #[arg(value_name = "HANDLE|DID")]
    pub account: String,
    /// Where the current shares come from: keychain, relay or a share FILE (repeat;
    /// default: keychain and relay).
    #[arg(long = "share", value_name = "keychain|relay|FILE")]
    pub shares: Vec<Source>,
    /// Type the current sheet's 24 words.
    #[arg(long, conflicts_with = "words_file")]
    pub words: bool,
    /// Read the current sheet's 24 words from a file.
    #[arg(long, value_name = "FILE")]
    pub words_file: Option<PathBuf>,
    /// What the new Share 3 becomes.
    #[arg(long, value_enum, default_value = "sheet")]
    pub share3: Share3,
    /// Where the new Share 3 goes (default: ./recovery-sheet-<handle>-<epoch>).
    #[arg(long, value_name = "FILE")]
    pub sheet_out: Option<PathBuf>,
    /// Write the new Share 1 to this file instead of this machine's keychain.
    #[arg(long, value_name = "FILE")]
    pub share1_out: Option<PathBuf>,
    /// The account password (first line): for the relay's share, and to enrol.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    #[command(flatten)]
    pub opts: DeviceOpts,
}

/// What `backup rotate` prints.
#[derive(Debug, Serialize)]
pub struct Rotated {
    pub did: String,
    pub rotation_key: String,
    pub old_set_id: String,
    pub set_id: String,
    pub epoch: u32,
    pub shares: Placed,
}

pub async fn run(args: RotateArgs, ctx: &Ctx) -> Result<(), CliError> {
    let account = crate::cmd::account_id(&args.account)?;
    let a = account_device(ctx, &args.opts, &account, args.password_file.as_deref()).await?;
    super::check_share1_place(ctx, &a.relay, args.share1_out.as_deref()).await?;
    let keychain = args.opts.keychain()?;
    let mut sources = args.shares.clone();
    let words = match (&args.words_file, args.words) {
        (Some(f), _) => Words::File(f.clone()),
        (None, true) => Words::Prompt,
        (None, false) => Words::None,
    };
    if sources.is_empty() {
        sources = vec![Source::Keychain];
        if words == Words::None {
            sources.push(Source::Relay);
        }
    }
    let gathered = shares::gather(
        ctx,
        &keychain,
        Some(&a.relay),
        &Request {
            did: a.did.clone(),
            sources,
            words,
            words_share: 3,
            password_file: args.password_file.clone(),
        },
    )
    .await?;
    let key = shares::combine(&gathered)?;
    let old_set = gathered
        .first()
        .map(|g| g.share.set_id().to_string())
        .unwrap_or_default();
    let plc = args.opts.plc_url(ctx).await;
    let last = crate::plc::last_op(&plc, &a.did).await?;
    crate::plc::position(&a.did, &last, &key)?;
    let log = a.relay.rotation_log(&a.device).await?;
    let epoch = log["lastEpoch"].as_u64().unwrap_or(0) as u32 + 1;
    let new = pds::secret::split(&key, epoch)
        .map_err(|e| CliError::Failed(format!("cannot split the key: {e}")))?;
    let handle = handle_of(&last);
    let out = args
        .sheet_out
        .clone()
        .unwrap_or_else(|| default_sheet(handle.as_deref(), &a.did, epoch));
    let to = Destinations {
        share3: args.share3,
        share3_out: &out,
        share1_out: args.share1_out.as_deref(),
    };
    // The new Share 3 first (it replaces nothing), then the relay's share (the old set
    // stops combining from here), then this machine's Share 1.
    let (share3, sheet) = write_share3(&new[2], &a.did, handle.as_deref(), &to)?;
    let share2 = put_share2(&a.relay, &a.device, &new[1]).await?;
    let share1 = write_share1(&keychain, &a.did, &new[0], &to)?;
    let placed = Placed {
        share1,
        share2,
        share3,
        sheet,
    };
    let rotated = Rotated {
        did: a.did.clone(),
        rotation_key: key.did_key(),
        old_set_id: old_set,
        set_id: new[0].set_id().to_string(),
        epoch,
        shares: placed,
    };
    drop(key);
    ctx.emit(&rotated, |r| {
        format!(
            "split {} again: set {} (epoch {}) replaces set {}; the old shares no longer combine\n  share 1: {}\n  share 2: {}\n  share 3: {}",
            r.rotation_key, r.set_id, r.epoch, r.old_set_id, r.shares.share1, r.shares.share2, r.shares.share3
        )
    })
}
