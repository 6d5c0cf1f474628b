//! `pdsctl transfer initiate|accept|complete`: moving an account to a new device with a
//! short code (`/v1/transfer/*`). The old device starts and shows the code (and a QR code
//! in the terminal); the new device enters it with its own new P-256 key; the old device
//! confirms, and the repo-host lease moves over if it held it. One file per subcommand.

pub mod accept;
pub mod complete;
pub mod initiate;

use crate::ctx::Ctx;
use crate::error::CliError;
use clap::Subcommand;

/// `pdsctl transfer ...`
#[derive(Debug, Subcommand)]
pub enum TransferCommand {
    /// On the old device: start a transfer and show its code (and QR code).
    Initiate(initiate::InitiateArgs),
    /// On the new device: enter the code (or the QR payload).
    Accept(accept::AcceptArgs),
    /// On the old device: confirm, and hand the repo-host lease to the new device.
    Complete(complete::CompleteArgs),
}

pub async fn run(c: TransferCommand, ctx: &Ctx) -> Result<(), CliError> {
    match c {
        TransferCommand::Initiate(a) => initiate::run(a, ctx).await,
        TransferCommand::Accept(a) => accept::run(a, ctx).await,
        TransferCommand::Complete(a) => complete::run(a, ctx).await,
    }
}
