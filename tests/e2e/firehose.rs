//! The firehose from outside: real pdsd processes, WebSocket subscribers that decode and
//! verify every frame with the `pds` library (frame header, body fields, the CAR slice,
//! the commit's signature against the account's key in its DID document, the ops against
//! what was written, the since/prevData chain of each repo), under concurrent writers,
//! subscribers joining and leaving, SIGKILL and restart, stalled consumers, pruning, and
//! requestCrawl to a relay stand-in. No assertion depends on timing: waits have generous
//! deadlines that only turn a hang into a failure.

use crate::support::{Account, Pdsd, Xrpc};
use pds::data::Value;
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::{self, Message, stream::MaybeTlsStream};

type Ws = tungstenite::WebSocket<MaybeTlsStream<TcpStream>>;

/// How long any single wait may take before the test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(90);

// ------------------------------------------------------------------ frames

/// One decoded WebSocket message of the firehose.
#[derive(Debug, Clone)]
enum Event {
    /// `op: 1`: a message of type `t`.
    Message { t: String, body: Value },
    /// `op: -1`: an error frame.
    Error { error: String },
    /// The stream ended (close frame, EOF or error), with why.
    Ended(String),
}

impl Event {
    fn seq(&self) -> Option<i64> {
        match self {
            Event::Message { body, .. } => int(field(body, "seq")),
            _ => None,
        }
    }
}

/// Split a frame into its two DAG-CBOR objects: the header is the shortest prefix that
/// decodes (a strict prefix of one CBOR item is never a whole item).
fn decode_frame(bytes: &[u8]) -> Event {
    for n in 1..bytes.len().min(64) {
        if let Ok(header) = pds::data::cbor::decode_value(&bytes[..n]) {
            let body = pds::data::cbor::decode_value(&bytes[n..])
                .unwrap_or_else(|e| panic!("frame body is not strict DAG-CBOR: {e}"));
            let op = int(field(&header, "op"));
            return match op {
                Some(1) => {
                    let t = text(field(&header, "t")).expect("header t").to_string();
                    Event::Message { t, body }
                }
                Some(-1) => {
                    assert!(
                        field(&header, "t").is_none(),
                        "an error header has no t: {header:?}"
                    );
                    Event::Error {
                        error: text(field(&body, "error")).expect("error name").to_string(),
                    }
                }
                other => panic!("unknown op {other:?} in {header:?}"),
            };
        }
    }
    panic!("no DAG-CBOR header in a {}-byte frame", bytes.len())
}

fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    match v {
        Value::Map(m) => m.get(name),
        _ => None,
    }
}

fn int(v: Option<&Value>) -> Option<i64> {
    match v {
        Some(Value::Integer(i)) => i64::try_from(*i).ok(),
        _ => None,
    }
}

fn text(v: Option<&Value>) -> Option<&str> {
    match v {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

fn link(v: Option<&Value>) -> Option<cid::Cid> {
    match v {
        Some(Value::Link(c)) => Some(*c),
        _ => None,
    }
}

// ------------------------------------------------------------------ subscribers

fn ws_url(pdsd: &Pdsd, cursor: Option<i64>) -> String {
    let base = pdsd.url.replacen("http://", "ws://", 1);
    match cursor {
        Some(c) => format!("{base}/xrpc/com.atproto.sync.subscribeRepos?cursor={c}"),
        None => format!("{base}/xrpc/com.atproto.sync.subscribeRepos"),
    }
}

fn connect(url: &str) -> Ws {
    let (ws, resp) = tungstenite::connect(url).unwrap_or_else(|e| panic!("connect {url}: {e}"));
    assert_eq!(resp.status().as_u16(), 101);
    ws
}

fn set_read_timeout(ws: &mut Ws, t: Option<Duration>) {
    if let MaybeTlsStream::Plain(s) = ws.get_mut() {
        s.set_read_timeout(t).expect("read timeout");
    }
}

/// Read one event; `None` on a read timeout.
fn read_event(ws: &mut Ws) -> Option<Event> {
    loop {
        match ws.read() {
            Ok(Message::Binary(b)) => return Some(decode_frame(&b)),
            Ok(Message::Close(c)) => return Some(Event::Ended(format!("close {c:?}"))),
            Ok(Message::Text(t)) => panic!("the firehose sent a text message: {t}"),
            Ok(_) => continue,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return None;
            }
            Err(e) => return Some(Event::Ended(e.to_string())),
        }
    }
}

/// A subscriber reading on its own thread into a channel until the stream ends.
struct Sub {
    rx: mpsc::Receiver<Event>,
}

impl Sub {
    fn start(url: String) -> Sub {
        let (tx, rx) = mpsc::channel();
        let mut ws = connect(&url);
        std::thread::spawn(move || {
            loop {
                let Some(ev) = read_event(&mut ws) else {
                    continue;
                };
                let end = matches!(ev, Event::Ended(_));
                if tx.send(ev).is_err() || end {
                    return;
                }
            }
        });
        Sub { rx }
    }

    fn next(&self) -> Event {
        self.rx
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("no firehose event within {PATIENCE:?}"))
    }

    /// Events until one with seq >= `last` (inclusive); panics on an error or end.
    fn until_seq(&self, last: i64) -> Vec<Event> {
        let mut out = Vec::new();
        loop {
            let ev = self.next();
            match &ev {
                Event::Message { .. } => {}
                other => panic!("stream ended before seq {last}: {other:?}"),
            }
            let s = ev.seq();
            out.push(ev);
            if s.is_some_and(|s| s >= last) {
                return out;
            }
        }
    }
}

