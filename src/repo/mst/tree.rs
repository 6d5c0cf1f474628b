//! The persistent, lazily loaded Merkle Search Tree over a [`BlockSource`].
//!
//! An [`Mst`] is a root CID plus two maps: nodes read from the store (decoded once and
//! cached) and nodes created by changes (kept with their bytes until the caller takes
//! them). Every change rewrites only the nodes on the path it touches, O(log n) of them;
//! untouched subtrees stay as CIDs and are never loaded or re-serialized. Each new node
//! is encoded and hashed once when it is made. The shape after any sequence of changes
//! is the unique canonical MST for the key set (the same as [`Mst::build`] gives), so
//! roots agree with every other conforming implementation.
//!
//! This file owns insert/update/delete/get, ordered range listing and bulk building.
//! It never writes to the store: new blocks are handed back to the caller.

use super::node::{EntryData, NodeData, key_height, validate_key};
use super::{BlockMap, MstError};
use crate::data::cid::for_cbor;
use crate::store::BlockSource;
use cid::Cid;
use std::collections::HashMap;
use std::ops::Bound;
use std::sync::{Arc, Mutex};

/// Which way a listing walks the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Smallest key first.
    Ascending,
    /// Largest key first.
    Descending,
}

/// A Merkle Search Tree rooted at one node CID, reading nodes from `S` on demand.
pub struct Mst<S> {
    store: S,
    root: Cid,
    /// Nodes made by changes on this instance: decoded form and canonical bytes.
    created: HashMap<Cid, (Arc<NodeData>, Vec<u8>)>,
    /// Nodes read from the store.
    cache: Mutex<HashMap<Cid, Arc<NodeData>>>,
}

impl<S> std::fmt::Debug for Mst<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mst")
            .field("root", &self.root)
            .field("created_nodes", &self.created.len())
            .finish_non_exhaustive()
    }
}

/// The CID of the empty tree's root node.
pub fn empty_root() -> Cid {
    for_cbor(&NodeData::default().encode())
}

impl<S: BlockSource> Mst<S> {
    /// An empty tree (its root node is a new block).
    pub fn empty(store: S) -> Self {
        let mut t = Mst {
            store,
            root: empty_root(),
            created: HashMap::new(),
            cache: Mutex::new(HashMap::new()),
        };
        t.root = t.put(NodeData::default());
        t
    }

