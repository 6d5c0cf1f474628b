//! JOSE for OAuth: compact JWS parsing, the public JWKs found in DPoP proofs and in
//! confidential clients' key sets, their RFC 7638 thumbprints, and ES256 / ES256K
//! signature checks.
//!
//! Only P-256 (`ES256`) and secp256k1 (`ES256K`) exist here. EdDSA (Ed25519), RSA,
//! HMAC and `none` are refused by name, with an error that says which algorithms are
//! accepted. Unlike atproto's own signatures, JOSE does not require low-S signatures
//! (WebCrypto produces both halves), so a high-S signature is normalized before it is
//! checked rather than refused. This module decides nothing about what a token means:
//! callers check its claims.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use pds::crypto::{Curve, PublicKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The signature algorithms accepted on DPoP proofs and client assertions, in order of preference.
pub const SUPPORTED_ALGS: &[&str] = &["ES256", "ES256K"];

/// Longest compact JWS accepted (DPoP proofs and client assertions are well under 2 KiB).
const MAX_JWS_LEN: usize = 8 * 1024;

/// Why a JWS or a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    #[error("malformed JWT: {0}")]
    Malformed(String),
    #[error(
        "algorithm {0} is not accepted: EdDSA (Ed25519) keys are not supported here; use ES256 (P-256) or ES256K (secp256k1)"
    )]
    EdDsa(String),
    #[error("algorithm {0} is not accepted: only ES256 (P-256) and ES256K (secp256k1) are")]
    Algorithm(String),
    #[error("unsupported key: {0}")]
    Key(String),
    #[error("key is on {key} but the JWT says {alg}")]
    AlgorithmMismatch { key: &'static str, alg: String },
    #[error("bad signature")]
    Signature,
}

/// A compact JWS split into its parts, header and claims decoded as JSON objects.
#[derive(Debug, Clone)]
pub struct Jws {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    signature: Vec<u8>,
    signing_input: String,
}

impl Jws {
    /// Split and decode a compact JWS. Nothing is verified yet.
    pub fn parse(token: &str) -> Result<Jws, JoseError> {
        if token.len() > MAX_JWS_LEN {
            return Err(JoseError::Malformed(format!(
                "longer than {MAX_JWS_LEN} bytes"
            )));
        }
        let mut parts = token.split('.');
        let (h, c, s) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(h), Some(c), Some(s), None) => (h, c, s),
            _ => {
                return Err(JoseError::Malformed(
                    "expected three base64url parts separated by dots".into(),
                ));
            }
        };
        let object = |part: &str, what: &str| -> Result<Map<String, Value>, JoseError> {
            let bytes = B64
                .decode(part)
                .map_err(|_| JoseError::Malformed(format!("{what} is not base64url")))?;
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(m)) => Ok(m),
                _ => Err(JoseError::Malformed(format!("{what} is not a JSON object"))),
            }
        };
        let header = object(h, "header")?;
        let claims = object(c, "payload")?;
        let signature = B64
            .decode(s)
            .map_err(|_| JoseError::Malformed("signature is not base64url".into()))?;
        Ok(Jws {
            header,
            claims,
            signature,
            signing_input: format!("{h}.{c}"),
        })
    }

    /// The `alg` header, checked to be one we accept, and its curve.
    pub fn alg(&self) -> Result<(String, Curve), JoseError> {
        let alg = self
            .header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or_else(|| JoseError::Malformed("header has no alg".into()))?;
        Ok((alg.to_string(), alg_curve(alg)?))
    }

    /// A string header.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// A string claim.
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// An integer claim (seconds since the epoch for `iat`/`exp`); fractions are truncated.
    pub fn claim_secs(&self, name: &str) -> Option<i64> {
        let v = self.claims.get(name)?;
        v.as_i64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
    }

    /// Check the signature with `key`, which must be on the curve `alg` names.
    pub fn verify(&self, key: &PublicKey) -> Result<(), JoseError> {
        let (alg, curve) = self.alg()?;
        if curve != key.curve() {
            return Err(JoseError::AlgorithmMismatch {
                key: curve_label(key.curve()),
                alg,
            });
        }
        verify_signature(key, self.signing_input.as_bytes(), &self.signature)
    }
}

