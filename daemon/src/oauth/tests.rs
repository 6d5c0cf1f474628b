//! Server-side tests of the OAuth flows, run in-process against the real router and a
//! real SQLite database: the client side is played here with hand-built requests (PAR,
//! the pages' forms, token requests, DPoP proofs), and client metadata documents are
//! served by a small HTTP server on loopback (reachable only through the test-only
//! fetcher). The end-to-end run with the real client library is tests/oauth-e2e.

use super::dpop::test_support::{proof, proof_with};
use super::jose::{self, test_support::sign};
use super::*;
use crate::config::Config;
use crate::context::AppContext;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use pds::crypto::{Curve, Keypair};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tower::ServiceExt;

const ISS: &str = "https://pds.test";
const PASSWORD: &str = "correct horse battery staple";
const DID: &str = "did:plc:testaccount0000000000000";
const HANDLE: &str = "alice.test";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-extra-entropy";

fn localhost_client(redirect: &str, scope: &str) -> String {
    format!(
        "http://localhost?redirect_uri={}&scope={}",
        enc(redirect),
        enc(scope)
    )
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

struct H {
    state: AppState,
    app: axum::Router,
    _dir: tempfile::TempDir,
}

async fn harness_with(loopback_fetch: bool, edit: impl FnOnce(&mut Config)) -> H {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = Config::dev_defaults();
    cfg.data_dir = dir.path().to_path_buf();
    cfg.public_url = Some(ISS.into());
    cfg.hostname = "pds.test".into();
    cfg.secrets.kek = Some("ab".repeat(32));
    edit(&mut cfg);
    let oauth_cfg = cfg.oauth.clone();
    let mut state = AppContext::build(cfg, "http://127.0.0.1:9")
        .await
        .expect("context");
    if loopback_fetch {
        Arc::get_mut(&mut state).expect("sole owner").oauth.clients =
            fetch::ClientFetcher::for_loopback_tests(&oauth_cfg).expect("fetcher");
    }
    add_account(&state, DID, HANDLE, "alice@example.com").await;
    let app = axum::Router::new()
        .merge(router())
        .route("/xrpc/{nsid}", axum::routing::get(whoami).post(whoami))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            dpop_nonce_layer,
        ))
        .with_state(state.clone());
    H {
        state,
        app,
        _dir: dir,
    }
}

async fn harness() -> H {
    harness_with(true, |_| {}).await
}

async fn whoami(auth: crate::auth::AccessAuth) -> axum::Json<Value> {
    axum::Json(json!({"did": auth.did, "scope": auth.scope}))
}

async fn add_account(state: &AppState, did: &str, handle: &str, email: &str) {
    let hash = crate::auth::password::hash(PASSWORD).expect("hash");
    let row = crate::store::accounts::AccountRow {
        did: did.into(),
        handle: Some(handle.into()),
        email: Some(email.into()),
        email_confirmed_at: None,
        password_hash: Some(hash),
        created_at: crate::store::now(),
        deactivated_at: None,
        delete_after: None,
        takedown_ref: None,
        tier: "free".into(),
        invite_code: None,
        signing_key: vec![0u8; 8],
    };
    state
        .db
        .write(move |tx| crate::store::accounts::insert(tx.conn(), &row))
        .await
        .expect("insert account");
}

struct Res {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Res {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
    fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
}

impl H {
    async fn send(&self, req: Request<Body>) -> Res {
        let res = self.app.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        Res {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    fn nonce(&self) -> String {
        self.state
            .oauth
            .nonces
            .current(crate::auth::jwt::now_secs())
    }

    async fn post_form(&self, path: &str, dpop: Option<String>, pairs: &[(&str, &str)]) -> Res {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().copied())
            .finish();
        let mut b = Request::post(path).header("content-type", "application/x-www-form-urlencoded");
        if let Some(p) = dpop {
            b = b.header("dpop", p);
        }
        self.send(b.body(Body::from(body)).expect("request")).await
    }

    /// Call an OAuth endpoint like a client: a DPoP proof with the current nonce.
    async fn oauth_post(&self, key: &Keypair, path: &str, pairs: &[(&str, &str)]) -> Res {
        let p = proof(
            key,
            "POST",
            &format!("{ISS}{path}"),
            Some(&self.nonce()),
            None,
        );
        self.post_form(path, Some(p), pairs).await
    }

    async fn get_page(&self, path_and_query: &str, cookie: Option<&str>) -> Res {
        let mut b = Request::get(path_and_query);
        if let Some(c) = cookie {
            b = b.header("cookie", format!("{}={c}", authorize::DEVICE_COOKIE));
        }
        self.send(b.body(Body::empty()).expect("request")).await
    }

    async fn post_page(&self, cookie: &str, pairs: &[(&str, &str)]) -> Res {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().copied())
            .finish();
        let req = Request::post("/oauth/authorize")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", format!("{}={cookie}", authorize::DEVICE_COOKIE))
            .header("origin", ISS)
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body))
            .expect("request");
        self.send(req).await
    }

    /// A resource call with a DPoP-bound token.
    async fn xrpc(&self, key: &Keypair, nsid: &str, token: &str, nonce: Option<&str>) -> Res {
        let url = format!("{ISS}/xrpc/{nsid}");
        let n = nonce.map(str::to_string).unwrap_or_else(|| self.nonce());
        let p = proof(key, "GET", &url, Some(&n), Some(token));
        self.xrpc_with(token, &p, nsid).await
    }

    async fn xrpc_with(&self, token: &str, dpop: &str, nsid: &str) -> Res {
        let req = Request::get(format!("/xrpc/{nsid}"))
            .header("authorization", format!("DPoP {token}"))
            .header("dpop", dpop)
            .body(Body::empty())
            .expect("request");
        self.send(req).await
    }
}

fn challenge() -> String {
    jose::sha256_b64(VERIFIER)
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    html.split(&marker)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .replace("&amp;", "&")
}

fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    let u = url::Url::parse(location).expect("location");
    u.query_pairs().into_owned().collect()
}

/// A client as the tests drive it.
struct TestClient {
    id: String,
    redirect: String,
    scope: String,
    dpop: Keypair,
    /// A confidential client's signing key and kid.
    signer: Option<(Keypair, String)>,
}

impl TestClient {
    fn public(redirect: &str, scope: &str) -> Self {
        TestClient {
            id: localhost_client(redirect, scope),
            redirect: redirect.into(),
            scope: scope.into(),
            dpop: Keypair::generate(Curve::P256),
            signer: None,
        }
    }

