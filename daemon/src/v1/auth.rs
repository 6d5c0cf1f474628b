//! Who is calling the device API: device tokens, account sessions, and proofs of
//! possession of a key that is not enrolled yet; plus `POST /v1/auth/nonce`.
//!
//! A device token is a compact JWS signed by the device's P-256 key:
//! - header `{"alg": "ES256", "typ": "device+jwt", "kid": <device id>}`;
//! - claims `{iss: <device id>, aud: <relay service DID or public URL>, htm: <HTTP method>,
//!   htu: <request path, or an absolute URL whose path is compared>, nonce: <from POST
//!   /v1/auth/nonce>, iat, exp (at most 5 minutes after iat), jti}`;
//! - the signature is the 64-byte low-S `r||s` of ES256 (normalise S as atproto does).
//!
//! The nonce is single-use: the relay deletes it when it accepts the token, which is the
//! replay check (a captured token is dead once used, and useless after 5 minutes anyway).
//! `htu` is compared by path only, so a token works behind a TLS-terminating proxy; the
//! query string is not bound. A proof of possession (mobile sign-up, enrolment) is the
//! same token with `iss` = the key's `did:key` and no `kid`.
//!
//! Account sessions (HS256 `at+jwt` from createSession) and device tokens are told apart
//! by the JWS header and never stand in for each other: a session on a device-only
//! endpoint is 401 `DeviceAuthRequired`, a device token on a session-only endpoint 401
//! `SessionRequired`, and XRPC refuses device tokens (ES256 is not a session algorithm).
//! App-password sessions cannot use the device API.

use super::route::{self, Auth, Milestone, Route};
use crate::auth::{AccessAuth, jwt};
use crate::context::AppState;
use crate::services::device as device_service;
use crate::store::devices::{self, DeviceRow};
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::IntoResponse;
use base64::Engine;
use pds::crypto::PublicKey;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The `typ` of device tokens.
pub const DEVICE_TYP: &str = "device+jwt";
/// Longest accepted token lifetime (`exp - iat`).
pub const MAX_LIFETIME_SECS: i64 = 300;
/// Tolerated clock difference for `iat`.
pub const CLOCK_SKEW_SECS: i64 = 60;

/// The claims of a device token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceClaims {
    pub iss: String,
    pub aud: String,
    pub htm: String,
    pub htu: String,
    pub nonce: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

fn unauthorized(name: &'static str, message: impl Into<String>) -> XrpcError {
    XrpcError::new(StatusCode::UNAUTHORIZED, name, message)
}

fn invalid_token(message: impl Into<String>) -> XrpcError {
    unauthorized("InvalidDeviceToken", message)
}

/// The token of an `Authorization: Bearer` header, if any.
fn bearer(parts: &Parts) -> Result<Option<&str>, XrpcError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| invalid_token("Authorization header is not valid text"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(Some(token.trim())),
        _ => Err(unauthorized(
            "AuthRequired",
            "Authorization must be `Bearer <token>` (a device token or an account session)",
        )),
    }
}

