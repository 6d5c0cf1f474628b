//! `pdsd`: the daemon's entry point. Parses the command line and hands over to the server.

use clap::Parser;

/// pdsd: a Personal Data Server for the AT Protocol.
#[derive(Debug, Parser)]
#[command(name = "pdsd", version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
