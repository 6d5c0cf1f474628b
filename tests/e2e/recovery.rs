//! Shamir backup, recovery and the relay's escrow, end to end with the real pdsd and
//! pdsctl (`pdsctl backup ...`, `pdsctl recover ...`, `/v1/keys/*`, `/v1/recovery/*`).
//!
//! The recovery drill of issue 6: an account with 1,000 records and 20 blobs is backed up with Share 3 as a printed sheet; this machine's keychain share
//! and local state are deleted; the account is recovered from the relay's escrow and the
//! sheet's words, with identical records, blobs and root; then the key is rebuilt from the
//! keychain share and the sheet while the relay is stopped; then the DID is moved onto a
//! second, fresh pdsd from the export while the first is gone, signed by the user's key.
//! And the refusals: one share alone, shares of two backups, a mistyped word (typed on a
//! real terminal too, with Tab completion: `pty_words.py`), a key that is not a rotation
//! key, escrow without the password, a second share for the relay.

use crate::ctl::{
    Machine, assert_moved_by_user, assert_same_data, audit_log, create_account, fill, html_text,
    login, message, path_str, pdsd_with_plc, plc_host, public_url, resolve, sheet_words, snapshot,
    step,
};
use crate::support::Xrpc;
use base64::Engine;
use pds::crypto::{Curve, Keypair};
use serde_json::{Value, json};
use std::time::Instant;

/// `GET /v1/keys/shares/current` with the given Authorization header.
fn get_share(url: &str, authorization: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::blocking::Client::new().get(format!("{url}/v1/keys/shares/current"));
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    let res = req.send().expect("request");
    let st = res.status().as_u16();
    (st, res.json().unwrap_or(Value::Null))
}

fn basic(id: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{password}"))
    )
}

