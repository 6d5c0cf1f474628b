//! Properties and strictness of `pds::data`: encode/decode and JSON round trips over
//! arbitrary values, one hand-built byte string per strict DAG-CBOR rule, and decoding
//! arbitrary or mutated bytes without panicking (whatever is accepted must re-encode to
//! the very same bytes).

use pds::data::cbor::{self, MAX_BLOCK_BYTES, MAX_DEPTH};
use pds::data::{BlobRef, CborRule, DataError, Value, blob_refs, cid, json, record_cid};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

// ---------------------------------------------------------------- generators

fn arb_cid() -> impl Strategy<Value = ::cid::Cid> {
    (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..16)).prop_map(|(raw, bytes)| {
        if raw {
            cid::for_raw(&bytes)
        } else {
            cid::for_cbor(&bytes)
        }
    })
}

/// Map keys that carry no atproto meaning (no `$` prefix), including non-ASCII ones and
/// keys whose length order and byte order disagree.
fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{0,3}",
        "[A-Za-z0-9_]{0,12}",
        "\\PC{0,4}".prop_filter("no $ keys", |k| !k.starts_with('$')),
    ]
}

/// Any data-model value (no floats, integers in i64).
fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| Value::Integer(i.into())),
        prop_oneof![
            Just(i64::MIN),
            Just(i64::MAX),
            -25i64..25,
            Just(255),
            Just(256)
        ]
        .prop_map(|i| Value::Integer(i.into())),
        "\\PC{0,24}".prop_map(Value::String),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
        arb_cid().prop_map(Value::Link),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::List),
            proptest::collection::btree_map(arb_key(), inner, 0..8).prop_map(Value::Map),
        ]
    })
}

/// Arbitrary plain JSON (integers only, no `$` keys).
fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        "\\PC{0,16}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(arb_key(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

// ---------------------------------------------------------------- round trips

