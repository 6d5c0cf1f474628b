//! `pdsctl`: the command line's entry point.

use clap::Parser;

/// pdsctl: accounts, keys, backups and recovery for pdsd.
#[derive(Debug, Parser)]
#[command(name = "pdsctl", version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
