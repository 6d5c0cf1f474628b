//! `pdsctl generate man|completions --out DIR` (hidden): render man pages and bash, zsh
//! and fish completions from pdsctl's own clap definition, with the same renderer as
//! pdsd (`daemon/src/generate.rs`, included by path). The results are committed under
//! man/ and completions/, and a test fails when they go stale.

use crate::cli::Cli;
use crate::error::CliError;
use crate::generate;
use clap::{Args, CommandFactory};
use std::path::PathBuf;

/// `pdsctl generate`
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  pdsctl generate man --out man\n  pdsctl generate completions --out completions"
)]
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
}

pub fn run(args: &GenerateArgs) -> Result<(), CliError> {
    let what = format!("cannot write into {}", args.out.display());
    match args.what {
        GenerateWhat::Man => generate::man_pages(Cli::command(), &args.out),
        GenerateWhat::Completions => generate::completions(Cli::command(), &args.out),
    }
    .map_err(CliError::io(what))
}
