//! Repository tests: the reference PDS's CARs verify (library and example binary),
//! export/re-read round trips, tampered repositories fail with the right error, write
//! batches produce complete blocks and invertible firehose proofs, and property tests
//! of the MST (order independence, delete/re-insert, diff, listing) and CAR reader.

use pds::Cid;
use pds::car::{CarError, CarLimits, CarWriter, read_all};
use pds::crypto::{Curve, Keypair, PublicKey};
use pds::data::{Value, cbor, cid::for_cbor};
use pds::repo::export::export_car_bytes;
use pds::repo::mst::{BlockMap, Direction, Mst, empty_root};
use pds::repo::verify::verify_car_file;
use pds::repo::{
    Action, RepoHead, VerifyError, VerifyOptions, Write, WriteError, apply_writes, create_repo,
    rebuild_repo, verify_car,
};
use pds::store::{BlockSink, BlockSource, MemoryBlockStore};
use pds::syntax::{Did, Tid};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::path::PathBuf;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn conformance(name: &str) -> (Vec<u8>, serde_json::Value) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conformance");
    let car = std::fs::read(dir.join(format!("{name}.car"))).unwrap_or_default();
    let json = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap_or_default();
    (
        car,
        serde_json::from_str(&json).unwrap_or(serde_json::Value::Null),
    )
}

fn s<'a>(v: &'a serde_json::Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_default()
}

fn expected_records(meta: &serde_json::Value) -> Vec<(String, Cid)> {
    meta["records"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| {
                    let cid = s(r, "cid").parse().ok()?;
                    Some((format!("{}/{}", s(r, "collection"), s(r, "rkey")), cid))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn store_blocks<'a>(
    store: &mut MemoryBlockStore,
    blocks: impl IntoIterator<Item = (&'a Cid, &'a Vec<u8>)>,
) {
    for (c, b) in blocks {
        let _ = store.put_block(*c, b.clone());
    }
}

fn check_conformance(name: &str) -> TestResult {
    let (car, meta) = conformance(name);
    assert!(!car.is_empty(), "{name}.car is missing");
    let key = PublicKey::from_did_key(s(&meta, "signingKey"))?;
    let mut opts = VerifyOptions::new(&key);
    opts.did = Some(s(&meta, "did"));
    let repo = verify_car(car.as_slice(), &opts)?;
    assert_eq!(repo.commit_cid.to_string(), s(&meta, "commitCid"));
    assert_eq!(repo.commit.rev.as_str(), s(&meta, "rev"));
    assert_eq!(repo.commit.data.to_string(), s(&meta, "dataCid"));
    let want = expected_records(&meta);
    assert_eq!(want.len() as u64, meta["recordCount"].as_u64().unwrap_or(0));
    assert_eq!(repo.records, want, "record set differs");
    assert!(repo.stray_blocks.is_empty());

    // Rebuilt from the leaves alone, the tree has the commit's root.
    let file = read_all(car.as_slice(), CarLimits::default())?;
    let rebuilt = Mst::build(&file, want.iter().cloned())?;
    assert_eq!(rebuilt.root().to_string(), s(&meta, "dataCid"));

    // Incremental inserts in a scrambled order reach the same root.
    let mut t = Mst::empty(&file);
    let mut order = want.clone();
    order.sort_by_key(|(k, _)| for_cbor(k.as_bytes()));
    for (k, v) in &order {
        t.add(k, *v)?;
    }
    assert_eq!(t.root(), rebuilt.root());

    // Collections and listing agree with the fixture.
    let loaded = Mst::load(&file, repo.commit.data);
    let cols: Vec<String> = meta["collections"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(loaded.collections()?, cols);
    for c in &cols {
        let got = loaded.list_collection(c, None, Direction::Ascending, usize::MAX)?;
        let exp: Vec<_> = want
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("{c}/")))
            .cloned()
            .collect();
        assert_eq!(got, exp);
    }
    Ok(())
}

#[test]
fn conformance_small_verifies() -> TestResult {
    check_conformance("small")
}

#[test]
fn conformance_medium_verifies() -> TestResult {
    check_conformance("medium")
}

/// The reference PDS streams blocks in storage order; our exporter writes the same
/// block set in tree order: commit, then nodes in pre-order, each record right after
/// the entry that points to it.
#[test]
fn export_writes_the_reference_block_set_in_preorder() -> TestResult {
    use pds::repo::mst::NodeData;
    for name in ["small", "medium"] {
        let (car, meta) = conformance(name);
        let file = read_all(car.as_slice(), CarLimits::default())?;
        let mut store = MemoryBlockStore::new();
        store_blocks(&mut store, file.blocks.iter());
        let root: Cid = s(&meta, "commitCid").parse()?;
        let out = export_car_bytes(&store, &root)?;
        let back = read_all(out.as_slice(), CarLimits::default())?;
        let want: BTreeSet<Cid> = file.blocks.keys().copied().collect();
        let got: BTreeSet<Cid> = back.blocks.keys().copied().collect();
        assert_eq!(got, want, "{name}: block sets differ");
        assert_eq!(back.roots, vec![root]);

        // The expected order, computed here from the decoded nodes.
        fn visit(c: Cid, blocks: &std::collections::HashMap<Cid, Vec<u8>>, out: &mut Vec<Cid>) {
            out.push(c);
            let node = NodeData::decode(&blocks[&c]).unwrap_or_default();
            if let Some(l) = node.left {
                visit(l, blocks, out);
            }
            for e in node.entries {
                if !out.contains(&e.value) {
                    out.push(e.value);
                }
                if let Some(t) = e.right {
                    visit(t, blocks, out);
                }
            }
        }
        let data: Cid = s(&meta, "dataCid").parse()?;
        let mut expect = vec![root];
        visit(data, &file.blocks, &mut expect);
        assert_eq!(back.order, expect, "{name}: export order");
    }
    Ok(())
}

fn example_binary() -> PathBuf {
    // target/<profile>/deps/repo-<hash> -> target/<profile>/examples/verify_repo
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe
        .parent()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or_default();
    dir.join("examples")
        .join(format!("verify_repo{}", std::env::consts::EXE_SUFFIX))
}

fn run_example(args: &[&str]) -> std::process::Output {
    let bin = example_binary();
    let mut cmd = if bin.exists() {
        std::process::Command::new(bin)
    } else {
        // `cargo test --test repo` does not build examples: let cargo do it.
        let mut c = std::process::Command::new(env!("CARGO"));
        c.args(["run", "-q", "-p", "pds", "--example", "verify_repo", "--"]);
        c
    };
    cmd.args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run verify_repo: {e}"))
}

#[test]
fn example_binary_verifies_conformance_cars() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conformance");
    for name in ["small", "medium"] {
        let (_, meta) = conformance(name);
        let car = dir.join(format!("{name}.car"));
        let out = run_example(&[
            car.to_str().unwrap_or_default(),
            s(&meta, "signingKey"),
            s(&meta, "did"),
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("records:     {}", meta["recordCount"])),
            "{stdout}"
        );
        assert!(stdout.contains(s(&meta, "commitCid")));
        // A wrong key must fail with a clear message and a non-zero status.
        let other = Keypair::generate(Curve::Secp256k1).did_key();
        let bad = run_example(&[car.to_str().unwrap_or_default(), &other]);
        assert_eq!(bad.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&bad.stderr).contains("signature"));
    }
}

