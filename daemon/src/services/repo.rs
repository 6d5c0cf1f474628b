//! Repo writes and reads.
//!
//! A write batch is validated against the lexicons on the caller's task; the commit is
//! built (MST, diff, signature) ahead of the writer by [`super::repo_pipeline`], then
//! the database writer, in one transaction, checks the account and that the commit was
//! built on the current head with the current key (or builds it itself with
//! `pds::repo::apply_writes`), stores the new blocks, updates the record index and blob
//! references, drops blocks no longer referenced, moves the head, and sequences the
//! `#commit` event. The caller is answered only after that transaction is on disk.

use super::ServiceError;
use crate::context::AppState;
use crate::firehose::{events, sequencer};
use crate::store::{self, DbError, WriteTx, accounts, repo as repo_store};
use cid::Cid;
use pds::crypto::Keypair;
use pds::data::{BlobRef, Value};
use pds::repo::{Action, CommitOutcome, Write};
use pds::syntax::{Did, Tid};
use std::sync::Arc;

/// A validated write, ready for the writer.
#[derive(Debug, Clone)]
pub struct PreparedWrite {
    pub write: Write,
    /// Blobs the record references (checked to exist and linked to the record).
    pub blobs: Vec<BlobRef>,
    /// "valid" or "unknown" (creates and updates only).
    pub validation: Option<&'static str>,
}

/// One applied write, as XRPC results report it.
#[derive(Debug, Clone)]
pub struct WriteResult {
    pub action: Action,
    pub collection: String,
    pub rkey: String,
    pub cid: Option<Cid>,
    pub validation: Option<&'static str>,
}

/// A committed batch.
#[derive(Debug, Clone)]
pub struct Committed {
    pub commit: Cid,
    pub rev: Tid,
    /// The new MST root.
    pub data: Cid,
    pub results: Vec<WriteResult>,
}

impl Committed {
    /// The repo's head after this commit.
    pub fn head(&self) -> pds::repo::RepoHead {
        pds::repo::RepoHead {
            commit: self.commit,
            rev: self.rev.clone(),
            data: self.data,
        }
    }
}

/// Validate a record against the lexicons and collect its blobs.
///
/// Known collections (com.atproto.*, app.bsky.*) are always validated; others pass as
/// "unknown" unless `validate` is `Some(true)`. `Some(false)` skips validation.
pub fn prepare_record(
    collection: &str,
    rkey: &str,
    record: &Value,
    validate: Option<bool>,
) -> Result<(Vec<BlobRef>, Option<&'static str>), ServiceError> {
    let catalog = pds::lexicon::builtin();
    let status = match validate {
        Some(false) => None,
        Some(true) => Some(
            catalog
                .check_record(collection, rkey, record, true)
                .map_err(|e| ServiceError::invalid(format!("Invalid {collection} record: {e}")))?,
        ),
        None => Some(
            catalog
                .check_record(collection, rkey, record, false)
                .map_err(|e| ServiceError::invalid(format!("Invalid {collection} record: {e}")))?,
        ),
    };
    Ok((pds::data::blob_refs(record), status.map(|s| s.as_str())))
}

/// The account's signing key, from the writer's cache or unsealed from its row.
pub fn signing_key(
    state: &AppState,
    tx: &mut WriteTx<'_>,
    account: &accounts::AccountRow,
) -> Result<Arc<Keypair>, ServiceError> {
    let cache_key = format!("signing-key:{}", account.did);
    if let Some(k) = tx.cache.get::<Arc<Keypair>>(&cache_key) {
        return Ok(k.clone());
    }
    let key = Arc::new(
        state
            .kek
            .open_keypair(&signing_key_label(&account.did), &account.signing_key)?,
    );
    tx.cache.put(cache_key, key.clone());
    Ok(key)
}

/// The sealing label of an account's signing key.
pub fn signing_key_label(did: &str) -> String {
    format!("signing-key:{did}")
}

/// Forget a cached signing key (after rotation).
pub fn forget_signing_key(tx: &mut WriteTx<'_>, did: &str) {
    tx.cache.remove(&format!("signing-key:{did}"));
}

