//! did:key and multikey encodings: multibase base58btc (`z...`) of a multicodec
//! varint prefix followed by the compressed public point (or the 32-byte secret).
//!
//! Owns only the byte layout; point validation happens in [`super::PublicKey`].

use super::{CryptoError, Curve};

/// Every did:key starts with this.
pub const DID_KEY_PREFIX: &str = "did:key:";

// Multicodec varints (unsigned LEB128 of the codec numbers).
const P256_PUB: [u8; 2] = [0x80, 0x24]; // 0x1200
const K256_PUB: [u8; 2] = [0xe7, 0x01]; // 0xe7
const ED25519_PUB: [u8; 2] = [0xed, 0x01]; // 0xed, refused
const P256_PRIV: [u8; 2] = [0x86, 0x26]; // 0x1306
const K256_PRIV: [u8; 2] = [0x81, 0x26]; // 0x1301
const ED25519_PRIV: [u8; 2] = [0x80, 0x26]; // 0x1300, refused

fn pub_prefix(curve: Curve) -> [u8; 2] {
    match curve {
        Curve::P256 => P256_PUB,
        Curve::Secp256k1 => K256_PUB,
    }
}

fn priv_prefix(curve: Curve) -> [u8; 2] {
    match curve {
        Curve::P256 => P256_PRIV,
        Curve::Secp256k1 => K256_PRIV,
    }
}

fn decode_base58btc(s: &str) -> Result<Vec<u8>, CryptoError> {
    let rest = s.strip_prefix('z').ok_or_else(|| {
        CryptoError::Encoding(format!("{s:?} is not multibase base58btc ('z' prefix)"))
    })?;
    multibase::Base::Base58Btc
        .decode(rest)
        .map_err(|e| CryptoError::Encoding(format!("bad base58btc: {e}")))
}

/// Multikey (`z...`) of a compressed public point.
pub fn encode_multikey(curve: Curve, compressed: &[u8]) -> String {
    let mut buf = Vec::with_capacity(2 + compressed.len());
    buf.extend_from_slice(&pub_prefix(curve));
    buf.extend_from_slice(compressed);
    multibase::encode(multibase::Base::Base58Btc, buf)
}

/// `did:key:z...` of a compressed public point.
pub fn encode_did_key(curve: Curve, compressed: &[u8]) -> String {
    format!("{DID_KEY_PREFIX}{}", encode_multikey(curve, compressed))
}

/// Split a multikey into its curve and point bytes.
pub fn decode_multikey(s: &str) -> Result<(Curve, Vec<u8>), CryptoError> {
    let bytes = decode_base58btc(s)?;
    if bytes.len() < 2 {
        return Err(CryptoError::Encoding("multikey too short".into()));
    }
    let (prefix, key) = bytes.split_at(2);
    match [prefix[0], prefix[1]] {
        P256_PUB => Ok((Curve::P256, key.to_vec())),
        K256_PUB => Ok((Curve::Secp256k1, key.to_vec())),
        ED25519_PUB => Err(CryptoError::UnsupportedKeyType("Ed25519".into())),
        _ => Err(CryptoError::UnsupportedKeyType(format!(
            "multicodec 0x{:02x}{:02x}",
            prefix[0], prefix[1]
        ))),
    }
}

/// Split a `did:key:` into its curve and point bytes.
pub fn decode_did_key(s: &str) -> Result<(Curve, Vec<u8>), CryptoError> {
    let mk = s
        .strip_prefix(DID_KEY_PREFIX)
        .ok_or_else(|| CryptoError::Encoding(format!("{s:?} does not start with did:key:")))?;
    decode_multikey(mk)
}

/// Multibase of a private key with its multicodec prefix (used in key files).
pub(crate) fn encode_private_multikey(curve: Curve, secret: &[u8]) -> zeroize::Zeroizing<String> {
    let mut buf = zeroize::Zeroizing::new(Vec::with_capacity(2 + secret.len()));
    buf.extend_from_slice(&priv_prefix(curve));
    buf.extend_from_slice(secret);
    zeroize::Zeroizing::new(multibase::encode(
        multibase::Base::Base58Btc,
        buf.as_slice(),
    ))
}

/// Split a private multikey into its curve and secret bytes.
pub fn decode_private_multikey(
    s: &str,
) -> Result<(Curve, zeroize::Zeroizing<Vec<u8>>), CryptoError> {
    let bytes = zeroize::Zeroizing::new(decode_base58btc(s.trim())?);
    if bytes.len() < 2 {
        return Err(CryptoError::Encoding("private multikey too short".into()));
    }
    let curve = match [bytes[0], bytes[1]] {
        P256_PRIV => Curve::P256,
        K256_PRIV => Curve::Secp256k1,
        ED25519_PRIV => return Err(CryptoError::UnsupportedKeyType("Ed25519".into())),
        _ => {
            return Err(CryptoError::UnsupportedKeyType(format!(
                "multicodec 0x{:02x}{:02x}",
                bytes[0], bytes[1]
            )));
        }
    };
    Ok((curve, zeroize::Zeroizing::new(bytes[2..].to_vec())))
}
