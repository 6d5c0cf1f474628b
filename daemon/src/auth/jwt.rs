//! Compact JWS tokens: HS256 session tokens (what createSession hands out, with the
//! reference PDS's `typ` values `at+jwt` and `refresh+jwt`), and ES256/ES256K tokens
//! signed by account keys (service auth).
//!
//! Only what atproto needs is implemented, so nothing else can be smuggled in: the
//! `alg` header must be exactly what the caller expects (never `none`), signatures are
//! compared in constant time, and `exp` is always enforced.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::Sha256;

/// Why a token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("malformed token")]
    Malformed,
    #[error("token uses algorithm {0}, which is not accepted here")]
    Algorithm(String),
    #[error("token type {0} is not accepted here")]
    Type(String),
    #[error("bad token signature")]
    Signature,
    #[error("token has expired")]
    Expired,
    #[error("token audience does not match")]
    Audience,
}

/// A JWS header (only the fields we read or write).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
}

/// Claims of a session (access or refresh) token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionClaims {
    pub scope: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// Seconds since the epoch.
pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

fn encode_part<T: Serialize>(v: &T) -> String {
    // Serializing our own plain structs to JSON cannot fail.
    B64.encode(serde_json::to_vec(v).unwrap_or_default())
}

/// Split a token into header, claims and signature, decoding the first two.
pub fn split<C: DeserializeOwned>(token: &str) -> Result<(Header, C, Vec<u8>, &str), JwtError> {
    let mut parts = token.splitn(3, '.');
    let (h, c, s) = match (parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(c), Some(s)) => (h, c, s),
        _ => return Err(JwtError::Malformed),
    };
    let header: Header = B64
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(JwtError::Malformed)?;
    let claims: C = B64
        .decode(c)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(JwtError::Malformed)?;
    let sig = B64.decode(s).map_err(|_| JwtError::Malformed)?;
    let signing_input = &token[..h.len() + 1 + c.len()];
    Ok((header, claims, sig, signing_input))
}

/// Sign claims with HS256 and the given `typ`.
pub fn sign_hs256<C: Serialize>(secret: &[u8], typ: &str, claims: &C) -> String {
    let header = Header {
        alg: "HS256".into(),
        typ: Some(typ.into()),
        kid: None,
    };
    let input = format!("{}.{}", encode_part(&header), encode_part(claims));
    let mut mac = hmac_for(secret);
    mac.update(input.as_bytes());
    let sig = mac.finalize().into_bytes();
    format!("{input}.{}", B64.encode(sig))
}

fn hmac_for(secret: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC accepts keys of any length")
}

/// Verify an HS256 token of one of the accepted `typ`s and return its claims.
pub fn verify_hs256(
    secret: &[u8],
    token: &str,
    accepted_typ: &[&str],
    audience: &str,
) -> Result<SessionClaims, JwtError> {
    let (header, claims, sig, input) = split::<SessionClaims>(token)?;
    if header.alg != "HS256" {
        return Err(JwtError::Algorithm(header.alg));
    }
    let typ = header.typ.unwrap_or_default();
    if !accepted_typ.contains(&typ.as_str()) {
        return Err(JwtError::Type(typ));
    }
    let mut mac = hmac_for(secret);
    mac.update(input.as_bytes());
    mac.verify_slice(&sig).map_err(|_| JwtError::Signature)?;
    if claims.exp <= now_secs() {
        return Err(JwtError::Expired);
    }
    if claims.aud != audience {
        return Err(JwtError::Audience);
    }
    Ok(claims)
}

/// Claims of an inter-service token signed by an account's key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceClaims {
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lxm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// Sign claims with an account key (ES256K or ES256 by its curve).
pub fn sign_with_key<C: Serialize>(key: &pds::crypto::Keypair, typ: &str, claims: &C) -> String {
    // Serializing our own plain structs to JSON cannot fail.
    let claims = serde_json::to_value(claims).unwrap_or_default();
    pds::crypto::jws::sign(key, &serde_json::json!({ "typ": typ }), &claims)
}

