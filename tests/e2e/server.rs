//! com.atproto.server.* end to end: accounts, sessions, app passwords, service auth,
//! activation, deletion, invites, with their error paths.

use crate::support::{Pdsd, Xrpc, assert_error, random_suffix};
use serde_json::json;

#[test]
fn describe_server_in_dev_mode() {
    let p = Pdsd::start();
    let (st, body) = p.xrpc().get("com.atproto.server.describeServer", &[], None);
    assert_eq!(st, 200);
    assert_eq!(body["availableUserDomains"], json!([".test"]));
    assert_eq!(body["inviteCodeRequired"], json!(false));
    assert!(
        body["did"]
            .as_str()
            .is_some_and(|d| d.starts_with("did:web:"))
    );
}

#[test]
fn create_account_refuses_bad_input() {
    let p = Pdsd::start();
    let x = p.xrpc();
    let post = |body: serde_json::Value| x.post("com.atproto.server.createAccount", &body, None);
    assert_error(
        &post(json!({"handle": "bad handle!", "email": "a@example.com", "password": "pw"})),
        400,
        "InvalidHandle",
    );
    assert_error(
        &post(json!({"handle": "alice.example.com", "email": "a@example.com", "password": "pw"})),
        400,
        "UnsupportedDomain",
    );
    assert_error(
        &post(json!({"handle": "ab.test", "email": "a@example.com", "password": "pw"})),
        400,
        "InvalidHandle",
    );
    assert_error(
        &post(json!({"handle": "alice.test", "email": "not-an-email", "password": "pw"})),
        400,
        "InvalidRequest",
    );
    assert_error(
        &post(json!({"handle": "alice.test", "email": "a@example.com"})),
        400,
        "InvalidRequest",
    );
    assert_error(
        &post(
            json!({"handle": "alice.test", "email": "a@example.com", "password": "pw", "recoveryKey": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}),
        ),
        400,
        "InvalidRequest",
    );
    let ok = post(json!({"handle": "alice.test", "email": "a@example.com", "password": "pw"}));
    assert_eq!(ok.0, 200, "{}", ok.1);
    assert_error(
        &post(json!({"handle": "alice.test", "email": "b@example.com", "password": "pw"})),
        400,
        "HandleNotAvailable",
    );
    let dup_email = post(json!({"handle": "bob.test", "email": "A@example.com", "password": "pw"}));
    assert_error(&dup_email, 400, "InvalidRequest");
}

#[test]
fn recovery_key_is_first_in_rotation_keys() {
    let p = Pdsd::start();
    let user = pds::crypto::Keypair::generate(pds::crypto::Curve::P256);
    let (st, body) = p.xrpc().post(
        "com.atproto.server.createAccount",
        &json!({"handle": "carol.test", "email": "c@example.com", "password": "pw", "recoveryKey": user.did_key()}),
        None,
    );
    assert_eq!(st, 200, "{body}");
    let did = body["did"].as_str().expect("did");
    let plc = p.plc_url.clone().expect("built-in PLC");
    let data: serde_json::Value = reqwest::blocking::get(format!("{plc}/{did}/data"))
        .expect("plc")
        .json()
        .expect("json");
    let keys = data["rotationKeys"].as_array().expect("keys");
    assert_eq!(
        keys.first().and_then(|k| k.as_str()),
        Some(user.did_key().as_str())
    );
    assert_eq!(keys.len(), 2, "user key first, relay key last: {keys:?}");
    // The whole log verifies with the library.
    let log: Vec<pds::identity::LogEntry> =
        reqwest::blocking::get(format!("{plc}/{did}/log/audit"))
            .expect("plc")
            .json()
            .expect("json");
    pds::identity::PlcState::from_log(did, &log).expect("log verifies");
}

