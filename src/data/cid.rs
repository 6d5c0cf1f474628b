//! CIDv1 helpers: the two codecs atproto uses (dag-cbor for structured blocks, raw
//! for blobs), always with sha2-256.
//!
//! Owns computing and checking CIDs; it does not decode block contents.

use super::DataError;
use cid::Cid;
use multihash::Multihash;
use sha2::{Digest, Sha256};

/// Multicodec for DAG-CBOR blocks (commits, MST nodes, records).
pub const DAG_CBOR: u64 = 0x71;
/// Multicodec for raw bytes (blobs).
pub const RAW: u64 = 0x55;
/// Multihash code for sha2-256.
pub const SHA2_256: u64 = 0x12;

fn sha256_cid(codec: u64, bytes: &[u8]) -> Cid {
    let digest = Sha256::digest(bytes);
    // A 32-byte digest always fits the 64-byte multihash: wrap cannot fail here.
    let mh = Multihash::<64>::wrap(SHA2_256, digest.as_slice()).unwrap_or_default();
    Cid::new_v1(codec, mh)
}

/// The CID of a DAG-CBOR block.
pub fn for_cbor(bytes: &[u8]) -> Cid {
    sha256_cid(DAG_CBOR, bytes)
}

/// The CID of raw bytes (a blob).
pub fn for_raw(bytes: &[u8]) -> Cid {
    sha256_cid(RAW, bytes)
}

/// Check that `bytes` hash to `cid` (sha2-256, with the CID's own codec).
pub fn verify(cid: &Cid, bytes: &[u8]) -> Result<(), DataError> {
    if cid.hash().code() != SHA2_256 {
        return Err(DataError::Cid(format!(
            "{cid}: hash function 0x{:x} is not sha2-256",
            cid.hash().code()
        )));
    }
    if sha256_cid(cid.codec(), bytes) == *cid {
        Ok(())
    } else {
        Err(DataError::CidMismatch(cid.to_string()))
    }
}

/// Parse a CID string (any version/codec the `cid` crate understands).
///
/// The `cid` crate also accepts `<anything>/ipfs/<cid>` and silently drops the prefix; a
/// CID string never contains `/`, so such input is refused here.
pub fn parse(s: &str) -> Result<Cid, DataError> {
    if s.contains('/') {
        return Err(DataError::Cid(format!("{s:?}: a CID string has no '/'")));
    }
    s.parse::<Cid>()
        .map_err(|e| DataError::Cid(format!("{s:?}: {e}")))
}

/// Parse a CID string that must be one atproto stores: CIDv1, dag-cbor or raw, sha2-256.
pub fn parse_atproto(s: &str) -> Result<Cid, DataError> {
    let cid = parse(s)?;
    check_atproto(&cid)?;
    Ok(cid)
}

/// Refuse CIDs outside the atproto "blessed" set (v1, dag-cbor/raw, sha2-256 of 32 bytes).
pub fn check_atproto(cid: &Cid) -> Result<(), DataError> {
    if cid.version() != cid::Version::V1 {
        return Err(DataError::Cid(format!("{cid}: not CIDv1")));
    }
    if cid.codec() != DAG_CBOR && cid.codec() != RAW {
        return Err(DataError::Cid(format!(
            "{cid}: codec 0x{:x} not allowed",
            cid.codec()
        )));
    }
    if cid.hash().code() != SHA2_256 || cid.hash().size() != 32 {
        return Err(DataError::Cid(format!("{cid}: hash is not sha2-256")));
    }
    Ok(())
}
