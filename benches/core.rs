//! `cargo bench -p pds --bench core`: the repository hot paths at realistic sizes.
//!
//! - building the MST of 100k keys in one pass
//! - 1k single inserts into a 100k-key tree, each loading the tree from the store
//!   afresh (as the daemon does per write) and collecting its new blocks
//! - one `apply_writes` create (diff, proofs, signing) on a 100k-record repo
//! - CAR export and full verification of a 100k-record repo
//! - commit signing and verification on P-256 and secp256k1
//!
//! Benchmarks only: no assertions beyond sanity checks that the work was done.

use criterion::{Criterion, criterion_group, criterion_main};
use pds::Cid;
use pds::crypto::{Curve, Keypair};
use pds::data::{Value, cid::for_cbor};
use pds::repo::export::export_car_bytes;
use pds::repo::mst::Mst;
use pds::repo::writes::record_block;
use pds::repo::{
    RepoHead, UnsignedCommit, VerifyOptions, Write, apply_writes, rebuild_repo, verify_car,
};
use pds::store::{BlockSink, MemoryBlockStore};
use pds::syntax::{Did, Tid};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

const N: usize = 100_000;

fn tid(n: u64) -> Tid {
    Tid::from_parts(1_700_000_000_000_000u64 + n * 7919, 0)
}

fn did() -> Did {
    Did::new("did:plc:bench").unwrap_or_else(|e| panic!("{e}"))
}

fn record(i: usize) -> Value {
    let mut m = BTreeMap::new();
    m.insert(
        "$type".to_string(),
        Value::String("app.bsky.feed.post".into()),
    );
    m.insert(
        "text".to_string(),
        Value::String(format!("post number {i}")),
    );
    m.insert(
        "createdAt".to_string(),
        Value::String("2024-01-01T00:00:00.000Z".into()),
    );
    Value::Map(m)
}

fn key(i: usize) -> String {
    let col = [
        "app.bsky.feed.post",
        "app.bsky.feed.like",
        "app.bsky.graph.follow",
    ][i % 3];
    format!("{col}/{}", tid(i as u64))
}

/// A stored 100k-record repository: store, head, signing key.
fn big_repo() -> (MemoryBlockStore, RepoHead, Keypair, Vec<(String, Cid)>) {
    let mut store = MemoryBlockStore::new();
    let mut entries = Vec::with_capacity(N);
    for i in 0..N {
        let k = key(i);
        let Ok((cid, bytes)) = record_block(&k, &record(i)) else {
            continue;
        };
        let _ = store.put_block(cid, bytes);
        entries.push((k, cid));
    }
    let kp = Keypair::generate(Curve::Secp256k1);
    let Ok(rebuilt) = rebuild_repo(&store, &did(), entries.clone(), &kp, &tid(10_000_000)) else {
        panic!("rebuild failed");
    };
    for (c, b) in rebuilt.blocks {
        let _ = store.put_block(c, b);
    }
    let head = RepoHead {
        commit: rebuilt.commit.cid,
        rev: rebuilt.commit.commit.rev.clone(),
        data: rebuilt.data,
    };
    (store, head, kp, entries)
}

fn benches(c: &mut Criterion) {
    let (store, head, kp, entries) = big_repo();

    let mut g = c.benchmark_group("mst");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.bench_function("build_100k", |b| {
        b.iter(|| {
            let empty = MemoryBlockStore::new();
            let t = Mst::build(&empty, entries.iter().cloned()).map(|t| t.root());
            black_box(t.ok())
        })
    });
    let extra: Vec<(String, Cid)> = (0..1000)
        .map(|i| {
            (
                format!("app.bsky.feed.repost/{}", tid(20_000_000 + i)),
                for_cbor(&i.to_be_bytes()),
            )
        })
        .collect();
    let mut touched = 0usize;
    g.bench_function("insert_1k_into_100k_each_with_new_blocks", |b| {
        b.iter(|| {
            touched = 0;
            for (k, v) in &extra {
                let mut t = Mst::load(&store, head.data);
                if t.add(k, *v).is_ok() {
                    touched += t.unstored_blocks().len();
                }
            }
            black_box(touched)
        })
    });
    eprintln!(
        "average new MST nodes per insert into 100k keys: {:.1}",
        touched as f64 / 1000.0
    );
    g.finish();

    let mut g = c.benchmark_group("repo");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.bench_function("apply_writes_one_create_on_100k", |b| {
        let w = [Write::Create {
            collection: "app.bsky.feed.post".into(),
            rkey: tid(30_000_000).to_string(),
            record: record(1),
        }];
        b.iter(|| {
            black_box(
                apply_writes(&store, &head, &did(), &w, None, &kp, &tid(40_000_000))
                    .map(|o| o.new_blocks.len())
                    .ok(),
            )
        })
    });
    let car = export_car_bytes(&store, &head.commit).unwrap_or_default();
    eprintln!("100k-record CAR: {} bytes", car.len());
    g.bench_function("export_car_100k", |b| {
        b.iter(|| black_box(export_car_bytes(&store, &head.commit).map(|v| v.len()).ok()))
    });
    let public = kp.public();
    g.bench_function("verify_car_100k", |b| {
        b.iter(|| {
            let r = verify_car(car.as_slice(), &VerifyOptions::new(&public));
            black_box(r.map(|v| v.records.len()).ok())
        })
    });
    g.finish();

    let mut g = c.benchmark_group("commit");
    for curve in [Curve::P256, Curve::Secp256k1] {
        let kp = Keypair::generate(curve);
        let pk = kp.public();
        let unsigned = UnsignedCommit::new(did(), head.data, tid(1), None);
        g.bench_function(format!("sign_{curve}"), |b| {
            b.iter(|| black_box(unsigned.clone().sign(&kp).map(|s| s.cid).ok()))
        });
        let Ok(signed) = unsigned.clone().sign(&kp) else {
            continue;
        };
        g.bench_function(format!("verify_{curve}"), |b| {
            b.iter(|| black_box(signed.commit.verify(&pk).is_ok()))
        });
    }
    g.finish();
}

criterion_group!(core, benches);
criterion_main!(core);
