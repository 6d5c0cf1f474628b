//! Building commits before they reach the database writer.
//!
//! The writer thread commits every write of every account, one after another, so all
//! the CPU work it does is paid in series. Most of a commit's work (applying the batch to
//! the MST, the diff, the signature, the firehose blocks) needs only the repo's head and
//! blocks, so it is done here, on a reader connection and a blocking thread, and the
//! writer is left with checking and storing the result.
//!
//! Writes to one account pass through its [`Lane`] one at a time. Each builds on the
//! previous write's result even before that one has committed (its new blocks stay in
//! memory until it has) and is queued for the writer before the lane is released, so
//! the writer receives an account's commits in the order they were built. The writer
//! checks, inside its transaction, that a built commit's base is still the head and was
//! signed with the account's current key; if not (an earlier write failed, or an import,
//! deactivation or key rotation came between), it builds the commit again itself, as
//! it would without this module. Speculation can cost time, never correctness; a build
//! that fails for any reason is simply left to the writer, whose answer is final.
//!
//! A build reads the MST nodes on the path of its keys. New record keys are TIDs, so an
//! account's writes touch the same right-hand path again and again: the nodes read and
//! made by recent builds stay in a small [`BlockCache`] shared by every lane (a block's
//! bytes never change under its CID), and the signing key stays in the lane (the
//! writer checks that it is still the account's key, and the lane forgets it if not).

use super::ServiceError;
use super::repo::PreparedWrite;
use crate::context::AppState;
use crate::store::{accounts, repo as repo_store};
use cid::Cid;
use pds::crypto::Keypair;
use pds::repo::{CommitOutcome, RepoHead, Write};
use pds::store::{BlockSource, StoreError};
use pds::syntax::Did;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Per-account lanes of commit building.
#[derive(Default)]
pub struct Pipeline {
    lanes: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Lane>>>>,
    cache: Arc<BlockCache>,
}

/// Bytes of blocks the cache keeps in each of its two generations.
const CACHE_GENERATION_BYTES: usize = 2 << 20;

/// Recently read or built blocks, in two generations: a lookup that finds a block in
/// the older one moves it to the newer one, and once the newer one holds
/// [`CACHE_GENERATION_BYTES`] the older one is dropped. What builds keep using stays;
/// the rest leaves within two generations, so the cache never holds more than twice
/// that budget (written here rather than taken from a crate: it is these twenty lines).
#[derive(Default)]
struct BlockCache {
    generations: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    newer: HashMap<Cid, Arc<[u8]>>,
    older: HashMap<Cid, Arc<[u8]>>,
    newer_bytes: usize,
}

impl BlockCache {
    fn get(&self, cid: &Cid) -> Option<Arc<[u8]>> {
        let mut g = self.generations.lock().ok()?;
        if let Some(b) = g.newer.get(cid) {
            return Some(b.clone());
        }
        let b = g.older.remove(cid)?;
        g.put(*cid, b.clone());
        Some(b)
    }

    fn put(&self, cid: Cid, bytes: &[u8]) {
        if let Ok(mut g) = self.generations.lock()
            && !g.newer.contains_key(&cid)
        {
            g.put(cid, bytes.into());
        }
    }
}

impl Generations {
    fn put(&mut self, cid: Cid, bytes: Arc<[u8]>) {
        self.newer_bytes += bytes.len();
        self.newer.insert(cid, bytes);
        if self.newer_bytes >= CACHE_GENERATION_BYTES {
            self.older = std::mem::take(&mut self.newer);
            self.newer_bytes = 0;
        }
    }
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").finish_non_exhaustive()
    }
}

/// Blocks of built commits that may not have committed yet, with the build that added
/// each (so a build's blocks leave once it is answered).
type Unsettled = Arc<Mutex<HashMap<Cid, (u64, Vec<u8>)>>>;