fn latest_seq(x: &Xrpc) -> i64 {
    let (st, body) = x.get("_health", &[], None);
    assert_eq!(st, 200, "{body}");
    body["seq"].as_i64().expect("seq in _health")
}

// ------------------------------------------------------------------ writes and checks

/// One acknowledged commit: the ops it made, as the XRPC answers said.
#[derive(Debug, Clone)]
struct Acked {
    did: String,
    commit: String,
    rev: String,
    /// (action, path, new cid, previous cid)
    ops: Vec<(String, String, Option<String>, Option<String>)>,
}

fn post(text: &str) -> serde_json::Value {
    json!({"$type": "app.bsky.feed.post", "text": text, "createdAt": "2024-01-01T00:00:00.000Z"})
}

fn path_of(uri: &str) -> String {
    uri.splitn(4, '/').nth(3).expect("at-uri path").to_string()
}

/// One writer: a sequence of createRecord, applyWrites (creates + update + delete),
/// putRecord and deleteRecord on its own account; returns what was acknowledged. Stops
/// quietly at the first failure when `stop_on_error` (the server may be killed).
fn writer(
    x: &Xrpc,
    acct: &Account,
    n: usize,
    stop_on_error: bool,
    acked: &Mutex<Vec<Acked>>,
) -> usize {
    let mut live: Vec<(String, String)> = Vec::new(); // (path, cid)
    let mut done = 0;
    for i in 0..n {
        let tok = Some(acct.access.as_str());
        let (st, body, ops) = match i % 4 {
            0 | 1 => {
                let (st, body) = x.post(
                    "com.atproto.repo.createRecord",
                    &json!({"repo": acct.did, "collection": "app.bsky.feed.post", "record": post(&format!("w{i}"))}),
                    tok,
                );
                let ops = if st == 200 {
                    let path = path_of(body["uri"].as_str().expect("uri"));
                    let cid = body["cid"].as_str().expect("cid").to_string();
                    live.push((path.clone(), cid.clone()));
                    vec![("create".to_string(), path, Some(cid), None)]
                } else {
                    vec![]
                };
                (st, body, ops)
            }
            2 => {
                let mut writes = vec![
                    json!({"$type": "com.atproto.repo.applyWrites#create", "collection": "app.bsky.feed.post", "value": post("batch a")}),
                    json!({"$type": "com.atproto.repo.applyWrites#create", "collection": "app.bsky.feed.post", "value": post("batch b")}),
                ];
                let updated = live.first().cloned();
                if let Some((path, _)) = &updated {
                    let (c, r) = path.split_once('/').expect("path");
                    writes.push(json!({"$type": "com.atproto.repo.applyWrites#update", "collection": c, "rkey": r, "value": post("updated")}));
                }
                let (st, body) = x.post(
                    "com.atproto.repo.applyWrites",
                    &json!({"repo": acct.did, "writes": writes}),
                    tok,
                );
                let mut ops = vec![];
                if st == 200 {
                    let results = body["results"].as_array().expect("results");
                    for r in &results[..2] {
                        let path = path_of(r["uri"].as_str().expect("uri"));
                        let cid = r["cid"].as_str().expect("cid").to_string();
                        live.push((path.clone(), cid.clone()));
                        ops.push(("create".to_string(), path, Some(cid), None));
                    }
                    if let Some((path, prev)) = updated {
                        let cid = results[2]["cid"].as_str().expect("cid").to_string();
                        if let Some(e) = live.iter_mut().find(|(p, _)| *p == path) {
                            e.1 = cid.clone();
                        }
                        ops.push(("update".to_string(), path, Some(cid), Some(prev)));
                    }
                }
                (st, body, ops)
            }
            _ => {
                // Alternately delete the oldest live record, or putRecord over the newest.
                if i % 8 == 3 && !live.is_empty() {
                    let (path, prev) = live.remove(0);
                    let (c, r) = path.split_once('/').expect("path");
                    let (st, body) = x.post(
                        "com.atproto.repo.deleteRecord",
                        &json!({"repo": acct.did, "collection": c, "rkey": r}),
                        tok,
                    );
                    (
                        st,
                        body,
                        vec![("delete".to_string(), path, None, Some(prev))],
                    )
                } else if let Some((path, prev)) = live.last().cloned() {
                    let (c, r) = path.split_once('/').expect("path");
                    let (st, body) = x.post(
                        "com.atproto.repo.putRecord",
                        &json!({"repo": acct.did, "collection": c, "rkey": r, "record": post("put")}),
                        tok,
                    );
                    let mut ops = vec![];
                    if st == 200 {
                        let cid = body["cid"].as_str().expect("cid").to_string();
                        if let Some(e) = live.last_mut() {
                            e.1 = cid.clone();
                        }
                        ops.push(("update".to_string(), path, Some(cid), Some(prev)));
                    }
                    (st, body, ops)
                } else {
                    continue;
                }
            }
        };
        if st != 200 {
            if stop_on_error {
                return done;
            }
            panic!("write {i} failed: {st} {body}");
        }
        let commit = &body["commit"];
        acked.lock().expect("lock").push(Acked {
            did: acct.did.clone(),
            commit: commit["cid"].as_str().expect("commit cid").to_string(),
            rev: commit["rev"].as_str().expect("commit rev").to_string(),
            ops,
        });
        done += 1;
    }
    done
}

