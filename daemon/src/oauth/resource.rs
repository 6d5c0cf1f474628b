//! The resource-server side: XRPC calls made with `Authorization: DPoP <token>` and a
//! `DPoP` proof. [`verify_dpop_access`] checks the token (MAC, expiry, live session,
//! account), the proof (signature, `htm`, `htu` at the public URL, `ath`, nonce, `jti`
//! replay), that the proof's key is the one the token is bound to, and the scope
//! against the method called. Failures are XRPC errors with the RFC 9449 / RFC 6750
//! `WWW-Authenticate: DPoP error="..."` header and a fresh `DPoP-Nonce`, so clients
//! retry with the nonce (`use_dpop_nonce`) or refresh (`invalid_token`).
//!
//! [`dpop_nonce_layer`] adds the current nonce to every answer of a DPoP-authenticated
//! request, as the profile expects. Nothing here issues tokens.

use super::{DPOP_NONCE, dpop, scope, store, token};
use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::xrpc::error::XrpcError;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

const ALGS: &str = "ES256 ES256K";

fn www_authenticate(error: &str, description: &str) -> HeaderValue {
    // Quotes and control characters cannot appear inside the quoted strings.
    let clean: String = description
        .chars()
        .filter(|c| *c != '"' && *c != '\\' && (' '..='~').contains(c))
        .collect();
    HeaderValue::from_str(&format!(
        r#"DPoP error="{error}", error_description="{clean}", algs="{ALGS}""#
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(r#"DPoP algs="ES256 ES256K""#))
}

fn fail(
    state: &AppState,
    status: StatusCode,
    error: &'static str,
    description: String,
) -> XrpcError {
    fail_with(state, status, error, description, error)
}

fn fail_with(
    state: &AppState,
    status: StatusCode,
    error: &'static str,
    description: String,
    www_error: &str,
) -> XrpcError {
    let nonce = state.oauth.nonces.current(crate::auth::jwt::now_secs());
    let mut e = XrpcError::new(status, error, description.clone()).with_header(
        header::WWW_AUTHENTICATE,
        www_authenticate(www_error, &description),
    );
    if let Ok(v) = HeaderValue::from_str(&nonce) {
        e = e.with_header(DPOP_NONCE, v);
    }
    e.with_header(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("DPoP-Nonce, WWW-Authenticate"),
    )
}

/// Authenticate an XRPC request that carries a DPoP-bound OAuth access token.
pub async fn verify_dpop_access(state: &AppState, parts: &Parts) -> Result<AccessAuth, XrpcError> {
    let now = crate::auth::jwt::now_secs();
    let unauthorized =
        |error: &'static str, d: String| fail(state, StatusCode::UNAUTHORIZED, error, d);
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            unauthorized(
                "invalid_token",
                "Authorization header is missing or not text".into(),
            )
        })?;
    let access_token = value
        .get(..5)
        .filter(|s| s.eq_ignore_ascii_case("dpop "))
        .map(|_| value[5..].trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            unauthorized(
                "invalid_token",
                "expected Authorization: DPoP <token>".into(),
            )
        })?;
    let claims = token::verify_access(state.oauth.token_key(), access_token, now).map_err(|e| {
        let d = match e {
            token::AccessTokenError::Expired => "access token has expired; refresh it".to_string(),
            other => other.to_string(),
        };
        unauthorized("invalid_token", d)
    })?;

    let proof = dpop::header(&parts.headers)
        .map_err(|e| unauthorized("invalid_dpop_proof", e.to_string()))?
        .ok_or_else(|| {
            unauthorized(
                "invalid_dpop_proof",
                "a DPoP-bound token needs a DPoP proof header".into(),
            )
        })?;
    let url = format!("{}{}", state.public_url, parts.uri.path());
    let proof = dpop::verify(
        proof,
        dpop::Expect {
            method: parts.method.as_str(),
            url: &url,
            access_token: Some(access_token),
        },
        &state.oauth.nonces,
        &state.oauth.replay,
        now,
    )
    .map_err(|e| {
        let error = if e.is_nonce_problem() {
            "use_dpop_nonce"
        } else {
            "invalid_dpop_proof"
        };
        unauthorized(error, e.to_string())
    })?;
    if proof.jkt != claims.cnf.jkt {
        return Err(unauthorized(
            "invalid_token",
            "this access token is bound to another DPoP key".into(),
        ));
    }

    let session = store::get_token(&state.db, claims.jti.clone())
        .await
        .map_err(XrpcError::from)?;
    match session {
        Some(s)
            if s.did == claims.sub
                && s.dpop_jkt == claims.cnf.jkt
                && s.session_expires_at.is_none_or(|e| e > now) => {}
        _ => {
            return Err(unauthorized(
                "invalid_token",
                "this session was revoked or has ended".into(),
            ));
        }
    }
    match store::find_account(&state.db, claims.sub.clone())
        .await
        .map_err(XrpcError::from)?
    {
        None => {
            return Err(unauthorized(
                "invalid_token",
                "the account no longer exists".into(),
            ));
        }
        Some(a) if a.takedown_ref.is_some() => {
            return Err(XrpcError::named(
                "AccountTakedown",
                "Account has been taken down",
            ));
        }
        Some(_) => {}
    }
    if let Err(missing) = scope::allows(&claims.scope, parts.uri.path()) {
        return Err(fail_with(
            state,
            StatusCode::FORBIDDEN,
            "ScopeMissingError",
            format!("this method needs the {missing} scope, which this app was not granted"),
            "insufficient_scope",
        ));
    }
    Ok(AccessAuth {
        did: claims.sub,
        scope: claims.scope,
    })
}

/// Middleware: give every answer to a DPoP-authenticated request the current nonce.
pub async fn dpop_nonce_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let dpop = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().get(..5))
        .is_some_and(|s| s.eq_ignore_ascii_case(b"dpop "));
    let mut res = next.run(req).await;
    if dpop && !res.headers().contains_key(DPOP_NONCE) {
        let nonce = state.oauth.nonces.current(crate::auth::jwt::now_secs());
        if let Ok(v) = HeaderValue::from_str(&nonce) {
            res.headers_mut().insert(DPOP_NONCE, v);
            res.headers_mut().append(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("DPoP-Nonce"),
            );
        }
    }
    res
}
