//! The desktop's own copy of the repository (desktop-enrolled mode), built with the `pds`
//! library: it is loaded from `repo.car` in pdsctl's data folder (or from a snapshot the
//! relay sent, verified first), changed locally into an *unsigned* commit plus its new
//! blocks, and advanced only when the relay returns the signed commit, after checking
//! that the relay signed exactly what was built, with the account's key.
//!
//! Nothing here talks to the network or decides what to write: `cmd/desktop.rs` does.

use crate::error::CliError;
use pds::Cid;
use pds::crypto::PublicKey;
use pds::data::Value;
use pds::repo::{Commit, Mst, UnsignedCommit};
use pds::store::{BlockSink, MemoryBlockStore};
use pds::syntax::{Did, Nsid, RecordKey, Tid, TidClock};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One change to apply locally.
#[derive(Debug, Clone)]
pub enum Change {
    /// Create or replace the record at `collection/rkey`.
    Put { path: String, record: Value },
    /// Delete the record at `collection/rkey` (it must exist).
    Delete { path: String },
}

impl Change {
    /// The record path it touches.
    pub fn path(&self) -> &str {
        match self {
            Change::Put { path, .. } | Change::Delete { path } => path,
        }
    }
}

/// Check `collection/rkey`.
pub fn check_path(path: &str) -> Result<(), CliError> {
    let (collection, rkey) = path.split_once('/').ok_or_else(|| {
        CliError::Usage(format!("{path:?} is not a record path (collection/rkey)"))
    })?;
    Nsid::new(collection)
        .map_err(|e| CliError::Usage(format!("{path:?}: the collection is not an NSID: {e}")))?;
    RecordKey::new(rkey)
        .map_err(|e| CliError::Usage(format!("{path:?}: the record key is invalid: {e}")))?;
    Ok(())
}

/// A commit built locally, waiting for the relay's signature.
#[derive(Debug, Clone)]
pub struct Built {
    pub commit: UnsignedCommit,
    /// New MST nodes and new records.
    pub blocks: BTreeMap<Cid, Vec<u8>>,
}

impl Built {
    /// The new blocks as a CAR rooted at the new tree (what the relay takes).
    pub fn blocks_car(&self) -> Result<Vec<u8>, CliError> {
        pds::car::to_bytes(&self.commit.data, self.blocks.iter())
            .map_err(|e| CliError::Failed(format!("cannot write the commit's blocks: {e}")))
    }
}

/// The head of the local copy.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LocalHead {
    pub commit: String,
    pub rev: String,
}

/// The desktop's repository.
#[derive(Debug)]
pub struct LocalRepo {
    did: Did,
    store: MemoryBlockStore,
    commit: Cid,
    data: Cid,
    rev: Tid,
}

fn broken(what: &str) -> impl FnOnce(String) -> CliError + '_ {
    move |e| CliError::Failed(format!("{what}: {e}"))
}

