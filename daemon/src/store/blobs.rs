//! Blob metadata: which account uploaded which blob (CID, media type, size), and which
//! records reference it. The bytes themselves live in the blob store.

use super::DbError;
use rusqlite::{Connection, OptionalExtension, params};

/// A blob as an account owns it.
#[derive(Debug, Clone)]
pub struct BlobRow {
    pub mime_type: String,
    pub takedown_ref: Option<String>,
}

/// Record an uploaded blob for an account (idempotent).
pub fn insert(
    conn: &Connection,
    did: &str,
    cid: &str,
    mime: &str,
    size: u64,
) -> Result<(), DbError> {
    conn.prepare_cached(
        "INSERT INTO blob (did, cid, mime_type, size, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (did, cid) DO NOTHING",
    )?
    .execute(params![did, cid, mime, size as i64, super::now()])?;
    Ok(())
}

/// Whether the account has this blob.
pub fn exists(conn: &Connection, did: &str, cid: &str) -> Result<bool, DbError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM blob WHERE did = ?1 AND cid = ?2")?
        .query_row(params![did, cid], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The account's blob row.
pub fn get(conn: &Connection, did: &str, cid: &str) -> Result<Option<BlobRow>, DbError> {
    Ok(conn
        .prepare_cached("SELECT mime_type, takedown_ref FROM blob WHERE did = ?1 AND cid = ?2")?
        .query_row(params![did, cid], |r| {
            Ok(BlobRow {
                mime_type: r.get(0)?,
                takedown_ref: r.get(1)?,
            })
        })
        .optional()?)
}

/// Link a blob to the record that references it.
pub fn link_record(conn: &Connection, did: &str, cid: &str, path: &str) -> Result<(), DbError> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO record_blob (did, blob_cid, record_path) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![did, cid, path])?;
    Ok(())
}

/// Drop the blob links of a record (before it is rewritten or deleted).
pub fn unlink_record(conn: &Connection, did: &str, path: &str) -> Result<(), DbError> {
    conn.prepare_cached("DELETE FROM record_blob WHERE did = ?1 AND record_path = ?2")?
        .execute(params![did, path])?;
    Ok(())
}

/// Blob CIDs referenced by the account's records, after `cursor`, in CID order.
/// With `since`, only blobs of records written after that rev.
pub fn list_referenced(
    conn: &Connection,
    did: &str,
    since: Option<&str>,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Vec<String>, DbError> {
    let mut st = conn.prepare_cached(
        "SELECT DISTINCT rb.blob_cid FROM record_blob rb
         JOIN record r ON r.did = rb.did AND (r.collection || '/' || r.rkey) = rb.record_path
         WHERE rb.did = ?1 AND rb.blob_cid > ?2 AND r.rev > ?3
         ORDER BY rb.blob_cid LIMIT ?4",
    )?;
    let rows = st.query_map(
        params![did, cursor.unwrap_or(""), since.unwrap_or(""), limit],
        |r| r.get::<_, String>(0),
    )?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Blobs referenced by records but never uploaded here (after an import): (cid, record path).
pub fn list_missing(
    conn: &Connection,
    did: &str,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Vec<(String, String)>, DbError> {
    let mut st = conn.prepare_cached(
        "SELECT rb.blob_cid, MIN(rb.record_path) FROM record_blob rb
         WHERE rb.did = ?1 AND rb.blob_cid > ?2
         AND NOT EXISTS (SELECT 1 FROM blob b WHERE b.did = rb.did AND b.cid = rb.blob_cid)
         GROUP BY rb.blob_cid ORDER BY rb.blob_cid LIMIT ?3",
    )?;
    let rows = st.query_map(params![did, cursor.unwrap_or(""), limit], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Total bytes of the account's blobs.
pub fn usage(conn: &Connection, did: &str) -> Result<u64, DbError> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(SUM(size), 0) FROM blob WHERE did = ?1")?
        .query_row([did], |r| r.get::<_, i64>(0))? as u64)
}

/// How many blobs the account has, and how many are referenced by records.
pub fn counts(conn: &Connection, did: &str) -> Result<(u64, u64), DbError> {
    let all: i64 = conn.query_row("SELECT COUNT(*) FROM blob WHERE did = ?1", [did], |r| {
        r.get(0)
    })?;
    let referenced: i64 = conn.query_row(
        "SELECT COUNT(DISTINCT blob_cid) FROM record_blob WHERE did = ?1",
        [did],
        |r| r.get(0),
    )?;
    Ok((all as u64, referenced as u64))
}

/// Every blob CID of the account (exports).
pub fn all_cids(conn: &Connection, did: &str) -> Result<Vec<(String, String, u64)>, DbError> {
    let mut st =
        conn.prepare_cached("SELECT cid, mime_type, size FROM blob WHERE did = ?1 ORDER BY cid")?;
    let rows = st.query_map([did], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64))
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Remove the account's blob rows; returns CIDs that no other account holds any more.
pub fn delete_account_blobs(conn: &Connection, did: &str) -> Result<Vec<String>, DbError> {
    let cids: Vec<String> = {
        let mut st = conn.prepare("SELECT cid FROM blob WHERE did = ?1")?;
        let rows = st.query_map([did], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<Vec<_>, _>>()?
    };
    conn.execute("DELETE FROM blob WHERE did = ?1", [did])?;
    conn.execute("DELETE FROM record_blob WHERE did = ?1", [did])?;
    let mut orphaned = Vec::new();
    for c in cids {
        let held: bool = conn
            .query_row(
                "SELECT 1 FROM blob WHERE cid = ?1 LIMIT 1",
                [&c],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if !held {
            orphaned.push(c);
        }
    }
    Ok(orphaned)
}