/// Import: rebuild the reference repo under a new key, export, re-read: same blocks.
#[test]
fn rebuilt_repo_exports_and_reads_back() -> TestResult {
    let (car, meta) = conformance("medium");
    let file = read_all(car.as_slice(), CarLimits::default())?;
    let mut store = MemoryBlockStore::new();
    store_blocks(&mut store, file.blocks.iter());
    let kp = Keypair::generate(Curve::P256);
    let records = expected_records(&meta);
    let rebuilt = rebuild_repo(
        &store,
        &did(s(&meta, "did")),
        records.clone(),
        &kp,
        &Tid::new("3n3fzzzzzzz22")?,
    )?;
    assert_eq!(rebuilt.data.to_string(), s(&meta, "dataCid"));
    store_blocks(&mut store, rebuilt.blocks.iter());
    let out = export_car_bytes(&store, &rebuilt.commit.cid)?;
    let back = read_all(out.as_slice(), CarLimits::default())?;
    let mut expected: BTreeSet<Cid> = file.blocks.keys().copied().collect();
    let old_commit: Cid = s(&meta, "commitCid").parse()?;
    expected.remove(&old_commit);
    expected.insert(rebuilt.commit.cid);
    let got: BTreeSet<Cid> = back.blocks.keys().copied().collect();
    assert_eq!(got, expected);
    assert_eq!(
        back.order.len(),
        back.blocks.len(),
        "no block written twice"
    );
    let key = kp.public();
    let v = verify_car_file(&back, &VerifyOptions::new(&key))?;
    assert_eq!(v.records, records);
    Ok(())
}

// ---------- tampering ----------

fn small_parts() -> (pds::car::CarFile, serde_json::Value, PublicKey) {
    let (car, meta) = conformance("small");
    let file = read_all(car.as_slice(), CarLimits::default()).unwrap_or_default();
    let key = PublicKey::from_did_key(s(&meta, "signingKey"))
        .unwrap_or_else(|_| Keypair::generate(Curve::Secp256k1).public());
    (file, meta, key)
}

fn write_car(root: &Cid, blocks: &[(Cid, Vec<u8>)]) -> Vec<u8> {
    let mut w =
        CarWriter::new(Vec::new(), std::slice::from_ref(root)).unwrap_or_else(|e| panic!("{e}"));
    for (c, b) in blocks {
        w.write_block(c, b).unwrap_or_else(|e| panic!("{e}"));
    }
    w.finish().unwrap_or_default()
}

fn ordered(file: &pds::car::CarFile) -> Vec<(Cid, Vec<u8>)> {
    file.order
        .iter()
        .filter_map(|c| Some((*c, file.blocks.get(c)?.clone())))
        .collect()
}

