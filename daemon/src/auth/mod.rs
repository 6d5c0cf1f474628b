//! Who is calling: extractors that turn request headers into a verified caller.
//!
//! - [`AccessAuth`]: a session access token (`Bearer`, HS256 `at+jwt`), full or app-password scoped
//! - [`RefreshAuth`]: a refresh token (`refresh+jwt`), only for refreshSession/deleteSession
//! - [`AdminAuth`]: HTTP Basic `admin:<password>` for XRPC admin methods
//! - [`OptionalAccess`]: an access token when one is sent
//! - [`service_auth`]: an inter-service token signed by a DID's own key (createAccount of a
//!   DID that arrives from elsewhere)
//!
//! Failures answer as the reference PDS does: no header is 401 `AuthMissing`, a token that
//! does not verify is 400 `InvalidToken`, an expired one 400 `ExpiredToken`.

pub mod jwt;
pub mod password;
pub mod service_auth;

use crate::context::AppState;
use crate::xrpc::error::XrpcError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;

/// Session token scopes, as the reference PDS names them.
pub mod scope {
    pub const ACCESS: &str = "com.atproto.access";
    pub const REFRESH: &str = "com.atproto.refresh";
    pub const APP_PASS: &str = "com.atproto.appPass";
    pub const APP_PASS_PRIVILEGED: &str = "com.atproto.appPassPrivileged";
    pub const TAKENDOWN: &str = "com.atproto.takendown";
}

/// `typ` of access tokens.
pub const ACCESS_TYP: &str = "at+jwt";
/// `typ` of refresh tokens.
pub const REFRESH_TYP: &str = "refresh+jwt";

/// A caller holding a valid access token.
#[derive(Debug, Clone)]
pub struct AccessAuth {
    pub did: String,
    pub scope: String,
}

impl AccessAuth {
    /// Whether the token came from the account password (not an app password).
    pub fn is_full(&self) -> bool {
        self.scope == scope::ACCESS
    }
    /// Whether the token may do privileged things (full, or a privileged app password).
    pub fn is_privileged(&self) -> bool {
        self.scope == scope::ACCESS || self.scope == scope::APP_PASS_PRIVILEGED
    }
    /// Whether this is a DPoP-bound OAuth access token (its scope is an OAuth scope
    /// string such as `atproto transition:generic`, never a `com.atproto.*` session scope).
    pub fn is_oauth(&self) -> bool {
        !self.scope.starts_with("com.atproto.")
    }
    /// Whether getSession may show the account's email: full and privileged sessions, and
    /// OAuth apps granted `transition:email`.
    pub fn may_read_email(&self) -> bool {
        if self.is_oauth() {
            crate::oauth::scope::grants(&self.scope, crate::oauth::scope::EMAIL)
        } else {
            self.is_privileged()
        }
    }
    /// Who this caller is, for refusals: "app passwords" or "OAuth apps".
    pub fn limited_kind(&self) -> &'static str {
        if self.is_oauth() {
            "OAuth apps"
        } else {
            "app passwords"
        }
    }
    /// Refuse app-password sessions.
    pub fn require_full(&self) -> Result<(), XrpcError> {
        if self.is_full() {
            Ok(())
        } else {
            Err(XrpcError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "InvalidToken",
                "This method needs a session created with the account password, not an app password",
            ))
        }
    }
    /// Refuse callers acting on another account's repo.
    pub fn require_did(&self, did: &str) -> Result<(), XrpcError> {
        if self.did == did {
            Ok(())
        } else {
            Err(XrpcError::auth_required(
                "The authenticated account does not own this repo",
            ))
        }
    }
}

/// A caller holding a valid refresh token.
#[derive(Debug, Clone)]
pub struct RefreshAuth {
    pub did: String,
    pub jti: String,
}

/// An admin caller (HTTP Basic with the configured admin password).
#[derive(Debug, Clone, Copy)]
pub struct AdminAuth;

/// An access token if one was sent (for endpoints that change a little when signed in).
#[derive(Debug, Clone)]
pub struct OptionalAccess(pub Option<AccessAuth>);

