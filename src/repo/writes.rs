//! Write batches: one call turns a list of record writes into one signed commit.
//!
//! [`apply_writes`] checks the batch against the current head (swapCommit, per-write
//! swapRecord, existence), applies it to the MST touching only the changed paths,
//! diffs old and new roots, signs the commit and returns a [`CommitOutcome`] with
//! everything the daemon needs: the new head, every new block, the ops, the blocks a
//! `#commit` firehose event must carry, and the blocks no longer referenced.
//! [`create_repo`] makes the first commit of a new repository, [`rebuild_repo`] signs a
//! fresh commit over an MST rebuilt from `(key, CID)` pairs (import). Nothing here
//! writes to a store: the caller persists `new_blocks` and drops `removed_cids`.

use super::commit::{CommitError, SignedCommit, UnsignedCommit};
use super::mst::{BlockMap, Mst, MstError, validate_key};
use crate::crypto::Keypair;
use crate::data::{Value, record_cid};
use crate::store::{BlockSource, StoreError};
use crate::syntax::{Did, Tid};
use cid::Cid;
use std::collections::{BTreeSet, HashSet};
use thiserror::Error;

/// The current state of a repository, as the daemon keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoHead {
    /// CID of the latest signed commit.
    pub commit: Cid,
    /// Its rev.
    pub rev: Tid,
    /// Its MST root (`data`).
    pub data: Cid,
}

/// One record write.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Create a record; fails with [`WriteError::RecordAlreadyExists`] if the key is taken.
    Create {
        collection: String,
        rkey: String,
        record: Value,
    },
    /// Replace an existing record; `swap_record` must equal its current CID if given.
    Update {
        collection: String,
        rkey: String,
        record: Value,
        swap_record: Option<Cid>,
    },
    /// Create or replace (`putRecord`). With `swap_record`, the record must exist with
    /// that CID. (For "must not exist", send [`Write::Create`].)
    Put {
        collection: String,
        rkey: String,
        record: Value,
        swap_record: Option<Cid>,
    },
    /// Delete an existing record; `swap_record` must equal its current CID if given.
    Delete {
        collection: String,
        rkey: String,
        swap_record: Option<Cid>,
    },
}

impl Write {
    /// `collection/rkey`.
    pub fn path(&self) -> String {
        let (c, r) = match self {
            Write::Create {
                collection, rkey, ..
            }
            | Write::Update {
                collection, rkey, ..
            }
            | Write::Put {
                collection, rkey, ..
            }
            | Write::Delete {
                collection, rkey, ..
            } => (collection, rkey),
        };
        format!("{c}/{r}")
    }
}

/// What an op did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// A new record.
    Create,
    /// A replaced record.
    Update,
    /// A removed record.
    Delete,
}

impl Action {
    /// The name used in `#commit` ops.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

/// One applied write, as a `#commit` event lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoOp {
    /// What happened.
    pub action: Action,
    /// `collection/rkey`.
    pub path: String,
    /// The new record CID (none for deletes).
    pub cid: Option<Cid>,
    /// The previous record CID (updates and deletes).
    pub prev: Option<Cid>,
}

/// Everything a write batch produced.
#[derive(Debug, Clone)]
pub struct CommitOutcome {
    /// The signed commit (CID, bytes, decoded form).
    pub commit: SignedCommit,
    /// This commit's rev.
    pub rev: Tid,
    /// The previous commit's rev (`None` for the first commit).
    pub since: Option<Tid>,
    /// The previous MST root (`None` for the first commit).
    pub prev_data: Option<Cid>,
    /// The new MST root.
    pub data: Cid,
    /// Every block this commit adds: the commit, new MST nodes, written records.
    pub new_blocks: BlockMap,
    /// The ops, in write order.
    pub ops: Vec<RepoOp>,
    /// What a `#commit` event carries: the commit, new records, new MST nodes, and the
    /// covering proof of every op over the new tree (so consumers can invert the ops
    /// back to `prev_data`).
    pub firehose_blocks: BlockMap,
    /// Blocks the new head no longer references: the previous commit, replaced MST
    /// nodes (exact), and record CIDs that deleted or replaced keys held and no written
    /// key holds now. A record CID may still be held by an unchanged key with
    /// byte-identical content, so a store sharing blocks between keys must check its
    /// record index before dropping record blocks.
    pub removed_cids: BTreeSet<Cid>,
}

impl CommitOutcome {
    /// The head after this commit.
    pub fn head(&self) -> RepoHead {
        RepoHead {
            commit: self.commit.cid,
            rev: self.rev.clone(),
            data: self.data,
        }
    }
}