#[test]
fn sessions_login_refresh_and_revoke() {
    let p = Pdsd::start();
    let a = p.create_account();
    let x = p.xrpc();
    for id in [
        a.handle.as_str(),
        a.did.as_str(),
        &format!("{}@example.com", a.handle.trim_end_matches(".test")),
    ] {
        let (st, body) = x.post(
            "com.atproto.server.createSession",
            &json!({"identifier": id, "password": a.password}),
            None,
        );
        assert_eq!(st, 200, "login with {id}: {body}");
        assert_eq!(body["did"], json!(a.did));
    }
    assert_error(
        &x.post(
            "com.atproto.server.createSession",
            &json!({"identifier": a.handle, "password": "wrong"}),
            None,
        ),
        401,
        "AuthenticationRequired",
    );
    assert_error(
        &x.post(
            "com.atproto.server.createSession",
            &json!({"identifier": "nobody.test", "password": "x"}),
            None,
        ),
        401,
        "AuthenticationRequired",
    );
    // getSession with the access token; a refresh token is not an access token.
    let (st, s) = x.get("com.atproto.server.getSession", &[], Some(&a.access));
    assert_eq!(st, 200);
    assert_eq!(s["handle"], json!(a.handle));
    assert!(s["didDoc"].is_object());
    assert_error(
        &x.get("com.atproto.server.getSession", &[], Some(&a.refresh)),
        400,
        "InvalidToken",
    );
    assert_error(
        &x.get("com.atproto.server.getSession", &[], None),
        401,
        "AuthMissing",
    );
    // Refresh rotates; the old token still yields the same successor during the grace period.
    let (st, r1) = x.post(
        "com.atproto.server.refreshSession",
        &json!(null),
        Some(&a.refresh),
    );
    assert_eq!(st, 200, "{r1}");
    assert_ne!(r1["refreshJwt"], json!(a.refresh));
    let (_, again) = x.post(
        "com.atproto.server.refreshSession",
        &json!(null),
        Some(&a.refresh),
    );
    let claims = |t: &str| -> serde_json::Value {
        use base64::Engine;
        let part = t.split('.').nth(1).expect("payload");
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .expect("b64"),
        )
        .expect("json")
    };
    assert_eq!(
        claims(again["refreshJwt"].as_str().expect("jwt"))["jti"],
        claims(r1["refreshJwt"].as_str().expect("jwt"))["jti"]
    );
    // deleteSession revokes the new refresh token.
    let new_refresh = r1["refreshJwt"].as_str().expect("refresh");
    let (st, _) = x.post(
        "com.atproto.server.deleteSession",
        &json!(null),
        Some(new_refresh),
    );
    assert_eq!(st, 200);
    assert_error(
        &x.post(
            "com.atproto.server.refreshSession",
            &json!(null),
            Some(new_refresh),
        ),
        400,
        "ExpiredToken",
    );
}

#[test]
fn app_passwords() {
    let p = Pdsd::start();
    let a = p.create_account();
    let x = p.xrpc();
    let (st, created) = x.post(
        "com.atproto.server.createAppPassword",
        &json!({"name": "my app"}),
        Some(&a.access),
    );
    assert_eq!(st, 200, "{created}");
    let secret = created["password"].as_str().expect("password").to_string();
    assert_error(
        &x.post(
            "com.atproto.server.createAppPassword",
            &json!({"name": "my app"}),
            Some(&a.access),
        ),
        400,
        "DuplicateName",
    );
    let (st, listed) = x.get("com.atproto.server.listAppPasswords", &[], Some(&a.access));
    assert_eq!(st, 200);
    assert_eq!(listed["passwords"][0]["name"], json!("my app"));
    assert!(
        listed["passwords"][0].get("password").is_none(),
        "the secret is never listed"
    );
    let (st, s) = x.post(
        "com.atproto.server.createSession",
        &json!({"identifier": a.handle, "password": secret}),
        None,
    );
    assert_eq!(st, 200, "{s}");
    let app_token = s["accessJwt"].as_str().expect("jwt").to_string();
    // An app-password session can write records but not manage the account.
    let (st, _) = x.post(
        "com.atproto.repo.createRecord",
        &json!({"repo": a.did, "collection": "app.bsky.feed.post", "record": {"$type": "app.bsky.feed.post", "text": "hi", "createdAt": "2026-01-01T00:00:00Z"}}),
        Some(&app_token),
    );
    assert_eq!(st, 200);
    assert_error(
        &x.post(
            "com.atproto.server.createAppPassword",
            &json!({"name": "x"}),
            Some(&app_token),
        ),
        400,
        "InvalidToken",
    );
    let (st, _) = x.post(
        "com.atproto.server.revokeAppPassword",
        &json!({"name": "my app"}),
        Some(&a.access),
    );
    assert_eq!(st, 200);
    assert_error(
        &x.post(
            "com.atproto.server.createSession",
            &json!({"identifier": a.handle, "password": secret}),
            None,
        ),
        401,
        "AuthenticationRequired",
    );
}

