//! The relay's escrow of one Shamir share per account (`key_share`, the share sealed
//! with the key-encryption key) and the account's rotation log (`rotation_log`): every
//! split, re-split, release of the escrowed share, recovery and transfer.
//!
//! Plain queries on the connection they are given. Who may store or release a share,
//! and the rule that the relay never holds two shares, are decided in
//! `services::escrow`; this module never sees a share in the clear.

use super::DbError;
use rusqlite::{Connection, OptionalExtension, Row, params};

/// The share the relay holds for an account (its value sealed).
#[derive(Clone)]
pub struct ShareRow {
    pub did: String,
    /// The split's set id (`SetId` text form).
    pub set_id: String,
    pub epoch: u32,
    pub share_index: u8,
    /// The rotation key the share belongs to (`did:key`).
    pub rotation_key: String,
    /// The `pds-share-v1:` text, sealed.
    pub sealed: Vec<u8>,
    pub stored_at: String,
    /// Who stored it: a device id, or `session`.
    pub stored_by: String,
}

impl std::fmt::Debug for ShareRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareRow")
            .field("did", &self.did)
            .field("set_id", &self.set_id)
            .field("epoch", &self.epoch)
            .field("share_index", &self.share_index)
            .finish_non_exhaustive()
    }
}

const SHARE_COLUMNS: &str =
    "did, set_id, epoch, share_index, rotation_key, sealed, stored_at, stored_by";

fn share_from(r: &Row<'_>) -> rusqlite::Result<ShareRow> {
    Ok(ShareRow {
        did: r.get(0)?,
        set_id: r.get(1)?,
        epoch: r.get(2)?,
        share_index: r.get(3)?,
        rotation_key: r.get(4)?,
        sealed: r.get(5)?,
        stored_at: r.get(6)?,
        stored_by: r.get(7)?,
    })
}

/// The escrowed share of `did`, if any.
pub fn share(conn: &Connection, did: &str) -> Result<Option<ShareRow>, DbError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {SHARE_COLUMNS} FROM key_share WHERE did = ?1"
        ))?
        .query_row([did], share_from)
        .optional()?)
}

/// Store `row` as the account's one escrowed share, replacing any earlier one.
pub fn put_share(conn: &Connection, row: &ShareRow) -> Result<(), DbError> {
    conn.execute(
        &format!(
            "INSERT INTO key_share ({SHARE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (did) DO UPDATE SET set_id = excluded.set_id, epoch = excluded.epoch,
               share_index = excluded.share_index, rotation_key = excluded.rotation_key,
               sealed = excluded.sealed, stored_at = excluded.stored_at,
               stored_by = excluded.stored_by"
        ),
        params![
            row.did,
            row.set_id,
            row.epoch,
            row.share_index,
            row.rotation_key,
            row.sealed,
            row.stored_at,
            row.stored_by
        ],
    )?;
    Ok(())
}

/// One line of the rotation log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRow {
    pub seq: i64,
    pub did: String,
    pub at: String,
    pub event: String,
    pub set_id: Option<String>,
    pub epoch: Option<u32>,
    pub share_index: Option<u8>,
    pub rotation_key: Option<String>,
    /// A device id, `session`, `password`, `rotation-key` or `relay`.
    pub actor: String,
    pub detail: Option<String>,
}

/// A new log line (its `seq` and `at` are filled in by [`append_log`]).
#[derive(Debug, Clone, Default)]
pub struct NewLog {
    pub event: &'static str,
    pub set_id: Option<String>,
    pub epoch: Option<u32>,
    pub share_index: Option<u8>,
    pub rotation_key: Option<String>,
    pub actor: String,
    pub detail: Option<String>,
}

/// Append a line to `did`'s rotation log.
pub fn append_log(conn: &Connection, did: &str, at: &str, e: &NewLog) -> Result<i64, DbError> {
    conn.prepare_cached(
        "INSERT INTO rotation_log (did, at, event, set_id, epoch, share_index, rotation_key, \
         actor, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        did,
        at,
        e.event,
        e.set_id,
        e.epoch,
        e.share_index,
        e.rotation_key,
        e.actor,
        e.detail
    ])?;
    Ok(conn.last_insert_rowid())
}

/// `did`'s rotation log, oldest first.
pub fn log_of(conn: &Connection, did: &str) -> Result<Vec<LogRow>, DbError> {
    let mut st = conn.prepare_cached(
        "SELECT seq, did, at, event, set_id, epoch, share_index, rotation_key, actor, detail \
         FROM rotation_log WHERE did = ?1 ORDER BY seq",
    )?;
    let rows = st.query_map([did], |r| {
        Ok(LogRow {
            seq: r.get(0)?,
            did: r.get(1)?,
            at: r.get(2)?,
            event: r.get(3)?,
            set_id: r.get(4)?,
            epoch: r.get(5)?,
            share_index: r.get(6)?,
            rotation_key: r.get(7)?,
            actor: r.get(8)?,
            detail: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().expect("open");
        crate::store::schema::migrate(&mut c).expect("schema");
        // Rows here name accounts that these unit tests do not create.
        c.execute_batch("PRAGMA foreign_keys = OFF")
            .expect("pragma");
        c
    }

    fn row(set: &str, epoch: u32) -> ShareRow {
        ShareRow {
            did: "did:plc:a".into(),
            set_id: set.into(),
            epoch,
            share_index: 2,
            rotation_key: "did:key:z".into(),
            sealed: vec![1, 2, 3],
            stored_at: "2025-01-01T00:00:00.000Z".into(),
            stored_by: "dev-1".into(),
        }
    }

    #[test]
    fn one_share_per_account_and_the_log_keeps_order() {
        let c = db();
        put_share(&c, &row("s1", 1)).expect("put");
        put_share(&c, &row("s2", 2)).expect("replace");
        let got = share(&c, "did:plc:a").expect("read").expect("one");
        assert_eq!((got.set_id.as_str(), got.epoch), ("s2", 2));
        assert!(share(&c, "did:plc:b").expect("read").is_none());
        for (event, epoch) in [("split", 1), ("resplit", 2)] {
            append_log(
                &c,
                "did:plc:a",
                "2025-01-01T00:00:00.000Z",
                &NewLog {
                    event,
                    epoch: Some(epoch),
                    actor: "dev-1".into(),
                    ..Default::default()
                },
            )
            .expect("log");
        }
        let log = log_of(&c, "did:plc:a").expect("log");
        assert_eq!(
            log.iter().map(|l| l.event.as_str()).collect::<Vec<_>>(),
            ["split", "resplit"]
        );
    }
}