/// Whether a token's header says it is a device token.
fn is_device_token(token: &str) -> bool {
    let Some(head) = token.split('.').next() else {
        return false;
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(head)
        .ok()
        .and_then(|b| serde_json::from_slice::<jwt::Header>(&b).ok())
        .is_some_and(|h| h.typ.as_deref() == Some(DEVICE_TYP))
}

/// The path an `htu` claim names: itself when it starts with `/`, else the path of an
/// absolute URL. The query string is dropped.
pub fn htu_path(htu: &str) -> Option<&str> {
    let path = if htu.starts_with('/') {
        htu
    } else {
        let rest = htu.split_once("://")?.1;
        match rest.find('/') {
            Some(i) => &rest[i..],
            None => "/",
        }
    };
    Some(path.split(['?', '#']).next().unwrap_or(path))
}

fn map_jwt(e: jwt::JwtError) -> XrpcError {
    match e {
        jwt::JwtError::Algorithm(alg) => invalid_token(format!(
            "device tokens are signed with ES256 (P-256); this one says {alg}"
        )),
        jwt::JwtError::Signature => invalid_token(
            "device token signature does not verify (sign with the enrolled P-256 key, low-S r||s)",
        ),
        other => invalid_token(format!("device token: {other}")),
    }
}

/// Check the claims that bind a token to this relay, this request and this moment.
pub fn check_claims(
    state: &AppState,
    claims: &DeviceClaims,
    expected_iss: &str,
    method: &Method,
    path: &str,
) -> Result<(), XrpcError> {
    if claims.iss != expected_iss {
        return Err(invalid_token(format!(
            "iss must be {expected_iss}, not {}",
            claims.iss
        )));
    }
    if claims.aud != state.service_did && claims.aud.trim_end_matches('/') != state.public_url {
        return Err(invalid_token(format!(
            "aud must be this relay ({} or {})",
            state.service_did, state.public_url
        )));
    }
    if !claims.htm.eq_ignore_ascii_case(method.as_str()) {
        return Err(invalid_token(format!(
            "htm is {}, but the request is {method}",
            claims.htm
        )));
    }
    if htu_path(&claims.htu) != Some(path) {
        return Err(invalid_token(format!(
            "htu names {}, but the request is for {path}",
            claims.htu
        )));
    }
    let now = jwt::now_secs();
    if claims.exp <= now {
        return Err(unauthorized(
            "ExpiredDeviceToken",
            "device token has expired",
        ));
    }
    if claims.iat > now + CLOCK_SKEW_SECS {
        return Err(invalid_token("iat is in the future"));
    }
    if !lifetime_is_allowed(claims.iat, claims.exp) {
        return Err(invalid_token(format!(
            "a device token lives at most {MAX_LIFETIME_SECS} seconds (exp - iat)"
        )));
    }
    if claims.jti.is_empty() || claims.jti.len() > 128 {
        return Err(invalid_token("jti must be 1 to 128 characters"));
    }
    Ok(())
}

/// `exp - iat` within `0..=MAX_LIFETIME_SECS`, computed without overflow: both come from
/// the token, so `exp = i64::MAX` with a negative `iat` must be a refusal, not a panic.
fn lifetime_is_allowed(iat: i64, exp: i64) -> bool {
    exp.checked_sub(iat)
        .is_some_and(|d| (0..=MAX_LIFETIME_SECS).contains(&d))
}

fn bad_nonce() -> XrpcError {
    unauthorized(
        "BadNonce",
        "the nonce is unknown, used or expired; get a fresh one from POST /v1/auth/nonce",
    )
}

/// Verify a proof of possession of `key` (a key that is not enrolled yet): a device
/// token with `iss` = the key's did:key, for this request. Uses up its nonce.
pub async fn verify_key_proof(
    state: &AppState,
    token: &str,
    key: &PublicKey,
    method: &Method,
    path: &str,
) -> Result<(), XrpcError> {
    let (h, claims): (jwt::Header, DeviceClaims) =
        jwt::verify_with_key(key, token).map_err(map_jwt)?;
    if h.typ.as_deref() != Some(DEVICE_TYP) {
        return Err(invalid_token(format!("proof typ must be {DEVICE_TYP}")));
    }
    check_claims(state, &claims, &key.to_did_key(), method, path)?;
    if !device_service::consume_nonce(state, &claims.nonce, None).await? {
        return Err(bad_nonce());
    }
    Ok(())
}

/// Verify a device token for this request; returns the (active) device.
async fn verify_device_token(
    state: &AppState,
    token: &str,
    method: &Method,
    path: &str,
) -> Result<DeviceRow, XrpcError> {
    let (header, _, _, _) = jwt::split::<DeviceClaims>(token).map_err(map_jwt)?;
    let kid = header
        .kid
        .ok_or_else(|| invalid_token("a device token names its device in the kid header"))?;
    let not_enrolled = || {
        unauthorized(
            "DeviceNotEnrolled",
            format!(
                "device {kid} is not enrolled (or was removed); its key no longer authenticates"
            ),
        )
    };
    let device = device_service::find(state, &kid)
        .await?
        .ok_or_else(not_enrolled)?;
    if device.status == devices::REMOVED {
        return Err(not_enrolled());
    }
    let key = PublicKey::from_did_key(&device.public_key).map_err(XrpcError::internal)?;
    let (h, claims): (jwt::Header, DeviceClaims) =
        jwt::verify_with_key(&key, token).map_err(map_jwt)?;
    if h.typ.as_deref() != Some(DEVICE_TYP) {
        return Err(invalid_token(format!("typ must be {DEVICE_TYP}")));
    }
    check_claims(state, &claims, &device.id, method, path)?;
    if device.status == devices::PENDING {
        return Err(XrpcError::new(
            StatusCode::FORBIDDEN,
            "DevicePending",
            format!(
                "device {} waits for approval: an enrolled device must confirm its pairing code (POST /v1/devices/{}/pair)",
                device.id, device.id
            ),
        ));
    }
    let d = device.did.clone();
    let account = state
        .db
        .read(move |c| crate::store::accounts::by_did(c, &d))
        .await?
        .ok_or_else(not_enrolled)?;
    if account.takedown_ref.is_some() {
        return Err(unauthorized(
            "AccountTakedown",
            "Account has been taken down",
        ));
    }
    if !device_service::consume_nonce(state, &claims.nonce, Some(&device.id)).await? {
        return Err(bad_nonce());
    }
    Ok(device)
}

fn session(state: &AppState, token: &str) -> Result<AccessAuth, XrpcError> {
    let auth = crate::auth::verify_access(state, token).map_err(|e| {
        if e.error == "InvalidToken" || e.error == "ExpiredToken" {
            unauthorized(
                if e.error == "ExpiredToken" {
                    "ExpiredToken"
                } else {
                    "InvalidToken"
                },
                e.message,
            )
        } else {
            e
        }
    })?;
    if !auth.is_full() {
        return Err(unauthorized(
            "SessionRequired",
            "app-password sessions cannot use the device API; sign in with the account password",
        ));
    }
    Ok(auth)
}

/// An enrolled, approved device (device-only endpoints).
#[derive(Debug, Clone)]
pub struct DeviceAuth {
    pub device: DeviceRow,
}

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = XrpcError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, XrpcError> {
        let Some(token) = bearer(parts)? else {
            return Err(unauthorized(
                "DeviceAuthRequired",
                "this endpoint needs a device token (Authorization: Bearer <device+jwt>)",
            ));
        };
        if !is_device_token(token) {
            return Err(unauthorized(
                "DeviceAuthRequired",
                "this endpoint takes a device token (an ES256 device+jwt signed by an enrolled device key), not an account session",
            ));
        }
        let device = verify_device_token(state, token, &parts.method, parts.uri.path()).await?;
        Ok(DeviceAuth { device })
    }
}