impl LocalRepo {
    /// Read the copy saved at `path`; `None` when there is none yet.
    pub fn load(path: &Path) -> Result<Option<LocalRepo>, CliError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(CliError::Io {
                    what: format!("cannot read {}", path.display()),
                    source: e,
                });
            }
        };
        let what = format!(
            "the local repo copy {} is damaged (delete it; `pdsctl desktop sync` fetches a new one)",
            path.display()
        );
        let file = pds::car::read_all(bytes.as_slice(), car_limits())
            .map_err(|e| broken(&what)(e.to_string()))?;
        let [root] = file.roots.as_slice() else {
            return Err(broken(&what)("not exactly one root".into()));
        };
        let root = *root;
        let commit_bytes = file
            .blocks
            .get(&root)
            .ok_or_else(|| broken(&what)("no commit block".into()))?;
        let commit = Commit::decode(commit_bytes).map_err(|e| broken(&what)(e.to_string()))?;
        let mut store = MemoryBlockStore::new();
        for (c, b) in file.blocks {
            store
                .put_block(c, b)
                .map_err(|e| broken(&what)(e.to_string()))?;
        }
        Ok(Some(LocalRepo {
            did: commit.did,
            store,
            commit: root,
            data: commit.data,
            rev: commit.rev,
        }))
    }

    /// A snapshot from the relay, verified in full (every block, the tree, the records,
    /// the commit's signature by `key`, the DID) before it is trusted.
    pub fn from_snapshot(car: &[u8], did: &str, key: &PublicKey) -> Result<LocalRepo, CliError> {
        let file = pds::car::read_all(car, car_limits())
            .map_err(|e| CliError::Failed(format!("the relay's snapshot is not a CAR: {e}")))?;
        let mut opts = pds::repo::VerifyOptions::new(key);
        opts.did = Some(did);
        opts.limits = car_limits();
        let verified = pds::repo::verify_car_file(&file, &opts)
            .map_err(|e| CliError::Failed(format!("the relay's snapshot does not verify: {e}")))?;
        let mut store = MemoryBlockStore::new();
        for (c, b) in file.blocks {
            store
                .put_block(c, b)
                .map_err(|e| CliError::Failed(format!("snapshot: {e}")))?;
        }
        Ok(LocalRepo {
            did: verified.commit.did.clone(),
            store,
            commit: verified.commit_cid,
            data: verified.commit.data,
            rev: verified.commit.rev.clone(),
        })
    }

    /// Save to `path` (0600, atomically), with only the blocks the head reaches.
    pub fn save(&self, dir: &Path, name: &str) -> Result<(), CliError> {
        let car = pds::repo::export_car_bytes(&self.store, &self.commit)
            .map_err(|e| CliError::Failed(format!("cannot export the local repo: {e}")))?;
        crate::device_file::write_private_atomic(dir, name, &car)
    }

    pub fn did(&self) -> &str {
        self.did.as_str()
    }

    /// The head commit's CID and rev.
    pub fn head(&self) -> LocalHead {
        LocalHead {
            commit: self.commit.to_string(),
            rev: self.rev.to_string(),
        }
    }

    /// How many records the repo holds.
    pub fn record_count(&self) -> Result<usize, CliError> {
        Mst::load(&self.store, self.data)
            .entries()
            .map(|e| e.len())
            .map_err(|e| CliError::Failed(format!("the local repo's tree: {e}")))
    }

    /// The record CID at `path`, if any.
    #[cfg(test)]
    pub fn get(&self, path: &str) -> Result<Option<Cid>, CliError> {
        Mst::load(&self.store, self.data)
            .get(path)
            .map_err(|e| CliError::Failed(format!("the local repo's tree: {e}")))
    }

    /// Apply `changes` to the tree and build the unsigned commit that follows the head,
    /// with a rev after the head's from `clock`.
    pub fn build(&self, changes: &[Change], clock: &TidClock) -> Result<Built, CliError> {
        if changes.is_empty() {
            return Err(CliError::Usage("nothing to commit".into()));
        }
        let mut mst = Mst::load(&self.store, self.data);
        let mut blocks = BTreeMap::new();
        let mut seen = std::collections::HashSet::new();
        for change in changes {
            let path = change.path();
            check_path(path)?;
            if !seen.insert(path.to_string()) {
                return Err(CliError::Usage(format!(
                    "{path} is changed twice in one commit"
                )));
            }
            match change {
                Change::Put { record, .. } => {
                    let (cid, bytes) = pds::repo::writes::record_block(path, record)
                        .map_err(|e| CliError::Usage(e.to_string()))?;
                    blocks.insert(cid, bytes);
                    mst.insert(path, cid)
                        .map_err(|e| CliError::Failed(format!("{path}: {e}")))?;
                }
                Change::Delete { .. } => {
                    if mst
                        .get(path)
                        .map_err(|e| CliError::Failed(format!("{path}: {e}")))?
                        .is_none()
                    {
                        return Err(CliError::Failed(format!(
                            "cannot delete {path}: there is no such record"
                        )));
                    }
                    mst.delete(path)
                        .map_err(|e| CliError::Failed(format!("{path}: {e}")))?;
                }
            }
        }
        if mst.root() == self.data {
            return Err(CliError::Failed(
                "the changes leave the repo as it is (the same records already stand there)".into(),
            ));
        }
        blocks.extend(mst.unstored_blocks());
        let rev = clock.next_after(&self.rev);
        Ok(Built {
            commit: UnsignedCommit::new(self.did.clone(), mst.root(), rev, Some(self.commit)),
            blocks,
        })
    }

    /// Take the relay's signed commit for `built`: it must be exactly the built commit,
    /// signed by `key`; then it becomes the head.
    pub fn adopt(
        &mut self,
        built: &Built,
        cid: &str,
        bytes: Vec<u8>,
        key: &PublicKey,
    ) -> Result<(), CliError> {
        let refuse = |m: String| CliError::Failed(format!("the relay's signed commit: {m}"));
        let commit = Commit::decode(&bytes).map_err(|e| refuse(e.to_string()))?;
        let actual = pds::data::cid::for_cbor(&bytes);
        if actual.to_string() != cid {
            return Err(refuse(format!("its bytes hash to {actual}, not {cid}")));
        }
        if commit.unsigned() != built.commit {
            return Err(refuse("it is not the commit pdsctl built".into()));
        }
        commit
            .verify(key)
            .map_err(|e| refuse(format!("the signature does not verify: {e}")))?;
        for (c, b) in &built.blocks {
            self.store
                .put_block(*c, b.clone())
                .map_err(|e| refuse(e.to_string()))?;
        }
        self.store
            .put_block(actual, bytes)
            .map_err(|e| refuse(e.to_string()))?;
        self.commit = actual;
        self.data = built.commit.data;
        self.rev = built.commit.rev.clone();
        Ok(())
    }

    /// Whether `cid` (a block) is in the local store.
    #[cfg(test)]
    fn has(&self, cid: &Cid) -> bool {
        use pds::store::BlockSource;
        self.store.get_block(cid).ok().flatten().is_some()
    }
}

