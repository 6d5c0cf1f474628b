//! The Merkle Search Tree that maps `collection/rkey` keys to record CIDs.
//!
//! - [`node`]: key layers, prefix compression and the exact node encoding
//! - [`tree`]: [`Mst`], the lazily loaded persistent tree (changes, listing, bulk build)
//! - [`diff`]: [`MstDiff`] between two roots, reading only the changed paths
//! - [`proof`]: inclusion/exclusion and covering proofs
//!
//! Nothing here writes to a store: new blocks are returned as a [`BlockMap`].

pub mod diff;
pub mod node;
pub mod proof;
pub mod tree;

pub use diff::MstDiff;
pub use node::{EntryData, MAX_KEY_LEN, NodeData, common_prefix_len, key_height, validate_key};
pub use tree::{Direction, Mst, empty_root};

use crate::store::StoreError;
use cid::Cid;
use thiserror::Error;

/// Blocks by CID, in CID order.
pub type BlockMap = std::collections::BTreeMap<Cid, Vec<u8>>;

/// Why an MST operation failed.
#[derive(Debug, Error)]
pub enum MstError {
    /// A key that is not a valid `collection/rkey` MST key.
    #[error("invalid MST key {0}")]
    InvalidKey(String),
    /// `add` of a key that is already present.
    #[error("key {0} already exists")]
    KeyExists(String),
    /// `update` or `delete` of a key that is not present.
    #[error("key {0} not found")]
    KeyNotFound(String),
    /// Node bytes that are not an MST node.
    #[error("invalid MST node: {0}")]
    Decode(String),
    /// A node that decodes but is not in canonical form.
    #[error("non-canonical MST node: {0}")]
    NonCanonical(String),
    /// A tree whose structure is impossible (a subtree below layer 0, a bad hash).
    #[error("corrupt MST: {0}")]
    Corrupt(String),
    /// The store failed or lacks a node.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl MstError {
    /// Name the node a decoding error came from.
    pub(crate) fn at(self, cid: &Cid) -> MstError {
        match self {
            MstError::Decode(m) => MstError::Decode(format!("{cid}: {m}")),
            MstError::NonCanonical(m) => MstError::NonCanonical(format!("{cid}: {m}")),
            other => other,
        }
    }
}
