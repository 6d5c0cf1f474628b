//! `POST /oauth/token`: authorization codes for tokens (with PKCE, the PAR DPoP key and
//! the same client authentication as at PAR), and refresh-token rotation. Also the
//! access tokens themselves: HS256 JWTs naming the session (`jti`), the account
//! (`sub`), the scope and the DPoP key thumbprint (`cnf.jkt`).
//!
//! Lifetimes: access tokens `oauth.access_token_secs`; public clients' sessions and
//! refresh tokens `oauth.public_session_days`; confidential clients' refresh tokens
//! `oauth.confidential_refresh_days` each, with no overall limit. Every refresh
//! replaces the refresh token; presenting a replaced one again revokes the session (it
//! has leaked), and so does presenting a code twice. This module does not render pages
//! or check resource access (see `resource.rs`).

use super::client_auth::{self, ClientAuth};
use super::error::{Code, OAuthError};
use super::par::AuthParams;
use super::{Form, check_dpop, finish, issuer, jose, pkce, scope, store};
use crate::context::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};

/// The `typ` of our access tokens (RFC 9068).
pub const ACCESS_TYP: &str = "at+jwt";
const DAY: i64 = 86_400;

/// `cnf` of a DPoP-bound token (RFC 9449 6.1).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Confirmation {
    pub jkt: String,
}

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub scope: String,
    pub client_id: String,
    pub cnf: Confirmation,
    /// The session id.
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

/// Why an access token string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessTokenError {
    #[error("malformed access token")]
    Malformed,
    #[error("access token signature does not verify")]
    Signature,
    #[error("access token has expired")]
    Expired,
}

/// Sign an access token.
pub fn sign_access(key: &[u8], claims: &AccessClaims) -> String {
    let header = B64.encode(format!(r#"{{"alg":"HS256","typ":"{ACCESS_TYP}"}}"#));
    let body = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
    let input = format!("{header}.{body}");
    let mac = super::hmac_sha256(key, &[input.as_bytes()]);
    format!("{input}.{}", B64.encode(mac))
}

/// Verify an access token's MAC and expiry and return its claims.
pub fn verify_access(key: &[u8], token: &str, now: i64) -> Result<AccessClaims, AccessTokenError> {
    let claims = verify_signature(key, token)?;
    if claims.exp <= now {
        return Err(AccessTokenError::Expired);
    }
    Ok(claims)
}

/// Verify only the MAC (revocation accepts expired tokens).
pub fn verify_signature(key: &[u8], token: &str) -> Result<AccessClaims, AccessTokenError> {
    if token.len() > 8192 {
        return Err(AccessTokenError::Malformed);
    }
    let (input, sig) = token.rsplit_once('.').ok_or(AccessTokenError::Malformed)?;
    let (h, c) = input.split_once('.').ok_or(AccessTokenError::Malformed)?;
    let header: serde_json::Value = B64
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(AccessTokenError::Malformed)?;
    if header.get("alg").and_then(|v| v.as_str()) != Some("HS256")
        || header.get("typ").and_then(|v| v.as_str()) != Some(ACCESS_TYP)
    {
        return Err(AccessTokenError::Malformed);
    }
    let sig = B64.decode(sig).map_err(|_| AccessTokenError::Malformed)?;
    let expected = super::hmac_sha256(key, &[input.as_bytes()]);
    if !crate::auth::constant_time_eq(&expected, &sig) {
        return Err(AccessTokenError::Signature);
    }
    B64.decode(c)
        .ok()
        .and_then(|b| serde_json::from_slice::<AccessClaims>(&b).ok())
        .ok_or(AccessTokenError::Malformed)
}

/// Hash of a code or refresh token, as stored.
pub fn token_hash(token: &str) -> String {
    jose::sha256_b64(token)
}

/// `POST /oauth/token`
pub async fn handle(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let r = exchange(&state, &headers, &body).await;
    finish(&state, r)
}

async fn exchange(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, OAuthError> {
    let now = crate::auth::jwt::now_secs();
    let form = Form::parse(headers, body)?;
    let proof = check_dpop(state, headers, "/oauth/token", now)?;
    let grant = form
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    if !matches!(grant, "authorization_code" | "refresh_token") {
        return Err(OAuthError::new(
            Code::UnsupportedGrantType,
            format!(
                "grant_type must be authorization_code or refresh_token, not {}",
                grant.chars().take(60).collect::<String>()
            ),
        ));
    }
    let client_id = form
        .get("client_id")
        .ok_or_else(|| OAuthError::invalid_request("client_id is required"))?;
    let client = state.oauth.clients.client(client_id, now).await?;
    let iss = issuer(state);
    let token_url = format!("{iss}/oauth/token");
    let auth = client_auth::authenticate(
        &state.db,
        &client,
        form.credentials(),
        &[iss, token_url.as_str()],
        now,
    )
    .await?;
    match grant {
        "authorization_code" => code_grant(state, &form, &client, auth, &proof.jkt, now).await,
        _ => refresh_grant(state, &form, &client, auth, &proof.jkt, now).await,
    }
}

async fn code_grant(
    state: &AppState,
    form: &Form,
    client: &super::client_metadata::Client,
    auth: ClientAuth,
    jkt: &str,
    now: i64,
) -> Result<Response, OAuthError> {
    let code = form
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let code_hash = token_hash(code);
    let request = match store::claim_code(&state.db, code_hash.clone(), now).await? {
        store::CodeClaim::Found(r) => r,
        store::CodeClaim::Reused => {
            return Err(OAuthError::invalid_grant(
                "this code was already used; the session it created has been revoked",
            ));
        }
        store::CodeClaim::Unknown => {
            return Err(OAuthError::invalid_grant("unknown or expired code"));
        }
    };
    if request.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "this code was issued to another client",
        ));
    }
    let started = ClientAuth::from_json(&request.client_auth);
    if !client_auth::same_binding(&started, &auth) {
        return Err(OAuthError::invalid_grant(
            "the client must authenticate as it did in the authorization request (same method and key)",
        ));
    }
    let params: AuthParams =
        serde_json::from_str(&request.parameters).map_err(OAuthError::internal)?;
    match form.get("redirect_uri") {
        Some(r) if r == params.redirect_uri => {}
        Some(_) => {
            return Err(OAuthError::invalid_grant(
                "redirect_uri differs from the authorization request's",
            ));
        }
        None => {
            return Err(OAuthError::invalid_request(
                "redirect_uri is required (the one of the authorization request)",
            ));
        }
    }
    let verifier = form
        .get("code_verifier")
        .ok_or_else(|| OAuthError::invalid_request("code_verifier is required (PKCE)"))?;
    pkce::verify(&params.code_challenge, verifier)?;
    if request.dpop_jkt != jkt {
        return Err(OAuthError::invalid_grant(
            "the DPoP key differs from the one used in the authorization request",
        ));
    }
    let did = request
        .did
        .ok_or_else(|| OAuthError::invalid_grant("this code was not approved by an account"))?;
    check_account(state, &did).await?;

    let refresh = super::random_token()?;
    let (expires_at, session_expires_at) =
        refresh_lifetime(state, client.is_confidential(), now, None);
    let row = store::TokenRow {
        id: super::random_token()?,
        did,
        client_id: client.id.clone(),
        client_auth: auth.to_json(),
        scope: params.scope,
        dpop_jkt: jkt.to_string(),
        device_id: request.device_id,
        code_hash,
        refresh_hash: client.refresh_allowed.then(|| token_hash(&refresh)),
        created_at: now,
        refreshed_at: now,
        expires_at,
        session_expires_at,
    };
    store::insert_token(&state.db, row.clone(), client.name.clone()).await?;
    Ok(token_response(
        state,
        &row,
        &row.scope,
        client.refresh_allowed.then_some(refresh),
        now,
    ))
}

