//! Whole-repository verification of a CAR (`com.atproto.sync.getRepo` output).
//!
//! Checks, in order: every block hashes to its CID (the CAR reader does this); the
//! header has exactly one root and it is a strict v3 commit for the expected DID; the
//! commit signature verifies with the given key; the MST walked from `data` decodes
//! node by node in canonical form, keys are valid and strictly increasing across the
//! whole tree, each key sits in a node of its own layer, children sit one layer
//! below, no node but an empty root is empty, and the root is not an entry-less
//! wrapper; the tree rebuilt from its leaves has the same root; every record block
//! is present and is a DAG-CBOR map with a string `$type`; and no block is left over
//! (stray blocks are an error unless allowed). It reads only the CAR it is given.

use super::commit::{Commit, CommitError};
use super::mst::{Mst, MstError, NodeData, key_height, validate_key};
use crate::car::{CarError, CarFile, CarLimits, read_all};
use crate::crypto::PublicKey;
use crate::data::cbor;
use crate::data::json::check_record_shape;
use cid::Cid;
use std::collections::HashSet;
use std::io::Read;
use thiserror::Error;

/// What to check a repository against.
#[derive(Debug, Clone)]
pub struct VerifyOptions<'a> {
    /// The DID the commit must name, if known.
    pub did: Option<&'a str>,
    /// The account's signing key.
    pub key: &'a PublicKey,
    /// Size limits for reading the CAR.
    pub limits: CarLimits,
    /// Accept blocks nothing reaches (they are still reported).
    pub allow_stray_blocks: bool,
}

impl<'a> VerifyOptions<'a> {
    /// Strict checking against `key`, any DID, default limits.
    pub fn new(key: &'a PublicKey) -> Self {
        VerifyOptions {
            did: None,
            key,
            limits: CarLimits::default(),
            allow_stray_blocks: false,
        }
    }
}

/// A repository that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedRepo {
    /// The commit's CID (the CAR's root).
    pub commit_cid: Cid,
    /// The decoded commit.
    pub commit: Commit,
    /// Every record: `(collection/rkey, CID)` in key order.
    pub records: Vec<(String, Cid)>,
    /// How many MST nodes the tree has.
    pub node_count: usize,
    /// How many distinct blocks the CAR held.
    pub block_count: usize,
    /// Blocks nothing reaches (empty unless allowed).
    pub stray_blocks: Vec<Cid>,
}

