//! Moving a DID onto a pdsd that does not host it: `pdsctl import DIR --recovery-key FILE`
//! after the daemon lost its data, and `examples/migrate.sh` between two daemons. Each
//! time the DID resolves to the new daemon with the same records, blobs and MST root, the
//! repository verifies with the new signing key, and the PLC audit log shows the move
//! signed by the user's key. A key that is not in rotationKeys is refused before anything
//! is created or signed. And the plain atproto migration over XRPC (getServiceAuth,
//! createAccount with `did`, importRepo, uploadBlob, signPlcOperation, submitPlcOperation,
//! activateAccount), as client libraries drive it.

use crate::ctl::{
    Machine, assert_moved_by_user, assert_same_data, audit_log, create_account, fill, login,
    message, path_str, pdsd_with_plc, plc_host, resolve, snapshot,
};
use pds::crypto::{Curve, Keypair};
use std::process::Command;

/// The user key's did:key, read from the key file pdsctl wrote.
fn key_file_did(path: &std::path::Path) -> String {
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("key file")).expect("json");
    doc["did_key"].as_str().expect("did_key").to_string()
}

#[test]
fn import_after_the_daemon_lost_its_data_moves_the_did_back_signed_by_the_user() {
    let (_plc_host, plc) = plc_host();
    let mut p = pdsd_with_plc(&plc);
    let m = Machine::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let key_file = dir.path().join("recovery.json");
    let a = create_account(
        &p,
        &m,
        dir.path(),
        &["--generate-recovery-key", path_str(&key_file)],
    );
    let user_key = key_file_did(&key_file);
    let x = p.xrpc();
    let token = login(&x, &a.handle, &a.password);
    fill(&x, &a.did, &token, 150, 4);
    let before = snapshot(&plc, &a.did);
    assert_eq!(before.records.len(), 150);
    assert_eq!(before.blobs.len(), 4);

    let export = dir.path().join("export");
    let e = m.json(
        Some(&p.socket()),
        &["export", &a.did, "--out", path_str(&export)],
    );
    assert_eq!(e["verified"], true);

    // The daemon loses everything (its keys too); the DID still names it, with keys it
    // no longer has.
    assert!(p.stop());
    std::fs::remove_dir_all(&p.data_dir).expect("wipe");
    p.restart();
    let url = p.url.clone();
    let public = m.json(Some(&p.socket()), &["status"])["listen"]["public_url"]
        .as_str()
        .expect("public url")
        .to_string();

    // Without the user's key it cannot move the DID, and says how.
    let err = m.json_error(Some(&p.socket()), &["import", path_str(&export)]);
    assert!(message(&err).contains("--recovery-key"), "{err}");
    // A key that is not in rotationKeys is refused before anything is made or signed.
    let stranger = dir.path().join("stranger.json");
    let k = Keypair::generate(Curve::Secp256k1);
    std::fs::write(
        &stranger,
        serde_json::json!({"kind": "pdsctl-recovery-key", "curve": "secp256k1",
            "did_key": k.did_key(), "private_key_multibase": *k.to_private_multikey(),
            "note": "not this DID's"})
        .to_string(),
    )
    .expect("write");
    let ops_before = audit_log(&plc, &a.did).0.len();
    let err = m.json_error(
        Some(&p.socket()),
        &[
            "import",
            path_str(&export),
            "--recovery-key",
            path_str(&stranger),
        ],
    );
    assert!(
        message(&err).contains("is not one of the rotation keys"),
        "{err}"
    );
    assert_eq!(
        audit_log(&plc, &a.did).0.len(),
        ops_before,
        "nothing signed"
    );
    let listed = m.json(Some(&p.socket()), &["account", "list"]);
    assert_eq!(
        listed["accounts"].as_array().map(Vec::len),
        Some(0),
        "{listed}"
    );

    // With the user's key: moved back, verified, active.
    let imported = m.json(
        Some(&p.socket()),
        &[
            "import",
            path_str(&export),
            "--recovery-key",
            path_str(&key_file),
            "--password-file",
            path_str(&a.password_file),
        ],
    );
    assert_eq!(imported["did"], a.did.as_str());
    assert_eq!(imported["created"], true);
    assert!(imported["plc_operation"].is_object(), "{imported}");
    assert_eq!(imported["data"], e["data"]);
    let after = snapshot(&plc, &a.did);
    assert_same_data(&before, &after);
    assert_eq!(after.pds, public);
    assert_moved_by_user(&plc, &a.did, &user_key, &public);
    // The moved account signs in with the password given at import and writes again.
    let x = crate::support::Xrpc::new(&url);
    let token = login(&x, &a.handle, &a.password);
    fill(&x, &a.did, &token, 0, 1);
    // Importing the same folder again is a restore (nothing left to sign).
    let again = m.json(Some(&p.socket()), &["import", path_str(&export)]);
    assert_eq!(again["created"], false);
    assert!(again["plc_operation"].is_null(), "{again}");
}

