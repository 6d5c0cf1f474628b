//! com.atproto.repo.* end to end: writes (atomic batches, swaps, validation), reads,
//! blobs, import, missing blobs.

use crate::support::{Account, Pdsd, assert_error};
use serde_json::{Value, json};

fn post_record(text: &str) -> Value {
    json!({"$type": "app.bsky.feed.post", "text": text, "createdAt": "2026-01-01T00:00:00.000Z"})
}

fn create(
    p: &Pdsd,
    a: &Account,
    collection: &str,
    rkey: Option<&str>,
    record: Value,
) -> (u16, Value) {
    let mut body = json!({"repo": a.did, "collection": collection, "record": record});
    if let Some(k) = rkey {
        body["rkey"] = json!(k);
    }
    p.xrpc()
        .post("com.atproto.repo.createRecord", &body, Some(&a.access))
}

#[test]
fn write_to_another_accounts_repo_is_refused() {
    let p = Pdsd::start();
    let a = p.create_account();
    let b = p.create_account();
    let (st, body) = p.xrpc().post(
        "com.atproto.repo.createRecord",
        &json!({"repo": b.did, "collection": "app.bsky.feed.post", "record": post_record("x")}),
        Some(&a.access),
    );
    assert_eq!(st, 401, "{body}");
}

#[test]
fn apply_writes_is_atomic() {
    let p = Pdsd::start();
    let a = p.create_account();
    let x = p.xrpc();
    let (st, _) = create(
        &p,
        &a,
        "app.bsky.feed.post",
        Some("3kaaaaaaaaaa2"),
        post_record("keep"),
    );
    assert_eq!(st, 200);
    let (_, before) = x.get("com.atproto.sync.getLatestCommit", &[("did", &a.did)], None);
    // The second write fails validation: nothing of the batch may be applied.
    let res = x.post(
        "com.atproto.repo.applyWrites",
        &json!({"repo": a.did, "writes": [
            {"$type": "com.atproto.repo.applyWrites#delete", "collection": "app.bsky.feed.post", "rkey": "3kaaaaaaaaaa2"},
            {"$type": "com.atproto.repo.applyWrites#create", "collection": "app.bsky.feed.post", "value": {"$type": "app.bsky.feed.post", "text": 5}},
        ]}),
        Some(&a.access),
    );
    assert_error(&res, 400, "InvalidRequest");
    // An update of a missing record fails the whole batch too.
    let res = x.post(
        "com.atproto.repo.applyWrites",
        &json!({"repo": a.did, "writes": [
            {"$type": "com.atproto.repo.applyWrites#delete", "collection": "app.bsky.feed.post", "rkey": "3kaaaaaaaaaa2"},
            {"$type": "com.atproto.repo.applyWrites#update", "collection": "app.bsky.feed.post", "rkey": "3kzzzzzzzzzz2", "value": post_record("y")},
        ]}),
        Some(&a.access),
    );
    assert_error(&res, 400, "RecordNotFound");
    let (_, after) = x.get("com.atproto.sync.getLatestCommit", &[("did", &a.did)], None);
    assert_eq!(before, after, "a failed batch must not move the head");
    let (st, _) = x.get(
        "com.atproto.repo.getRecord",
        &[
            ("repo", &a.did),
            ("collection", "app.bsky.feed.post"),
            ("rkey", "3kaaaaaaaaaa2"),
        ],
        None,
    );
    assert_eq!(st, 200, "the record survives a failed batch");
    // Too many writes.
    let many: Vec<Value> = (0..201)
        .map(|i| json!({"$type": "com.atproto.repo.applyWrites#create", "collection": "com.example.thing", "rkey": format!("k{i}"), "value": {"$type": "com.example.thing"}}))
        .collect();
    assert_error(
        &x.post(
            "com.atproto.repo.applyWrites",
            &json!({"repo": a.did, "writes": many}),
            Some(&a.access),
        ),
        400,
        "InvalidRequest",
    );
}

