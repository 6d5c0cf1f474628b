//! The built-in lexicon catalog (`lexicons/`, vendored from bluesky-social/atproto) and
//! the catalog's public behaviour beyond the interop vectors: every vendored file parses
//! and is embedded, every reference resolves, real Bluesky records validate and
//! malformed ones are refused with the path of the offending field, record keys follow
//! the collection's key type, unknown collections pass only optimistically, XRPC bodies
//! validate, and the structural schema rules refuse what they should.

use pds::data::Value;
use pds::data::json::{from_json, record_from_json};
use pds::lexicon::builtin::{builtin_errors, builtin_files};
use pds::lexicon::{Catalog, LexiconDoc, LexiconError, ValidationStatus, builtin};
use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};

const CID: &str = "bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq";
const BLOB_CID: &str = "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy";
const RKEY: &str = "3kznmn7xqxl22";

fn value(j: Json) -> Value {
    from_json(&j).expect("test JSON is valid atproto JSON")
}

fn record(j: Json) -> Value {
    record_from_json(&j).expect("test JSON is a valid atproto record")
}

fn post(extra: Json) -> Json {
    let mut p = json!({
        "$type": "app.bsky.feed.post",
        "text": "hello world",
        "createdAt": "2024-05-01T12:34:56.789Z",
    });
    if let (Some(p), Json::Object(extra)) = (p.as_object_mut(), extra) {
        p.extend(extra);
    }
    p
}

fn image(mime: &str, size: u64, alt: Option<&str>) -> Json {
    let mut img = json!({
        "image": {"$type": "blob", "ref": {"$link": BLOB_CID}, "mimeType": mime, "size": size},
    });
    if let (Some(obj), Some(alt)) = (img.as_object_mut(), alt) {
        obj.insert("alt".into(), json!(alt));
    }
    img
}

fn validate_post(extra: Json) -> Result<(), LexiconError> {
    builtin().validate_record("app.bsky.feed.post", RKEY, &record(post(extra)))
}

/// The error's path, for the variants that carry one.
fn path_of(e: &LexiconError) -> &str {
    match e {
        LexiconError::Invalid { path, .. } | LexiconError::Reference { path, .. } => path,
        _ => "",
    }
}

fn lexicons_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("lexicons")
}

fn json_files_under(dir: &Path, root: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("lexicons/ is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            json_files_under(&path, root, out);
        } else if path.extension().is_some_and(|x| x == "json") {
            let rel = path.strip_prefix(root).expect("under root");
            let rel: Vec<_> = rel
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            out.push(rel.join("/"));
        }
    }
}

#[test]
fn embedded_list_matches_the_lexicons_folder() {
    let dir = lexicons_dir();
    let mut on_disk = Vec::new();
    json_files_under(&dir, &dir, &mut on_disk);
    on_disk.sort();
    let embedded: Vec<String> = builtin_files().iter().map(|(p, _)| p.to_string()).collect();
    assert_eq!(
        embedded, on_disk,
        "src/lexicon/builtin_files.rs is stale: run lexicons/update-builtin-list.sh"
    );
}

#[test]
fn every_vendored_file_parses_and_matches_its_path() {
    assert!(
        builtin_files().len() > 200,
        "expected the full com.atproto + app.bsky set"
    );
    for (path, text) in builtin_files() {
        let doc = LexiconDoc::from_json(text).unwrap_or_else(|e| panic!("{path}: {e}"));
        let expected_id = path.trim_end_matches(".json").replace('/', ".");
        assert_eq!(doc.id, expected_id, "{path}");
    }
    assert!(builtin_errors().is_empty(), "{:?}", builtin_errors());
    assert_eq!(builtin().len(), builtin_files().len());
}

#[test]
fn every_builtin_reference_resolves() {
    builtin()
        .check_refs()
        .expect("all refs in the vendored lexicons resolve");
}

#[test]
fn known_collections() {
    let c = builtin();
    for nsid in [
        "app.bsky.feed.post",
        "app.bsky.actor.profile",
        "app.bsky.graph.follow",
    ] {
        assert!(c.is_known_collection(nsid), "{nsid}");
    }
    assert!(!c.is_known_collection("com.example.unknown.thing"));
    // Known lexicons that are not records are not collections.
    assert!(!c.is_known_collection("app.bsky.actor.defs"));
    assert!(!c.is_known_collection("com.atproto.repo.createRecord"));
}

