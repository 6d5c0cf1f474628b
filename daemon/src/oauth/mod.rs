//! pdsd as an AT Protocol OAuth authorization server (and the resource-server side of
//! DPoP-bound tokens on the XRPC API), following atproto.com/specs/oauth: RFC 9126 PAR
//! only, RFC 7636 PKCE with S256 only, RFC 9449 DPoP with server nonces on every token
//! and resource request, client ID metadata documents, RFC 7523 `private_key_jwt` for
//! confidential clients, RFC 7009 revocation.
//!
//! - [`metadata`]: the two `.well-known` documents
//! - [`par`]: `POST /oauth/par`, the only way to start an authorization
//! - [`authorize`]: `/oauth/authorize`, the sign-in and consent pages ([`pages`] renders them)
//! - [`token`]: `POST /oauth/token` (code exchange, refresh rotation) and access tokens
//! - [`revoke`]: `POST /oauth/revoke`
//! - [`resource`]: [`verify_dpop_access`], used by the XRPC auth extractor
//! - [`admin`]: what `pdsctl oauth list|revoke` calls
//! - [`dpop`], [`pkce`], [`scope`], [`jose`]: the protocol pieces
//! - [`client_metadata`], [`fetch`], [`client_auth`]: who the client is and how it proves it
//! - [`store`]: every query of the `oauth_*` tables
//!
//! Access tokens are HS256 JWTs (`typ: at+jwt`) under a key derived from a 32-byte
//! secret sealed with the KEK (`server_secret` row `oauth-secret`). A MAC is enough
//! because only this server ever verifies them (it is both the authorization and the
//! resource server), it is faster than a signature on every XRPC call, and the secret is
//! separate from the session-token secret, so neither kind of token can pass for the
//! other. Every access token also names its session, which is looked up on each use,
//! so revocation takes effect at once. Refresh tokens and codes are random and stored
//! only as hashes. OAuth endpoints answer OAuth errors (`error.rs`); XRPC calls answer
//! XRPC errors with the `WWW-Authenticate` the DPoP RFC asks for.

// Called by the admin socket (`pdsctl oauth list|revoke`), which is wired on the admin
// branch; until then only the tests use it.
#[cfg_attr(not(test), allow(dead_code, unused_imports))]
pub mod admin;
pub mod authorize;
pub mod client_auth;
pub mod client_metadata;
pub mod dpop;
pub mod error;
pub mod fetch;
pub mod jose;
pub mod metadata;
pub mod pages;
pub mod par;
pub mod pkce;
pub mod resource;
pub mod revoke;
pub mod scope;
pub mod store;
pub mod token;

#[cfg(test)]
mod tests;

#[cfg_attr(not(test), allow(unused_imports))]
pub use admin::{list_authorizations, revoke_authorization};
pub use resource::{dpop_nonce_layer, verify_dpop_access};

use crate::config::OAuthConfig;
use crate::context::AppState;
use axum::Router;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::routing::{get, post};
use error::OAuthError;
use zeroize::Zeroizing;

/// The `DPoP-Nonce` response header.
pub const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// Largest form body accepted by the OAuth endpoints.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// OAuth state kept for the life of the process (see the module doc for the secrets).
pub struct OAuthState {
    token_key: Zeroizing<Vec<u8>>,
    page_key: Zeroizing<Vec<u8>>,
    pub nonces: dpop::NonceSource,
    pub replay: dpop::ReplayCache,
    pub clients: fetch::ClientFetcher,
}

impl std::fmt::Debug for OAuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthState")
            .field("nonces", &self.nonces)
            .field("clients", &self.clients)
            .finish_non_exhaustive()
    }
}

impl OAuthState {
    /// Set up from the configuration and the sealed `oauth-secret`.
    pub fn new(cfg: &OAuthConfig, secret: &[u8]) -> Result<Self, String> {
        let nonce_secret =
            crate::keys::random_bytes::<32>().map_err(|e| format!("DPoP nonce secret: {e}"))?;
        Ok(OAuthState {
            token_key: derive(secret, b"pdsd oauth access token v1"),
            page_key: derive(secret, b"pdsd oauth authorization page v1"),
            nonces: dpop::NonceSource::new(nonce_secret, cfg.dpop_nonce_rotation_secs),
            replay: dpop::ReplayCache::default(),
            clients: fetch::ClientFetcher::new(cfg)?,
        })
    }

    /// The key of access tokens.
    pub(crate) fn token_key(&self) -> &[u8] {
        &self.token_key
    }