#[test]
fn flipped_byte_in_a_block_is_refused() {
    let (car, _) = conformance("small");
    let mut bad = car.clone();
    let n = bad.len();
    bad[n - 5] ^= 0x01; // inside the last block's data
    let r = read_all(bad.as_slice(), CarLimits::default());
    assert!(matches!(r, Err(CarError::Mismatch(_))), "{r:?}");
}

#[test]
fn wrong_key_is_refused() {
    let (file, _, _) = small_parts();
    let other = Keypair::generate(Curve::Secp256k1).public();
    let r = verify_car_file(&file, &VerifyOptions::new(&other));
    assert!(matches!(r, Err(VerifyError::Signature(_))), "{r:?}");
    let (file, _, key) = small_parts();
    let mut opts = VerifyOptions::new(&key);
    opts.did = Some("did:plc:someoneelse");
    assert!(matches!(
        verify_car_file(&file, &opts),
        Err(VerifyError::DidMismatch { .. })
    ));
}

#[test]
fn missing_block_is_refused() {
    let (file, meta, key) = small_parts();
    let root: Cid = s(&meta, "commitCid")
        .parse()
        .unwrap_or_else(|_| empty_root());
    let victim: Cid = s(&meta["records"][3], "cid")
        .parse()
        .unwrap_or_else(|_| empty_root());
    let blocks: Vec<_> = ordered(&file)
        .into_iter()
        .filter(|(c, _)| *c != victim)
        .collect();
    let bytes = write_car(&root, &blocks);
    let r = verify_car(bytes.as_slice(), &VerifyOptions::new(&key));
    assert!(
        matches!(r, Err(VerifyError::MissingBlock { cid, .. }) if cid == victim),
        "{r:?}"
    );
}

#[test]
fn bad_signature_is_refused() {
    let (file, meta, key) = small_parts();
    let root: Cid = s(&meta, "commitCid")
        .parse()
        .unwrap_or_else(|_| empty_root());
    let mut commit =
        pds::repo::Commit::decode(&file.blocks[&root]).unwrap_or_else(|e| panic!("{e}"));
    commit.sig[10] ^= 0x40;
    let bytes = commit.encode().unwrap_or_default();
    let new_root = for_cbor(&bytes);
    let mut blocks: Vec<_> = ordered(&file)
        .into_iter()
        .filter(|(c, _)| *c != root)
        .collect();
    blocks.insert(0, (new_root, bytes));
    let car = write_car(&new_root, &blocks);
    let r = verify_car(car.as_slice(), &VerifyOptions::new(&key));
    assert!(matches!(r, Err(VerifyError::Signature(_))), "{r:?}");
}

#[test]
fn stray_block_and_two_roots_are_refused() {
    let (file, meta, key) = small_parts();
    let root: Cid = s(&meta, "commitCid")
        .parse()
        .unwrap_or_else(|_| empty_root());
    let extra = cbor::encode(&Value::String("stray".into())).unwrap_or_default();
    let mut blocks = ordered(&file);
    blocks.push((for_cbor(&extra), extra));
    let car = write_car(&root, &blocks);
    let r = verify_car(car.as_slice(), &VerifyOptions::new(&key));
    assert!(
        matches!(r, Err(VerifyError::StrayBlocks { count: 1, .. })),
        "{r:?}"
    );
    let mut allow = VerifyOptions::new(&key);
    allow.allow_stray_blocks = true;
    let ok = verify_car(car.as_slice(), &allow).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok.stray_blocks.len(), 1);

    let mut w = CarWriter::new(Vec::new(), &[root, root]).unwrap_or_else(|e| panic!("{e}"));
    for (c, b) in ordered(&file) {
        let _ = w.write_block(&c, &b);
    }
    let two = w.finish().unwrap_or_default();
    assert!(matches!(
        verify_car(two.as_slice(), &VerifyOptions::new(&key)),
        Err(VerifyError::Roots(2))
    ));
}

/// A signed repo whose only node spells its second key out in full (p = 0): the
/// same tree, other bytes, so it is refused as non-canonical.
#[test]
fn non_canonical_node_is_refused() {
    let kp = Keypair::generate(Curve::P256);
    let rec = record("one");
    let (rcid, rbytes) =
        pds::repo::writes::record_block("a.b/c", &rec).unwrap_or_else(|e| panic!("{e}"));
    let keys = ["com.example.x/3", "com.example.x/4"]; // both on layer 0: one root node
    let entry = |k: &[u8], p: i128| {
        let mut m = BTreeMap::new();
        m.insert("k".to_string(), Value::Bytes(k.to_vec()));
        m.insert("p".to_string(), Value::Integer(p));
        m.insert("t".to_string(), Value::Null);
        m.insert("v".to_string(), Value::Link(rcid));
        Value::Map(m)
    };
    let mut node = BTreeMap::new();
    node.insert(
        "e".to_string(),
        Value::List(vec![
            entry(keys[0].as_bytes(), 0),
            entry(keys[1].as_bytes(), 0),
        ]),
    );
    node.insert("l".to_string(), Value::Null);
    let nbytes = cbor::encode(&Value::Map(node)).unwrap_or_default();
    let ncid = for_cbor(&nbytes);
    let commit = pds::repo::UnsignedCommit::new(did("did:plc:test"), ncid, tid(5), None)
        .sign(&kp)
        .unwrap_or_else(|e| panic!("{e}"));
    let car = write_car(
        &commit.cid,
        &[
            (commit.cid, commit.bytes.clone()),
            (ncid, nbytes),
            (rcid, rbytes),
        ],
    );
    let key = kp.public();
    let r = verify_car(car.as_slice(), &VerifyOptions::new(&key));
    match r {
        Err(VerifyError::Mst { reason, .. }) => {
            assert!(reason.contains("non-canonical"), "{reason}")
        }
        other => panic!("expected a non-canonical node error, got {other:?}"),
    }
}