#[test]
fn migrate_script_moves_an_account_between_two_daemons() {
    let (_plc_host, plc) = plc_host();
    let from = pdsd_with_plc(&plc);
    let to = pdsd_with_plc(&plc);
    let m = Machine::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let key_file = dir.path().join("recovery.json");
    let a = create_account(
        &from,
        &m,
        dir.path(),
        &["--generate-recovery-key", path_str(&key_file)],
    );
    let x = from.xrpc();
    let token = login(&x, &a.handle, &a.password);
    fill(&x, &a.did, &token, 40, 2);
    let before = snapshot(&plc, &a.did);

    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/migrate.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(&a.handle)
        .arg(from.socket())
        .arg(to.socket())
        .arg(dir.path().join("moving"))
        .env("PDSCTL", crate::support::bin("pdsctl"))
        .env("RECOVERY_KEY", &key_file)
        .env("PDSCTL_DATA_DIR", m.data_dir())
        .output()
        .expect("run migrate.sh");
    assert!(
        out.status.success(),
        "migrate.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON summary");
    assert_eq!(summary["did"], a.did.as_str());

    let to_public = resolve(&plc, &a.did)
        .pds_endpoint()
        .expect("pds")
        .trim_end_matches('/')
        .to_string();
    let to_status = m.json(Some(&to.socket()), &["status"]);
    assert_eq!(to_status["listen"]["public_url"], to_public.as_str());
    let after = snapshot(&plc, &a.did);
    assert_same_data(&before, &after);
    assert_moved_by_user(&plc, &a.did, &key_file_did(&key_file), &to_public);
    // The old daemon deactivated its copy.
    let old = m.json(Some(&from.socket()), &["account", "show", &a.did]);
    assert_eq!(old["status"], "deactivated");
    // The new one told the network: the account, its identity, and its repo.
    let events: Vec<String> = crate::ctl::firehose_of(&to, &a.did)
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    for kind in ["#identity", "#account", "#sync"] {
        assert!(events.iter().any(|t| t == kind), "{kind} in {events:?}");
    }
}