async fn refresh_grant(
    state: &AppState,
    form: &Form,
    client: &super::client_metadata::Client,
    auth: ClientAuth,
    jkt: &str,
    now: i64,
) -> Result<Response, OAuthError> {
    if !client.refresh_allowed {
        return Err(OAuthError::new(
            Code::UnauthorizedClient,
            "this client's metadata does not declare the refresh_token grant",
        ));
    }
    let presented = form
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let hash = token_hash(presented);
    let row = match store::find_refresh(&state.db, hash.clone()).await? {
        store::RefreshLookup::Current(row) => row,
        store::RefreshLookup::Used(session) => {
            store::delete_token(&state.db, session).await?;
            return Err(OAuthError::invalid_grant(
                "this refresh token was already used; the session has been revoked",
            ));
        }
        store::RefreshLookup::Unknown => {
            return Err(OAuthError::invalid_grant(
                "unknown or revoked refresh token",
            ));
        }
    };
    if row.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "this refresh token was issued to another client",
        ));
    }
    if !client_auth::same_binding(&ClientAuth::from_json(&row.client_auth), &auth) {
        return Err(OAuthError::invalid_grant(
            "the client must authenticate with the same method and key as when the session started",
        ));
    }
    if row.dpop_jkt != jkt {
        return Err(OAuthError::invalid_grant(
            "this refresh token is bound to another DPoP key",
        ));
    }
    if row.expires_at <= now || row.session_expires_at.is_some_and(|s| s <= now) {
        store::delete_token(&state.db, row.id.clone()).await?;
        return Err(OAuthError::invalid_grant(
            "the session has expired; sign in again",
        ));
    }
    check_account(state, &row.did).await?;
    let scope_now = match form.get("scope") {
        None => row.scope.clone(),
        Some(asked) => {
            let asked = scope::parse(asked).map_err(|e| OAuthError::new(Code::InvalidScope, e))?;
            let granted: Vec<&str> = row.scope.split(' ').collect();
            if let Some(extra) = asked.iter().find(|s| !granted.contains(&s.as_str())) {
                return Err(OAuthError::new(
                    Code::InvalidScope,
                    format!("scope {extra} was not granted to this session"),
                ));
            }
            if !asked.iter().any(|s| s == scope::ATPROTO) {
                return Err(OAuthError::new(
                    Code::InvalidScope,
                    "scope must include atproto",
                ));
            }
            asked.join(" ")
        }
    };
    let next = super::random_token()?;
    let (expires_at, _) =
        refresh_lifetime(state, client.is_confidential(), now, row.session_expires_at);
    if !store::rotate_refresh(
        &state.db,
        row.id.clone(),
        hash,
        token_hash(&next),
        expires_at,
        now,
        row.expires_at,
    )
    .await?
    {
        return Err(OAuthError::invalid_grant(
            "this refresh token was just used by another request",
        ));
    }
    Ok(token_response(state, &row, &scope_now, Some(next), now))
}

