//! Firehose vectors: `commit-proof-fixtures.json`. For each case, build the tree from
//! `keys` (incrementally and in bulk) and check `rootBeforeCommit`; apply `adds` and
//! `dels` and check `rootAfterCommit`; check the union of the covering proofs of the
//! touched keys over the new tree is exactly `blocksInProof`; and check that those
//! blocks alone let a consumer invert the ops, in every order, back to the old root.

use crate::common::{load_failure, read_json_array};
use libtest_mimic::{Failed, Trial};
use pds::Cid;
use pds::repo::mst::{BlockMap, Mst};
use pds::store::{BlockSink, MemoryBlockStore};
use std::collections::BTreeSet;
use std::path::Path;

pub fn trials(dir: &Path) -> Vec<Trial> {
    let mut out = Vec::new();
    match read_json_array(&dir.join("firehose/commit-proof-fixtures.json")) {
        Ok(cases) => {
            for (i, case) in cases.into_iter().enumerate() {
                let comment = case["comment"].as_str().unwrap_or("").replace(' ', "_");
                let name = format!("firehose::commit_proof::{i}::{comment}");
                out.push(Trial::test(name, move || commit_proof_case(&case)));
            }
        }
        Err(e) => out.push(load_failure("firehose::commit_proof", e)),
    }
    out
}

fn strings(case: &serde_json::Value, field: &str) -> Result<Vec<String>, Failed> {
    case[field]
        .as_array()
        .ok_or_else(|| format!("missing {field}"))?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{field}: not a string").into())
        })
        .collect()
}

fn cid(case: &serde_json::Value, field: &str) -> Result<Cid, Failed> {
    let s = case[field]
        .as_str()
        .ok_or_else(|| format!("missing {field}"))?;
    Ok(s.parse::<Cid>()?)
}

fn store_all(store: &mut MemoryBlockStore, blocks: BlockMap) -> Result<(), Failed> {
    for (c, b) in blocks {
        store.put_block(c, b)?;
    }
    Ok(())
}

fn commit_proof_case(case: &serde_json::Value) -> Result<(), Failed> {
    let leaf = cid(case, "leafValue")?;
    let keys = strings(case, "keys")?;
    let adds = strings(case, "adds")?;
    let dels = strings(case, "dels")?;
    let before = cid(case, "rootBeforeCommit")?;
    let after = cid(case, "rootAfterCommit")?;
    let want_proof: BTreeSet<Cid> = strings(case, "blocksInProof")?
        .iter()
        .map(|s| s.parse::<Cid>())
        .collect::<Result<_, _>>()?;

    let mut store = MemoryBlockStore::new();
    let mut tree = Mst::empty(&store);
    for k in &keys {
        tree.add(k, leaf)?;
    }
    if tree.root() != before {
        return Err(format!("rootBeforeCommit: got {}, want {before}", tree.root()).into());
    }
    let bulk = Mst::build(&store, keys.iter().map(|k| (k.clone(), leaf)))?;
    if bulk.root() != before {
        return Err(format!("bulk build: got {}, want {before}", bulk.root()).into());
    }
    let blocks = tree.unstored_blocks();
    drop(tree);
    drop(bulk);
    store_all(&mut store, blocks)?;

    let mut tree = Mst::load(&store, before);
    for k in &adds {
        tree.add(k, leaf)?;
    }
    for k in &dels {
        tree.delete(k)?;
    }
    if tree.root() != after {
        return Err(format!("rootAfterCommit: got {}, want {after}", tree.root()).into());
    }
    let mut proof = BlockMap::new();
    for k in adds.iter().chain(dels.iter()) {
        tree.add_covering_proof(k, &mut proof)?;
    }
    let got: BTreeSet<Cid> = proof.keys().copied().collect();
    if got != want_proof {
        let missing: Vec<_> = want_proof.difference(&got).map(|c| c.to_string()).collect();
        let extra: Vec<_> = got.difference(&want_proof).map(|c| c.to_string()).collect();
        return Err(format!("blocksInProof differs: missing {missing:?}, extra {extra:?}").into());
    }

    // Only the proof blocks: every order of the inverted ops must reach the old root.
    let mut proof_store = MemoryBlockStore::new();
    store_all(&mut proof_store, proof)?;
    let inverse: Vec<(bool, &String)> = adds
        .iter()
        .map(|k| (true, k))
        .chain(dels.iter().map(|k| (false, k)))
        .collect();
    for order in permutations(inverse.len()) {
        let mut t = Mst::load(&proof_store, after);
        for i in order {
            let (was_add, k) = inverse[i];
            if was_add {
                t.delete(k)?;
            } else {
                t.add(k, leaf)?;
            }
        }
        if t.root() != before {
            return Err(
                format!("inverting from the proof gave {}, want {before}", t.root()).into(),
            );
        }
    }
    Ok(())
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for pos in 0..=p.len() {
            let mut q = p.clone();
            q.insert(pos, n - 1);
            out.push(q);
        }
    }
    out
}
