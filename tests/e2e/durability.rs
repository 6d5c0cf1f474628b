//! Durability: pdsd killed with SIGKILL in the middle of a concurrent write load comes
//! back with every acknowledged write present and every repo verifying.

use crate::support::Pdsd;
use serde_json::json;
use std::sync::{Arc, Mutex};

#[test]
fn acknowledged_writes_survive_sigkill() {
    let mut p = Pdsd::start();
    let accounts: Vec<_> = (0..3).map(|_| p.create_account()).collect();
    let acked: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for (w, a) in accounts.iter().enumerate() {
        for t in 0..2 {
            let (x, a, acked, stop) = (p.xrpc(), a.clone(), acked.clone(), stop.clone());
            workers.push(std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let rkey = format!("w{w}t{t}i{i}");
                    i += 1;
                    let res = x.http_post_quiet(
                        "com.atproto.repo.createRecord",
                        &json!({"repo": a.did, "collection": "com.example.d", "rkey": rkey, "record": {"$type": "com.example.d", "i": i}}),
                        &a.access,
                    );
                    match res {
                        Some((200, body)) => acked.lock().expect("lock").push((
                            a.did.clone(),
                            rkey,
                            body["cid"].as_str().unwrap_or_default().to_string(),
                        )),
                        Some(_) => {}
                        None => break,
                    }
                }
            }));
        }
    }
    // Let writes pile up, then crash the daemon while they are in flight.
    while acked.lock().expect("lock").len() < 150 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    p.kill();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(acked.len() >= 150);
    p.restart();
    let x = p.xrpc();
    for (did, rkey, cid) in &acked {
        let (st, body) = x.get(
            "com.atproto.repo.getRecord",
            &[
                ("repo", did),
                ("collection", "com.example.d"),
                ("rkey", rkey),
            ],
            None,
        );
        assert_eq!(
            st, 200,
            "acknowledged write {did}/{rkey} is missing after the crash: {body}"
        );
        assert_eq!(body["cid"].as_str(), Some(cid.as_str()));
    }
    for a in &accounts {
        let (st, s) = x.get("com.atproto.server.getSession", &[], Some(&a.access));
        assert_eq!(st, 200, "{s}\n{}", p.log_text());
        let doc: pds::identity::DidDocument =
            serde_json::from_value(s["didDoc"].clone()).expect("doc");
        let key = doc.atproto_signing_key().expect("key");
        let (_, car, _) = x.get_bytes("com.atproto.sync.getRepo", &[("did", &a.did)]);
        let mut opts = pds::repo::VerifyOptions::new(&key);
        opts.did = Some(&a.did);
        let v = pds::repo::verify_car(std::io::Cursor::new(&car), &opts)
            .expect("repo verifies after the crash");
        let n = acked.iter().filter(|(d, _, _)| d == &a.did).count();
        assert!(
            v.records.len() >= n,
            "{} records, {n} acknowledged",
            v.records.len()
        );
        // Writes keep working on top of the recovered head.
        let (st, _) = x.post(
            "com.atproto.repo.createRecord",
            &json!({"repo": a.did, "collection": "com.example.d", "record": {"$type": "com.example.d"}}),
            Some(&a.access),
        );
        assert_eq!(st, 200);
    }
}