#[test]
fn service_auth_token_is_signed_by_the_account_key() {
    let p = Pdsd::start();
    let a = p.create_account();
    let x = p.xrpc();
    let (st, body) = x.get(
        "com.atproto.server.getServiceAuth",
        &[
            ("aud", "did:web:api.example.com"),
            ("lxm", "app.bsky.feed.getTimeline"),
        ],
        Some(&a.access),
    );
    assert_eq!(st, 200, "{body}");
    let token = body["token"].as_str().expect("token");
    let (_, session) = x.get("com.atproto.server.getSession", &[], Some(&a.access));
    let doc: pds::identity::DidDocument =
        serde_json::from_value(session["didDoc"].clone()).expect("doc");
    let key = doc.atproto_signing_key().expect("key");
    let mut parts = token.split('.');
    let (h, c, s) = (
        parts.next().expect("h"),
        parts.next().expect("c"),
        parts.next().expect("s"),
    );
    use base64::Engine;
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .expect("sig");
    key.verify(format!("{h}.{c}").as_bytes(), &sig)
        .expect("signature verifies with the #atproto key");
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(c)
            .expect("c"),
    )
    .expect("json");
    assert_eq!(claims["iss"], json!(a.did));
    assert_eq!(claims["aud"], json!("did:web:api.example.com"));
    assert_eq!(claims["lxm"], json!("app.bsky.feed.getTimeline"));
    assert_error(
        &x.get(
            "com.atproto.server.getServiceAuth",
            &[("aud", "did:web:api.example.com"), ("exp", "1")],
            Some(&a.access),
        ),
        400,
        "BadExpiration",
    );
}

#[test]
fn deactivate_blocks_writes_and_activate_restores() {
    let p = Pdsd::start();
    let a = p.create_account();
    let x = p.xrpc();
    let post = |x: &Xrpc| {
        x.post(
            "com.atproto.repo.createRecord",
            &json!({"repo": a.did, "collection": "app.bsky.feed.post", "record": {"$type": "app.bsky.feed.post", "text": "x", "createdAt": "2026-01-01T00:00:00Z"}}),
            Some(&a.access),
        )
    };
    assert_eq!(post(&x).0, 200);
    let (st, _) = x.post(
        "com.atproto.server.deactivateAccount",
        &json!({}),
        Some(&a.access),
    );
    assert_eq!(st, 200);
    assert_error(&post(&x), 400, "RepoDeactivated");
    let (_, status) = x.get("com.atproto.sync.getRepoStatus", &[("did", &a.did)], None);
    assert_eq!(status["active"], json!(false));
    assert_eq!(status["status"], json!("deactivated"));
    assert_error(
        &x.get("com.atproto.sync.getLatestCommit", &[("did", &a.did)], None),
        400,
        "RepoDeactivated",
    );
    let (st, _) = x.post(
        "com.atproto.server.activateAccount",
        &json!(null),
        Some(&a.access),
    );
    assert_eq!(st, 200);
    assert_eq!(post(&x).0, 200);
}