/// Why a repository failed verification.
#[derive(Debug, Error)]
pub enum VerifyError {
    /// The CAR itself is unreadable, or a block does not match its CID.
    #[error(transparent)]
    Car(#[from] CarError),
    /// The header does not have exactly one root.
    #[error("a repository CAR has exactly one root; this one has {0}")]
    Roots(usize),
    /// A block the repository needs is not in the CAR.
    #[error("{what} block {cid} is missing from the CAR")]
    MissingBlock { what: &'static str, cid: Cid },
    /// The root block is not a valid v3 commit.
    #[error("commit: {0}")]
    Commit(CommitError),
    /// The commit names another DID.
    #[error("commit is for {found}, expected {expected}")]
    DidMismatch { expected: String, found: String },
    /// The signature does not verify with the key.
    #[error("commit signature does not verify with the given key: {0}")]
    Signature(CommitError),
    /// The MST is malformed.
    #[error("MST node {cid}: {reason}")]
    Mst { cid: Cid, reason: String },
    /// The tree rebuilt from the leaves has another root.
    #[error("MST rebuilt from its leaves has root {rebuilt}, the commit says {data}")]
    Rebuild { data: Box<Cid>, rebuilt: Box<Cid> },
    /// A record block is not a data-model map with `$type`.
    #[error("record {key} ({cid}): {reason}")]
    Record {
        key: String,
        cid: Box<Cid>,
        reason: String,
    },
    /// Blocks nothing reaches.
    #[error("{count} stray block(s) not reachable from the commit, first {first}")]
    StrayBlocks { count: usize, first: Cid },
}

/// Read a CAR from `input` and verify it as a whole repository.
pub fn verify_car<R: Read>(
    input: R,
    opts: &VerifyOptions<'_>,
) -> Result<VerifiedRepo, VerifyError> {
    let car = read_all(input, opts.limits)?;
    verify_car_file(&car, opts)
}

/// Verify a CAR already read (and block-checked) with [`read_all`].
pub fn verify_car_file(
    car: &CarFile,
    opts: &VerifyOptions<'_>,
) -> Result<VerifiedRepo, VerifyError> {
    let [root] = car.roots.as_slice() else {
        return Err(VerifyError::Roots(car.roots.len()));
    };
    let bytes = car.blocks.get(root).ok_or(VerifyError::MissingBlock {
        what: "commit",
        cid: *root,
    })?;
    let commit = Commit::decode(bytes).map_err(VerifyError::Commit)?;
    if let Some(did) = opts.did
        && did != commit.did.as_str()
    {
        return Err(VerifyError::DidMismatch {
            expected: did.to_string(),
            found: commit.did.to_string(),
        });
    }
    commit.verify(opts.key).map_err(VerifyError::Signature)?;

    let mut walk = Walk {
        car,
        reached: HashSet::new(),
        records: Vec::new(),
        node_count: 0,
    };
    walk.reached.insert(*root);
    walk.root(commit.data)?;

    for (key, cid) in &walk.records {
        let bad = |reason: String| VerifyError::Record {
            key: key.clone(),
            cid: Box::new(*cid),
            reason,
        };
        let bytes = car.blocks.get(cid).ok_or(VerifyError::MissingBlock {
            what: "record",
            cid: *cid,
        })?;
        if cid.codec() != crate::data::cid::DAG_CBOR {
            return Err(bad("not a dag-cbor block".into()));
        }
        let value = cbor::decode_value(bytes).map_err(|e| bad(e.to_string()))?;
        check_record_shape(&value).map_err(|e| bad(e.to_string()))?;
        walk.reached.insert(*cid);
    }

    // The strongest structural check: the canonical tree for these leaves.
    let rebuilt = Mst::build(car, walk.records.iter().cloned())
        .map_err(|e| VerifyError::Mst {
            cid: commit.data,
            reason: format!("rebuild: {e}"),
        })?
        .root();
    if rebuilt != commit.data {
        return Err(VerifyError::Rebuild {
            data: Box::new(commit.data),
            rebuilt: Box::new(rebuilt),
        });
    }

    let mut stray: Vec<Cid> = car
        .blocks
        .keys()
        .filter(|c| !walk.reached.contains(c))
        .copied()
        .collect();
    stray.sort();
    if let Some(first) = stray.first()
        && !opts.allow_stray_blocks
    {
        return Err(VerifyError::StrayBlocks {
            count: stray.len(),
            first: *first,
        });
    }
    Ok(VerifiedRepo {
        commit_cid: *root,
        commit,
        records: walk.records,
        node_count: walk.node_count,
        block_count: car.blocks.len(),
        stray_blocks: stray,
    })
}

struct Walk<'a> {
    car: &'a CarFile,
    reached: HashSet<Cid>,
    records: Vec<(String, Cid)>,
    node_count: usize,
}

impl Walk<'_> {
    fn load(&mut self, cid: Cid) -> Result<NodeData, VerifyError> {
        let bytes = self.car.blocks.get(&cid).ok_or(VerifyError::MissingBlock {
            what: "MST node",
            cid,
        })?;
        if cid.codec() != crate::data::cid::DAG_CBOR {
            return Err(VerifyError::Mst {
                cid,
                reason: "not a dag-cbor block".into(),
            });
        }
        let node = NodeData::decode(bytes).map_err(|e| VerifyError::Mst {
            cid,
            reason: e.to_string(),
        })?;
        if !self.reached.insert(cid) {
            return Err(VerifyError::Mst {
                cid,
                reason: "node reached twice".into(),
            });
        }
        self.node_count += 1;
        Ok(node)
    }

