//! The real pdsctl binary against stand-ins for pdsd on a Unix socket: a daemon of
//! another version (pdsctl must warn, and still work), no daemon at all (pdsctl must say
//! how to start one), and error answers (exit status 1, `--json` error document).
//! Tests against the real pdsd live in the end-to-end suite.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Output};

/// Serve `count` connections on `path`, each answered with `status`, the version header
/// `version` (none if `None`) and `body`. Returns the request lines seen.
fn fake_pdsd(
    path: &Path,
    count: usize,
    status: &'static str,
    version: Option<&'static str>,
    body: String,
) -> std::thread::JoinHandle<Vec<String>> {
    let listener = UnixListener::bind(path).expect("bind");
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..count {
            let (mut stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            reader.read_line(&mut request_line).expect("read");
            let mut content_length = 0usize;
            let mut client_version = String::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("header");
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                let lower = l.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    content_length = v.trim().parse().unwrap_or(0);
                }
                if let Some(v) = lower.strip_prefix("pdsd-version:") {
                    client_version = v.trim().to_string();
                }
            }
            let mut req_body = vec![0; content_length];
            reader.read_exact(&mut req_body).expect("body");
            seen.push(format!(
                "{} client={client_version}",
                request_line.trim_end()
            ));
            let header = version
                .map(|v| format!("Pdsd-Version: {v}\r\n"))
                .unwrap_or_default();
            let res = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{header}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(res.as_bytes()).expect("write");
        }
        seen
    })
}

fn pdsctl(socket: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pdsctl"))
        .arg("--socket")
        .arg(socket)
        .args(args)
        .env_remove("PDSCTL_SOCKET")
        .output()
        .expect("run pdsctl")
}

fn status_body(version: &str) -> String {
    serde_json::json!({
        "version": version,
        "started_at": "2025-01-01T00:00:00Z",
        "uptime_secs": 5,
        "dev": true,
        "listen": {
            "http": "http://127.0.0.1:2583",
            "public_url": "http://localhost:2583",
            "admin_socket": "/tmp/x.sock"
        },
        "accounts": 0,
        "active_accounts": 0,
        "storage": {"database_bytes": 0, "blob_bytes": 0, "blobs": 0},
        "plc_directory": "http://localhost:2584",
        "relays": [],
        "firehose_seq": 0,
        "access": "read-write",
        "a_field_from_the_future": true
    })
    .to_string()
}

#[test]
fn a_daemon_of_another_version_gets_a_warning_and_still_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("pdsd.sock");
    let server = fake_pdsd(
        &sock,
        1,
        "200 OK",
        Some("9.9.9-other"),
        status_body("9.9.9-other"),
    );
    let out = pdsctl(&sock, &["--json", "status"]);
    let seen = server.join().expect("server");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    assert!(
        stderr.contains("warning") && stderr.contains("9.9.9-other"),
        "no version warning in: {stderr}"
    );
    // stdout stays one JSON document even with the warning.
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["version"], "9.9.9-other");
    // pdsctl sent its own version and asked the versioned path.
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].starts_with("GET /admin/v1/status HTTP/1.1"),
        "{seen:?}"
    );
    assert!(
        seen[0].ends_with(&format!("client={}", env!("CARGO_PKG_VERSION"))),
        "{seen:?}"
    );
}

#[test]
fn the_same_version_gets_no_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("pdsd.sock");
    let v = env!("CARGO_PKG_VERSION");
    let server = fake_pdsd(&sock, 1, "200 OK", Some(v), status_body(v));
    let out = pdsctl(&sock, &["status"]);
    server.join().expect("server");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("pdsd {v}")), "{stdout}");
}

#[test]
fn no_daemon_means_a_hint_and_exit_status_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("pdsd.sock");
    let out = pdsctl(&sock, &["status"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pdsd is not running"), "{stderr}");
    assert!(stderr.contains(&sock.display().to_string()), "{stderr}");
    assert!(
        stderr.contains("pdsd --dev") && stderr.contains("systemctl start pdsd"),
        "{stderr}"
    );

    let out = pdsctl(&sock, &["--json", "account", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json error");
    assert_eq!(doc["error"], "NotRunning");
    assert!(
        doc["message"]
            .as_str()
            .is_some_and(|m| m.contains("pdsd is not running"))
    );
}

#[test]
fn an_error_answer_keeps_the_daemons_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("pdsd.sock");
    let body = r#"{"error":"Forbidden","message":"uid 65534 may not use the pdsd admin socket"}"#;
    let server = fake_pdsd(
        &sock,
        1,
        "403 Forbidden",
        Some(env!("CARGO_PKG_VERSION")),
        body.into(),
    );
    let out = pdsctl(&sock, &["--json", "invite", "create", "--uses", "2"]);
    let seen = server.join().expect("server");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        seen[0].starts_with("POST /admin/v1/invite/create"),
        "{seen:?}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json error");
    assert_eq!(doc["error"], "Forbidden");
    assert_eq!(
        doc["message"],
        "uid 65534 may not use the pdsd admin socket"
    );
}

#[test]
fn usage_errors_exit_2_and_help_shows_examples() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("pdsd.sock");
    assert_eq!(pdsctl(&sock, &["status", "--bogus"]).status.code(), Some(2));
    assert_eq!(pdsctl(&sock, &["account", "create"]).status.code(), Some(2));
    assert_eq!(
        pdsctl(&sock, &["account", "show", "not a handle"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        pdsctl(&sock, &["invite", "create", "--uses", "0"])
            .status
            .code(),
        Some(2)
    );
    for cmd in [
        &["status"][..],
        &["account", "create"],
        &["account", "list"],
        &["account", "show"],
        &["account", "deactivate"],
        &["account", "activate"],
        &["account", "delete"],
        &["account", "reset-password"],
        &["account", "takedown"],
        &["account", "untakedown"],
        &["invite", "create"],
        &["did", "show"],
        &["did", "rotate-signing-key"],
        &["export"],
        &["import"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let out = pdsctl(&sock, &args);
        assert!(out.status.success(), "{cmd:?} --help");
        let text = String::from_utf8_lossy(&out.stdout);
        let example = text
            .split_once("Example")
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        let invocation = format!("pdsctl {}", cmd.join(" "));
        assert!(
            example.contains(&invocation),
            "{cmd:?} --help shows no example of `{invocation}`:\n{text}"
        );
    }
}
