//! `pdsctl invite create`: make invite codes (for servers that require them).

use crate::ctx::Ctx;
use crate::error::CliError;
use clap::{Args, Subcommand};
use pds::admin::InviteCreateRequest;

/// `pdsctl invite ...`
#[derive(Debug, Subcommand)]
pub enum InviteCommand {
    /// Make invite codes and print them, one per line.
    #[command(
        after_help = "Examples:\n  pdsctl invite create                # one code, good for one account\n  pdsctl invite create --uses 5 --count 3\n  pdsctl --json invite create --uses 10"
    )]
    Create(CreateArgs),
}

/// `pdsctl invite create`
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// How many accounts each code may create.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub uses: u32,
    /// How many codes to make.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub count: u32,
    /// Attribute the codes to this account (a DID) instead of the server.
    #[arg(long, value_name = "DID")]
    pub for_account: Option<String>,
}

pub async fn run(cmd: InviteCommand, ctx: &Ctx) -> Result<(), CliError> {
    match cmd {
        InviteCommand::Create(a) => {
            if let Some(did) = &a.for_account {
                pds::syntax::Did::new(did)
                    .map_err(|e| CliError::Usage(format!("--for-account: {e}")))?;
            }
            let res = ctx
                .client
                .invite_create(&InviteCreateRequest {
                    uses: a.uses,
                    count: a.count,
                    for_account: a.for_account,
                })
                .await?;
            ctx.emit(&res, |r| r.codes.join("\n"))
        }
    }
}