/// The curve an accepted `alg` uses; every other algorithm is refused by name.
pub fn alg_curve(alg: &str) -> Result<Curve, JoseError> {
    match alg {
        "ES256" => Ok(Curve::P256),
        "ES256K" => Ok(Curve::Secp256k1),
        "EdDSA" | "Ed25519" | "Ed448" => Err(JoseError::EdDsa(alg.to_string())),
        "none" => Err(JoseError::Algorithm(
            "none (unsigned tokens are never accepted)".into(),
        )),
        other => Err(JoseError::Algorithm(other.chars().take(32).collect())),
    }
}

fn curve_label(c: Curve) -> &'static str {
    match c {
        Curve::P256 => "P-256",
        Curve::Secp256k1 => "secp256k1",
    }
}

/// Verify a 64-byte `r || s` signature over `msg`, accepting either S half.
pub fn verify_signature(key: &PublicKey, msg: &[u8], sig: &[u8]) -> Result<(), JoseError> {
    use p256::ecdsa::signature::Verifier;
    if sig.len() != 64 {
        return Err(JoseError::Signature);
    }
    match key {
        PublicKey::P256(vk) => {
            let s = p256::ecdsa::Signature::from_slice(sig).map_err(|_| JoseError::Signature)?;
            vk.verify(msg, &s.normalize_s())
                .map_err(|_| JoseError::Signature)
        }
        PublicKey::Secp256k1(vk) => {
            let s = k256::ecdsa::Signature::from_slice(sig).map_err(|_| JoseError::Signature)?;
            vk.verify(msg, &s.normalize_s())
                .map_err(|_| JoseError::Signature)
        }
    }
}

/// A public key from a JWK, with the optional members clients use to pick keys.
#[derive(Debug, Clone)]
pub struct Jwk {
    pub key: PublicKey,
    pub kid: Option<String>,
    pub alg: Option<String>,
    /// `use` other than `sig`, `key_ops` without `verify`, or `revoked`: not for signatures.
    pub usable_for_signing: bool,
}

/// Parse a public JWK (an EC key on P-256 or secp256k1). A JWK carrying a private
/// part (`d`) is refused: it would mean someone published a secret.
pub fn parse_jwk(v: &Value) -> Result<Jwk, JoseError> {
    let obj = v
        .as_object()
        .ok_or_else(|| JoseError::Key("a JWK must be a JSON object".into()))?;
    let get = |name: &str| obj.get(name).and_then(Value::as_str);
    match get("kty") {
        Some("EC") => {}
        Some("OKP") => {
            return Err(JoseError::EdDsa(format!(
                "{} key",
                get("crv").unwrap_or("OKP")
            )));
        }
        Some(other) => {
            return Err(JoseError::Key(format!(
                "key type {} is not accepted: only EC keys on P-256 or secp256k1",
                other.chars().take(16).collect::<String>()
            )));
        }
        None => return Err(JoseError::Key("JWK has no kty".into())),
    }
    if obj.contains_key("d") {
        return Err(JoseError::Key(
            "JWK contains a private key (d); only public keys belong here".into(),
        ));
    }
    let curve = match get("crv") {
        Some("P-256") => Curve::P256,
        Some("secp256k1") => Curve::Secp256k1,
        Some(other) => {
            return Err(JoseError::Key(format!(
                "curve {} is not accepted: only P-256 and secp256k1",
                other.chars().take(16).collect::<String>()
            )));
        }
        None => return Err(JoseError::Key("JWK has no crv".into())),
    };
    let coord = |name: &str| -> Result<Vec<u8>, JoseError> {
        let b = B64
            .decode(get(name).ok_or_else(|| JoseError::Key(format!("JWK has no {name}")))?)
            .map_err(|_| JoseError::Key(format!("JWK {name} is not base64url")))?;
        if b.len() != 32 {
            return Err(JoseError::Key(format!("JWK {name} must be 32 bytes")));
        }
        Ok(b)
    };
    let (x, y) = (coord("x")?, coord("y")?);
    let mut point = Vec::with_capacity(65);
    point.push(4u8);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    let key = PublicKey::from_sec1(curve, &point).map_err(|e| JoseError::Key(e.to_string()))?;
    let alg = get("alg").map(str::to_string);
    if let Some(a) = &alg {
        let c = alg_curve(a)?;
        if c != curve {
            return Err(JoseError::AlgorithmMismatch {
                key: curve_label(curve),
                alg: a.clone(),
            });
        }
    }
    let use_ok = get("use").is_none_or(|u| u == "sig");
    let ops_ok = match obj.get("key_ops") {
        None => true,
        Some(Value::Array(ops)) => ops.iter().any(|o| o.as_str() == Some("verify")),
        Some(_) => false,
    };
    let revoked = obj.contains_key("revoked");
    Ok(Jwk {
        key,
        kid: get("kid").map(str::to_string),
        alg,
        usable_for_signing: use_ok && ops_ok && !revoked,
    })
}

