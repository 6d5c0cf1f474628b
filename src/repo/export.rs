//! A repository as a CAR v1 stream (`com.atproto.sync.getRepo`).
//!
//! Block order follows the reference PDS: the signed commit first, then the MST nodes
//! in pre-order (a node, its left subtree, then each entry followed by its right
//! subtree), each record block written right after the entry that points to it (a
//! record shared by several keys is written once). Blocks stream straight from the
//! store to the writer. This file reads the store and writes the stream; nothing else.

use super::commit::{Commit, CommitError};
use super::mst::{Mst, MstError};
use crate::car::{CarError, CarWriter};
use crate::store::{BlockSource, StoreError};
use cid::Cid;
use std::collections::HashSet;
use std::io::Write;
use thiserror::Error;

/// Why an export failed.
#[derive(Debug, Error)]
pub enum ExportError {
    /// The stream could not be written.
    #[error(transparent)]
    Car(#[from] CarError),
    /// The head commit is unreadable.
    #[error(transparent)]
    Commit(#[from] CommitError),
    /// The tree is unreadable.
    #[error(transparent)]
    Mst(#[from] MstError),
    /// A block is missing or the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Write the repository whose head commit is `commit` to `out` as a CAR; returns `out`.
pub fn export_car<S: BlockSource, W: Write>(
    store: &S,
    commit: &Cid,
    out: W,
) -> Result<W, ExportError> {
    let commit_bytes = store.need_block(commit)?;
    let decoded = Commit::decode(&commit_bytes)?;
    let mut car = CarWriter::new(out, std::slice::from_ref(commit))?;
    car.write_block(commit, &commit_bytes)?;
    let mst = Mst::load(store, decoded.data);
    let mut seen: HashSet<Cid> = HashSet::new();
    // The two callbacks both write to `car`; a RefCell lets them share it.
    let car = std::cell::RefCell::new(car);
    mst.walk_nodes::<ExportError, _, _>(
        |cid, node| {
            car.borrow_mut().write_block(cid, &node.encode())?;
            Ok(())
        },
        |entry| {
            if seen.insert(entry.value) {
                let bytes = store.need_block(&entry.value)?;
                car.borrow_mut().write_block(&entry.value, &bytes)?;
            }
            Ok(())
        },
    )?;
    Ok(car.into_inner().finish()?)
}

/// [`export_car`] into memory.
pub fn export_car_bytes<S: BlockSource>(store: &S, commit: &Cid) -> Result<Vec<u8>, ExportError> {
    export_car(store, commit, Vec::new())
}

/// The CAR `com.atproto.sync.getRecord` returns: rooted at the head commit, holding the
/// commit, the MST nodes on the path to `key` (proving presence or absence), and the
/// record block when the record exists. Returns the record's CID too.
pub fn record_proof_car<S: BlockSource>(
    store: &S,
    commit: &Cid,
    key: &str,
) -> Result<(Option<Cid>, Vec<u8>), ExportError> {
    let commit_bytes = store.need_block(commit)?;
    let decoded = Commit::decode(&commit_bytes)?;
    let mst = Mst::load(store, decoded.data);
    let (found, nodes) = mst.path_proof(key)?;
    let mut car = CarWriter::new(Vec::new(), std::slice::from_ref(commit))?;
    car.write_block(commit, &commit_bytes)?;
    for (cid, bytes) in &nodes {
        car.write_block(cid, bytes)?;
    }
    if let Some(rec) = found {
        car.write_block(&rec, &store.need_block(&rec)?)?;
    }
    Ok((found, car.finish()?))
}