/// A device or an account session.
// One per request and short-lived: boxing the device row would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Caller {
    Device(Box<DeviceRow>),
    Session(AccessAuth),
}

impl Caller {
    /// The account acted on.
    pub fn did(&self) -> &str {
        match self {
            Caller::Device(d) => &d.did,
            Caller::Session(s) => &s.did,
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = XrpcError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, XrpcError> {
        let Some(token) = bearer(parts)? else {
            return Err(unauthorized(
                "AuthRequired",
                "send a device token or an account session (Authorization: Bearer ...)",
            ));
        };
        if is_device_token(token) {
            let device = verify_device_token(state, token, &parts.method, parts.uri.path()).await?;
            Ok(Caller::Device(Box::new(device)))
        } else {
            Ok(Caller::Session(session(state, token)?))
        }
    }
}

fn session_required() -> XrpcError {
    unauthorized(
        "SessionRequired",
        "this endpoint takes an account session (createSession), not a device token",
    )
}

/// An account session, if one was sent (never a device token).
#[derive(Debug, Clone)]
pub struct OptionalSession(pub Option<AccessAuth>);

impl FromRequestParts<AppState> for OptionalSession {
    type Rejection = XrpcError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, XrpcError> {
        match bearer(parts)? {
            None => Ok(OptionalSession(None)),
            Some(t) if is_device_token(t) => Err(session_required()),
            Some(t) => Ok(OptionalSession(Some(session(state, t)?))),
        }
    }
}

async fn nonce(State(state): State<AppState>) -> Result<impl IntoResponse, XrpcError> {
    let (nonce, expires_at) = device_service::issue_nonce(&state).await?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "nonce": nonce, "expiresAt": expires_at })),
    ))
}