/// Refuse writes to inactive accounts.
pub fn require_active(account: &accounts::AccountRow) -> Result<(), ServiceError> {
    match account.status() {
        "takendown" => Err(ServiceError::RepoTakendown(account.did.clone())),
        "deactivated" => Err(ServiceError::RepoDeactivated(account.did.clone())),
        _ => Ok(()),
    }
}

/// Apply a batch of writes to `did`'s repo as one commit. The commit is built ahead
/// of the writer when it can be (see [`super::repo_pipeline`]); the writer stores it if
/// its base is still the head, and builds it again itself if not.
pub async fn apply_writes(
    state: &AppState,
    did: &Did,
    writes: Vec<PreparedWrite>,
    swap_commit: Option<Cid>,
) -> Result<Committed, ServiceError> {
    let st = state.clone();
    let d = did.clone();
    super::repo_pipeline::run(state, did, writes, swap_commit, move |tx, built, writes| {
        commit_in_tx(&st, tx, &d, &writes, swap_commit, built)
    })
    .await
}

/// The body of [`apply_writes`], inside the writer's transaction: check the account,
/// then store `built` if it was built on the current head with the current key, or
/// build the commit here.
pub fn commit_in_tx(
    state: &AppState,
    tx: &mut WriteTx<'_>,
    did: &Did,
    writes: &[PreparedWrite],
    swap_commit: Option<Cid>,
    built: Option<super::repo_pipeline::Built>,
) -> Result<Committed, ServiceError> {
    let conn = tx.conn();
    let account = accounts::by_did(conn, did.as_str())?
        .ok_or_else(|| ServiceError::RepoNotFound(did.to_string()))?;
    require_active(&account)?;
    // Desktop-enrolled mode: no relay-built commits while the repo-host desktop is offline.
    super::device::require_relay_writable(state, conn, did.as_str())?;
    let head = repo_store::head(conn, did.as_str())?
        .ok_or_else(|| ServiceError::RepoNotFound(did.to_string()))?;
    for w in writes {
        check_blobs(conn, did.as_str(), &w.blobs)?;
    }
    let key = signing_key(state, tx, &account)?;
    let outcome = match built {
        Some(b) if b.base == head.commit && b.signer == key.public() => b.outcome,
        _ => {
            let rev = state.tids.next_after(&head.rev);
            let plain: Vec<Write> = writes.iter().map(|w| w.write.clone()).collect();
            pds::repo::apply_writes(
                &repo_store::SqlBlocks {
                    conn,
                    did: did.as_str(),
                },
                &head,
                did,
                &plain,
                swap_commit,
                &key,
                &rev,
            )?
        }
    };
    persist(tx, did.as_str(), &outcome, writes)?;
    sequence_commit(state, tx, did.as_str(), &outcome, referenced_blobs(writes))?;
    let results = outcome
        .ops
        .iter()
        .zip(writes)
        .map(|(op, w)| {
            let (collection, rkey) = op.path.split_once('/').unwrap_or((op.path.as_str(), ""));
            WriteResult {
                action: op.action,
                collection: collection.to_string(),
                rkey: rkey.to_string(),
                cid: op.cid,
                validation: w.validation,
            }
        })
        .collect();
    Ok(Committed {
        commit: outcome.commit.cid,
        rev: outcome.rev.clone(),
        data: outcome.data,
        results,
    })
}

/// Refuse records that reference blobs the account never uploaded.
pub fn check_blobs(
    conn: &rusqlite::Connection,
    did: &str,
    blobs: &[BlobRef],
) -> Result<(), ServiceError> {
    for b in blobs {
        if !store::blobs::exists(conn, did, &b.cid.to_string())? {
            return Err(ServiceError::Named(
                "InvalidRequest",
                format!("Could not find blob: {}", b.cid),
            ));
        }
    }
    Ok(())
}

