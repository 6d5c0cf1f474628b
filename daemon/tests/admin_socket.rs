//! The admin socket of the real pdsd, from outside: its mode, who may use it (root and
//! pdsd's user read-write, the socket's group read-only, anyone else 403), the version
//! header on every answer, and its life cycle (a live socket is never stolen, a stale one
//! is replaced, the file goes away at shutdown).
//!
//! Other users are played with `setpriv` when the tests run as root (as CI does); as an
//! ordinary user those cases cannot be staged, and the permission rule itself is covered
//! by the unit tests of `daemon/src/admin/mod.rs`. pdsctl is taken from the same target
//! folder (`cargo test --workspace` builds it).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// target/<profile>/<name>.
fn sibling_bin(name: &str) -> PathBuf {
    let pdsd = PathBuf::from(env!("CARGO_BIN_EXE_pdsd"));
    let p = pdsd.with_file_name(name);
    assert!(
        p.exists(),
        "{} is missing: run `cargo test --workspace` so every binary is built",
        p.display()
    );
    p
}

/// A pdsd in --dev with its admin socket at `socket`.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(data: &Path, socket: &Path) -> Daemon {
        let log = data.with_extension("log");
        let (child, lines) = spawn(data, socket, &log);
        let ready = lines
            .iter()
            .any(|l| l.starts_with("admin socket:") && l.ends_with(&socket.display().to_string()));
        assert!(ready, "pdsd did not report its socket: {lines:?}");
        Daemon { child, log }
    }

    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start pdsd and read its start-up lines (until the admin socket line, or exit).
fn spawn(data: &Path, socket: &Path, log: &Path) -> (Child, Vec<String>) {
    let stderr = std::fs::File::create(log).expect("log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pdsd"))
        .arg("--dev")
        .arg("--data-dir")
        .arg(data)
        .arg("--socket")
        .arg(socket)
        // An external (unreachable) PLC directory: no built-in one competing for its port.
        .args(["--listen", "127.0.0.1:0", "--plc-url", "http://localhost:9"])
        .env_remove("PDSD_CONFIG")
        .env_remove("PDSD_SOCKET")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("spawn pdsd");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                let done = line.starts_with("admin socket:");
                lines.push(line);
                if done {
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    (child, lines)
}