#[test]
fn records_round_trip_and_validation_rules() {
    let p = Pdsd::start();
    let a = p.create_account();
    let x = p.xrpc();
    // Unknown collections pass unless validate=true.
    let (st, body) = create(
        &p,
        &a,
        "com.example.note",
        Some("one"),
        json!({"$type": "com.example.note", "n": 1}),
    );
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["validationStatus"], json!("unknown"));
    let res = x.post(
        "com.atproto.repo.createRecord",
        &json!({"repo": a.did, "collection": "com.example.note", "validate": true, "record": {"$type": "com.example.note"}}),
        Some(&a.access),
    );
    assert_error(&res, 400, "InvalidRequest");
    // $type must match the collection; floats are not data-model values.
    assert_error(
        &create(
            &p,
            &a,
            "com.example.note",
            None,
            json!({"$type": "com.example.other"}),
        ),
        400,
        "InvalidRequest",
    );
    assert_error(
        &create(
            &p,
            &a,
            "com.example.note",
            None,
            json!({"$type": "com.example.note", "f": 1.5}),
        ),
        400,
        "InvalidRequest",
    );
    // getRecord with a cid that does not match.
    let (_, got) = x.get(
        "com.atproto.repo.getRecord",
        &[
            ("repo", &a.did),
            ("collection", "com.example.note"),
            ("rkey", "one"),
        ],
        None,
    );
    assert_eq!(got["value"], json!({"$type": "com.example.note", "n": 1}));
    let other = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm";
    assert_error(
        &x.get(
            "com.atproto.repo.getRecord",
            &[
                ("repo", &a.did),
                ("collection", "com.example.note"),
                ("rkey", "one"),
                ("cid", other),
            ],
            None,
        ),
        400,
        "RecordNotFound",
    );
    // describeRepo lists the collection.
    let (_, d) = x.get(
        "com.atproto.repo.describeRepo",
        &[("repo", &a.handle)],
        None,
    );
    assert!(
        d["collections"]
            .as_array()
            .expect("list")
            .contains(&json!("com.example.note"))
    );
    // listRecords limits.
    assert_error(
        &x.get(
            "com.atproto.repo.listRecords",
            &[
                ("repo", &a.did),
                ("collection", "com.example.note"),
                ("limit", "0"),
            ],
            None,
        ),
        400,
        "InvalidRequest",
    );
    // Malformed JSON and wrong content types.
    let res = x
        .raw(reqwest::Method::POST, "/xrpc/com.atproto.repo.createRecord")
        .bearer_auth(&a.access)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .expect("req");
    assert_eq!(res.status().as_u16(), 400);
    let res = x
        .raw(reqwest::Method::POST, "/xrpc/com.atproto.repo.createRecord")
        .bearer_auth(&a.access)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .expect("req");
    assert_eq!(res.status().as_u16(), 400);
}

