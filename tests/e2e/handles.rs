//! Handles on the users' own domains, end to end: pdsd resolves `_atproto.<handle>` TXT
//! records through a small DNS server that this test runs on loopback (pointed at with
//! the `dns_servers` setting), accepts updateHandle only when the record names the
//! account, and answers resolveHandle for handles hosted elsewhere.

use crate::support::{Pdsd, assert_error};
use serde_json::json;
use std::collections::HashMap;
use std::net::UdpSocket;
use std::sync::{Arc, Mutex};

/// TXT texts by lowercase query name (without the final dot).
type Zone = Arc<Mutex<HashMap<String, Vec<String>>>>;

/// A loopback DNS server answering TXT queries from `zone` (NXDOMAIN otherwise).
/// Returns its port. Written for this test only: one question per query, UDP.
fn dns_server(zone: Zone) -> u16 {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind dns");
    let port = sock.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while let Ok((n, peer)) = sock.recv_from(&mut buf) {
            if let Some(reply) = answer(&buf[..n], &zone) {
                let _ = sock.send_to(&reply, peer);
            }
        }
    });
    port
}

fn answer(q: &[u8], zone: &Zone) -> Option<Vec<u8>> {
    // Header (12 bytes), then QNAME labels up to a zero byte, then QTYPE and QCLASS.
    let mut i = 12;
    let mut labels = Vec::new();
    loop {
        let len = *q.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(q.get(i..i + len)?).to_ascii_lowercase());
        i += len;
    }
    let question = q.get(12..i + 4)?;
    let qtype = u16::from_be_bytes([*q.get(i)?, *q.get(i + 1)?]);
    let name = labels.join(".");
    let texts = zone
        .lock()
        .ok()?
        .get(&name)
        .cloned()
        .filter(|_| qtype == 16);
    let mut out = Vec::new();
    out.extend_from_slice(q.get(0..2)?); // id
    let rcode = if texts.is_some() { 0 } else { 3 };
    out.extend_from_slice(&[0x81, 0x80 | rcode]); // response, RD, RA
    let answers = texts.as_ref().map_or(0, |t| t.len()) as u16;
    for count in [1u16, answers, 0, 0] {
        out.extend_from_slice(&count.to_be_bytes());
    }
    out.extend_from_slice(question);
    for text in texts.unwrap_or_default() {
        out.extend_from_slice(&[0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 0]); // name ptr, TXT, IN, TTL 0
        let bytes = text.as_bytes();
        out.extend_from_slice(&((bytes.len() + 1) as u16).to_be_bytes());
        out.push(bytes.len() as u8);
        out.extend_from_slice(bytes);
    }
    Some(out)
}

#[test]
fn own_domain_handles_resolve_through_dns() {
    let zone: Zone = Arc::default();
    let port = dns_server(zone.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("pdsd.toml");
    std::fs::write(&config, format!("dns_servers = [\"127.0.0.1:{port}\"]\n")).expect("config");
    let p = Pdsd::start_with(&["--config", config.to_str().expect("utf-8 path")]);
    let a = p.create_account();
    let x = p.xrpc();
    let update = |handle: &str| {
        x.post(
            "com.atproto.identity.updateHandle",
            &json!({ "handle": handle }),
            Some(&a.access),
        )
    };

    // No record yet: refused, with what to publish.
    let r = update("alice.nowhere.org");
    assert_error(&r, 400, "InvalidRequest");
    let msg = r.1["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("_atproto.alice.nowhere.org") && msg.contains(&a.did),
        "{msg}"
    );

    // A record naming another DID: refused.
    zone.lock().expect("zone").insert(
        "_atproto.alice.taken.org".into(),
        vec!["did=did:plc:ewvi7nxzyoun6zhxrhs64oiz".into()],
    );
    assert_error(&update("alice.taken.org"), 400, "InvalidRequest");

    // Reserved TLDs never become handles.
    assert_error(&update("alice.internal"), 400, "InvalidHandle");

    // The record names this account: accepted, hosted, resolvable, in the DID document.
    zone.lock().expect("zone").insert(
        "_atproto.alice.own-domain.org".into(),
        vec!["v=spf1 -all".into(), format!("did={}", a.did)],
    );
    let (st, body) = update("Alice.Own-Domain.org");
    assert_eq!(st, 200, "{body}");
    let (st, r) = x.get(
        "com.atproto.identity.resolveHandle",
        &[("handle", "alice.own-domain.org")],
        None,
    );
    assert_eq!((st, r["did"].clone()), (200, json!(a.did)));
    let (st, s) = x.get("com.atproto.server.getSession", &[], Some(&a.access));
    assert_eq!(st, 200);
    assert_eq!(s["handle"], "alice.own-domain.org");
    assert_eq!(
        s["didDoc"]["alsoKnownAs"],
        json!(["at://alice.own-domain.org"])
    );

    // A handle hosted elsewhere resolves through its TXT record; two different DIDs do not.
    zone.lock().expect("zone").insert(
        "_atproto.bob.elsewhere.org".into(),
        vec!["did=did:plc:ewvi7nxzyoun6zhxrhs64oiz".into()],
    );
    let (st, r) = x.get(
        "com.atproto.identity.resolveHandle",
        &[("handle", "bob.elsewhere.org")],
        None,
    );
    assert_eq!(
        (st, r["did"].clone()),
        (200, json!("did:plc:ewvi7nxzyoun6zhxrhs64oiz"))
    );
    zone.lock().expect("zone").insert(
        "_atproto.carol.elsewhere.org".into(),
        vec![
            "did=did:plc:ewvi7nxzyoun6zhxrhs64oiz".into(),
            "did=did:web:carol.elsewhere.org".into(),
        ],
    );
    assert_error(
        &x.get(
            "com.atproto.identity.resolveHandle",
            &[("handle", "carol.elsewhere.org")],
            None,
        ),
        400,
        "HandleNotFound",
    );
}