// ---------- write batches ----------

fn record(text: &str) -> Value {
    let mut m = BTreeMap::new();
    m.insert(
        "$type".to_string(),
        Value::String("app.bsky.feed.post".into()),
    );
    m.insert("text".to_string(), Value::String(text.into()));
    m.insert(
        "createdAt".to_string(),
        Value::String("2024-01-01T00:00:00.000Z".into()),
    );
    Value::Map(m)
}

/// A TID from a counter (microseconds since an arbitrary epoch, clock id 0).
fn tid(n: u64) -> Tid {
    Tid::from_parts(1_700_000_000_000_000u64 + n, 0)
}

fn did(s: &str) -> Did {
    Did::new(s).unwrap_or_else(|e| panic!("{e}"))
}

fn create(c: &str, r: &str, text: &str) -> Write {
    Write::Create {
        collection: c.into(),
        rkey: r.into(),
        record: record(text),
    }
}

#[test]
fn write_batches_produce_complete_and_invertible_commits() -> TestResult {
    let kp = Keypair::generate(Curve::Secp256k1);
    let did = &did("did:plc:writes");
    let mut store = MemoryBlockStore::new();
    let first = create_repo(
        &store,
        did,
        &[create("app.bsky.feed.post", "aaa", "hi")],
        &kp,
        &tid(1),
    )?;
    assert_eq!(first.since, None);
    assert_eq!(first.prev_data, None);
    store_blocks(&mut store, first.new_blocks.iter());
    let mut head = first.head();
    let mut model: BTreeMap<String, Cid> = BTreeMap::new();
    model.insert(
        "app.bsky.feed.post/aaa".into(),
        first.ops[0].cid.unwrap_or_else(empty_root),
    );

    for round in 0..30u32 {
        let mut writes = Vec::new();
        for j in 0..(1 + round % 7) {
            let rkey = tid(u64::from(round * 100 + j)).to_string();
            writes.push(create("app.bsky.feed.like", &rkey, &format!("{round}-{j}")));
        }
        let keys: Vec<String> = model.keys().cloned().collect();
        if round % 3 == 1
            && let Some(k) = keys.get(round as usize % keys.len())
        {
            let (c, r) = k.split_once('/').unwrap_or_default();
            writes.push(Write::Delete {
                collection: c.into(),
                rkey: r.into(),
                swap_record: model.get(k).copied(),
            });
        }
        if round % 4 == 2
            && let Some(k) = keys.last()
        {
            let (c, r) = k.split_once('/').unwrap_or_default();
            writes.push(Write::Update {
                collection: c.into(),
                rkey: r.into(),
                record: record(&format!("edit {round}")),
                swap_record: None,
            });
        }
        let out = apply_writes(
            &store,
            &head,
            did,
            &writes,
            Some(head.commit),
            &kp,
            &tid(2 + u64::from(round)),
        )?;
        assert_eq!(out.since.as_ref(), Some(&head.rev));
        assert_eq!(out.prev_data, Some(head.data));
        assert!(out.removed_cids.contains(&head.commit));
        for op in &out.ops {
            match op.action {
                Action::Create => assert!(
                    model
                        .insert(op.path.clone(), op.cid.unwrap_or_else(empty_root))
                        .is_none()
                ),
                Action::Update => assert_eq!(
                    model.insert(op.path.clone(), op.cid.unwrap_or_else(empty_root)),
                    op.prev
                ),
                Action::Delete => assert_eq!(model.remove(&op.path), op.prev),
            }
        }

        // The firehose blocks alone invert the ops back to prevData.
        let mut proof_store = MemoryBlockStore::new();
        store_blocks(&mut proof_store, out.firehose_blocks.iter());
        let mut inv = Mst::load(&proof_store, out.data);
        for op in out.ops.iter().rev() {
            match (op.action, op.prev) {
                (Action::Create, _) => {
                    inv.delete(&op.path)?;
                }
                (Action::Update, Some(p)) => {
                    inv.update(&op.path, p)?;
                }
                (Action::Delete, Some(p)) => inv.add(&op.path, p)?,
                _ => panic!("op without prev"),
            }
        }
        assert_eq!(
            inv.root(),
            head.data,
            "round {round}: inversion from firehose blocks"
        );

        store_blocks(&mut store, out.new_blocks.iter());
        head = out.head();
        // Every block the head needs is stored: export + verify passes with exactly the model.
        let car = export_car_bytes(&store, &head.commit)?;
        let key = kp.public();
        let v = verify_car(car.as_slice(), &VerifyOptions::new(&key))?;
        let want: Vec<_> = model.iter().map(|(k, v)| (k.clone(), *v)).collect();
        assert_eq!(v.records, want);
        // Removed nodes are really gone from the new tree.
        let reachable: BTreeSet<Cid> = read_all(car.as_slice(), CarLimits::default())?
            .blocks
            .keys()
            .copied()
            .collect();
        for c in &out.removed_cids {
            assert!(!reachable.contains(c), "removed {c} is still reachable");
        }
    }
    Ok(())
}