/// A client for writers that may see the server die.
fn fragile(base: &str) -> FragileXrpc {
    FragileXrpc {
        base: base.trim_end_matches('/').to_string(),
        http: reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client"),
    }
}

/// The account's current signing key, from its DID document in the PLC directory.
fn signing_key(pdsd: &Pdsd, did: &str) -> pds::crypto::PublicKey {
    let plc = pdsd.plc_url.as_ref().expect("built-in PLC in --dev");
    let doc: serde_json::Value = reqwest::blocking::get(format!("{plc}/{did}"))
        .expect("PLC")
        .json()
        .expect("DID document");
    let vm = doc["verificationMethod"]
        .as_array()
        .expect("verificationMethod")
        .iter()
        .find(|m| m["id"].as_str().is_some_and(|id| id.ends_with("#atproto")))
        .expect("#atproto key");
    pds::crypto::PublicKey::from_multikey(vm["publicKeyMultibase"].as_str().expect("multikey"))
        .expect("key")
}

/// What a verified #commit frame says.
#[derive(Debug)]
struct SeenCommit {
    seq: i64,
    repo: String,
    commit: cid::Cid,
    rev: String,
    since: Option<String>,
    prev_data: Option<cid::Cid>,
    data: cid::Cid,
    ops: Vec<(String, String, Option<String>, Option<String>)>,
    blobs: Vec<cid::Cid>,
}

/// Check one #commit body completely; panics with the reason.
fn verify_commit(body: &Value, keys: &HashMap<String, pds::crypto::PublicKey>) -> SeenCommit {
    let Value::Map(m) = body else {
        panic!("body is not a map")
    };
    for k in [
        "seq", "rebase", "tooBig", "repo", "commit", "rev", "since", "blocks", "ops", "blobs",
        "time",
    ] {
        assert!(m.contains_key(k), "#commit lacks {k}");
    }
    assert_eq!(m.get("rebase"), Some(&Value::Bool(false)));
    assert_eq!(m.get("tooBig"), Some(&Value::Bool(false)));
    let Some(Value::List(blobs)) = m.get("blobs") else {
        panic!("blobs is not a list")
    };
    let blobs: Vec<cid::Cid> = blobs
        .iter()
        .map(|b| link(Some(b)).expect("each blob is a CID link"))
        .collect();
    let seq = int(m.get("seq")).expect("seq");
    assert!(seq > 0);
    let repo = text(m.get("repo")).expect("repo").to_string();
    let commit = link(m.get("commit")).expect("commit link");
    let rev = text(m.get("rev")).expect("rev").to_string();
    let since = match m.get("since") {
        Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        other => panic!("since is {other:?}"),
    };
    let prev_data = link(m.get("prevData"));
    let time = text(m.get("time")).expect("time");
    assert!(
        pds::syntax::Datetime::new(time).is_ok(),
        "time {time} is not an atproto datetime"
    );
    let Some(Value::Bytes(blocks)) = m.get("blocks") else {
        panic!("blocks is not bytes")
    };
    assert!(blocks.len() <= 2_000_000);
    // The CAR: every block hashes to its CID (the reader checks), the root is the commit.
    let car = pds::car::read_all(blocks.as_slice(), pds::car::CarLimits::default())
        .expect("blocks is a valid CAR");
    assert_eq!(car.roots.first(), Some(&commit), "CAR root is the commit");
    let commit_bytes = car.blocks.get(&commit).expect("commit block in the CAR");
    let c = pds::repo::Commit::decode(commit_bytes).expect("commit decodes");
    assert_eq!(c.did.as_str(), repo);
    assert_eq!(c.rev.as_str(), rev);
    let key = keys.get(&repo).expect("key of the repo");
    c.verify(key)
        .expect("commit signature verifies with the DID document's key");
    let Some(Value::List(ops)) = m.get("ops") else {
        panic!("ops is not a list")
    };
    assert!(ops.len() <= 200);
    let mut seen_ops = Vec::new();
    for op in ops {
        let action = text(field(op, "action")).expect("action").to_string();
        let path = text(field(op, "path")).expect("path").to_string();
        let cid = match field(op, "cid") {
            Some(Value::Null) => None,
            Some(Value::Link(c)) => Some(*c),
            other => panic!("op cid is {other:?}"),
        };
        let prev = link(field(op, "prev"));
        match action.as_str() {
            "create" => assert!(cid.is_some() && field(op, "prev").is_none(), "{op:?}"),
            "update" => assert!(cid.is_some() && prev.is_some(), "{op:?}"),
            "delete" => assert!(cid.is_none() && prev.is_some(), "{op:?}"),
            other => panic!("unknown action {other}"),
        }
        if let Some(cid) = cid {
            let rec = car.blocks.get(&cid).expect("the new record is in the CAR");
            pds::data::cbor::decode_value(rec).expect("record block is DAG-CBOR");
        }
        seen_ops.push((
            action,
            path,
            cid.map(|c| c.to_string()),
            prev.map(|c| c.to_string()),
        ));
    }
    SeenCommit {
        seq,
        repo,
        commit,
        rev,
        since,
        prev_data,
        data: c.data,
        ops: seen_ops,
        blobs,
    }
}

