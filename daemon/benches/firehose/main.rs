//! The firehose load benchmark (`cargo bench -p pdsd --bench firehose`): starts the
//! release `pdsd --dev` on loopback, opens many WebSocket subscribers (default 1,000),
//! drives createRecord commits through XRPC at a target rate (default 600/s), and
//! reports the commit rate reached, per-event delivery lag (p50/p99/max), and pdsd's
//! resident memory over time, while one more subscriber deliberately never reads and
//! must be dropped. It measures; it asserts nothing except that the run was valid
//! (every healthy subscriber saw every event exactly once, in order).
//!
//! Lag is measured three ways: from the event's `time` field (set when the event is
//! sequenced, inside the write transaction, so this includes the rest of the group
//! commit and its fsync) to its arrival at each of the subscribers; the fan-out lag, from
//! the event's first arrival at any subscriber to its arrival at each (what fanning out
//! to many costs, without the commit); and, for a sample of subscribers, from the moment
//! the driver got the XRPC answer for the commit to the frame's arrival (the frame may
//! arrive first: it is published right after the commit, before the answer is written;
//! those count as zero).
//!
//! The subscribers read with a lean WebSocket reader of their own (see `ws`), so that
//! the driver, which shares the machine with pdsd, takes as little CPU from it as it
//! can; all frames a single read returns are stamped with that read's arrival time.
//!
//! Options (after `--`): `--subscribers N`, `--rate N` (commits/s), `--seconds N`,
//! `--accounts N`, `--concurrency N` (requests in flight), `--pdsd PATH`, or
//! `--url URL --pid PID` to measure a pdsd that is already running (e.g. under a profiler;
//! it must accept `--dev`-style account creation).

mod ws;

use futures::StreamExt;
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Clone)]
struct Args {
    subscribers: usize,
    rate: u64,
    seconds: u64,
    accounts: usize,
    concurrency: usize,
    pdsd: String,
    url: Option<String>,
    pid: Option<u32>,
}