    /// The key of the authorization page's anti-forgery tokens.
    pub(crate) fn page_key(&self) -> &[u8] {
        &self.page_key
    }
}

/// HMAC-SHA256(secret, label): independent keys from one stored secret.
pub(crate) fn derive(secret: &[u8], label: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(hmac_sha256(secret, &[label]).to_vec())
}

/// HMAC-SHA256 over the concatenation of `parts`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use hmac::{KeyInit, Mac};
    let Ok(mut mac) = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key) else {
        // HMAC accepts keys of any length.
        return [0u8; 32];
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// The issuer: this server's public origin.
pub fn issuer(state: &AppState) -> &str {
    &state.public_url
}

/// A random token (256 bits, base64url).
pub(crate) fn random_token() -> Result<String, OAuthError> {
    use base64::Engine;
    let b = crate::keys::random_bytes::<32>().map_err(OAuthError::internal)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

/// Every OAuth route: the metadata, PAR, token and revocation endpoints (with CORS, as
/// the profile requires for browser apps) and the authorization page.
pub fn router() -> Router<AppState> {
    let cors = tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static("dpop"),
        ])
        .expose_headers([DPOP_NONCE, header::WWW_AUTHENTICATE])
        .max_age(std::time::Duration::from_secs(86_400));
    let api = Router::new()
        .route(
            "/.well-known/oauth-authorization-server",
            get(metadata::authorization_server),
        )
        .route(
            "/.well-known/oauth-protected-resource",
            get(metadata::protected_resource),
        )
        .route("/oauth/par", post(par::handle))
        .route("/oauth/token", post(token::handle))
        .route("/oauth/revoke", post(revoke::handle))
        .layer(cors);
    let pages = Router::new().route(
        "/oauth/authorize",
        get(authorize::page).post(authorize::submit),
    );
    api.merge(pages)
}

/// A form body (`application/x-www-form-urlencoded`) where no parameter repeats.
#[derive(Debug, Default)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Parse an OAuth endpoint's body.
    pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Form, OAuthError> {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mime = ct.split(';').next().unwrap_or("").trim();
        if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(OAuthError::invalid_request(
                "send the parameters as application/x-www-form-urlencoded",
            ));
        }
        Self::parse_body(body)
    }

    /// Parse form-encoded bytes.
    pub fn parse_body(body: &[u8]) -> Result<Form, OAuthError> {
        if body.len() > MAX_FORM_BYTES {
            return Err(OAuthError::invalid_request("request body is too large"));
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (k, v) in url::form_urlencoded::parse(body) {
            if pairs.iter().any(|(seen, _)| *seen == k) {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {} is repeated",
                    k.chars().take(40).collect::<String>()
                )));
            }
            pairs.push((k.into_owned(), v.into_owned()));
        }
        Ok(Form { pairs })
    }

    /// A parameter; empty values count as absent (RFC 6749 3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The client-authentication fields.
    pub fn credentials(&self) -> client_auth::Credentials<'_> {
        client_auth::Credentials {
            client_assertion_type: self.get("client_assertion_type"),
            client_assertion: self.get("client_assertion"),
            client_secret: self.get("client_secret"),
        }
    }
}

/// Check the DPoP proof of a request to an authorization-server endpoint (`path`).
pub(crate) fn check_dpop(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
    now: i64,
) -> Result<dpop::Proof, OAuthError> {
    let fail = |e: dpop::DpopError| {
        let code = if e.is_nonce_problem() {
            error::Code::UseDpopNonce
        } else if e == dpop::DpopError::Busy {
            error::Code::TemporarilyUnavailable
        } else {
            error::Code::InvalidDpopProof
        };
        OAuthError::new(code, e.to_string())
    };
    let proof = dpop::header(headers)
        .map_err(fail)?
        .ok_or_else(|| fail(dpop::DpopError::Missing))?;
    let url = format!("{}{path}", issuer(state));
    dpop::verify(
        proof,
        dpop::Expect {
            method: "POST",
            url: &url,
            access_token: None,
        },
        &state.oauth.nonces,
        &state.oauth.replay,
        now,
    )
    .map_err(fail)
}

/// Add the current DPoP nonce (and no-store) to an authorization-server answer.
pub(crate) fn finish(
    state: &AppState,
    result: Result<axum::response::Response, OAuthError>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let nonce = state.oauth.nonces.current(crate::auth::jwt::now_secs());
    match result {
        Ok(mut res) => {
            if let Ok(v) = HeaderValue::from_str(&nonce) {
                res.headers_mut().insert(DPOP_NONCE, v);
            }
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => e.with_nonce(nonce).into_response(),
    }
}