#[test]
fn blobs_are_sniffed_limited_and_served_immutable() {
    let p = Pdsd::start();
    let a = p.create_account();
    let x = p.xrpc();
    let png = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
            .expect("png")
    };
    let (st, up) = x.post_bytes(
        "com.atproto.repo.uploadBlob",
        png.clone(),
        "application/octet-stream",
        Some(&a.access),
    );
    assert_eq!(st, 200, "{up}");
    assert_eq!(
        up["blob"]["mimeType"],
        json!("image/png"),
        "sniffed from the bytes"
    );
    let cid = up["blob"]["ref"]["$link"]
        .as_str()
        .expect("cid")
        .to_string();
    assert_eq!(cid, pds::data::cid::for_raw(&png).to_string());
    // Not referenced yet: listBlobs lists referenced blobs only.
    let (_, listed) = x.get("com.atproto.sync.listBlobs", &[("did", &a.did)], None);
    assert_eq!(listed["cids"], json!([]));
    let (st, _) = create(
        &p,
        &a,
        "com.example.pic",
        Some("p"),
        json!({"$type": "com.example.pic", "img": up["blob"]}),
    );
    assert_eq!(st, 200);
    let (_, listed) = x.get("com.atproto.sync.listBlobs", &[("did", &a.did)], None);
    assert_eq!(listed["cids"], json!([cid]));
    let (st, bytes, headers) = x.get_bytes(
        "com.atproto.sync.getBlob",
        &[("did", &a.did), ("cid", &cid)],
    );
    assert_eq!(st, 200);
    assert_eq!(bytes, png);
    assert_eq!(headers["content-type"], "image/png");
    assert!(
        headers["cache-control"]
            .to_str()
            .expect("cc")
            .contains("immutable")
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    // A record pointing at a blob that was never uploaded is refused.
    let missing = json!({"$type": "blob", "ref": {"$link": "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"}, "mimeType": "image/png", "size": 3});
    assert_error(
        &create(
            &p,
            &a,
            "com.example.pic",
            None,
            json!({"$type": "com.example.pic", "img": missing}),
        ),
        400,
        "InvalidRequest",
    );
    // Unknown blob.
    assert_error(
        &x.get(
            "com.atproto.sync.getBlob",
            &[
                ("did", &a.did),
                (
                    "cid",
                    "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
                ),
            ],
            None,
        ),
        400,
        "BlobNotFound",
    );
    // Over the tier limit (5 MiB by default).
    let big = vec![7u8; 5 * 1024 * 1024 + 1];
    assert_error(
        &x.post_bytes(
            "com.atproto.repo.uploadBlob",
            big,
            "application/octet-stream",
            Some(&a.access),
        ),
        400,
        "BlobTooLarge",
    );
}

#[test]
fn import_replaces_the_repo_after_verifying_it() {
    let p = Pdsd::start();
    let a = p.create_account();
    let x = p.xrpc();
    for i in 0..20 {
        assert_eq!(
            create(
                &p,
                &a,
                "com.example.n",
                Some(&format!("k{i:02}")),
                json!({"$type": "com.example.n", "i": i})
            )
            .0,
            200
        );
    }
    let (_, car, _) = x.get_bytes("com.atproto.sync.getRepo", &[("did", &a.did)]);
    let data_before = {
        let file = pds::car::read_all(std::io::Cursor::new(&car), Default::default()).expect("car");
        let root = file.roots[0];
        pds::repo::Commit::decode(file.blocks.get(&root).expect("commit block"))
            .expect("commit")
            .data
    };
    // Change the repo, then import the earlier export: the records come back.
    assert_eq!(
        create(
            &p,
            &a,
            "com.example.n",
            Some("extra"),
            json!({"$type": "com.example.n"})
        )
        .0,
        200
    );
    let (st, body) = x.post_bytes(
        "com.atproto.repo.importRepo",
        car.clone(),
        "application/vnd.ipld.car",
        Some(&a.access),
    );
    assert_eq!(st, 200, "{body}");
    let (_, latest) = x.get("com.atproto.sync.getLatestCommit", &[("did", &a.did)], None);
    let (_, car2, _) = x.get_bytes("com.atproto.sync.getRepo", &[("did", &a.did)]);
    let file = pds::car::read_all(std::io::Cursor::new(&car2), Default::default()).expect("car");
    let commit = pds::repo::Commit::decode(file.blocks.get(&file.roots[0]).expect("commit block"))
        .expect("commit");
    assert_eq!(
        commit.data, data_before,
        "same records give the same MST root"
    );
    assert_eq!(latest["cid"], json!(file.roots[0].to_string()));
    // A tampered CAR is refused and changes nothing.
    let mut bad = car.clone();
    let n = bad.len();
    bad[n - 3] ^= 0x55;
    let res = x.post_bytes(
        "com.atproto.repo.importRepo",
        bad,
        "application/vnd.ipld.car",
        Some(&a.access),
    );
    assert_error(&res, 400, "InvalidRequest");
    // Another account's repo is refused.
    let b = p.create_account();
    let res = x.post_bytes(
        "com.atproto.repo.importRepo",
        car,
        "application/vnd.ipld.car",
        Some(&b.access),
    );
    assert_error(&res, 400, "InvalidRequest");
    let (_, still) = x.get("com.atproto.sync.getLatestCommit", &[("did", &a.did)], None);
    assert_eq!(still, latest);
}