#[test]
fn write_errors_are_typed() -> TestResult {
    let kp = Keypair::generate(Curve::P256);
    let did = &did("did:plc:errs");
    let mut store = MemoryBlockStore::new();
    let first = create_repo(
        &store,
        did,
        &[create("app.bsky.feed.post", "aaa", "hi")],
        &kp,
        &tid(1),
    )?;
    store_blocks(&mut store, first.new_blocks.iter());
    let head = first.head();
    let rc = first.ops[0].cid;
    let go = |w: Vec<Write>, swap: Option<Cid>, rev: &Tid| {
        apply_writes(&store, &head, did, &w, swap, &kp, rev)
    };
    assert!(matches!(
        go(
            vec![create("app.bsky.feed.post", "aaa", "x")],
            None,
            &tid(2)
        ),
        Err(WriteError::RecordAlreadyExists(_))
    ));
    let del = |c: &str, r: &str, swap| Write::Delete {
        collection: c.into(),
        rkey: r.into(),
        swap_record: swap,
    };
    assert!(matches!(
        go(vec![del("app.bsky.feed.post", "zzz", None)], None, &tid(2)),
        Err(WriteError::RecordNotFound(_))
    ));
    assert!(matches!(
        go(
            vec![del("app.bsky.feed.post", "aaa", Some(empty_root()))],
            None,
            &tid(2)
        ),
        Err(WriteError::InvalidSwap { .. })
    ));
    assert!(go(vec![del("app.bsky.feed.post", "aaa", rc)], None, &tid(2)).is_ok());
    assert!(matches!(
        go(vec![], Some(empty_root()), &tid(2)),
        Err(WriteError::InvalidSwapCommit { .. })
    ));
    assert!(matches!(
        go(vec![], None, &tid(1)),
        Err(WriteError::RevNotIncreasing { .. })
    ));
    assert!(matches!(
        go(vec![create("bad key", "x", "x")], None, &tid(2)),
        Err(WriteError::InvalidPath(_))
    ));
    assert!(matches!(
        go(
            vec![create("a.b", "x", "1"), create("a.b", "x", "2")],
            None,
            &tid(2)
        ),
        Err(WriteError::DuplicatePath(_))
    ));
    let notype = Write::Create {
        collection: "a.b".into(),
        rkey: "x".into(),
        record: Value::Map(BTreeMap::new()),
    };
    assert!(matches!(
        go(vec![notype], None, &tid(2)),
        Err(WriteError::InvalidRecord { .. })
    ));
    let put = Write::Put {
        collection: "a.b".into(),
        rkey: "x".into(),
        record: record("p"),
        swap_record: None,
    };
    let out = go(vec![put], None, &tid(2))?;
    assert_eq!(out.ops[0].action, Action::Create);
    Ok(())
}

// ---------- properties ----------

fn key_strategy() -> impl Strategy<Value = String> {
    ("[a-c]{1,2}\\.[a-z]{1,3}", "[a-z0-9]{1,6}").prop_map(|(c, r)| format!("{c}/{r}"))
}

fn value_for(k: &str, salt: u8) -> Cid {
    let mut b = k.as_bytes().to_vec();
    b.push(salt);
    for_cbor(&b)
}