/// The rotation log's events, in order.
fn events(m: &Machine, did: &str, pw: &std::path::Path) -> Vec<String> {
    let log = m.json(
        None,
        &["backup", "log", did, "--password-file", path_str(pw)],
    );
    log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["event"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn recovery_drill_relay_escrow_and_sheet_then_keychain_offline_then_a_new_pdsd() {
    let t0 = Instant::now();
    let (_plc_host, plc) = plc_host();
    let mut a = pdsd_with_plc(&plc);
    let admin = Machine::new();
    let dir = tempfile::tempdir().expect("tempdir");
    // An account without a rotation key of its own: backup create makes one.
    let acct = create_account(&a, &admin, dir.path(), &[]);
    let x = a.xrpc();
    let token = login(&x, &acct.handle, &acct.password);
    fill(&x, &acct.did, &token, 1000, 20);
    let before = snapshot(&plc, &acct.did);
    assert_eq!((before.records.len(), before.blobs.len()), (1000, 20));
    step(t0, "account filled");

    // Back up from "a laptop": another machine than the relay's host.
    let laptop = Machine::device_of(&a.url, &plc);
    let sheet_base = dir.path().join("sheet");
    let created = laptop.json(
        None,
        &[
            "backup",
            "create",
            &acct.handle,
            "--password-file",
            path_str(&acct.password_file),
            "--sheet-out",
            path_str(&sheet_base),
        ],
    );
    let rotation_key = created["rotation_key"].as_str().expect("key").to_string();
    assert_eq!(created["key_added"], true);
    assert_eq!(created["epoch"], 1);
    let doc_keys = audit_log(&plc, &acct.did)
        .1
        .data()
        .expect("live")
        .rotation_keys;
    assert_eq!(
        doc_keys.first(),
        Some(&rotation_key),
        "the new key is first"
    );
    let share1 = std::fs::read_to_string(laptop.keychain_file(&acct.did)).expect("share 1");
    step(t0, "backed up");

    // The printable sheet carries all 24 words in order and the did:key.
    let text = std::fs::read_to_string(dir.path().join("sheet.txt")).expect("sheet.txt");
    let words = sheet_words(&text);
    assert_eq!(words.len(), 24, "{text}");
    let html = std::fs::read_to_string(dir.path().join("sheet.html")).expect("sheet.html");
    let seen = html_text(&html);
    let numbered: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, w)| format!("{} {w}", i + 1))
        .collect();
    assert!(seen.contains(&numbered.join(" ")), "words in order: {seen}");
    assert!(seen.contains(&rotation_key), "did:key on the sheet");
    assert!(seen.contains(&acct.did));
    if let Some(pdf) = crate::ctl::print_to_pdf(&dir.path().join("sheet.html")) {
        assert_eq!(
            crate::ctl::pdf_pages(&pdf),
            1,
            "the sheet prints on one page"
        );
    }
    let words_file = dir.path().join("words.txt");
    std::fs::write(&words_file, words.join(" ")).expect("words");

    // The laptop is lost: its keychain share and device key are gone.
    std::fs::remove_dir_all(laptop.data_dir()).expect("wipe the laptop");
    let fresh = Machine::device_of(&a.url, &plc);
    let restored_dir = dir.path().join("restored");
    let rec = fresh.json(
        None,
        &[
            "recover",
            &acct.handle,
            "--share",
            "relay",
            "--words-file",
            path_str(&words_file),
            "--password-file",
            path_str(&acct.password_file),
            "--out",
            path_str(&restored_dir),
        ],
    );
    assert_eq!(rec["outcome"], "recovered", "{rec}");
    assert_eq!(rec["rotation_key"], rotation_key.as_str());
    assert_eq!(rec["rotation_key_position"], 0);
    assert_eq!(rec["restored"]["records"], 1000);
    assert_eq!(rec["restored"]["blobs"], 20);
    assert_eq!(rec["restored"]["data"], before.data.as_str());
    let after = snapshot(&plc, &acct.did);
    assert_same_data(&before, &after);
    // The restored folder holds the same blobs, byte for byte.
    for (cid, bytes) in &before.blobs {
        let got = std::fs::read(restored_dir.join("blobs").join(cid)).expect("restored blob");
        assert!(got == *bytes, "blob {cid}");
    }
    let ev = events(&fresh, &acct.did, &acct.password_file);
    assert!(ev.contains(&"share_released".to_string()), "{ev:?}");
    assert!(ev.contains(&"recovered".to_string()), "{ev:?}");
    step(t0, "recovered from relay + sheet");

    // The relay goes down; the keychain share (say, synced to a second machine) and the
    // sheet still rebuild the key, checked against the PLC directory.
    let second = Machine::device_of(&a.url, &plc);
    std::fs::create_dir_all(second.keychain_file(&acct.did).parent().expect("dir")).expect("mkdir");
    std::fs::write(second.keychain_file(&acct.did), &share1).expect("share 1");
    assert!(a.stop());
    let offline = second.json(
        None,
        &[
            "recover",
            &acct.did,
            "--share",
            "keychain",
            "--words-file",
            path_str(&words_file),
            "--verify-only",
        ],
    );
    assert_eq!(offline["outcome"], "verified");
    assert_eq!(offline["rotation_key"], rotation_key.as_str());
    step(t0, "verified offline");

    // Move the DID onto `pds` (reached through `to`) from the export, with the keychain
    // share and the sheet; it must resolve there with the same data, moved by the user's
    // key, and take a write.
    let move_onto = |pds: &crate::support::Pdsd, to: &str| -> Value {
        let public = public_url(pds);
        let moved = second.json(
            None,
            &[
                "recover",
                &acct.did,
                "--share",
                "keychain",
                "--words-file",
                path_str(&words_file),
                "--to",
                to,
                "--from-export",
                path_str(&restored_dir),
                "--password-file",
                path_str(&acct.password_file),
            ],
        );
        assert_eq!(moved["outcome"], "moved", "{moved}");
        let after = snapshot(&plc, &acct.did);
        assert_eq!(after.pds, public);
        assert_same_data(&before, &after);
        assert_moved_by_user(&plc, &acct.did, &rotation_key, &public);
        let x = Xrpc::new(&pds.url);
        let token = login(&x, &acct.handle, &acct.password);
        fill(&x, &acct.did, &token, 1, 0);
        moved
    };

    // The first pdsd is gone for good: move the DID to a fresh one from the export,
    // through that pdsd's admin socket (on its host).
    let b = pdsd_with_plc(&plc);
    move_onto(&b, path_str(&b.socket()));
    step(t0, "moved to a new pdsd");

    // And once more, onto a pdsd its user does not operate: by its public URL only, the
    // way account migration works, with the rotation key as the proof of control.
    let c = pdsd_with_plc(&plc);
    let by_url = move_onto(&c, &c.url);
    assert_eq!(by_url["moved"]["data"], before.data.as_str(), "{by_url}");
    step(t0, "moved to a third pdsd by its URL");
}

