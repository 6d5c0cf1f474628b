//! The harness: start/stop/kill a real pdsd, find the binaries, and a small blocking
//! XRPC client for tests.

#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// target/<profile>/<name>, next to this test binary's deps folder.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>");
    let p = dir.join(name);
    assert!(
        p.exists(),
        "{} is missing: run the tests with `cargo test --workspace` so the binaries are built",
        p.display()
    );
    p
}

/// A running pdsd.
pub struct Pdsd {
    child: Option<Child>,
    pub url: String,
    pub plc_url: Option<String>,
    pub data_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    extra: Vec<String>,
    pub log: PathBuf,
    /// Ports are picked by the kernel at first start and kept across restarts, so the
    /// service DID (which names the port in dev) stays the same.
    listen: String,
    plc_listen: String,
}

impl Pdsd {
    /// `pdsd --dev` on free ports with a fresh data folder.
    pub fn start() -> Pdsd {
        Self::start_with(&[])
    }

    /// `pdsd --dev` plus extra arguments.
    pub fn start_with(extra: &[&str]) -> Pdsd {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data_dir = tmp.path().join("data");
        let mut p = Pdsd {
            child: None,
            url: String::new(),
            plc_url: None,
            log: tmp.path().join("pdsd.log"),
            data_dir,
            _tmp: Some(tmp),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            listen: "127.0.0.1:0".into(),
            plc_listen: "127.0.0.1:0".into(),
        };
        p.spawn();
        p
    }