fn tree_of(store: &MemoryBlockStore, keys: &BTreeSet<String>) -> Cid {
    Mst::build(store, keys.iter().map(|k| (k.clone(), value_for(k, 0))))
        .map(|t| t.root())
        .unwrap_or_else(|_| empty_root())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn insert_order_does_not_matter(keys in prop::collection::btree_set(key_strategy(), 0..150), seed in any::<u64>()) {
        let store = MemoryBlockStore::new();
        let mut order: Vec<&String> = keys.iter().collect();
        order.sort_by_key(|k| for_cbor(format!("{seed}{k}").as_bytes()));
        let mut t = Mst::empty(&store);
        for k in order {
            t.add(k, value_for(k, 0)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        prop_assert_eq!(t.root(), tree_of(&store, &keys));
        prop_assert_eq!(t.entries().map_err(|e| TestCaseError::fail(e.to_string()))?.len(), keys.len());
    }

    #[test]
    fn delete_then_reinsert_restores_the_root(keys in prop::collection::btree_set(key_strategy(), 1..120), pick in any::<prop::sample::Index>()) {
        let mut store = MemoryBlockStore::new();
        let t = Mst::build(&store, keys.iter().map(|k| (k.clone(), value_for(k, 0)))).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let root = t.root();
        let blocks = t.unstored_blocks();
        drop(t);
        store_blocks(&mut store, blocks.iter());
        let k = pick.get(&keys.iter().collect::<Vec<_>>()).to_string();
        let mut t = Mst::load(&store, root);
        let old = t.delete(&k).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut without = keys.clone();
        without.remove(&k);
        prop_assert_eq!(t.root(), tree_of(&store, &without));
        prop_assert_eq!(t.get(&k).ok().flatten(), None);
        t.add(&k, old).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(t.root(), root);
    }

    #[test]
    fn diff_applied_to_a_gives_b(a in prop::collection::btree_set(key_strategy(), 0..100), b in prop::collection::btree_set(key_strategy(), 0..100), salt in 0u8..2) {
        let mut store = MemoryBlockStore::new();
        let ta = Mst::build(&store, a.iter().map(|k| (k.clone(), value_for(k, 0)))).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let tb = Mst::build(&store, b.iter().map(|k| (k.clone(), value_for(k, salt)))).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (ra, rb) = (ta.root(), tb.root());
        let (ba, bb) = (ta.unstored_blocks(), tb.unstored_blocks());
        drop((ta, tb));
        store_blocks(&mut store, ba.iter());
        store_blocks(&mut store, bb.iter());
        let view = Mst::load(&store, rb);
        let d = view.diff(Some(ra), rb).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Node sets: new = B \ A, removed = A \ B.
        let na: BTreeSet<Cid> = ba.keys().copied().collect();
        let nb: BTreeSet<Cid> = bb.keys().copied().collect();
        prop_assert_eq!(d.new_nodes.keys().copied().collect::<BTreeSet<_>>(), nb.difference(&na).copied().collect::<BTreeSet<_>>());
        prop_assert_eq!(d.removed_nodes.clone(), na.difference(&nb).copied().collect::<BTreeSet<_>>());
        // Applying the ops to A yields B.
        let mut t = Mst::load(&store, ra);
        for (k, _) in &d.deletes { t.delete(k).map_err(|e| TestCaseError::fail(e.to_string()))?; }
        for (k, _, new) in &d.updates { t.update(k, *new).map_err(|e| TestCaseError::fail(e.to_string()))?; }
        for (k, v) in &d.creates { t.add(k, *v).map_err(|e| TestCaseError::fail(e.to_string()))?; }
        prop_assert_eq!(t.root(), rb);
    }

    #[test]
    fn listing_matches_a_sorted_map(keys in prop::collection::btree_set(key_strategy(), 0..150), lo in key_strategy(), hi in key_strategy(), incl in any::<(bool, bool)>(), limit in 1usize..40) {
        let store = MemoryBlockStore::new();
        let t = Mst::build(&store, keys.iter().map(|k| (k.clone(), value_for(k, 0)))).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let lower = if incl.0 { Bound::Included(lo.as_str()) } else { Bound::Excluded(lo.as_str()) };
        let upper = if incl.1 { Bound::Included(hi.as_str()) } else { Bound::Excluded(hi.as_str()) };
        let inside = |k: &&String| {
            (if incl.0 { k.as_str() >= lo.as_str() } else { k.as_str() > lo.as_str() })
                && (if incl.1 { k.as_str() <= hi.as_str() } else { k.as_str() < hi.as_str() })
        };
        let asc: Vec<String> = keys.iter().filter(inside).take(limit).cloned().collect();
        let desc: Vec<String> = keys.iter().rev().filter(inside).take(limit).cloned().collect();
        let got_asc: Vec<String> = t.list(lower, upper, Direction::Ascending, limit).map_err(|e| TestCaseError::fail(e.to_string()))?.into_iter().map(|e| e.0).collect();
        let got_desc: Vec<String> = t.list(lower, upper, Direction::Descending, limit).map_err(|e| TestCaseError::fail(e.to_string()))?.into_iter().map(|e| e.0).collect();
        prop_assert_eq!(got_asc, asc);
        prop_assert_eq!(got_desc, desc);
        let cols: BTreeSet<String> = keys.iter().filter_map(|k| k.split_once('/').map(|p| p.0.to_string())).collect();
        prop_assert_eq!(t.collections().map_err(|e| TestCaseError::fail(e.to_string()))?, cols.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn car_reader_never_panics_on_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = read_all(bytes.as_slice(), CarLimits::default());
    }

    #[test]
    fn car_reader_never_panics_on_mutated_cars(pos in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let (car, _) = conformance("small");
        let mut bad = car.clone();
        let i = pos.index(bad.len());
        bad[i] = byte;
        bad.truncate(cut.index(bad.len() + 1).max(1));
        if let Ok(file) = read_all(bad.as_slice(), CarLimits::default()) {
            let key = Keypair::generate(Curve::Secp256k1).public();
            let _ = verify_car_file(&file, &VerifyOptions::new(&key));
        }
    }
}

#[test]
fn car_limits_are_enforced() {
    let (car, _) = conformance("small");
    let tight = CarLimits {
        max_block_bytes: 64,
        ..CarLimits::default()
    };
    assert!(matches!(
        read_all(car.as_slice(), tight),
        Err(CarError::TooLarge { .. })
    ));
    let few = CarLimits {
        max_blocks: 3,
        ..CarLimits::default()
    };
    assert!(matches!(
        read_all(car.as_slice(), few),
        Err(CarError::TooManyBlocks(3))
    ));
    let small_total = CarLimits {
        max_total_bytes: 1000,
        ..CarLimits::default()
    };
    assert!(matches!(
        read_all(car.as_slice(), small_total),
        Err(CarError::TooLarge { .. })
    ));
    // A section claiming 2^60 bytes must not allocate.
    let mut huge = vec![0x0a];
    huge.extend_from_slice(&[0xa2, 0x65, b'r', b'o', b'o', b't', b's', 0x80, 0x67, b'v']);
    huge.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]);
    assert!(read_all(huge.as_slice(), CarLimits::default()).is_err());
    // The store trait sees a CarFile as a block source.
    let file = read_all(car.as_slice(), CarLimits::default()).unwrap_or_default();
    let any = file.order.first().copied().unwrap_or_else(empty_root);
    assert!(file.has_block(&any).unwrap_or(false));
    let _: BlockMap = BlockMap::new();
}

// ---------- differential: jacquard-repo, an independent implementation ----------

mod differential {
    use super::*;
    use jacquard_repo::storage::BlockStore;
    use std::sync::Arc;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("tokio runtime: {e}"))
    }

    #[derive(Debug, Clone)]
    enum Op {
        Put(usize, u8),
        Del(usize),
    }

    fn op_strategy() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0usize..400, any::<u8>()).prop_map(|(k, v)| Op::Put(k, v)),
            1 => (0usize..400).prop_map(Op::Del),
        ]
    }

    fn pool_key(i: usize) -> String {
        let col = ["app.bsky.feed.post", "app.bsky.feed.like", "com.example.x"][i % 3];
        format!("{col}/{}", tid(i as u64 * 7_777))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

        /// The same random write sequence gives the same root after every step, and
        /// the same node blocks, byte for byte.
        #[test]
        fn same_roots_and_nodes_as_jacquard(ops in prop::collection::vec(op_strategy(), 1..120)) {
            let rt = runtime();
            let ours_store = MemoryBlockStore::new();
            let mut ours = Mst::empty(&ours_store);
            let jstore = Arc::new(jacquard_repo::MemoryBlockStore::new());
            let mut theirs = jacquard_repo::Mst::new(jstore.clone());
            let mut model: BTreeMap<String, Cid> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Put(i, v) => {
                        let k = pool_key(i);
                        let cid = value_for(&k, v);
                        let existed = model.insert(k.clone(), cid).is_some();
                        ours.insert(&k, cid).map_err(|e| TestCaseError::fail(e.to_string()))?;
                        theirs = rt.block_on(async {
                            if existed { theirs.update(&k, cid).await } else { theirs.add(&k, cid).await }
                        }).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    }
                    Op::Del(i) => {
                        let k = pool_key(i);
                        if model.remove(&k).is_none() { continue; }
                        ours.delete(&k).map_err(|e| TestCaseError::fail(e.to_string()))?;
                        theirs = rt.block_on(theirs.delete(&k)).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    }
                }
                let their_root = rt.block_on(theirs.root()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(ours.root(), their_root);
            }
            let (_, their_blocks) = rt.block_on(theirs.collect_blocks_sequential()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let our_blocks = ours.unstored_blocks();
            let theirs_map: BlockMap = their_blocks.into_iter().map(|(c, b)| (c, b.to_vec())).collect();
            prop_assert_eq!(our_blocks, theirs_map);
        }
    }

    /// The same repository exported by both: the same block set. jacquard writes every
    /// MST node first and the records after them, we interleave records after their
    /// entries (the sync v1.1 streaming order), so the bytes differ by design.
    #[test]
    fn same_car_block_set_as_jacquard() -> TestResult {
        let rt = runtime();
        let kp = Keypair::generate(Curve::Secp256k1);
        let mut store = MemoryBlockStore::new();
        let writes: Vec<Write> = (0..300)
            .map(|i| {
                let k = pool_key(i);
                let (c, r) = k.split_once('/').unwrap_or_default();
                create(c, r, &format!("record {i}"))
            })
            .collect();
        let out = create_repo(&store, &did("did:plc:diff"), &writes, &kp, &tid(1))?;
        store_blocks(&mut store, out.new_blocks.iter());
        let ours = export_car_bytes(&store, &out.commit.cid)?;

        let jstore = Arc::new(jacquard_repo::MemoryBlockStore::new());
        for (_, b) in store.iter() {
            rt.block_on(jstore.put(b))?;
        }
        let theirs_mst = jacquard_repo::Mst::load(jstore.clone(), out.data, None);
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("jacquard.car");
        rt.block_on(jacquard_repo::car::writer::export_repo_car(
            &path,
            out.commit.cid,
            &theirs_mst,
        ))?;
        let theirs = std::fs::read(&path)?;

        let a = read_all(ours.as_slice(), CarLimits::default())?;
        let b = read_all(theirs.as_slice(), CarLimits::default())?;
        assert_eq!(a.roots, b.roots);
        let sa: BTreeSet<Cid> = a.blocks.keys().copied().collect();
        let sb: BTreeSet<Cid> = b.blocks.keys().copied().collect();
        assert_eq!(sa, sb);
        assert_eq!(a.blocks, b.blocks);
        Ok(())
    }
}

