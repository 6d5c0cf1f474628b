//! `GET /admin/v1/status` (`pdsctl status`): version, uptime, addresses, account count,
//! storage used, PLC directory, relays with their last requestCrawl answer, firehose seq.
//! Reads only; it must not call out to the network (status has to answer even when the
//! PLC directory or the relays are down).

use crate::context::AppState;
use crate::store::stats;
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::{Extension, State};
use pds::admin::{Access, ListenInfo, RelayStatus, StatusResponse, StorageInfo};
use std::path::Path;

pub async fn status(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
) -> Result<Json<StatusResponse>, XrpcError> {
    let counts = stats::server_stats(&state.db).await?;
    let crawls = stats::crawl_statuses(&state.db).await?;
    let cfg = &state.config;
    Ok(Json(StatusResponse {
        version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: state
            .started_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        uptime_secs: state.started.elapsed().as_secs(),
        dev: cfg.dev,
        listen: ListenInfo {
            http: format!("http://{}", cfg.listen),
            public_url: state.public_url.clone(),
            admin_socket: cfg.socket_path().display().to_string(),
            builtin_plc: cfg.builtin_plc().then(|| state.plc.url().to_string()),
        },
        accounts: counts.accounts,
        active_accounts: counts.active_accounts,
        storage: StorageInfo {
            database_bytes: database_bytes(&cfg.db_path()),
            blob_bytes: counts.blob_bytes,
            blobs: counts.blobs,
        },
        plc_directory: state.plc.url().to_string(),
        relays: relays(&cfg.firehose.relays, crawls),
        firehose_seq: state.firehose.latest_seq(),
        access,
    }))
}

/// The database file with its WAL and shared-memory companions.
fn database_bytes(db: &Path) -> u64 {
    let mut total = 0;
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        if let Ok(m) = std::fs::metadata(&p) {
            total += m.len();
        }
    }
    total
}

/// Configured relays first (in configuration order, answered or not), then relays that
/// were crawled before but are no longer configured.
fn relays(configured: &[String], mut crawls: Vec<stats::CrawlStatus>) -> Vec<RelayStatus> {
    let mut out = Vec::new();
    for relay in configured {
        let found = crawls.iter().position(|c| &c.relay == relay);
        let c = found.map(|i| crawls.remove(i)).unwrap_or_default();
        out.push(RelayStatus {
            relay: relay.clone(),
            last_try_at: c.last_try_at,
            last_ok_at: c.last_ok_at,
            last_status: c.last_status,
        });
    }
    out.extend(crawls.into_iter().map(|c| RelayStatus {
        relay: c.relay,
        last_try_at: c.last_try_at,
        last_ok_at: c.last_ok_at,
        last_status: c.last_status,
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_relays_come_first_and_unanswered_ones_are_listed() {
        let crawls = vec![
            stats::CrawlStatus {
                relay: "old.example".into(),
                last_status: Some("200".into()),
                ..Default::default()
            },
            stats::CrawlStatus {
                relay: "bsky.network".into(),
                last_status: Some("200 OK".into()),
                ..Default::default()
            },
        ];
        let out = relays(&["bsky.network".into(), "never.example".into()], crawls);
        let names: Vec<_> = out.iter().map(|r| r.relay.as_str()).collect();
        assert_eq!(names, ["bsky.network", "never.example", "old.example"]);
        assert_eq!(out[0].last_status.as_deref(), Some("200 OK"));
        assert_eq!(out[1].last_status, None);
    }
}