    fn assertion(&self, aud: &str) -> Option<String> {
        let (key, kid) = self.signer.as_ref()?;
        let now = crate::auth::jwt::now_secs();
        Some(sign(
            key,
            &json!({"alg": "ES256", "kid": kid}),
            &json!({"iss": self.id, "sub": self.id, "aud": aud, "iat": now, "exp": now + 60, "jti": crate::auth::jwt::random_id()}),
        ))
    }

    fn with_auth<'a>(&'a self, mut pairs: Vec<(&'a str, String)>) -> Vec<(&'a str, String)> {
        pairs.push(("client_id", self.id.clone()));
        if let Some(a) = self.assertion(ISS) {
            pairs.push(("client_assertion_type", client_auth::JWT_BEARER.into()));
            pairs.push(("client_assertion", a));
        }
        pairs
    }

    fn par_params(&self, state: &str, challenge: &str) -> Vec<(&'static str, String)> {
        vec![
            ("response_type", "code".into()),
            ("redirect_uri", self.redirect.clone()),
            ("scope", self.scope.clone()),
            ("state", state.into()),
            ("code_challenge", challenge.into()),
            ("code_challenge_method", "S256".into()),
        ]
    }
}

fn pairs_ref<'a>(v: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn par(h: &H, c: &TestClient, state: &str, challenge: &str) -> Res {
    let params = c.with_auth(c.par_params(state, challenge));
    h.oauth_post(&c.dpop, "/oauth/par", &pairs_ref(&params))
        .await
}