#[test]
fn plain_and_rich_posts_validate() {
    validate_post(json!({})).expect("minimal post");
    validate_post(json!({
        "langs": ["en", "pt-BR"],
        "tags": ["rust"],
        "facets": [{
            "index": {"byteStart": 0, "byteEnd": 5},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/"}]
        }],
        "reply": {
            "root": {"uri": "at://did:plc:abc123/app.bsky.feed.post/3kznmn7xqxl22", "cid": CID},
            "parent": {"uri": "at://did:plc:abc123/app.bsky.feed.post/3kznmn7xqxl22", "cid": CID}
        },
        "embed": {"$type": "app.bsky.embed.images", "images": [image("image/png", 1234, Some("a cat"))]},
        "labels": {"$type": "com.atproto.label.defs#selfLabels", "values": [{"val": "nudity"}]}
    }))
    .expect("rich post");
    // 300 graphemes of multi-byte emoji: within maxGraphemes, and 2400 bytes <= 3000.
    validate_post(json!({"text": "🦀🦀".repeat(150)})).expect("300 graphemes");
}

#[test]
fn open_union_admits_unknown_variants() {
    validate_post(json!({"embed": {"$type": "com.example.embed.custom", "anything": 1}}))
        .expect("embed is an open union");
    let e = validate_post(json!({"embed": {"anything": 1}})).expect_err("no $type");
    assert_eq!(path_of(&e), "record/embed/$type");
    let e = validate_post(json!({"embed": {"$type": "app.bsky.embed.images#main", "images": []}}))
        .expect_err("#main must be implicit");
    assert_eq!(path_of(&e), "record/embed/$type");
}

#[test]
fn malformed_posts_are_refused_with_the_field_path() {
    let cases: Vec<(Json, &str)> = vec![
        (
            json!({"embed": {"$type": "app.bsky.embed.images", "images": [image("image/png", 10, None)]}}),
            "record/embed/images/0/alt",
        ),
        (
            json!({"embed": {"$type": "app.bsky.embed.images", "images": [image("text/plain", 10, Some("x"))]}}),
            "record/embed/images/0/image",
        ),
        (
            json!({"embed": {"$type": "app.bsky.embed.images", "images": [image("image/png", 2_000_001, Some("x"))]}}),
            "record/embed/images/0/image",
        ),
        (
            json!({"embed": {"$type": "app.bsky.embed.images", "images": vec![image("image/png", 1, Some("x")); 5]}}),
            "record/embed/images",
        ),
        (json!({"text": "x".repeat(301)}), "record/text"),
        (json!({"text": "é".repeat(1501)}), "record/text"),
        (json!({"text": 42}), "record/text"),
        (json!({"createdAt": "2024-05-01"}), "record/createdAt"),
        (json!({"createdAt": null}), "record/createdAt"),
        (json!({"langs": ["en", "en", "en", "en"]}), "record/langs"),
        (
            json!({"langs": ["this is not a language"]}),
            "record/langs/0",
        ),
        (
            json!({"reply": {"root": {"uri": "at://did:plc:abc123/app.bsky.feed.post/3kznmn7xqxl22", "cid": CID}}}),
            "record/reply/parent",
        ),
        (
            json!({"reply": {"root": {"uri": "https://example.com", "cid": CID},
                          "parent": {"uri": "at://did:plc:abc123/app.bsky.feed.post/3kznmn7xqxl22", "cid": CID}}}),
            "record/reply/root/uri",
        ),
        (
            json!({"facets": [{"index": {"byteStart": -1, "byteEnd": 5}, "features": []}]}),
            "record/facets/0/index/byteStart",
        ),
        (
            json!({"labels": {"$type": "com.atproto.label.defs#selfLabels", "values": [{"val": 7}]}}),
            "record/labels/values/0/val",
        ),
    ];
    for (extra, path) in cases {
        let shown = extra.to_string();
        let e = validate_post(extra).expect_err(&shown);
        assert_eq!(path_of(&e), path, "{shown}: {e}");
    }
    let mut missing = post(json!({}));
    if let Some(o) = missing.as_object_mut() {
        o.remove("createdAt");
    }
    let e = builtin()
        .validate_record("app.bsky.feed.post", RKEY, &record(missing))
        .expect_err("createdAt is required");
    assert_eq!(path_of(&e), "record/createdAt");
}