    fn spawn(&mut self) {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let mut cmd = Command::new(bin("pdsd"));
        cmd.arg("--dev")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["--listen", &self.listen, "--plc-listen", &self.plc_listen])
            .args(&self.extra)
            .env_remove("PDSD_CONFIG")
            .env("PDSD_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = cmd.spawn().expect("spawn pdsd");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut url = None;
        while Instant::now() < deadline {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    if let Some(rest) = line.split("listening on ").nth(1) {
                        url = Some(rest.trim().to_string());
                    }
                    if let Some(rest) = line.split("PLC directory (dev) at ").nth(1) {
                        self.plc_url = Some(rest.trim().to_string());
                    }
                    if line.starts_with("data folder:") {
                        break;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        panic!("pdsd exited early ({status}); log:\n{}", self.log_text());
                    }
                }
                Err(_) => break,
            }
        }
        let url = url.unwrap_or_else(|| {
            panic!(
                "pdsd did not say where it listens; log:\n{}",
                self.log_text()
            )
        });
        self.listen = url.trim_start_matches("http://").to_string();
        if let Some(plc) = &self.plc_url {
            let port = plc.rsplit(':').next().unwrap_or("0");
            self.plc_listen = format!("127.0.0.1:{port}");
        }
        self.url = url;
        self.child = Some(child);
    }

    /// The daemon's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The admin socket of this instance.
    pub fn socket(&self) -> PathBuf {
        self.data_dir.join("pdsd.sock")
    }

    /// SIGKILL, no cleanup (crash simulation).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for a clean exit; returns whether it exited successfully.
    pub fn stop(&mut self) -> bool {
        match self.child.take() {
            Some(mut c) => {
                unsafe_free_sigterm(c.id());
                let deadline = Instant::now() + Duration::from_secs(20);
                loop {
                    if let Ok(Some(st)) = c.try_wait() {
                        return st.success();
                    }
                    if Instant::now() > deadline {
                        let _ = c.kill();
                        let _ = c.wait();
                        return false;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            None => true,
        }
    }

    /// Start again on the same data folder and ports.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// An XRPC client for this server.
    pub fn xrpc(&self) -> Xrpc {
        Xrpc::new(&self.url)
    }

    /// Create an account with a random handle; returns (did, handle, password, accessJwt).
    pub fn create_account(&self) -> Account {
        let x = self.xrpc();
        let n = random_suffix();
        let handle = format!("u{n}.test");
        let password = format!("pw-{n}");
        let (st, body) = x.post(
            "com.atproto.server.createAccount",
            &json!({"handle": handle, "email": format!("u{n}@example.com"), "password": password}),
            None,
        );
        assert_eq!(st, 200, "createAccount: {body}");
        Account {
            did: body["did"].as_str().expect("did").to_string(),
            handle,
            password,
            access: body["accessJwt"].as_str().expect("accessJwt").to_string(),
            refresh: body["refreshJwt"].as_str().expect("refreshJwt").to_string(),
        }
    }
}

fn unsafe_free_sigterm(pid: u32) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}

impl Drop for Pdsd {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An account created through XRPC.
#[derive(Debug, Clone)]
pub struct Account {
    pub did: String,
    pub handle: String,
    pub password: String,
    pub access: String,
    pub refresh: String,
}

/// Random hex for unique names.
pub fn random_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{:x}{:x}",
        (t as u64) & 0xffffff,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A blocking XRPC client.
#[derive(Clone)]
pub struct Xrpc {
    base: String,
    http: reqwest::blocking::Client,
}

impl Xrpc {
    pub fn new(base: &str) -> Xrpc {
        Xrpc {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
        }
    }

    fn parse(res: reqwest::blocking::Response) -> (u16, Value) {
        let st = res.status().as_u16();
        let text = res.text().unwrap_or_default();
        let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (st, v)
    }

    /// GET a query with parameters.
    pub fn get(&self, nsid: &str, params: &[(&str, &str)], token: Option<&str>) -> (u16, Value) {
        let mut req = self
            .http
            .get(format!("{}/xrpc/{nsid}", self.base))
            .query(params);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::parse(req.send().expect("request"))
    }

    /// GET raw bytes.
    pub fn get_bytes(
        &self,
        nsid: &str,
        params: &[(&str, &str)],
    ) -> (u16, Vec<u8>, reqwest::header::HeaderMap) {
        let res = self
            .http
            .get(format!("{}/xrpc/{nsid}", self.base))
            .query(params)
            .send()
            .expect("request");
        let st = res.status().as_u16();
        let headers = res.headers().clone();
        (
            st,
            res.bytes().map(|b| b.to_vec()).unwrap_or_default(),
            headers,
        )
    }

    /// POST a procedure with a JSON body.
    pub fn post(&self, nsid: &str, body: &Value, token: Option<&str>) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}/xrpc/{nsid}", self.base))
            .json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::parse(req.send().expect("request"))
    }

    /// POST that reports a dead server as `None` instead of panicking (crash tests).
    pub fn http_post_quiet(&self, nsid: &str, body: &Value, token: &str) -> Option<(u16, Value)> {
        let res = self
            .http
            .post(format!("{}/xrpc/{nsid}", self.base))
            .json(body)
            .bearer_auth(token)
            .send()
            .ok()?;
        let st = res.status().as_u16();
        let v = res.json::<Value>().ok()?;
        Some((st, v))
    }

    /// POST raw bytes with a content type.
    pub fn post_bytes(
        &self,
        nsid: &str,
        bytes: Vec<u8>,
        content_type: &str,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}/xrpc/{nsid}", self.base))
            .header("content-type", content_type)
            .body(bytes);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::parse(req.send().expect("request"))
    }

    /// Any request, for negative tests.
    pub fn raw(&self, method: reqwest::Method, path: &str) -> reqwest::blocking::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }
}

/// Assert an XRPC error shape, status and name.
pub fn assert_error(res: &(u16, Value), status: u16, name: &str) {
    assert_eq!(
        res.0, status,
        "expected {status} {name}, got {} {}",
        res.0, res.1
    );
    assert_eq!(res.1["error"].as_str(), Some(name), "body: {}", res.1);
    assert!(
        res.1["message"].is_string() || res.1["message"].is_null(),
        "message: {}",
        res.1
    );
}

/// Read a whole file.
pub fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).expect("read")
}