    /// The tree whose root node is `root` in `store`; nothing is read until needed.
    pub fn load(store: S, root: Cid) -> Self {
        Mst {
            store,
            root,
            created: HashMap::new(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Build the tree for a set of `(key, value)` pairs in one pass, each node encoded
    /// exactly once. Keys are validated; duplicates are an error.
    pub fn build<I>(store: S, entries: I) -> Result<Self, MstError>
    where
        I: IntoIterator<Item = (String, Cid)>,
    {
        let mut items: Vec<(String, Cid, u8)> = Vec::new();
        for (k, v) in entries {
            validate_key(&k)?;
            let h = key_height(k.as_bytes());
            items.push((k, v, h));
        }
        items.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = items.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(MstError::KeyExists(w[0].0.clone()));
        }
        let mut t = Mst::empty(store);
        if let Some(top) = items.iter().map(|i| i.2).max() {
            // Non-empty: drop the empty root made above, it is not part of this tree.
            t.created.clear();
            let root = t.build_layer(&items, top);
            t.root = root.unwrap_or_else(empty_root);
        }
        Ok(t)
    }

    fn build_layer(&mut self, items: &[(String, Cid, u8)], layer: u8) -> Option<Cid> {
        if items.is_empty() {
            return None;
        }
        let mut node = NodeData::default();
        let mut start = 0;
        let slot_for = |t: &mut Self, seg: &[(String, Cid, u8)]| -> Option<Cid> {
            if seg.is_empty() || layer == 0 {
                None
            } else {
                t.build_layer(seg, layer - 1)
            }
        };
        for (i, item) in items.iter().enumerate() {
            if item.2 == layer {
                let sub = slot_for(self, items.get(start..i).unwrap_or_default());
                node.set_slot(node.entries.len(), sub);
                node.entries.push(EntryData {
                    key: item.0.clone(),
                    value: item.1,
                    right: None,
                });
                start = i + 1;
            }
        }
        let sub = slot_for(self, items.get(start..).unwrap_or_default());
        node.set_slot(node.entries.len(), sub);
        Some(self.put(node))
    }

    /// The root node's CID.
    pub fn root(&self) -> Cid {
        self.root
    }

    /// The block source this tree reads from.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Store a new node in the `created` map and return its CID.
    fn put(&mut self, node: NodeData) -> Cid {
        let bytes = node.encode();
        let cid = for_cbor(&bytes);
        self.created.insert(cid, (Arc::new(node), bytes));
        cid
    }

    /// The decoded node with this CID, from the created map, the cache or the store.
    pub(crate) fn node(&self, cid: &Cid) -> Result<Arc<NodeData>, MstError> {
        if let Some((n, _)) = self.created.get(cid) {
            return Ok(n.clone());
        }
        if let Ok(cache) = self.cache.lock()
            && let Some(n) = cache.get(cid)
        {
            return Ok(n.clone());
        }
        let bytes = self.store.need_block(cid)?;
        if for_cbor(&bytes) != *cid {
            return Err(MstError::Corrupt(format!(
                "block {cid} does not hash to its CID"
            )));
        }
        let node = Arc::new(NodeData::decode(&bytes).map_err(|e| e.at(cid))?);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(*cid, node.clone());
        }
        Ok(node)
    }

    /// The canonical bytes of a node of this tree (created, cached or stored).
    pub(crate) fn node_bytes(&self, cid: &Cid) -> Result<Vec<u8>, MstError> {
        if let Some((_, b)) = self.created.get(cid) {
            return Ok(b.clone());
        }
        // Decoding is strict, so re-encoding a decoded node gives its exact bytes.
        Ok(self.node(cid)?.encode())
    }

    /// The layer of the node `cid`, or `None` for an empty node. A node without entries
    /// takes its layer from its left child.
    pub(crate) fn layer_of(&self, cid: &Cid) -> Result<Option<u8>, MstError> {
        let mut cid = *cid;
        let mut above: u8 = 0;
        loop {
            let node = self.node(&cid)?;
            if let Some(e) = node.entries.first() {
                return Ok(Some(key_height(e.key.as_bytes()).saturating_add(above)));
            }
            match node.left {
                Some(l) => {
                    cid = l;
                    above = above
                        .checked_add(1)
                        .ok_or_else(|| MstError::Corrupt("tree deeper than 255".into()))?;
                }
                None => return Ok(None),
            }
        }
    }

    /// The value stored under `key`, if any.
    pub fn get(&self, key: &str) -> Result<Option<Cid>, MstError> {
        let mut cid = self.root;
        loop {
            let node = self.node(&cid)?;
            let i = node.lower_bound(key);
            if let Some(e) = node.entries.get(i)
                && e.key == key
            {
                return Ok(Some(e.value));
            }
            match node.slot(i) {
                Some(c) => cid = c,
                None => return Ok(None),
            }
        }
    }

    /// Add a key that must not exist yet.
    pub fn add(&mut self, key: &str, value: Cid) -> Result<(), MstError> {
        validate_key(key)?;
        let h = key_height(key.as_bytes());
        let root = self.root;
        self.root = match self.layer_of(&root)? {
            None => self.chain(key, value, h, h),
            Some(layer) if h > layer => {
                let (mut l, mut r) = self.split(root, layer, key)?;
                for _ in layer + 1..h {
                    l = l.map(|c| self.wrap(c));
                    r = r.map(|c| self.wrap(c));
                }
                self.put(NodeData {
                    left: l,
                    entries: vec![EntryData {
                        key: key.to_string(),
                        value,
                        right: r,
                    }],
                })
            }
            Some(layer) => self.insert_at(root, layer, key, h, value)?,
        };
        Ok(())
    }

    /// Replace the value of an existing key; returns the old value.
    pub fn update(&mut self, key: &str, value: Cid) -> Result<Cid, MstError> {
        let (root, old) = self.update_at(self.root, key, value)?;
        self.root = root;
        Ok(old)
    }

    /// Set `key` to `value` whether or not it exists; returns the previous value.
    pub fn insert(&mut self, key: &str, value: Cid) -> Result<Option<Cid>, MstError> {
        match self.get(key)? {
            Some(old) if old == value => Ok(Some(old)),
            Some(_) => self.update(key, value).map(Some),
            None => self.add(key, value).map(|()| None),
        }
    }

    /// Remove a key that must exist; returns its value.
    pub fn delete(&mut self, key: &str) -> Result<Cid, MstError> {
        let root = self.root;
        let Some(layer) = self.layer_of(&root)? else {
            return Err(MstError::KeyNotFound(key.to_string()));
        };
        let (new_root, old) = self.delete_at(root, layer, key)?;
        let mut root = match new_root {
            Some(r) => r,
            None => self.put(NodeData::default()),
        };
        // A root without entries is replaced by its only child, down to the top key layer.
        loop {
            let node = self.node(&root)?;
            match (node.entries.is_empty(), node.left) {
                (true, Some(l)) => root = l,
                _ => break,
            }
        }
        self.root = root;
        Ok(old)
    }

    fn wrap(&mut self, child: Cid) -> Cid {
        self.put(NodeData {
            left: Some(child),
            entries: Vec::new(),
        })
    }

    /// A subtree at `layer` holding only `key` (at layer `h <= layer`).
    fn chain(&mut self, key: &str, value: Cid, h: u8, layer: u8) -> Cid {
        let mut cid = self.put(NodeData {
            left: None,
            entries: vec![EntryData {
                key: key.to_string(),
                value,
                right: None,
            }],
        });
        for _ in h..layer {
            cid = self.wrap(cid);
        }
        cid
    }

    fn insert_at(
        &mut self,
        cid: Cid,
        layer: u8,
        key: &str,
        h: u8,
        value: Cid,
    ) -> Result<Cid, MstError> {
        let node = self.node(&cid)?;
        let i = node.lower_bound(key);
        if node.entries.get(i).is_some_and(|e| e.key == key) {
            return Err(MstError::KeyExists(key.to_string()));
        }
        let mut new = (*node).clone();
        if h == layer {
            let (l, r) = match node.slot(i) {
                Some(s) => self.split(s, below(layer)?, key)?,
                None => (None, None),
            };
            new.set_slot(i, l);
            new.entries.insert(
                i,
                EntryData {
                    key: key.to_string(),
                    value,
                    right: r,
                },
            );
        } else {
            let child_layer = below(layer)?;
            let sub = match node.slot(i) {
                Some(s) => self.insert_at(s, child_layer, key, h, value)?,
                None => self.chain(key, value, h, child_layer),
            };
            new.set_slot(i, Some(sub));
        }
        Ok(self.put(new))
    }

    /// Split the subtree `cid` (at `layer`) into the keys below and above `key`.
    fn split(
        &mut self,
        cid: Cid,
        layer: u8,
        key: &str,
    ) -> Result<(Option<Cid>, Option<Cid>), MstError> {
        let node = self.node(&cid)?;
        let i = node.lower_bound(key);
        if node.entries.get(i).is_some_and(|e| e.key == key) {
            return Err(MstError::KeyExists(key.to_string()));
        }
        let n = node.entries.len();
        let (l, r) = match node.slot(i) {
            Some(s) => self.split(s, below(layer)?, key)?,
            None => (None, None),
        };
        // Everything on one side: the node is unchanged.
        if i == n && l == node.slot(n) {
            return Ok((Some(cid), None));
        }
        if i == 0 && r == node.left {
            return Ok((None, Some(cid)));
        }
        let mut left = NodeData {
            left: node.left,
            entries: node.entries.get(..i).unwrap_or_default().to_vec(),
        };
        left.set_slot(i, l);
        let right = NodeData {
            left: r,
            entries: node.entries.get(i..).unwrap_or_default().to_vec(),
        };
        let l = if left.is_empty() {
            None
        } else {
            Some(self.put(left))
        };
        let r = if right.is_empty() {
            None
        } else {
            Some(self.put(right))
        };
        Ok((l, r))
    }

    fn update_at(&mut self, cid: Cid, key: &str, value: Cid) -> Result<(Cid, Cid), MstError> {
        let node = self.node(&cid)?;
        let i = node.lower_bound(key);
        let mut new = (*node).clone();
        let old = match new.entries.get_mut(i) {
            Some(e) if e.key == key => std::mem::replace(&mut e.value, value),
            _ => {
                let Some(s) = node.slot(i) else {
                    return Err(MstError::KeyNotFound(key.to_string()));
                };
                let (sub, old) = self.update_at(s, key, value)?;
                new.set_slot(i, Some(sub));
                old
            }
        };
        Ok((self.put(new), old))
    }

    fn delete_at(
        &mut self,
        cid: Cid,
        layer: u8,
        key: &str,
    ) -> Result<(Option<Cid>, Cid), MstError> {
        let node = self.node(&cid)?;
        let i = node.lower_bound(key);
        let mut new = (*node).clone();
        let old = match node.entries.get(i) {
            Some(e) if e.key == key => {
                let merged = self.merge(node.slot(i), e.right, layer)?;
                new.entries.remove(i);
                new.set_slot(i, merged);
                e.value
            }
            _ => {
                let Some(s) = node.slot(i) else {
                    return Err(MstError::KeyNotFound(key.to_string()));
                };
                let (sub, old) = self.delete_at(s, below(layer)?, key)?;
                new.set_slot(i, sub);
                old
            }
        };
        if new.is_empty() {
            Ok((None, old))
        } else {
            Ok((Some(self.put(new)), old))
        }
    }

    /// Join two neighbouring subtrees that hang below a node at `parent_layer`.
    fn merge(
        &mut self,
        a: Option<Cid>,
        b: Option<Cid>,
        parent_layer: u8,
    ) -> Result<Option<Cid>, MstError> {
        let (a, b) = match (a, b) {
            (None, x) | (x, None) => return Ok(x),
            (Some(a), Some(b)) => (a, b),
        };
        let layer = below(parent_layer)?;
        let na = self.node(&a)?;
        let nb = self.node(&b)?;
        let joint = na.entries.len();
        let m = self.merge(na.slot(joint), nb.left, layer)?;
        let mut new = NodeData {
            left: na.left,
            entries: na.entries.clone(),
        };
        new.entries.extend(nb.entries.iter().cloned());
        new.set_slot(joint, m);
        Ok(Some(self.put(new)))
    }

    /// Keys and values in a range, in either direction, at most `limit` of them.
    /// Subtrees wholly outside the range are skipped without being loaded.
    pub fn list(
        &self,
        lower: Bound<&str>,
        upper: Bound<&str>,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<(String, Cid)>, MstError> {
        let mut out = Vec::new();
        if limit > 0 {
            let r = Range { lower, upper };
            self.walk_range(self.root, &r, direction, limit, &mut out)?;
        }
        Ok(out)
    }

    /// The records of one collection, after an exclusive `cursor` record key, in either
    /// direction (the shape of `com.atproto.repo.listRecords`).
    pub fn list_collection(
        &self,
        collection: &str,
        cursor: Option<&str>,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<(String, Cid)>, MstError> {
        let start = format!("{collection}/");
        // '0' is the byte after '/': every key of the collection sorts below this.
        let end = format!("{collection}0");
        let at = cursor.map(|c| format!("{collection}/{c}"));
        let (lower, upper) = match (&at, direction) {
            (Some(c), Direction::Ascending) => {
                (Bound::Excluded(c.as_str()), Bound::Excluded(end.as_str()))
            }
            (Some(c), Direction::Descending) => {
                (Bound::Included(start.as_str()), Bound::Excluded(c.as_str()))
            }
            (None, _) => (
                Bound::Included(start.as_str()),
                Bound::Excluded(end.as_str()),
            ),
        };
        self.list(lower, upper, direction, limit)
    }

    /// Keys starting with `prefix`, in either direction.
    pub fn list_prefix(
        &self,
        prefix: &str,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<(String, Cid)>, MstError> {
        // Keys are ASCII: the smallest string above every key with this prefix is the
        // prefix with its last byte raised by one (none if that byte is 0x7f or more).
        let mut end = prefix.as_bytes().to_vec();
        let upper = match end.pop() {
            Some(last) if last < 0x7f => {
                end.push(last + 1);
                String::from_utf8(end).ok()
            }
            _ => None,
        };
        let out = self.list(
            Bound::Included(prefix),
            upper.as_deref().map_or(Bound::Unbounded, Bound::Excluded),
            direction,
            if upper.is_some() { limit } else { usize::MAX },
        )?;
        Ok(out
            .into_iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .take(limit)
            .collect())
    }

    /// The distinct collections, in order, found with one seek per collection.
    pub fn collections(&self) -> Result<Vec<String>, MstError> {
        let mut out: Vec<String> = Vec::new();
        let mut seek = String::new();
        loop {
            let next = self.list(
                Bound::Included(&seek),
                Bound::Unbounded,
                Direction::Ascending,
                1,
            )?;
            let Some((key, _)) = next.into_iter().next() else {
                break;
            };
            let collection = key
                .split_once('/')
                .map(|(c, _)| c)
                .unwrap_or(&key)
                .to_string();
            seek = format!("{collection}0");
            out.push(collection);
        }
        Ok(out)
    }

    /// Every `(key, value)` in key order.
    pub fn entries(&self) -> Result<Vec<(String, Cid)>, MstError> {
        self.list(
            Bound::Unbounded,
            Bound::Unbounded,
            Direction::Ascending,
            usize::MAX,
        )
    }

    fn walk_range(
        &self,
        cid: Cid,
        r: &Range<'_>,
        dir: Direction,
        limit: usize,
        out: &mut Vec<(String, Cid)>,
    ) -> Result<bool, MstError> {
        let node = self.node(&cid)?;
        let n = node.entries.len();
        match dir {
            Direction::Ascending => {
                let start = match r.lower {
                    Bound::Included(k) | Bound::Excluded(k) => node.lower_bound(k),
                    Bound::Unbounded => 0,
                };
                for j in start..=n {
                    if let Some(s) = node.slot(j)
                        && self.walk_range(s, r, dir, limit, out)?
                    {
                        return Ok(true);
                    }
                    let Some(e) = node.entries.get(j) else { break };
                    if !r.below_upper(&e.key) {
                        return Ok(true);
                    }
                    if r.above_lower(&e.key) {
                        out.push((e.key.clone(), e.value));
                        if out.len() >= limit {
                            return Ok(true);
                        }
                    }
                }
            }
            Direction::Descending => {
                let end = match r.upper {
                    Bound::Included(k) | Bound::Excluded(k) => {
                        node.entries.partition_point(|e| e.key.as_str() <= k)
                    }
                    Bound::Unbounded => n,
                };
                for j in (0..=end).rev() {
                    if let Some(s) = node.slot(j)
                        && self.walk_range(s, r, dir, limit, out)?
                    {
                        return Ok(true);
                    }
                    let Some(e) = j.checked_sub(1).and_then(|p| node.entries.get(p)) else {
                        break;
                    };
                    if !r.above_lower(&e.key) {
                        return Ok(true);
                    }
                    if r.below_upper(&e.key) {
                        out.push((e.key.clone(), e.value));
                        if out.len() >= limit {
                            return Ok(true);
                        }
                    }
                }
            }
        }
        Ok(false)
    }

    /// Visit every node reachable from the root in pre-order: a node, then its left
    /// subtree, then each entry (through `on_entry`) followed by its right subtree.
    pub fn walk_nodes<E, F, G>(&self, mut on_node: F, mut on_entry: G) -> Result<(), E>
    where
        E: From<MstError>,
        F: FnMut(&Cid, &NodeData) -> Result<(), E>,
        G: FnMut(&EntryData) -> Result<(), E>,
    {
        self.walk_rec(self.root, &mut on_node, &mut on_entry)
    }

    fn walk_rec<E, F, G>(&self, cid: Cid, on_node: &mut F, on_entry: &mut G) -> Result<(), E>
    where
        E: From<MstError>,
        F: FnMut(&Cid, &NodeData) -> Result<(), E>,
        G: FnMut(&EntryData) -> Result<(), E>,
    {
        let node = self.node(&cid)?;
        on_node(&cid, &node)?;
        if let Some(l) = node.left {
            self.walk_rec(l, on_node, on_entry)?;
        }
        for e in &node.entries {
            on_entry(e)?;
            if let Some(t) = e.right {
                self.walk_rec(t, on_node, on_entry)?;
            }
        }
        Ok(())
    }

    /// The nodes made by changes on this instance that the current root still reaches,
    /// with their bytes. Subtrees that were loaded from the store are not visited.
    /// (A node re-created identical to a stored one is included; see [`super::diff`]
    /// for the exact old-versus-new block sets.)
    pub fn unstored_blocks(&self) -> BlockMap {
        let mut out = BlockMap::new();
        let mut stack = vec![self.root];
        while let Some(cid) = stack.pop() {
            if let Some((node, bytes)) = self.created.get(&cid)
                && out.insert(cid, bytes.clone()).is_none()
            {
                stack.extend(node.left);
                stack.extend(node.entries.iter().filter_map(|e| e.right));
            }
        }
        out
    }

    /// Forget created nodes the root no longer reaches (intermediate states of a batch).
    pub fn prune_created(&mut self) {
        let keep = self.unstored_blocks();
        self.created.retain(|cid, _| keep.contains_key(cid));
    }
}

fn below(layer: u8) -> Result<u8, MstError> {
    layer
        .checked_sub(1)
        .ok_or_else(|| MstError::Corrupt("a layer-0 node has a subtree".into()))
}

struct Range<'a> {
    lower: Bound<&'a str>,
    upper: Bound<&'a str>,
}

impl Range<'_> {
    fn above_lower(&self, k: &str) -> bool {
        match self.lower {
            Bound::Included(l) => k >= l,
            Bound::Excluded(l) => k > l,
            Bound::Unbounded => true,
        }
    }
    fn below_upper(&self, k: &str) -> bool {
        match self.upper {
            Bound::Included(u) => k <= u,
            Bound::Excluded(u) => k < u,
            Bound::Unbounded => true,
        }
    }
}