/// Verify a token signed by `key` (its curve must match `alg`) and return the claims.
pub fn verify_with_key<C: DeserializeOwned>(
    key: &pds::crypto::PublicKey,
    token: &str,
) -> Result<(Header, C), JwtError> {
    let (header, claims, sig, input) = split::<C>(token)?;
    if header.alg != key.curve().jwt_alg() {
        return Err(JwtError::Algorithm(header.alg));
    }
    key.verify(input.as_bytes(), &sig)
        .map_err(|_| JwtError::Signature)?;
    Ok((header, claims))
}

/// A random token id (128 bits, base64url).
pub fn random_id() -> String {
    let b = crate::keys::random_bytes::<16>().unwrap_or_else(|_| fallback_random());
    B64.encode(b)
}

// getrandom failing means the OS has no entropy source; ids must still be unique, so use
// the clock and a counter, which is enough for identifiers (never for keys).
fn fallback_random() -> [u8; 16] {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let mut out = [0u8; 16];
    let t = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64;
    out[..8].copy_from_slice(&t.to_le_bytes());
    out[8..].copy_from_slice(&N.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> SessionClaims {
        SessionClaims {
            scope: "com.atproto.access".into(),
            sub: "did:plc:abc".into(),
            aud: "did:web:localhost".into(),
            iat: now_secs(),
            exp,
            jti: None,
        }
    }

    #[test]
    fn hs256_round_trip_and_refusals() {
        let secret = [1u8; 32];
        let t = sign_hs256(&secret, "at+jwt", &claims(now_secs() + 60));
        let c = verify_hs256(&secret, &t, &["at+jwt"], "did:web:localhost").expect("valid");
        assert_eq!(c.sub, "did:plc:abc");
        assert_eq!(
            verify_hs256(&secret, &t, &["refresh+jwt"], "did:web:localhost").unwrap_err(),
            JwtError::Type("at+jwt".into())
        );
        assert_eq!(
            verify_hs256(&[2u8; 32], &t, &["at+jwt"], "did:web:localhost").unwrap_err(),
            JwtError::Signature
        );
        assert_eq!(
            verify_hs256(&secret, &t, &["at+jwt"], "did:web:other").unwrap_err(),
            JwtError::Audience
        );
        let old = sign_hs256(&secret, "at+jwt", &claims(now_secs() - 1));
        assert_eq!(
            verify_hs256(&secret, &old, &["at+jwt"], "did:web:localhost").unwrap_err(),
            JwtError::Expired
        );
        for bad in ["", "a.b", "not.a.jwt", "....", "a.b.c.d"] {
            assert!(verify_hs256(&secret, bad, &["at+jwt"], "x").is_err());
        }
    }

    #[test]
    fn alg_none_is_refused() {
        let h = B64.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
        let c = B64.encode(serde_json::to_vec(&claims(now_secs() + 60)).expect("json"));
        let t = format!("{h}.{c}.");
        assert_eq!(
            verify_hs256(&[1u8; 32], &t, &["at+jwt"], "did:web:localhost").unwrap_err(),
            JwtError::Algorithm("none".into())
        );
    }

    #[test]
    fn key_signed_tokens_verify_on_both_curves() {
        for curve in [pds::crypto::Curve::Secp256k1, pds::crypto::Curve::P256] {
            let k = pds::crypto::Keypair::generate(curve);
            let claims = ServiceClaims {
                iss: "did:plc:abc".into(),
                aud: "did:web:api".into(),
                exp: now_secs() + 60,
                iat: None,
                lxm: Some("app.bsky.feed.getTimeline".into()),
                jti: Some(random_id()),
            };
            let t = sign_with_key(&k, "JWT", &claims);
            let (h, c): (Header, ServiceClaims) = verify_with_key(&k.public(), &t).expect("verify");
            assert_eq!(h.alg, curve.jwt_alg());
            assert_eq!(c.iss, "did:plc:abc");
            let other = pds::crypto::Keypair::generate(curve);
            assert!(verify_with_key::<ServiceClaims>(&other.public(), &t).is_err());
        }
    }
}
