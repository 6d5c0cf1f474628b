//! Helpers of the migration, backup, recovery and transfer tests: pdsctl runs with their
//! own data folder (where Share 1 lives when there is no keychain), a PLC directory that
//! outlives the daemons under test, accounts filled with records and blobs, and a
//! snapshot of an account as the outside world sees it (the DID document, the verified
//! repository, the blobs) to compare before and after.

#![allow(dead_code)]

use crate::support::{Pdsd, Xrpc, bin, random_suffix};
use pds::crypto::PublicKey;
use pds::identity::{DidDocument, LogEntry, PlcState};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

/// One pdsctl "machine": its own data folder (keychain fallback, device keys), and
/// optionally the relay and PLC directory its device commands use.
pub struct Machine {
    pub home: tempfile::TempDir,
    pub relay: Option<String>,
    pub plc: Option<String>,
}

impl Machine {
    pub fn new() -> Machine {
        Machine {
            home: tempfile::tempdir().expect("tempdir"),
            relay: None,
            plc: None,
        }
    }

    /// A machine whose device commands talk to `relay` and check keys at `plc`, with no
    /// local pdsd (so it is another host than the relay's).
    pub fn device_of(relay: &str, plc: &str) -> Machine {
        Machine {
            home: tempfile::tempdir().expect("tempdir"),
            relay: Some(relay.to_string()),
            plc: Some(plc.to_string()),
        }
    }

    /// The file where Share 1 of `did` lives on this machine (no OS keychain).
    pub fn keychain_file(&self, did: &str) -> PathBuf {
        let safe: String = did
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        self.data_dir()
            .join("keychain")
            .join(format!("{safe}.share"))
    }

    /// This machine's device file (pdsctl keeps one device per data folder).
    pub fn device_file(&self) -> PathBuf {
        self.data_dir().join("device.json")
    }

    /// pdsctl's data folder on this machine.
    pub fn data_dir(&self) -> PathBuf {
        self.home.path().join("pdsctl-data")
    }

    /// A pdsctl command on this machine (no keychain: the file fallback is used).
    pub fn cmd(&self, socket: Option<&Path>, args: &[&str]) -> Command {
        let mut c = Command::new(bin("pdsctl"));
        if let Some(s) = socket {
            c.arg("--socket").arg(s);
        }
        c.args(args)
            .env_remove("PDSCTL_SOCKET")
            .env_remove("PDSCTL_RELAY")
            .env_remove("PDSCTL_PLC_URL")
            .env_remove("PDSD_DATA_DIR")
            .env("PDSCTL_DATA_DIR", self.data_dir())
            .env("PDSCTL_KEYCHAIN", "none")
            .env("HOME", self.home.path())
            .env("XDG_DATA_HOME", self.home.path().join("xdg"))
            .stdin(Stdio::null());
        if let Some(r) = &self.relay {
            c.env("PDSCTL_RELAY", r);
        }
        if let Some(p) = &self.plc {
            c.env("PDSCTL_PLC_URL", p);
        }
        c
    }

    pub fn run(&self, socket: Option<&Path>, args: &[&str]) -> Output {
        self.cmd(socket, args).output().expect("run pdsctl")
    }