fn args() -> Args {
    let mut a = Args {
        subscribers: 1000,
        rate: 600,
        seconds: 30,
        accounts: 32,
        concurrency: 48,
        pdsd: env!("CARGO_BIN_EXE_pdsd").to_string(),
        url: None,
        pid: None,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < v.len() {
        let next = v.get(i + 1).cloned().unwrap_or_default();
        let num = || {
            next.parse::<u64>()
                .unwrap_or_else(|_| panic!("{} needs a number", v[i]))
        };
        match v[i].as_str() {
            "--subscribers" => a.subscribers = num() as usize,
            "--rate" => a.rate = num(),
            "--seconds" => a.seconds = num(),
            "--accounts" => a.accounts = num() as usize,
            "--concurrency" => a.concurrency = num() as usize,
            "--pdsd" => a.pdsd = next.clone(),
            "--url" => a.url = Some(next.clone()),
            "--pid" => a.pid = Some(num() as u32),
            // `cargo bench` passes `--bench`; anything else unknown is ignored too.
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    a
}

fn main() {
    let a = args();
    // The fast time parser must agree with chrono.
    let probe = "2024-02-29T13:07:59.123Z";
    assert_eq!(
        parse_ms(probe),
        chrono::DateTime::parse_from_rfc3339(probe)
            .ok()
            .map(|d| d.timestamp_millis() as f64)
    );
    // Each lag lands in the bucket whose lower edge is at most the lag, and close to it.
    for ms in [
        0.0, 0.05, 12.34, 99.99, 100.0, 456.7, 999.9, 1000.0, 5432.1, 9999.0,
    ] {
        let edge = Hist::edge(Hist::bucket(ms));
        let width = if ms < 100.0 {
            0.1
        } else if ms < 1000.0 {
            1.0
        } else {
            10.0
        };
        assert!(
            edge <= ms && ms - edge < width,
            "{ms} ms in the bucket from {edge}"
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(a));
}

// ------------------------------------------------------------------ pdsd

struct Server {
    /// None when measuring a server started by someone else.
    child: Option<Child>,
    pid: u32,
    url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn start_pdsd(path: &str) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(path)
        .arg("--dev")
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["--listen", "127.0.0.1:0", "--plc-listen", "127.0.0.1:0"])
        .env("PDSD_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {path}: {e}"));
    let out = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    let mut url = None;
    for line in lines.by_ref() {
        let line = line.expect("pdsd output");
        if let Some(rest) = line.split("listening on ").nth(1) {
            url = Some(rest.trim().to_string());
        }
        if line.starts_with("data folder:") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Server {
        pid: child.id(),
        child: Some(child),
        url: url.expect("pdsd said where it listens"),
        _dir: Some(dir),
    }
}

fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn hwm_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn cpu_ticks(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = s.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

// ------------------------------------------------------------------ a minimal CBOR scan

/// Skip one DAG-CBOR item at `i`; returns the index after it.
fn skip(b: &[u8], i: usize) -> Option<usize> {
    let (major, len, mut j) = head(b, i)?;
    match major {
        0 | 1 | 7 => Some(j),
        2 | 3 => Some(j + len as usize),
        4 => {
            for _ in 0..len {
                j = skip(b, j)?;
            }
            Some(j)
        }
        5 => {
            for _ in 0..len * 2 {
                j = skip(b, j)?;
            }
            Some(j)
        }
        6 => skip(b, j),
        _ => None,
    }
}

/// (major type, argument, index after the head)
fn head(b: &[u8], i: usize) -> Option<(u8, u64, usize)> {
    let first = *b.get(i)?;
    let (major, info) = (first >> 5, first & 0x1f);
    let (arg, n) = match info {
        0..=23 => (info as u64, 0),
        24 => (*b.get(i + 1)? as u64, 1),
        25 => (
            u16::from_be_bytes(b.get(i + 1..i + 3)?.try_into().ok()?) as u64,
            2,
        ),
        26 => (
            u32::from_be_bytes(b.get(i + 1..i + 5)?.try_into().ok()?) as u64,
            4,
        ),
        27 => (u64::from_be_bytes(b.get(i + 1..i + 9)?.try_into().ok()?), 8),
        _ => return None,
    };
    Some((major, arg, i + 1 + n))
}

/// From a frame: the header's `t` (or `op` -1 → "error") and the body's seq, time, rev.
#[derive(Debug, Default)]
struct Scan<'a> {
    t: &'a str,
    seq: Option<i64>,
    time: Option<&'a str>,
    rev: Option<&'a str>,
    error: Option<&'a str>,
}

/// The bytes of the text string at `i`, and the index after it.
fn bytes_at(b: &[u8], i: usize) -> Option<(&[u8], usize)> {
    let (major, len, j) = head(b, i)?;
    if major != 3 {
        return None;
    }
    let end = j + len as usize;
    Some((b.get(j..end)?, end))
}

/// A text value: validated, since it is read (keys are only compared as bytes).
fn text_at(b: &[u8], i: usize) -> Option<(&str, usize)> {
    let (t, end) = bytes_at(b, i)?;
    Some((std::str::from_utf8(t).ok()?, end))
}

fn scan(b: &[u8]) -> Option<Scan<'_>> {
    let mut out = Scan::default();
    let (major, n, mut i) = head(b, 0)?;
    if major != 5 {
        return None;
    }
    for _ in 0..n {
        let (k, j) = bytes_at(b, i)?;
        if k == b"t" {
            out.t = text_at(b, j)?.0;
        } else if k == b"op" && head(b, j)?.0 == 1 {
            out.t = "error";
        }
        i = skip(b, j)?;
    }
    let (major, n, mut i) = head(b, i)?;
    if major != 5 {
        return None;
    }
    for _ in 0..n {
        let (k, j) = bytes_at(b, i)?;
        match k {
            b"seq" => out.seq = Some(head(b, j)?.1 as i64),
            b"time" => out.time = Some(text_at(b, j)?.0),
            b"rev" => out.rev = Some(text_at(b, j)?.0),
            b"error" => out.error = Some(text_at(b, j)?.0),
            _ => {}
        }
        i = skip(b, j)?;
    }
    Some(out)
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (what pdsd writes) to Unix milliseconds, cheaply; anything
/// else through chrono.
fn parse_ms(t: &str) -> Option<f64> {
    let b = t.as_bytes();
    if b.len() == 24 && b[10] == b'T' && b[19] == b'.' && b[23] == b'Z' {
        let n = |r: std::ops::Range<usize>| -> Option<i64> { t.get(r)?.parse().ok() };
        let (y, mo, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
        let (h, mi, s, ms) = (n(11..13)?, n(14..16)?, n(17..19)?, n(20..23)?);
        // Days from the civil date (Howard Hinnant's algorithm).
        let y2 = if mo <= 2 { y - 1 } else { y };
        let era = y2.div_euclid(400);
        let yoe = y2 - era * 400;
        let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        return Some((((days * 24 + h) * 60 + mi) * 60 + s) as f64 * 1000.0 + ms as f64);
    }
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.timestamp_millis() as f64)
}

// ------------------------------------------------------------------ histograms

/// Lags in buckets of 0.1 ms up to 100 ms, 1 ms up to 1 s, 10 ms up to 10 s (and one
/// for anything longer): small enough (11 KB) that a thousand subscribers' histograms do
/// not turn every record into a cache and TLB miss.
#[derive(Clone)]
struct Hist(Vec<u32>);

impl Hist {
    const BUCKETS: usize = 1000 + 900 + 900 + 1;
    fn new() -> Hist {
        Hist(vec![0; Self::BUCKETS])
    }
    fn bucket(ms: f64) -> usize {
        let ms = ms.max(0.0);
        if ms < 100.0 {
            (ms * 10.0) as usize
        } else if ms < 1000.0 {
            1000 + (ms - 100.0) as usize
        } else if ms < 10_000.0 {
            1900 + ((ms - 1000.0) / 10.0) as usize
        } else {
            Self::BUCKETS - 1
        }
        .min(Self::BUCKETS - 1)
    }
    /// The lower edge of a bucket, in ms.
    fn edge(b: usize) -> f64 {
        match b {
            0..1000 => b as f64 / 10.0,
            1000..1900 => 100.0 + (b - 1000) as f64,
            _ => 1000.0 + (b - 1900) as f64 * 10.0,
        }
    }
    fn record(&mut self, ms: f64) {
        self.0[Self::bucket(ms)] += 1;
    }
    fn merge(&mut self, o: &Hist) {
        for (a, b) in self.0.iter_mut().zip(&o.0) {
            *a += b;
        }
    }
    fn count(&self) -> u64 {
        self.0.iter().map(|&n| n as u64).sum()
    }
    fn quantile(&self, q: f64) -> f64 {
        let total = self.count();
        if total == 0 {
            return f64::NAN;
        }
        let want = ((total as f64) * q).ceil() as u64;
        let mut seen = 0;
        for (i, &n) in self.0.iter().enumerate() {
            seen += n as u64;
            if seen >= want {
                return Self::edge(i);
            }
        }
        f64::INFINITY
    }
    fn max(&self) -> f64 {
        self.0
            .iter()
            .rposition(|&n| n > 0)
            .map_or(f64::NAN, Self::edge)
    }
}

// ------------------------------------------------------------------ subscribers

/// The first arrival of each event at any subscriber (nanoseconds since the run's
/// start; `u64::MAX` until then), indexed by seq: the fan-out lag of an event at one
/// subscriber is its arrival there minus that first arrival.
struct FirstArrival {
    t0: Instant,
    by_seq: Vec<AtomicU64>,
}

impl FirstArrival {
    fn new(t0: Instant, capacity: usize) -> Self {
        FirstArrival {
            t0,
            by_seq: (0..capacity).map(|_| AtomicU64::new(u64::MAX)).collect(),
        }
    }

    /// Record an arrival of `seq` at `at`; the fan-out lag in ms (None past the capacity).
    fn arrived(&self, seq: i64, at: Instant) -> Option<f64> {
        let slot = self.by_seq.get(usize::try_from(seq).ok()?)?;
        let now = at.saturating_duration_since(self.t0).as_nanos() as u64;
        let first = slot.fetch_min(now, Ordering::Relaxed).min(now);
        Some((now - first) as f64 / 1e6)
    }
}

struct SubResult {
    hist: Hist,
    /// Arrival here minus the first arrival anywhere.
    spread: Hist,
    frames: u64,
    first: Option<i64>,
    last: Option<i64>,
    gaps: u64,
    ended: Option<String>,
    /// (rev, arrival) for sampled subscribers.
    arrivals: Vec<(String, Instant)>,
}

async fn subscriber(
    url: String,
    sample: bool,
    measuring: Arc<AtomicBool>,
    first: Arc<FirstArrival>,
    stop: tokio_util::sync::CancellationToken,
    ready: tokio::sync::mpsc::Sender<()>,
) -> SubResult {
    let mut ws = ws::WsReader::connect(&url)
        .await
        .expect("subscriber connects");
    let _ = ready.send(()).await;
    let mut r = SubResult {
        hist: Hist::new(),
        spread: Hist::new(),
        frames: 0,
        first: None,
        last: None,
        gaps: 0,
        ended: None,
        arrivals: Vec::new(),
    };
    loop {
        // Everything one read returns arrived at the same moment.
        let mut stamp = None;
        let read = tokio::select! {
            _ = stop.cancelled() => break,
            n = ws.read_with(|msg| {
                let (wall, at) = *stamp.get_or_insert_with(|| (now_ms(), Instant::now()));
                let b = match msg {
                    ws::Msg::Binary(b) => b,
                    ws::Msg::Text => return ws::Flow::Continue,
                    ws::Msg::Close => {
                        r.ended = Some("closed".into());
                        return ws::Flow::Stop;
                    }
                };
                let Some(s) = scan(b) else {
                    r.ended = Some("undecodable frame".into());
                    return ws::Flow::Stop;
                };
                if s.t == "error" {
                    r.ended = Some(format!("error frame {}", s.error.unwrap_or("?")));
                    return ws::Flow::Stop;
                }
                if let Some(seq) = s.seq {
                    if let Some(l) = r.last
                        && seq != l + 1
                    {
                        r.gaps += 1;
                    }
                    r.first.get_or_insert(seq);
                    r.last = Some(seq);
                }
                r.frames += 1;
                if s.t == "#commit" && measuring.load(Ordering::Relaxed) {
                    if let Some(t) = s.time.and_then(parse_ms) {
                        r.hist.record(wall - t);
                    }
                    if let Some(lag) = s.seq.and_then(|q| first.arrived(q, at)) {
                        r.spread.record(lag);
                    }
                    if sample && let Some(rev) = s.rev {
                        r.arrivals.push((rev.to_string(), at));
                    }
                }
                ws::Flow::Continue
            }) => n,
        };
        match read {
            _ if r.ended.is_some() => break,
            Ok(0) => {
                r.ended = Some("eof".into());
                break;
            }
            Ok(_) => {}
            Err(e) => {
                r.ended = Some(e);
                break;
            }
        }
    }
    ws.close().await;
    r
}

// ------------------------------------------------------------------ the run

async fn create_accounts(http: &reqwest::Client, url: &str, n: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    let tag = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() & 0xff_ffff)
        .unwrap_or(0);
    for i in 0..n {
        let (http, url) = (http.clone(), url.to_string());
        tasks.spawn(async move {
            let body: serde_json::Value = http
                .post(format!("{url}/xrpc/com.atproto.server.createAccount"))
                .json(&json!({"handle": format!("b{tag:x}n{i}.test"), "password": "bench-password", "email": format!("b{tag:x}n{i}@example.com")}))
                .send()
                .await
                .expect("createAccount")
                .json()
                .await
                .expect("createAccount answer");
            (
                body["did"].as_str().expect("did").to_string(),
                body["accessJwt"].as_str().expect("jwt").to_string(),
            )
        });
        // One at a time: password hashing is memory-hungry, and freed memory stays in
        // the allocator's per-thread arenas; the baseline below is taken afterwards.
        if !tasks.is_empty() {
            out.push(tasks.join_next().await.expect("task").expect("account"));
        }
    }
    while let Some(r) = tasks.join_next().await {
        out.push(r.expect("account"));
    }
    out
}

/// The newest sequence number pdsd has handed out (from its health endpoint).
async fn latest_seq(http: &reqwest::Client, url: &str) -> i64 {
    http.get(format!("{url}/xrpc/_health"))
        .send()
        .await
        .expect("health")
        .json::<serde_json::Value>()
        .await
        .expect("health json")["seq"]
        .as_i64()
        .expect("seq")
}

async fn run(a: Args) {
    println!("firehose benchmark: {a:?}");
    let server = match (&a.url, a.pid) {
        (Some(url), Some(pid)) => Server {
            child: None,
            pid,
            url: url.trim_end_matches('/').to_string(),
            _dir: None,
        },
        _ => start_pdsd(&a.pdsd),
    };
    let pid = server.pid;
    let url = server.url.clone();
    let ws_base = url.replacen("http://", "ws://", 1);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(a.concurrency * 2)
        .build()
        .expect("http");
    let rss_start = rss_kib(pid).unwrap_or(0);
    let accounts = create_accounts(&http, &url, a.accounts).await;
    let rss_idle = rss_kib(pid).unwrap_or(0);
    println!(
        "{} accounts; pdsd RSS {} MiB at start, {} MiB after creating them",
        accounts.len(),
        rss_start / 1024,
        rss_idle / 1024
    );

    // Memory samples every 200 ms for the whole run.
    let samples: Arc<Mutex<Vec<(f64, u64)>>> = Arc::default();
    let t0 = Instant::now();
    let sampler_stop = tokio_util::sync::CancellationToken::new();
    {
        let (samples, stop) = (samples.clone(), sampler_stop.clone());
        tokio::spawn(async move {
            loop {
                if let Some(r) = rss_kib(pid) {
                    samples
                        .lock()
                        .expect("lock")
                        .push((t0.elapsed().as_secs_f64(), r));
                }
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        });
    }

    // Subscribers, connected 50 at a time.
    let measuring = Arc::new(AtomicBool::new(false));
    // Enough for any run this driver makes (seqs past it are simply not counted).
    let first = Arc::new(FirstArrival::new(t0, 1 << 21));
    let stop = tokio_util::sync::CancellationToken::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(a.subscribers + 1);
    let mut subs = Vec::with_capacity(a.subscribers);
    let sub_url = format!("{ws_base}/xrpc/com.atproto.sync.subscribeRepos");
    for i in 0..a.subscribers {
        subs.push(tokio::spawn(subscriber(
            sub_url.clone(),
            i % 50 == 0,
            measuring.clone(),
            first.clone(),
            stop.clone(),
            ready_tx.clone(),
        )));
        if i % 50 == 49 {
            for _ in 0..50 {
                ready_rx.recv().await;
            }
        }
    }
    for _ in 0..a.subscribers % 50 {
        ready_rx.recv().await;
    }
    // The stalled one: connected, and never read until the end.
    let (stalled, _) = tokio_tungstenite::connect_async(&sub_url)
        .await
        .expect("stalled subscriber connects");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_subscribed = rss_kib(pid).unwrap_or(0);
    let start_seq = latest_seq(&http, &url).await;
    println!(
        "{} subscribers connected (+1 stalled); pdsd RSS {} MiB idle, {} MiB with subscribers",
        a.subscribers,
        rss_idle / 1024,
        rss_subscribed / 1024
    );

    // The load: `concurrency` writers, paced together to `rate` commits/s.
    let acks: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let errors = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let warmup = Duration::from_secs(3);
    let load_start = Instant::now();
    let load_end = load_start + warmup + Duration::from_secs(a.seconds);
    let cpu0 = cpu_ticks(pid).unwrap_or(0);
    let mut writers = tokio::task::JoinSet::new();
    let per_writer = Duration::from_secs_f64(a.concurrency as f64 / a.rate as f64);
    for w in 0..a.concurrency {
        let (http, url) = (http.clone(), url.clone());
        let (did, jwt) = accounts[w % accounts.len()].clone();
        let (acks, errors, done, measuring) = (
            acks.clone(),
            errors.clone(),
            done.clone(),
            measuring.clone(),
        );
        writers.spawn(async move {
            let mut tick = tokio::time::interval_at(
                tokio::time::Instant::now() + per_writer.mul_f64(w as f64 / a.concurrency as f64),
                per_writer,
            );
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut i = 0u64;
            while Instant::now() < load_end {
                tick.tick().await;
                i += 1;
                let res = http
                    .post(format!("{url}/xrpc/com.atproto.repo.createRecord"))
                    .bearer_auth(&jwt)
                    .json(&json!({"repo": did, "collection": "app.bsky.feed.post",
                        "record": {"$type": "app.bsky.feed.post", "text": format!("bench {w} {i}"), "createdAt": "2024-01-01T00:00:00.000Z"}}))
                    .send()
                    .await;
                let ok = match res {
                    Ok(r) if r.status().is_success() => r.json::<serde_json::Value>().await.ok(),
                    _ => None,
                };
                match ok {
                    Some(body) => {
                        let at = Instant::now();
                        if measuring.load(Ordering::Relaxed) {
                            done.fetch_add(1, Ordering::Relaxed);
                            if let Some(rev) = body["commit"]["rev"].as_str() {
                                acks.lock().expect("lock").insert(rev.to_string(), at);
                            }
                        }
                    }
                    None => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }
    tokio::time::sleep(warmup).await;
    measuring.store(true, Ordering::SeqCst);
    let measure_start = Instant::now();
    let cpu_m0 = cpu_ticks(pid).unwrap_or(0);
    let me = std::process::id();
    let own_m0 = cpu_ticks(me).unwrap_or(0);
    while writers.join_next().await.is_some() {}
    let measured = measure_start.elapsed().as_secs_f64();
    measuring.store(false, Ordering::SeqCst);
    let cpu_m1 = cpu_ticks(pid).unwrap_or(0);
    let own_m1 = cpu_ticks(me).unwrap_or(0);
    let commits = done.load(Ordering::SeqCst);
    let end_seq = latest_seq(&http, &url).await;
    // Let the tail arrive, then stop the subscribers.
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.cancel();
    let mut hist = Hist::new();
    let mut spread = Hist::new();
    let mut ack_hist = Hist::new();
    let mut before_ack = 0u64;
    let mut incomplete = 0usize;
    let mut gaps = 0u64;
    let mut dropped = Vec::new();
    let acks = acks.lock().expect("lock").clone();
    for s in subs {
        let r = s.await.expect("subscriber");
        hist.merge(&r.hist);
        spread.merge(&r.spread);
        gaps += r.gaps;
        if r.last < Some(end_seq) || r.first > Some(start_seq + 1) {
            incomplete += 1;
        }
        if let Some(e) = r.ended {
            dropped.push(e);
        }
        for (rev, at) in &r.arrivals {
            if let Some(acked) = acks.get(rev) {
                match at.checked_duration_since(*acked) {
                    Some(d) => ack_hist.record(d.as_secs_f64() * 1000.0),
                    None => {
                        before_ack += 1;
                        ack_hist.record(0.0);
                    }
                }
            }
        }
        let _ = r.frames;
    }
    sampler_stop.cancel();

    // The stalled subscriber: what it got before it was dropped.
    let (mut st_frames, mut st_last, mut st_end) = (0u64, None, String::from("still open"));
    let mut stalled = stalled;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stalled.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => match scan(&b) {
                Some(s) if s.t == "error" => {
                    st_end = format!("error frame {}", s.error.unwrap_or("?"));
                    break;
                }
                Some(s) => {
                    st_frames += 1;
                    st_last = s.seq;
                }
                None => {
                    st_end = "undecodable frame".into();
                    break;
                }
            },
            Ok(Some(Ok(Message::Close(c)))) => {
                st_end = format!("closed {c:?}");
                break;
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => {
                st_end = e.to_string();
                break;
            }
            Ok(None) => {
                st_end = "eof".into();
                break;
            }
            Err(_) => break,
        }
    }
    let _ = stalled.close(None).await;

    let samples = samples.lock().expect("lock").clone();
    let peak = samples.iter().map(|s| s.1).max().unwrap_or(0);
    let end_rss = samples.last().map_or(0, |s| s.1);
    let ticks = 100.0; // USER_HZ
    let cpu = (cpu_m1 - cpu_m0) as f64 / ticks / measured;
    let _ = cpu0;
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| subscribers | {} (+1 stalled) |", a.subscribers);
    println!(
        "| commits acknowledged (measured {:.1} s) | {} = {:.0}/s (target {}/s), {} errors |",
        measured,
        commits,
        commits as f64 / measured,
        a.rate,
        errors.load(Ordering::SeqCst)
    );
    println!(
        "| frames delivered (measured) | {} ({:.0}/s) |",
        hist.count(),
        hist.count() as f64 / measured
    );
    println!(
        "| lag, event time → arrival (all subscribers) | p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms |",
        hist.quantile(0.5),
        hist.quantile(0.99),
        hist.max()
    );
    println!(
        "| fan-out lag, first arrival anywhere → arrival (all subscribers) | p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms |",
        spread.quantile(0.5),
        spread.quantile(0.99),
        spread.max()
    );
    println!(
        "| lag, XRPC answer → arrival ({} sampled subscribers) | p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} of {} frames arrived before the answer) |",
        a.subscribers.div_ceil(50),
        ack_hist.quantile(0.5),
        ack_hist.quantile(0.99),
        ack_hist.max(),
        before_ack,
        ack_hist.count()
    );
    println!(
        "| healthy subscribers: incomplete / gaps / ended early | {incomplete} / {gaps} / {} {:?} |",
        dropped.len(),
        dropped.iter().take(3).collect::<Vec<_>>()
    );
    println!(
        "| stalled subscriber | {st_frames} frames (last seq {st_last:?} of {end_seq}), then: {st_end} |"
    );
    println!(
        "| CPU during the measured load: pdsd / this driver | {:.2} / {:.2} cores |",
        cpu,
        (own_m1 - own_m0) as f64 / ticks / measured
    );
    println!(
        "| pdsd RSS: idle / with subscribers / peak / end / VmHWM | {} / {} / {} / {} / {} MiB |",
        rss_idle / 1024,
        rss_subscribed / 1024,
        peak / 1024,
        end_rss / 1024,
        hwm_kib(pid).unwrap_or(0) / 1024
    );
    // RSS over time, one line per 2 s.
    let series: Vec<String> = samples
        .iter()
        .step_by(10)
        .map(|(t, r)| format!("{t:.0}s:{}M", r / 1024))
        .collect();
    println!("\nRSS over time: {}", series.join(" "));
    drop(server);
}