/// A folder everyone may enter (tempdirs are 0700), so other users can reach the socket.
fn open_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// pdsctl as `who` (setpriv arguments, empty for ourselves).
fn pdsctl_as(who: &[&str], socket: &Path, args: &[&str]) -> Output {
    let mut cmd = if who.is_empty() {
        Command::new(sibling_bin("pdsctl"))
    } else {
        let mut c = Command::new("setpriv");
        c.args(who).arg(sibling_bin("pdsctl"));
        c
    };
    cmd.arg("--socket")
        .arg(socket)
        .args(args)
        .env_remove("PDSCTL_SOCKET")
        .output()
        .expect("run pdsctl")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// One raw HTTP/1.1 request on the socket; returns the whole answer.
fn raw_request(socket: &Path, request: &str) -> String {
    let mut s = std::os::unix::net::UnixStream::connect(socket).expect("connect");
    s.write_all(request.as_bytes()).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

const NOBODY: &[&str] = &["--reuid=65534", "--regid=65534", "--clear-groups"];

#[test]
fn socket_is_0660_and_permissions_follow_the_peer() {
    let dir = open_dir();
    let socket = dir.path().join("run").join("admin.sock");
    let mut d = Daemon::start(&dir.path().join("data"), &socket);

    let meta = std::fs::metadata(&socket).expect("socket");
    assert_eq!(meta.permissions().mode() & 0o777, 0o660, "socket mode");

    // Ourselves: the socket's owner, so read-write.
    let out = pdsctl_as(&[], &socket, &["--json", "status"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["access"], "read-write");
    assert_eq!(doc["listen"]["admin_socket"], socket.display().to_string());

    if !is_root() {
        // Other users cannot be played without root; the rule is unit-tested instead.
        d.stop();
        return;
    }
    std::fs::set_permissions(
        dir.path().join("run"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");

    // A stranger is stopped by the file mode before pdsd even sees it...
    let out = pdsctl_as(NOBODY, &socket, &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("permission denied"),
        "{}",
        text(&out.stderr)
    );

    // ...and, past the mode, by pdsd itself: 403 with a clear message.
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let out = pdsctl_as(NOBODY, &socket, &["--json", "status"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json error");
    assert_eq!(doc["error"], "Forbidden");
    let msg = doc["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("uid 65534 may not use the pdsd admin socket"),
        "{msg}"
    );
    assert!(msg.contains("join the socket's group"), "{msg}");

    // A member of the socket's group (as a supplementary group) may read, not change.
    let group = format!("--groups={}", meta.gid());
    let member = ["--reuid=65534", "--regid=65534", group.as_str()];
    let out = pdsctl_as(&member, &socket, &["--json", "status"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["access"], "read-only");
    let out = pdsctl_as(&member, &socket, &["--json", "invite", "create"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json error");
    assert_eq!(doc["error"], "Forbidden");
    assert!(
        doc["message"]
            .as_str()
            .unwrap_or_default()
            .contains("may only read"),
        "{doc}"
    );
    // The same as its primary group.
    let primary = format!("--regid={}", meta.gid());
    let out = pdsctl_as(
        &["--reuid=65534", primary.as_str(), "--clear-groups"],
        &socket,
        &["status"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("read-only"));

    d.stop();
    assert!(!socket.exists(), "the socket is removed at shutdown");
    let log = std::fs::read_to_string(&d.log).unwrap_or_default();
    assert!(
        log.contains("refused a caller"),
        "refusals are logged: {log}"
    );
}

#[test]
fn every_answer_carries_the_version_header_even_refusals() {
    let dir = open_dir();
    let socket = dir.path().join("admin.sock");
    let mut d = Daemon::start(&dir.path().join("data"), &socket);
    let header = format!("pdsd-version: {}", env!("CARGO_PKG_VERSION"));
    for request in [
        "GET /admin/v1/status HTTP/1.1\r\nHost: pdsd\r\nConnection: close\r\n\r\n",
        "GET /admin/v9/nothing HTTP/1.1\r\nHost: pdsd\r\nConnection: close\r\n\r\n",
        "POST /admin/v1/invite/create HTTP/1.1\r\nHost: pdsd\r\nContent-Type: application/json\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{\"uses\":0",
    ] {
        let answer = raw_request(&socket, request);
        assert!(
            answer.to_ascii_lowercase().contains(&header),
            "no version header in:\n{answer}"
        );
    }
    let unknown = raw_request(
        &socket,
        "GET /admin/v9/nothing HTTP/1.1\r\nHost: pdsd\r\nConnection: close\r\n\r\n",
    );
    assert!(unknown.starts_with("HTTP/1.1 404"), "{unknown}");
    assert!(unknown.contains("\"error\":\"NotFound\""), "{unknown}");
    d.stop();
}

#[test]
fn a_live_socket_is_never_stolen_and_a_stale_one_is_replaced() {
    let dir = open_dir();
    let socket = dir.path().join("admin.sock");
    let mut first = Daemon::start(&dir.path().join("one"), &socket);

    // A second daemon on the same socket must refuse to start, saying why.
    let log = dir.path().join("two.log");
    let (mut child, lines) = spawn(&dir.path().join("two"), &socket, &log);
    let status = child.wait().expect("wait");
    assert!(!status.success(), "second pdsd started: {lines:?}");
    let err = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(err.contains("already serving the admin socket"), "{err}");
    // The first one still answers.
    assert!(pdsctl_as(&[], &socket, &["status"]).status.success());

    // A crash leaves the socket file behind; the next start replaces it.
    let _ = first.child.kill();
    let _ = first.child.wait();
    assert!(socket.exists(), "SIGKILL leaves the socket file");
    let out = pdsctl_as(&[], &socket, &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("pdsd is not running"),
        "{}",
        text(&out.stderr)
    );
    let mut again = Daemon::start(&dir.path().join("one"), &socket);
    assert!(pdsctl_as(&[], &socket, &["status"]).status.success());
    again.stop();
}