/// Check a run of events: seqs strictly increasing with no gap from `first`, every
/// #commit verified, each repo's since/prevData chain unbroken, and every acknowledged
/// commit present exactly once with exactly its ops. Returns the last seq.
fn check_stream(
    events: &[Event],
    first: i64,
    keys: &HashMap<String, pds::crypto::PublicKey>,
    acked: &[Acked],
    heads: &mut HashMap<String, (String, Option<cid::Cid>)>,
) -> i64 {
    let mut expect = first;
    let mut commits: HashMap<String, SeenCommit> = HashMap::new();
    for ev in events {
        let Event::Message { t, body } = ev else {
            panic!("unexpected {ev:?}")
        };
        let seq = ev.seq().expect("every message here has a seq");
        assert_eq!(
            seq, expect,
            "seq gap or duplicate: got {seq}, expected {expect}"
        );
        expect += 1;
        if t != "#commit" {
            continue;
        }
        let c = verify_commit(body, keys);
        assert_eq!(c.seq, seq);
        if let Some((rev, data)) = heads.get(&c.repo) {
            assert_eq!(
                c.since.as_deref(),
                Some(rev.as_str()),
                "since breaks the chain"
            );
            if let Some(d) = data {
                assert_eq!(c.prev_data, Some(*d), "prevData breaks the chain");
            }
            assert!(c.rev > *rev, "rev goes backwards");
        }
        heads.insert(c.repo.clone(), (c.rev.clone(), Some(c.data)));
        let prior = commits.insert(c.commit.to_string(), c);
        assert!(prior.is_none(), "a commit appeared twice");
    }
    for a in acked {
        let c = commits
            .get(&a.commit)
            .unwrap_or_else(|| panic!("acknowledged commit {} missing from the stream", a.commit));
        assert_eq!(c.repo, a.did);
        assert_eq!(c.rev, a.rev);
        assert_eq!(c.ops, a.ops, "ops of commit {}", a.commit);
    }
    expect - 1
}

/// Each repo's head before the stream starts: (rev, data unknown).
fn head_of(x: &Xrpc, did: &str) -> (String, Option<cid::Cid>) {
    let (st, body) = x.get("com.atproto.sync.getLatestCommit", &[("did", did)], None);
    assert_eq!(st, 200, "{body}");
    (body["rev"].as_str().expect("rev").to_string(), None)
}

// ------------------------------------------------------------------ tests

