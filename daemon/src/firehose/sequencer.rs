//! The durable sequencer: an event is appended to `repo_seq` inside the same transaction
//! as the change it reports, so a change and its event commit (or vanish) together.
//! The frame is encoded once, here, and stored as it will be sent; publishing to live
//! subscribers happens only after the commit, in seq order.
//!
//! A `#commit` over the sync spec's limits (blocks over 2,000,000 bytes, more than 200
//! ops) cannot be sent as such; it is sequenced as a `#sync` of the new commit instead,
//! which tells consumers to fetch the repo. This module never decides *what* is
//! sequenced: the services do.

use super::events;
use crate::store::{DbError, WriteTx};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

/// An event waiting for its sequence number.
#[derive(Debug)]
pub enum Pending {
    Commit(Box<events::CommitEvent>),
    Identity {
        did: String,
        handle: Option<String>,
    },
    Account {
        did: String,
        active: bool,
        status: Option<String>,
    },
    Sync {
        did: String,
        blocks: Vec<u8>,
        rev: String,
    },
}

fn build(p: &mut Pending, seq: i64, time: &str) -> Result<(&'static str, Vec<u8>), DbError> {
    fn enc<T: Serialize>(t: &'static str, body: &T) -> Result<(&'static str, Vec<u8>), DbError> {
        events::frame(t, body)
            .map(|b| (t, b))
            .map_err(|e| DbError::Task(format!("encoding a firehose event: {e}")))
    }
    match p {
        Pending::Commit(c) if too_big(c) => {
            let blocks = commit_only(c)?;
            enc(
                "#sync",
                &events::SyncEvent {
                    seq,
                    did: c.repo.clone(),
                    blocks,
                    rev: c.rev.clone(),
                    time: time.to_string(),
                },
            )
        }
        Pending::Commit(c) => {
            c.seq = seq;
            c.time = time.to_string();
            enc("#commit", c)
        }
        Pending::Identity { did, handle } => enc(
            "#identity",
            &events::IdentityEvent {
                seq,
                did: did.clone(),
                time: time.to_string(),
                handle: handle.clone(),
            },
        ),
        Pending::Account {
            did,
            active,
            status,
        } => enc(
            "#account",
            &events::AccountEvent {
                seq,
                did: did.clone(),
                time: time.to_string(),
                active: *active,
                status: status.clone(),
            },
        ),
        Pending::Sync { did, blocks, rev } => enc(
            "#sync",
            &events::SyncEvent {
                seq,
                did: did.clone(),
                blocks: std::mem::take(blocks),
                rev: rev.clone(),
                time: time.to_string(),
            },
        ),
    }
}

/// The sync spec's hard limits on a `#commit`.
pub const MAX_COMMIT_BLOCKS: usize = 2_000_000;
pub const MAX_COMMIT_OPS: usize = 200;

fn too_big(c: &events::CommitEvent) -> bool {
    c.blocks.len() > MAX_COMMIT_BLOCKS || c.ops.len() > MAX_COMMIT_OPS
}

/// A CAR holding only the commit block of a `#commit`'s blocks.
fn commit_only(c: &events::CommitEvent) -> Result<Vec<u8>, DbError> {
    let bad = |e: String| DbError::Task(format!("a too-big commit cannot become #sync: {e}"));
    let car = pds::car::read_all(c.blocks.as_slice(), pds::car::CarLimits::default())
        .map_err(|e| bad(e.to_string()))?;
    let bytes = car
        .blocks
        .get(&c.commit)
        .ok_or_else(|| bad("the commit block is missing".into()))?;
    pds::car::to_bytes(&c.commit, [(&c.commit, bytes)]).map_err(|e| bad(e.to_string()))
}

fn did_of(p: &Pending) -> &str {
    match p {
        Pending::Commit(c) => &c.repo,
        Pending::Identity { did, .. }
        | Pending::Account { did, .. }
        | Pending::Sync { did, .. } => did,
    }
}

/// The writer cache's entry for the next sequence number.
const NEXT_SEQ: &str = "sequencer:next";

/// The next sequence number: from the writer's cache, or after the highest ever given
/// (`repo_seq` is AUTOINCREMENT, so `sqlite_sequence` holds the highest number ever
/// inserted, explicit ones included, even when the newest events were deleted: a number
/// is never given twice). A job that fails clears the cache, so a number its
/// rolled-back event took is read afresh.
fn next_seq(tx: &mut WriteTx<'_>) -> Result<i64, DbError> {
    if let Some(n) = tx.cache.get::<i64>(NEXT_SEQ) {
        return Ok(*n);
    }
    let highest: Option<i64> = tx
        .conn()
        .prepare_cached("SELECT seq FROM sqlite_sequence WHERE name = 'repo_seq'")?
        .query_row([], |r| r.get(0))
        .optional()?;
    Ok(highest.unwrap_or(0) + 1)
}

/// Append `event` in the current transaction; it is published once the transaction commits.
pub fn append(
    tx: &mut WriteTx<'_>,
    hub: &super::Firehose,
    mut event: Pending,
) -> Result<i64, DbError> {
    let time = events::now();
    let seq = next_seq(tx)?;
    let (kind, frame) = build(&mut event, seq, &time)?;
    // One INSERT with the number already known: inserting first to learn the rowid and
    // then updating the row with the frame wrote every event twice.
    tx.conn()
        .prepare_cached(
            "INSERT INTO repo_seq (seq, did, event_type, event, sequenced_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![seq, did_of(&event), kind, frame, time])?;
    tx.cache.put(NEXT_SEQ, seq + 1);
    let hub = hub.clone();
    tx.after_commit(move || hub.publish(seq, frame));
    Ok(seq)
}