/// A fresh commit over a rebuilt tree.
#[derive(Debug, Clone)]
pub struct RebuiltRepo {
    /// The signed commit.
    pub commit: SignedCommit,
    /// The MST root.
    pub data: Cid,
    /// The commit block and every MST node (records are not included).
    pub blocks: BlockMap,
}

/// Why a write batch was refused. Nothing was changed.
#[derive(Debug, Error)]
pub enum WriteError {
    /// `swapCommit` is not the current head.
    #[error("swapCommit {expected} is not the current commit {actual}")]
    InvalidSwapCommit {
        expected: Box<Cid>,
        actual: Box<Cid>,
    },
    /// `swapRecord` is not the record's current CID (`actual` is `None` when the
    /// record does not exist).
    #[error("swapRecord for {path}: expected {expected}, found {}", actual.as_ref().map_or_else(|| "no record".to_string(), |c| c.to_string()))]
    InvalidSwap {
        path: String,
        expected: Box<Cid>,
        actual: Option<Box<Cid>>,
    },
    /// Create of a key that exists.
    #[error("record {0} already exists")]
    RecordAlreadyExists(String),
    /// Update or delete of a key that does not exist.
    #[error("record {0} not found")]
    RecordNotFound(String),
    /// Two writes to one path in one batch.
    #[error("more than one write to {0} in one batch")]
    DuplicatePath(String),
    /// Not a valid `collection/rkey`.
    #[error("invalid record path: {0}")]
    InvalidPath(String),
    /// A record that is not a data-model map with a `$type`.
    #[error("invalid record at {path}: {reason}")]
    InvalidRecord { path: String, reason: String },
    /// The new rev does not sort after the current one.
    #[error("rev {rev} does not come after the current rev {current}")]
    RevNotIncreasing { rev: Tid, current: Tid },
    /// A write kind a first commit cannot contain (update or delete).
    #[error("a new repository can only be created with create or put writes")]
    NotACreate,
    /// The commit could not be built or signed.
    #[error(transparent)]
    Commit(#[from] CommitError),
    /// The tree is unreadable.
    #[error(transparent)]
    Mst(MstError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<MstError> for WriteError {
    fn from(e: MstError) -> Self {
        match e {
            MstError::InvalidKey(k) => WriteError::InvalidPath(k),
            MstError::KeyExists(k) => WriteError::RecordAlreadyExists(k),
            MstError::KeyNotFound(k) => WriteError::RecordNotFound(k),
            MstError::Store(s) => WriteError::Store(s),
            other => WriteError::Mst(other),
        }
    }
}

/// The DAG-CBOR block of a record: a data-model map with a non-empty `$type`, in
/// canonical encoding (see [`crate::data::record_cid`]).
pub fn record_block(path: &str, record: &Value) -> Result<(Cid, Vec<u8>), WriteError> {
    record_cid(record).map_err(|e| WriteError::InvalidRecord {
        path: path.to_string(),
        reason: e.to_string(),
    })
}

/// Apply one batch of writes on top of `head` and sign the result.
///
/// `rev` must be a TID after `head.rev`; `swap_commit`, if given, must be
/// `head.commit`. The batch is all-or-nothing: on error nothing is returned to store.
pub fn apply_writes<S: BlockSource>(
    store: &S,
    head: &RepoHead,
    did: &Did,
    writes: &[Write],
    swap_commit: Option<Cid>,
    signer: &Keypair,
    rev: &Tid,
) -> Result<CommitOutcome, WriteError> {
    if let Some(expected) = swap_commit
        && expected != head.commit
    {
        return Err(WriteError::InvalidSwapCommit {
            expected: Box::new(expected),
            actual: Box::new(head.commit),
        });
    }
    if *rev <= head.rev {
        return Err(WriteError::RevNotIncreasing {
            rev: rev.clone(),
            current: head.rev.clone(),
        });
    }
    let mut mst = Mst::load(store, head.data);
    let (ops, records) = apply_to_tree(&mut mst, writes)?;
    let mut out = finish(&mst, Some(head), did, ops, records, signer, rev)?;
    out.removed_cids.insert(head.commit);
    Ok(out)
}

/// The first commit of a new repository: an empty tree plus `writes` (creates or puts).
pub fn create_repo<S: BlockSource>(
    store: &S,
    did: &Did,
    writes: &[Write],
    signer: &Keypair,
    rev: &Tid,
) -> Result<CommitOutcome, WriteError> {
    if writes
        .iter()
        .any(|w| matches!(w, Write::Update { .. } | Write::Delete { .. }))
    {
        return Err(WriteError::NotACreate);
    }
    let mut mst = Mst::empty(store);
    let (ops, records) = apply_to_tree(&mut mst, writes)?;
    finish(&mst, None, did, ops, records, signer, rev)
}

/// Sign a fresh commit over the MST built from `entries` (`collection/rkey` -> record
/// CID), e.g. after importing a repository. Record blocks are not touched.
pub fn rebuild_repo<S, I>(
    store: &S,
    did: &Did,
    entries: I,
    signer: &Keypair,
    rev: &Tid,
) -> Result<RebuiltRepo, WriteError>
where
    S: BlockSource,
    I: IntoIterator<Item = (String, Cid)>,
{
    let mst = Mst::build(store, entries)?;
    let data = mst.root();
    let commit = UnsignedCommit::new(did.clone(), data, rev.clone(), None).sign(signer)?;
    let mut blocks = mst.unstored_blocks();
    blocks.insert(commit.cid, commit.bytes.clone());
    Ok(RebuiltRepo {
        commit,
        data,
        blocks,
    })
}

type Records = Vec<(Cid, Vec<u8>)>;

fn apply_to_tree<S: BlockSource>(
    mst: &mut Mst<S>,
    writes: &[Write],
) -> Result<(Vec<RepoOp>, Records), WriteError> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut ops = Vec::with_capacity(writes.len());
    let mut records: Records = Vec::new();
    for w in writes {
        let path = w.path();
        validate_key(&path)?;
        if !seen.insert(path.clone()) {
            return Err(WriteError::DuplicatePath(path));
        }
        let current = mst.get(&path)?;
        let check_swap = |swap: &Option<Cid>| match swap {
            Some(expected) if Some(*expected) != current => Err(WriteError::InvalidSwap {
                path: path.clone(),
                expected: Box::new(*expected),
                actual: current.map(Box::new),
            }),
            _ => Ok(()),
        };
        let op = match w {
            Write::Create { record, .. } => {
                if current.is_some() {
                    return Err(WriteError::RecordAlreadyExists(path));
                }
                let (cid, bytes) = record_block(&path, record)?;
                mst.add(&path, cid)?;
                records.push((cid, bytes));
                RepoOp {
                    action: Action::Create,
                    path,
                    cid: Some(cid),
                    prev: None,
                }
            }
            Write::Update {
                record,
                swap_record,
                ..
            }
            | Write::Put {
                record,
                swap_record,
                ..
            } => {
                check_swap(swap_record)?;
                let (cid, bytes) = record_block(&path, record)?;
                records.push((cid, bytes));
                match current {
                    Some(prev) => {
                        mst.update(&path, cid)?;
                        RepoOp {
                            action: Action::Update,
                            path,
                            cid: Some(cid),
                            prev: Some(prev),
                        }
                    }
                    None if matches!(w, Write::Put { .. }) => {
                        mst.add(&path, cid)?;
                        RepoOp {
                            action: Action::Create,
                            path,
                            cid: Some(cid),
                            prev: None,
                        }
                    }
                    None => return Err(WriteError::RecordNotFound(path)),
                }
            }
            Write::Delete { swap_record, .. } => {
                check_swap(swap_record)?;
                let Some(prev) = current else {
                    return Err(WriteError::RecordNotFound(path));
                };
                mst.delete(&path)?;
                RepoOp {
                    action: Action::Delete,
                    path,
                    cid: None,
                    prev: Some(prev),
                }
            }
        };
        ops.push(op);
    }
    Ok((ops, records))
}

fn finish<S: BlockSource>(
    mst: &Mst<S>,
    head: Option<&RepoHead>,
    did: &Did,
    ops: Vec<RepoOp>,
    records: Records,
    signer: &Keypair,
    rev: &Tid,
) -> Result<CommitOutcome, WriteError> {
    let data = mst.root();
    let diff = mst.diff(head.map(|h| h.data), data)?;
    let commit = UnsignedCommit::new(did.clone(), data, rev.clone(), None).sign(signer)?;

    let mut new_blocks = BlockMap::new();
    new_blocks.insert(commit.cid, commit.bytes.clone());
    new_blocks.extend(diff.new_nodes.iter().map(|(c, b)| (*c, b.clone())));
    let live: BTreeSet<Cid> = ops.iter().filter_map(|o| o.cid).collect();
    for (cid, bytes) in records {
        if live.contains(&cid) {
            new_blocks.insert(cid, bytes);
        }
    }

    let mut firehose_blocks = new_blocks.clone();
    for op in &ops {
        mst.add_covering_proof(&op.path, &mut firehose_blocks)?;
    }

    let mut removed_cids: BTreeSet<Cid> = diff.removed_nodes.clone();
    removed_cids.extend(diff.removed_leaf_cids());
    Ok(CommitOutcome {
        commit,
        rev: rev.clone(),
        since: head.map(|h| h.rev.clone()),
        prev_data: head.map(|h| h.data),
        data,
        new_blocks,
        ops,
        firehose_blocks,
        removed_cids,
    })
}
