//! com.atproto.identity.* end to end: handles (resolution, updates through the PLC
//! directory), hosted-handle verification, and the PLC-operation signing flow.

use crate::support::{Pdsd, assert_error};
use serde_json::json;

#[test]
fn resolve_and_update_handle() {
    let p = Pdsd::start();
    let a = p.create_account();
    let x = p.xrpc();
    let (st, r) = x.get(
        "com.atproto.identity.resolveHandle",
        &[("handle", &a.handle)],
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(r["did"], json!(a.did));
    assert_error(
        &x.get(
            "com.atproto.identity.resolveHandle",
            &[("handle", "nobody.test")],
            None,
        ),
        400,
        "HandleNotFound",
    );
    assert_error(
        &x.get(
            "com.atproto.identity.resolveHandle",
            &[("handle", "bad handle")],
            None,
        ),
        400,
        "InvalidRequest",
    );
    let new = format!("n{}", &a.handle);
    let (st, body) = x.post(
        "com.atproto.identity.updateHandle",
        &json!({"handle": new}),
        Some(&a.access),
    );
    assert_eq!(st, 200, "{body}");
    let (_, r) = x.get(
        "com.atproto.identity.resolveHandle",
        &[("handle", &new)],
        None,
    );
    assert_eq!(r["did"], json!(a.did));
    let plc = p.plc_url.clone().expect("plc");
    let doc: serde_json::Value = reqwest::blocking::get(format!("{plc}/{}", a.did))
        .expect("plc")
        .json()
        .expect("json");
    assert_eq!(doc["alsoKnownAs"], json!([format!("at://{new}")]));
    // The hosted handle answers /.well-known/atproto-did for its Host.
    let res = x
        .raw(reqwest::Method::GET, "/.well-known/atproto-did")
        .header("host", new.as_str())
        .send()
        .expect("req");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.text().expect("text"), a.did);
    let res = x
        .raw(reqwest::Method::GET, "/.well-known/atproto-did")
        .header("host", "someone.else.example")
        .send()
        .expect("req");
    assert_eq!(res.status().as_u16(), 404);
    // Taken and foreign handles.
    let b = p.create_account();
    assert_error(
        &x.post(
            "com.atproto.identity.updateHandle",
            &json!({"handle": new}),
            Some(&b.access),
        ),
        400,
        "HandleNotAvailable",
    );
    // A domain outside the server's: accepted only when it names the account (see
    // handles.rs); this one resolves to nothing.
    let r = x.post(
        "com.atproto.identity.updateHandle",
        &json!({"handle": "x.example.com"}),
        Some(&b.access),
    );
    assert_error(&r, 400, "InvalidRequest");
    assert!(
        r.1["message"]
            .as_str()
            .is_some_and(|m| m.contains("does not resolve to this account")),
        "{}",
        r.1
    );
}

#[test]
fn plc_operation_signature_flow() {
    let p = Pdsd::start();
    let a = p.create_account();
    let x = p.xrpc();
    assert_error(
        &x.post(
            "com.atproto.identity.signPlcOperation",
            &json!({"token": "aaaaa-bbbbb"}),
            Some(&a.access),
        ),
        400,
        "InvalidToken",
    );
    let (st, _) = x.post(
        "com.atproto.identity.requestPlcOperationSignature",
        &json!(null),
        Some(&a.access),
    );
    assert_eq!(st, 200);
    let mail = std::fs::read_dir(p.data_dir.join("outbox"))
        .expect("outbox")
        .filter_map(Result::ok)
        .map(|e| std::fs::read_to_string(e.path()).expect("mail"))
        .find(|m| m.contains("identity"))
        .expect("mail");
    let code = mail
        .split_whitespace()
        .find(|w| w.len() == 11 && w.as_bytes()[5] == b'-')
        .expect("code")
        .to_string();
    let extra = pds::crypto::Keypair::generate(pds::crypto::Curve::Secp256k1);
    let (_, data) = {
        let plc = p.plc_url.clone().expect("plc");
        let d: serde_json::Value = reqwest::blocking::get(format!("{plc}/{}/data", a.did))
            .expect("plc")
            .json()
            .expect("json");
        (200, d)
    };
    let mut keys: Vec<String> = serde_json::from_value(data["rotationKeys"].clone()).expect("keys");
    keys.insert(0, extra.did_key());
    let (st, signed) = x.post(
        "com.atproto.identity.signPlcOperation",
        &json!({"token": code, "rotationKeys": keys}),
        Some(&a.access),
    );
    assert_eq!(st, 200, "{signed}");
    let (st, body) = x.post(
        "com.atproto.identity.submitPlcOperation",
        &json!({"operation": signed["operation"]}),
        Some(&a.access),
    );
    assert_eq!(st, 200, "{body}");
    let plc = p.plc_url.clone().expect("plc");
    let d: serde_json::Value = reqwest::blocking::get(format!("{plc}/{}/data", a.did))
        .expect("plc")
        .json()
        .expect("json");
    assert_eq!(d["rotationKeys"][0], json!(extra.did_key()));
    // The code was single-use.
    assert_error(
        &x.post(
            "com.atproto.identity.signPlcOperation",
            &json!({"token": code}),
            Some(&a.access),
        ),
        400,
        "InvalidToken",
    );
}

#[test]
fn submit_refuses_operations_that_move_the_account_away() {
    let p = Pdsd::start();
    let a = p.create_account();
    let x = p.xrpc();
    // An operation signed by a key the DID does not list, pointing elsewhere.
    let rogue = pds::crypto::Keypair::generate(pds::crypto::Curve::Secp256k1);
    let genesis = pds::identity::AtprotoGenesis {
        rotation_keys: vec![rogue.public()],
        signing_key: rogue.public(),
        handle: a.handle.clone(),
        pds_endpoint: "https://elsewhere.example".into(),
    };
    let (_, op) = genesis.sign(&rogue).expect("sign");
    let res = x.post(
        "com.atproto.identity.submitPlcOperation",
        &json!({"operation": serde_json::to_value(&op).expect("json")}),
        Some(&a.access),
    );
    assert_error(&res, 400, "InvalidRequest");
}
