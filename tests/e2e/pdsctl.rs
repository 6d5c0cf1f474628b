//! pdsctl against the real pdsd, through the admin socket: every wired command in its
//! human and its `--json` form, an account made by `pdsctl account create` used over
//! XRPC, the PLC genesis of `--generate-recovery-key` checked with `pds::identity` (and
//! with the reference @did-plc/lib when the conformance tools are installed), and an
//! export that resumes, verifies, and restores into the daemon.
//!
//! Socket permissions (mode, 403, read-only group) are tested in
//! `daemon/tests/admin_socket.rs`; a pdsctl of another version in `cli/tests/client.rs`.

use crate::support::{Pdsd, bin, random_suffix};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(p: &Pdsd, args: &[&str]) -> Output {
    Command::new(bin("pdsctl"))
        .arg("--socket")
        .arg(p.socket())
        .args(args)
        .env_remove("PDSCTL_SOCKET")
        .output()
        .expect("run pdsctl")
}

/// pdsctl ARGS, which must succeed; its stdout.
fn text(p: &Pdsd, args: &[&str]) -> String {
    let out = run(p, args);
    assert!(
        out.status.success(),
        "pdsctl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// pdsctl --json --yes ARGS, which must succeed; its one JSON document.
fn json(p: &Pdsd, args: &[&str]) -> Value {
    let mut all = vec!["--json", "--yes"];
    all.extend_from_slice(args);
    let out = text(p, &all);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("pdsctl {args:?}: not JSON ({e}):\n{out}"))
}

/// pdsctl --json --yes ARGS, which must fail with exit status 1; its error document.
fn json_error(p: &Pdsd, args: &[&str]) -> Value {
    let mut all = vec!["--json", "--yes"];
    all.extend_from_slice(args);
    let out = run(p, &all);
    assert_eq!(out.status.code(), Some(1), "pdsctl {args:?} should fail");
    serde_json::from_slice(&out.stdout).expect("error document")
}

fn password_file(dir: &Path, password: &str) -> PathBuf {
    let f = dir.join(format!("pw-{}", random_suffix()));
    std::fs::write(&f, format!("{password}\n")).expect("write password");
    f
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Create an account with pdsctl; returns the JSON answer.
fn create(p: &Pdsd, dir: &Path, handle: &str, password: &str, extra: &[&str]) -> Value {
    let pw = password_file(dir, password);
    let email = format!("{}@example.com", handle.replace('.', "-"));
    let mut args = vec![
        "account",
        "create",
        "--handle",
        handle,
        "--email",
        email.as_str(),
        "--password-file",
        path_str(&pw),
    ];
    args.extend_from_slice(extra);
    json(p, &args)
}

#[test]
fn status_in_both_forms() {
    let p = Pdsd::start();
    let s = json(&p, &["status"]);
    assert_eq!(s["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(s["dev"], true);
    assert_eq!(s["listen"]["http"], p.url.as_str());
    assert_eq!(s["listen"]["admin_socket"], path_str(&p.socket()));
    assert_eq!(s["plc_directory"].as_str(), p.plc_url.as_deref());
    assert_eq!(s["accounts"], 0);
    assert_eq!(s["access"], "read-write");
    assert!(
        s["storage"]["database_bytes"]
            .as_u64()
            .is_some_and(|b| b > 0)
    );
    let seq0 = s["firehose_seq"].as_i64().expect("seq");

    let a = p.create_account();
    let s = json(&p, &["status"]);
    assert_eq!(s["accounts"], 1);
    assert_eq!(s["active_accounts"], 1);
    assert!(s["firehose_seq"].as_i64().expect("seq") > seq0, "{s}");
    assert!(s["uptime_secs"].is_u64());

    let human = text(&p, &["status"]);
    for part in [
        format!("pdsd {} (--dev)", env!("CARGO_PKG_VERSION")),
        format!("HTTP:          {}", p.url),
        "accounts:      1 (1 active)".to_string(),
        "your access:   read-write".to_string(),
    ] {
        assert!(human.contains(&part), "missing {part:?} in\n{human}");
    }
    drop(a);
}

#[test]
fn invite_codes_in_both_forms_gate_account_creation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("pdsd.toml");
    std::fs::write(&config, "[invites]\nrequired = true\n").expect("config");
    let p = Pdsd::start_with(&["--config", path_str(&config)]);
    let x = p.xrpc();
    let n = random_suffix();
    let body = |code: Option<&str>, i: u32| {
        let mut b = json!({
            "handle": format!("i{n}x{i}.test"),
            "email": format!("i{n}x{i}@example.com"),
            "password": "hunter2hunter2",
        });
        if let Some(c) = code {
            b["inviteCode"] = c.into();
        }
        b
    };
    let (st, res) = x.post("com.atproto.server.createAccount", &body(None, 0), None);
    assert_eq!(st, 400, "{res}");
    assert_eq!(res["error"], "InvalidInviteCode");

    let made = json(&p, &["invite", "create", "--uses", "2"]);
    assert_eq!(made["uses"], 2);
    let code = made["codes"][0].as_str().expect("code").to_string();
    assert!(code.starts_with("localhost-"), "{code}");
    for i in 1..=2 {
        let (st, res) = x.post(
            "com.atproto.server.createAccount",
            &body(Some(&code), i),
            None,
        );
        assert_eq!(st, 200, "use {i}: {res}");
    }
    let (st, res) = x.post(
        "com.atproto.server.createAccount",
        &body(Some(&code), 3),
        None,
    );
    assert_eq!(st, 400, "a third use: {res}");

    // Human form: one code per line, as many as asked.
    let human = text(&p, &["invite", "create", "--count", "3"]);
    let lines: Vec<&str> = human.lines().collect();
    assert_eq!(lines.len(), 3, "{human}");
    for l in lines {
        let parts: Vec<&str> = l.rsplitn(3, '-').collect();
        assert_eq!(parts.len(), 3, "{l}");
        assert!(parts[0].len() == 5 && parts[1].len() == 5, "{l}");
    }

    // The operator needs no invite.
    let a = create(&p, dir.path(), &format!("op{n}.test"), "pw-operator-1", &[]);
    assert!(
        a["did"].as_str().is_some_and(|d| d.starts_with("did:plc:")),
        "{a}"
    );
}

#[test]
fn account_commands_in_both_forms() {
    let p = Pdsd::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let n = random_suffix();
    let handle = format!("a{n}.test");
    let a = create(&p, dir.path(), &handle, "first-password-1", &[]);
    let did = a["did"].as_str().expect("did").to_string();
    assert_eq!(a["handle"], handle.as_str());
    assert_eq!(a["plc_operation"]["type"], "plc_operation");
    assert!(a["recovery_key"].is_null());

    // Human create.
    let h2 = format!("b{n}.test");
    let pw = password_file(dir.path(), "second-password-2");
    let human = text(
        &p,
        &[
            "--yes",
            "account",
            "create",
            "--handle",
            &h2,
            "--email",
            "b@example.com",
            "--password-file",
            path_str(&pw),
        ],
    );
    assert!(
        human.starts_with("created did:plc:") && human.contains(&h2),
        "{human}"
    );
    assert!(human.contains("PLC operation submitted:"), "{human}");

    // No password and --yes: refuse, naming the option.
    let err = json_error(
        &p,
        &[
            "account",
            "create",
            "--handle",
            &format!("c{n}.test"),
            "--email",
            "c@example.com",
        ],
    );
    assert_eq!(err["error"], "NeedsAnswer");
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("--password-file"),
        "{err}"
    );

    let list = json(&p, &["account", "list"]);
    let accounts = list["accounts"].as_array().expect("accounts");
    assert_eq!(accounts.len(), 2);
    assert!(
        accounts
            .iter()
            .any(|x| x["did"] == did.as_str() && x["status"] == "active")
    );
    let human = text(&p, &["account", "list"]);
    assert!(
        human.starts_with("DID") && human.contains(&handle) && human.contains(&h2),
        "{human}"
    );

    let show = json(&p, &["account", "show", &handle]);
    assert_eq!(show["did"], did.as_str());
    assert_eq!(show["email"], format!("a{n}-test@example.com").as_str());
    assert!(
        show["repo_commit"].is_string() && show["repo_rev"].is_string(),
        "{show}"
    );
    assert_eq!(show, json(&p, &["account", "show", &did]));
    assert!(text(&p, &["account", "show", &did]).contains("status:      active"));

    let x = p.xrpc();
    let repo_status = |x: &crate::support::Xrpc| {
        x.get(
            "com.atproto.sync.getRepoStatus",
            &[("did", did.as_str())],
            None,
        )
        .1
    };
    let d = json(&p, &["account", "deactivate", &handle]);
    assert_eq!(d["status"], "deactivated");
    assert!(d["deactivated_at"].is_string());
    assert_eq!(repo_status(&x)["active"], false);
    assert!(text(&p, &["account", "activate", &did]).starts_with("activated did:plc:"));
    assert_eq!(repo_status(&x)["active"], true);

    let t = json(
        &p,
        &["account", "takedown", &handle, "--reference", "ticket-42"],
    );
    assert_eq!(t["status"], "takendown");
    assert_eq!(t["takedown_ref"], "ticket-42");
    assert_eq!(repo_status(&x)["status"], "takendown");
    let u = json(&p, &["account", "untakedown", &handle]);
    assert_eq!(u["status"], "active");

    // A new password works, the old one does not.
    let pw = password_file(dir.path(), "second-password-3");
    let r = json(
        &p,
        &[
            "account",
            "reset-password",
            &handle,
            "--password-file",
            path_str(&pw),
        ],
    );
    assert_eq!(r["did"], did.as_str());
    let login = |password: &str| {
        x.post(
            "com.atproto.server.createSession",
            &json!({"identifier": handle, "password": password}),
            None,
        )
        .0
    };
    assert_eq!(login("second-password-3"), 200);
    assert_ne!(login("first-password-1"), 200);

    // Delete asks first: without a terminal and without --yes it refuses.
    let out = run(&p, &["account", "delete", &handle]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    let gone = json(&p, &["account", "delete", &handle]);
    assert_eq!(gone["did"], did.as_str());
    let err = json_error(&p, &["account", "show", &did]);
    assert_eq!(err["error"], "RepoNotFound");
    assert_eq!(
        json(&p, &["account", "list"])["accounts"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn a_pdsctl_account_works_over_xrpc_and_its_repo_verifies() {
    let p = Pdsd::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let handle = format!("x{}.test", random_suffix());
    let a = create(&p, dir.path(), &handle, "xrpc-password-1", &[]);
    let did = a["did"].as_str().expect("did");
    let x = p.xrpc();
    let (st, session) = x.post(
        "com.atproto.server.createSession",
        &json!({"identifier": handle, "password": "xrpc-password-1"}),
        None,
    );
    assert_eq!(st, 200, "{session}");
    let token = session["accessJwt"].as_str().expect("token");
    for i in 0..3 {
        let (st, res) = x.post(
            "com.atproto.repo.createRecord",
            &json!({"repo": did, "collection": "app.bsky.feed.post",
                    "record": {"$type": "app.bsky.feed.post", "text": format!("post {i}"),
                               "createdAt": "2025-01-01T00:00:00.000Z"}}),
            Some(token),
        );
        assert_eq!(st, 200, "{res}");
    }
    let (st, car, _) = x.get_bytes("com.atproto.sync.getRepo", &[("did", did)]);
    assert_eq!(st, 200);
    // The key to verify with comes from the DID document, through `did show`.
    let shown = json(&p, &["did", "show", did]);
    let signing = shown["keys"]
        .as_array()
        .and_then(|ks| ks.iter().find(|k| k["role"] == "signing"))
        .and_then(|k| k["key"].as_str())
        .expect("signing key");
    let key = pds::crypto::PublicKey::from_did_key(signing).expect("key");
    let mut opts = pds::repo::VerifyOptions::new(&key);
    opts.did = Some(did);
    let repo = pds::repo::verify_car(std::io::Cursor::new(car), &opts).expect("repo verifies");
    assert_eq!(repo.records.len(), 3);
    let show = json(&p, &["account", "show", did]);
    assert_eq!(show["records"], 3);
    assert_eq!(show["repo_commit"], repo.commit_cid.to_string().as_str());
}

/// Check a genesis operation with the reference @did-plc/lib when the conformance tools
/// are installed; returns whether it ran.
fn check_with_reference_plc_lib(did: &str, op: &Value, user_key: &str) -> bool {
    let home = std::env::var_os("PDS_TOOLS_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/pds-tools")));
    let Some(modules) = home.map(|h| h.join("conformance/servers/node_modules")) else {
        return false;
    };
    if !modules.join("@did-plc/lib").exists() {
        return false;
    }
    let script = r#"
const plc = require('@did-plc/lib');
const [did, op, key] = process.argv.slice(1);
plc.validateOperationLog(did, [JSON.parse(op)]).then((data) => {
  if (!data || data.rotationKeys[0] !== key) { console.error('user key not first', data); process.exit(1); }
  console.log('valid');
}).catch((e) => { console.error(String(e)); process.exit(1); });
"#;
    let out = match Command::new("node")
        .env("NODE_PATH", &modules)
        .args(["-e", script, did, &op.to_string(), user_key])
        .output()
    {
        Ok(o) => o,
        Err(_) => return false,
    };
    assert!(
        out.status.success(),
        "@did-plc/lib refused the genesis: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

#[test]
fn generate_recovery_key_puts_the_user_key_first_in_a_valid_genesis() {
    let p = Pdsd::start();
    let dir = tempfile::tempdir().expect("tempdir");
    for curve in ["secp256k1", "p256"] {
        let file = dir.path().join(format!("recovery-{curve}.json"));
        let handle = format!("k{}.test", random_suffix());
        let a = create(
            &p,
            dir.path(),
            &handle,
            "recovery-password-1",
            &["--generate-recovery-key", path_str(&file), "--curve", curve],
        );
        let did = a["did"].as_str().expect("did");
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(&file).expect("key file");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let keyfile: Value =
            serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("json");
        let user_key = keyfile["did_key"].as_str().expect("did_key");
        assert_eq!(a["recovery_key"], user_key);
        assert_eq!(keyfile["curve"], curve);
        let private = keyfile["private_key_multibase"].as_str().expect("private");
        let kp = pds::crypto::Keypair::from_private_multikey(private).expect("private key");
        assert_eq!(kp.did_key(), user_key);

        // The operation pdsctl printed is the one the directory holds, and it verifies.
        let op = &a["plc_operation"];
        let signed = pds::identity::SignedOp::from_json(op.to_string().as_bytes()).expect("op");
        assert_eq!(signed.genesis_did().expect("did"), did);
        let rotation = signed.op.rotation_keys();
        assert_eq!(rotation.first().map(String::as_str), Some(user_key));
        signed.verify(&rotation).expect("signature");
        let plc = p.plc_url.as_deref().expect("built-in PLC");
        let log: Value = reqwest::blocking::get(format!("{plc}/{did}/log/audit"))
            .expect("audit log")
            .json()
            .expect("json");
        assert_eq!(
            &log[0]["operation"], op,
            "the directory holds what pdsctl printed"
        );

        // did show labels the keys: the user's first, the relay's last.
        let shown = json(&p, &["did", "show", &handle]);
        assert_eq!(shown["did"], did);
        assert_eq!(shown["keys"][0]["key"], user_key);
        assert_eq!(shown["keys"][0]["owner"], "user");
        assert_eq!(shown["audit_log"].as_array().map(Vec::len), Some(1));
        assert_eq!(shown["document"]["id"], did);
        let human = text(&p, &["did", "show", did]);
        assert!(
            human.contains(&format!("rotation #0  {user_key}  the user's")),
            "{human}"
        );
        assert!(human.contains("audit log (1 operation)"), "{human}");

        if !check_with_reference_plc_lib(did, op, user_key) {
            eprintln!(
                "note: @did-plc/lib not installed (../shared/conformance/setup.sh); checked with pds::identity only"
            );
        }
    }
    // An existing key file is never overwritten.
    let file = dir.path().join("recovery-secp256k1.json");
    let before = std::fs::read(&file).expect("read");
    let pw = password_file(dir.path(), "recovery-password-2");
    let err = json_error(
        &p,
        &[
            "account",
            "create",
            "--handle",
            &format!("k{}.test", random_suffix()),
            "--email",
            "k@example.com",
            "--password-file",
            path_str(&pw),
            "--generate-recovery-key",
            path_str(&file),
        ],
    );
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("never overwrites"),
        "{err}"
    );
    assert_eq!(std::fs::read(&file).expect("read"), before);
}

#[test]
fn export_resumes_verifies_and_restores() {
    let p = Pdsd::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let handle = format!("e{}.test", random_suffix());
    let a = create(&p, dir.path(), &handle, "export-password-1", &[]);
    let did = a["did"].as_str().expect("did").to_string();
    let x = p.xrpc();
    let (_, session) = x.post(
        "com.atproto.server.createSession",
        &json!({"identifier": handle, "password": "export-password-1"}),
        None,
    );
    let token = session["accessJwt"].as_str().expect("token").to_string();
    // A blob (a tiny PNG header is enough to be sniffed as an image) and records using it.
    let png = [
        &[0x89u8, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a][..],
        &[7u8; 100],
    ]
    .concat();
    let (st, up) = x.post_bytes(
        "com.atproto.repo.uploadBlob",
        png.clone(),
        "image/png",
        Some(&token),
    );
    assert_eq!(st, 200, "{up}");
    let blob = up["blob"].clone();
    let mut uris = Vec::new();
    for i in 0..3 {
        let (st, res) = x.post(
            "com.atproto.repo.createRecord",
            &json!({"repo": did, "collection": "app.bsky.feed.post",
                    "record": {"$type": "app.bsky.feed.post", "text": format!("with image {i}"),
                               "createdAt": "2025-01-01T00:00:00.000Z",
                               "embed": {"$type": "app.bsky.embed.images",
                                         "images": [{"image": blob, "alt": ""}]}}}),
            Some(&token),
        );
        assert_eq!(st, 200, "{res}");
        uris.push(res["uri"].as_str().expect("uri").to_string());
    }

    let out = dir.path().join("export");
    let e = json(&p, &["export", &handle, "--out", path_str(&out)]);
    assert_eq!(e["did"], did.as_str());
    assert_eq!(e["records"], 3);
    assert_eq!(e["blobs"], 1);
    assert_eq!(e["verified"], true);
    assert_eq!(e["reused_repo"], false);
    let cid = blob["ref"]["$link"].as_str().expect("blob cid");
    assert_eq!(
        std::fs::read(out.join("blobs").join(cid)).expect("blob file"),
        png
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["data"], e["data"]);

    // Again into the same folder: everything is reused, and still verified.
    let again = json(&p, &["export", &did, "--out", path_str(&out)]);
    assert_eq!(again["reused_repo"], true);
    assert_eq!(again["reused_blobs"], 1);
    // A damaged blob is noticed and fetched again.
    std::fs::write(out.join("blobs").join(cid), b"damaged").expect("damage");
    let repaired = json(&p, &["export", &did, "--out", path_str(&out)]);
    assert_eq!(repaired["reused_blobs"], 0);
    assert_eq!(
        std::fs::read(out.join("blobs").join(cid)).expect("blob file"),
        png
    );
    let human = text(&p, &["export", &handle, "--out", path_str(&out)]);
    assert!(
        human.contains("3 records, 1 blobs") && human.contains("verified"),
        "{human}"
    );

    // Lose a record, then restore the export: the same tree and records come back.
    let rkey = uris[0].rsplit('/').next().expect("rkey");
    let (st, res) = x.post(
        "com.atproto.repo.deleteRecord",
        &json!({"repo": did, "collection": "app.bsky.feed.post", "rkey": rkey}),
        Some(&token),
    );
    assert_eq!(st, 200, "{res}");
    assert_eq!(json(&p, &["account", "show", &did])["records"], 2);
    let imported = json(&p, &["import", path_str(&out)]);
    assert_eq!(imported["did"], did.as_str());
    assert_eq!(imported["created"], false);
    assert_eq!(imported["data"], e["data"], "the same MST root");
    assert_eq!(imported["records"], 3);
    assert_eq!(imported["blobs"], 1);
    let (st, got) = x.get(
        "com.atproto.repo.getRecord",
        &[
            ("repo", did.as_str()),
            ("collection", "app.bsky.feed.post"),
            ("rkey", rkey),
        ],
        None,
    );
    assert_eq!(st, 200, "{got}");
    // The restored repository verifies with the account's key.
    let fresh = dir.path().join("export-after");
    let e2 = json(&p, &["export", &did, "--out", path_str(&fresh)]);
    assert_eq!(e2["data"], e["data"]);
    assert_eq!(e2["verified"], true);

    // A folder of another account is refused.
    let other = create(
        &p,
        dir.path(),
        &format!("o{}.test", random_suffix()),
        "other-password-1",
        &[],
    );
    let err = json_error(
        &p,
        &[
            "export",
            other["did"].as_str().expect("did"),
            "--out",
            path_str(&out),
        ],
    );
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("holds an export of"),
        "{err}"
    );
}