#[test]
fn account_deletion_needs_the_emailed_code() {
    let p = Pdsd::start();
    let a = p.create_account();
    let x = p.xrpc();
    let (st, _) = x.post(
        "com.atproto.server.requestAccountDelete",
        &json!(null),
        Some(&a.access),
    );
    assert_eq!(st, 200);
    let outbox = p.data_dir.join("outbox");
    let mail = std::fs::read_dir(&outbox)
        .expect("outbox")
        .filter_map(Result::ok)
        .map(|e| std::fs::read_to_string(e.path()).expect("mail"))
        .find(|m| m.contains("Delete your account"))
        .expect("deletion mail");
    let code = mail
        .split_whitespace()
        .find(|w| w.len() == 11 && w.as_bytes()[5] == b'-')
        .expect("code in mail")
        .to_string();
    assert_error(
        &x.post(
            "com.atproto.server.deleteAccount",
            &json!({"did": a.did, "password": a.password, "token": "aaaaa-bbbbb"}),
            None,
        ),
        400,
        "InvalidToken",
    );
    assert_error(
        &x.post(
            "com.atproto.server.deleteAccount",
            &json!({"did": a.did, "password": "wrong", "token": code}),
            None,
        ),
        401,
        "AuthRequired",
    );
    let (st, body) = x.post(
        "com.atproto.server.deleteAccount",
        &json!({"did": a.did, "password": a.password, "token": code}),
        None,
    );
    assert_eq!(st, 200, "{body}");
    assert_error(
        &x.get("com.atproto.sync.getLatestCommit", &[("did", &a.did)], None),
        400,
        "RepoNotFound",
    );
    assert_error(
        &x.post(
            "com.atproto.server.createSession",
            &json!({"identifier": a.handle, "password": a.password}),
            None,
        ),
        401,
        "AuthenticationRequired",
    );
}

#[test]
fn invite_codes_when_required() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("pdsd.toml");
    std::fs::write(
        &cfg,
        "[invites]\nrequired = true\n[admin]\npassword = \"s3cret-admin\"\n",
    )
    .expect("cfg");
    let p = Pdsd::start_with(&["--config", cfg.to_str().expect("utf8")]);
    let x = p.xrpc();
    let (_, d) = x.get("com.atproto.server.describeServer", &[], None);
    assert_eq!(d["inviteCodeRequired"], json!(true));
    let n = random_suffix();
    assert_error(
        &x.post("com.atproto.server.createAccount", &json!({"handle": format!("u{n}.test"), "email": format!("{n}@example.com"), "password": "pw"}), None),
        400,
        "InvalidInviteCode",
    );
    let admin = |pw: &str| {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("admin:{pw}"))
        )
    };
    let res = x
        .raw(
            reqwest::Method::POST,
            "/xrpc/com.atproto.server.createInviteCode",
        )
        .header("authorization", admin("wrong"))
        .json(&json!({"useCount": 1}))
        .send()
        .expect("req");
    assert_eq!(res.status().as_u16(), 401);
    let res: serde_json::Value = x
        .raw(
            reqwest::Method::POST,
            "/xrpc/com.atproto.server.createInviteCode",
        )
        .header("authorization", admin("s3cret-admin"))
        .json(&json!({"useCount": 1}))
        .send()
        .expect("req")
        .json()
        .expect("json");
    let code = res["code"].as_str().expect("code").to_string();
    let (st, body) = x.post(
        "com.atproto.server.createAccount",
        &json!({"handle": format!("u{n}.test"), "email": format!("{n}@example.com"), "password": "pw", "inviteCode": code}),
        None,
    );
    assert_eq!(st, 200, "{body}");
    assert_error(
        &x.post("com.atproto.server.createAccount", &json!({"handle": format!("v{n}.test"), "email": format!("v{n}@example.com"), "password": "pw", "inviteCode": code}), None),
        400,
        "InvalidInviteCode",
    );
}

#[test]
fn reserve_signing_key_and_recommended_credentials() {
    let p = Pdsd::start();
    let a = p.create_account();
    let x = p.xrpc();
    let (st, body) = x.post("com.atproto.server.reserveSigningKey", &json!({}), None);
    assert_eq!(st, 200);
    pds::crypto::PublicKey::from_did_key(body["signingKey"].as_str().expect("key"))
        .expect("a did:key");
    let (st, creds) = x.get(
        "com.atproto.identity.getRecommendedDidCredentials",
        &[],
        Some(&a.access),
    );
    assert_eq!(st, 200, "{creds}");
    assert_eq!(creds["alsoKnownAs"], json!([format!("at://{}", a.handle)]));
    assert!(
        creds["verificationMethods"]["atproto"]
            .as_str()
            .is_some_and(|k| k.starts_with("did:key:"))
    );
    assert_eq!(
        creds["services"]["atproto_pds"]["endpoint"],
        json!(p.url.replace("127.0.0.1", "localhost"))
    );
}
