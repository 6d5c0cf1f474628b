//! `pdsd`: parse the command line, set up logging, and run the server (or a subcommand).
//! `anyhow` is used only here, at the edge.

mod admin;
mod auth;
mod blobs;
mod cli;
mod config;
mod context;
mod firehose;
mod generate;
mod keys;
mod oauth;
mod plc;
mod server;
mod services;
mod store;
mod tls;
mod v1;
mod xrpc;

use clap::{CommandFactory, Parser};
use cli::{Cli, Command, ConfigCommand, GenerateWhat};

fn overrides(run: &cli::RunArgs) -> config::Overrides {
    config::Overrides {
        dev: run.dev,
        config_file: run.config.clone(),
        data_dir: run.data_dir.clone(),
        listen: run.listen,
        plc_url: run.plc_url.clone(),
        socket: run.socket.clone(),
        hostname: run.hostname.clone(),
        plc_listen: run.plc_listen,
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pdsd: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Generate(g)) => {
            match g.what {
                GenerateWhat::Man => generate::man_pages(Cli::command(), &g.out)?,
                GenerateWhat::Completions => generate::completions(Cli::command(), &g.out)?,
                GenerateWhat::ApiDocs => v1::openapi::write_docs(&g.out)?,
            }
            Ok(())
        }
        Some(Command::Config(ConfigCommand::Show)) => {
            let cfg = config::Config::load(&overrides(&cli.run))?;
            print!("{}", cfg.to_redacted_toml());
            Ok(())
        }
        None => {
            let cfg = config::Config::load(&overrides(&cli.run))?;
            init_tracing();
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("pdsd")
                .build()?;
            rt.block_on(server::run(cfg))
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("PDSD_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
