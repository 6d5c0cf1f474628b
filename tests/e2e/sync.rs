//! com.atproto.sync.* end to end, checked with the `pds` library: the exported CAR
//! verifies, proofs verify, `since` gives only newer blocks, listRepos pages.

use crate::support::{Pdsd, assert_error};
use serde_json::json;

fn signing_key(p: &Pdsd, access: &str) -> pds::crypto::PublicKey {
    let (_, s) = p
        .xrpc()
        .get("com.atproto.server.getSession", &[], Some(access));
    let doc: pds::identity::DidDocument = serde_json::from_value(s["didDoc"].clone()).expect("doc");
    doc.atproto_signing_key().expect("key")
}

#[test]
fn get_repo_verifies_and_since_gives_newer_blocks() {
    let p = Pdsd::start();
    let a = p.create_account();
    let x = p.xrpc();
    let mut rev_mid = String::new();
    for i in 0..30 {
        let (st, body) = x.post(
            "com.atproto.repo.createRecord",
            &json!({"repo": a.did, "collection": "com.example.n", "rkey": format!("k{i:02}"), "record": {"$type": "com.example.n", "i": i}}),
            Some(&a.access),
        );
        assert_eq!(st, 200);
        if i == 14 {
            rev_mid = body["commit"]["rev"].as_str().expect("rev").to_string();
        }
    }
    let key = signing_key(&p, &a.access);
    let (st, car, headers) = x.get_bytes("com.atproto.sync.getRepo", &[("did", &a.did)]);
    assert_eq!(st, 200);
    assert_eq!(headers["content-type"], "application/vnd.ipld.car");
    let mut opts = pds::repo::VerifyOptions::new(&key);
    opts.did = Some(&a.did);
    let v = pds::repo::verify_car(std::io::Cursor::new(&car), &opts).expect("repo verifies");
    assert_eq!(v.records.len(), 30);
    assert!(v.stray_blocks.is_empty());
    let (_, latest) = x.get("com.atproto.sync.getLatestCommit", &[("did", &a.did)], None);
    assert_eq!(latest["cid"], json!(v.commit_cid.to_string()));
    // since: strictly fewer blocks, all of them in the full export.
    let (st, partial, _) = x.get_bytes(
        "com.atproto.sync.getRepo",
        &[("did", &a.did), ("since", &rev_mid)],
    );
    assert_eq!(st, 200);
    let part = pds::car::read_all(std::io::Cursor::new(&partial), Default::default()).expect("car");
    let full = pds::car::read_all(std::io::Cursor::new(&car), Default::default()).expect("car");
    assert_eq!(part.roots, full.roots);
    assert!(part.blocks.len() < full.blocks.len());
    assert!(!part.blocks.is_empty());
    assert_error(
        &x.get(
            "com.atproto.sync.getRepo",
            &[("did", &a.did), ("since", "nope")],
            None,
        ),
        400,
        "InvalidRequest",
    );
    assert_error(
        &x.get(
            "com.atproto.sync.getRepo",
            &[("did", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")],
            None,
        ),
        400,
        "RepoNotFound",
    );
}

#[test]
fn record_proofs_and_blocks() {
    let p = Pdsd::start();
    let a = p.create_account();
    let x = p.xrpc();
    for i in 0..10 {
        x.post(
            "com.atproto.repo.createRecord",
            &json!({"repo": a.did, "collection": "com.example.n", "rkey": format!("k{i}"), "record": {"$type": "com.example.n", "i": i}}),
            Some(&a.access),
        );
    }
    let key = signing_key(&p, &a.access);
    let (st, proof, _) = x.get_bytes(
        "com.atproto.sync.getRecord",
        &[
            ("did", &a.did),
            ("collection", "com.example.n"),
            ("rkey", "k3"),
        ],
    );
    assert_eq!(st, 200);
    let (_, rec) = x.get(
        "com.atproto.repo.getRecord",
        &[
            ("repo", &a.did),
            ("collection", "com.example.n"),
            ("rkey", "k3"),
        ],
        None,
    );
    let want = pds::data::cid::parse(rec["cid"].as_str().expect("cid")).expect("cid");
    let (commit, got) =
        pds::repo::verify_record_proof(std::io::Cursor::new(&proof), &key, "com.example.n/k3")
            .expect("proof verifies");
    assert_eq!(commit.did.as_str(), a.did);
    assert_eq!(got.map(|(c, _)| c), Some(want));
    // A proof of absence.
    let (_, absent, _) = x.get_bytes(
        "com.atproto.sync.getRecord",
        &[
            ("did", &a.did),
            ("collection", "com.example.n"),
            ("rkey", "zz"),
        ],
    );
    let (_, got) =
        pds::repo::verify_record_proof(std::io::Cursor::new(&absent), &key, "com.example.n/zz")
            .expect("proof verifies");
    assert!(got.is_none());
    // getBlocks: present and missing.
    let (st, car, _) = x.get_bytes(
        "com.atproto.sync.getBlocks",
        &[("did", &a.did), ("cids", &want.to_string())],
    );
    assert_eq!(st, 200);
    let file = pds::car::read_all(std::io::Cursor::new(&car), Default::default()).expect("car");
    assert!(file.blocks.contains_key(&want));
    assert_error(
        &x.get(
            "com.atproto.sync.getBlocks",
            &[
                ("did", &a.did),
                (
                    "cids",
                    "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
                ),
            ],
            None,
        ),
        400,
        "BlockNotFound",
    );
}

#[test]
fn list_repos_pages_through_every_account() {
    let p = Pdsd::start();
    let mut dids: Vec<String> = (0..5).map(|_| p.create_account().did).collect();
    dids.sort();
    let x = p.xrpc();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut params = vec![("limit", "2")];
        let c;
        if let Some(cur) = &cursor {
            c = cur.clone();
            params.push(("cursor", c.as_str()));
        }
        let (st, page) = x.get("com.atproto.sync.listRepos", &params, None);
        assert_eq!(st, 200);
        for r in page["repos"].as_array().expect("repos") {
            assert_eq!(r["active"], json!(true));
            seen.push(r["did"].as_str().expect("did").to_string());
        }
        match page["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, dids);
}
