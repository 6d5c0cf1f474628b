//! `pdsctl backup create|status|log|rotate`: the Shamir backup of an account's rotation
//! key, with pdsctl as a device of the relay (`/v1/keys/*`). One file per subcommand.
//!
//! Where the three shares go, shared by `create` and `rotate`:
//! - Share 1: this machine's keychain (or its 0600 file); but never on the relay's own
//!   host, beside the relay's escrow: there it must be written for another device
//!   (`--share1-out FILE`, e.g. a USB stick);
//! - Share 2: the relay's escrow (`PUT /v1/keys/shares/{set}`);
//! - Share 3: a recovery sheet (`.txt` and printable `.html`), or a share file.
//!
//! The whole key never touches the disk and is never printed.

pub mod create;
pub mod log;
pub mod rotate;
pub mod status;

use crate::ctx::Ctx;
use crate::device_file::DeviceIdentity;
use crate::error::CliError;
use crate::keychain::{Keychain, Place};
use crate::relay::RelayClient;
use clap::{Subcommand, ValueEnum};
use pds::secret::Share;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// `pdsctl backup ...`
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Split the account's rotation key into 3 shares (any 2 recover): this machine's
    /// keychain, the relay's escrow, and a recovery sheet. Makes the rotation key first
    /// when the account has none.
    Create(create::CreateArgs),
    /// Which shares exist and belong to the current backup (without putting the key
    /// together).
    Status(status::StatusArgs),
    /// Every split, re-split, release of the relay's share, recovery and transfer.
    Log(log::LogArgs),
    /// Split again: new set, new shares everywhere; the old shares stop combining.
    Rotate(rotate::RotateArgs),
}

pub async fn run(c: BackupCommand, ctx: &Ctx) -> Result<(), CliError> {
    match c {
        BackupCommand::Create(a) => create::run(a, ctx).await,
        BackupCommand::Status(a) => status::run(a, ctx).await,
        BackupCommand::Log(a) => log::run(a, ctx).await,
        BackupCommand::Rotate(a) => rotate::run(a, ctx).await,
    }
}

/// What Share 3 becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Share3 {
    /// A recovery sheet to print (`.txt` and `.html`).
    Sheet,
    /// A share file for another device (a USB stick, say).
    #[value(alias = "device")]
    File,
}

/// Where the shares of a split went.
#[derive(Debug, Serialize)]
pub struct Placed {
    pub share1: String,
    pub share2: String,
    pub share3: String,
    /// The sheet's files, when Share 3 is a sheet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<crate::sheet::Written>,
}

/// Options that say where shares go.
#[derive(Debug, Clone)]
pub struct Destinations<'a> {
    pub share3: Share3,
    /// Share 3's file or sheet base name.
    pub share3_out: &'a Path,
    /// Share 1 for another device instead of this keychain.
    pub share1_out: Option<&'a Path>,
}

/// The default base name of a sheet: `./recovery-sheet-<handle or DID>-<epoch>` (a new
/// backup never writes over the sheet of an earlier one).
pub fn default_sheet(handle: Option<&str>, did: &str, epoch: u32) -> PathBuf {
    let who: String = handle
        .unwrap_or(did)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    PathBuf::from(format!("recovery-sheet-{who}-{epoch}"))
}

/// Refuse, before anything changes, to keep Share 1 on the relay's own host.
pub async fn check_share1_place(
    ctx: &Ctx,
    relay: &RelayClient,
    share1_out: Option<&Path>,
) -> Result<(), CliError> {
    if share1_out.is_none() && crate::device_opts::on_relay_host(ctx, relay).await {
        return Err(CliError::Failed(format!(
            "pdsctl runs on the relay's own host ({}): Share 1 cannot stay in this host's \
             keychain beside the relay's share, or one machine would hold two shares. Write it \
             for another device with --share1-out FILE (a USB stick, say) and keep it off this \
             host; nothing was changed",
            relay.url()
        )));
    }
    Ok(())
}

/// Write Share 3 (a sheet or a share file).
pub fn write_share3(
    s3: &Share,
    did: &str,
    handle: Option<&str>,
    to: &Destinations<'_>,
) -> Result<(String, Option<crate::sheet::Written>), CliError> {
    match to.share3 {
        Share3::Sheet => {
            let w = crate::sheet::write(s3, did, handle.unwrap_or(did), to.share3_out)?;
            Ok((
                format!(
                    "recovery sheet {} and {}",
                    w.text.display(),
                    w.html.display()
                ),
                Some(w),
            ))
        }
        Share3::File => {
            crate::device_opts::write_private(to.share3_out, s3.reveal_text().as_bytes())?;
            Ok((format!("share file {}", to.share3_out.display()), None))
        }
    }
}

/// Write Share 1 (this machine's keychain, or a file for another device).
pub fn write_share1(
    keychain: &Keychain,
    did: &str,
    s1: &Share,
    to: &Destinations<'_>,
) -> Result<String, CliError> {
    match to.share1_out {
        Some(p) => {
            crate::device_opts::write_private(p, s1.reveal_text().as_bytes())?;
            Ok(format!("share file {} (for another device)", p.display()))
        }
        None => Ok(match keychain.store(did, s1)? {
            Place::Os => "this machine's OS keychain".to_string(),
            Place::File(p) => format!("this machine's keychain file {}", p.display()),
        }),
    }
}

/// Hand Share 2 to the relay's escrow.
pub async fn put_share2(
    relay: &RelayClient,
    device: &DeviceIdentity,
    s2: &Share,
) -> Result<String, CliError> {
    relay.put_share(device, s2).await?;
    Ok(format!("relay escrow at {}", relay.url()))
}

/// The handle a DID's latest operation names.
pub fn handle_of(op: &pds::identity::SignedOp) -> Option<String> {
    op.op.normalized().and_then(|d| {
        d.also_known_as
            .iter()
            .find_map(|u| u.strip_prefix("at://").map(str::to_string))
    })
}
