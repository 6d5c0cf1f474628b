//! Desktop-enrolled mode: the repo-host desktop builds a commit, the relay checks it,
//! signs it with the account's key, stores it and emits it (`POST /v1/relay/commits/sign`).
//!
//! The checks, all inside the writer's transaction so the head cannot move under them:
//! - the caller is the account's repo host, and the account is active;
//! - the commit is `{did, version 3, data, rev, prev}` for this account, `prev` is the
//!   CID of the current head commit (so the signed commit itself says what it follows),
//!   and `rev` sorts after the head's rev and is not ahead of the clock;
//! - the tree transition is a valid MST change: the diff between the head's root and the
//!   new root is read from the new blocks laid over the stored ones, its ops (at most
//!   `limits.writes_per_batch`) are replayed on the stored tree, and the result must be
//!   exactly the claimed root (the canonical MST of the new key set is unique, so a
//!   malformed tree cannot pass);
//! - every created or updated record is canonical DAG-CBOR with a `$type`, within the
//!   record size limit, valid against the lexicons the relay knows, and its blobs exist.
//!
//! Then the commit is signed and stored through the same `services::repo::persist` and
//! `sequence_commit` as XRPC writes, so the record index, blob links, firehose `#commit`
//! (with covering proofs) and `#sync` semantics are the same for both paths.

use super::ServiceError;
use super::repo::{PreparedWrite, persist, prepare_record, sequence_commit, signing_key};
use crate::context::AppState;
use crate::store::{accounts, devices, repo as repo_store};
use cid::Cid;
use pds::repo::{Action, BlockMap, CommitOutcome, Mst, RepoOp, UnsignedCommit, Write};
use pds::store::{BlockSource, StoreError};
use pds::syntax::{Did, Tid};
use std::collections::HashMap;

/// How far ahead of the relay's clock a desktop's rev may be.
const MAX_REV_SKEW_MICROS: u64 = 5 * 60 * 1_000_000;

/// The new blocks laid over the account's stored blocks.
struct Overlay<'a> {
    top: &'a HashMap<Cid, Vec<u8>>,
    base: repo_store::SqlBlocks<'a>,
}

impl BlockSource for Overlay<'_> {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, StoreError> {
        match self.top.get(cid) {
            Some(b) => Ok(Some(b.clone())),
            None => self.base.get_block(cid),
        }
    }
}

/// A commit the relay signed for the desktop.
#[derive(Debug, Clone)]
pub struct SignedForDesktop {
    pub cid: Cid,
    pub rev: Tid,
    pub bytes: Vec<u8>,
    pub seq: i64,
    pub ops: Vec<RepoOp>,
}

fn invalid_commit(msg: impl Into<String>) -> ServiceError {
    ServiceError::Named("InvalidCommit", msg.into())
}

fn stale(head: &pds::repo::RepoHead, why: &str) -> ServiceError {
    ServiceError::Named(
        "StaleCommit",
        format!(
            "{why}: the relay's head is commit {} at rev {}; sync (GET /v1/relay/repo/snapshot) and rebuild the commit on it",
            head.commit, head.rev
        ),
    )
}

fn mst_error(e: pds::repo::MstError) -> ServiceError {
    match e {
        pds::repo::MstError::Store(StoreError::MissingBlock(c)) => invalid_commit(format!(
            "the new tree needs block {c}, which is neither among the new blocks nor stored"
        )),
        pds::repo::MstError::Store(other) => ServiceError::internal(other),
        other => invalid_commit(format!("the new tree is not a valid MST: {other}")),
    }
}