#[test]
fn record_proofs_prove_presence_and_absence() -> TestResult {
    let (car, meta) = conformance("medium");
    let file = read_all(car.as_slice(), CarLimits::default())?;
    let mut store = MemoryBlockStore::new();
    store_blocks(&mut store, file.blocks.iter());
    let root: Cid = s(&meta, "commitCid").parse()?;
    let key = PublicKey::from_did_key(s(&meta, "signingKey"))?;
    let records = expected_records(&meta);
    for (k, cid) in records.iter().step_by(97) {
        let (found, bytes) = pds::repo::record_proof_car(&store, &root, k)?;
        assert_eq!(found, Some(*cid));
        let (_, rec) = pds::repo::verify_record_proof(bytes.as_slice(), &key, k)?;
        assert_eq!(rec.map(|r| r.0), Some(*cid));
        // Far fewer blocks than the repo: a path, not the tree.
        assert!(
            read_all(bytes.as_slice(), CarLimits::default())?
                .blocks
                .len()
                < 16
        );
    }
    let absent = "app.bsky.feed.post/2222222222222";
    let (found, bytes) = pds::repo::record_proof_car(&store, &root, absent)?;
    assert_eq!(found, None);
    let (_, rec) = pds::repo::verify_record_proof(bytes.as_slice(), &key, absent)?;
    assert!(rec.is_none());
    // A proof for one key says nothing about a far-away key: missing blocks, not "absent".
    let (_, bytes) = pds::repo::record_proof_car(&store, &root, &records[0].0)?;
    let r = pds::repo::verify_record_proof(bytes.as_slice(), &key, &records[records.len() - 1].0);
    assert!(matches!(r, Err(VerifyError::MissingBlock { .. })), "{r:?}");
    Ok(())
}

