//! `pdsctl backup log H|DID`: the account's rotation log as the relay keeps it
//! (`GET /v1/keys/rotation-log`): every split, re-split, release of the escrowed share
//! (and refused release), recovery and transfer, oldest first.

use crate::ctx::Ctx;
use crate::device_opts::{DeviceOpts, account_device};
use crate::error::CliError;
use clap::Args;
use std::path::PathBuf;

/// `pdsctl backup log`
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  pdsctl backup log alice.test\n  pdsctl --json backup log did:plc:abc"
)]
pub struct LogArgs {
    /// The account (handle or DID).
    #[arg(value_name = "HANDLE|DID")]
    pub account: String,
    /// The account password (first line), if this machine must enrol first.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    #[command(flatten)]
    pub opts: DeviceOpts,
}

pub async fn run(args: LogArgs, ctx: &Ctx) -> Result<(), CliError> {
    let account = crate::cmd::account_id(&args.account)?;
    let a = account_device(ctx, &args.opts, &account, args.password_file.as_deref()).await?;
    let log = a.relay.rotation_log(&a.device).await?;
    ctx.emit(&log, |l| {
        let mut out = format!("rotation log of {}\n", l["did"].as_str().unwrap_or("?"));
        for e in l["entries"].as_array().into_iter().flatten() {
            let by = format!(
                "by {}{}",
                e["actor"].as_str().unwrap_or("?"),
                e["detail"]
                    .as_str()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            );
            out.push_str(&format!(
                "{:>4}  {}  {:<22} {}{}{by}\n",
                e["seq"],
                e["at"].as_str().unwrap_or(""),
                e["event"].as_str().unwrap_or(""),
                e["setId"]
                    .as_str()
                    .map(|s| format!("set {s} "))
                    .unwrap_or_default(),
                e["epoch"]
                    .as_u64()
                    .map(|n| format!("epoch {n} "))
                    .unwrap_or_default(),
            ));
        }
        out
    })
}
