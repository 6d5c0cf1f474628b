//! DPoP (RFC 9449): checking the proof a client sends in the `DPoP` header, the
//! server-issued nonces, and the record of proof ids (`jti`) already seen.
//!
//! Nonces are `base64url(HMAC-SHA256(secret, window))` where `window` counts rotation
//! periods (`oauth.dpop_nonce_rotation_secs`, at most 150 s): the current and the
//! previous window's nonces are accepted, so a nonce lives at most two periods (under 5
//! minutes, as the profile requires) and rotation never breaks requests in flight.
//! They cost no storage. The secret is drawn at start-up and never stored, and the `jti`
//! record is kept in memory: a proof is only accepted with a live nonce, so remembering
//! `jti`s for the nonce lifetime is enough, and a restart (new secret) retires every
//! outstanding proof at once. This module does not decide what the caller may do: it
//! only establishes which key signed a fresh, single-use proof for this request.

use super::jose::{self, JoseError, Jws};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use zeroize::Zeroizing;

/// How far a proof's `iat` may be from the server's clock, in seconds.
const IAT_SKEW_SECS: i64 = 300;
/// Most `jti`s remembered at once; beyond this, new proofs are refused until old ones expire.
const MAX_REPLAY_ENTRIES: usize = 500_000;
/// Longest `jti` accepted (clients use 16-32 random characters).
const MAX_JTI_LEN: usize = 256;

/// Why a DPoP proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DpopError {
    #[error("DPoP proof required: send a DPoP header")]
    Missing,
    #[error("send exactly one DPoP header")]
    Multiple,
    #[error("invalid DPoP proof: {0}")]
    Invalid(String),
    #[error("DPoP proof: {0}")]
    Jose(#[from] JoseError),
    #[error("DPoP proof must carry the server's nonce (see the DPoP-Nonce header)")]
    NonceMissing,
    #[error("DPoP nonce is not current; retry with the nonce in the DPoP-Nonce header")]
    NonceStale,
    #[error("DPoP proof was already used (jti replay)")]
    Replay,
    #[error("too many DPoP proofs in flight; try again shortly")]
    Busy,
}

impl DpopError {
    /// Whether the client should just retry with the fresh nonce.
    pub fn is_nonce_problem(&self) -> bool {
        matches!(self, DpopError::NonceMissing | DpopError::NonceStale)
    }
}

/// Issues and checks the server's DPoP nonces.
pub struct NonceSource {
    secret: Zeroizing<[u8; 32]>,
    period: i64,
}

impl std::fmt::Debug for NonceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NonceSource(period {}s, secret redacted)", self.period)
    }
}

impl NonceSource {
    /// A source with a fresh random secret, rotating every `period_secs`.
    pub fn new(secret: [u8; 32], period_secs: u64) -> Self {
        NonceSource {
            secret: Zeroizing::new(secret),
            period: i64::try_from(period_secs.max(1)).unwrap_or(60),
        }
    }

    fn for_window(&self, window: i64) -> String {
        use base64::Engine;
        use hmac::{KeyInit, Mac};
        let mut mac = match <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&*self.secret) {
            Ok(m) => m,
            // HMAC takes keys of any length; this arm cannot be reached.
            Err(_) => return String::new(),
        };
        mac.update(b"dpop-nonce");
        mac.update(&window.to_be_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The nonce to hand out now.
    pub fn current(&self, now: i64) -> String {
        self.for_window(now.div_euclid(self.period))
    }

    /// Whether `nonce` is the current or the previous window's.
    pub fn is_valid(&self, nonce: &str, now: i64) -> bool {
        let w = now.div_euclid(self.period);
        [w, w - 1].iter().any(|&x| {
            crate::auth::constant_time_eq(self.for_window(x).as_bytes(), nonce.as_bytes())
        })
    }

    /// How long a proof made now with a valid nonce can stay acceptable.
    pub fn max_lifetime(&self) -> i64 {
        2 * self.period
    }
}

/// Proof ids already used, each kept until its nonce can no longer be accepted.
#[derive(Debug, Default)]
pub struct ReplayCache {
    inner: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    ids: HashMap<[u8; 32], i64>,
    /// Insertions since expired ids were last dropped.
    since_prune: usize,
}

/// Drop expired ids after this many insertions (or when the cache is full).
const PRUNE_EVERY: usize = 10_000;

impl ReplayCache {
    /// Record `key` until `expires_at`; a replay (or a full cache) is an error.
    pub fn insert(&self, key: &[u8], expires_at: i64, now: i64) -> Result<(), DpopError> {
        let digest: [u8; 32] = Sha256::digest(key).into();
        let mut seen = self.inner.lock().map_err(|_| DpopError::Busy)?;
        if seen.since_prune >= PRUNE_EVERY || seen.ids.len() >= MAX_REPLAY_ENTRIES {
            seen.ids.retain(|_, exp| *exp > now);
            seen.since_prune = 0;
        }
        if seen.ids.get(&digest).is_some_and(|exp| *exp > now) {
            return Err(DpopError::Replay);
        }
        if seen.ids.len() >= MAX_REPLAY_ENTRIES {
            return Err(DpopError::Busy);
        }
        seen.ids.insert(digest, expires_at);
        seen.since_prune += 1;
        Ok(())
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner.lock().map(|s| s.ids.len()).unwrap_or_default()
    }
}

/// What the request being checked looks like.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    /// The HTTP method (`htm`).
    pub method: &'a str,
    /// The request URL as the client sees it, at the public URL (`htu`).
    pub url: &'a str,
    /// The access token sent with it, whose hash must be in `ath`.
    pub access_token: Option<&'a str>,
}