#[test]
fn every_acknowledged_write_arrives_once_in_order_under_concurrent_load() {
    let pdsd = Pdsd::start();
    let x = pdsd.xrpc();
    let accounts: Vec<Account> = (0..4).map(|_| pdsd.create_account()).collect();
    let keys: HashMap<String, _> = accounts
        .iter()
        .map(|a| (a.did.clone(), signing_key(&pdsd, &a.did)))
        .collect();
    let mut heads: HashMap<_, _> = accounts
        .iter()
        .map(|a| (a.did.clone(), head_of(&x, &a.did)))
        .collect();
    let start = latest_seq(&x);
    // The main consumer starts from a cursor (replay, then the live tail).
    let main = Sub::start(ws_url(&pdsd, Some(start)));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let writing = Arc::new(AtomicBool::new(true));

    // Subscribers joining and leaving meanwhile, with and without cursors; each checks
    // that what it got is gap-free and starts where it should.
    let joiners = {
        let (writing, url_base, x) = (writing.clone(), pdsd.url.clone(), x.clone());
        std::thread::spawn(move || {
            let mut rounds = 0u32;
            while writing.load(Ordering::SeqCst) || rounds < 4 {
                rounds += 1;
                let head = latest_seq(&x);
                let cursor = rounds.is_multiple_of(2).then(|| (head - 7).max(0));
                let base = url_base.replacen("http://", "ws://", 1);
                let url = match cursor {
                    Some(c) => format!("{base}/xrpc/com.atproto.sync.subscribeRepos?cursor={c}"),
                    None => format!("{base}/xrpc/com.atproto.sync.subscribeRepos"),
                };
                let mut ws = connect(&url);
                set_read_timeout(&mut ws, Some(Duration::from_secs(2)));
                let mut seqs = Vec::new();
                while seqs.len() < 10 {
                    match read_event(&mut ws) {
                        Some(ev @ Event::Message { .. }) => seqs.push(ev.seq().expect("seq")),
                        Some(other) => panic!("joiner got {other:?}"),
                        // Nothing new for a while: fine once the writers are done.
                        None if !writing.load(Ordering::SeqCst) => break,
                        None => {}
                    }
                }
                if let (Some(c), Some(first)) = (cursor, seqs.first()) {
                    assert_eq!(
                        *first,
                        c + 1,
                        "a cursor replay starts right after the cursor"
                    );
                }
                for w in seqs.windows(2) {
                    assert_eq!(w[1], w[0] + 1, "joiner saw a gap or a duplicate: {seqs:?}");
                }
                let _ = ws.close(None);
            }
            rounds
        })
    };

    let writers: Vec<_> = accounts
        .iter()
        .cloned()
        .map(|a| {
            let (x, acked) = (x.clone(), acked.clone());
            std::thread::spawn(move || writer(&x, &a, 24, false, &acked))
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
    writing.store(false, Ordering::SeqCst);
    let rounds = joiners.join().expect("joiners");
    assert!(rounds >= 4);

    let last = latest_seq(&x);
    let acked = acked.lock().expect("lock").clone();
    assert!(
        acked.len() >= 4 * 20,
        "writes were acknowledged: {}",
        acked.len()
    );
    let events = main.until_seq(last);
    let end = check_stream(&events, start + 1, &keys, &acked, &mut heads);
    assert_eq!(end, last);
    // Exactly the acknowledged commits, nothing else: every commit of the run was ours.
    let commits = events
        .iter()
        .filter(|e| matches!(e, Event::Message { t, .. } if t == "#commit"))
        .count();
    assert_eq!(commits, acked.len());
}

#[test]
fn sigkill_and_restart_lose_nothing_and_keep_seq_gap_free() {
    let mut pdsd = Pdsd::start();
    let x = pdsd.xrpc();
    let accounts: Vec<Account> = (0..3).map(|_| pdsd.create_account()).collect();
    let keys: HashMap<String, _> = accounts
        .iter()
        .map(|a| (a.did.clone(), signing_key(&pdsd, &a.did)))
        .collect();
    let mut heads: HashMap<_, _> = accounts
        .iter()
        .map(|a| (a.did.clone(), head_of(&x, &a.did)))
        .collect();
    let start = latest_seq(&x);
    let sub = Sub::start(ws_url(&pdsd, Some(start)));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = accounts
        .iter()
        .cloned()
        .map(|a| {
            let (fx, acked) = (fragile(&pdsd.url), acked.clone());
            std::thread::spawn(move || fx.writer(&a, 10_000, &acked))
        })
        .collect();
    // Kill mid-load, once a good number of writes went through.
    let deadline = Instant::now() + PATIENCE;
    while acked.lock().expect("lock").len() < 30 {
        assert!(Instant::now() < deadline, "writes are not going through");
        std::thread::sleep(Duration::from_millis(20));
    }
    pdsd.kill();
    for w in writers {
        w.join().expect("writer");
    }
    let acked = acked.lock().expect("lock").clone();
    // What the subscriber got before the crash.
    let mut before = Vec::new();
    loop {
        match sub.next() {
            ev @ Event::Message { .. } => before.push(ev),
            Event::Ended(_) => break,
            Event::Error { error } => panic!("error frame {error}"),
        }
    }
    let last_seen = before.last().and_then(Event::seq).unwrap_or(start);

    pdsd.restart();
    let x = pdsd.xrpc();
    let after_restart = latest_seq(&x);
    assert!(
        after_restart >= last_seen,
        "the sequence survived the crash"
    );
    // Reconnect with the last cursor; then write more and see seq continue.
    let sub = Sub::start(ws_url(&pdsd, Some(last_seen)));
    let more = Arc::new(Mutex::new(Vec::new()));
    let mut fresh = accounts[0].clone();
    let (st, body) = x.post(
        "com.atproto.server.createSession",
        &json!({"identifier": fresh.did, "password": fresh.password}),
        None,
    );
    assert_eq!(st, 200, "{body}");
    fresh.access = body["accessJwt"].as_str().expect("jwt").to_string();
    writer(&x, &fresh, 6, false, &more);
    let last = latest_seq(&x);
    assert!(last > after_restart);
    let after = sub.until_seq(last);

    let mut all = before;
    all.extend(after);
    let mut everything = acked;
    everything.extend(more.lock().expect("lock").iter().cloned());
    let end = check_stream(&all, start + 1, &keys, &everything, &mut heads);
    assert_eq!(end, last);
}

#[test]
fn a_future_cursor_gets_an_error_frame_then_close() {
    let pdsd = Pdsd::start();
    let x = pdsd.xrpc();
    pdsd.create_account();
    let head = latest_seq(&x);
    let mut ws = connect(&ws_url(&pdsd, Some(head + 1000)));
    set_read_timeout(&mut ws, Some(PATIENCE));
    match read_event(&mut ws) {
        Some(Event::Error { error }) => assert_eq!(error, "FutureCursor"),
        other => panic!("expected a FutureCursor error frame, got {other:?}"),
    }
    match read_event(&mut ws) {
        Some(Event::Ended(_)) => {}
        other => panic!("expected the stream to close after the error, got {other:?}"),
    }
    // The cursor at the head itself is fine: live events follow.
    let sub = Sub::start(ws_url(&pdsd, Some(head)));
    pdsd.create_account();
    let evs = sub.until_seq(head + 1);
    assert_eq!(evs[0].seq(), Some(head + 1));
    // A negative cursor is refused before the upgrade.
    let (st, _) = x.get("com.atproto.sync.subscribeRepos", &[("cursor", "-1")], None);
    assert_eq!(st, 400);
}

#[test]
fn a_stalled_subscriber_is_dropped_while_others_keep_receiving() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("pdsd.toml");
    std::fs::write(&cfg, "[firehose]\nsubscriber_buffer = 32\n").expect("config");
    let pdsd = Pdsd::start_with(&["--config", cfg.to_str().expect("utf-8 path")]);
    let x = pdsd.xrpc();
    let acct = pdsd.create_account();
    let start = latest_seq(&x);
    // The stalled one never reads; the healthy one reads everything.
    let mut stalled = connect(&ws_url(&pdsd, Some(start)));
    let healthy = Sub::start(ws_url(&pdsd, Some(start)));
    // Big records, so that the stalled socket's kernel buffers fill quickly.
    let fat = "x".repeat(200_000);
    let n = 120;
    for i in 0..n {
        let (st, body) = x.post(
            "com.atproto.repo.createRecord",
            &json!({"repo": acct.did, "collection": "com.example.fat", "record": {"$type": "com.example.fat", "n": i, "data": fat}}),
            Some(&acct.access),
        );
        assert_eq!(st, 200, "write {i}: {body}");
    }
    let last = latest_seq(&x);
    assert_eq!(last, start + n);
    let got = healthy.until_seq(last);
    let seqs: Vec<i64> = got.iter().filter_map(Event::seq).collect();
    assert_eq!(seqs, ((start + 1)..=last).collect::<Vec<_>>());
    // Still live after the other was dropped.
    pdsd.create_account();
    let later = healthy.until_seq(last + 1);
    assert!(later.iter().any(|e| e.seq() == Some(last + 1)));

    // The stalled subscriber: whatever was buffered, then ConsumerTooSlow or the end of
    // the stream, and never the whole run.
    set_read_timeout(&mut stalled, Some(PATIENCE));
    let mut seen = Vec::new();
    let end = loop {
        match read_event(&mut stalled) {
            Some(ev @ Event::Message { .. }) => seen.push(ev.seq().expect("seq")),
            Some(other) => break other,
            None => panic!(
                "the stalled subscriber was never dropped (got {} frames)",
                seen.len()
            ),
        }
    };
    match &end {
        Event::Error { error } => assert_eq!(error, "ConsumerTooSlow"),
        // The error frame could not get through the full socket; the close did.
        Event::Ended(why) => eprintln!("stalled subscriber: stream ended ({why})"),
        Event::Message { .. } => unreachable!(),
    }
    assert!(
        seen.last().is_none_or(|&s| s < last),
        "the stalled subscriber got everything ({} frames), so it was not dropped",
        seen.len()
    );
    for w in seen.windows(2) {
        assert_eq!(w[1], w[0] + 1);
    }
}

#[test]
fn account_and_identity_events_for_deactivate_activate_and_handle_change() {
    let pdsd = Pdsd::start();
    let x = pdsd.xrpc();
    let acct = pdsd.create_account();
    let start = latest_seq(&x);
    let sub = Sub::start(ws_url(&pdsd, Some(start)));
    let tok = Some(acct.access.as_str());
    let (st, body) = x.post("com.atproto.server.deactivateAccount", &json!({}), tok);
    assert_eq!(st, 200, "{body}");
    let (st, body) = x.post("com.atproto.server.activateAccount", &json!({}), tok);
    assert_eq!(st, 200, "{body}");
    let new_handle = format!("h{}.test", crate::support::random_suffix());
    let (st, body) = x.post(
        "com.atproto.identity.updateHandle",
        &json!({"handle": new_handle}),
        tok,
    );
    assert_eq!(st, 200, "{body}");
    // A record that uses a blob: the #commit lists the blob.
    let png = [
        &[0x89u8, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a][..],
        &[7u8; 64],
    ]
    .concat();
    let (st, up) = x.post_bytes("com.atproto.repo.uploadBlob", png, "image/png", tok);
    assert_eq!(st, 200, "{up}");
    let blob_cid = up["blob"]["ref"]["$link"]
        .as_str()
        .expect("blob cid")
        .to_string();
    let (st, body) = x.post(
        "com.atproto.repo.createRecord",
        &json!({"repo": acct.did, "collection": "app.bsky.feed.post",
                "record": {"$type": "app.bsky.feed.post", "text": "with an image",
                           "createdAt": "2025-01-01T00:00:00.000Z",
                           "embed": {"$type": "app.bsky.embed.images",
                                     "images": [{"image": up["blob"], "alt": ""}]}}}),
        tok,
    );
    assert_eq!(st, 200, "{body}");
    let (st, body) = x.post(
        "com.atproto.repo.createRecord",
        &json!({"repo": acct.did, "collection": "app.bsky.feed.post", "record": post("no image")}),
        tok,
    );
    assert_eq!(st, 200, "{body}");
    let last = latest_seq(&x);
    let evs = sub.until_seq(last);
    let keys = HashMap::from([(acct.did.clone(), signing_key(&pdsd, &acct.did))]);
    let commits: Vec<SeenCommit> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Message { t, body } if t == "#commit" => Some(verify_commit(body, &keys)),
            _ => None,
        })
        .collect();
    let blob_lists: Vec<Vec<String>> = commits
        .iter()
        .map(|c| c.blobs.iter().map(|b| b.to_string()).collect())
        .collect();
    assert_eq!(blob_lists, [vec![blob_cid], vec![]]);
    let mine: Vec<(String, &Value)> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Message { t, body } => Some((t.clone(), body)),
            _ => None,
        })
        .collect();
    for (_, body) in &mine {
        let did = text(field(body, "did")).or(text(field(body, "repo")));
        assert_eq!(did, Some(acct.did.as_str()));
        assert!(text(field(body, "time")).is_some());
    }
    let kinds: Vec<&str> = mine.iter().map(|(t, _)| t.as_str()).collect();
    // Deactivation: one #account.
    assert_eq!(kinds[0], "#account");
    assert_eq!(field(mine[0].1, "active"), Some(&Value::Bool(false)));
    assert_eq!(text(field(mine[0].1, "status")), Some("deactivated"));
    // Activation: #account active (with no status), then identity/sync refreshes.
    assert_eq!(kinds[1], "#account");
    assert_eq!(field(mine[1].1, "active"), Some(&Value::Bool(true)));
    assert!(field(mine[1].1, "status").is_none());
    // The handle change: #identity with the new handle (before the two commits).
    let (t, body) = mine
        .iter()
        .rev()
        .find(|(t, _)| t != "#commit")
        .expect("events");
    assert_eq!(t, "#identity");
    assert_eq!(text(field(body, "handle")), Some(new_handle.as_str()));
    for (t, body) in &mine {
        if t == "#sync" {
            let Some(Value::Bytes(b)) = field(body, "blocks") else {
                panic!("#sync blocks")
            };
            let car = pds::car::read_all(b.as_slice(), pds::car::CarLimits::default())
                .expect("#sync CAR");
            let root = car.roots[0];
            let c = pds::repo::Commit::decode(&car.blocks[&root]).expect("commit");
            assert_eq!(Some(c.rev.as_str()), text(field(body, "rev")));
        }
    }
}

