//! One file per pdsctl subcommand, each a thin adapter: parse its options, call the typed
//! client, print through [`crate::ctx::Ctx`]. Names match the admin paths and the daemon's
//! handler files (`pdsctl invite create` -> `/admin/v1/invite/create` ->
//! `daemon/src/admin/invite.rs`).

pub mod account;
pub mod backup;
pub mod desktop;
pub mod device;
pub mod did;
pub mod export;
pub mod generate;
pub mod import;
pub mod invite;
pub mod oauth;
pub mod recover;
pub mod status;
pub mod transfer;

use crate::cli::Command;
use crate::ctx::Ctx;
use crate::error::CliError;

/// Run one command.
pub async fn run(command: Command, ctx: &Ctx) -> Result<(), CliError> {
    match command {
        Command::Status(a) => status::run(a, ctx).await,
        Command::Account(c) => account::run(c, ctx).await,
        Command::Invite(c) => invite::run(c, ctx).await,
        Command::Did(c) => did::run(c, ctx).await,
        Command::Oauth(c) => oauth::run(c, ctx).await,
        Command::Device(c) => device::run(c, ctx).await,
        Command::Desktop(c) => desktop::run(c, ctx).await,
        Command::Export(a) => export::run(a, ctx).await,
        Command::Import(a) => import::run(a, ctx).await,
        Command::Backup(c) => backup::run(c, ctx).await,
        Command::Recover(a) => recover::run(a, ctx).await,
        Command::Transfer(c) => transfer::run(c, ctx).await,
        // Rendered before a client exists (it needs no daemon); see main.
        Command::Generate(_) => Err(CliError::Usage("generate runs without a daemon".into())),
    }
}

/// Check an account argument (handle or DID) before it is sent.
pub fn account_id(s: &str) -> Result<String, CliError> {
    pds::syntax::AtIdentifier::new(s)
        .map(|id| id.as_str().to_string())
        .map_err(|e| CliError::Usage(format!("{s:?} is neither a handle nor a DID: {e}")))
}

/// `1536` -> `1.5 KiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// `3725` -> `1h 2m 5s`.
pub fn human_duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m {s}s"),
        _ => format!("{d}d {h}h {m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_well() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(3725), "1h 2m 5s");
        assert_eq!(human_duration(90061), "1d 1h 1m");
    }

    #[test]
    fn account_ids_are_checked() {
        assert_eq!(account_id("Alice.Test").expect("handle"), "alice.test");
        assert_eq!(account_id("did:plc:abc").expect("did"), "did:plc:abc");
        assert!(matches!(
            account_id("not a handle"),
            Err(CliError::Usage(_))
        ));
    }
}
