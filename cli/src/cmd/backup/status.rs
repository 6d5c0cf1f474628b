//! `pdsctl backup status H|DID`: which shares of the account's backup exist and belong to
//! the current split, from what each holder says (the relay's escrow metadata, this
//! machine's keychain, the rotation log for the sheet) and the PLC directory (is the
//! backed-up key still first in rotationKeys?). The key is not put together, and no share
//! value is shown.

use crate::ctx::Ctx;
use crate::device_opts::{DeviceOpts, account_device};
use crate::error::CliError;
use clap::Args;
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;

/// `pdsctl backup status`
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  pdsctl backup status alice.test\n  pdsctl --json backup status did:plc:abc"
)]
pub struct StatusArgs {
    /// The account (handle or DID).
    #[arg(value_name = "HANDLE|DID")]
    pub account: String,
    /// The account password (first line), if this machine must enrol first.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    #[command(flatten)]
    pub opts: DeviceOpts,
}

/// One share as far as can be told from here.
#[derive(Debug, Serialize)]
pub struct ShareState {
    pub number: u8,
    pub holder: String,
    /// Whether it is known to exist.
    pub present: Option<bool>,
    /// Whether it belongs to the current split.
    pub current: Option<bool>,
    pub set_id: Option<String>,
    pub epoch: Option<u32>,
}

/// What `backup status` prints.
#[derive(Debug, Serialize)]
pub struct Status {
    pub did: String,
    pub set_id: Option<String>,
    pub epoch: Option<u32>,
    pub rotation_key: Option<String>,
    /// Whether that key is one of the DID's rotation keys, and the first.
    pub in_rotation_keys: bool,
    pub first_rotation_key: bool,
    pub shares: Vec<ShareState>,
    /// Whether two current shares are known to exist (the sheet is counted when the log
    /// says it was made with the current split).
    pub recoverable: bool,
    pub warnings: Vec<String>,
}

pub async fn run(args: StatusArgs, ctx: &Ctx) -> Result<(), CliError> {
    let account = crate::cmd::account_id(&args.account)?;
    let a = account_device(ctx, &args.opts, &account, args.password_file.as_deref()).await?;
    let log = a.relay.rotation_log(&a.device).await?;
    let held = &log["held"];
    let set_id = held["setId"].as_str().map(str::to_string);
    let epoch = held["epoch"].as_u64().map(|e| e as u32);
    let rotation_key = held["rotationKey"].as_str().map(str::to_string);
    let mut warnings = Vec::new();
    let plc = args.opts.plc_url(ctx).await;
    let last = crate::plc::last_op(&plc, &a.did).await?;
    let keys = last.op.rotation_keys();
    let in_keys = rotation_key.as_ref().is_some_and(|k| keys.contains(k));
    let first = rotation_key.is_some() && keys.first() == rotation_key.as_ref();
    if rotation_key.is_some() && !in_keys {
        warnings.push(
            "the backed-up key is no longer a rotation key of the DID: this backup cannot act"
                .to_string(),
        );
    } else if rotation_key.is_some() && !first {
        warnings.push("the backed-up key is not the first rotation key".to_string());
    }
    let relay_share = ShareState {
        number: held["shareIndex"].as_u64().map(|n| n as u8).unwrap_or(2),
        holder: format!("relay escrow at {}", a.relay.url()),
        present: Some(!held.is_null()),
        current: Some(!held.is_null()),
        set_id: set_id.clone(),
        epoch,
    };
    let local = args.opts.keychain()?.load(&a.did)?;
    let keychain_share = match &local {
        Some((s, place)) => {
            let current = Some(s.set_id().to_string()) == set_id && Some(s.epoch()) == epoch;
            if !current {
                warnings.push(format!(
                    "this machine's share is of set {} (epoch {}), not of the current backup",
                    s.set_id(),
                    s.epoch()
                ));
            }
            ShareState {
                number: s.index(),
                holder: format!("this machine's keychain ({place})"),
                present: Some(true),
                current: Some(current),
                set_id: Some(s.set_id().to_string()),
                epoch: Some(s.epoch()),
            }
        }
        None => ShareState {
            number: 1,
            holder: "this machine's keychain".into(),
            present: Some(false),
            current: None,
            set_id: None,
            epoch: None,
        },
    };
    // The sheet cannot be checked from here; the log says whether one was made with
    // this split (a split or re-split logs every share together).
    let split_logged = log["entries"].as_array().is_some_and(|e| {
        e.iter().any(|l: &Value| {
            matches!(l["event"].as_str(), Some("split" | "resplit"))
                && l["setId"].as_str() == set_id.as_deref()
        })
    });
    let sheet = ShareState {
        number: 3,
        holder: "recovery sheet or share file (kept by you)".into(),
        present: None,
        current: if split_logged { Some(true) } else { None },
        set_id: if split_logged { set_id.clone() } else { None },
        epoch: if split_logged { epoch } else { None },
    };
    let known = [&relay_share, &keychain_share]
        .iter()
        .filter(|s| s.present == Some(true) && s.current == Some(true))
        .count()
        + usize::from(split_logged);
    if held.is_null() {
        warnings.push("no backup: run `pdsctl backup create`".into());
    }
    let status = Status {
        did: a.did.clone(),
        set_id,
        epoch,
        rotation_key,
        in_rotation_keys: in_keys,
        first_rotation_key: first,
        shares: vec![keychain_share, relay_share, sheet],
        recoverable: known >= 2 && in_keys,
        warnings,
    };
    ctx.emit(&status, |s| {
        let mut out = format!(
            "{}: backup set {} (epoch {}) of rotation key {}{}\n",
            s.did,
            s.set_id.as_deref().unwrap_or("none"),
            s.epoch.map(|e| e.to_string()).unwrap_or_else(|| "-".into()),
            s.rotation_key.as_deref().unwrap_or("-"),
            if s.first_rotation_key {
                " (first in rotationKeys)"
            } else {
                ""
            }
        );
        for sh in &s.shares {
            let state = match (sh.present, sh.current) {
                (Some(true), Some(true)) => "present, current",
                (Some(true), _) => "present, NOT current",
                (Some(false), _) => "missing",
                (None, Some(true)) => "made with this backup (cannot be checked from here)",
                (None, _) => "unknown",
            };
            out.push_str(&format!("  share {}: {} - {state}\n", sh.number, sh.holder));
        }
        out.push_str(if s.recoverable {
            "recoverable: two current shares exist\n"
        } else {
            "NOT recoverable from what is known here\n"
        });
        for w in &s.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        out
    })
}