#[test]
fn cursors_older_than_the_backfill_window_get_outdated_cursor_then_the_live_tail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("pdsd.toml");
    std::fs::write(&cfg, "[firehose]\nbackfill_hours = 72\n").expect("config");
    let mut pdsd = Pdsd::start_with(&["--config", cfg.to_str().expect("utf-8 path")]);
    let acct = pdsd.create_account();
    let x = pdsd.xrpc();
    // Within the window, cursor 0 replays everything from seq 1, with no #info.
    let sub = Sub::start(ws_url(&pdsd, Some(0)));
    let head = latest_seq(&x);
    let evs = sub.until_seq(head);
    assert_eq!(evs[0].seq(), Some(1));
    // Restart with a window of zero: everything is pruned before serving.
    std::fs::write(&cfg, "[firehose]\nbackfill_hours = 0\n").expect("config");
    pdsd.restart();
    let x = pdsd.xrpc();
    assert_eq!(
        latest_seq(&x),
        head,
        "the sequence is kept even with no rows left"
    );
    for cursor in [0, 1, head - 1] {
        let mut ws = connect(&ws_url(&pdsd, Some(cursor)));
        set_read_timeout(&mut ws, Some(PATIENCE));
        match read_event(&mut ws) {
            Some(Event::Message { t, body }) => {
                assert_eq!(t, "#info");
                assert_eq!(text(field(&body, "name")), Some("OutdatedCursor"));
            }
            other => panic!("cursor {cursor}: expected #info OutdatedCursor, got {other:?}"),
        }
        let _ = ws.close(None);
    }
    // The head itself is not outdated, and not in the future: the live tail follows.
    let sub = Sub::start(ws_url(&pdsd, Some(head)));
    let mut a = acct.clone();
    let (st, body) = x.post(
        "com.atproto.server.createSession",
        &json!({"identifier": a.did, "password": a.password}),
        None,
    );
    assert_eq!(st, 200, "{body}");
    a.access = body["accessJwt"].as_str().expect("jwt").to_string();
    let (st, body) = x.post(
        "com.atproto.repo.createRecord",
        &json!({"repo": a.did, "collection": "app.bsky.feed.post", "record": post("after pruning")}),
        Some(&a.access),
    );
    assert_eq!(st, 200, "{body}");
    let evs = sub.until_seq(head + 1);
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!(evs[0].seq(), Some(head + 1));
}

