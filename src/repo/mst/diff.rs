//! The difference between two MST roots: record creates, updates and deletes, the
//! node blocks only the new tree has, and the node CIDs only the old tree had.
//!
//! Both trees are expanded one layer at a time from the top; a node CID present on
//! both sides at the same layer is a shared subtree and is dropped without being
//! read. A node's layer is a property of its keys, and a subtree cannot appear twice
//! in one tree, so this finds every difference while reading only the changed paths.
//! This file only reads trees; it never writes to a store.

use super::tree::Mst;
use super::{BlockMap, MstError};
use crate::store::BlockSource;
use cid::Cid;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What changed between two trees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MstDiff {
    /// Keys only the new tree has, with their values, in key order.
    pub creates: Vec<(String, Cid)>,
    /// Keys whose value changed: `(key, old, new)`, in key order.
    pub updates: Vec<(String, Cid, Cid)>,
    /// Keys only the old tree has, with their old values, in key order.
    pub deletes: Vec<(String, Cid)>,
    /// Node blocks the new tree has and the old one does not.
    pub new_nodes: BlockMap,
    /// Node CIDs the old tree has and the new one does not.
    pub removed_nodes: BTreeSet<Cid>,
}

impl MstDiff {
    /// Record CIDs the new tree points to from a created or updated key.
    pub fn new_leaf_cids(&self) -> BTreeSet<Cid> {
        let mut s: BTreeSet<Cid> = self.creates.iter().map(|c| c.1).collect();
        s.extend(self.updates.iter().map(|u| u.2));
        s
    }

    /// Record CIDs that a deleted or updated key pointed to and that no created or
    /// updated key points to now. An unchanged key elsewhere in the tree holding a
    /// byte-identical record would still reference it: check before deleting blocks.
    pub fn removed_leaf_cids(&self) -> BTreeSet<Cid> {
        let new = self.new_leaf_cids();
        let mut s: BTreeSet<Cid> = self.deletes.iter().map(|d| d.1).collect();
        s.extend(self.updates.iter().map(|u| u.1));
        s.retain(|c| !new.contains(c));
        s
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.creates.is_empty() && self.updates.is_empty() && self.deletes.is_empty()
    }
}

impl<S: BlockSource> Mst<S> {
    /// Compare the tree rooted at `old` (`None`: nothing before) with the one rooted at
    /// `new`. Nodes are read from this tree's created nodes and its store, so the
    /// usual call is `mst.diff(Some(old_root), mst.root())` after a batch of changes.
    pub fn diff(&self, old: Option<Cid>, new: Cid) -> Result<MstDiff, MstError> {
        let mut out = MstDiff::default();
        if old == Some(new) {
            return Ok(out);
        }
        // Pending nodes per side: CID -> layer (None: an empty root).
        let mut side_a: HashMap<Cid, Option<u8>> = HashMap::new();
        let mut side_b: HashMap<Cid, Option<u8>> = HashMap::new();
        if let Some(a) = old {
            side_a.insert(a, self.layer_of(&a)?);
        }
        side_b.insert(new, self.layer_of(&new)?);
        let mut leaves_a: BTreeMap<String, Cid> = BTreeMap::new();
        let mut leaves_b: BTreeMap<String, Cid> = BTreeMap::new();

        // Empty roots have no layer and no children: settle them first.
        for (side, is_new) in [(&mut side_a, false), (&mut side_b, true)] {
            let empties: Vec<Cid> = side
                .iter()
                .filter(|(_, l)| l.is_none())
                .map(|(c, _)| *c)
                .collect();
            for c in empties {
                side.remove(&c);
                if old == Some(c) && new == c {
                    continue;
                }
                if is_new {
                    out.new_nodes.insert(c, self.node_bytes(&c)?);
                } else {
                    out.removed_nodes.insert(c);
                }
            }
        }

        loop {
            let top = side_a
                .values()
                .chain(side_b.values())
                .flatten()
                .max()
                .copied();
            let Some(layer) = top else { break };
            let at_a: Vec<Cid> = take_layer(&mut side_a, layer);
            let at_b: Vec<Cid> = take_layer(&mut side_b, layer);
            let set_b: BTreeSet<Cid> = at_b.iter().copied().collect();
            let set_a: BTreeSet<Cid> = at_a.iter().copied().collect();
            for c in at_a.iter().filter(|c| !set_b.contains(c)) {
                out.removed_nodes.insert(*c);
                self.expand(c, layer, &mut side_a, &mut leaves_a)?;
            }
            for c in at_b.iter().filter(|c| !set_a.contains(c)) {
                out.new_nodes.insert(*c, self.node_bytes(c)?);
                self.expand(c, layer, &mut side_b, &mut leaves_b)?;
            }
        }

        for (k, vb) in &leaves_b {
            match leaves_a.get(k) {
                None => out.creates.push((k.clone(), *vb)),
                Some(va) if va != vb => out.updates.push((k.clone(), *va, *vb)),
                Some(_) => {}
            }
        }
        for (k, va) in &leaves_a {
            if !leaves_b.contains_key(k) {
                out.deletes.push((k.clone(), *va));
            }
        }
        Ok(out)
    }

    fn expand(
        &self,
        cid: &Cid,
        layer: u8,
        pending: &mut HashMap<Cid, Option<u8>>,
        leaves: &mut BTreeMap<String, Cid>,
    ) -> Result<(), MstError> {
        let node = self.node(cid)?;
        for e in &node.entries {
            leaves.insert(e.key.clone(), e.value);
        }
        let children = node
            .left
            .into_iter()
            .chain(node.entries.iter().filter_map(|e| e.right));
        for child in children {
            let child_layer = layer
                .checked_sub(1)
                .ok_or_else(|| MstError::Corrupt(format!("layer-0 node {cid} has a subtree")))?;
            pending.insert(child, Some(child_layer));
        }
        Ok(())
    }
}

fn take_layer(side: &mut HashMap<Cid, Option<u8>>, layer: u8) -> Vec<Cid> {
    let cids: Vec<Cid> = side
        .iter()
        .filter(|(_, l)| **l == Some(layer))
        .map(|(c, _)| *c)
        .collect();
    for c in &cids {
        side.remove(c);
    }
    cids
}