/// Store what a commit produced and move the head.
pub fn persist(
    tx: &mut WriteTx<'_>,
    did: &str,
    outcome: &CommitOutcome,
    writes: &[PreparedWrite],
) -> Result<(), ServiceError> {
    let conn = tx.conn();
    let rev = outcome.rev.as_str();
    repo_store::put_commit_blocks(conn, did, rev, &outcome.commit.cid, &outcome.new_blocks)?;
    for (op, w) in outcome.ops.iter().zip(writes) {
        let (collection, rkey) = op
            .path
            .split_once('/')
            .ok_or_else(|| ServiceError::internal(format!("bad op path {}", op.path)))?;
        store::blobs::unlink_record(conn, did, &op.path)?;
        match (op.action, op.cid) {
            (Action::Delete, _) => repo_store::delete_record(conn, did, collection, rkey)?,
            (_, Some(cid)) => {
                repo_store::put_record(conn, did, collection, rkey, &cid, rev)?;
                for b in &w.blobs {
                    store::blobs::link_record(conn, did, &b.cid.to_string(), &op.path)?;
                }
            }
            (_, None) => return Err(ServiceError::internal("create/update op without a CID")),
        }
    }
    let dropped: Vec<&Cid> = outcome
        .removed_cids
        .iter()
        .filter(|c| !outcome.new_blocks.contains_key(c))
        .collect();
    repo_store::drop_blocks(conn, did, dropped)?;
    repo_store::set_head(conn, did, &outcome.head(), &outcome.commit.bytes)?;
    Ok(())
}

/// The blobs the records of `writes` reference, once each (a `#commit`'s `blobs`).
pub fn referenced_blobs(writes: &[PreparedWrite]) -> Vec<Cid> {
    let mut blobs: Vec<Cid> = Vec::new();
    for b in writes.iter().flat_map(|w| &w.blobs) {
        if !blobs.contains(&b.cid) {
            blobs.push(b.cid);
        }
    }
    blobs
}

/// Sequence the `#commit` event of an outcome (in the same transaction); `blobs` are the
/// blobs referenced by the records it creates or updates.
pub fn sequence_commit(
    state: &AppState,
    tx: &mut WriteTx<'_>,
    did: &str,
    outcome: &CommitOutcome,
    blobs: Vec<Cid>,
) -> Result<i64, ServiceError> {
    let blocks = pds::car::to_bytes(&outcome.commit.cid, outcome.firehose_blocks.iter())
        .map_err(ServiceError::internal)?;
    let ops = outcome
        .ops
        .iter()
        .map(|op| events::RepoOp {
            action: op.action.as_str().to_string(),
            path: op.path.clone(),
            cid: op.cid,
            prev: op.prev,
        })
        .collect();
    let event = events::CommitEvent {
        seq: 0,
        rebase: false,
        too_big: false,
        repo: did.to_string(),
        commit: outcome.commit.cid,
        rev: outcome.rev.to_string(),
        since: outcome.since.as_ref().map(|t| t.to_string()),
        blocks,
        ops,
        blobs,
        prev_data: outcome.prev_data,
        time: String::new(),
    };
    Ok(sequencer::append(
        tx,
        &state.firehose,
        sequencer::Pending::Commit(Box::new(event)),
    )?)
}

/// Resolve a repo identifier (DID or handle) to an account.
pub async fn find_account(
    state: &AppState,
    repo: &str,
) -> Result<accounts::AccountRow, ServiceError> {
    let ident = pds::syntax::AtIdentifier::new(repo)
        .map_err(|e| ServiceError::invalid(format!("Invalid repo: {e}")))?;
    let key = ident.as_str().to_string();
    let found = state
        .db
        .read(move |c| accounts::by_identifier(c, &key))
        .await?;
    found.ok_or_else(|| ServiceError::RepoNotFound(repo.to_string()))
}

/// Like [`find_account`], but refuses taken-down (and optionally deactivated) repos.
pub async fn find_readable(
    state: &AppState,
    repo: &str,
    allow_deactivated: bool,
) -> Result<accounts::AccountRow, ServiceError> {
    readable(find_account(state, repo).await?, allow_deactivated)
}

/// Refuse a taken-down (and unless allowed, a deactivated) account.
fn readable(
    a: accounts::AccountRow,
    allow_deactivated: bool,
) -> Result<accounts::AccountRow, ServiceError> {
    match a.status() {
        "takendown" => Err(ServiceError::RepoTakendown(a.did.clone())),
        "deactivated" if !allow_deactivated => Err(ServiceError::RepoDeactivated(a.did.clone())),
        _ => Ok(a),
    }
}

