//! `pdsctl status`: what the daemon is doing: version, uptime, where it listens, accounts,
//! storage, PLC directory, relays and their requestCrawl answers, firehose position.

use super::{human_bytes, human_duration};
use crate::ctx::Ctx;
use crate::error::CliError;
use clap::Args;
use pds::admin::{Access, StatusResponse};
use std::fmt::Write;

/// `pdsctl status`
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  pdsctl status\n  pdsctl --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"firehose_seq\"])'"
)]
pub struct StatusArgs {}

pub async fn run(_args: StatusArgs, ctx: &Ctx) -> Result<(), CliError> {
    let s = ctx.client.status().await?;
    ctx.emit(&s, render)
}

fn render(s: &StatusResponse) -> String {
    let mut o = String::new();
    let dev = if s.dev { " (--dev)" } else { "" };
    let _ = writeln!(
        o,
        "pdsd {}{dev}, up {} (since {})",
        s.version,
        human_duration(s.uptime_secs),
        s.started_at
    );
    let _ = writeln!(o, "  HTTP:          {}", s.listen.http);
    let _ = writeln!(o, "  public URL:    {}", s.listen.public_url);
    let _ = writeln!(o, "  admin socket:  {}", s.listen.admin_socket);
    let builtin = if s.listen.builtin_plc.is_some() {
        " (built-in, dev)"
    } else {
        ""
    };
    let _ = writeln!(o, "  PLC directory: {}{builtin}", s.plc_directory);
    let _ = writeln!(
        o,
        "  accounts:      {} ({} active)",
        s.accounts, s.active_accounts
    );
    let _ = writeln!(
        o,
        "  storage:       {} database, {} in {} blob{}",
        human_bytes(s.storage.database_bytes),
        human_bytes(s.storage.blob_bytes),
        s.storage.blobs,
        if s.storage.blobs == 1 { "" } else { "s" }
    );
    let _ = writeln!(o, "  firehose seq:  {}", s.firehose_seq);
    if s.relays.is_empty() {
        let _ = writeln!(o, "  relays:        none configured (firehose.relays)");
    }
    for (i, r) in s.relays.iter().enumerate() {
        let label = if i == 0 { "relays:" } else { "" };
        let answer = match (&r.last_status, &r.last_try_at) {
            (Some(st), Some(at)) => format!("{st} (asked {at})"),
            (Some(st), None) => st.clone(),
            (None, _) => "not asked yet".into(),
        };
        let ok = r
            .last_ok_at
            .as_deref()
            .map(|t| format!(", last success {t}"))
            .unwrap_or_default();
        let _ = writeln!(o, "  {label:14} {}: requestCrawl {answer}{ok}", r.relay);
    }
    let access = match s.access {
        Access::ReadWrite => "read-write",
        Access::ReadOnly => "read-only (member of the socket's group)",
    };
    let _ = writeln!(o, "  your access:   {access}");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use pds::admin::{ListenInfo, RelayStatus, StorageInfo};

    #[test]
    fn human_status_names_every_part() {
        let s = StatusResponse {
            version: "0.1.0".into(),
            started_at: "2025-01-01T00:00:00Z".into(),
            uptime_secs: 61,
            dev: true,
            listen: ListenInfo {
                http: "http://127.0.0.1:2583".into(),
                public_url: "http://localhost:2583".into(),
                admin_socket: "/tmp/pdsd.sock".into(),
                builtin_plc: Some("http://localhost:2584".into()),
            },
            accounts: 2,
            active_accounts: 1,
            storage: StorageInfo {
                database_bytes: 2048,
                blob_bytes: 0,
                blobs: 0,
            },
            plc_directory: "http://localhost:2584".into(),
            relays: vec![RelayStatus {
                relay: "bsky.network".into(),
                last_try_at: Some("2025-01-01T00:00:01Z".into()),
                last_ok_at: None,
                last_status: Some("503 Service Unavailable".into()),
            }],
            firehose_seq: 7,
            access: Access::ReadOnly,
        };
        let text = render(&s);
        for part in [
            "pdsd 0.1.0 (--dev), up 1m 1s",
            "http://127.0.0.1:2583",
            "/tmp/pdsd.sock",
            "http://localhost:2584 (built-in, dev)",
            "2 (1 active)",
            "2.0 KiB database",
            "firehose seq:  7",
            "bsky.network: requestCrawl 503 Service Unavailable",
            "read-only",
        ] {
            assert!(text.contains(part), "missing {part:?} in\n{text}");
        }
    }
}