    /// `pdsctl --json --yes ARGS`, which must succeed.
    pub fn json(&self, socket: Option<&Path>, args: &[&str]) -> Value {
        let mut all = vec!["--json", "--yes"];
        all.extend_from_slice(args);
        let out = self.run(socket, &all);
        assert!(
            out.status.success(),
            "pdsctl {args:?} failed ({}): {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("pdsctl {args:?}: not JSON ({e}):\n{text}"))
    }

    /// `pdsctl --json --yes ARGS`, which must fail with status 1: its error document.
    pub fn json_error(&self, socket: Option<&Path>, args: &[&str]) -> Value {
        let mut all = vec!["--json", "--yes"];
        all.extend_from_slice(args);
        let out = self.run(socket, &all);
        assert_eq!(
            out.status.code(),
            Some(1),
            "pdsctl {args:?} should fail; stdout: {} stderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "pdsctl {args:?}: error is not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }
}

/// The message of an error document.
pub fn message(err: &Value) -> String {
    err["message"].as_str().unwrap_or_default().to_string()
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A file holding `text` and a newline.
pub fn text_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let f = dir.join(format!("{name}-{}", random_suffix()));
    std::fs::write(&f, format!("{text}\n")).expect("write file");
    f
}

/// A pdsd whose only job is to be the PLC directory the daemons under test share, so
/// that it outlives them.
pub fn plc_host() -> (Pdsd, String) {
    let host = Pdsd::start();
    let url = host
        .plc_url
        .clone()
        .expect("the dev pdsd serves a PLC directory");
    (host, url)
}

/// The public URL a pdsd names itself by (what DID documents and QR payloads carry).
pub fn public_url(p: &Pdsd) -> String {
    Machine::new().json(Some(&p.socket()), &["status"])["listen"]["public_url"]
        .as_str()
        .expect("public url")
        .trim_end_matches('/')
        .to_string()
}

/// `pdsd --dev` that uses the PLC directory at `plc`.
pub fn pdsd_with_plc(plc: &str) -> Pdsd {
    Pdsd::start_with(&["--plc-url", plc])
}

/// An account made with `pdsctl account create` (a password, and optionally the user's
/// rotation key generated into a file).
#[derive(Debug, Clone)]
pub struct Made {
    pub did: String,
    pub handle: String,
    pub password: String,
    pub password_file: PathBuf,
}

pub fn create_account(p: &Pdsd, m: &Machine, dir: &Path, extra: &[&str]) -> Made {
    let n = random_suffix();
    let handle = format!("r{n}.test");
    let password = format!("recovery-pw-{n}");
    let pw = text_file(dir, "pw", &password);
    let email = format!("r{n}@example.com");
    let mut args = vec![
        "account",
        "create",
        "--handle",
        &handle,
        "--email",
        &email,
        "--password-file",
        path_str(&pw),
    ];
    args.extend_from_slice(extra);
    let a = m.json(Some(&p.socket()), &args);
    Made {
        did: a["did"].as_str().expect("did").to_string(),
        handle,
        password,
        password_file: pw,
    }
}

/// A session token for the account.
pub fn login(x: &Xrpc, id: &str, password: &str) -> String {
    let (st, s) = x.post(
        "com.atproto.server.createSession",
        &json!({"identifier": id, "password": password}),
        None,
    );
    assert_eq!(st, 200, "createSession: {s}");
    s["accessJwt"].as_str().expect("accessJwt").to_string()
}

/// Upload `blobs` distinct small PNG-looking blobs and write `records` posts, the first
/// `blobs` of them embedding one blob each; applyWrites in batches.
pub fn fill(x: &Xrpc, did: &str, token: &str, records: usize, blobs: usize) {
    let mut refs = Vec::new();
    for i in 0..blobs {
        let mut png = vec![0x89u8, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
        png.extend(format!("blob number {i} of {did}").bytes());
        png.extend(std::iter::repeat_n(i as u8, 200 + i * 37));
        let (st, up) = x.post_bytes("com.atproto.repo.uploadBlob", png, "image/png", Some(token));
        assert_eq!(st, 200, "uploadBlob: {up}");
        refs.push(up["blob"].clone());
    }
    let mut n = 0;
    while n < records {
        let end = (n + 100).min(records);
        let writes: Vec<Value> = (n..end)
            .map(|i| {
                let mut record = json!({
                    "$type": "app.bsky.feed.post",
                    "text": format!("record {i}"),
                    "createdAt": "2025-01-01T00:00:00.000Z",
                });
                if let Some(blob) = refs.get(i) {
                    record["embed"] = json!({"$type": "app.bsky.embed.images",
                        "images": [{"image": blob, "alt": format!("image {i}")}]});
                }
                json!({"$type": "com.atproto.repo.applyWrites#create",
                       "collection": "app.bsky.feed.post",
                       "value": record})
            })
            .collect();
        let (st, res) = x.post(
            "com.atproto.repo.applyWrites",
            &json!({"repo": did, "writes": writes}),
            Some(token),
        );
        assert_eq!(st, 200, "applyWrites: {res}");
        n = end;
    }
}

/// An account as the world sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub did: String,
    pub pds: String,
    pub handle: Option<String>,
    /// The MST root.
    pub data: String,
    /// path -> record CID, from the verified repository.
    pub records: BTreeMap<String, String>,
    /// CID -> bytes.
    pub blobs: BTreeMap<String, Vec<u8>>,
}

/// The DID document of `did` from the PLC directory at `plc`.
pub fn resolve(plc: &str, did: &str) -> DidDocument {
    let body = reqwest::blocking::get(format!("{plc}/{did}"))
        .expect("PLC directory")
        .bytes()
        .expect("body");
    DidDocument::from_json(&body)
        .unwrap_or_else(|e| panic!("{did} does not resolve: {e}: {body:?}"))
}

/// The verified audit log of `did`.
pub fn audit_log(plc: &str, did: &str) -> (Vec<LogEntry>, PlcState) {
    let entries: Vec<LogEntry> = reqwest::blocking::get(format!("{plc}/{did}/log/audit"))
        .expect("PLC directory")
        .json()
        .expect("audit log");
    let state = PlcState::from_log(did, &entries).expect("the audit log verifies");
    (entries, state)
}

/// Resolve `did` at `plc`, fetch its repository from the PDS the document names, verify
/// it with the document's signing key, and fetch every blob.
pub fn snapshot(plc: &str, did: &str) -> Snapshot {
    let doc = resolve(plc, did);
    let pds = doc
        .pds_endpoint()
        .expect("a PDS")
        .trim_end_matches('/')
        .to_string();
    let key: PublicKey = doc.atproto_signing_key().expect("a signing key");
    let x = Xrpc::new(&pds);
    let (st, car, _) = x.get_bytes("com.atproto.sync.getRepo", &[("did", did)]);
    assert_eq!(st, 200, "getRepo of {did} at {pds}");
    let mut opts = pds::repo::VerifyOptions::new(&key);
    opts.did = Some(did);
    let repo = pds::repo::verify_car(std::io::Cursor::new(car), &opts)
        .unwrap_or_else(|e| panic!("the repository of {did} at {pds} does not verify: {e}"));
    let records = repo
        .records
        .iter()
        .map(|(p, c)| (p.clone(), c.to_string()))
        .collect();
    let mut blobs = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut params = vec![("did", did), ("limit", "1000")];
        if let Some(c) = &cursor {
            params.push(("cursor", c.as_str()));
        }
        let (st, page) = x.get("com.atproto.sync.listBlobs", &params, None);
        assert_eq!(st, 200, "listBlobs: {page}");
        let cids: Vec<String> = page["cids"]
            .as_array()
            .expect("cids")
            .iter()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect();
        for cid in &cids {
            let (st, bytes, _) =
                x.get_bytes("com.atproto.sync.getBlob", &[("did", did), ("cid", cid)]);
            assert_eq!(st, 200, "getBlob {cid}");
            blobs.insert(cid.clone(), bytes);
        }
        match page["cursor"].as_str() {
            Some(c) if !cids.is_empty() => cursor = Some(c.to_string()),
            _ => break,
        }
    }
    Snapshot {
        did: did.to_string(),
        pds,
        handle: doc.handle(),
        data: repo.commit.data.to_string(),
        records,
        blobs,
    }
}

/// Assert that two snapshots hold the same account data (records, blobs, MST root,
/// handle); the PDS may differ.
pub fn assert_same_data(before: &Snapshot, after: &Snapshot) {
    assert_eq!(after.did, before.did);
    assert_eq!(after.handle, before.handle, "handle");
    assert_eq!(after.data, before.data, "MST root");
    assert_eq!(after.records.len(), before.records.len(), "record count");
    assert!(after.records == before.records, "records differ");
    assert_eq!(
        after.blobs.keys().collect::<Vec<_>>(),
        before.blobs.keys().collect::<Vec<_>>(),
        "blob CIDs"
    );
    assert!(after.blobs == before.blobs, "blob bytes differ");
}

/// Check that the latest operation of `did` was signed by `user_key`, the first of the
/// keys of the operation before it, and that it names `pds`.
pub fn assert_moved_by_user(plc: &str, did: &str, user_key: &str, pds: &str) {
    let (entries, state) = audit_log(plc, did);
    assert!(entries.len() >= 2, "genesis and the move: {entries:?}");
    let last = &entries[entries.len() - 1];
    let before = &entries[entries.len() - 2];
    let signer = last
        .operation
        .verify(&before.operation.op.rotation_keys())
        .expect("the move verifies");
    assert_eq!(
        before.operation.op.rotation_keys().get(signer),
        Some(&user_key.to_string()),
        "the move is signed by the user's key"
    );
    let data = state.data().expect("live DID");
    assert_eq!(data.rotation_keys.first(), Some(&user_key.to_string()));
    let doc = state.document().expect("document");
    assert_eq!(doc.pds_endpoint().expect("pds").trim_end_matches('/'), pds);
}

/// The text a reader sees in an HTML page: tags dropped, entities decoded, white space
/// collapsed. Enough for the recovery sheet, which has no script and no comments.
pub fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    let mut skip: Option<&str> = None;
    let lower = html.to_ascii_lowercase();
    let lower = lower.as_bytes();
    let mut i = 0;
    let bytes = html.as_bytes();
    while i < bytes.len() {
        if let Some(end) = skip {
            if lower[i..].starts_with(end.as_bytes()) {
                skip = None;
                i += end.len();
            } else {
                i += 1;
            }
            continue;
        }
        let c = bytes[i];
        if !in_tag && c == b'<' {
            if lower[i..].starts_with(b"<style>") || lower[i..].starts_with(b"<style ") {
                skip = Some("</style>");
                continue;
            }
            if lower[i..].starts_with(b"<head>") || lower[i..].starts_with(b"<head ") {
                skip = Some("</head>");
                continue;
            }
            in_tag = true;
            out.push(' ');
        } else if in_tag && c == b'>' {
            in_tag = false;
        } else if !in_tag {
            // Text is copied a whole character at a time (i is then on a boundary).
            let ch = html.get(i..).and_then(|r| r.chars().next()).unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
            continue;
        }
        i += 1;
    }
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The 24 words of a plain-text recovery sheet, in order (the numbered grid).
pub fn sheet_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for line in text.lines() {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let mut i = 0;
        while i + 1 < tokens.len() {
            if let Some(n) = tokens[i].strip_suffix('.')
                && n.parse::<usize>().is_ok_and(|n| n == words.len() + 1)
            {
                words.push(tokens[i + 1].to_string());
                i += 2;
            } else {
                i += 1;
            }
        }
    }
    words
}