#[test]
fn shutdown_closes_subscribers_with_going_away() {
    let mut pdsd = Pdsd::start();
    let mut ws = connect(&ws_url(&pdsd, Some(0)));
    set_read_timeout(&mut ws, Some(PATIENCE));
    pdsd.create_account();
    assert!(
        matches!(read_event(&mut ws), Some(Event::Message { .. })),
        "the subscription is live"
    );
    assert!(
        pdsd.stop(),
        "pdsd exits cleanly on SIGTERM with a subscriber open"
    );
    let end = loop {
        match read_event(&mut ws) {
            Some(Event::Message { .. }) => continue,
            Some(other) => break other,
            None => panic!("no close after shutdown"),
        }
    };
    match end {
        Event::Ended(why) => assert!(why.contains("Away"), "closed with {why}"),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[test]
fn announces_itself_to_configured_relays_with_retries() {
    // A relay stand-in: 503 to the first requestCrawl, 200 afterwards.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let relay_port = listener.local_addr().expect("addr").port();
    let got: Arc<Mutex<Vec<(String, serde_json::Value)>>> = Arc::default();
    {
        let got = got.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { return };
                let Some((path, body)) = read_http_request(&mut conn) else {
                    continue;
                };
                let n = {
                    let mut g = got.lock().expect("lock");
                    g.push((path, body));
                    g.len()
                };
                let (status, body) = if n == 1 {
                    (
                        "503 Service Unavailable",
                        r#"{"error":"NotReady","message":"later"}"#,
                    )
                } else {
                    ("200 OK", "{}")
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("pdsd.toml");
    std::fs::write(
        &cfg,
        format!("[firehose]\nrelays = [\"http://127.0.0.1:{relay_port}\"]\n"),
    )
    .expect("config");
    let pdsd = Pdsd::start_with(&["--config", cfg.to_str().expect("utf-8 path")]);
    let count = || got.lock().map(|g| g.len()).unwrap_or(0);
    let deadline = Instant::now() + PATIENCE;
    while count() < 2 {
        assert!(Instant::now() < deadline, "no retry after the relay's 503");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The first write since start is announced once more.
    pdsd.create_account();
    while count() < 3 {
        assert!(
            Instant::now() < deadline,
            "no announcement after the first write"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The hostname of its public URL (in --dev: localhost and the port).
    let port = pdsd
        .url
        .rsplit(':')
        .next()
        .expect("port")
        .trim_end_matches('/');
    for (path, body) in got.lock().expect("lock").iter() {
        assert_eq!(path, "/xrpc/com.atproto.sync.requestCrawl");
        assert_eq!(body, &json!({"hostname": format!("localhost:{port}")}));
    }
    // What the relay answered, as the operator sees it.
    let relay = format!("http://127.0.0.1:{relay_port}");
    let status = pdsctl(&pdsd, &["--json", "status"]);
    let status: serde_json::Value = serde_json::from_str(&status).expect("status JSON");
    let listed = &status["relays"][0];
    assert_eq!(listed["relay"], relay.as_str(), "{status}");
    assert!(
        listed["last_status"]
            .as_str()
            .is_some_and(|s| s.starts_with("200")),
        "{status}"
    );
    assert!(listed["last_ok_at"].is_string(), "{status}");
    let human = pdsctl(&pdsd, &["status"]);
    assert!(
        human.contains(&format!("{relay}: requestCrawl 200")),
        "{human}"
    );
}

/// pdsctl ARGS against `pdsd`'s admin socket, which must succeed; its stdout.
fn pdsctl(pdsd: &Pdsd, args: &[&str]) -> String {
    let out = std::process::Command::new(crate::support::bin("pdsctl"))
        .arg("--socket")
        .arg(pdsd.socket())
        .args(args)
        .env_remove("PDSCTL_SOCKET")
        .output()
        .expect("run pdsctl");
    assert!(
        out.status.success(),
        "pdsctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Read one HTTP/1.1 request (head and Content-Length body): its path and JSON body.
fn read_http_request(conn: &mut TcpStream) -> Option<(String, serde_json::Value)> {
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_string();
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    Some((path, serde_json::from_slice(&body).ok()?))
}

/// Writers for the crash test: they stop at the first transport failure instead of
/// panicking, since the server is killed under them.
struct FragileXrpc {
    base: String,
    http: reqwest::blocking::Client,
}

impl FragileXrpc {
    fn writer(&self, acct: &Account, n: usize, acked: &Mutex<Vec<Acked>>) -> usize {
        let mut done = 0;
        for i in 0..n {
            let res = self
                .http
                .post(format!("{}/xrpc/com.atproto.repo.createRecord", self.base))
                .bearer_auth(&acct.access)
                .json(&json!({"repo": acct.did, "collection": "app.bsky.feed.post", "record": post(&format!("k{i}"))}))
                .send();
            let Ok(res) = res else { return done };
            if res.status().as_u16() != 200 {
                return done;
            }
            let Ok(body) = res.json::<serde_json::Value>() else {
                return done;
            };
            let path = path_of(body["uri"].as_str().expect("uri"));
            acked.lock().expect("lock").push(Acked {
                did: acct.did.clone(),
                commit: body["commit"]["cid"].as_str().expect("cid").to_string(),
                rev: body["commit"]["rev"].as_str().expect("rev").to_string(),
                ops: vec![(
                    "create".into(),
                    path,
                    Some(body["cid"].as_str().expect("cid").to_string()),
                    None,
                )],
            });
            done += 1;
        }
        done
    }
}