/// A block source that counts reads.
struct Counting<'a> {
    inner: &'a MemoryBlockStore,
    reads: std::cell::Cell<usize>,
}

impl BlockSource for Counting<'_> {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, pds::store::StoreError> {
        self.reads.set(self.reads.get() + 1);
        self.inner.get_block(cid)
    }
}

/// One write into a 20k-record repo reads and writes a few dozen nodes, not the tree.
#[test]
fn a_write_touches_only_a_path() -> TestResult {
    let kp = Keypair::generate(Curve::P256);
    let mut store = MemoryBlockStore::new();
    let entries: Vec<(String, Cid)> = (0..20_000u64)
        .map(|i| {
            (
                format!("app.bsky.feed.like/{}", tid(i * 13)),
                for_cbor(&i.to_be_bytes()),
            )
        })
        .collect();
    let rebuilt = rebuild_repo(&store, &did("did:plc:big"), entries, &kp, &tid(1_000_000))?;
    let nodes = rebuilt.blocks.len() - 1;
    store_blocks(&mut store, rebuilt.blocks.iter());
    let head = RepoHead {
        commit: rebuilt.commit.cid,
        rev: rebuilt.commit.commit.rev.clone(),
        data: rebuilt.data,
    };
    let counting = Counting {
        inner: &store,
        reads: std::cell::Cell::new(0),
    };
    let w = [create("app.bsky.feed.post", tid(5).as_str(), "one more")];
    let out = apply_writes(
        &counting,
        &head,
        &did("did:plc:big"),
        &w,
        None,
        &kp,
        &tid(2_000_000),
    )?;
    let reads = counting.reads.get();
    let new_nodes = out.new_blocks.len() - 2; // minus commit and record
    eprintln!(
        "one write into {nodes} nodes: {reads} store reads, {new_nodes} new nodes, {} firehose blocks",
        out.firehose_blocks.len()
    );
    assert!(
        reads <= 40,
        "{reads} store reads for one write into {nodes} nodes"
    );
    assert!(new_nodes <= 16, "{new_nodes} new nodes for one write");
    assert!(out.firehose_blocks.len() <= 40);
    // Listing a prefix agrees with listing the collection.
    let t = Mst::load(&store, head.data);
    let a = t.list_prefix("app.bsky.feed.like/", Direction::Descending, 25)?;
    let b = t.list_collection("app.bsky.feed.like", None, Direction::Descending, 25)?;
    assert_eq!(a, b);
    assert_eq!(a.len(), 25);
    Ok(())
}
