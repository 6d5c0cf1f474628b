//! Compact JWS (the `header.claims.signature` form of a JWT) signed by one of our key
//! pairs: ES256 for P-256, ES256K for secp256k1, the signature as the 64-byte low-S
//! `r||s` that atproto uses everywhere. Service-auth tokens, device tokens and proofs of
//! possession are all built here, so there is one encoding of the signing input.
//!
//! It only signs and splits; which claims a token must carry, and whom it may be
//! presented to, is the caller's business.

use super::{CryptoError, Keypair, PublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// Sign `claims` under `header` (whose `alg` is set here from the key's curve).
pub fn sign(key: &Keypair, header: &Value, claims: &Value) -> String {
    let mut header = header.clone();
    if let Some(h) = header.as_object_mut() {
        h.insert("alg".into(), Value::String(key.curve().jwt_alg().into()));
    }
    // A `Value` always serialises.
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap_or_default());
    let input = format!("{}.{}", part(&header), part(claims));
    let sig = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// A token taken apart, not yet verified.
#[derive(Debug, Clone)]
pub struct Parts<'a> {
    pub header: Value,
    pub claims: Value,
    pub signature: Vec<u8>,
    /// `header.claims` as sent: what the signature covers.
    pub signing_input: &'a str,
}

impl Parts<'_> {
    /// Check the signature with `key`, whose curve must be the one `alg` names.
    pub fn verify(&self, key: &PublicKey) -> Result<(), CryptoError> {
        let alg = self.header.get("alg").and_then(Value::as_str).unwrap_or("");
        if super::Curve::from_jwt_alg(alg)? != key.curve() {
            return Err(CryptoError::BadSignature);
        }
        key.verify(self.signing_input.as_bytes(), &self.signature)
    }
}

/// Split a compact JWS into its decoded parts; `None` when it is not one.
pub fn split(token: &str) -> Option<Parts<'_>> {
    let mut it = token.split('.');
    let (h, c, s) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    let json = |p: &str| -> Option<Value> {
        let v: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()?;
        v.is_object().then_some(v)
    };
    Some(Parts {
        header: json(h)?,
        claims: json(c)?,
        signature: URL_SAFE_NO_PAD.decode(s).ok()?,
        signing_input: token.get(..h.len() + 1 + c.len())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Curve;
    use serde_json::json;

    #[test]
    fn a_signed_token_splits_and_verifies_with_its_key_only() {
        for curve in [Curve::P256, Curve::Secp256k1] {
            let key = Keypair::generate(curve);
            let other = Keypair::generate(curve);
            let t = sign(&key, &json!({"typ": "JWT"}), &json!({"iss": "did:plc:x"}));
            let p = split(&t).expect("splits");
            assert_eq!(p.header["alg"], curve.jwt_alg());
            assert_eq!(p.claims["iss"], "did:plc:x");
            assert!(p.verify(&key.public()).is_ok());
            assert!(p.verify(&other.public()).is_err());
            // The other curve's key is refused by `alg`, before any arithmetic.
            let cross = Keypair::generate(match curve {
                Curve::P256 => Curve::Secp256k1,
                Curve::Secp256k1 => Curve::P256,
            });
            assert!(p.verify(&cross.public()).is_err());
            // A changed claim breaks the signature.
            let mut forged = t.split('.').map(str::to_string).collect::<Vec<_>>();
            forged[1] = URL_SAFE_NO_PAD.encode(br#"{"iss":"did:plc:y"}"#);
            let forged = forged.join(".");
            assert!(
                split(&forged)
                    .expect("splits")
                    .verify(&key.public())
                    .is_err()
            );
        }
    }

    #[test]
    fn malformed_tokens_do_not_split() {
        for t in [
            "",
            "a.b",
            "a.b.c.d",
            "e30.e30.!!",
            "W10.e30.AA",
            "e30.bm90anNvbg.AA",
        ] {
            assert!(split(t).is_none(), "{t}");
        }
    }
}