/// The newest code an e-mail in `outbox` gives.
fn emailed_code(outbox: &std::path::Path) -> String {
    let mut mails: Vec<_> = std::fs::read_dir(outbox)
        .expect("outbox")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    mails.sort();
    let text = std::fs::read_to_string(mails.last().expect("a mail")).expect("mail");
    let after = text.split("use this code: ").nth(1).expect("a code");
    after
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

#[test]
fn without_a_user_key_the_old_host_signs_the_move_with_its_emailed_code() {
    let (_plc_host, plc) = plc_host();
    let from = pdsd_with_plc(&plc);
    let to = pdsd_with_plc(&plc);
    let m = Machine::new();
    let dir = tempfile::tempdir().expect("tempdir");
    // No user key: the old host's rotation key is the DID's only one.
    let a = create_account(&from, &m, dir.path(), &[]);
    let x = from.xrpc();
    let token = login(&x, &a.handle, &a.password);
    fill(&x, &a.did, &token, 30, 2);
    let before = snapshot(&plc, &a.did);
    let old_keys = audit_log(&plc, &a.did)
        .1
        .data()
        .expect("live")
        .rotation_keys;
    assert_eq!(old_keys.len(), 1);
    let export = dir.path().join("export");
    m.json(
        Some(&from.socket()),
        &["export", &a.did, "--out", path_str(&export)],
    );
    let old_url = crate::ctl::public_url(&from);
    let pw = path_str(&a.password_file);

    // Without the code, a script is told how to get it; nothing is signed.
    let ops = audit_log(&plc, &a.did).0.len();
    let err = m.json_error(
        Some(&to.socket()),
        &[
            "import",
            path_str(&export),
            "--old-pds",
            &old_url,
            "--password-file",
            pw,
        ],
    );
    assert_eq!(err["error"], "NeedsAnswer", "{err}");
    assert!(message(&err).contains("--request-plc-token"), "{err}");
    assert_eq!(audit_log(&plc, &a.did).0.len(), ops);
    // A wrong code is refused by the old host.
    let bad = crate::ctl::text_file(dir.path(), "bad-code", "aaaaa-aaaaa");
    let err = m.json_error(
        Some(&to.socket()),
        &[
            "import",
            path_str(&export),
            "--old-pds",
            &old_url,
            "--password-file",
            pw,
            "--plc-token-file",
            path_str(&bad),
        ],
    );
    assert_eq!(err["error"], "InvalidToken", "{err}");
    assert_eq!(audit_log(&plc, &a.did).0.len(), ops);

    let asked = m.json(
        Some(&to.socket()),
        &[
            "import",
            path_str(&export),
            "--old-pds",
            &old_url,
            "--password-file",
            pw,
            "--request-plc-token",
        ],
    );
    assert_eq!(asked["requested"], true);
    let code = emailed_code(&from.data_dir.join("outbox"));
    let code_file = crate::ctl::text_file(dir.path(), "code", &code);
    let moved = m.json(
        Some(&to.socket()),
        &[
            "import",
            path_str(&export),
            "--old-pds",
            &old_url,
            "--password-file",
            pw,
            "--plc-token-file",
            path_str(&code_file),
        ],
    );
    assert!(moved["plc_operation"].is_object(), "{moved}");
    let to_url = crate::ctl::public_url(&to);
    let after = snapshot(&plc, &a.did);
    assert_eq!(after.pds, to_url);
    assert_same_data(&before, &after);
    // Signed by the old host's key; the new host's key replaces it.
    let (entries, state) = audit_log(&plc, &a.did);
    let last = &entries[entries.len() - 1];
    let prev = &entries[entries.len() - 2];
    assert_eq!(
        last.operation
            .verify(&prev.operation.op.rotation_keys())
            .expect("verifies"),
        0
    );
    let keys = state.data().expect("live").rotation_keys;
    assert_eq!(keys.len(), 1);
    assert_ne!(keys, old_keys);
}

#[test]
fn the_atproto_migration_flow_moves_an_account_between_two_daemons_over_xrpc_only() {
    use crate::support::{assert_error, random_suffix};
    use serde_json::json;
    let (_plc_host, plc) = plc_host();
    let from = pdsd_with_plc(&plc);
    let to = pdsd_with_plc(&plc);
    let m = Machine::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let a = create_account(&from, &m, dir.path(), &[]);
    let (xa, xb) = (from.xrpc(), to.xrpc());
    let ta = login(&xa, &a.handle, &a.password);
    fill(&xa, &a.did, &ta, 25, 2);
    let before = snapshot(&plc, &a.did);
    let to_did = xb.get("com.atproto.server.describeServer", &[], None).1["did"]
        .as_str()
        .expect("service did")
        .to_string();
    let service_token = |aud: &str, lxm: &str| -> String {
        let (st, v) = xa.get(
            "com.atproto.server.getServiceAuth",
            &[("aud", aud), ("lxm", lxm)],
            Some(&ta),
        );
        assert_eq!(st, 200, "{v}");
        v["token"].as_str().expect("token").to_string()
    };
    let handle = format!("m{}.test", random_suffix());
    let body = json!({
        "did": a.did, "handle": handle, "email": format!("{handle}@example.com"),
        "password": a.password,
    });
    let create = |token: Option<&str>| xb.post("com.atproto.server.createAccount", &body, token);

    // The new server wants proof of control, for itself, for createAccount.
    assert_error(&create(None), 401, "AuthRequired");
    let other_method = service_token(&to_did, "com.atproto.repo.createRecord");
    assert_error(&create(Some(&other_method)), 401, "BadJwtLexiconMethod");
    let other_server = service_token("did:web:elsewhere.test", "com.atproto.server.createAccount");
    assert_error(&create(Some(&other_server)), 401, "BadJwtAudience");
    let stranger = Keypair::generate(Curve::Secp256k1);
    let forged = pds::crypto::jws::sign(
        &stranger,
        &json!({"typ": "JWT"}),
        &json!({"iss": a.did, "aud": to_did, "lxm": "com.atproto.server.createAccount",
                "exp": chrono::Utc::now().timestamp() + 60}),
    );
    assert_error(&create(Some(&forged)), 401, "BadJwtSignature");
    assert_eq!(
        xb.get("com.atproto.server.checkAccountStatus", &[], Some(&forged))
            .0,
        400,
        "a service token is no session"
    );

    // createAccount with the signing key's proof: deactivated, empty.
    let proof = service_token(&to_did, "com.atproto.server.createAccount");
    let (st, made) = create(Some(&proof));
    assert_eq!(st, 200, "{made}");
    assert_eq!(made["did"], a.did.as_str());
    let tb = made["accessJwt"].as_str().expect("access").to_string();
    let (_, status) = xb.get("com.atproto.server.checkAccountStatus", &[], Some(&tb));
    assert_eq!(status["activated"], false, "{status}");
    assert_eq!(status["validDid"], false, "{status}");

    // Repository and blobs.
    let (st, car, _) = xa.get_bytes("com.atproto.sync.getRepo", &[("did", &a.did)]);
    assert_eq!(st, 200);
    let (st, v) = xb.post_bytes(
        "com.atproto.repo.importRepo",
        car,
        "application/vnd.ipld.car",
        Some(&tb),
    );
    assert_eq!(st, 200, "{v}");
    let (_, missing) = xb.get("com.atproto.repo.listMissingBlobs", &[], Some(&tb));
    let missing: Vec<String> = missing["blobs"]
        .as_array()
        .expect("blobs")
        .iter()
        .map(|b| b["cid"].as_str().expect("cid").to_string())
        .collect();
    assert_eq!(missing.len(), 2, "{missing:?}");
    for cid in &missing {
        let (st, bytes, headers) =
            xa.get_bytes("com.atproto.sync.getBlob", &[("did", &a.did), ("cid", cid)]);
        assert_eq!(st, 200);
        let mime = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        let (st, v) = xb.post_bytes("com.atproto.repo.uploadBlob", bytes, &mime, Some(&tb));
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["blob"]["ref"]["$link"], cid.as_str());
    }
    let (_, missing) = xb.get("com.atproto.repo.listMissingBlobs", &[], Some(&tb));
    assert_eq!(missing["blobs"], json!([]), "{missing}");

    // Not active before the DID names the new server.
    assert_error(
        &xb.post("com.atproto.server.activateAccount", &json!({}), Some(&tb)),
        400,
        "InvalidRequest",
    );

    // The old host signs the move (e-mailed code), the new one submits it.
    let (_, creds) = xb.get(
        "com.atproto.identity.getRecommendedDidCredentials",
        &[],
        Some(&tb),
    );
    let (st, v) = xa.post(
        "com.atproto.identity.requestPlcOperationSignature",
        &json!({}),
        Some(&ta),
    );
    assert_eq!(st, 200, "{v}");
    let code = emailed_code(&from.data_dir.join("outbox"));
    let mut sign = creds.clone();
    sign["token"] = json!(code);
    let (st, signed) = xa.post("com.atproto.identity.signPlcOperation", &sign, Some(&ta));
    assert_eq!(st, 200, "{signed}");
    let (st, v) = xb.post(
        "com.atproto.identity.submitPlcOperation",
        &json!({"operation": signed["operation"]}),
        Some(&tb),
    );
    assert_eq!(st, 200, "{v}");
    let (st, v) = xb.post("com.atproto.server.activateAccount", &json!({}), Some(&tb));
    assert_eq!(st, 200, "{v}");
    let (st, v) = xa.post(
        "com.atproto.server.deactivateAccount",
        &json!({}),
        Some(&ta),
    );
    assert_eq!(st, 200, "{v}");

    // The DID resolves to the new server, which serves the same data under the new
    // handle, verified with its own signing key; and takes writes.
    let after = snapshot(&plc, &a.did);
    assert_eq!(after.pds, crate::ctl::public_url(&to));
    assert_eq!(after.handle.as_deref(), Some(handle.as_str()));
    assert_eq!(after.data, before.data, "MST root");
    assert!(after.records == before.records, "records");
    assert!(after.blobs == before.blobs, "blobs");
    let tb = login(&xb, &handle, &a.password);
    fill(&xb, &a.did, &tb, 1, 0);
}
