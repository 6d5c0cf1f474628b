//! The atproto data model: values, DAG-CBOR, CIDs and blob references.
//!
//! - [`cid`]: CIDv1 construction and checking (dag-cbor and raw codecs, sha2-256)
//! - [`cbor`]: canonical DAG-CBOR encoding and strict decoding
//! - [`json`]: atproto JSON (`$link`, `$bytes`, blobs) to and from data-model values
//! - [`blob`]: the blob reference type, and finding blob references inside any value
//!
//! Values are [`Value`] (an IPLD tree). This module owns the rules of the data model
//! (no floats, 64-bit signed integers, string map keys, `$type` and blob shapes, limits on
//! size and depth); it does no I/O and knows nothing about lexicons.

pub mod blob;
pub mod cbor;
pub mod cid;
pub mod json;
mod strict;

pub use blob::{BlobRef, blob_refs};
pub use ipld_core::ipld::Ipld as Value;

use ::cid::Cid;
use std::fmt;
use thiserror::Error;

/// Why a value, a CBOR block or a CID was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DataError {
    /// The serde layer could not encode or decode the value (for example the bytes are
    /// well-formed DAG-CBOR but do not have the shape of the requested Rust type).
    #[error("DAG-CBOR: {0}")]
    Cbor(String),
    /// The bytes break one of the strict DAG-CBOR rules atproto relies on.
    #[error("not strict DAG-CBOR at byte {offset}: {rule}")]
    NotDagCbor {
        /// Offset of the head byte of the offending item.
        offset: usize,
        /// Which rule was broken.
        rule: CborRule,
    },
    /// Floats are not part of the atproto data model.
    #[error("floating-point numbers are not allowed in the atproto data model")]
    Float,
    /// Input larger than the configured limit.
    #[error("input too large: {size} bytes (limit {limit})")]
    TooLarge { size: usize, limit: usize },
    /// Nesting deeper than the configured limit.
    #[error("input nested too deeply (limit {limit} levels)")]
    TooDeep { limit: usize },
    /// A CID string or binary CID could not be parsed, or is not allowed here.
    #[error("invalid CID: {0}")]
    Cid(String),
    /// A block's bytes do not hash to its CID.
    #[error("block does not match its CID {0}")]
    CidMismatch(String),
    /// The JSON form breaks a data-model rule (`$link`, `$bytes`, `$type`, ...).
    #[error("invalid atproto JSON at {path}: {reason}")]
    Json {
        /// JSON pointer (RFC 6901) to the offending value; empty for the top level.
        path: String,
        /// What is wrong there.
        reason: String,
    },
    /// A value decoded but does not have the expected shape.
    #[error("unexpected shape: {0}")]
    Shape(String),
}

/// The strict DAG-CBOR rules (as atproto uses DAG-CBOR) that [`cbor::decode`] enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CborRule {
    /// The input ends in the middle of an item.
    Truncated,
    /// More bytes follow the single top-level item.
    TrailingBytes,
    /// Indefinite-length string, array or map, or a stray "break" byte.
    Indefinite,
    /// An integer, length or tag number not written in its shortest form.
    NonMinimal,
    /// Additional-information values 28 to 30, reserved by RFC 8949.
    ReservedInfo,
    /// A map key that is not a text string.
    MapKeyNotText,
    /// Map keys not in DAG-CBOR order (shorter first, then bytewise).
    MapKeyOrder,
    /// The same key twice in one map.
    DuplicateMapKey,
    /// A floating-point number (half, single or double).
    Float,
    /// A simple value other than false, true and null (including `undefined`).
    SimpleValue,
    /// A tag other than 42 (CID).
    Tag(u64),
    /// Tag 42 not followed by a byte string.
    LinkNotBytes,
    /// Tag 42 bytes that do not start with the 0x00 identity-multibase prefix.
    LinkPrefix,
    /// Tag 42 bytes that are not exactly one valid binary CID.
    LinkCid,
    /// A text string (or map key) that is not valid UTF-8.
    InvalidUtf8,
    /// An integer outside the signed 64-bit range.
    IntegerRange,
}

impl fmt::Display for CborRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CborRule::Truncated => f.write_str("input ends inside an item"),
            CborRule::TrailingBytes => f.write_str("bytes after the top-level item"),
            CborRule::Indefinite => f.write_str("indefinite length (or break) is not allowed"),
            CborRule::NonMinimal => f.write_str("integer or length not in shortest form"),
            CborRule::ReservedInfo => f.write_str("reserved additional-information value"),
            CborRule::MapKeyNotText => f.write_str("map key is not a text string"),
            CborRule::MapKeyOrder => f.write_str("map keys out of canonical order"),
            CborRule::DuplicateMapKey => f.write_str("duplicate map key"),
            CborRule::Float => f.write_str("floats are not allowed"),
            CborRule::SimpleValue => {
                f.write_str("simple values other than false/true/null are not allowed")
            }
            CborRule::Tag(t) => write!(f, "tag {t} is not allowed (only 42)"),
            CborRule::LinkNotBytes => f.write_str("tag 42 must wrap a byte string"),
            CborRule::LinkPrefix => f.write_str("CID bytes must start with the 0x00 prefix"),
            CborRule::LinkCid => f.write_str("tag 42 bytes are not a valid CID"),
            CborRule::InvalidUtf8 => f.write_str("text is not valid UTF-8"),
            CborRule::IntegerRange => f.write_str("integer outside the signed 64-bit range"),
        }
    }
}

/// Encode a record as canonical DAG-CBOR and compute its CID (dag-cbor, sha2-256).
///
/// The record must be a map with a non-empty string `$type`; the encoding goes through
/// [`cbor::encode`], so it is refused if strict decoding would refuse it.
pub fn record_cid(record: &Value) -> Result<(Cid, Vec<u8>), DataError> {
    json::check_record_shape(record)?;
    let bytes = cbor::encode(record)?;
    Ok((cid::for_cbor(&bytes), bytes))
}