/// PAR, sign in, approve: returns the code and the device cookie.
async fn authorize(h: &H, c: &TestClient) -> (String, String) {
    let state_value = crate::auth::jwt::random_id();
    let challenge = challenge_for(&state_value);
    let r = par(h, c, &state_value, &challenge).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let request_uri = r.json()["request_uri"]
        .as_str()
        .expect("request_uri")
        .to_string();
    let q = format!(
        "/oauth/authorize?client_id={}&request_uri={}",
        enc(&c.id),
        enc(&request_uri)
    );
    let page = h.get_page(&q, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Sign in"));
    let cookie = page
        .header("set-cookie")
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_string())
        .expect("device cookie");
    let csrf = hidden(&page.body, "csrf");
    let r = h
        .post_page(
            &cookie,
            &[
                ("request_uri", &request_uri),
                ("client_id", &c.id),
                ("csrf", &csrf),
                ("action", "signin"),
                ("identifier", HANDLE),
                ("password", PASSWORD),
                ("remember", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let consent = h.get_page(&q, Some(&cookie)).await;
    assert!(consent.body.contains("Allow access"), "{}", consent.body);
    assert!(consent.body.contains("@alice.test"));
    let r = h
        .post_page(
            &cookie,
            &[
                ("request_uri", &request_uri),
                ("client_id", &c.id),
                ("csrf", &csrf),
                ("action", "allow"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let q = query_of(&r.header("location"));
    assert_eq!(q.get("state"), Some(&state_value));
    assert_eq!(q.get("iss").map(String::as_str), Some(ISS));
    (q.get("code").expect("code").clone(), cookie)
}

/// Each authorization gets its own verifier; derive both from the state for the test.
fn verifier_for(state: &str) -> String {
    format!("{VERIFIER}-{}", jose::sha256_b64(state))
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(100)
        .collect()
}

fn challenge_for(state: &str) -> String {
    jose::sha256_b64(&verifier_for(state))
}

async fn exchange(h: &H, c: &TestClient, code: &str, verifier: &str) -> Res {
    let params = c.with_auth(vec![
        ("grant_type", "authorization_code".into()),
        ("code", code.into()),
        ("redirect_uri", c.redirect.clone()),
        ("code_verifier", verifier.into()),
    ]);
    h.oauth_post(&c.dpop, "/oauth/token", &pairs_ref(&params))
        .await
}

async fn refresh(h: &H, c: &TestClient, key: &Keypair, refresh_token: &str) -> Res {
    let params = c.with_auth(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", refresh_token.into()),
    ]);
    h.oauth_post(key, "/oauth/token", &pairs_ref(&params)).await
}

/// A full sign-in that returns the token response.
async fn sign_in(h: &H, c: &TestClient) -> Value {
    let (code, _) = authorize(h, c).await;
    let verifier = verifier_for_code(h, &code).await;
    let r = exchange(h, c, &code, &verifier).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

/// Find the verifier of the request a code belongs to (tests derive it from state).
async fn verifier_for_code(h: &H, code: &str) -> String {
    let hash = token::token_hash(code);
    let params: String = h
        .state
        .db
        .read(move |c| {
            c.query_row(
                "SELECT parameters FROM oauth_request WHERE code_hash = ?1",
                [hash],
                |r| r.get::<_, String>(0),
            )
            .map_err(crate::store::DbError::from)
        })
        .await
        .expect("request");
    let p: par::AuthParams = serde_json::from_str(&params).expect("params");
    verifier_for(&p.state)
}

const REDIRECT: &str = "http://127.0.0.1/callback";
const GENERIC: &str = "atproto transition:generic";

#[tokio::test]
async fn metadata_documents_have_every_field_the_profile_requires() {
    let h = harness().await;
    let r = h
        .send(
            Request::get("/.well-known/oauth-authorization-server")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").starts_with("application/json"));
    assert_eq!(r.header("access-control-allow-origin"), "*");
    let m = r.json();
    assert_eq!(m["issuer"], ISS);
    for (k, v) in [
        ("require_pushed_authorization_requests", json!(true)),
        (
            "authorization_response_iss_parameter_supported",
            json!(true),
        ),
        ("client_id_metadata_document_supported", json!(true)),
        (
            "pushed_authorization_request_endpoint",
            json!(format!("{ISS}/oauth/par")),
        ),
        ("token_endpoint", json!(format!("{ISS}/oauth/token"))),
        (
            "authorization_endpoint",
            json!(format!("{ISS}/oauth/authorize")),
        ),
        ("code_challenge_methods_supported", json!(["S256"])),
    ] {
        assert_eq!(m[k], v, "{k}");
    }
    let has = |k: &str, v: &str| m[k].as_array().is_some_and(|a| a.iter().any(|x| x == v));
    assert!(has("token_endpoint_auth_methods_supported", "none"));
    assert!(has(
        "token_endpoint_auth_methods_supported",
        "private_key_jwt"
    ));
    assert!(has(
        "token_endpoint_auth_signing_alg_values_supported",
        "ES256"
    ));
    assert!(!has(
        "token_endpoint_auth_signing_alg_values_supported",
        "none"
    ));
    assert!(has("dpop_signing_alg_values_supported", "ES256"));
    assert!(!has("dpop_signing_alg_values_supported", "EdDSA"));
    assert!(has("scopes_supported", "atproto"));
    assert!(has("grant_types_supported", "refresh_token"));
    assert!(has("response_types_supported", "code"));
    assert_ne!(m["require_request_uri_registration"], json!(false));
    let r = h
        .send(
            Request::get("/.well-known/oauth-protected-resource")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    let p = r.json();
    assert_eq!(p["resource"], ISS);
    assert_eq!(p["authorization_servers"], json!([ISS]));
}

#[tokio::test]
async fn full_flow_tokens_resource_refresh_and_revoke() {
    let h = harness().await;
    let c = TestClient::public(REDIRECT, GENERIC);
    let t = sign_in(&h, &c).await;
    assert_eq!(t["token_type"], "DPoP");
    assert_eq!(t["sub"], DID);
    assert_eq!(t["scope"], GENERIC);
    assert_eq!(t["expires_in"], 600);
    let access = t["access_token"].as_str().expect("access").to_string();
    let refresh_token = t["refresh_token"].as_str().expect("refresh").to_string();

    // The resource accepts the DPoP-bound token, and gives the next nonce.
    let r = h
        .xrpc(&c.dpop, "com.atproto.repo.createRecord", &access, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["did"], DID);
    assert_eq!(r.json()["scope"], GENERIC);
    assert!(!r.header("dpop-nonce").is_empty());

    // The session lasts two weeks for a public client.
    let row = store::get_token(
        &h.state.db,
        token::verify_access(h.state.oauth.token_key(), &access, 0)
            .expect("claims")
            .jti,
    )
    .await
    .expect("db")
    .expect("row");
    let now = crate::auth::jwt::now_secs();
    assert!((row.expires_at - (now + 14 * 86_400)).abs() < 10);
    assert_eq!(row.session_expires_at, Some(row.expires_at));

    // Refresh rotates; the old refresh token no longer works and its reuse revokes.
    let r = refresh(&h, &c, &c.dpop, &refresh_token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let t2 = r.json();
    let refresh2 = t2["refresh_token"].as_str().expect("refresh2").to_string();
    assert_ne!(refresh2, refresh_token);
    assert_eq!(t2["sub"], DID);
    assert_eq!(t2["scope"], GENERIC);
    let access2 = t2["access_token"].as_str().expect("access2").to_string();
    assert_eq!(
        h.xrpc(&c.dpop, "com.atproto.server.getSession", &access2, None)
            .await
            .status,
        StatusCode::OK
    );

    // Refreshing with another DPoP key is refused.
    let thief = Keypair::generate(Curve::P256);
    let r = refresh(&h, &c, &thief, &refresh2).await;
    assert_eq!(r.error(), "invalid_grant");

    // Replaying the first refresh token revokes the whole session.
    let r = refresh(&h, &c, &c.dpop, &refresh_token).await;
    assert_eq!(r.error(), "invalid_grant");
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("revoked")
    );
    let r = h
        .xrpc(&c.dpop, "com.atproto.server.getSession", &access2, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.header("www-authenticate").contains("invalid_token"));
    assert_eq!(
        refresh(&h, &c, &c.dpop, &refresh2).await.error(),
        "invalid_grant"
    );

    // A new session, revoked through the revocation endpoint with its access token.
    let t = sign_in(&h, &c).await;
    let access = t["access_token"].as_str().expect("access").to_string();
    let r = h
        .post_form(
            "/oauth/revoke",
            None,
            &[("token", &access), ("client_id", &c.id)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!r.header("dpop-nonce").is_empty());
    let r = h
        .xrpc(&c.dpop, "com.atproto.server.getSession", &access, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = refresh(
        &h,
        &c,
        &c.dpop,
        t["refresh_token"].as_str().unwrap_or_default(),
    )
    .await;
    assert_eq!(r.error(), "invalid_grant");
    // Revoking an unknown token is not an error (RFC 7009).
    let r = h
        .post_form("/oauth/revoke", None, &[("token", "nonsense")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

/// PAR parameters, the error expected, and words of its description.
type Case<'a> = (Vec<(&'a str, String)>, &'static str, &'static str);

#[tokio::test]
async fn par_is_required_and_requests_are_validated() {
    let h = harness().await;
    let c = TestClient::public(REDIRECT, GENERIC);
    // No PAR: the authorization endpoint refuses plain requests.
    let q = format!(
        "/oauth/authorize?client_id={}&response_type=code&redirect_uri={}&state=s&code_challenge={}&code_challenge_method=S256",
        enc(&c.id),
        enc(REDIRECT),
        challenge()
    );
    let r = h.get_page(&q, None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("pushed authorization requests"),
        "{}",
        r.body
    );
    assert!(r.body.contains("invalid_request"));
    let r = h
        .get_page(&format!("/oauth/authorize?client_id={}&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Areq-nope", enc(&c.id)), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let base = c.par_params("state-1", &challenge());
    let with = |k: &'static str, v: &str| {
        let mut p: Vec<(&str, String)> = base.iter().filter(|(n, _)| *n != k).cloned().collect();
        if !v.is_empty() {
            p.push((k, v.to_string()));
        }
        c.with_auth(p)
    };
    let cases: Vec<Case<'_>> = vec![
        (
            with("code_challenge_method", "plain"),
            "invalid_request",
            "plain",
        ),
        (with("code_challenge_method", ""), "invalid_request", "S256"),
        (
            with("code_challenge", ""),
            "invalid_request",
            "code_challenge",
        ),
        (with("state", ""), "invalid_request", "state"),
        (
            with("redirect_uri", "http://127.0.0.1/elsewhere"),
            "invalid_request",
            "redirect_uri",
        ),
        (
            with("redirect_uri", "https://evil.example.com/cb"),
            "invalid_request",
            "redirect_uri",
        ),
        (
            with("scope", "transition:generic"),
            "invalid_scope",
            "atproto",
        ),
        (
            with("scope", "atproto transition:chat.bsky"),
            "invalid_scope",
            "",
        ),
        (
            with("response_type", "token"),
            "unsupported_response_type",
            "code",
        ),
        (
            with("request", "eyJ.e30.x"),
            "invalid_request",
            "request objects",
        ),
    ];
    for (params, error, words) in cases {
        let r = h
            .oauth_post(&c.dpop, "/oauth/par", &pairs_ref(&params))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{params:?}");
        assert_eq!(r.error(), error, "{params:?}: {}", r.body);
        assert!(r.body.contains(words), "{params:?}: {}", r.body);
        assert!(!r.header("dpop-nonce").is_empty());
        assert_eq!(r.header("cache-control"), "no-store");
    }
    // A code_challenge or a state is never accepted twice.
    let ok = par(&h, &c, "state-2", &challenge()).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    assert!(
        ok.json()["request_uri"]
            .as_str()
            .unwrap_or_default()
            .starts_with("urn:ietf:params:oauth:request_uri:")
    );
    let r = par(&h, &c, "state-3", &challenge()).await;
    assert_eq!(r.error(), "invalid_request");
    assert!(r.body.contains("code_challenge"));
    let r = par(&h, &c, "state-2", &challenge_for("x")).await;
    assert_eq!(r.error(), "invalid_request");
    assert!(r.body.contains("state"));
    // Repeated parameters and other content types are refused.
    let r = h
        .post_form(
            "/oauth/par",
            Some(proof(
                &c.dpop,
                "POST",
                &format!("{ISS}/oauth/par"),
                Some(&h.nonce()),
                None,
            )),
            &[("client_id", &c.id), ("client_id", &c.id)],
        )
        .await;
    assert!(r.body.contains("repeated"));
}

#[tokio::test]
async fn dpop_at_the_authorization_server() {
    let h = harness().await;
    let c = TestClient::public(REDIRECT, GENERIC);
    let params = c.with_auth(c.par_params("s-dpop", &challenge()));
    let pairs = pairs_ref(&params);
    // No proof.
    let r = h.post_form("/oauth/par", None, &pairs).await;
    assert_eq!(r.error(), "invalid_dpop_proof");
    // No nonce, then a wrong one: use_dpop_nonce with a fresh nonce to retry with.
    let url = format!("{ISS}/oauth/par");
    let r = h
        .post_form(
            "/oauth/par",
            Some(proof(&c.dpop, "POST", &url, None, None)),
            &pairs,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error(), "use_dpop_nonce");
    let nonce = r.header("dpop-nonce");
    assert!(!nonce.is_empty());
    let r = h
        .post_form(
            "/oauth/par",
            Some(proof(&c.dpop, "POST", &url, Some("stale"), None)),
            &pairs,
        )
        .await;
    assert_eq!(r.error(), "use_dpop_nonce");
    // A proof for another endpoint, or another method.
    let r = h
        .post_form(
            "/oauth/par",
            Some(proof(
                &c.dpop,
                "POST",
                &format!("{ISS}/oauth/token"),
                Some(&nonce),
                None,
            )),
            &pairs,
        )
        .await;
    assert_eq!(r.error(), "invalid_dpop_proof");
    assert!(r.body.contains("htu"));
    // The right proof works once; replayed, it is refused.
    let good = proof(&c.dpop, "POST", &url, Some(&nonce), None);
    let r = h.post_form("/oauth/par", Some(good.clone()), &pairs).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let params2 = c.with_auth(c.par_params("s-dpop-2", &challenge_for("s-dpop-2")));
    let r = h
        .post_form("/oauth/par", Some(good), &pairs_ref(&params2))
        .await;
    assert_eq!(r.error(), "invalid_dpop_proof");
    assert!(r.body.contains("already used"));
    // EdDSA keys are refused by name.
    let k = Keypair::generate(Curve::P256);
    let eddsa = sign(
        &k,
        &json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}),
        &json!({"jti": "e", "htm": "POST", "htu": url, "iat": crate::auth::jwt::now_secs(), "nonce": nonce}),
    );
    let r = h
        .post_form("/oauth/par", Some(eddsa), &pairs_ref(&params2))
        .await;
    assert_eq!(r.error(), "invalid_dpop_proof");
    assert!(r.body.contains("Ed25519"));
    // secp256k1 (ES256K) DPoP keys work too.
    let k1 = TestClient {
        dpop: Keypair::generate(Curve::Secp256k1),
        ..TestClient::public(REDIRECT, GENERIC)
    };
    let r = par(&h, &k1, "s-k1", &challenge_for("s-k1")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[tokio::test]
async fn codes_are_single_use_and_bound_to_verifier_key_and_redirect() {
    let h = harness().await;
    let c = TestClient::public(REDIRECT, GENERIC);
    let (code, _) = authorize(&h, &c).await;
    let verifier = verifier_for_code(&h, &code).await;
    // Wrong verifier: refused, and the code is spent.
    let r = exchange(&h, &c, &code, VERIFIER).await;
    assert_eq!(r.error(), "invalid_grant");
    let r = exchange(&h, &c, &code, &verifier).await;
    assert_eq!(r.error(), "invalid_grant");

    // Another DPoP key than the PAR's.
    let (code, _) = authorize(&h, &c).await;
    let verifier = verifier_for_code(&h, &code).await;
    let other = TestClient {
        dpop: Keypair::generate(Curve::P256),
        ..TestClient::public(REDIRECT, GENERIC)
    };
    let r = exchange(&h, &other, &code, &verifier).await;
    assert_eq!(r.error(), "invalid_grant");
    assert!(r.body.contains("DPoP key"));

    // Another redirect_uri than the request's.
    let (code, _) = authorize(&h, &c).await;
    let verifier = verifier_for_code(&h, &code).await;
    let params = c.with_auth(vec![
        ("grant_type", "authorization_code".into()),
        ("code", code.clone()),
        ("redirect_uri", "http://127.0.0.1/other".into()),
        ("code_verifier", verifier.clone()),
    ]);
    let r = h
        .oauth_post(&c.dpop, "/oauth/token", &pairs_ref(&params))
        .await;
    assert_eq!(r.error(), "invalid_grant");

    // A good exchange, then the same code again: refused and the session revoked.
    let (code, _) = authorize(&h, &c).await;
    let verifier = verifier_for_code(&h, &code).await;
    let r = exchange(&h, &c, &code, &verifier).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let access = r.json()["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        h.xrpc(&c.dpop, "com.atproto.server.getSession", &access, None)
            .await
            .status,
        StatusCode::OK
    );
    let r = exchange(&h, &c, &code, &verifier).await;
    assert_eq!(r.error(), "invalid_grant");
    assert!(r.body.contains("already used"));
    let r = h
        .xrpc(&c.dpop, "com.atproto.server.getSession", &access, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Unknown grant types.
    let params = c.with_auth(vec![("grant_type", "password".into())]);
    let r = h
        .oauth_post(&c.dpop, "/oauth/token", &pairs_ref(&params))
        .await;
    assert_eq!(r.error(), "unsupported_grant_type");
}

#[tokio::test]
async fn dpop_at_the_resource_server() {
    let h = harness().await;
    let c = TestClient::public(REDIRECT, GENERIC);
    let t = sign_in(&h, &c).await;
    let access = t["access_token"].as_str().expect("access").to_string();
    let nsid = "com.atproto.server.getSession";
    let url = format!("{ISS}/xrpc/{nsid}");

    // Missing or stale nonce: 401 use_dpop_nonce with the nonce to use.
    let r = h.xrpc(&c.dpop, nsid, &access, Some("stale")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.header("www-authenticate").starts_with("DPoP "));
    assert!(
        r.header("www-authenticate")
            .contains("error=\"use_dpop_nonce\"")
    );
    assert_eq!(r.error(), "use_dpop_nonce");
    let nonce = r.header("dpop-nonce");
    assert!(!nonce.is_empty());
    let p = proof(&c.dpop, "GET", &url, None, Some(&access));
    assert_eq!(
        h.xrpc_with(&access, &p, nsid).await.error(),
        "use_dpop_nonce"
    );

    // A good proof passes once; replayed it is refused.
    let p = proof(&c.dpop, "GET", &url, Some(&nonce), Some(&access));
    assert_eq!(h.xrpc_with(&access, &p, nsid).await.status, StatusCode::OK);
    let r = h.xrpc_with(&access, &p, nsid).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error(), "invalid_dpop_proof");
    assert!(r.body.contains("already used"));

    // The token is bound to its key: another key's proof is refused.
    let thief = Keypair::generate(Curve::P256);
    let r = h.xrpc(&thief, nsid, &access, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error(), "invalid_token");
    assert!(r.body.contains("another DPoP key"));

    // htu must be this URL at the public origin; ath must hash this token; htm this method.
    for (p, what) in [
        (
            proof(
                &c.dpop,
                "GET",
                "http://internal:2583/xrpc/com.atproto.server.getSession",
                Some(&nonce),
                Some(&access),
            ),
            "htu",
        ),
        (
            proof(
                &c.dpop,
                "GET",
                &format!("{ISS}/xrpc/com.atproto.repo.createRecord"),
                Some(&nonce),
                Some(&access),
            ),
            "htu",
        ),
        (
            proof(&c.dpop, "GET", &url, Some(&nonce), Some("another token")),
            "ath",
        ),
        (proof(&c.dpop, "GET", &url, Some(&nonce), None), "ath"),
        (
            proof(&c.dpop, "POST", &url, Some(&nonce), Some(&access)),
            "htm",
        ),
        (
            proof_with(&c.dpop, "GET", &url, Some(&nonce), Some(&access), |cl| {
                cl["iat"] = json!(0)
            }),
            "iat",
        ),
    ] {
        let r = h.xrpc_with(&access, &p, nsid).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(r.error(), "invalid_dpop_proof", "{what}: {}", r.body);
        assert!(r.body.contains(what), "{what}: {}", r.body);
    }
    // No proof at all; a Bearer presentation of the DPoP token.
    let req = Request::get(format!("/xrpc/{nsid}"))
        .header("authorization", format!("DPoP {access}"))
        .body(Body::empty())
        .expect("req");
    assert_eq!(h.send(req).await.error(), "invalid_dpop_proof");
    let req = Request::get(format!("/xrpc/{nsid}"))
        .header("authorization", format!("Bearer {access}"))
        .body(Body::empty())
        .expect("req");
    assert_ne!(h.send(req).await.status, StatusCode::OK);

    // An expired token (signed with the real key, exp in the past).
    let mut claims = token::verify_access(h.state.oauth.token_key(), &access, 0).expect("claims");
    claims.exp = crate::auth::jwt::now_secs() - 1;
    let expired = token::sign_access(h.state.oauth.token_key(), &claims);
    let r = h.xrpc(&c.dpop, nsid, &expired, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error(), "invalid_token");
    assert!(r.body.contains("expired"));
    assert!(
        r.header("www-authenticate")
            .contains("error=\"invalid_token\"")
    );
    // A forged token (other key) is refused.
    let forged = token::sign_access(&[7u8; 32], &claims);
    assert_eq!(
        h.xrpc(&c.dpop, nsid, &forged, None).await.error(),
        "invalid_token"
    );
}

#[tokio::test]
async fn scopes_limit_what_a_token_may_call() {
    let h = harness().await;
    let c = TestClient::public(REDIRECT, "atproto");
    let t = sign_in(&h, &c).await;
    assert_eq!(t["scope"], "atproto");
    let access = t["access_token"].as_str().expect("access").to_string();
    let r = h
        .xrpc(&c.dpop, "com.atproto.server.getSession", &access, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = h
        .xrpc(&c.dpop, "com.atproto.repo.createRecord", &access, None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.header("www-authenticate").contains("insufficient_scope"));
    assert!(r.body.contains("transition:generic"));
    let g = TestClient::public(REDIRECT, GENERIC);
    let t = sign_in(&h, &g).await;
    let access = t["access_token"].as_str().expect("access").to_string();
    let r = h
        .xrpc(&g.dpop, "chat.bsky.convo.listConvos", &access, None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Session-token scopes never leak into OAuth: require_full refuses OAuth callers.
    let auth = crate::auth::AccessAuth {
        did: DID.into(),
        scope: GENERIC.into(),
    };
    assert!(auth.require_full().is_err());
    assert!(!auth.is_privileged());
}

#[tokio::test]
async fn pages_refuse_forgery_other_browsers_and_honour_cancel_and_hints() {
    let h = harness().await;
    let c = TestClient::public(REDIRECT, GENERIC);
    let r = par(&h, &c, "st-pages", &challenge_for("st-pages")).await;
    let request_uri = r.json()["request_uri"].as_str().expect("uri").to_string();
    let q = format!(
        "/oauth/authorize?client_id={}&request_uri={}",
        enc(&c.id),
        enc(&request_uri)
    );
    let page = h
        .get_page(&q, Some("devicecookie-aaaaaaaaaaaaaaaaaaaaaaaa"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.header("content-security-policy")
            .contains("default-src 'none'")
    );
    assert!(!page.body.contains("<script"));
    let csrf = hidden(&page.body, "csrf");
    // Another browser cannot pick up the request.
    let other = h
        .get_page(&q, Some("devicecookie-bbbbbbbbbbbbbbbbbbbbbbbb"))
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert!(other.body.contains("another browser"));
    // Missing or wrong anti-forgery token, or a cross-site post.
    for token in ["", "wrong"] {
        let r = h
            .post_page(
                "devicecookie-aaaaaaaaaaaaaaaaaaaaaaaa",
                &[
                    ("request_uri", &request_uri),
                    ("client_id", &c.id),
                    ("csrf", token),
                    ("action", "signin"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    let req = Request::post("/oauth/authorize")
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "cookie",
            format!(
                "{}=devicecookie-aaaaaaaaaaaaaaaaaaaaaaaa",
                authorize::DEVICE_COOKIE
            ),
        )
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(format!(
            "request_uri={}&client_id={}&csrf={csrf}&action=allow",
            enc(&request_uri),
            enc(&c.id)
        )))
        .expect("req");
    assert_eq!(h.send(req).await.status, StatusCode::FORBIDDEN);
    // Wrong password: the form again, with an error and no sign-in.
    let r = h
        .post_page(
            "devicecookie-aaaaaaaaaaaaaaaaaaaaaaaa",
            &[
                ("request_uri", &request_uri),
                ("client_id", &c.id),
                ("csrf", &csrf),
                ("action", "signin"),
                ("identifier", HANDLE),
                ("password", "nope"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("Wrong handle, email or password"));
    // Approving before signing in is refused.
    let r = h
        .post_page(
            "devicecookie-aaaaaaaaaaaaaaaaaaaaaaaa",
            &[
                ("request_uri", &request_uri),
                ("client_id", &c.id),
                ("csrf", &csrf),
                ("action", "allow"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Cancel sends access_denied back with state and iss.
    let r = h
        .post_page(
            "devicecookie-aaaaaaaaaaaaaaaaaaaaaaaa",
            &[
                ("request_uri", &request_uri),
                ("client_id", &c.id),
                ("csrf", &csrf),
                ("action", "deny"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let back = query_of(&r.header("location"));
    assert_eq!(back.get("error").map(String::as_str), Some("access_denied"));
    assert_eq!(back.get("state").map(String::as_str), Some("st-pages"));
    assert_eq!(back.get("iss").map(String::as_str), Some(ISS));
    // The request is gone.
    assert_eq!(
        h.get_page(&q, Some("devicecookie-aaaaaaaaaaaaaaaaaaaaaaaa"))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // login_hint: another account cannot sign in for it.
    add_account(
        &h.state,
        "did:plc:bobbbbbbbbbbbbbbbbbbbbbb",
        "bob.test",
        "bob@example.com",
    )
    .await;
    let mut params = c.par_params("st-hint", &challenge_for("st-hint"));
    params.push(("login_hint", "alice.test".into()));
    let params = c.with_auth(params);
    let r = h
        .oauth_post(&c.dpop, "/oauth/par", &pairs_ref(&params))
        .await;
    let request_uri = r.json()["request_uri"].as_str().expect("uri").to_string();
    let q = format!(
        "/oauth/authorize?client_id={}&request_uri={}",
        enc(&c.id),
        enc(&request_uri)
    );
    let page = h
        .get_page(&q, Some("devicecookie-cccccccccccccccccccccccc"))
        .await;
    assert!(page.body.contains("value=\"alice.test\""));
    let csrf = hidden(&page.body, "csrf");
    let r = h
        .post_page(
            "devicecookie-cccccccccccccccccccccccc",
            &[
                ("request_uri", &request_uri),
                ("client_id", &c.id),
                ("csrf", &csrf),
                ("action", "signin"),
                ("identifier", "bob.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("asked to sign in as alice.test"));
}

#[tokio::test]
async fn browsers_remember_sign_ins_and_can_switch() {
    let h = harness().await;
    let c = TestClient::public(REDIRECT, GENERIC);
    let (_, cookie) = authorize(&h, &c).await;
    // Second authorization in the same browser: straight to consent.
    let r = par(&h, &c, "st-remember", &challenge_for("st-remember")).await;
    let request_uri = r.json()["request_uri"].as_str().expect("uri").to_string();
    let q = format!(
        "/oauth/authorize?client_id={}&request_uri={}",
        enc(&c.id),
        enc(&request_uri)
    );
    let page = h.get_page(&q, Some(&cookie)).await;
    assert!(page.body.contains("Allow access"), "{}", page.body);
    // "Not you?" signs the browser out and shows the sign-in form.
    let csrf = hidden(&page.body, "csrf");
    let r = h
        .post_page(
            &cookie,
            &[
                ("request_uri", &request_uri),
                ("client_id", &c.id),
                ("csrf", &csrf),
                ("action", "switch"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = h.get_page(&r.header("location"), Some(&cookie)).await;
    assert!(page.body.contains("Handle or email"), "{}", page.body);
    // And a new request in that browser asks for the password again.
    let r = par(&h, &c, "st-after", &challenge_for("st-after")).await;
    let request_uri = r.json()["request_uri"].as_str().expect("uri").to_string();
    let q = format!(
        "/oauth/authorize?client_id={}&request_uri={}",
        enc(&c.id),
        enc(&request_uri)
    );
    assert!(
        h.get_page(&q, Some(&cookie))
            .await
            .body
            .contains("Handle or email")
    );
}

#[tokio::test]
async fn admin_lists_and_revokes_authorizations() {
    let h = harness().await;
    let c = TestClient::public(REDIRECT, GENERIC);
    let t1 = sign_in(&h, &c).await;
    let _t2 = sign_in(&h, &c).await;
    let other = TestClient::public("http://127.0.0.1/other", "atproto");
    let t3 = sign_in(&h, &other).await;
    let list = list_authorizations(&h.state.db, DID).await.expect("list");
    assert_eq!(list.len(), 2, "{list:?}");
    let mine = list
        .iter()
        .find(|a| a.client_id == c.id)
        .expect("client listed");
    assert_eq!(mine.sessions.len(), 2);
    assert_eq!(mine.scope, GENERIC);
    assert!(
        list_authorizations(&h.state.db, "did:plc:nobody")
            .await
            .expect("list")
            .is_empty()
    );
    // Revoke one session by id, then a whole client by client_id.
    let one = mine.sessions[0].token_id.clone();
    assert_eq!(
        revoke_authorization(&h.state.db, DID, &one)
            .await
            .expect("revoke"),
        1
    );
    assert_eq!(
        revoke_authorization(&h.state.db, "did:plc:nobody", &c.id)
            .await
            .expect("revoke"),
        0
    );
    assert_eq!(
        revoke_authorization(&h.state.db, DID, &c.id)
            .await
            .expect("revoke"),
        1
    );
    let list = list_authorizations(&h.state.db, DID).await.expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].client_id, other.id);
    let a1 = t1["access_token"].as_str().unwrap_or_default();
    assert_eq!(
        h.xrpc(&c.dpop, "com.atproto.server.getSession", a1, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let a3 = t3["access_token"].as_str().unwrap_or_default();
    assert_eq!(
        h.xrpc(&other.dpop, "com.atproto.server.getSession", a3, None)
            .await
            .status,
        StatusCode::OK
    );
    // Deleting the account forgets every OAuth row it had.
    h.state
        .db
        .write(|tx| crate::store::accounts::delete(tx.conn(), DID))
        .await
        .expect("delete account");
    let left: i64 = h
        .state
        .db
        .read(|c| {
            c.query_row(
                "SELECT (SELECT COUNT(*) FROM oauth_token WHERE did = ?1)
                      + (SELECT COUNT(*) FROM oauth_authorization WHERE did = ?1)
                      + (SELECT COUNT(*) FROM oauth_device_account WHERE did = ?1)
                      + (SELECT COUNT(*) FROM oauth_request WHERE did = ?1)",
                [DID],
                |r| r.get(0),
            )
            .map_err(crate::store::DbError::from)
        })
        .await
        .expect("count");
    assert_eq!(left, 0);
    assert_eq!(
        h.xrpc(&other.dpop, "com.atproto.server.getSession", a3, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn get_session_shows_email_only_with_transition_email() {
    let mut h = harness().await;
    // The daemon's whole router: the real getSession, not the harness's echo.
    h.app = crate::xrpc::router(h.state.clone());
    let plain = TestClient::public(REDIRECT, GENERIC);
    let t = sign_in(&h, &plain).await;
    let access = t["access_token"].as_str().expect("access").to_string();
    let r = h
        .xrpc(&plain.dpop, "com.atproto.server.getSession", &access, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["did"], DID);
    assert!(r.json().get("email").is_none(), "{}", r.body);

    let mail = TestClient::public("http://127.0.0.1/mail", "atproto transition:email");
    let t = sign_in(&h, &mail).await;
    let access = t["access_token"].as_str().expect("access").to_string();
    let r = h
        .xrpc(&mail.dpop, "com.atproto.server.getSession", &access, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["email"], "alice@example.com", "{}", r.body);
}

// --- Client metadata documents served on loopback ---------------------------------

#[derive(Clone)]
struct MetaServer {
    base: String,
    hits: Arc<AtomicUsize>,
    doc: Arc<std::sync::Mutex<Value>>,
}

async fn meta_server() -> MetaServer {
    use axum::response::IntoResponse;
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    let hits = Arc::new(AtomicUsize::new(0));
    let doc = Arc::new(std::sync::Mutex::new(Value::Null));
    let (h1, d1) = (hits.clone(), doc.clone());
    let (h2, d2) = (hits.clone(), doc.clone());
    let app = axum::Router::new()
        .route(
            "/client.json",
            get(move || {
                let (h, d) = (h1.clone(), d1.clone());
                async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    let v = d.lock().map(|v| v.clone()).unwrap_or_default();
                    ([("cache-control", "max-age=60")], axum::Json(v)).into_response()
                }
            }),
        )
        .route(
            "/nostore.json",
            get(move || {
                let (h, d) = (h2.clone(), d2.clone());
                async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    let mut v = d.lock().map(|v| v.clone()).unwrap_or_default();
                    v["client_id"] = json!(
                        v["client_id"]
                            .as_str()
                            .unwrap_or_default()
                            .replace("client.json", "nostore.json")
                    );
                    ([("cache-control", "no-store")], axum::Json(v)).into_response()
                }
            }),
        )
        .route(
            "/redirect.json",
            get(|| async { (StatusCode::FOUND, [("location", "/client.json")]).into_response() }),
        )
        .route(
            "/big.json",
            get(|| async {
                (
                    [("content-type", "application/json")],
                    format!("{{\"x\":\"{}\"}}", "a".repeat(200_000)),
                )
                    .into_response()
            }),
        )
        .route(
            "/slow.json",
            get(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                axum::Json(json!({}))
            }),
        )
        .route(
            "/html.json",
            get(|| async { axum::response::Html("<html></html>") }),
        )
        .route("/missing.json", get(|| async { StatusCode::NOT_FOUND }));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    MetaServer { base, hits, doc }
}

fn metadata(id: &str, extra: Value) -> Value {
    let mut d = json!({
        "client_id": id,
        "client_name": "Statusphere <Test>",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": GENERIC,
        "redirect_uris": ["https://app.example.com/callback"],
        "dpop_bound_access_tokens": true,
        "application_type": "web",
    });
    if let (Some(o), Some(e)) = (d.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    d
}

#[tokio::test]
async fn client_metadata_fetch_rules() {
    let h = harness_with(true, |c| c.oauth.client_fetch_timeout_secs = 1).await;
    let m = meta_server().await;
    let id = format!("{}/client.json", m.base);
    if let Ok(mut d) = m.doc.lock() {
        *d = metadata(&id, json!({}));
    }
    let now = crate::auth::jwt::now_secs();
    let f = &h.state.oauth.clients;
    let client = f.client(&id, now).await.expect("fetched");
    assert_eq!(client.name.as_deref(), Some("Statusphere <Test>"));
    // Cached by max-age: the second use does not fetch.
    f.client(&id, now).await.expect("cached");
    assert_eq!(m.hits.load(Ordering::SeqCst), 1);
    // no-store: fetched every time.
    let nostore = format!("{}/nostore.json", m.base);
    f.client(&nostore, now).await.expect("nostore");
    f.client(&nostore, now).await.expect("nostore again");
    assert_eq!(m.hits.load(Ordering::SeqCst), 3);
    // Redirects, big bodies, slow servers, wrong types and statuses are refused.
    for (path, words) in [
        ("/redirect.json", "redirect"),
        ("/big.json", "larger than"),
        ("/slow.json", "no answer within"),
        ("/html.json", "content type"),
        ("/missing.json", "404"),
    ] {
        let e = f
            .client(&format!("{}{path}", m.base), now)
            .await
            .unwrap_err();
        assert_eq!(e.code, error::Code::InvalidClient, "{path}");
        assert!(e.description.contains(words), "{path}: {}", e.description);
    }
    // A document that names another client_id is refused.
    f.forget(&id);
    if let Ok(mut d) = m.doc.lock() {
        *d = metadata("https://other.example.com/client.json", json!({}));
    }
    let e = f.client(&id, now).await.unwrap_err();
    assert_eq!(e.code, error::Code::InvalidClientMetadata);
    // The production fetcher never reaches loopback, and refuses private addresses.
    let strict = fetch::ClientFetcher::new(&h.state.config.oauth).expect("fetcher");
    let e = strict.client(&id, now).await.unwrap_err();
    assert_eq!(e.code, error::Code::InvalidClient);
    for private in [
        "https://localhost/oauth-client-metadata.json",
        "https://10.0.0.8/client.json",
        "https://192.168.1.1/client.json",
    ] {
        let e = strict.client(private, now).await.unwrap_err();
        assert_eq!(e.code, error::Code::InvalidClient, "{private}");
    }
}

#[tokio::test]
async fn par_refuses_client_ids_at_private_addresses() {
    let h = harness_with(false, |_| {}).await;
    let k = Keypair::generate(Curve::P256);
    for (id, words) in [
        ("https://localhost/oauth-client-metadata.json", "loopback"),
        ("https://10.0.0.8/client.json", "IP address"),
        ("https://[fd00::1]/client.json", "IP address"),
        ("http://app.example.com/client.json", "https"),
    ] {
        let r = h
            .oauth_post(
                &k,
                "/oauth/par",
                &[("client_id", id), ("response_type", "code")],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.error(), "invalid_client", "{id}: {}", r.body);
        assert!(r.body.contains(words), "{id}: {}", r.body);
    }
}

#[tokio::test]
async fn confidential_clients_authenticate_with_private_key_jwt() {
    let h = harness().await;
    let m = meta_server().await;
    let id = format!("{}/client.json", m.base);
    let signer = Keypair::generate(Curve::P256);
    let mut jwk = jose::public_jwk(&signer.public());
    jwk["kid"] = json!("key-1");
    let redirect = "https://app.example.com/callback";
    if let Ok(mut d) = m.doc.lock() {
        *d = metadata(
            &id,
            json!({
                "token_endpoint_auth_method": "private_key_jwt",
                "token_endpoint_auth_signing_alg": "ES256",
                "jwks": {"keys": [jwk]},
            }),
        );
    }
    let c = TestClient {
        id: id.clone(),
        redirect: redirect.into(),
        scope: GENERIC.into(),
        dpop: Keypair::generate(Curve::P256),
        signer: Some((signer, "key-1".into())),
    };
    // Without an assertion: refused.
    let params: Vec<(&str, String)> = {
        let mut p = c.par_params("cc-1", &challenge_for("cc-1"));
        p.push(("client_id", id.clone()));
        p
    };
    let r = h
        .oauth_post(&c.dpop, "/oauth/par", &pairs_ref(&params))
        .await;
    assert_eq!(r.error(), "invalid_client", "{}", r.body);
    // An assertion signed by an unknown key, or replayed, is refused.
    let stranger = TestClient {
        signer: Some((Keypair::generate(Curve::P256), "key-1".into())),
        id: id.clone(),
        redirect: redirect.into(),
        scope: GENERIC.into(),
        dpop: Keypair::generate(Curve::P256),
    };
    let r = par(&h, &stranger, "cc-2", &challenge_for("cc-2")).await;
    assert_eq!(r.error(), "invalid_client");
    let assertion = c.assertion(ISS).expect("assertion");
    let mut p = c.par_params("cc-3", &challenge_for("cc-3"));
    p.extend([
        ("client_id", id.clone()),
        ("client_assertion_type", client_auth::JWT_BEARER.to_string()),
        ("client_assertion", assertion.clone()),
    ]);
    let r = h.oauth_post(&c.dpop, "/oauth/par", &pairs_ref(&p)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mut p = c.par_params("cc-4", &challenge_for("cc-4"));
    p.extend([
        ("client_id", id.clone()),
        ("client_assertion_type", client_auth::JWT_BEARER.to_string()),
        ("client_assertion", assertion),
    ]);
    let r = h.oauth_post(&c.dpop, "/oauth/par", &pairs_ref(&p)).await;
    assert_eq!(r.error(), "invalid_client");
    assert!(r.body.contains("already used"));

    // The whole flow; refresh tokens of confidential clients last 180 days.
    let t = sign_in(&h, &c).await;
    assert_eq!(t["sub"], DID);
    let access = t["access_token"].as_str().expect("access").to_string();
    let claims = token::verify_access(h.state.oauth.token_key(), &access, 0).expect("claims");
    let row = store::get_token(&h.state.db, claims.jti)
        .await
        .expect("db")
        .expect("row");
    let now = crate::auth::jwt::now_secs();
    assert!((row.expires_at - (now + 180 * 86_400)).abs() < 10);
    assert_eq!(row.session_expires_at, None);
    let r = refresh(
        &h,
        &c,
        &c.dpop,
        t["refresh_token"].as_str().unwrap_or_default(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let refresh_token = r.json()["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // A public-client refresh (no assertion) of a confidential session is refused.
    let public_like = TestClient {
        signer: None,
        id: id.clone(),
        redirect: redirect.into(),
        scope: GENERIC.into(),
        dpop: c.dpop.clone_for_test(),
    };
    assert_eq!(
        refresh(&h, &public_like, &c.dpop, &refresh_token)
            .await
            .error(),
        "invalid_client"
    );

    // The client rotates its key away: the session bound to the old key ends.
    let new_signer = Keypair::generate(Curve::P256);
    let mut new_jwk = jose::public_jwk(&new_signer.public());
    new_jwk["kid"] = json!("key-2");
    if let Ok(mut d) = m.doc.lock() {
        *d = metadata(
            &id,
            json!({
                "token_endpoint_auth_method": "private_key_jwt",
                "token_endpoint_auth_signing_alg": "ES256",
                "jwks": {"keys": [new_jwk]},
            }),
        );
    }
    h.state.oauth.clients.forget(&id);
    assert_eq!(
        refresh(&h, &c, &c.dpop, &refresh_token).await.error(),
        "invalid_client"
    );
    let rotated = TestClient {
        signer: Some((new_signer, "key-2".into())),
        id: id.clone(),
        redirect: redirect.into(),
        scope: GENERIC.into(),
        dpop: c.dpop.clone_for_test(),
    };
    let r = refresh(&h, &rotated, &c.dpop, &refresh_token).await;
    assert_eq!(r.error(), "invalid_grant", "{}", r.body);
    assert!(r.body.contains("same method and key"));
}

#[tokio::test]
async fn hostile_client_metadata_is_escaped_on_the_pages() {
    let h = harness().await;
    let m = meta_server().await;
    let id = format!("{}/client.json", m.base);
    if let Ok(mut d) = m.doc.lock() {
        *d = metadata(
            &id,
            json!({
                "client_name": "<script>alert('x')</script>\"><img src=x onerror=alert(1)>",
                "logo_uri": "https://app.example.com/logo.png\" onerror=\"alert(1)",
            }),
        );
    }
    let c = TestClient {
        id: id.clone(),
        redirect: "https://app.example.com/callback".into(),
        scope: GENERIC.into(),
        dpop: Keypair::generate(Curve::P256),
        signer: None,
    };
    let r = par(&h, &c, "esc", &challenge_for("esc")).await;
    let request_uri = r.json()["request_uri"].as_str().expect("uri").to_string();
    let q = format!(
        "/oauth/authorize?client_id={}&request_uri={}",
        enc(&id),
        enc(&request_uri)
    );
    let page = h.get_page(&q, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("<script>alert"));
    assert!(!page.body.contains("<img src=x"));
    assert!(!page.body.contains("\" onerror=\""));
    assert!(page.body.contains("&lt;script&gt;"));
    assert!(page.body.contains("not verified"));
}

trait CloneForTest {
    fn clone_for_test(&self) -> Keypair;
}

impl CloneForTest for Keypair {
    fn clone_for_test(&self) -> Keypair {
        Keypair::from_private_multikey(&self.to_private_multikey()).expect("same key")
    }
}