/// The public JWK of a key (members in the order RFC 7638 hashes them).
pub fn public_jwk(key: &PublicKey) -> Value {
    let point = key.to_uncompressed();
    // An uncompressed SEC1 point is always 65 bytes: 0x04, x, y.
    let (x, y) = if point.len() == 65 {
        (&point[1..33], &point[33..65])
    } else {
        (&point[..0], &point[..0])
    };
    serde_json::json!({
        "crv": curve_label(key.curve()),
        "kty": "EC",
        "x": B64.encode(x),
        "y": B64.encode(y),
    })
}

/// The RFC 7638 thumbprint of a key: base64url(SHA-256 of the canonical JWK).
pub fn thumbprint(key: &PublicKey) -> String {
    let jwk = public_jwk(key);
    let get = |n: &str| jwk.get(n).and_then(Value::as_str).unwrap_or_default();
    // The required members in lexicographic order, no whitespace (RFC 7638 section 3).
    let canonical = format!(
        r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
        get("crv"),
        get("x"),
        get("y")
    );
    B64.encode(Sha256::digest(canonical.as_bytes()))
}

/// base64url(SHA-256(s)), as DPoP's `ath` and PKCE's S256 use.
pub fn sha256_b64(s: &str) -> String {
    B64.encode(Sha256::digest(s.as_bytes()))
}

#[cfg(test)]
pub mod test_support {
    //! Signing helpers for tests: build JWS the way a client library would.
    use super::*;

    /// Sign header and claims with `key` (its curve picks ES256 or ES256K).
    pub fn sign(key: &pds::crypto::Keypair, header: &Value, claims: &Value) -> String {
        let h = B64.encode(serde_json::to_vec(header).unwrap_or_default());
        let c = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
        let input = format!("{h}.{c}");
        let sig = key.sign(input.as_bytes());
        format!("{input}.{}", B64.encode(sig))
    }

