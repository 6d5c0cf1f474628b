//! Keys and signatures: P-256 and secp256k1 only.
//!
//! - key pairs that sign the SHA-256 of a message with a low-S, 64-byte compact signature
//! - public keys that verify, refusing high-S and DER signatures
//! - `did:key` and multikey encodings (compressed points with their multicodec prefix)
//! - compact JWS tokens signed by those keys ([`jws`])
//!
//! Ed25519 and every other key type are refused with an error naming the accepted curves.
//! Private key bytes never appear in `Debug` output and are zeroized on drop.

pub mod jws;
mod keypair;
mod multikey;
mod public;

pub use keypair::Keypair;
pub use multikey::{
    DID_KEY_PREFIX, decode_did_key, decode_multikey, decode_private_multikey, encode_did_key,
    encode_multikey,
};
pub use public::PublicKey;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The two curves atproto uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Curve {
    /// NIST P-256 (secp256r1); JWT algorithm `ES256`.
    P256,
    /// secp256k1; JWT algorithm `ES256K`.
    Secp256k1,
}

impl Curve {
    /// The JWT/JWS algorithm name for signatures on this curve.
    pub fn jwt_alg(self) -> &'static str {
        match self {
            Curve::P256 => "ES256",
            Curve::Secp256k1 => "ES256K",
        }
    }

    /// The curve named by a JWT `alg` header, if it is one of ours.
    pub fn from_jwt_alg(alg: &str) -> Result<Curve, CryptoError> {
        match alg {
            "ES256" => Ok(Curve::P256),
            "ES256K" => Ok(Curve::Secp256k1),
            other => Err(CryptoError::UnsupportedKeyType(format!(
                "JWT algorithm {other}"
            ))),
        }
    }

    /// The name used on the command line and in configuration.
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "p256",
            Curve::Secp256k1 => "secp256k1",
        }
    }
}

impl std::fmt::Display for Curve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Curve {
    type Err = CryptoError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "p256" | "p-256" | "secp256r1" | "es256" => Ok(Curve::P256),
            "secp256k1" | "k256" | "k-256" | "es256k" => Ok(Curve::Secp256k1),
            other => Err(CryptoError::UnsupportedKeyType(other.to_string())),
        }
    }
}

/// Why a key or a signature was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CryptoError {
    /// A key type other than P-256 or secp256k1 (Ed25519, RSA, ...).
    #[error("unsupported key type {0}: only P-256 and secp256k1 keys are accepted")]
    UnsupportedKeyType(String),
    /// Key bytes that are not a valid point or scalar on the curve.
    #[error("invalid {curve} key: {reason}")]
    InvalidKey { curve: Curve, reason: String },
    /// A did:key or multikey string that cannot be decoded.
    #[error("invalid key encoding: {0}")]
    Encoding(String),
    /// A signature that is not 64 bytes of compact r||s (DER is refused).
    #[error("malformed signature: expected 64 bytes of compact r||s, got {0} bytes")]
    MalformedSignature(usize),
    /// A signature whose S is in the upper half of the curve order.
    #[error("signature is not low-S")]
    HighS,
    /// A well-formed signature that does not verify.
    #[error("signature does not verify")]
    BadSignature,
}