/// com.atproto.repo.getRecord's read in one trip to a reader connection: the readable
/// account named by `repo` (DID or handle), and its record's CID and value if present.
pub async fn read_record(
    state: &AppState,
    repo: &str,
    collection: &str,
    rkey: &str,
) -> Result<(accounts::AccountRow, Option<(Cid, Value)>), ServiceError> {
    let ident = pds::syntax::AtIdentifier::new(repo)
        .map_err(|e| ServiceError::invalid(format!("Invalid repo: {e}")))?;
    let (key, repo, c, k) = (
        ident.as_str().to_string(),
        repo.to_string(),
        collection.to_string(),
        rkey.to_string(),
    );
    state
        .db
        .read(move |conn| -> Result<_, ServiceError> {
            let account = accounts::by_identifier(conn, &key)?
                .ok_or_else(|| ServiceError::RepoNotFound(repo.clone()))?;
            let account = readable(account, false)?;
            let record = match repo_store::get_record(conn, &account.did, &c, &k)? {
                None => None,
                Some((cid, bytes)) => Some((cid, pds::data::cbor::decode_value(&bytes)?)),
            };
            Ok((account, record))
        })
        .await
}

/// The head of a repo.
pub async fn head(state: &AppState, did: &str) -> Result<pds::repo::RepoHead, ServiceError> {
    let d = did.to_string();
    state
        .db
        .read(move |c| repo_store::head(c, &d))
        .await?
        .ok_or_else(|| ServiceError::RepoNotFound(did.to_string()))
}

/// Create the empty repo of a new account inside the account-creation transaction, and
/// return its outcome (for the creation events).
pub fn create_empty_repo(
    state: &AppState,
    tx: &mut WriteTx<'_>,
    did: &Did,
    key: &Keypair,
) -> Result<CommitOutcome, ServiceError> {
    let rev = state.tids.next();
    let outcome = pds::repo::create_repo(
        &repo_store::SqlBlocks {
            conn: tx.conn(),
            did: did.as_str(),
        },
        did,
        &[],
        key,
        &rev,
    )?;
    persist(tx, did.as_str(), &outcome, &[])?;
    Ok(outcome)
}

/// `#sync` event of the current head (account creation, import, recovery).
pub fn sequence_sync(
    state: &AppState,
    tx: &mut WriteTx<'_>,
    did: &str,
    commit: &Cid,
    commit_bytes: &[u8],
    rev: &str,
) -> Result<i64, DbError> {
    let blocks = pds::car::to_bytes(commit, [(commit, &commit_bytes.to_vec())])
        .map_err(|e| DbError::Task(e.to_string()))?;
    sequencer::append(
        tx,
        &state.firehose,
        sequencer::Pending::Sync {
            did: did.to_string(),
            blocks,
            rev: rev.to_string(),
        },
    )
}

/// Keys that may have signed a repo of `did`: its current `#atproto` key and every
/// `#atproto` key its PLC log ever listed (a repo exported from a previous host is signed
/// with that host's key), plus this server's key for the account.
async fn signing_keys_of(
    state: &AppState,
    account: &accounts::AccountRow,
) -> Vec<pds::crypto::PublicKey> {
    let mut keys = Vec::new();
    if let Ok(k) = state
        .kek
        .open_keypair(&signing_key_label(&account.did), &account.signing_key)
    {
        keys.push(k.public());
    }
    if let Ok(doc) = super::identity::parsed_document(state, &account.did).await
        && let Ok(k) = doc.atproto_signing_key()
    {
        keys.push(k);
    }
    if account.did.starts_with("did:plc:")
        && let Ok(log) = super::identity::audit_log(state, &account.did).await
    {
        for entry in log {
            if let Some(data) = entry.operation.op.normalized()
                && let Some(k) = data.verification_methods.get("atproto")
                && let Ok(k) = pds::crypto::PublicKey::from_did_key(k)
            {
                keys.push(k);
            }
        }
    }
    keys.dedup_by(|a, b| a == b);
    keys
}

