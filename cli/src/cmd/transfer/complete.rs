//! `pdsctl transfer complete H|DID TRANSFER_ID`: on the old device, confirm a transfer the
//! new device accepted. The new device becomes active and takes the repo-host lease if
//! this device held it; `--remove-old` de-enrols this device (and forgets its key here).

use crate::ctx::Ctx;
use crate::device_file::DeviceIdentity;
use crate::device_opts::{DeviceOpts, account_device};
use crate::error::CliError;
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;

/// `pdsctl transfer complete`
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  pdsctl transfer complete alice.test xfer-0123456789abcdef0123\n  pdsctl --json --yes transfer complete did:plc:abc xfer-0123456789abcdef0123 --remove-old"
)]
pub struct CompleteArgs {
    /// The account (handle or DID).
    #[arg(value_name = "HANDLE|DID")]
    pub account: String,
    /// The transfer's id (printed by `transfer initiate`).
    #[arg(value_name = "TRANSFER_ID")]
    pub transfer_id: String,
    /// De-enrol this device once the new one is in.
    #[arg(long)]
    pub remove_old: bool,
    /// The account password (first line), if this machine must enrol first.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    #[command(flatten)]
    pub opts: DeviceOpts,
}

/// What `transfer complete` prints.
#[derive(Debug, Serialize)]
pub struct Completed {
    pub did: String,
    pub transfer_id: String,
    pub new_device: String,
    pub lease_moved: bool,
    pub old_removed: bool,
}

pub async fn run(args: CompleteArgs, ctx: &Ctx) -> Result<(), CliError> {
    let account = crate::cmd::account_id(&args.account)?;
    let a = account_device(ctx, &args.opts, &account, args.password_file.as_deref()).await?;
    if args.remove_old && !ctx.confirm("De-enrol this device once the new one is in?")? {
        return Err(CliError::Failed("nothing was done".into()));
    }
    let v = a
        .relay
        .transfer_complete(&a.device, &args.transfer_id, args.remove_old)
        .await?;
    let out = Completed {
        did: a.did.clone(),
        transfer_id: args.transfer_id.clone(),
        new_device: v["device"]["id"].as_str().unwrap_or_default().to_string(),
        lease_moved: v["leaseMoved"].as_bool().unwrap_or(false),
        old_removed: v["oldRemoved"].as_bool().unwrap_or(false),
    };
    if out.old_removed {
        DeviceIdentity::forget(&args.opts.dir()?)?;
    }
    ctx.emit(&out, |c| {
        format!(
            "device {} of {} is enrolled{}{}",
            c.new_device,
            c.did,
            if c.lease_moved {
                "; it is the repo host now"
            } else {
                ""
            },
            if c.old_removed {
                "; this device was de-enrolled"
            } else {
                ""
            }
        )
    })
}