/// Check `commit` against the head of its repo, sign it and store it. `blocks` are the
/// blocks the desktop says are new (MST nodes and records); others are ignored.
pub async fn sign_commit(
    state: &AppState,
    device: &devices::DeviceRow,
    commit: UnsignedCommit,
    blocks: HashMap<Cid, Vec<u8>>,
) -> Result<SignedForDesktop, ServiceError> {
    if commit.did.as_str() != device.did {
        return Err(ServiceError::Forbidden(format!(
            "this device belongs to {}, not to {}",
            device.did, commit.did
        )));
    }
    let now_micros = u64::try_from(chrono::Utc::now().timestamp_micros()).unwrap_or(0);
    if commit.rev.timestamp_micros() > now_micros.saturating_add(MAX_REV_SKEW_MICROS) {
        return Err(invalid_commit(format!(
            "rev {} is more than 5 minutes ahead of the relay's clock",
            commit.rev
        )));
    }
    let st = state.clone();
    let device_id = device.id.clone();
    state
        .db
        .write(move |tx| -> Result<SignedForDesktop, ServiceError> {
            let conn = tx.conn();
            let did = commit.did.clone();
            let d = did.as_str();
            match devices::repo_host(conn, d)? {
                Some((host, _)) if host == device_id => {}
                Some(_) => {
                    return Err(ServiceError::Named(
                        "NotRepoHost",
                        "another desktop is the repo host of this account".into(),
                    ));
                }
                None => {
                    return Err(ServiceError::Named(
                        "NotRepoHost",
                        "this account has no repo-host desktop; promote one first (POST /v1/devices/{id}/promote)".into(),
                    ));
                }
            }
            let account = accounts::by_did(conn, d)?
                .ok_or_else(|| ServiceError::RepoNotFound(d.to_string()))?;
            super::repo::require_active(&account)?;
            let head = repo_store::head(conn, d)?
                .ok_or_else(|| ServiceError::RepoNotFound(d.to_string()))?;
            if commit.prev != Some(head.commit) {
                return Err(stale(
                    &head,
                    &match commit.prev {
                        Some(p) => format!("the commit follows {p}"),
                        None => "the commit's prev is null (it must name the head commit it follows)".into(),
                    },
                ));
            }
            if commit.rev <= head.rev {
                return Err(stale(
                    &head,
                    &format!("rev {} does not come after {}", commit.rev, head.rev),
                ));
            }
            if commit.data == head.data {
                return Err(invalid_commit("the commit changes nothing (its data is the head's)"));
            }
            let base = repo_store::SqlBlocks { conn, did: d };
            let overlay = Overlay { top: &blocks, base };
            let new_tree = Mst::load(&overlay, commit.data);
            let diff = new_tree.diff(Some(head.data), commit.data).map_err(mst_error)?;
            let n_ops = diff.creates.len() + diff.updates.len() + diff.deletes.len();
            if n_ops > st.config.limits.writes_per_batch {
                return Err(invalid_commit(format!(
                    "the commit has {n_ops} writes; at most {} fit in one commit",
                    st.config.limits.writes_per_batch
                )));
            }
            // Replay the ops on the stored tree: the canonical result must be the claimed root.
            let mut replay = Mst::load(base, head.data);
            for (k, c) in &diff.creates {
                replay.add(k, *c).map_err(mst_error)?;
            }
            for (k, _, c) in &diff.updates {
                replay.update(k, *c).map_err(mst_error)?;
            }
            for (k, _) in &diff.deletes {
                replay.delete(k).map_err(mst_error)?;
            }
            if replay.root() != commit.data {
                return Err(invalid_commit(format!(
                    "the new tree is not the canonical MST of its keys (expected root {}, got {})",
                    replay.root(),
                    commit.data
                )));
            }

            // Records: canonical, typed, valid, within limits, blobs present.
            let mut ops: Vec<(RepoOp, PreparedWrite)> = Vec::with_capacity(n_ops);
            let mut record_blocks = BlockMap::new();
            let changed = diff
                .creates
                .iter()
                .map(|(k, c)| (k, *c, None))
                .chain(diff.updates.iter().map(|(k, old, c)| (k, *c, Some(*old))));
            for (path, cid, prev) in changed {
                let bytes = overlay
                    .get_block(&cid)?
                    .ok_or_else(|| invalid_commit(format!("record {path} ({cid}) is missing from the new blocks")))?;
                if bytes.len() > st.config.limits.record_bytes {
                    return Err(invalid_commit(format!(
                        "record {path} is {} bytes; at most {} are allowed",
                        bytes.len(),
                        st.config.limits.record_bytes
                    )));
                }
                let value = pds::data::cbor::decode_value(&bytes)
                    .map_err(|e| invalid_commit(format!("record {path}: {e}")))?;
                let (canonical, _) = pds::data::record_cid(&value)
                    .map_err(|e| invalid_commit(format!("record {path}: {e}")))?;
                if canonical != cid {
                    return Err(invalid_commit(format!(
                        "record {path} is not in canonical DAG-CBOR form"
                    )));
                }
                let (collection, rkey) = path
                    .split_once('/')
                    .ok_or_else(|| invalid_commit(format!("bad record path {path}")))?;
                let (blobs, validation) = prepare_record(collection, rkey, &value, None)?;
                super::repo::check_blobs(conn, d, &blobs)?;
                record_blocks.insert(cid, bytes);
                let (action, write) = match prev {
                    None => (
                        Action::Create,
                        Write::Create {
                            collection: collection.to_string(),
                            rkey: rkey.to_string(),
                            record: value,
                        },
                    ),
                    Some(_) => (
                        Action::Update,
                        Write::Update {
                            collection: collection.to_string(),
                            rkey: rkey.to_string(),
                            record: value,
                            swap_record: prev,
                        },
                    ),
                };
                ops.push((
                    RepoOp {
                        action,
                        path: path.clone(),
                        cid: Some(cid),
                        prev,
                    },
                    PreparedWrite {
                        write,
                        blobs,
                        validation,
                    },
                ));
            }
            for (path, old) in &diff.deletes {
                let (collection, rkey) = path
                    .split_once('/')
                    .ok_or_else(|| invalid_commit(format!("bad record path {path}")))?;
                ops.push((
                    RepoOp {
                        action: Action::Delete,
                        path: path.clone(),
                        cid: None,
                        prev: Some(*old),
                    },
                    PreparedWrite {
                        write: Write::Delete {
                            collection: collection.to_string(),
                            rkey: rkey.to_string(),
                            swap_record: Some(*old),
                        },
                        blobs: vec![],
                        validation: None,
                    },
                ));
            }
            ops.sort_by(|a, b| a.0.path.cmp(&b.0.path));

            // Sign, then store and emit exactly as an XRPC write would.
            let key = signing_key(&st, tx, &account)?;
            let signed = commit
                .clone()
                .sign(&key)
                .map_err(|e| invalid_commit(e.to_string()))?;
            let mut new_blocks = BlockMap::new();
            new_blocks.insert(signed.cid, signed.bytes.clone());
            new_blocks.extend(diff.new_nodes.iter().map(|(c, b)| (*c, b.clone())));
            new_blocks.extend(record_blocks);
            let mut firehose_blocks = new_blocks.clone();
            for (op, _) in &ops {
                new_tree
                    .add_covering_proof(&op.path, &mut firehose_blocks)
                    .map_err(mst_error)?;
            }
            let mut removed_cids = diff.removed_nodes.clone();
            removed_cids.extend(diff.removed_leaf_cids());
            removed_cids.insert(head.commit);
            let (repo_ops, writes): (Vec<RepoOp>, Vec<PreparedWrite>) = ops.into_iter().unzip();
            let outcome = CommitOutcome {
                commit: signed,
                rev: commit.rev.clone(),
                since: Some(head.rev.clone()),
                prev_data: Some(head.data),
                data: commit.data,
                new_blocks,
                ops: repo_ops,
                firehose_blocks,
                removed_cids,
            };
            persist(tx, d, &outcome, &writes)?;
            // The blobs the new records reference, once each (the #commit's `blobs`).
            let mut blobs = Vec::new();
            for b in writes.iter().flat_map(|w| &w.blobs) {
                if !blobs.contains(&b.cid) {
                    blobs.push(b.cid);
                }
            }
            let seq = sequence_commit(&st, tx, d, &outcome, blobs)?;
            devices::touch(conn, &device_id, &crate::store::now())?;
            Ok(SignedForDesktop {
                cid: outcome.commit.cid,
                rev: outcome.rev.clone(),
                bytes: outcome.commit.bytes.clone(),
                seq,
                ops: outcome.ops,
            })
        })
        .await
}

/// Parse the commit fields a desktop sends.
pub fn unsigned_commit(
    did: &str,
    version: i64,
    data: &str,
    rev: &str,
    prev: Option<&str>,
) -> Result<UnsignedCommit, ServiceError> {
    if version != 3 {
        return Err(invalid_commit(format!(
            "commit version {version} is not supported; only version 3 is"
        )));
    }
    let did = Did::new(did).map_err(|e| invalid_commit(format!("did: {e}")))?;
    let data = pds::data::cid::parse(data).map_err(|e| invalid_commit(format!("data: {e}")))?;
    let rev = Tid::new(rev).map_err(|e| invalid_commit(format!("rev: {e}")))?;
    let prev = prev
        .map(pds::data::cid::parse)
        .transpose()
        .map_err(|e| invalid_commit(format!("prev: {e}")))?;
    Ok(UnsignedCommit::new(did, data, rev, prev))
}
