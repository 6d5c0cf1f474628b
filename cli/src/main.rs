//! `pdsctl`: parse the command line, find pdsd's admin socket, run one command, and turn
//! the outcome into an exit status (0 success, 1 failure, 2 usage). With `--json`, a
//! failure is also one JSON document on stdout (`{"error", "message"}`).
//!
//! `anyhow` is not needed even here: every failure is a typed [`error::CliError`].

mod cli;
mod client;
mod cmd;
mod ctx;
mod desktop_repo;
mod device_file;
mod device_opts;
mod error;
mod export_dir;
#[path = "../../daemon/src/generate.rs"]
mod generate;
mod keychain;
mod keyfile;
mod plc;
mod plc_sign;
mod relay;
mod shares;
mod sheet;

use clap::Parser;
use cli::{Cli, Command};
use error::CliError;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    // clap exits by itself: 0 for --help/--version, 2 for usage errors.
    let cli = Cli::parse();
    let json = cli.global.json;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                let doc = serde_json::json!({ "error": e.name(), "message": e.to_string() });
                println!("{doc}");
            }
            eprintln!("pdsctl: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    if let Command::Generate(g) = &cli.command {
        return cmd::generate::run(g);
    }
    let socket = cli.global.socket.clone().unwrap_or_else(default_socket);
    let ctx = ctx::Ctx {
        client: client::Client::new(socket),
        json: cli.global.json,
        yes: cli.global.yes,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::io("cannot start the async runtime"))?;
    rt.block_on(cmd::run(cli.command, &ctx))
}

/// The socket pdsd uses by default: `<data dir>/pdsd.sock` when it exists (`pdsd --dev`
/// with `$PDSD_DATA_DIR` or the per-user data folder), else the system service's socket.
fn default_socket() -> PathBuf {
    let data_dir = std::env::var_os("PDSD_DATA_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("", "", "pdsd").map(|p| p.data_dir().to_path_buf())
        });
    if let Some(dev) = data_dir.map(|d| d.join(pds::admin::DEV_SOCKET_NAME))
        && dev.exists()
    {
        return dev;
    }
    PathBuf::from(pds::admin::SYSTEM_SOCKET)
}