#[test]
fn refusals_one_share_two_backups_wrong_word_foreign_key_and_guarded_escrow() {
    let (_plc_host, plc) = plc_host();
    let a = pdsd_with_plc(&plc);
    let admin = Machine::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let acct = create_account(&a, &admin, dir.path(), &[]);
    let pw = path_str(&acct.password_file);
    let m = Machine::device_of(&a.url, &plc);
    let sheet = dir.path().join("sheet");
    let created = m.json(
        None,
        &[
            "backup",
            "create",
            &acct.did,
            "--password-file",
            pw,
            "--sheet-out",
            path_str(&sheet),
        ],
    );
    let set1 = created["set_id"].as_str().expect("set").to_string();
    let words = sheet_words(&std::fs::read_to_string(dir.path().join("sheet.txt")).expect("txt"));
    let words_file = dir.path().join("words.txt");
    std::fs::write(&words_file, words.join(" ")).expect("words");

    // A second backup of the same account is a rotation, not a create.
    let err = m.json_error(
        None,
        &["backup", "create", &acct.did, "--password-file", pw],
    );
    assert!(message(&err).contains("backup rotate"), "{err}");

    // Status: keychain and relay shares are current; recoverable.
    let st = m.json(None, &["backup", "status", &acct.did]);
    assert_eq!(st["set_id"], set1.as_str());
    assert_eq!(st["recoverable"], true, "{st}");
    assert_eq!(st["first_rotation_key"], true);

    // One share alone.
    let err = m.json_error(
        None,
        &["recover", &acct.did, "--share", "keychain", "--verify-only"],
    );
    assert!(
        message(&err).contains("one share alone cannot recover"),
        "{err}"
    );
    // Typed on a terminal: four letters and Tab complete each word; a word that is not
    // on the list is named by its position and asked again; the key is rebuilt.
    let inner = m.cmd(
        None,
        &[
            "recover",
            &acct.did,
            "--share",
            "keychain",
            "--words",
            "--verify-only",
        ],
    );
    let mut typing = std::process::Command::new("python3");
    typing
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/e2e/pty_words.py"
        ))
        .arg(serde_json::to_string(&words).expect("json"))
        .arg("5")
        .arg("--")
        .arg(inner.get_program())
        .args(inner.get_args());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => typing.env(k, v),
            None => typing.env_remove(k),
        };
    }
    let out = typing.output().expect("python3 runs the terminal");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "typed recovery failed: {screen}");
    assert!(
        screen.contains("the shares rebuilt")
            && screen.contains(created["rotation_key"].as_str().expect("key")),
        "{screen}"
    );

    // A mistyped word is reported by its position.
    let mut bad = words.clone();
    bad[4] = "xylophonez".into();
    let bad_file = dir.path().join("bad-words.txt");
    std::fs::write(&bad_file, bad.join(" ")).expect("write");
    let err = m.json_error(
        None,
        &[
            "recover",
            &acct.did,
            "--share",
            "keychain",
            "--words-file",
            path_str(&bad_file),
            "--verify-only",
        ],
    );
    assert!(message(&err).contains("word 5"), "{err}");
    assert!(!message(&err).contains("xylophonez"));

    // Escrow: never without the password; a wrong password is logged.
    for auth in [
        None,
        Some("Bearer abc.def.ghi".to_string()),
        Some(basic(&acct.did, "wrong-password")),
    ] {
        let (st, body) = get_share(&a.url, auth.as_deref());
        assert_eq!(st, 401, "{auth:?}: {body}");
        assert!(body.get("share").is_none());
    }
    let session = login(&a.xrpc(), &acct.handle, &acct.password);
    let (st, body) = get_share(&a.url, Some(&format!("Bearer {session}")));
    assert_eq!(
        (st, body["error"].as_str()),
        (401, Some("PasswordRequired")),
        "{body}"
    );
    let ev = events(&m, &acct.did, &acct.password_file);
    assert!(ev.contains(&"share_release_refused".to_string()), "{ev:?}");
    assert!(!ev.contains(&"share_released".to_string()), "{ev:?}");
    let (st, body) = get_share(&a.url, Some(&basic(&acct.handle, &acct.password)));
    assert_eq!(st, 200, "{body}");
    assert!(
        body["share"]
            .as_str()
            .is_some_and(|s| s.starts_with("pds-share-v1:"))
    );

    // The relay never takes a second share of the split it holds.
    let share1 = std::fs::read_to_string(m.keychain_file(&acct.did)).expect("share 1");
    let res = reqwest::blocking::Client::new()
        .put(format!("{}/v1/keys/shares/{set1}", a.url))
        .bearer_auth(&session)
        .json(&json!({ "share": share1.trim() }))
        .send()
        .expect("put");
    assert_eq!(res.status().as_u16(), 409);
    let body: Value = res.json().expect("json");
    assert_eq!(body["error"], "ShareConflict", "{body}");

    // Shares of two backups do not combine.
    let old_share1 = dir.path().join("old-share1");
    std::fs::write(&old_share1, &share1).expect("copy");
    let rotated = m.json(
        None,
        &[
            "backup",
            "rotate",
            &acct.did,
            "--password-file",
            pw,
            "--sheet-out",
            path_str(&dir.path().join("sheet2")),
        ],
    );
    assert_ne!(rotated["set_id"], set1.as_str());
    assert_eq!(rotated["epoch"], 2);
    let err = m.json_error(
        None,
        &[
            "recover",
            &acct.did,
            "--share",
            path_str(&old_share1),
            "--share",
            "relay",
            "--password-file",
            pw,
            "--verify-only",
        ],
    );
    assert!(message(&err).contains("different"), "{err}");
    let ev = events(&m, &acct.did, &acct.password_file);
    assert!(ev.contains(&"resplit".to_string()), "{ev:?}");

    // A key that is not one of the DID's rotation keys is refused before anything is
    // signed or started.
    let stranger = Keypair::generate(Curve::Secp256k1);
    let foreign = pds::secret::split(&stranger, 1).expect("split");
    let (f1, f2) = (dir.path().join("f1"), dir.path().join("f2"));
    std::fs::write(&f1, foreign[0].reveal_text().as_str()).expect("f1");
    std::fs::write(&f2, foreign[1].reveal_text().as_str()).expect("f2");
    let ops = audit_log(&plc, &acct.did).0.len();
    let err = m.json_error(
        None,
        &[
            "recover",
            &acct.did,
            "--share",
            path_str(&f1),
            "--share",
            path_str(&f2),
        ],
    );
    assert!(
        message(&err).contains("is not one of the rotation keys"),
        "{err}"
    );
    assert_eq!(
        audit_log(&plc, &acct.did).0.len(),
        ops,
        "nothing was signed"
    );
    let ev = events(&m, &acct.did, &acct.password_file);
    assert!(!ev.contains(&"recovered".to_string()), "{ev:?}");
    // The relay refuses such a key too.
    let res = reqwest::blocking::Client::new()
        .post(format!("{}/v1/recovery/initiate", a.url))
        .json(&json!({ "account": acct.did, "rotationKey": stranger.did_key() }))
        .send()
        .expect("initiate");
    let body: Value = res.json().expect("json");
    assert_eq!(body["error"], "RotationKeyNotInDid", "{body}");
    // And the DID still resolves here, unchanged.
    assert_eq!(
        resolve(&plc, &acct.did)
            .pds_endpoint()
            .expect("pds")
            .trim_end_matches('/'),
        public_url(&a)
    );
}

