//! Repository storage in SQLite: blocks (per account, with the rev that added them),
//! the record index (collection/rkey -> CID) and each repo's head.
//!
//! [`SqlBlocks`] lets the library's MST and CAR code read blocks straight from the
//! database, so a write only touches the nodes on its path. Everything here runs on the
//! connection it is given (the writer's transaction, or a reader).

use super::DbError;
use cid::Cid;
use pds::repo::RepoHead;
use pds::store::{BlockSource, StoreError};
use pds::syntax::Tid;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;

/// Blocks of one account's repo, read from the database.
#[derive(Debug, Clone, Copy)]
pub struct SqlBlocks<'a> {
    pub conn: &'a Connection,
    pub did: &'a str,
}

impl BlockSource for SqlBlocks<'_> {
    /// A block of the repo: a node or record from `repo_block`, or the head commit,
    /// which lives in the head's row (see [`set_head`]).
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, StoreError> {
        let backend = |e: rusqlite::Error| StoreError::Backend(e.to_string());
        let key = cid.to_bytes();
        let stored = self
            .conn
            .prepare_cached("SELECT bytes FROM repo_block WHERE did = ?1 AND cid = ?2")
            .map_err(backend)?
            .query_row(params![self.did, key], |r| r.get::<_, Vec<u8>>(0))
            .optional()
            .map_err(backend)?;
        if stored.is_some() {
            return Ok(stored);
        }
        self.conn
            .prepare_cached(
                "SELECT commit_bytes FROM repo_root
                 WHERE did = ?1 AND commit_cid = ?2 AND commit_bytes IS NOT NULL",
            )
            .map_err(backend)?
            .query_row(params![self.did, key], |r| r.get::<_, Vec<u8>>(0))
            .optional()
            .map_err(backend)
    }
}

fn cid_from(bytes: Vec<u8>) -> Result<Cid, DbError> {
    Cid::try_from(bytes).map_err(|e| DbError::Task(format!("stored CID is corrupt: {e}")))
}

fn tid_from(s: String) -> Result<Tid, DbError> {
    Tid::new(&s).map_err(|e| DbError::Task(format!("stored rev is corrupt: {e}")))
}

/// The head of a repo, if the account has one.
pub fn head(conn: &Connection, did: &str) -> Result<Option<RepoHead>, DbError> {
    let row = conn
        .prepare_cached("SELECT commit_cid, rev, data_cid FROM repo_root WHERE did = ?1")?
        .query_row([did], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })
        .optional()?;
    match row {
        None => Ok(None),
        Some((c, rev, d)) => Ok(Some(RepoHead {
            commit: cid_from(c)?,
            rev: tid_from(rev)?,
            data: cid_from(d)?,
        })),
    }
}

/// Set the head of a repo, with the bytes of its commit block.
///
/// The head commit is kept in the head's row rather than in `repo_block`: every write
/// replaces it, and as a `repo_block` row it cost an insert and a delete at random
/// places of that table per write (the row is rewritten anyway). Heads written before
/// this have `commit_bytes` NULL and their commit in `repo_block`, where the next
/// write drops it as before.
pub fn set_head(
    conn: &Connection,
    did: &str,
    head: &RepoHead,
    commit_bytes: &[u8],
) -> Result<(), DbError> {
    conn.prepare_cached(
        "INSERT INTO repo_root (did, commit_cid, rev, data_cid, indexed_at, commit_bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (did) DO UPDATE SET commit_cid = excluded.commit_cid, rev = excluded.rev,
         data_cid = excluded.data_cid, indexed_at = excluded.indexed_at,
         commit_bytes = excluded.commit_bytes",
    )?
    .execute(params![
        did,
        head.commit.to_bytes(),
        head.rev.as_str(),
        head.data.to_bytes(),
        crate::store::now(),
        commit_bytes
    ])?;
    Ok(())
}

/// Store blocks added by `rev` (already-present blocks keep their original rev).
pub fn put_blocks<'b>(
    conn: &Connection,
    did: &str,
    rev: &str,
    blocks: impl IntoIterator<Item = (&'b Cid, &'b Vec<u8>)>,
) -> Result<(), DbError> {
    let mut st = conn.prepare_cached(
        "INSERT OR IGNORE INTO repo_block (did, cid, rev, bytes) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (cid, bytes) in blocks {
        st.execute(params![did, cid.to_bytes(), rev, bytes])?;
    }
    Ok(())
}

