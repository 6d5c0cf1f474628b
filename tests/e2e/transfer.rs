//! Moving to a new device with a transfer code, end to end (`pdsctl transfer ...`,
//! `/v1/transfer/*`): the code (and its QR code) from the old device, the new device's
//! accept, the old device's complete handing the repo-host lease over; a code works once,
//! locks after five wrong guesses, and expires (here after 3 seconds, by configuration).

use crate::ctl::{Machine, create_account, message, path_str, plc_host, public_url};
use crate::device_support::{Device, service_did};
use crate::support::Pdsd;
use pds::crypto::Keypair;
use serde_json::Value;

/// The old machine's enrolled device, as the test's own device client.
fn device_from_file(m: &Machine, pds: &Pdsd) -> Device {
    let stored: Value =
        serde_json::from_slice(&std::fs::read(m.device_file()).expect("device file"))
            .expect("json");
    Device {
        url: pds.url.clone(),
        aud: service_did(pds),
        key: Keypair::from_private_multikey(stored["privateKeyMultibase"].as_str().expect("key"))
            .expect("device key"),
        id: stored["deviceId"].as_str().expect("id").to_string(),
        pds_nonce_url: format!("{}/v1/auth/nonce", pds.url),
    }
}

#[test]
fn a_code_moves_the_lease_once_locks_after_wrong_guesses_and_expires() {
    let (_plc_host, plc) = plc_host();
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("pdsd.toml");
    std::fs::write(&cfg, "[devices]\ntransfer_code_ttl_secs = 3\n").expect("config");
    let pds = Pdsd::start_with(&["--plc-url", &plc, "--config", path_str(&cfg)]);
    let acct = create_account(&pds, &Machine::new(), dir.path(), &[]);
    let pw = path_str(&acct.password_file);
    // Every machine talks to the relay by the URL its QR payloads carry.
    let url = public_url(&pds);

    // The old machine enrols and becomes the repo host.
    let old = Machine::device_of(&url, &plc);
    old.json(None, &["backup", "log", &acct.did, "--password-file", pw]);
    let desk = device_from_file(&old, &pds);
    let (st, v) = desk.call("POST", &format!("/v1/devices/{}/promote", desk.id), None);
    assert_eq!(st, 200, "promote: {v}");

    // Initiate: the code, the QR payload, and a QR code drawn in the terminal.
    let out = old
        .cmd(None, &["transfer", "initiate", &acct.handle])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let qr = String::from_utf8_lossy(&out.stderr);
    assert!(
        qr.contains('\u{2580}') || qr.contains('\u{2584}'),
        "a QR code: {qr}"
    );
    let t1 = old.json(None, &["transfer", "initiate", &acct.handle, "--no-qr"]);
    let payload = t1["qr_payload"].as_str().expect("payload").to_string();
    assert!(payload.starts_with("pdsxfer:"), "{payload}");
    let code = t1["code"].as_str().expect("code").to_string();
    assert_eq!(code.split('-').count(), 6);

    // The new machine scans the QR payload (which names the relay).
    let new = Machine::device_of(&url, &plc);
    let accepted = new.json(None, &["transfer", "accept", &acct.handle, &payload]);
    assert_eq!(accepted["status"], "pending");
    // Pending until the old device confirms.
    let err = new.json_error(None, &["backup", "log", &acct.did]);
    assert_eq!(err["error"], "DevicePending", "{err}");
    assert!(message(&err).contains("waits for approval"), "{err}");
    // The code works once.
    let third = Machine::device_of(&url, &plc);
    let err = third.json_error(None, &["transfer", "accept", &acct.handle, &code]);
    assert_eq!(err["error"], "TransferCodeUsed", "{err}");
    // Completing hands the repo-host lease over.
    let done = old.json(
        None,
        &[
            "transfer",
            "complete",
            &acct.did,
            t1["transfer_id"].as_str().expect("id"),
        ],
    );
    assert_eq!(done["lease_moved"], true, "{done}");
    assert_eq!(done["new_device"], accepted["device_id"]);
    let (st, mode) = desk.call("GET", "/v1/relay/mode", None);
    assert_eq!(st, 200, "{mode}");
    let log = new.json(None, &["backup", "log", &acct.did]);
    assert!(
        log["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["event"] == "transfer_completed"),
        "{log}"
    );
    let (st, status) = desk.call(
        "GET",
        &format!(
            "/v1/devices/{}/status",
            accepted["device_id"].as_str().expect("id")
        ),
        None,
    );
    assert_eq!(st, 200, "{status}");
    assert_eq!(status["role"], "repo-host", "{status}");
    assert_eq!(status["status"], "active", "{status}");

    // Five wrong guesses lock the waiting transfer, even against the right code.
    let t2 = old.json(None, &["transfer", "initiate", &acct.handle, "--no-qr"]);
    let right = t2["code"].as_str().expect("code").to_string();
    let wrong = if right.starts_with("abandon-") {
        "ability-ability-ability-ability-ability-ability"
    } else {
        "abandon-abandon-abandon-abandon-abandon-abandon"
    };
    for n in 1..=5 {
        let err = third.json_error(None, &["transfer", "accept", &acct.handle, wrong]);
        let want = if n < 5 {
            "InvalidTransferCode"
        } else {
            "TransferLocked"
        };
        assert_eq!(err["error"], want, "guess {n}: {err}");
    }
    let err = third.json_error(None, &["transfer", "accept", &acct.handle, &right]);
    assert_eq!(err["error"], "TransferLocked", "{err}");

    // A code expires (3 seconds here, 10 minutes by default).
    let t3 = old.json(None, &["transfer", "initiate", &acct.handle, "--no-qr"]);
    std::thread::sleep(std::time::Duration::from_secs(4));
    let err = third.json_error(
        None,
        &[
            "transfer",
            "accept",
            &acct.handle,
            t3["code"].as_str().expect("code"),
        ],
    );
    assert_eq!(err["error"], "TransferCodeExpired", "{err}");
}
