//! pdsctl's command line (clap): the global options and the command tree. Kept apart
//! from `main` so the hidden `generate` subcommand renders man pages and completions from
//! this same definition. Each subcommand's own options live in its file under `cmd/`.

use crate::cmd;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// pdsctl: accounts, keys, backups and recovery for pdsd.
///
/// Talks to the local pdsd through its admin socket (HTTP over a Unix socket); it never
/// opens pdsd's database. root and pdsd's own user may change things; members of the
/// socket's group may run read-only commands (status, list, show, export). The `device`
/// and `desktop` commands instead talk to a relay (this pdsd or any other) over HTTPS, as
/// a device of an account, with a key kept in pdsctl's data folder.
///
/// Exit status: 0 on success, 1 on failure, 2 on a usage error.
#[derive(Debug, Parser)]
#[command(
    name = "pdsctl",
    version,
    about,
    long_about,
    propagate_version = true,
    after_help = "Examples:\n  pdsctl status\n  pdsctl account create --handle alice.pds.example.com --email alice@example.com \\\n      --generate-recovery-key ~/alice-recovery.json\n  pdsctl --json account list\n  PDSCTL_SOCKET=/tmp/dev/pdsd.sock pdsctl invite create --uses 5"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// pdsd's admin socket (also $PDSCTL_SOCKET).
    ///
    /// Default: `<data dir>/pdsd.sock` when that socket exists (the data dir is
    /// $PDSD_DATA_DIR, else the per-user data folder that `pdsd --dev` uses, e.g.
    /// ~/.local/share/pdsd), otherwise /run/pdsd/admin.sock (the system service).
    #[arg(
        long,
        env = "PDSCTL_SOCKET",
        hide_env_values = true,
        global = true,
        value_name = "PATH"
    )]
    pub socket: Option<PathBuf>,
    /// Print one stable JSON document on stdout (for scripts); messages go to stderr.
    #[arg(long, global = true)]
    pub json: bool,
    /// Never prompt: fail instead of asking (for scripts).
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the daemon's version, uptime, addresses, accounts, storage, PLC directory,
    /// relays and firehose position.
    Status(cmd::status::StatusArgs),
    /// Create, list, inspect and manage hosted accounts.
    #[command(subcommand)]
    Account(cmd::account::AccountCommand),
    /// Make invite codes.
    #[command(subcommand)]
    Invite(cmd::invite::InviteCommand),
    /// Inspect an account's did:plc identity, or rotate its signing key.
    #[command(subcommand)]
    Did(cmd::did::DidCommand),
    /// Show and revoke the third-party apps an account has authorized with OAuth.
    #[command(subcommand)]
    Oauth(cmd::oauth::OAuthCommand),
    /// This machine as a device of an account on a relay (over HTTPS, like the phone
    /// and desktop apps): enrol, list, promote to repo host, remove.
    #[command(subcommand)]
    Device(cmd::device::DeviceCommand),
    /// This machine as the repo-host desktop: keep the repo here, build commits, have
    /// the relay sign them.
    #[command(subcommand)]
    Desktop(cmd::desktop::DesktopCommand),
    /// Export an account (repository CAR and every blob) into a folder.
    Export(cmd::export::ExportArgs),
    /// Import an exported folder into this pdsd, creating or migrating the account.
    Import(cmd::import::ImportArgs),
    /// Shamir backup of the account's rotation key: 2 of 3 shares (this machine's
    /// keychain, the relay's escrow, a printed recovery sheet).
    #[command(subcommand)]
    Backup(cmd::backup::BackupCommand),
    /// Take back an account with two of its three shares: prove the rotation key to the
    /// relay and enrol this machine, or move the DID to a new pdsd when the relay is gone.
    Recover(cmd::recover::RecoverArgs),
    /// Move to a new device with a short code (and hand the repo-host lease over).
    #[command(subcommand)]
    Transfer(cmd::transfer::TransferCommand),
    /// Write man pages or shell completions (keeps man/ and completions/ current).
    #[command(hide = true)]
    Generate(cmd::generate::GenerateArgs),
}