/// Time a step of a long test, for the log.
pub fn step(t0: Instant, what: &str) {
    eprintln!("[{:>6.2}s] {what}", t0.elapsed().as_secs_f64());
}

/// Render an HTML file to PDF with headless Chromium, when it is installed (None when
/// it is not, or it fails to start: the text checks stand on their own).
pub fn print_to_pdf(html: &Path) -> Option<Vec<u8>> {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })?;
    let out = html.with_extension("pdf");
    let status = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--print-to-pdf={}", out.display()))
        .arg(format!("file://{}", html.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    std::fs::read(&out).ok()
}

/// The number of pages of a PDF (its `/Type /Page` objects).
pub fn pdf_pages(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| w.starts_with(needle) && w[needle.len()] != b's')
        .count()
}

/// The frames of `p`'s firehose for `did` (replayed from the start, until a second of
/// quiet): (type, body).
pub fn firehose_of(p: &Pdsd, did: &str) -> Vec<(String, BTreeMap<String, pds::data::Value>)> {
    let url = format!(
        "{}/xrpc/com.atproto.sync.subscribeRepos?cursor=0",
        p.url.replace("http://", "ws://")
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let frames = rt.block_on(async move {
        use futures::StreamExt;
        let (mut ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("connect");
        let mut out = Vec::new();
        while let Ok(Some(Ok(msg))) =
            tokio::time::timeout(std::time::Duration::from_secs(1), ws.next()).await
        {
            if let tokio_tungstenite::tungstenite::Message::Binary(b) = msg {
                out.push(crate::device::decode_frame(&b));
            }
        }
        out
    });
    frames
        .into_iter()
        .filter(|(_, body)| {
            matches!(body.get("did").or(body.get("repo")), Some(pds::data::Value::String(d)) if d == did)
        })
        .collect()
}