/// Refresh token expiry and overall session limit for a new or refreshed session.
fn refresh_lifetime(
    state: &AppState,
    confidential: bool,
    now: i64,
    session_limit: Option<i64>,
) -> (i64, Option<i64>) {
    let cfg = &state.config.oauth;
    let days = |d: u64| i64::try_from(d).unwrap_or(14).saturating_mul(DAY);
    if confidential {
        (now + days(cfg.confidential_refresh_days), None)
    } else {
        let limit = session_limit.unwrap_or(now + days(cfg.public_session_days));
        (
            (now + days(cfg.public_session_days)).min(limit),
            Some(limit),
        )
    }
}

async fn check_account(state: &AppState, did: &str) -> Result<(), OAuthError> {
    match store::find_account(&state.db, did.to_string()).await? {
        None => Err(OAuthError::invalid_grant("the account no longer exists")),
        Some(a) if a.takedown_ref.is_some() => {
            Err(OAuthError::invalid_grant("the account has been taken down"))
        }
        Some(a) if a.deactivated_at.is_some() => {
            Err(OAuthError::invalid_grant("the account is deactivated"))
        }
        Some(_) => Ok(()),
    }
}

fn token_response(
    state: &AppState,
    row: &store::TokenRow,
    scope_now: &str,
    refresh: Option<String>,
    now: i64,
) -> Response {
    let lifetime = i64::try_from(state.config.oauth.access_token_secs).unwrap_or(600);
    let claims = AccessClaims {
        iss: issuer(state).to_string(),
        aud: state.service_did.clone(),
        sub: row.did.clone(),
        scope: scope_now.to_string(),
        client_id: row.client_id.clone(),
        cnf: Confirmation {
            jkt: row.dpop_jkt.clone(),
        },
        jti: row.id.clone(),
        iat: now,
        exp: now + lifetime,
    };
    let mut body = serde_json::json!({
        "access_token": sign_access(state.oauth.token_key(), &claims),
        "token_type": "DPoP",
        "expires_in": lifetime,
        "scope": scope_now,
        "sub": row.did,
    });
    if let Some(r) = refresh {
        body["refresh_token"] = serde_json::Value::String(r);
    }
    Json(body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> AccessClaims {
        AccessClaims {
            iss: "https://pds.example.com".into(),
            aud: "did:web:pds.example.com".into(),
            sub: "did:plc:abc".into(),
            scope: "atproto".into(),
            client_id: "https://app.example.com/c.json".into(),
            cnf: Confirmation { jkt: "j".into() },
            jti: "s1".into(),
            iat: 0,
            exp,
        }
    }

    #[test]
    fn access_tokens_verify_and_expire() {
        let key = [3u8; 32];
        let t = sign_access(&key, &claims(100));
        assert_eq!(verify_access(&key, &t, 50).expect("valid").jti, "s1");
        assert_eq!(
            verify_access(&key, &t, 100).unwrap_err(),
            AccessTokenError::Expired
        );
        assert_eq!(
            verify_access(&[4u8; 32], &t, 50).unwrap_err(),
            AccessTokenError::Signature
        );
        // A session token (same typ, other key) or any junk does not pass.
        let session = crate::auth::jwt::sign_hs256(&[5u8; 32], ACCESS_TYP, &claims(100));
        assert!(verify_access(&key, &session, 50).is_err());
        for junk in ["", "a.b", "a.b.c", "....", "x.y.z.w"] {
            assert!(verify_access(&key, junk, 50).is_err());
        }
        let none = format!(
            "{}.{}.",
            B64.encode(r#"{"alg":"none","typ":"at+jwt"}"#),
            B64.encode("{}")
        );
        assert_eq!(
            verify_access(&key, &none, 50).unwrap_err(),
            AccessTokenError::Malformed
        );
    }
}
