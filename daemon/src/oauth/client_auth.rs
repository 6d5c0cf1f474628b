//! Client authentication at PAR, token and revocation requests: public clients send
//! only `client_id`; confidential clients add an RFC 7523 JWT assertion
//! (`private_key_jwt`) signed with a key from their published JWKS.
//!
//! The result, [`ClientAuth`], is stored with the request and the session: the profile
//! binds a confidential session to the key (`kid`, `alg` and thumbprint) used at its
//! start, so a later request signed with another key, or a key the client has since
//! removed from its metadata, is refused. Assertion ids (`jti`) are single-use, kept in
//! the database until the assertion expires. Client secrets do not exist in atproto.

use super::client_metadata::{AuthMethod, Client};
use super::error::{Code, OAuthError};
use super::jose::{self, Jws};
use super::store;
use serde::{Deserialize, Serialize};

/// The RFC 7523 assertion type.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Longest accepted lifetime of an assertion (exp - iat), in seconds.
const MAX_ASSERTION_LIFETIME: i64 = 3600;
/// Oldest accepted assertion (by iat), in seconds: the profile asks to accept a minute.
const MAX_ASSERTION_AGE: i64 = 300;
/// Clock skew allowed for iat in the future, in seconds.
const SKEW: i64 = 60;

/// How a client authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum ClientAuth {
    None,
    PrivateKeyJwt {
        alg: String,
        kid: Option<String>,
        jkt: String,
    },
}

impl ClientAuth {
    /// Stored form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"method":"none"}"#.into())
    }
    /// Read the stored form; anything unreadable counts as no authentication.
    pub fn from_json(s: &str) -> ClientAuth {
        serde_json::from_str(s).unwrap_or(ClientAuth::None)
    }
}

/// The client-authentication fields of a form.
#[derive(Debug, Default, Clone, Copy)]
pub struct Credentials<'a> {
    pub client_assertion_type: Option<&'a str>,
    pub client_assertion: Option<&'a str>,
    pub client_secret: Option<&'a str>,
}

/// Authenticate `client` with the request's credentials. `audiences` are the values
/// accepted in the assertion's `aud` (the issuer, and the endpoint's URL).
pub async fn authenticate(
    db: &crate::store::Db,
    client: &Client,
    creds: Credentials<'_>,
    audiences: &[&str],
    now: i64,
) -> Result<ClientAuth, OAuthError> {
    if creds.client_secret.is_some() {
        return Err(OAuthError::invalid_client(
            "client secrets are not used in atproto OAuth (use private_key_jwt or no authentication)",
        ));
    }
    let (alg, keys) = match &client.auth {
        AuthMethod::None => {
            if creds.client_assertion.is_some() || creds.client_assertion_type.is_some() {
                return Err(OAuthError::invalid_client(
                    "this client's metadata declares token_endpoint_auth_method none, so it must not send a client_assertion",
                ));
            }
            return Ok(ClientAuth::None);
        }
        AuthMethod::PrivateKeyJwt { alg, keys } => (alg, keys),
    };
    match creds.client_assertion_type {
        Some(JWT_BEARER) => {}
        Some(other) => {
            return Err(OAuthError::invalid_client(format!(
                "client_assertion_type must be {JWT_BEARER}, not {}",
                other.chars().take(80).collect::<String>()
            )));
        }
        None => {
            return Err(OAuthError::invalid_client(
                "this is a confidential client (private_key_jwt): send client_assertion_type and client_assertion",
            ));
        }
    }
    let assertion = creds
        .client_assertion
        .ok_or_else(|| OAuthError::invalid_client("client_assertion is required"))?;
    let bad = |m: String| OAuthError::invalid_client(format!("client_assertion: {m}"));
    let jws = Jws::parse(assertion).map_err(|e| bad(e.to_string()))?;
    let (jws_alg, _) = jws.alg().map_err(|e| bad(e.to_string()))?;
    if &jws_alg != alg {
        return Err(bad(format!(
            "signed with {jws_alg}, but the client's metadata declares {alg}"
        )));
    }
    let kid = jws.header_str("kid").map(str::to_string);
    let candidates: Vec<_> = keys
        .iter()
        .filter(|k| kid.is_none() || k.kid == kid)
        .collect();
    if candidates.is_empty() {
        return Err(bad(format!(
            "no key with kid {} in the client's published JWKS",
            kid.as_deref().unwrap_or("(none)")
        )));
    }
    let key = candidates
        .iter()
        .find(|k| jws.verify(&k.key).is_ok())
        .ok_or_else(|| bad("signature does not verify with the client's published keys".into()))?;

    let id = client.id.as_str();
    if jws.claim_str("iss") != Some(id) || jws.claim_str("sub") != Some(id) {
        return Err(bad("iss and sub must both be the client_id".into()));
    }
    let aud_ok = match jws.claims.get("aud") {
        Some(serde_json::Value::String(a)) => audiences.contains(&a.as_str()),
        Some(serde_json::Value::Array(list)) => list
            .iter()
            .filter_map(|v| v.as_str())
            .any(|a| audiences.contains(&a)),
        _ => false,
    };
    if !aud_ok {
        return Err(bad(format!(
            "aud must be this server's issuer ({})",
            audiences.first().copied().unwrap_or_default()
        )));
    }
    let exp = jws
        .claim_secs("exp")
        .ok_or_else(|| bad("exp is required".into()))?;
    let iat = jws
        .claim_secs("iat")
        .ok_or_else(|| bad("iat is required".into()))?;
    if exp <= now {
        return Err(bad("has expired".into()));
    }
    if iat > now + SKEW {
        return Err(bad("iat is in the future".into()));
    }
    if iat < now - MAX_ASSERTION_AGE {
        return Err(bad("is too old (iat more than 5 minutes ago)".into()));
    }
    if exp - iat > MAX_ASSERTION_LIFETIME {
        return Err(bad("lifetime (exp - iat) must be at most an hour".into()));
    }
    let jti = jws
        .claim_str("jti")
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or_else(|| bad("jti is required (1 to 256 characters)".into()))?;
    let once_key = format!(
        "assertion:{}:{}",
        jose::sha256_b64(id),
        jose::sha256_b64(jti)
    );
    if !store::use_once(db, once_key, exp + SKEW).await? {
        return Err(OAuthError::new(
            Code::InvalidClient,
            "client_assertion was already used (jti replay)",
        ));
    }
    Ok(ClientAuth::PrivateKeyJwt {
        alg: jws_alg,
        kid: key.kid.clone(),
        jkt: jose::thumbprint(&key.key),
    })
}

/// Whether a later request authenticated the way the session started (the profile's
/// key binding for confidential clients).
pub fn same_binding(started: &ClientAuth, now: &ClientAuth) -> bool {
    started == now
}