/// Replace `did`'s repo with the one in `car`, after verifying it completely (every
/// block, the MST, the records, and a signature by a key the DID has had). The records
/// are re-committed under this server's signing key; relays hear `#sync`.
pub async fn import_car(
    state: &AppState,
    did: &str,
    car: Vec<u8>,
) -> Result<Committed, ServiceError> {
    let account = find_account(state, did).await?;
    if account.takedown_ref.is_some() {
        return Err(ServiceError::RepoTakendown(account.did.clone()));
    }
    let limits = pds::car::CarLimits {
        max_total_bytes: state.config.limits.import_bytes as u64,
        ..Default::default()
    };
    let file = pds::car::read_all(std::io::Cursor::new(&car), limits)
        .map_err(|e| ServiceError::invalid(format!("Invalid CAR: {e}")))?;
    let keys = signing_keys_of(state, &account).await;
    let mut verified = None;
    let mut last_err = String::from("no signing key is known for this DID");
    for key in &keys {
        let mut opts = pds::repo::VerifyOptions::new(key);
        opts.did = Some(&account.did);
        opts.limits = limits;
        opts.allow_stray_blocks = true;
        match pds::repo::verify_car_file(&file, &opts) {
            Ok(v) => {
                verified = Some(v);
                break;
            }
            Err(e) => last_err = e.to_string(),
        }
    }
    let verified = verified
        .ok_or_else(|| ServiceError::invalid(format!("Repo does not verify: {last_err}")))?;
    // Records and their blobs, from the verified CAR.
    let mut records: Vec<(String, Cid, Vec<u8>, Vec<BlobRef>)> =
        Vec::with_capacity(verified.records.len());
    for (path, cid) in &verified.records {
        let bytes = file
            .blocks
            .get(cid)
            .ok_or_else(|| ServiceError::invalid(format!("record block {cid} missing")))?;
        let value = pds::data::cbor::decode_value(bytes)?;
        records.push((
            path.clone(),
            *cid,
            bytes.clone(),
            pds::data::blob_refs(&value),
        ));
    }
    let st = state.clone();
    let did_typed = Did::new(&account.did)?;
    let imported_rev = verified.commit.rev.clone();
    state
        .db
        .write(move |tx| -> Result<Committed, ServiceError> {
            let conn = tx.conn();
            let account = accounts::by_did(conn, did_typed.as_str())?
                .ok_or_else(|| ServiceError::RepoNotFound(did_typed.to_string()))?;
            // An import is a relay-built commit too: not while the repo host is offline.
            super::device::require_relay_writable(&st, conn, did_typed.as_str())?;
            let key = signing_key(&st, tx, &account)?;
            let old = repo_store::head(conn, did_typed.as_str())?;
            let floor = match &old {
                Some(h) if h.rev > imported_rev => h.rev.clone(),
                _ => imported_rev.clone(),
            };
            let rev = st.tids.next_after(&floor);
            let d = did_typed.as_str();
            conn.execute("DELETE FROM repo_block WHERE did = ?1", [d])
                .map_err(DbError::from)?;
            conn.execute("DELETE FROM record WHERE did = ?1", [d])
                .map_err(DbError::from)?;
            conn.execute("DELETE FROM record_blob WHERE did = ?1", [d])
                .map_err(DbError::from)?;
            let rebuilt = pds::repo::rebuild_repo(
                &repo_store::SqlBlocks { conn, did: d },
                &did_typed,
                records.iter().map(|(p, c, _, _)| (p.clone(), *c)),
                &key,
                &rev,
            )?;
            repo_store::put_commit_blocks(
                conn,
                d,
                rev.as_str(),
                &rebuilt.commit.cid,
                &rebuilt.blocks,
            )?;
            for (path, cid, bytes, blobs) in &records {
                repo_store::put_blocks(conn, d, rev.as_str(), [(cid, bytes)])?;
                let (collection, rkey) = path
                    .split_once('/')
                    .ok_or_else(|| ServiceError::invalid(format!("bad record path {path}")))?;
                repo_store::put_record(conn, d, collection, rkey, cid, rev.as_str())?;
                for b in blobs {
                    store::blobs::link_record(conn, d, &b.cid.to_string(), path)?;
                }
            }
            let head = pds::repo::RepoHead {
                commit: rebuilt.commit.cid,
                rev: rev.clone(),
                data: rebuilt.data,
            };
            repo_store::set_head(conn, d, &head, &rebuilt.commit.bytes)?;
            sequence_sync(
                &st,
                tx,
                d,
                &rebuilt.commit.cid,
                &rebuilt.commit.bytes,
                rev.as_str(),
            )?;
            Ok(Committed {
                commit: rebuilt.commit.cid,
                rev,
                data: head.data,
                results: vec![],
            })
        })
        .await
}