/// One account's building state.
#[derive(Default)]
pub struct Lane {
    /// The head after the last commit built here, while it is believed to be (or to
    /// become) the real head.
    tip: Option<RepoHead>,
    /// The account's signing key, as last opened (forgotten when the writer does not
    /// store a build, as after a rotation).
    key: Option<Arc<Keypair>>,
    unsettled: Unsettled,
    /// Number of the last build.
    last: u64,
}

/// A commit built ahead of the writer.
pub struct Built {
    /// The head it was built on.
    pub base: Cid,
    /// The public half of the key that signed it.
    pub signer: pds::crypto::PublicKey,
    pub outcome: CommitOutcome,
    id: u64,
}

impl std::fmt::Debug for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Built")
            .field("base", &self.base)
            .field("commit", &self.outcome.commit.cid)
            .finish_non_exhaustive()
    }
}

/// The head and blocks a build reads: blocks of unsettled builds first, then the
/// cache, then the database.
struct Layered<'a> {
    unsettled: &'a Unsettled,
    cache: &'a BlockCache,
    db: repo_store::SqlBlocks<'a>,
}

impl BlockSource for Layered<'_> {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some((_, bytes)) = self
            .unsettled
            .lock()
            .map_err(|_| StoreError::Backend("unsettled blocks lock poisoned".into()))?
            .get(cid)
        {
            return Ok(Some(bytes.clone()));
        }
        if let Some(bytes) = self.cache.get(cid) {
            return Ok(Some(bytes.to_vec()));
        }
        let found = self.db.get_block(cid)?;
        if let Some(bytes) = &found {
            self.cache.put(*cid, bytes);
        }
        Ok(found)
    }
}

impl Pipeline {
    fn lane(&self, did: &str) -> Option<Arc<tokio::sync::Mutex<Lane>>> {
        let mut lanes = self.lanes.lock().ok()?;
        Some(lanes.entry(did.to_string()).or_default().clone())
    }
}

/// Build `writes` as the next commit of `did`, queue it for the writer in lane order,
/// and wait for the answer. The writer's check and its own rebuild are passed in as
/// `commit` (see [`super::repo::apply_writes`]).
pub async fn run<C>(
    state: &AppState,
    did: &Did,
    writes: Vec<PreparedWrite>,
    swap_commit: Option<Cid>,
    commit: C,
) -> Result<super::repo::Committed, ServiceError>
where
    C: FnOnce(
            &mut crate::store::WriteTx<'_>,
            Option<Built>,
            Vec<PreparedWrite>,
        ) -> Result<super::repo::Committed, ServiceError>
        + Send
        + 'static,
{
    let Some(lane) = state.repo_pipeline.lane(did.as_str()) else {
        return state.db.write(move |tx| commit(tx, None, writes)).await;
    };
    let mut guard = lane.lock().await;
    let built = build(state, &mut guard, did, &writes, swap_commit).await;
    let built_as = built.as_ref().map(|b| (b.id, b.outcome.commit.cid));
    let unsettled = guard.unsettled.clone();
    // Queued while the lane is held: the writer sees this account's commits in the
    // order they were built.
    let answer = state.db.enqueue(move |tx| commit(tx, built, writes));
    drop(guard);
    // Waiting and settling run in a task of their own: if the caller goes away (the
    // client disconnected), the write still commits, and its blocks must still leave
    // the lane's memory.
    let settle = tokio::spawn(async move {
        let out = match answer {
            Ok(a) => a.await,
            Err(e) => Err(e),
        };
        if let Some((id, cid)) = built_as {
            if let Ok(mut u) = unsettled.lock() {
                u.retain(|_, (by, _)| *by != id);
            }
            let mut lane = lane.lock().await;
            if !matches!(&out, Ok(done) if done.commit == cid) {
                // The writer did not store this build: perhaps the key changed.
                lane.key = None;
            }
            if lane.last == id {
                // No build since this one: the lane's tip is this result, right or wrong.
                match &out {
                    Ok(done) if done.commit == cid => {}
                    Ok(done) => lane.tip = Some(done.head()),
                    Err(_) => lane.tip = None,
                }
            }
        }
        out
    });
    settle
        .await
        .map_err(|e| ServiceError::internal(format!("write task failed: {e}")))?
}