/// Store the blocks a commit added, except the commit itself, which is kept with the
/// head (see [`set_head`]).
pub fn put_commit_blocks<'b>(
    conn: &Connection,
    did: &str,
    rev: &str,
    commit: &Cid,
    blocks: impl IntoIterator<Item = (&'b Cid, &'b Vec<u8>)>,
) -> Result<(), DbError> {
    put_blocks(
        conn,
        did,
        rev,
        blocks.into_iter().filter(|(c, _)| *c != commit),
    )
}

/// Drop blocks the head no longer references. Record blocks still indexed under
/// another path (identical content) are kept.
pub fn drop_blocks<'b>(
    conn: &Connection,
    did: &str,
    cids: impl IntoIterator<Item = &'b Cid>,
) -> Result<(), DbError> {
    let mut del = conn.prepare_cached(
        "DELETE FROM repo_block WHERE did = ?1 AND cid = ?2
         AND NOT EXISTS (SELECT 1 FROM record WHERE record.did = ?1 AND record.cid = ?2)",
    )?;
    for cid in cids {
        del.execute(params![did, cid.to_bytes()])?;
    }
    Ok(())
}

/// Index a created or updated record.
pub fn put_record(
    conn: &Connection,
    did: &str,
    collection: &str,
    rkey: &str,
    cid: &Cid,
    rev: &str,
) -> Result<(), DbError> {
    conn.prepare_cached(
        "INSERT INTO record (did, collection, rkey, cid, rev, indexed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (did, collection, rkey) DO UPDATE SET cid = excluded.cid, rev = excluded.rev,
         indexed_at = excluded.indexed_at",
    )?
    .execute(params![did, collection, rkey, cid.to_bytes(), rev, crate::store::now()])?;
    Ok(())
}

/// Remove a deleted record from the index.
pub fn delete_record(
    conn: &Connection,
    did: &str,
    collection: &str,
    rkey: &str,
) -> Result<(), DbError> {
    conn.prepare_cached("DELETE FROM record WHERE did = ?1 AND collection = ?2 AND rkey = ?3")?
        .execute(params![did, collection, rkey])?;
    Ok(())
}

/// A record's CID and bytes.
pub fn get_record(
    conn: &Connection,
    did: &str,
    collection: &str,
    rkey: &str,
) -> Result<Option<(Cid, Vec<u8>)>, DbError> {
    let row = conn
        .prepare_cached(
            "SELECT r.cid, b.bytes FROM record r JOIN repo_block b ON b.did = r.did AND b.cid = r.cid
             WHERE r.did = ?1 AND r.collection = ?2 AND r.rkey = ?3",
        )?
        .query_row(params![did, collection, rkey], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
        })
        .optional()?;
    match row {
        None => Ok(None),
        Some((c, bytes)) => Ok(Some((cid_from(c)?, bytes))),
    }
}

/// One listed record.
#[derive(Debug, Clone)]
pub struct ListedRecord {
    pub rkey: String,
    pub cid: Cid,
    pub bytes: Vec<u8>,
}

