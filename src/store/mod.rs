//! Storage traits and their typed error, with an in-memory implementation.
//!
//! The library reads and writes repository blocks only through these traits, so the
//! same MST/commit code runs on SQLite, PostgreSQL or memory. Implementations live
//! in the daemon (SQLite by default); [`MemoryBlockStore`] is for tests and tools.
//! Traits are synchronous: the daemon runs its store on dedicated threads.

mod memory;

pub use memory::MemoryBlockStore;

use cid::Cid;
use thiserror::Error;

/// Why a storage operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A block the structure refers to is not in the store.
    #[error("block {0} is missing from the store")]
    MissingBlock(Cid),
    /// Stored data failed a check (bad CID, undecodable block).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The backend itself failed (I/O, database).
    #[error("storage backend: {0}")]
    Backend(String),
}

/// Read access to content-addressed blocks.
pub trait BlockSource {
    /// The bytes of the block with this CID, if present.
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, StoreError>;

    /// The bytes of a block that must be present.
    fn need_block(&self, cid: &Cid) -> Result<Vec<u8>, StoreError> {
        self.get_block(cid)?.ok_or(StoreError::MissingBlock(*cid))
    }

    /// Whether the block is present.
    fn has_block(&self, cid: &Cid) -> Result<bool, StoreError> {
        Ok(self.get_block(cid)?.is_some())
    }
}

/// Write access to content-addressed blocks (the caller computed the CID).
pub trait BlockSink {
    /// Store a block under its CID; storing the same block twice is harmless.
    fn put_block(&mut self, cid: Cid, bytes: Vec<u8>) -> Result<(), StoreError>;
}

impl<T: BlockSource + ?Sized> BlockSource for &T {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).get_block(cid)
    }
}
