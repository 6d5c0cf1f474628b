//! Storage adapters of pdsd. SQLite ([`sqlite`]) is the embedded default; each sibling
//! module holds the queries of one area, and nothing outside `store/` writes SQL.
//!
//! - [`sqlite`] — the database handle, group-committing writer thread and reader pool
//! - [`schema`] — migrations
//! - [`accounts`], [`repo`], [`blobs`], [`sessions`] — queries by area
//! - [`devices`] — the device API's devices, repo host, nonces, relay keys, pending DIDs
//! - [`escrow`], [`recovery`], [`transfer`] — the escrowed share and rotation log,
//!   recovery sessions, transfer codes and sealed server secrets
//! - [`stats`] — server-wide counts for `pdsctl status`

pub mod schema;
pub mod sqlite;
pub mod stats;

pub use sqlite::{Db, DbError, WriteTx};

pub mod accounts;
pub mod blobs;
pub mod devices;
pub mod escrow;
pub mod recovery;
pub mod repo;

pub mod sessions;
pub mod transfer;

/// Now as stored in the database: RFC 3339, UTC, milliseconds (sorts as text).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A time `secs` seconds from now, in the stored form.
pub fn in_secs(secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(secs))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