proptest! {
    #[test]
    fn cbor_round_trip(v in arb_value()) {
        let bytes = cbor::encode(&v).expect("data-model values encode");
        prop_assert_eq!(cbor::decode_value(&bytes).expect("strict decode"), v.clone());
        // Canonical: re-encoding what was decoded gives the same bytes.
        prop_assert_eq!(cbor::encode(&cbor::decode_value(&bytes).expect("decode")).expect("encode"), bytes);
    }

    #[test]
    fn value_json_round_trip(v in arb_value()) {
        prop_assert_eq!(json::from_json(&json::to_json(&v)).expect("own JSON is valid"), v);
    }

    #[test]
    fn json_value_json_round_trip(j in arb_json()) {
        let v = json::from_json(&j).expect("plain JSON is valid");
        prop_assert_eq!(json::to_json(&v), j);
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(v) = cbor::decode_value(&bytes) {
            prop_assert_eq!(cbor::encode(&v).expect("accepted values encode"), bytes);
        }
    }

    #[test]
    fn mutated_encodings_are_refused_or_canonical(
        v in arb_value(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = cbor::encode(&v).expect("encode");
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if let Ok(decoded) = cbor::decode_value(&bytes) {
            prop_assert_eq!(cbor::encode(&decoded).expect("encode"), bytes);
        }
    }
}

// ---------------------------------------------------------------- canonical encoding

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Unordered {
    zzz: u8,
    a: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    ccc: Option<u8>,
    bb: u8,
    c: u8,
}

#[test]
fn struct_fields_are_written_in_canonical_order() {
    let s = Unordered {
        zzz: 1,
        a: 2,
        ccc: None,
        bb: 3,
        c: 4,
    };
    let bytes = cbor::encode(&s).expect("encode");
    // {"a": 2, "c": 4, "bb": 3, "zzz": 1}: shorter keys first, then bytewise.
    let expected = [
        0xa4, 0x61, b'a', 0x02, 0x61, b'c', 0x04, 0x62, b'b', b'b', 0x03, 0x63, b'z', b'z', b'z',
        0x01,
    ];
    assert_eq!(bytes, expected);
    assert_eq!(cbor::decode::<Unordered>(&bytes), Ok(s));

    let with_ccc = Unordered {
        zzz: 1,
        a: 2,
        ccc: Some(5),
        bb: 3,
        c: 4,
    };
    let bytes = cbor::encode(&with_ccc).expect("encode");
    assert_eq!(bytes[0], 0xa5);
    // "ccc" (3 bytes) sorts before "zzz".
    let keys: Vec<String> = match cbor::decode_value(&bytes).expect("decode") {
        Value::Map(m) => m.keys().cloned().collect(),
        other => panic!("not a map: {other:?}"),
    };
    assert_eq!(keys.len(), 5);
}

#[test]
fn maps_are_written_length_first_not_bytewise() {
    let mut m = BTreeMap::new();
    // BTreeMap iterates "aa" < "b"; DAG-CBOR wants "b" first.
    m.insert("aa".to_string(), Value::Integer(1));
    m.insert("b".to_string(), Value::Integer(2));
    let bytes = cbor::encode(&Value::Map(m)).expect("encode");
    assert_eq!(bytes, [0xa2, 0x61, b'b', 0x02, 0x62, b'a', b'a', 0x01]);
}

#[test]
fn encode_refuses_what_decode_refuses() {
    assert!(matches!(
        cbor::encode(&Value::Float(1.5)),
        Err(DataError::NotDagCbor {
            rule: CborRule::Float,
            ..
        })
    ));
    assert!(matches!(
        cbor::encode(&Value::Integer(i128::from(i64::MAX) + 1)),
        Err(DataError::NotDagCbor {
            rule: CborRule::IntegerRange,
            ..
        })
    ));
    assert!(matches!(
        cbor::encode(&Value::Integer(i128::from(i64::MIN) - 1)),
        Err(DataError::NotDagCbor {
            rule: CborRule::IntegerRange,
            ..
        })
    ));
    let mut deep = Value::Null;
    for _ in 0..=MAX_DEPTH {
        deep = Value::List(vec![deep]);
    }
    assert_eq!(
        cbor::encode(&deep),
        Err(DataError::TooDeep { limit: MAX_DEPTH })
    );
}

// ---------------------------------------------------------------- strictness, rule by rule

fn rule_of(bytes: &[u8]) -> Option<CborRule> {
    match cbor::decode_value(bytes) {
        Err(DataError::NotDagCbor { rule, .. }) => Some(rule),
        _ => None,
    }
}

#[track_caller]
fn refused(bytes: &[u8], rule: CborRule) {
    assert_eq!(rule_of(bytes), Some(rule), "{bytes:02x?}");
    assert!(cbor::validate(bytes).is_err());
}

#[track_caller]
fn accepted(bytes: &[u8]) {
    let v = cbor::decode_value(bytes).unwrap_or_else(|e| panic!("{bytes:02x?}: {e}"));
    assert_eq!(cbor::encode(&v).expect("re-encode"), bytes);
}

/// `0x00` + a dag-cbor sha2-256 CID, wrapped in tag 42.
fn link_bytes(prefix: u8, extra: &[u8]) -> Vec<u8> {
    let cid = cid::for_cbor(b"x").to_bytes();
    let mut payload = vec![prefix];
    payload.extend_from_slice(&cid);
    payload.extend_from_slice(extra);
    let mut out = vec![0xd8, 0x2a, 0x58, payload.len() as u8];
    out.extend(payload);
    out
}

#[test]
fn refuses_indefinite_lengths() {
    refused(&[0x9f, 0xff], CborRule::Indefinite); // array
    refused(&[0xbf, 0xff], CborRule::Indefinite); // map
    refused(&[0x5f, 0x41, 0x00, 0xff], CborRule::Indefinite); // bytes
    refused(&[0x7f, 0x61, b'a', 0xff], CborRule::Indefinite); // text
    refused(&[0xff], CborRule::Indefinite); // stray break
    refused(&[0x81, 0xff], CborRule::Indefinite);
}

#[test]
fn refuses_non_minimal_heads() {
    refused(&[0x18, 0x17], CborRule::NonMinimal);
    refused(&[0x19, 0x00, 0xff], CborRule::NonMinimal);
    refused(&[0x1a, 0x00, 0x00, 0xff, 0xff], CborRule::NonMinimal);
    refused(
        &[0x1b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
        CborRule::NonMinimal,
    );
    refused(&[0x38, 0x00], CborRule::NonMinimal); // -1 in one extra byte
    refused(&[0x58, 0x00], CborRule::NonMinimal); // empty bytes, 1-byte length
    refused(&[0x78, 0x01, b'a'], CborRule::NonMinimal); // text length
    refused(&[0x98, 0x00], CborRule::NonMinimal); // array length
    refused(&[0xb8, 0x00], CborRule::NonMinimal); // map length
    refused(&[0xa1, 0x78, 0x01, b'a', 0x01], CborRule::NonMinimal); // key length
    let mut tag = vec![0xd9, 0x00, 0x2a]; // tag 42 in two bytes
    tag.extend_from_slice(&link_bytes(0, &[])[2..]);
    refused(&tag, CborRule::NonMinimal);
    // The boundaries themselves are minimal.
    accepted(&[0x17]);
    accepted(&[0x18, 0x18]);
    accepted(&[0x19, 0x01, 0x00]);
    accepted(&[0x1a, 0x00, 0x01, 0x00, 0x00]);
    accepted(&[0x1b, 0, 0, 0, 1, 0, 0, 0, 0]);
}

#[test]
fn refuses_reserved_additional_info() {
    for b in [0x1c, 0x1d, 0x1e, 0x3c, 0x5c, 0x7d, 0x9e, 0xbc, 0xdc, 0xfc] {
        refused(&[b], CborRule::ReservedInfo);
    }
    refused(&[0x1f], CborRule::ReservedInfo);
    refused(&[0xdf], CborRule::ReservedInfo);
}

#[test]
fn refuses_non_text_map_keys() {
    refused(&[0xa1, 0x01, 0x01], CborRule::MapKeyNotText);
    refused(&[0xa1, 0x41, b'a', 0x01], CborRule::MapKeyNotText);
    refused(&[0xa1, 0xf6, 0x01], CborRule::MapKeyNotText);
    refused(&[0xa1, 0x80, 0x01], CborRule::MapKeyNotText);
    let mut linked = vec![0xa1];
    linked.extend(link_bytes(0, &[]));
    linked.push(0x01);
    refused(&linked, CborRule::MapKeyNotText);
}

#[test]
fn refuses_unordered_and_duplicate_keys() {
    refused(
        &[0xa2, 0x61, b'b', 0x01, 0x61, b'a', 0x01],
        CborRule::MapKeyOrder,
    );
    // Bytewise order ("aa" < "b") is not DAG-CBOR order.
    refused(
        &[0xa2, 0x62, b'a', b'a', 0x01, 0x61, b'b', 0x01],
        CborRule::MapKeyOrder,
    );
    refused(
        &[0xa2, 0x61, b'a', 0x01, 0x61, b'a', 0x02],
        CborRule::DuplicateMapKey,
    );
    // Order is per map: an inner map may reuse the outer keys.
    accepted(&[0xa2, 0x61, b'a', 0xa1, 0x61, b'b', 0x01, 0x61, b'b', 0x02]);
}

#[test]
fn refuses_floats() {
    refused(&[0xf9, 0x3c, 0x00], CborRule::Float);
    refused(&[0xfa, 0x3f, 0x80, 0x00, 0x00], CborRule::Float);
    refused(&[0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0], CborRule::Float);
    refused(&[0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], CborRule::Float); // NaN
    refused(
        &[0xa1, 0x61, b'a', 0xfb, 0, 0, 0, 0, 0, 0, 0, 0],
        CborRule::Float,
    );
}

#[test]
fn refuses_other_simple_values() {
    refused(&[0xf7], CborRule::SimpleValue); // undefined
    refused(&[0xe0], CborRule::SimpleValue); // simple(0)
    refused(&[0xf3], CborRule::SimpleValue); // simple(19)
    refused(&[0xf8, 0x20], CborRule::SimpleValue); // simple(32)
    accepted(&[0xf4]);
    accepted(&[0xf5]);
    accepted(&[0xf6]);
}

#[test]
fn refuses_tags_other_than_42() {
    refused(&[0xc0, 0x60], CborRule::Tag(0));
    refused(&[0xc2, 0x41, 0x01], CborRule::Tag(2)); // bignum
    refused(&[0xd8, 0x2b, 0x40], CborRule::Tag(43));
    refused(&[0xd9, 0xd9, 0xf7, 0x01], CborRule::Tag(55799)); // self-describe
}

#[test]
fn tag_42_must_be_a_prefixed_valid_cid() {
    accepted(&link_bytes(0x00, &[]));
    refused(&link_bytes(0x01, &[]), CborRule::LinkPrefix);
    refused(&link_bytes(b'b', &[]), CborRule::LinkPrefix);
    refused(&link_bytes(0x00, &[0x00]), CborRule::LinkCid); // trailing byte
    refused(&[0xd8, 0x2a, 0x40], CborRule::LinkPrefix); // empty
    refused(&[0xd8, 0x2a, 0x41, 0x00], CborRule::LinkCid); // prefix only
    refused(
        &[0xd8, 0x2a, 0x44, 0x00, 0x01, 0x71, 0x12],
        CborRule::LinkCid,
    ); // cut short
    // Version 1 as an overlong varint (0x81 0x00) would re-encode differently.
    let digest = cid::for_cbor(b"x").hash().digest().to_vec();
    let mut overlong = vec![0x00, 0x81, 0x00, 0x71, 0x12, 0x20];
    overlong.extend_from_slice(&digest);
    let mut tagged = vec![0xd8, 0x2a, 0x58, overlong.len() as u8];
    tagged.extend(overlong);
    refused(&tagged, CborRule::LinkCid);
    // CIDv0 (a bare sha2-256 multihash) is a valid IPLD link and round-trips.
    let mut v0 = vec![0xd8, 0x2a, 0x58, 35, 0x00, 0x12, 0x20];
    v0.extend_from_slice(&digest);
    accepted(&v0);
    refused(&[0xd8, 0x2a, 0x60], CborRule::LinkNotBytes);
    refused(&[0xd8, 0x2a, 0x01], CborRule::LinkNotBytes);
    refused(&[0xd8, 0x2a], CborRule::Truncated);
    let mut cut = link_bytes(0x00, &[]);
    cut.pop();
    refused(&cut, CborRule::Truncated);
}

#[test]
fn refuses_invalid_utf8() {
    refused(&[0x61, 0xff], CborRule::InvalidUtf8);
    refused(&[0x62, 0xc3, 0x28], CborRule::InvalidUtf8);
    refused(&[0x63, 0xed, 0xa0, 0x80], CborRule::InvalidUtf8); // surrogate
    refused(&[0xa1, 0x61, 0x80, 0x01], CborRule::InvalidUtf8); // in a key
    accepted(&[0x62, 0xc3, 0xa9]);
}

#[test]
fn refuses_integers_outside_i64() {
    let max = [0x1b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    let min = [0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    accepted(&max);
    accepted(&min);
    assert_eq!(
        cbor::decode_value(&max),
        Ok(Value::Integer(i64::MAX.into()))
    );
    assert_eq!(
        cbor::decode_value(&min),
        Ok(Value::Integer(i64::MIN.into()))
    );
    refused(&[0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0], CborRule::IntegerRange);
    refused(&[0x3b, 0x80, 0, 0, 0, 0, 0, 0, 0], CborRule::IntegerRange);
    refused(
        &[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        CborRule::IntegerRange,
    );
}

#[test]
fn refuses_trailing_and_truncated_input() {
    refused(&[0x01, 0x01], CborRule::TrailingBytes);
    refused(&[0xa0, 0x00], CborRule::TrailingBytes);
    refused(&[], CborRule::Truncated);
    refused(&[0x62, b'a'], CborRule::Truncated);
    refused(&[0x82, 0x01], CborRule::Truncated);
    refused(&[0xa1, 0x61, b'a'], CborRule::Truncated);
    refused(&[0x19, 0x01], CborRule::Truncated);
    // Counts larger than the input are refused before anything is allocated.
    refused(
        &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        CborRule::Truncated,
    );
    refused(
        &[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        CborRule::Truncated,
    );
    refused(&[0xba, 0x00, 0x01, 0x00, 0x00], CborRule::Truncated);
}

#[test]
fn refuses_oversized_input() {
    let big = {
        let mut v = vec![0x5a];
        let len = MAX_BLOCK_BYTES as u32;
        v.extend_from_slice(&len.to_be_bytes());
        v.resize(5 + MAX_BLOCK_BYTES, 0);
        v
    };
    assert_eq!(
        cbor::decode_value(&big),
        Err(DataError::TooLarge {
            size: big.len(),
            limit: MAX_BLOCK_BYTES
        })
    );
    let small = [0x43, 1, 2, 3];
    assert!(cbor::decode_with_limits::<Value>(&small, 4, MAX_DEPTH).is_ok());
    assert_eq!(
        cbor::decode_with_limits::<Value>(&small, 3, MAX_DEPTH),
        Err(DataError::TooLarge { size: 4, limit: 3 })
    );
}

#[test]
fn refuses_deep_nesting_without_overflowing() {
    let nested = |n: usize, open: u8| {
        let mut v = vec![open; n];
        v.push(0x80);
        v
    };
    // MAX_DEPTH containers in all (MAX_DEPTH - 1 one-element arrays + one empty one).
    assert!(cbor::decode_value(&nested(MAX_DEPTH - 1, 0x81)).is_ok());
    assert_eq!(
        cbor::decode_value(&nested(MAX_DEPTH, 0x81)),
        Err(DataError::TooDeep { limit: MAX_DEPTH })
    );
    assert_eq!(
        cbor::decode_with_limits::<Value>(&nested(3, 0x81), 1024, 3),
        Err(DataError::TooDeep { limit: 3 })
    );
    // Far deeper than any stack could recurse: refused, not crashed.
    assert_eq!(
        cbor::decode_value(&nested(1_000_000, 0x81)),
        Err(DataError::TooDeep { limit: MAX_DEPTH })
    );
    // Asking for more than MAX_DEPTH is capped (the serde layer could not go deeper).
    assert_eq!(
        cbor::decode_with_limits::<Value>(&nested(MAX_DEPTH, 0x81), 1 << 20, usize::MAX),
        Err(DataError::TooDeep { limit: MAX_DEPTH })
    );
    // Maps count too: {"a": {"a": ... }}.
    let mut maps = Vec::new();
    for _ in 0..MAX_DEPTH {
        maps.extend_from_slice(&[0xa1, 0x61, b'a']);
    }
    maps.push(0xa0);
    assert_eq!(
        cbor::decode_value(&maps),
        Err(DataError::TooDeep { limit: MAX_DEPTH })
    );
}

#[test]
fn typed_decode_is_strict_too() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Pair {
        a: i64,
        b: i64,
    }
    assert!(cbor::decode::<Pair>(&[0xa2, 0x61, b'a', 0x01, 0x61, b'b', 0x02]).is_ok());
    assert!(matches!(
        cbor::decode::<Pair>(&[0xa2, 0x61, b'b', 0x02, 0x61, b'a', 0x01]),
        Err(DataError::NotDagCbor {
            rule: CborRule::MapKeyOrder,
            ..
        })
    ));
    // Shape errors come from the serde layer, after the bytes were found strict.
    assert!(matches!(
        cbor::decode::<Pair>(&[0xa1, 0x61, b'a', 0x01]),
        Err(DataError::Cbor(_))
    ));
}

// ---------------------------------------------------------------- JSON rules

#[test]
fn json_numbers() {
    assert_eq!(json::from_json(&json!(7)), Ok(Value::Integer(7)));
    assert_eq!(json::from_json(&json!(-7.0)), Ok(Value::Integer(-7)));
    assert!(json::from_json(&json!(0.5)).is_err());
    assert!(json::from_json(&json!(9.007_199_254_740_994e15)).is_err());
    assert!(json::from_json(&json!(u64::MAX)).is_err());
    assert_eq!(
        json::from_json(&json!(i64::MIN)),
        Ok(Value::Integer(i64::MIN.into()))
    );
}

#[test]
fn json_links_and_bytes() {
    let c = cid::for_cbor(b"x");
    assert_eq!(
        json::from_json(&json!({"$link": c.to_string()})),
        Ok(Value::Link(c))
    );
    assert!(json::from_json(&json!({"$link": format!("/ipfs/{c}")})).is_err());
    assert!(json::from_json(&json!({"$link": c.to_string(), "x": 1})).is_err());
    assert!(json::from_json(&json!({"$link": null})).is_err());
    assert_eq!(
        json::from_json(&json!({"$bytes": ""})),
        Ok(Value::Bytes(vec![]))
    );
    assert!(json::from_json(&json!({"$bytes": "!!"})).is_err());
    assert!(json::from_json(&json!({"$bytes": "AA-_"})).is_err()); // URL-safe alphabet
    assert!(json::from_json(&json!({"$bytes": "AAE", "$type": "x"})).is_err());
}

#[test]
fn json_type_fields_and_records() {
    assert!(json::from_json(&json!({"a": {"$type": ""}})).is_err());
    assert!(json::from_json(&json!([{"$type": 1}])).is_err());
    assert!(json::from_json(&json!({"$type": "com.example.x"})).is_ok());
    assert!(json::record_from_json(&json!({"$type": "com.example.x", "a": 1})).is_ok());
    assert!(json::record_from_json(&json!({"a": 1})).is_err());
    assert!(json::record_from_json(&json!([1])).is_err());
    assert!(json::object_from_json(&json!({"a": 1})).is_ok());
    assert!(json::object_from_json(&json!(1)).is_err());
}

#[test]
fn json_blobs() {
    let c = cid::for_raw(b"blob").to_string();
    let ok = json!({"$type": "blob", "ref": {"$link": c}, "mimeType": "image/png", "size": 4});
    assert!(json::from_json(&ok).is_ok());
    for bad in [
        json!({"$type": "blob", "ref": {"$link": c}, "mimeType": "image/png", "size": -1}),
        json!({"$type": "blob", "ref": {"$link": c}, "mimeType": "", "size": 4}),
        json!({"$type": "blob", "ref": c, "mimeType": "image/png", "size": 4}),
        json!({"$type": "blob", "ref": {"$link": c}, "size": 4}),
        json!({"$type": "blob", "ref": {"$link": c}, "mimeType": "image/png", "size": 4.5}),
    ] {
        assert!(json::from_json(&bad).is_err(), "{bad}");
    }
}

#[test]
fn too_deep_json_is_refused() {
    let mut j = json!(1);
    for _ in 0..=MAX_DEPTH {
        j = json!([j]);
    }
    assert_eq!(
        json::from_json(&j),
        Err(DataError::TooDeep { limit: MAX_DEPTH })
    );
}

// ---------------------------------------------------------------- blobs and records

#[test]
fn blob_ref_serializes_as_the_data_model_says() {
    let blob = BlobRef::new(cid::for_raw(b"img"), "image/jpeg", 3);
    let bytes = cbor::encode(&blob).expect("encode");
    assert_eq!(bytes, cbor::encode(&blob.to_value()).expect("encode value"));
    assert_eq!(cbor::decode::<BlobRef>(&bytes), Ok(blob.clone()));
    let j = serde_json::to_value(&blob).expect("json");
    assert_eq!(
        j,
        json!({"$type": "blob", "ref": {"$link": blob.cid.to_string()}, "mimeType": "image/jpeg", "size": 3})
    );
    assert_eq!(json::from_json(&j), Ok(blob.to_value()));
}

#[test]
fn blob_refs_finds_typed_and_legacy_blobs() {
    let a = BlobRef::new(cid::for_raw(b"a"), "image/png", 1);
    let b = BlobRef::new(cid::for_raw(b"b"), "video/mp4", 2);
    let legacy_cid = cid::for_raw(b"c");
    let record = json::record_from_json(&json!({
        "$type": "com.example.post",
        "embed": {"images": [
            {"image": json::to_json(&a.to_value()), "alt": ""},
            {"image": json::to_json(&b.to_value()), "alt": ""},
        ]},
        "old": {"cid": legacy_cid.to_string(), "mimeType": "image/gif"},
        "notblob": {"cid": legacy_cid.to_string(), "mimeType": "image/gif", "x": 1},
        "link": {"$link": legacy_cid.to_string()},
    }))
    .expect("record");
    let found = blob_refs(&record);
    assert_eq!(found.len(), 3);
    assert!(found.contains(&a));
    assert!(found.contains(&b));
    let legacy: Vec<_> = found.iter().filter(|r| r.is_legacy()).collect();
    assert_eq!(legacy.len(), 1);
    assert_eq!(legacy[0].cid, legacy_cid);
    assert_eq!(legacy[0].mime_type, "image/gif");
}

#[test]
fn record_cid_is_cid_of_the_encoding() {
    let record =
        json::record_from_json(&json!({"$type": "com.example.x", "n": 1})).expect("record");
    let (c, bytes) = record_cid(&record).expect("record cid");
    assert_eq!(bytes, cbor::encode(&record).expect("encode"));
    assert_eq!(c, cid::for_cbor(&bytes));
    assert!(cid::verify(&c, &bytes).is_ok());
    assert!(record_cid(&json::from_json(&json!({"n": 1})).expect("value")).is_err());
    assert!(record_cid(&Value::List(vec![])).is_err());
}