#[test]
fn record_type_must_match_the_collection() {
    let like = json!({
        "$type": "app.bsky.feed.like",
        "subject": {"uri": "at://did:plc:abc123/app.bsky.feed.post/3kznmn7xqxl22", "cid": CID},
        "createdAt": "2024-05-01T12:34:56Z"
    });
    builtin()
        .validate_record("app.bsky.feed.like", RKEY, &record(like.clone()))
        .expect("a like");
    let e = builtin()
        .validate_record("app.bsky.feed.post", RKEY, &record(like))
        .expect_err("a like is not a post");
    assert_eq!(path_of(&e), "record/$type");
    let e = builtin()
        .validate_record("app.bsky.feed.post", RKEY, &value(json!([1, 2])))
        .expect_err("not an object");
    assert_eq!(path_of(&e), "record");
}

#[test]
fn record_keys_follow_the_key_type() {
    let c = builtin();
    let p = record(post(json!({})));
    assert!(matches!(
        c.validate_record("app.bsky.feed.post", "self", &p),
        Err(LexiconError::RecordKey { .. })
    ));
    assert!(matches!(
        c.validate_record("app.bsky.feed.post", "..", &p),
        Err(LexiconError::RecordKey { .. })
    ));
    let profile = record(json!({"$type": "app.bsky.actor.profile", "displayName": "Alice"}));
    c.validate_record("app.bsky.actor.profile", "self", &profile)
        .expect("literal:self");
    assert!(matches!(
        c.validate_record("app.bsky.actor.profile", RKEY, &profile),
        Err(LexiconError::RecordKey { .. })
    ));
}

#[test]
fn unknown_collections_pass_only_optimistically() {
    let c = builtin();
    let r = record(json!({"$type": "com.example.thing", "x": 1}));
    assert_eq!(
        c.check_record("com.example.thing", RKEY, &r, false),
        Ok(ValidationStatus::Unknown)
    );
    assert_eq!(ValidationStatus::Unknown.as_str(), "unknown");
    assert_eq!(
        c.check_record("com.example.thing", RKEY, &r, true),
        Err(LexiconError::UnknownLexicon("com.example.thing".into()))
    );
    assert_eq!(
        c.check_record("app.bsky.feed.post", RKEY, &record(post(json!({}))), false),
        Ok(ValidationStatus::Valid)
    );
    assert!(
        c.check_record(
            "app.bsky.feed.post",
            RKEY,
            &record(post(json!({"text": 1}))),
            false
        )
        .is_err()
    );
}

#[test]
fn xrpc_bodies_and_named_defs() {
    let c = builtin();
    let input = value(json!({
        "repo": "alice.example.com",
        "collection": "app.bsky.feed.post",
        "record": post(json!({}))
    }));
    c.validate_input("com.atproto.repo.createRecord", &input)
        .expect("createRecord input");
    let e = c
        .validate_input(
            "com.atproto.repo.createRecord",
            &value(json!({"collection": "app.bsky.feed.post"})),
        )
        .expect_err("repo is required");
    assert_eq!(path_of(&e), "input/repo");
    assert!(matches!(
        c.validate_input("com.atproto.repo.getRecord", &input),
        Err(LexiconError::WrongKind { .. })
    ));

    // applyWrites uses a closed union.
    let writes = |ty: &str| {
        value(json!({"repo": "did:plc:abc123", "writes": [
            {"$type": ty, "collection": "app.bsky.feed.post", "rkey": RKEY}
        ]}))
    };
    c.validate_input(
        "com.atproto.repo.applyWrites",
        &writes("com.atproto.repo.applyWrites#delete"),
    )
    .expect("delete write");
    let e = c
        .validate_input(
            "com.atproto.repo.applyWrites",
            &writes("com.example.other#write"),
        )
        .expect_err("closed union");
    assert_eq!(path_of(&e), "input/writes/0/$type");

    let output =
        value(json!({"uri": "at://did:plc:abc123/app.bsky.feed.post/3kznmn7xqxl22", "cid": CID}));
    c.validate_output("com.atproto.repo.createRecord", &output)
        .expect("createRecord output");

    let view = value(json!({"did": "did:plc:abc123", "handle": "alice.example.com"}));
    c.validate_def("app.bsky.actor.defs#profileViewBasic", &view)
        .expect("profileViewBasic");
    let e = c
        .validate_def(
            "app.bsky.actor.defs#profileViewBasic",
            &value(json!({"did": "nope", "handle": "alice.example.com"})),
        )
        .expect_err("bad did");
    assert_eq!(path_of(&e), "value/did");
    assert!(c.def("app.bsky.actor.defs#profileViewBasic").is_some());
    let params = c
        .params("com.atproto.repo.getRecord")
        .expect("a query")
        .expect("with parameters");
    assert!(params.required.iter().any(|p| p == "rkey"));
    assert!(c.params("app.bsky.feed.post").is_err());
    assert!(c.def("app.bsky.actor.defs#nothingHere").is_none());
}

