//! Public keys: verification with atproto's rules (64-byte compact, low-S) and the
//! did:key / multikey encodings.

use super::{CryptoError, Curve, multikey};
use p256::ecdsa::signature::Verifier;

/// A P-256 or secp256k1 public key.
#[derive(Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// NIST P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// secp256k1.
    Secp256k1(k256::ecdsa::VerifyingKey),
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_did_key())
    }
}

impl PublicKey {
    /// Parse a SEC1 point (compressed or uncompressed) on `curve`.
    pub fn from_sec1(curve: Curve, bytes: &[u8]) -> Result<Self, CryptoError> {
        let bad = |e: String| CryptoError::InvalidKey { curve, reason: e };
        match curve {
            Curve::P256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
                .map(PublicKey::P256)
                .map_err(|e| bad(e.to_string())),
            Curve::Secp256k1 => k256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
                .map(PublicKey::Secp256k1)
                .map_err(|e| bad(e.to_string())),
        }
    }

    /// Parse a `did:key:z...`.
    pub fn from_did_key(s: &str) -> Result<Self, CryptoError> {
        let (curve, bytes) = multikey::decode_did_key(s)?;
        Self::from_sec1(curve, &bytes)
    }

    /// Parse a multikey `z...` (as in DID documents' `publicKeyMultibase`).
    pub fn from_multikey(s: &str) -> Result<Self, CryptoError> {
        let (curve, bytes) = multikey::decode_multikey(s)?;
        Self::from_sec1(curve, &bytes)
    }

    /// Parse a legacy `publicKeyMultibase` (base58btc of the bare SEC1 point, no
    /// multicodec), where the curve comes from the verification method's type.
    pub fn from_legacy_multibase(curve: Curve, s: &str) -> Result<Self, CryptoError> {
        let rest = s
            .strip_prefix('z')
            .ok_or_else(|| CryptoError::Encoding("legacy multibase must start with 'z'".into()))?;
        let bytes = multibase::Base::Base58Btc
            .decode(rest)
            .map_err(|e| CryptoError::Encoding(format!("bad base58btc: {e}")))?;
        Self::from_sec1(curve, &bytes)
    }

    /// Which curve this key is on.
    pub fn curve(&self) -> Curve {
        match self {
            PublicKey::P256(_) => Curve::P256,
            PublicKey::Secp256k1(_) => Curve::Secp256k1,
        }
    }

    /// The 33-byte compressed SEC1 point.
    pub fn to_compressed(&self) -> Vec<u8> {
        match self {
            PublicKey::P256(k) => k.to_sec1_point(true).as_bytes().to_vec(),
            PublicKey::Secp256k1(k) => k.to_sec1_point(true).as_bytes().to_vec(),
        }
    }

    /// The 65-byte uncompressed SEC1 point (`04 || x || y`), as JWKs need.
    pub fn to_uncompressed(&self) -> Vec<u8> {
        match self {
            PublicKey::P256(k) => k.to_sec1_point(false).as_bytes().to_vec(),
            PublicKey::Secp256k1(k) => k.to_sec1_point(false).as_bytes().to_vec(),
        }
    }

    /// `did:key:z...` with the compressed point.
    pub fn to_did_key(&self) -> String {
        multikey::encode_did_key(self.curve(), &self.to_compressed())
    }

    /// Multikey `z...` with the compressed point.
    pub fn to_multikey(&self) -> String {
        multikey::encode_multikey(self.curve(), &self.to_compressed())
    }

    /// Verify a signature over `msg` (whose SHA-256 was signed).
    ///
    /// Only the 64-byte compact `r || s` form with low S is accepted: DER
    /// signatures and high-S signatures are refused, as atproto requires.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        if sig.len() != 64 {
            return Err(CryptoError::MalformedSignature(sig.len()));
        }
        match self {
            PublicKey::P256(k) => {
                let s = p256::ecdsa::Signature::from_slice(sig)
                    .map_err(|_| CryptoError::BadSignature)?;
                if s.normalize_s() != s {
                    return Err(CryptoError::HighS);
                }
                k.verify(msg, &s).map_err(|_| CryptoError::BadSignature)
            }
            PublicKey::Secp256k1(k) => {
                let s = k256::ecdsa::Signature::from_slice(sig)
                    .map_err(|_| CryptoError::BadSignature)?;
                if s.normalize_s() != s {
                    return Err(CryptoError::HighS);
                }
                k.verify(msg, &s).map_err(|_| CryptoError::BadSignature)
            }
        }
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_did_key())
    }
}

impl std::str::FromStr for PublicKey {
    type Err = CryptoError;
    /// Accepts a `did:key:` or a bare multikey.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.starts_with(multikey::DID_KEY_PREFIX) {
            Self::from_did_key(s)
        } else {
            Self::from_multikey(s)
        }
    }
}