/// A page of a collection, rkey-descending by default (as the reference PDS lists).
pub fn list_records(
    conn: &Connection,
    did: &str,
    collection: &str,
    limit: u32,
    cursor: Option<&str>,
    reverse: bool,
) -> Result<Vec<ListedRecord>, DbError> {
    let sql = match (reverse, cursor.is_some()) {
        (false, false) => {
            "SELECT r.rkey, r.cid, b.bytes FROM record r JOIN repo_block b ON b.did = r.did AND b.cid = r.cid WHERE r.did = ?1 AND r.collection = ?2 ORDER BY r.rkey DESC LIMIT ?3"
        }
        (false, true) => {
            "SELECT r.rkey, r.cid, b.bytes FROM record r JOIN repo_block b ON b.did = r.did AND b.cid = r.cid WHERE r.did = ?1 AND r.collection = ?2 AND r.rkey < ?4 ORDER BY r.rkey DESC LIMIT ?3"
        }
        (true, false) => {
            "SELECT r.rkey, r.cid, b.bytes FROM record r JOIN repo_block b ON b.did = r.did AND b.cid = r.cid WHERE r.did = ?1 AND r.collection = ?2 ORDER BY r.rkey ASC LIMIT ?3"
        }
        (true, true) => {
            "SELECT r.rkey, r.cid, b.bytes FROM record r JOIN repo_block b ON b.did = r.did AND b.cid = r.cid WHERE r.did = ?1 AND r.collection = ?2 AND r.rkey > ?4 ORDER BY r.rkey ASC LIMIT ?3"
        }
    };
    let mut st = conn.prepare_cached(sql)?;
    let map = |r: &rusqlite::Row<'_>| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, Vec<u8>>(2)?,
        ))
    };
    let rows = match cursor {
        Some(c) => st
            .query_map(params![did, collection, limit, c], map)?
            .collect::<Result<Vec<_>, _>>()?,
        None => st
            .query_map(params![did, collection, limit], map)?
            .collect::<Result<Vec<_>, _>>()?,
    };
    rows.into_iter()
        .map(|(rkey, c, bytes)| {
            Ok(ListedRecord {
                rkey,
                cid: cid_from(c)?,
                bytes,
            })
        })
        .collect()
}

/// The collections a repo has records in.
pub fn collections(conn: &Connection, did: &str) -> Result<Vec<String>, DbError> {
    let mut st = conn.prepare_cached(
        "SELECT DISTINCT collection FROM record WHERE did = ?1 ORDER BY collection",
    )?;
    let rows = st.query_map([did], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// How many records a repo holds.
pub fn record_count(conn: &Connection, did: &str) -> Result<u64, DbError> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM record WHERE did = ?1")?
        .query_row([did], |r| r.get::<_, i64>(0))? as u64)
}

/// Blocks added after `rev` (for getRepo with `since`). This reads all of the
/// account's blocks, as a whole getRepo does: `since` is rare, and an index on the rev
/// would cost every write (see the schema's migrations).
pub fn blocks_since(
    conn: &Connection,
    did: &str,
    rev: &str,
) -> Result<BTreeMap<Cid, Vec<u8>>, DbError> {
    let mut st =
        conn.prepare_cached("SELECT cid, bytes FROM repo_block WHERE did = ?1 AND rev > ?2")?;
    let rows = st.query_map(params![did, rev], |r| {
        Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (c, b) = row?;
        out.insert(cid_from(c)?, b);
    }
    let head = conn
        .prepare_cached(
            "SELECT commit_cid, commit_bytes FROM repo_root
             WHERE did = ?1 AND rev > ?2 AND commit_bytes IS NOT NULL",
        )?
        .query_row(params![did, rev], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
        })
        .optional()?;
    if let Some((c, b)) = head {
        out.insert(cid_from(c)?, b);
    }
    Ok(out)
}

/// How many blocks a repo holds (its nodes and records, and its head commit).
pub fn block_count(conn: &Connection, did: &str) -> Result<u64, DbError> {
    Ok(conn
        .prepare_cached(
            "SELECT (SELECT COUNT(*) FROM repo_block WHERE did = ?1)
                  + (SELECT COUNT(*) FROM repo_root WHERE did = ?1 AND commit_bytes IS NOT NULL)",
        )?
        .query_row([did], |r| r.get::<_, i64>(0))? as u64)
}