    /// Flip a low-S signature to its high-S twin (as WebCrypto may produce).
    pub fn to_high_s(token: &str) -> String {
        let (input, sig) = token.rsplit_once('.').unwrap_or((token, ""));
        let bytes = B64.decode(sig).unwrap_or_default();
        let s = p256::ecdsa::Signature::from_slice(&bytes).expect("signature");
        let (r, s_half) = s.split_scalars();
        let high = p256::ecdsa::Signature::from_scalars(r, -*s_half).expect("scalars");
        format!("{input}.{}", B64.encode(high.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use pds::crypto::Keypair;
    use serde_json::json;

    #[test]
    fn round_trip_on_both_curves_and_high_s_is_accepted() {
        for curve in [Curve::P256, Curve::Secp256k1] {
            let k = Keypair::generate(curve);
            let jwk = public_jwk(&k.public());
            let parsed = parse_jwk(&jwk).expect("jwk");
            assert_eq!(parsed.key, k.public());
            let t = sign(&k, &json!({"alg": curve.jwt_alg()}), &json!({"a": 1}));
            Jws::parse(&t)
                .expect("parse")
                .verify(&parsed.key)
                .expect("verify");
            let other = Keypair::generate(curve);
            assert_eq!(
                Jws::parse(&t).expect("parse").verify(&other.public()),
                Err(JoseError::Signature)
            );
        }
        let k = Keypair::generate(Curve::P256);
        let t = sign(&k, &json!({"alg": "ES256"}), &json!({"a": 1}));
        let high = to_high_s(&t);
        assert_ne!(high, t);
        Jws::parse(&high)
            .expect("parse")
            .verify(&k.public())
            .expect("high-S verifies");
    }

    #[test]
    fn refusals_name_the_problem() {
        assert!(matches!(alg_curve("EdDSA"), Err(JoseError::EdDsa(_))));
        assert!(
            alg_curve("EdDSA")
                .unwrap_err()
                .to_string()
                .contains("Ed25519")
        );
        assert!(matches!(alg_curve("none"), Err(JoseError::Algorithm(_))));
        assert!(matches!(alg_curve("HS256"), Err(JoseError::Algorithm(_))));
        assert!(matches!(alg_curve("RS256"), Err(JoseError::Algorithm(_))));
        let okp = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        assert!(matches!(parse_jwk(&okp), Err(JoseError::EdDsa(_))));
        let k = Keypair::generate(Curve::P256);
        let mut with_d = public_jwk(&k.public());
        with_d["d"] = json!("AAAA");
        assert!(
            parse_jwk(&with_d)
                .unwrap_err()
                .to_string()
                .contains("private")
        );
        let mut wrong_alg = public_jwk(&k.public());
        wrong_alg["alg"] = json!("ES256K");
        assert!(matches!(
            parse_jwk(&wrong_alg),
            Err(JoseError::AlgorithmMismatch { .. })
        ));
        for bad in ["", "a.b", "a.b.c.d", "!.!.!", "e30.e30"] {
            assert!(Jws::parse(bad).is_err(), "{bad}");
        }
        let long = "a".repeat(10_000);
        assert!(Jws::parse(&format!("{long}.{long}.{long}")).is_err());
        // A P-256 key cannot verify a token that claims ES256K.
        let t = sign(&k, &json!({"alg": "ES256K"}), &json!({}));
        assert!(matches!(
            Jws::parse(&t).expect("parse").verify(&k.public()),
            Err(JoseError::AlgorithmMismatch { .. })
        ));
    }

    // RFC 9449 figures 1, 2 and 9: an example proof, its key and the key's thumbprint.
    const RFC9449_PROOF: &str = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg";
    const RFC9449_JKT: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

    #[test]
    fn rfc9449_example_proof_verifies_and_has_the_published_thumbprint() {
        let jws = Jws::parse(RFC9449_PROOF).expect("parse");
        let jwk = parse_jwk(jws.header.get("jwk").expect("jwk")).expect("key");
        jws.verify(&jwk.key)
            .expect("signature from the RFC verifies");
        assert_eq!(thumbprint(&jwk.key), RFC9449_JKT);
        assert_eq!(jws.claim_str("htm"), Some("POST"));
        assert_eq!(jws.claim_secs("iat"), Some(1_562_262_616));
    }

    #[test]
    fn thumbprint_matches_rfc7638_shape() {
        // RFC 7638's example is RSA; check our canonical form instead: thumbprints are
        // stable, distinct per key, and 43 base64url characters.
        let a = Keypair::generate(Curve::P256);
        let b = Keypair::generate(Curve::P256);
        assert_eq!(thumbprint(&a.public()), thumbprint(&a.public()));
        assert_ne!(thumbprint(&a.public()), thumbprint(&b.public()));
        assert_eq!(thumbprint(&a.public()).len(), 43);
        // The canonical JSON is exactly what RFC 7638 hashes.
        let jwk = public_jwk(&a.public());
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["x"].as_str().unwrap_or_default(),
            jwk["y"].as_str().unwrap_or_default()
        );
        assert_eq!(thumbprint(&a.public()), sha256_b64(&canonical));
    }
}
