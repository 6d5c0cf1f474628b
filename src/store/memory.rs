//! An in-memory block store, for tests, tools and building repos before saving them.

use super::{BlockSink, BlockSource, StoreError};
use cid::Cid;
use std::collections::HashMap;

/// Blocks in a hash map.
#[derive(Debug, Default, Clone)]
pub struct MemoryBlockStore {
    blocks: HashMap<Cid, Vec<u8>>,
}

impl MemoryBlockStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many blocks are held.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// Whether no block is held.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Every block, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Cid, &Vec<u8>)> {
        self.blocks.iter()
    }
}

impl BlockSource for MemoryBlockStore {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.blocks.get(cid).cloned())
    }
    fn has_block(&self, cid: &Cid) -> Result<bool, StoreError> {
        Ok(self.blocks.contains_key(cid))
    }
}

impl BlockSink for MemoryBlockStore {
    fn put_block(&mut self, cid: Cid, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.blocks.insert(cid, bytes);
        Ok(())
    }
}