    fn root(&mut self, cid: Cid) -> Result<(), VerifyError> {
        let node = self.load(cid)?;
        let Some(first) = node.entries.first() else {
            if node.left.is_some() {
                return Err(VerifyError::Mst {
                    cid,
                    reason: "root has no entries, only a subtree (the top was not trimmed)".into(),
                });
            }
            return Ok(());
        };
        let layer = key_height(first.key.as_bytes());
        self.node(cid, node, layer)
    }

    fn node(&mut self, cid: Cid, node: NodeData, layer: u8) -> Result<(), VerifyError> {
        let bad = |reason: String| VerifyError::Mst { cid, reason };
        if node.is_empty() {
            return Err(bad("empty node below the root".into()));
        }
        let child_layer = |c: Option<Cid>| -> Result<Option<(Cid, u8)>, VerifyError> {
            match c {
                None => Ok(None),
                Some(c) => match layer.checked_sub(1) {
                    Some(l) => Ok(Some((c, l))),
                    None => Err(VerifyError::Mst {
                        cid,
                        reason: "a layer-0 node has a subtree".into(),
                    }),
                },
            }
        };
        if let Some((c, l)) = child_layer(node.left)? {
            let child = self.load(c)?;
            self.node(c, child, l)?;
        }
        for e in node.entries {
            validate_key(&e.key).map_err(|err: MstError| bad(err.to_string()))?;
            let h = key_height(e.key.as_bytes());
            if h != layer {
                return Err(bad(format!(
                    "key {:?} has layer {h} but sits in a layer-{layer} node",
                    e.key
                )));
            }
            if let Some((last, _)) = self.records.last()
                && e.key.as_str() <= last.as_str()
            {
                return Err(bad(format!("key {:?} does not sort after {last:?}", e.key)));
            }
            self.records.push((e.key, e.value));
            if let Some((c, l)) = child_layer(e.right)? {
                let child = self.load(c)?;
                self.node(c, child, l)?;
            }
        }
        Ok(())
    }
}

/// A record proven present: its CID and block bytes.
pub type ProvenRecord = (Cid, Vec<u8>);

/// Check a record proof CAR (`com.atproto.sync.getRecord` output): one root, a v3
/// commit signed by `key`, and MST nodes from its `data` down to where `key` is or
/// would be. Returns the record's CID and block bytes when it is present (the block
/// must then be in the CAR), `None` when the proof shows it is absent.
pub fn verify_record_proof<R: Read>(
    input: R,
    key: &PublicKey,
    record_key: &str,
) -> Result<(Commit, Option<ProvenRecord>), VerifyError> {
    let car = read_all(input, CarLimits::default())?;
    let [root] = car.roots.as_slice() else {
        return Err(VerifyError::Roots(car.roots.len()));
    };
    let bytes = car.blocks.get(root).ok_or(VerifyError::MissingBlock {
        what: "commit",
        cid: *root,
    })?;
    let commit = Commit::decode(bytes).map_err(VerifyError::Commit)?;
    commit.verify(key).map_err(VerifyError::Signature)?;
    let mst = Mst::load(&car, commit.data);
    let found = mst.get(record_key).map_err(|e| match e {
        MstError::Store(crate::store::StoreError::MissingBlock(cid)) => VerifyError::MissingBlock {
            what: "MST node",
            cid,
        },
        other => VerifyError::Mst {
            cid: commit.data,
            reason: other.to_string(),
        },
    })?;
    let record = match found {
        None => None,
        Some(cid) => {
            let b = car.blocks.get(&cid).ok_or(VerifyError::MissingBlock {
                what: "record",
                cid,
            })?;
            Some((cid, b.clone()))
        }
    };
    Ok((commit, record))
}
