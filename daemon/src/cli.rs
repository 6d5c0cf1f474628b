//! pdsd's command line (clap). Kept apart from `main` so the hidden `generate`
//! subcommand can render man pages and completions from the same definition.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// pdsd: a Personal Data Server for the AT Protocol.
///
/// Hosts repositories, signs commits, stores blobs and serves the com.atproto XRPC API,
/// the firehose and the /v1 device API. pdsctl manages it over a Unix socket.
#[derive(Debug, Parser)]
#[command(
    name = "pdsd",
    version,
    about,
    after_help = "Examples:\n  pdsd --dev                          # a local PDS on http://127.0.0.1:2583, nothing to configure\n  pdsd --config /etc/pdsd/pdsd.toml   # production\n  pdsd config show --config /etc/pdsd/pdsd.toml"
)]
pub struct Cli {
    #[command(flatten)]
    pub run: RunArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options for running the server (also accepted by `config show`).
#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    /// Development mode: loopback, handles under .test, no invites, a built-in PLC directory.
    #[arg(long, global = true)]
    pub dev: bool,
    /// Configuration file (TOML); see examples/pdsd.toml for every option.
    #[arg(
        long,
        short = 'c',
        env = "PDSD_CONFIG",
        global = true,
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,
    /// Where data lives (database, blobs, secrets).
    #[arg(long, env = "PDSD_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address for the HTTP/XRPC server.
    #[arg(long, env = "PDSD_LISTEN", global = true, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// External PLC directory URL (instead of the public one, or the built-in one in --dev).
    #[arg(long, env = "PDSD_PLC_URL", global = true, value_name = "URL")]
    pub plc_url: Option<String>,
    /// Admin socket path (default: <data-dir>/pdsd.sock in --dev, /run/pdsd/admin.sock otherwise).
    #[arg(long, env = "PDSD_SOCKET", global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Where the built-in PLC directory of --dev listens (default 127.0.0.1:2584).
    #[arg(
        long,
        env = "PDSD_PLC_LISTEN",
        global = true,
        value_name = "ADDR",
        hide = true
    )]
    pub plc_listen: Option<SocketAddr>,
    /// Public hostname (e.g. pds.example.com).
    #[arg(long, env = "PDSD_HOSTNAME_FLAG", global = true, value_name = "HOST")]
    pub hostname: Option<String>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Write man pages or shell completions (used to keep man/ and completions/ current).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// `pdsd config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the resolved configuration (flags > PDSD_* environment > file > defaults), secrets redacted.
    Show,
}

/// `pdsd generate ...`
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What to write.
    #[arg(value_enum)]
    pub what: GenerateWhat,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Generated artifacts.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum GenerateWhat {
    Man,
    Completions,
    /// The device API reference: api.md and openapi.json (docs/).
    ApiDocs,
}
