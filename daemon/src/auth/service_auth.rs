//! Inter-service tokens presented *to* this server: a short-lived JWT signed by a DID's
//! own key, naming this server (`aud`) and the one method it may call (`lxm`).
//!
//! createAccount uses it when an existing DID arrives from elsewhere (account migration):
//! the caller proves control of the DID with its `#atproto` signing key, as every atproto
//! PDS accepts, or — when the old host is gone and that key went with it — with one of
//! the DID's rotation keys, which can change the whole identity anyway.
//!
//! This module checks a token against the keys it is handed; finding the DID's current
//! keys (its latest PLC operation) is the caller's. The failures carry the names that
//! the reference implementation's service-auth verifier uses, with status 401.

use crate::xrpc::error::XrpcError;
use axum::http::StatusCode;
use pds::crypto::PublicKey;
use pds::crypto::jws;
use serde_json::Value;

/// The longest lifetime accepted (getServiceAuth hands out at most an hour).
const MAX_LIFETIME_SECS: i64 = 3600;

/// Session and device token types, which must never pass as service auth.
const REFUSED_TYPES: [&str; 4] = ["at+jwt", "refresh+jwt", "dpop+jwt", "device+jwt"];

/// The keys that may sign for a DID.
#[derive(Debug, Clone, Default)]
pub struct DidKeys {
    /// The `#atproto` signing key.
    pub signing: Option<PublicKey>,
    /// The rotation keys, in order.
    pub rotation: Vec<PublicKey>,
}

/// Which of the DID's keys signed the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prover {
    SigningKey(PublicKey),
    RotationKey(PublicKey),
}

fn refused(name: &'static str, message: impl Into<String>) -> XrpcError {
    XrpcError::new(StatusCode::UNAUTHORIZED, name, message)
}

/// Check `token`: issued by `did`, for `audience` (this server's DID), for the method
/// `lxm`, current, and signed by one of `keys`.
pub fn verify(
    token: &str,
    audience: &str,
    did: &str,
    lxm: &str,
    keys: &DidKeys,
) -> Result<Prover, XrpcError> {
    let parts =
        jws::split(token).ok_or_else(|| refused("BadJwt", "the service token is not a JWT"))?;
    let typ = parts.header.get("typ").and_then(Value::as_str);
    if typ.is_some_and(|t| REFUSED_TYPES.contains(&t)) {
        return Err(refused(
            "BadJwtType",
            "a session or device token cannot be used as service auth",
        ));
    }
    let claim = |name: &str| parts.claims.get(name).and_then(Value::as_str);
    let iss = claim("iss").unwrap_or("");
    if iss != did && iss != format!("{did}#atproto") {
        return Err(refused(
            "BadJwtIssuer",
            format!("the service token is issued by {iss:?}, not by {did}"),
        ));
    }
    if claim("aud") != Some(audience) {
        return Err(refused(
            "BadJwtAudience",
            format!("the service token is not for this server ({audience})"),
        ));
    }
    if claim("lxm") != Some(lxm) {
        return Err(refused(
            "BadJwtLexiconMethod",
            format!("the service token is not for {lxm}"),
        ));
    }
    let now = crate::auth::jwt::now_secs();
    let exp = parts.claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp <= now {
        return Err(refused("JwtExpired", "the service token has expired"));
    }
    if exp > now + MAX_LIFETIME_SECS {
        return Err(refused(
            "BadJwt",
            "the service token lives longer than an hour",
        ));
    }
    if let Some(k) = &keys.signing
        && parts.verify(k).is_ok()
    {
        return Ok(Prover::SigningKey(k.clone()));
    }
    for k in &keys.rotation {
        if parts.verify(k).is_ok() {
            return Ok(Prover::RotationKey(k.clone()));
        }
    }
    Err(refused(
        "BadJwtSignature",
        format!("the service token is not signed by the signing key or a rotation key of {did}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pds::crypto::{Curve, Keypair};
    use serde_json::json;

    const DID: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
    const AUD: &str = "did:web:pds.example";
    const LXM: &str = "com.atproto.server.createAccount";

    fn token(key: &Keypair, claims: Value, typ: &str) -> String {
        jws::sign(key, &json!({ "typ": typ }), &claims)
    }

    fn claims(exp_in: i64) -> Value {
        json!({"iss": DID, "aud": AUD, "lxm": LXM, "exp": crate::auth::jwt::now_secs() + exp_in})
    }

    fn name(r: Result<Prover, XrpcError>) -> String {
        match r {
            Ok(p) => format!("ok {p:?}"),
            Err(e) => e.error.to_string(),
        }
    }

    #[test]
    fn the_signing_key_or_a_rotation_key_proves_control() {
        let signing = Keypair::generate(Curve::Secp256k1);
        let rotation = Keypair::generate(Curve::P256);
        let keys = DidKeys {
            signing: Some(signing.public()),
            rotation: vec![rotation.public()],
        };
        let by_signing = token(&signing, claims(60), "JWT");
        assert_eq!(
            verify(&by_signing, AUD, DID, LXM, &keys).ok(),
            Some(Prover::SigningKey(signing.public()))
        );
        let by_rotation = token(&rotation, claims(60), "JWT");
        assert_eq!(
            verify(&by_rotation, AUD, DID, LXM, &keys).ok(),
            Some(Prover::RotationKey(rotation.public()))
        );
    }

    #[test]
    fn every_claim_is_checked() {
        let key = Keypair::generate(Curve::Secp256k1);
        let keys = DidKeys {
            signing: Some(key.public()),
            rotation: vec![],
        };
        let stranger = Keypair::generate(Curve::Secp256k1);
        let mut other_iss = claims(60);
        other_iss["iss"] = json!("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa");
        let mut other_aud = claims(60);
        other_aud["aud"] = json!("did:web:elsewhere.example");
        let mut other_lxm = claims(60);
        other_lxm["lxm"] = json!("com.atproto.repo.createRecord");
        let mut no_lxm = claims(60);
        no_lxm.as_object_mut().map(|m| m.remove("lxm"));
        let cases = [
            (token(&stranger, claims(60), "JWT"), "BadJwtSignature"),
            (token(&key, other_iss, "JWT"), "BadJwtIssuer"),
            (token(&key, other_aud, "JWT"), "BadJwtAudience"),
            (token(&key, other_lxm, "JWT"), "BadJwtLexiconMethod"),
            (token(&key, no_lxm, "JWT"), "BadJwtLexiconMethod"),
            (token(&key, claims(-5), "JWT"), "JwtExpired"),
            (token(&key, claims(7200), "JWT"), "BadJwt"),
            (token(&key, claims(60), "at+jwt"), "BadJwtType"),
            ("not.a.jwt".to_string(), "BadJwt"),
        ];
        for (t, want) in cases {
            assert_eq!(name(verify(&t, AUD, DID, LXM, &keys)), want);
        }
    }
}
