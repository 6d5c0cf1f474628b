//! Private keys: generation, signing with low-S, and the key-file encoding.
//!
//! A [`Keypair`] never prints its secret (Debug shows the did:key only), and the
//! underlying signing keys zeroize themselves on drop.

use super::{CryptoError, Curve, PublicKey, multikey};
use p256::ecdsa::signature::Signer;
use p256::elliptic_curve::Generate;
use zeroize::Zeroizing;

/// A P-256 or secp256k1 private key.
#[derive(Clone)]
pub enum Keypair {
    /// NIST P-256.
    P256(p256::ecdsa::SigningKey),
    /// secp256k1.
    Secp256k1(k256::ecdsa::SigningKey),
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Keypair({}, secret redacted)",
            self.public().to_did_key()
        )
    }
}

impl Keypair {
    /// A fresh random key from the operating system's CSPRNG.
    pub fn generate(curve: Curve) -> Self {
        match curve {
            Curve::P256 => Keypair::P256(p256::ecdsa::SigningKey::generate()),
            Curve::Secp256k1 => Keypair::Secp256k1(k256::ecdsa::SigningKey::generate()),
        }
    }

    /// Load a 32-byte secret scalar.
    pub fn from_bytes(curve: Curve, secret: &[u8]) -> Result<Self, CryptoError> {
        let bad = |e: String| CryptoError::InvalidKey { curve, reason: e };
        match curve {
            Curve::P256 => p256::ecdsa::SigningKey::from_slice(secret)
                .map(Keypair::P256)
                .map_err(|e| bad(e.to_string())),
            Curve::Secp256k1 => k256::ecdsa::SigningKey::from_slice(secret)
                .map(Keypair::Secp256k1)
                .map_err(|e| bad(e.to_string())),
        }
    }

    /// The 32-byte secret scalar, in a buffer that zeroizes itself.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        match self {
            Keypair::P256(k) => Zeroizing::new(k.to_bytes().to_vec()),
            Keypair::Secp256k1(k) => Zeroizing::new(k.to_bytes().to_vec()),
        }
    }

    /// Which curve this key is on.
    pub fn curve(&self) -> Curve {
        match self {
            Keypair::P256(_) => Curve::P256,
            Keypair::Secp256k1(_) => Curve::Secp256k1,
        }
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        match self {
            Keypair::P256(k) => PublicKey::P256(*k.verifying_key()),
            Keypair::Secp256k1(k) => PublicKey::Secp256k1(*k.verifying_key()),
        }
    }

    /// `did:key:` of the public half.
    pub fn did_key(&self) -> String {
        self.public().to_did_key()
    }

    /// Sign the SHA-256 of `msg`: 64-byte compact `r || s`, always low-S.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        match self {
            Keypair::P256(k) => {
                // P-256 signing does not normalize S by itself.
                let s: p256::ecdsa::Signature = k.sign(msg);
                out.copy_from_slice(&s.normalize_s().to_bytes());
            }
            Keypair::Secp256k1(k) => {
                let s: k256::ecdsa::Signature = k.sign(msg);
                out.copy_from_slice(&s.normalize_s().to_bytes());
            }
        }
        out
    }

    /// The private multikey (`z...` with the private-key multicodec), for key files.
    pub fn to_private_multikey(&self) -> Zeroizing<String> {
        multikey::encode_private_multikey(self.curve(), &self.to_bytes())
    }

    /// Load a key file's contents: a private multikey, or 64 hex digits of a
    /// secp256k1 secret (the form the reference PDS uses in its environment).
    pub fn from_private_multikey(s: &str) -> Result<Self, CryptoError> {
        let (curve, bytes) = multikey::decode_private_multikey(s)?;
        Self::from_bytes(curve, &bytes)
    }
}