/// `POST /v1/auth/nonce`.
pub fn nonce_route() -> Route {
    Route {
        method: Method::POST,
        path: "/v1/auth/nonce",
        milestone: Milestone::V0_1,
        auth: Auth::None,
        summary: "Get a nonce for one device token",
        description: "Every device token (and every proof of possession of a new key) carries a nonce issued here. \
            A nonce is good for 5 minutes and for one request: the relay deletes it when it accepts the token.",
        params: vec![],
        request: None,
        responses: route::ok_json(
            "A fresh nonce.",
            json!({
                "type": "object",
                "required": ["nonce", "expiresAt"],
                "properties": {
                    "nonce": { "type": "string" },
                    "expiresAt": { "type": "string", "format": "date-time" }
                }
            }),
        ),
        errors: vec![route::err(
            503,
            "RateLimitExceeded",
            "too many nonces are outstanding",
        )],
        handler: axum::routing::post(nonce),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lifetimes_are_checked_without_overflow() {
        assert!(lifetime_is_allowed(1000, 1000 + MAX_LIFETIME_SECS));
        assert!(!lifetime_is_allowed(1000, 1001 + MAX_LIFETIME_SECS));
        assert!(!lifetime_is_allowed(1000, 999));
        assert!(!lifetime_is_allowed(-1, i64::MAX));
        assert!(!lifetime_is_allowed(i64::MIN, i64::MAX));
        assert!(!lifetime_is_allowed(i64::MAX, i64::MIN));
    }

    #[test]
    fn htu_is_compared_by_path() {
        assert_eq!(htu_path("/v1/devices"), Some("/v1/devices"));
        assert_eq!(htu_path("/v1/devices?x=1"), Some("/v1/devices"));
        assert_eq!(
            htu_path("https://pds.example.com/v1/relay/mode"),
            Some("/v1/relay/mode")
        );
        assert_eq!(htu_path("https://pds.example.com"), Some("/"));
        assert_eq!(htu_path("v1/devices"), None);
    }

    #[test]
    fn device_tokens_are_told_apart_from_sessions() {
        let k = pds::crypto::Keypair::generate(pds::crypto::Curve::P256);
        let claims = DeviceClaims {
            iss: "dev-1".into(),
            aud: "did:web:x".into(),
            htm: "GET".into(),
            htu: "/v1/relay/mode".into(),
            nonce: "n".into(),
            iat: 0,
            exp: 0,
            jti: "j".into(),
        };
        let device = jwt::sign_with_key(&k, DEVICE_TYP, &claims);
        assert!(is_device_token(&device));
        let session = jwt::sign_hs256(
            &[1u8; 32],
            "at+jwt",
            &jwt::SessionClaims {
                scope: "com.atproto.access".into(),
                sub: "did:plc:x".into(),
                aud: "did:web:x".into(),
                iat: 0,
                exp: 0,
                jti: None,
            },
        );
        assert!(!is_device_token(&session));
        assert!(!is_device_token("garbage"));
    }
}