#[test]
fn on_the_relays_own_host_share_1_goes_to_another_device() {
    let (_plc_host, plc) = plc_host();
    let a = pdsd_with_plc(&plc);
    let admin = Machine::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let acct = create_account(&a, &admin, dir.path(), &[]);
    // pdsctl beside the relay: the local socket is the relay.
    let local = Machine {
        home: tempfile::tempdir().expect("tempdir"),
        relay: None,
        plc: Some(plc.clone()),
    };
    let pw = path_str(&acct.password_file);
    let ops = audit_log(&plc, &acct.did).0.len();
    let err = local.json_error(
        Some(&a.socket()),
        &["backup", "create", &acct.did, "--password-file", pw],
    );
    assert!(message(&err).contains("--share1-out"), "{err}");
    assert!(!local.keychain_file(&acct.did).exists());
    assert_eq!(audit_log(&plc, &acct.did).0.len(), ops, "no key was added");
    let usb = dir.path().join("usb-share1");
    let ok = local.json(
        Some(&a.socket()),
        &[
            "backup",
            "create",
            &acct.did,
            "--password-file",
            pw,
            "--share1-out",
            path_str(&usb),
            "--sheet-out",
            path_str(&dir.path().join("sheet")),
        ],
    );
    assert!(
        ok["shares"]["share1"]
            .as_str()
            .is_some_and(|s| s.contains("usb-share1")),
        "{ok}"
    );
    assert!(
        !local.keychain_file(&acct.did).exists(),
        "no share stays beside the escrow"
    );
    assert!(
        std::fs::read_to_string(&usb)
            .expect("usb")
            .starts_with("pds-share-v1:")
    );
}