fn doc(defs: Json) -> Result<LexiconDoc, LexiconError> {
    LexiconDoc::from_json_value(json!({"lexicon": 1, "id": "com.example.test", "defs": defs}))
}

fn obj(props: Json) -> Json {
    json!({"type": "object", "properties": props})
}

#[test]
fn structural_rules_refuse_bad_schemas() {
    let bad: Vec<(&str, Json)> = vec![
        ("no defs", json!({})),
        (
            "ref as a named def",
            json!({"x": {"type": "ref", "ref": "#y"}}),
        ),
        (
            "union as a named def",
            json!({"x": {"type": "union", "refs": []}}),
        ),
        (
            "params as a named def",
            json!({"x": {"type": "params", "properties": {}}}),
        ),
        ("query not main", json!({"x": {"type": "query"}})),
        (
            "empty closed union",
            json!({"main": obj(json!({"u": {"type": "union", "refs": [], "closed": true}}))}),
        ),
        (
            "const and default",
            json!({"s": {"type": "string", "const": "a", "default": "b"}}),
        ),
        (
            "min above max",
            json!({"s": {"type": "string", "minLength": 5, "maxLength": 2}}),
        ),
        (
            "unknown format",
            json!({"s": {"type": "string", "format": "email"}}),
        ),
        (
            "bad ref syntax",
            json!({"main": obj(json!({"r": {"type": "ref", "ref": "not an nsid"}}))}),
        ),
        (
            "required not a property",
            json!({"o": {"type": "object", "properties": {}, "required": ["x"]}}),
        ),
        (
            "bad accept",
            json!({"b": {"type": "blob", "accept": ["image"]}}),
        ),
        (
            "bad record key type",
            json!({"main": {"type": "record", "key": "uuid", "record": obj(json!({}))}}),
        ),
        (
            "object param",
            json!({"main": {"type": "query", "parameters": {"type": "params",
            "properties": {"o": obj(json!({}))}}}}),
        ),
        (
            "params without type",
            json!({"main": {"type": "query", "parameters": {"properties": {}}}}),
        ),
        (
            "subscription message not a union",
            json!({"main": {"type": "subscription",
            "message": {"schema": obj(json!({}))}}}),
        ),
        (
            "body schema is a string",
            json!({"main": {"type": "query",
            "output": {"encoding": "application/json", "schema": {"type": "string"}}}}),
        ),
        (
            "rpc permission without aud",
            json!({"main": {"type": "permission-set", "permissions": [
            {"type": "permission", "resource": "rpc", "lxm": ["com.example.x"]}]}}),
        ),
        (
            "repo permission bad action",
            json!({"main": {"type": "permission-set", "permissions": [
            {"type": "permission", "resource": "repo", "collection": ["com.example.x"], "action": ["read"]}]}}),
        ),
        (
            "token nested as a field",
            json!({"main": obj(json!({"t": {"type": "token"}}))}),
        ),
    ];
    for (what, defs) in bad {
        assert!(doc(defs).is_err(), "{what} should be refused");
    }
    doc(json!({"main": {"type": "record", "key": "literal:self", "record": obj(json!({}))}}))
        .expect("literal:self record");
    doc(json!({"main": obj(json!({"u": {"type": "union", "refs": []}}))}))
        .expect("an empty open union is allowed");
}

#[test]
fn catalog_refuses_duplicates_and_reports_unresolved_refs() {
    let mut c = Catalog::new();
    let text = json!({"lexicon": 1, "id": "com.example.a", "defs": {
        "main": {"type": "record", "key": "any", "record": obj(json!({
            "r": {"type": "ref", "ref": "com.example.missing#thing"}
        }))}
    }})
    .to_string();
    c.add_json(&text).expect("first add");
    assert_eq!(
        c.add_json(&text),
        Err(LexiconError::Duplicate("com.example.a".into()))
    );
    assert!(c.check_refs().is_err());
    let r = record(json!({"$type": "com.example.a", "r": {"x": 1}}));
    let e = c
        .validate_record("com.example.a", "k", &r)
        .expect_err("unresolved ref");
    assert!(matches!(e, LexiconError::Reference { .. }), "{e}");
    assert_eq!(path_of(&e), "record/r");
    // Absent optional fields never touch the missing definition.
    c.validate_record(
        "com.example.a",
        "k",
        &record(json!({"$type": "com.example.a"})),
    )
    .expect("no r field");
}