/// A verified proof: the key that signed it.
#[derive(Debug, Clone)]
pub struct Proof {
    /// RFC 7638 thumbprint of the key (`jkt`).
    pub jkt: String,
}

/// The `DPoP` header: exactly one, or none.
pub fn header(headers: &axum::http::HeaderMap) -> Result<Option<&str>, DpopError> {
    let mut values = headers.get_all("dpop").iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(DpopError::Multiple);
    }
    match first {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(|s| Some(s.trim()))
            .map_err(|_| DpopError::Invalid("DPoP header is not valid text".into())),
    }
}

/// Check a proof against the request, the nonces and the replay record (RFC 9449 4.3).
pub fn verify(
    proof: &str,
    expect: Expect<'_>,
    nonces: &NonceSource,
    replay: &ReplayCache,
    now: i64,
) -> Result<Proof, DpopError> {
    let bad = |m: &str| DpopError::Invalid(m.to_string());
    let jws = Jws::parse(proof)?;
    if jws.header_str("typ") != Some("dpop+jwt") {
        return Err(bad("typ must be dpop+jwt"));
    }
    jws.alg()?;
    let jwk = jws
        .header
        .get("jwk")
        .ok_or_else(|| bad("the header must carry the public key as jwk"))?;
    let key = jose::parse_jwk(jwk)?.key;
    jws.verify(&key)?;

    let jti = jws.claim_str("jti").ok_or_else(|| bad("jti is required"))?;
    if jti.is_empty() || jti.len() > MAX_JTI_LEN {
        return Err(bad("jti must be 1 to 256 characters"));
    }
    let htm = jws.claim_str("htm").ok_or_else(|| bad("htm is required"))?;
    if htm != expect.method {
        return Err(DpopError::Invalid(format!(
            "htm is {}, but this request is {}",
            truncate(htm),
            expect.method
        )));
    }
    let htu = jws.claim_str("htu").ok_or_else(|| bad("htu is required"))?;
    if !same_htu(htu, expect.url) {
        return Err(DpopError::Invalid(format!(
            "htu is {}, but this request is for {}",
            truncate(htu),
            expect.url
        )));
    }
    let iat = jws
        .claim_secs("iat")
        .ok_or_else(|| bad("iat is required"))?;
    if (iat - now).abs() > IAT_SKEW_SECS {
        return Err(bad(
            "iat is too far from the server's time (more than 5 minutes)",
        ));
    }
    match (expect.access_token, jws.claim_str("ath")) {
        (Some(token), Some(ath)) => {
            if !crate::auth::constant_time_eq(jose::sha256_b64(token).as_bytes(), ath.as_bytes()) {
                return Err(bad("ath does not match the access token"));
            }
        }
        (Some(_), None) => return Err(bad("ath (hash of the access token) is required")),
        (None, _) => {}
    }
    match jws.claim_str("nonce") {
        None => return Err(DpopError::NonceMissing),
        Some(n) if !nonces.is_valid(n, now) => return Err(DpopError::NonceStale),
        Some(_) => {}
    }
    let jkt = jose::thumbprint(&key);
    let mut replay_key = Vec::with_capacity(jkt.len() + 1 + jti.len());
    replay_key.extend_from_slice(jkt.as_bytes());
    replay_key.push(b'|');
    replay_key.extend_from_slice(jti.as_bytes());
    replay.insert(&replay_key, now + nonces.max_lifetime() + 1, now)?;
    Ok(Proof { jkt })
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

/// Whether two `htu` values name the same URL, ignoring query and fragment and
/// normalizing scheme, host case and default ports (RFC 9449 4.3 point 9).
pub fn same_htu(claimed: &str, expected: &str) -> bool {
    fn norm(s: &str) -> Option<String> {
        let u = url::Url::parse(s).ok()?;
        if !matches!(u.scheme(), "http" | "https") {
            return None;
        }
        Some(format!(
            "{}://{}:{}{}",
            u.scheme(),
            u.host_str()?,
            u.port_or_known_default()?,
            u.path()
        ))
    }
    match (norm(claimed), norm(expected)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
pub mod test_support {
    //! A client-side proof builder for tests.
    use super::super::jose::{public_jwk, test_support::sign};
    use serde_json::{Value, json};

    /// A proof for `method url`, with optional nonce and access token.
    pub fn proof(
        key: &pds::crypto::Keypair,
        method: &str,
        url: &str,
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> String {
        proof_with(key, method, url, nonce, access_token, |_| {})
    }

    /// Like [`proof`], letting the test change the claims before signing.
    pub fn proof_with(
        key: &pds::crypto::Keypair,
        method: &str,
        url: &str,
        nonce: Option<&str>,
        access_token: Option<&str>,
        edit: impl FnOnce(&mut Value),
    ) -> String {
        let mut claims = json!({
            "jti": crate::auth::jwt::random_id(),
            "htm": method,
            "htu": url,
            "iat": crate::auth::jwt::now_secs(),
        });
        if let Some(n) = nonce {
            claims["nonce"] = json!(n);
        }
        if let Some(t) = access_token {
            claims["ath"] = json!(super::jose::sha256_b64(t));
        }
        edit(&mut claims);
        let header = json!({
            "typ": "dpop+jwt",
            "alg": key.curve().jwt_alg(),
            "jwk": public_jwk(&key.public()),
        });
        sign(key, &header, &claims)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use pds::crypto::{Curve, Keypair};
    use serde_json::json;

    const URL: &str = "https://pds.example.com/oauth/token";

    fn setup() -> (NonceSource, ReplayCache, i64) {
        (
            NonceSource::new([9u8; 32], 60),
            ReplayCache::default(),
            crate::auth::jwt::now_secs(),
        )
    }

    fn expect(token: Option<&str>) -> Expect<'_> {
        Expect {
            method: "POST",
            url: URL,
            access_token: token,
        }
    }

    #[test]
    fn a_good_proof_passes_once_on_both_curves() {
        let (nonces, replay, now) = setup();
        for curve in [Curve::P256, Curve::Secp256k1] {
            let k = Keypair::generate(curve);
            let p = proof(&k, "POST", URL, Some(&nonces.current(now)), None);
            let ok = verify(&p, expect(None), &nonces, &replay, now).expect("valid");
            assert_eq!(ok.jkt, jose::thumbprint(&k.public()));
            assert_eq!(
                verify(&p, expect(None), &nonces, &replay, now).unwrap_err(),
                DpopError::Replay
            );
        }
        assert_eq!(replay.len(), 2);
    }

    #[test]
    fn nonce_rules() {
        let (nonces, replay, now) = setup();
        let k = Keypair::generate(Curve::P256);
        let no_nonce = proof(&k, "POST", URL, None, None);
        assert_eq!(
            verify(&no_nonce, expect(None), &nonces, &replay, now).unwrap_err(),
            DpopError::NonceMissing
        );
        let wrong = proof(&k, "POST", URL, Some("made-up"), None);
        assert_eq!(
            verify(&wrong, expect(None), &nonces, &replay, now).unwrap_err(),
            DpopError::NonceStale
        );
        // The previous window's nonce still works; two windows back does not.
        let prev = proof(&k, "POST", URL, Some(&nonces.current(now - 60)), None);
        verify(&prev, expect(None), &nonces, &replay, now).expect("previous nonce accepted");
        let old = proof(&k, "POST", URL, Some(&nonces.current(now - 120)), None);
        assert_eq!(
            verify(&old, expect(None), &nonces, &replay, now).unwrap_err(),
            DpopError::NonceStale
        );
        // Another server's secret gives other nonces.
        let other = NonceSource::new([1u8; 32], 60);
        assert_ne!(other.current(now), nonces.current(now));
        assert!(nonces.max_lifetime() <= 300);
    }

    #[test]
    fn htm_htu_iat_ath_and_typ_are_checked() {
        let (nonces, replay, now) = setup();
        let n = nonces.current(now);
        let k = Keypair::generate(Curve::P256);
        let cases: Vec<(String, &str)> = vec![
            (proof(&k, "GET", URL, Some(&n), None), "htm"),
            (
                proof(
                    &k,
                    "POST",
                    "https://pds.example.com/oauth/par",
                    Some(&n),
                    None,
                ),
                "htu",
            ),
            (
                proof(
                    &k,
                    "POST",
                    "https://evil.example.com/oauth/token",
                    Some(&n),
                    None,
                ),
                "htu",
            ),
            (
                proof_with(&k, "POST", URL, Some(&n), None, |c| {
                    c["iat"] = json!(now - 3600)
                }),
                "iat",
            ),
            (
                proof_with(&k, "POST", URL, Some(&n), None, |c| {
                    c["iat"] = json!(now + 3600)
                }),
                "iat",
            ),
            (
                proof_with(&k, "POST", URL, Some(&n), None, |c| {
                    if let Some(o) = c.as_object_mut() {
                        o.remove("jti");
                    }
                }),
                "jti",
            ),
        ];
        for (p, what) in cases {
            let e = verify(&p, expect(None), &nonces, &replay, now).unwrap_err();
            assert!(e.to_string().contains(what), "{what}: {e}");
        }
        // ath: required with a token, must match it.
        let p = proof(&k, "POST", URL, Some(&n), None);
        assert!(
            verify(&p, expect(Some("tok")), &nonces, &replay, now)
                .unwrap_err()
                .to_string()
                .contains("ath")
        );
        let p = proof(&k, "POST", URL, Some(&n), Some("other"));
        assert!(
            verify(&p, expect(Some("tok")), &nonces, &replay, now)
                .unwrap_err()
                .to_string()
                .contains("ath")
        );
        let p = proof(&k, "POST", URL, Some(&n), Some("tok"));
        verify(&p, expect(Some("tok")), &nonces, &replay, now).expect("matching ath");
        // Query strings and default ports do not matter; scheme and path do.
        assert!(same_htu("https://pds.example.com:443/oauth/token?x=1", URL));
        assert!(same_htu("HTTPS://PDS.example.com/oauth/token#f", URL));
        assert!(!same_htu("http://pds.example.com/oauth/token", URL));
        assert!(!same_htu("https://pds.example.com/oauth/token/", URL));
        assert!(!same_htu("not a url", URL));
        // A typ other than dpop+jwt is refused.
        let header = json!({"typ": "JWT", "alg": "ES256", "jwk": jose::public_jwk(&k.public())});
        let t = jose::test_support::sign(
            &k,
            &header,
            &json!({"jti": "a", "htm": "POST", "htu": URL, "iat": now, "nonce": n}),
        );
        assert!(
            verify(&t, expect(None), &nonces, &replay, now)
                .unwrap_err()
                .to_string()
                .contains("typ")
        );
    }

    #[test]
    fn signature_must_match_the_embedded_key() {
        let (nonces, replay, now) = setup();
        let n = nonces.current(now);
        let k = Keypair::generate(Curve::P256);
        let other = Keypair::generate(Curve::P256);
        let header =
            json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jose::public_jwk(&other.public())});
        let t = jose::test_support::sign(
            &k,
            &header,
            &json!({"jti": "b", "htm": "POST", "htu": URL, "iat": now, "nonce": n}),
        );
        assert_eq!(
            verify(&t, expect(None), &nonces, &replay, now).unwrap_err(),
            DpopError::Jose(JoseError::Signature)
        );
        let eddsa = json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": {"kty": "OKP", "crv": "Ed25519", "x": "AA"}});
        let t = jose::test_support::sign(&k, &eddsa, &json!({}));
        let e = verify(&t, expect(None), &nonces, &replay, now).unwrap_err();
        assert!(e.to_string().contains("Ed25519"), "{e}");
    }

    #[test]
    fn replay_cache_forgets_expired_ids() {
        let cache = ReplayCache::default();
        cache.insert(b"a", 100, 0).expect("first");
        assert_eq!(cache.insert(b"a", 100, 50), Err(DpopError::Replay));
        // Once expired, the id may be recorded again (its nonce is long dead by then).
        cache.insert(b"a", 300, 150).expect("after expiry");
        for i in 0..PRUNE_EVERY {
            cache
                .insert(&i.to_be_bytes(), 200, 150)
                .expect("distinct ids");
        }
        for i in PRUNE_EVERY..2 * PRUNE_EVERY {
            cache
                .insert(&i.to_be_bytes(), 1000, 250)
                .expect("distinct ids");
        }
        // The first batch expired at 200 and was dropped during the second.
        assert!(cache.len() <= PRUNE_EVERY + 1, "{}", cache.len());
    }

    #[test]
    fn header_must_be_single() {
        let mut h = axum::http::HeaderMap::new();
        assert_eq!(header(&h), Ok(None));
        h.append("dpop", axum::http::HeaderValue::from_static("a"));
        assert_eq!(header(&h), Ok(Some("a")));
        h.append("dpop", axum::http::HeaderValue::from_static("b"));
        assert_eq!(header(&h), Err(DpopError::Multiple));
    }
}