/// Build the commit, or `None` to leave it to the writer (no head yet, a read failed,
/// or the batch itself fails: the writer gives the final answer).
async fn build(
    state: &AppState,
    lane: &mut Lane,
    did: &Did,
    writes: &[PreparedWrite],
    swap_commit: Option<Cid>,
) -> Option<Built> {
    let st = state.clone();
    let d = did.clone();
    let tip = lane.tip.clone();
    let cached_key = lane.key.clone();
    let unsettled = lane.unsettled.clone();
    let cache = state.repo_pipeline.cache.clone();
    let plain: Vec<Write> = writes.iter().map(|w| w.write.clone()).collect();
    let result = state
        .db
        .read(move |conn| -> Result<_, ServiceError> {
            // The writer checks that the key is still the account's.
            let key = match cached_key {
                Some(key) => key,
                None => {
                    let account = accounts::by_did(conn, d.as_str())?
                        .ok_or_else(|| ServiceError::RepoNotFound(d.to_string()))?;
                    Arc::new(st.kek.open_keypair(
                        &super::repo::signing_key_label(d.as_str()),
                        &account.signing_key,
                    )?)
                }
            };
            let head = match tip {
                Some(h) => h,
                None => repo_store::head(conn, d.as_str())?
                    .ok_or_else(|| ServiceError::RepoNotFound(d.to_string()))?,
            };
            let rev = st.tids.next_after(&head.rev);
            let blocks = Layered {
                unsettled: &unsettled,
                cache: &cache,
                db: repo_store::SqlBlocks {
                    conn,
                    did: d.as_str(),
                },
            };
            let outcome =
                pds::repo::apply_writes(&blocks, &head, &d, &plain, swap_commit, &key, &rev)?;
            Ok((head.commit, key, outcome))
        })
        .await;
    lane.last += 1;
    let Ok((base, key, outcome)) = result else {
        // Perhaps the tip was wrong (a write the writer refused, blocks gone): build the
        // next one on the real head.
        lane.tip = None;
        return None;
    };
    let id = lane.last;
    if let Ok(mut u) = lane.unsettled.lock() {
        for (cid, bytes) in &outcome.new_blocks {
            u.insert(*cid, (id, bytes.clone()));
        }
    }
    // The next build reads the new MST nodes again, after this one has settled.
    for (cid, bytes) in &outcome.new_blocks {
        let record = outcome.ops.iter().any(|op| op.cid == Some(*cid));
        if *cid != outcome.commit.cid && !record {
            state.repo_pipeline.cache.put(*cid, bytes);
        }
    }
    lane.tip = Some(outcome.head());
    let signer = key.public();
    lane.key = Some(key);
    Some(Built {
        base,
        signer,
        outcome,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::context::AppContext;
    use crate::services::repo::{apply_writes, commit_in_tx, create_empty_repo};
    use pds::crypto::Curve;

    const DID: &str = "did:plc:pipelinetestaaaaaaaaaaaa";

    /// A new signing key for the account, and its sealed form as it is stored.
    fn new_signing_key(state: &AppState) -> (Keypair, Vec<u8>) {
        let key = Keypair::generate(Curve::Secp256k1);
        let sealed = state
            .kek
            .seal_keypair(&super::super::repo::signing_key_label(DID), &key)
            .expect("seal");
        (key, sealed)
    }

    async fn account() -> (AppState, Did, pds::crypto::PublicKey, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = Config::dev_defaults();
        cfg.data_dir = dir.path().to_path_buf();
        cfg.secrets.kek = Some("cd".repeat(32));
        let state = AppContext::build(cfg, "http://127.0.0.1:9")
            .await
            .expect("context");
        let (key, sealed) = new_signing_key(&state);
        let public = key.public();
        let did = Did::new(DID).expect("did");
        let (st, d) = (state.clone(), did.clone());
        state
            .db
            .write(move |tx| -> Result<(), ServiceError> {
                let row = accounts::AccountRow {
                    did: DID.into(),
                    handle: Some("pipeline.test".into()),
                    email: None,
                    email_confirmed_at: None,
                    password_hash: None,
                    created_at: crate::store::now(),
                    deactivated_at: None,
                    delete_after: None,
                    takedown_ref: None,
                    tier: "free".into(),
                    invite_code: None,
                    signing_key: sealed,
                };
                accounts::insert(tx.conn(), &row)?;
                create_empty_repo(&st, tx, &d, &key)?;
                Ok(())
            })
            .await
            .expect("account");
        (state, did, public, dir)
    }

    fn create(rkey: &str) -> PreparedWrite {
        PreparedWrite {
            write: Write::Create {
                collection: "com.example.note".into(),
                rkey: rkey.into(),
                record: pds::data::json::record_from_json(
                    &serde_json::json!({"$type": "com.example.note", "text": rkey}),
                )
                .expect("record"),
            },
            blobs: vec![],
            validation: None,
        }
    }

    /// The whole repo, exported from its head and verified: (record paths, commit CID).
    async fn verified(state: &AppState, key: &pds::crypto::PublicKey) -> (Vec<String>, Cid) {
        let head = super::super::repo::head(state, DID).await.expect("head");
        let car = state
            .db
            .read(move |conn| -> Result<Vec<u8>, ServiceError> {
                let blocks = repo_store::SqlBlocks { conn, did: DID };
                pds::repo::export_car_bytes(&blocks, &head.commit).map_err(ServiceError::internal)
            })
            .await
            .expect("export");
        let repo = pds::repo::verify_car(car.as_slice(), &pds::repo::VerifyOptions::new(key))
            .expect("the repo verifies");
        (
            repo.records.into_iter().map(|(p, _)| p).collect(),
            repo.commit_cid,
        )
    }

    /// Many concurrent writes to one account, with commits made beside the pipeline
    /// (as an import or a desktop commit would) moving the head under builds already
    /// made: every write lands once, the speculative builds on a moved head are rebuilt
    /// by the writer, and the repo verifies.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writes_and_commits_beside_the_pipeline_all_land() {
        let (state, did, key, _dir) = account().await;
        let mut tasks = Vec::new();
        for i in 0..60 {
            let (st, d) = (state.clone(), did.clone());
            tasks.push(tokio::spawn(async move {
                if i % 15 == 7 {
                    // Beside the pipeline: built and committed by the writer alone.
                    let s2 = st.clone();
                    let d2 = d.clone();
                    let w = vec![create(&format!("beside{i:03}"))];
                    st.db
                        .write(move |tx| commit_in_tx(&s2, tx, &d2, &w, None, None))
                        .await
                } else {
                    apply_writes(&st, &d, vec![create(&format!("piped{i:03}"))], None).await
                }
            }));
        }
        let mut commits = std::collections::HashSet::new();
        for t in tasks {
            let done = t.await.expect("task").expect("write");
            assert!(commits.insert(done.commit), "two writes got one commit");
        }
        let (records, _) = verified(&state, &key).await;
        assert_eq!(records.len(), 60, "{records:?}");
        // Once every write is answered, none of their blocks stays in memory.
        let lane = state.repo_pipeline.lane(DID).expect("lane");
        let unsettled = lane.lock().await.unsettled.clone();
        assert!(unsettled.lock().expect("lock").is_empty());
        // Every write made its own commit, and each built on the one before.
        let (events, distinct) = state
            .db
            .read(|c| -> Result<(i64, i64), crate::store::DbError> {
                Ok(c.query_row(
                    "SELECT COUNT(*), COUNT(DISTINCT seq) FROM repo_seq WHERE event_type = '#commit'",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?)
            })
            .await
            .expect("events");
        assert_eq!((events, distinct), (60, 60));
    }

    /// A commit built on a head that is no longer the head is never stored as built:
    /// the writer builds it again on the real head.
    #[tokio::test]
    async fn a_commit_built_on_a_stale_head_is_rebuilt_by_the_writer() {
        let (state, did, key, _dir) = account().await;
        let lane = state.repo_pipeline.lane(DID).expect("lane");
        let stale = {
            let mut l = lane.lock().await;
            build(&state, &mut l, &did, &[create("first")], None)
                .await
                .expect("built")
        };
        let stale_commit = stale.outcome.commit.cid;
        // Another commit moves the head first.
        apply_writes(&state, &did, vec![create("second")], None)
            .await
            .expect("second");
        let (st, d) = (state.clone(), did.clone());
        let done = state
            .db
            .write(move |tx| commit_in_tx(&st, tx, &d, &[create("first")], None, Some(stale)))
            .await
            .expect("first");
        assert_ne!(done.commit, stale_commit, "the stale build was stored");
        let (records, head) = verified(&state, &key).await;
        assert_eq!(head, done.commit);
        assert_eq!(
            records,
            vec![
                "com.example.note/first".to_string(),
                "com.example.note/second".to_string()
            ]
        );
    }

    /// After the account's signing key changes, the lane's old key signs one build, the
    /// writer refuses it and signs with the new key, the lane forgets the old key, and
    /// the next build (signed with the new key) is stored as built.
    #[tokio::test]
    async fn a_rotated_signing_key_replaces_the_lanes_key() {
        let (state, did, _old, _dir) = account().await;
        apply_writes(&state, &did, vec![create("before")], None)
            .await
            .expect("before");
        let lane = state.repo_pipeline.lane(DID).expect("lane");
        assert!(lane.lock().await.key.is_some(), "the lane keeps the key");
        let (new_key, sealed) = new_signing_key(&state);
        let new_public = new_key.public();
        state
            .db
            .write(move |tx| -> Result<(), ServiceError> {
                accounts::set_signing_key(tx.conn(), DID, &sealed)?;
                super::super::repo::forget_signing_key(tx, DID);
                Ok(())
            })
            .await
            .expect("rotate");
        apply_writes(&state, &did, vec![create("after1")], None)
            .await
            .expect("after1");
        assert!(
            lane.lock().await.key.is_none(),
            "the refused build's key was kept"
        );
        let (records, _) = verified(&state, &new_public).await;
        assert_eq!(records.len(), 2);
        // The next build opens the new key and is stored as built.
        let built = {
            let mut l = lane.lock().await;
            build(&state, &mut l, &did, &[create("after2")], None)
                .await
                .expect("built")
        };
        assert_eq!(built.signer, new_public);
        let built_commit = built.outcome.commit.cid;
        let (st, d) = (state.clone(), did.clone());
        let done = state
            .db
            .write(move |tx| commit_in_tx(&st, tx, &d, &[create("after2")], None, Some(built)))
            .await
            .expect("after2");
        assert_eq!(done.commit, built_commit);
        let (records, _) = verified(&state, &new_public).await;
        assert_eq!(records.len(), 3);
    }

    /// The block cache gives back what it was given, moves what is used into the newer
    /// generation, and never holds more than two generations.
    #[test]
    fn the_block_cache_keeps_what_is_used_and_stays_bounded() {
        let cache = BlockCache::default();
        let cid = |i: u32| pds::data::cid::for_cbor(&i.to_be_bytes());
        let block = vec![7u8; 1024];
        cache.put(cid(0), &block);
        assert_eq!(cache.get(&cid(0)).as_deref(), Some(block.as_slice()));
        let per_generation = CACHE_GENERATION_BYTES / block.len();
        for i in 1..(3 * per_generation as u32) {
            cache.put(cid(i), &block);
            // Used all along: it survives every generation change.
            assert!(
                cache.get(&cid(0)).is_some(),
                "a block in use was dropped at {i}"
            );
        }
        assert!(cache.get(&cid(1)).is_none(), "an unused block stayed");
        let g = cache.generations.lock().expect("lock");
        assert!(g.newer.len() + g.older.len() <= 2 * per_generation);
    }
}