/// The token of an `Authorization` header (`Bearer <t>`; a `DPoP <t>` header whole).
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Result<Option<&str>, XrpcError> {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| XrpcError::invalid_token("Authorization header is not valid text"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(Some(token.trim())),
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("dpop") => Ok(Some(value)),
        _ => Err(XrpcError::invalid_token(
            "Authorization header must be a Bearer token",
        )),
    }
}

fn map_jwt(e: jwt::JwtError) -> XrpcError {
    match e {
        jwt::JwtError::Expired => XrpcError::expired_token(),
        other => XrpcError::invalid_token(other.to_string()),
    }
}

/// Verify an access token string.
pub fn verify_access(state: &AppState, token: &str) -> Result<AccessAuth, XrpcError> {
    let claims = jwt::verify_hs256(state.jwt_secret(), token, &[ACCESS_TYP], &state.service_did)
        .map_err(map_jwt)?;
    match claims.scope.as_str() {
        scope::ACCESS | scope::APP_PASS | scope::APP_PASS_PRIVILEGED => Ok(AccessAuth {
            did: claims.sub,
            scope: claims.scope,
        }),
        scope::TAKENDOWN => Err(XrpcError::named(
            "AccountTakedown",
            "Account has been taken down",
        )),
        _ => Err(XrpcError::invalid_token("Bad token scope")),
    }
}

impl FromRequestParts<AppState> for AccessAuth {
    type Rejection = XrpcError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, XrpcError> {
        if let Some(auth) = parts.extensions.get::<AccessAuth>() {
            return Ok(auth.clone());
        }
        let token = bearer(&parts.headers)?.ok_or_else(XrpcError::auth_missing)?;
        if token
            .get(..5)
            .is_some_and(|s| s.eq_ignore_ascii_case("dpop "))
        {
            // An OAuth access token: checked once per request (its DPoP proof is single-use).
            let auth = crate::oauth::verify_dpop_access(state, parts).await?;
            parts.extensions.insert(auth.clone());
            return Ok(auth);
        }
        verify_access(state, token)
    }
}

impl FromRequestParts<AppState> for OptionalAccess {
    type Rejection = XrpcError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, XrpcError> {
        if parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .is_none()
        {
            return Ok(OptionalAccess(None));
        }
        AccessAuth::from_request_parts(parts, state)
            .await
            .map(|a| OptionalAccess(Some(a)))
    }
}

impl FromRequestParts<AppState> for RefreshAuth {
    type Rejection = XrpcError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, XrpcError> {
        let token = bearer(&parts.headers)?.ok_or_else(XrpcError::auth_missing)?;
        let claims = jwt::verify_hs256(
            state.jwt_secret(),
            token,
            &[REFRESH_TYP],
            &state.service_did,
        )
        .map_err(map_jwt)?;
        if claims.scope != scope::REFRESH {
            return Err(XrpcError::invalid_token("Bad token scope"));
        }
        let jti = claims
            .jti
            .ok_or_else(|| XrpcError::invalid_token("Refresh token has no id"))?;
        Ok(RefreshAuth {
            did: claims.sub,
            jti,
        })
    }
}

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = XrpcError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, XrpcError> {
        let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return Err(XrpcError::auth_missing());
        };
        let Some(expected) = state.config.admin.password.as_deref() else {
            return Err(XrpcError::auth_required(
                "Admin methods are disabled over HTTP (no admin password is configured); use pdsctl",
            ));
        };
        let value = value.to_str().unwrap_or_default();
        let Some(b64) = value
            .strip_prefix("Basic ")
            .or_else(|| value.strip_prefix("basic "))
        else {
            return Err(XrpcError::auth_required("Admin methods need Basic auth"));
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .unwrap_or_default();
        let text = String::from_utf8(decoded).unwrap_or_default();
        let ok = match text.split_once(':') {
            Some(("admin", pw)) => constant_time_eq(pw.as_bytes(), expected.as_bytes()),
            _ => false,
        };
        if ok {
            Ok(AdminAuth)
        } else {
            Err(XrpcError::auth_required("Bad admin credentials"))
        }
    }
}

/// Compare secrets without leaking where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