/// Limits for reading repos: generous, but bounded.
fn car_limits() -> pds::car::CarLimits {
    pds::car::CarLimits {
        max_total_bytes: 2 * 1024 * 1024 * 1024,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pds::crypto::{Curve, Keypair};
    use pds::repo::{Write, create_repo};

    fn post(text: &str) -> Value {
        pds::data::json::from_json(&serde_json::json!({
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": "2024-05-01T12:00:00.000Z",
        }))
        .expect("record")
    }

    /// A one-record repo signed by `key`, as a snapshot CAR.
    fn snapshot(key: &Keypair) -> (Vec<u8>, String) {
        let did = Did::new("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa").expect("did");
        let store = MemoryBlockStore::new();
        let out = create_repo(
            &store,
            &did,
            &[Write::Create {
                collection: "app.bsky.feed.post".into(),
                rkey: "3jzfcijpj2z2a".into(),
                record: post("first"),
            }],
            key,
            &TidClock::new().next(),
        )
        .expect("repo");
        let mut s = MemoryBlockStore::new();
        for (c, b) in &out.new_blocks {
            s.put_block(*c, b.clone()).expect("put");
        }
        let car = pds::repo::export_car_bytes(&s, &out.commit.cid).expect("car");
        (car, did.to_string())
    }

    #[test]
    fn build_sign_adopt_save_and_load() {
        let key = Keypair::generate(Curve::Secp256k1);
        let (car, did) = snapshot(&key);
        let mut repo = LocalRepo::from_snapshot(&car, &did, &key.public()).expect("verify");
        assert_eq!(repo.record_count().expect("count"), 1);
        let clock = TidClock::new();
        let built = repo
            .build(
                &[
                    Change::Put {
                        path: "app.bsky.feed.post/3jzfcijpj2z2b".into(),
                        record: post("second"),
                    },
                    Change::Delete {
                        path: "app.bsky.feed.post/3jzfcijpj2z2a".into(),
                    },
                ],
                &clock,
            )
            .expect("build");
        assert_eq!(
            built.commit.prev.map(|c| c.to_string()),
            Some(repo.head().commit)
        );
        assert!(built.commit.rev.as_str() > repo.head().rev.as_str());
        // What the relay does: sign exactly this commit.
        let signed = built.commit.clone().sign(&key).expect("sign");
        // A commit signed by another key, or another commit, is refused.
        let other = Keypair::generate(Curve::Secp256k1);
        let forged = built.commit.clone().sign(&other).expect("sign");
        assert!(
            repo.adopt(
                &built,
                &forged.cid.to_string(),
                forged.bytes.clone(),
                &key.public()
            )
            .is_err()
        );
        assert!(
            repo.adopt(
                &built,
                &forged.cid.to_string(),
                signed.bytes.clone(),
                &key.public()
            )
            .is_err()
        );
        repo.adopt(
            &built,
            &signed.cid.to_string(),
            signed.bytes.clone(),
            &key.public(),
        )
        .expect("adopt");
        assert_eq!(repo.head().commit, signed.cid.to_string());
        assert!(repo.has(&signed.cid));
        assert!(
            repo.get("app.bsky.feed.post/3jzfcijpj2z2a")
                .expect("get")
                .is_none()
        );
        assert!(
            repo.get("app.bsky.feed.post/3jzfcijpj2z2b")
                .expect("get")
                .is_some()
        );
        // Saved and loaded back, it is the same repo, and it verifies.
        let tmp = tempfile::tempdir().expect("tmp");
        repo.save(tmp.path(), "repo.car").expect("save");
        let back = LocalRepo::load(&tmp.path().join("repo.car"))
            .expect("load")
            .expect("present");
        assert_eq!(back.head(), repo.head());
        let bytes = std::fs::read(tmp.path().join("repo.car")).expect("read");
        LocalRepo::from_snapshot(&bytes, &did, &key.public()).expect("the saved copy verifies");
        assert!(
            LocalRepo::load(&tmp.path().join("none.car"))
                .expect("ok")
                .is_none()
        );
    }

    #[test]
    fn bad_changes_and_forged_snapshots_are_refused() {
        let key = Keypair::generate(Curve::P256);
        let (car, did) = snapshot(&key);
        let other = Keypair::generate(Curve::P256);
        assert!(LocalRepo::from_snapshot(&car, &did, &other.public()).is_err());
        assert!(
            LocalRepo::from_snapshot(&car, "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb", &key.public())
                .is_err()
        );
        let repo = LocalRepo::from_snapshot(&car, &did, &key.public()).expect("verify");
        let clock = TidClock::new();
        let del = |p: &str| Change::Delete { path: p.into() };
        assert!(repo.build(&[], &clock).is_err());
        assert!(
            repo.build(&[del("app.bsky.feed.post/3jzfcijpj2z2c")], &clock)
                .is_err()
        );
        assert!(repo.build(&[del("not-a-path")], &clock).is_err());
        let put = Change::Put {
            path: "app.bsky.feed.post/3jzfcijpj2z2a".into(),
            record: post("first"),
        };
        assert!(
            repo.build(std::slice::from_ref(&put), &clock).is_err(),
            "no change"
        );
        assert!(repo.build(&[put.clone(), put], &clock).is_err(), "twice");
    }
}
