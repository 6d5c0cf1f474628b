//! Proof blocks: which MST nodes let someone without the repository check a key.
//!
//! - [`Mst::path_proof`]: the nodes from the root down to where `key` is or would be.
//!   With the commit, these prove a record's presence (and its CID) or its absence
//!   (`com.atproto.sync.getRecord`).
//! - [`Mst::covering_proof`]: the path plus, when the key is present, the rightmost
//!   spine of the subtree just left of it and the leftmost spine of the subtree just
//!   right of it. Those are the nodes a consumer needs to delete the key again, i.e.
//!   to invert a create; for an absent key the path is what re-inserting it needs.
//!   A `#commit` event carries the covering proofs of all its ops over the new tree
//!   (sync v1.1 "inductive firehose"), exactly as the interop fixtures define.
//!
//! This file only reads the tree.

use super::tree::Mst;
use super::{BlockMap, MstError};
use crate::store::BlockSource;
use cid::Cid;

impl<S: BlockSource> Mst<S> {
    /// The nodes on the search path for `key`, with the value found there (if any).
    pub fn path_proof(&self, key: &str) -> Result<(Option<Cid>, BlockMap), MstError> {
        let mut blocks = BlockMap::new();
        let mut cid = self.root();
        loop {
            let node = self.node(&cid)?;
            blocks.insert(cid, self.node_bytes(&cid)?);
            let i = node.lower_bound(key);
            if let Some(e) = node.entries.get(i)
                && e.key == key
            {
                return Ok((Some(e.value), blocks));
            }
            match node.slot(i) {
                Some(c) => cid = c,
                None => return Ok((None, blocks)),
            }
        }
    }

    /// The path for `key` plus the neighbouring spines needed to remove it again.
    pub fn covering_proof(&self, key: &str) -> Result<BlockMap, MstError> {
        let mut blocks = BlockMap::new();
        self.add_covering_proof(key, &mut blocks)?;
        Ok(blocks)
    }

    /// Add [`covering_proof`](Self::covering_proof) of `key` to `blocks`.
    pub fn add_covering_proof(&self, key: &str, blocks: &mut BlockMap) -> Result<(), MstError> {
        let mut cid = self.root();
        loop {
            let node = self.node(&cid)?;
            blocks.insert(cid, self.node_bytes(&cid)?);
            let i = node.lower_bound(key);
            if let Some(e) = node.entries.get(i)
                && e.key == key
            {
                // Rightmost spine of the left neighbour subtree.
                let mut next = node.slot(i);
                while let Some(c) = next {
                    let n = self.node(&c)?;
                    blocks.insert(c, self.node_bytes(&c)?);
                    next = n.slot(n.entries.len());
                }
                // Leftmost spine of the right neighbour subtree.
                let mut next = e.right;
                while let Some(c) = next {
                    let n = self.node(&c)?;
                    blocks.insert(c, self.node_bytes(&c)?);
                    next = n.left;
                }
                return Ok(());
            }
            match node.slot(i) {
                Some(c) => cid = c,
                None => return Ok(()),
            }
        }
    }
}