/// One page of listRepos: (did, head, active flag, status).
pub fn list_repos(
    conn: &Connection,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Vec<(String, RepoHead, Option<String>)>, DbError> {
    let mut st = conn.prepare_cached(
        "SELECT r.did, r.commit_cid, r.rev, r.data_cid, a.deactivated_at, a.takedown_ref
         FROM repo_root r JOIN account a ON a.did = r.did
         WHERE r.did > ?1 ORDER BY r.did LIMIT ?2",
    )?;
    let rows = st.query_map(params![cursor.unwrap_or(""), limit], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Vec<u8>>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (did, c, rev, d, deact, takedown) = row?;
        let status = if takedown.is_some() {
            Some("takendown".to_string())
        } else if deact.is_some() {
            Some("deactivated".to_string())
        } else {
            None
        };
        out.push((
            did,
            RepoHead {
                commit: cid_from(c)?,
                rev: tid_from(rev)?,
                data: cid_from(d)?,
            },
            status,
        ));
    }
    Ok(out)
}

/// Remove a repo entirely (account deletion).
pub fn delete_repo(conn: &Connection, did: &str) -> Result<(), DbError> {
    conn.execute("DELETE FROM repo_block WHERE did = ?1", [did])?;
    conn.execute("DELETE FROM record WHERE did = ?1", [did])?;
    conn.execute("DELETE FROM record_blob WHERE did = ?1", [did])?;
    conn.execute("DELETE FROM repo_root WHERE did = ?1", [did])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Db;

    const DID: &str = "did:plc:headcommitaaaaaaaaaaaaaa";

    fn tid(s: &str) -> Tid {
        Tid::new(s).expect("tid")
    }

    /// The head commit is stored in the head's row, served as a block of the repo,
    /// counted, and included in `since` exports; a head written before that (its
    /// commit in `repo_block`) still reads the same.
    #[tokio::test]
    async fn the_head_commit_is_a_block_of_the_repo() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(&dir.path().join("t.sqlite")).expect("open");
        let legacy = pds::data::cid::for_cbor(b"\xa1aa\x01");
        let node = pds::data::cid::for_cbor(b"\xa1ab\x02");
        let commit = pds::data::cid::for_cbor(b"\xa1ac\x03");
        db.write(move |tx| -> Result<(), DbError> {
            let c = tx.conn();
            c.execute(
                "INSERT INTO account (did, created_at, signing_key) VALUES (?1, '', x'00')",
                [DID],
            )?;
            // A head as stored before: its commit in repo_block, no commit bytes.
            put_blocks(c, DID, "3kaaaaaaaaa22", [(&legacy, &b"legacy".to_vec())])?;
            c.execute(
                "INSERT INTO repo_root (did, commit_cid, rev, data_cid, indexed_at)
                 VALUES (?1, ?2, '3kaaaaaaaaa22', ?3, '')",
                params![DID, legacy.to_bytes(), node.to_bytes()],
            )?;
            Ok(())
        })
        .await
        .expect("legacy head");
        let read = |cid: Cid| {
            db.read_blocking(move |conn| {
                SqlBlocks { conn, did: DID }
                    .get_block(&cid)
                    .map_err(|e| DbError::Task(e.to_string()))
            })
            .expect("read")
        };
        assert_eq!(read(legacy).as_deref(), Some(&b"legacy"[..]));

        let head = RepoHead {
            commit,
            rev: tid("3kbbbbbbbbb22"),
            data: node,
        };
        db.write(move |tx| -> Result<(), DbError> {
            let c = tx.conn();
            put_blocks(c, DID, "3kbbbbbbbbb22", [(&node, &b"node".to_vec())])?;
            drop_blocks(c, DID, [&legacy])?;
            set_head(c, DID, &head, b"commit")
        })
        .await
        .expect("new head");
        assert_eq!(read(commit).as_deref(), Some(&b"commit"[..]));
        assert_eq!(read(legacy), None, "the old commit is dropped");
        let (in_blocks, count, since_before, since_head) = db
            .read_blocking(|c| -> Result<_, DbError> {
                let in_blocks: i64 = c.query_row(
                    "SELECT COUNT(*) FROM repo_block WHERE did = ?1 AND cid = ?2",
                    params![DID, commit.to_bytes()],
                    |r| r.get(0),
                )?;
                Ok((
                    in_blocks,
                    block_count(c, DID)?,
                    blocks_since(c, DID, "3kaaaaaaaaa22")?,
                    blocks_since(c, DID, "3kbbbbbbbbb22")?,
                ))
            })
            .expect("counts");
        assert_eq!(in_blocks, 0, "the head commit is not a repo_block row");
        assert_eq!(count, 2, "node and commit");
        assert_eq!(since_before.keys().copied().collect::<Vec<_>>(), {
            let mut v = vec![node, commit];
            v.sort();
            v
        });
        assert!(since_head.is_empty());
        db.close();
    }
}
