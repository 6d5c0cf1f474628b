//! DAG-CBOR encoding and strict decoding for the atproto data model.
//!
//! Why our own checker runs before serde_ipld_dagcbor: atproto hashes and signs the exact
//! bytes of records, commits and MST nodes, so two encodings of one value must never both
//! be accepted (a second encoding is a second CID for the "same" record, and a way to
//! smuggle data past signatures and equality checks). serde_ipld_dagcbor is strict about
//! DAG-CBOR in most respects, but DAG-CBOR is not the atproto data model: it accepts
//! floats and integers up to 2^64 that atproto forbids; its key-order and duplicate checks
//! switch off when any crate in the build enables its `less-strict-decoding` feature; and
//! it has no size limit and reports its own depth limit only as an opaque message. So
//! every decode first runs the small validating walker in `strict.rs` over the raw bytes,
//! which enforces the whole rule set (see [`CborRule`](super::CborRule)) and the limits
//! with typed errors, and only then hands the bytes to serde_ipld_dagcbor to build the
//! value. Encoding uses serde_ipld_dagcbor (which writes map and struct entries in
//! canonical order and integers in shortest form) and then runs the same walker over its
//! output, so we never write what we would refuse to read. This module does no I/O.

use super::{DataError, Value, strict};
use serde::{Serialize, de::DeserializeOwned};

/// Largest block we decode by default (records and MST nodes are far smaller).
pub const MAX_BLOCK_BYTES: usize = 2 * 1024 * 1024;
/// Deepest nesting (of maps and arrays) we decode or encode. This is also a hard ceiling:
/// serde_ipld_dagcbor's reader refuses more than 128 levels by itself, so
/// [`decode_with_limits`] caps any larger `max_depth` to this value.
pub const MAX_DEPTH: usize = 128;

/// Encode any serializable value as canonical DAG-CBOR.
///
/// Refused (rather than written) when the result would not pass [`decode`]: floats,
/// integers outside i64, non-string map keys, more than [`MAX_BLOCK_BYTES`] or deeper
/// than [`MAX_DEPTH`].
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, DataError> {
    let bytes = serde_ipld_dagcbor::to_vec(value).map_err(|e| DataError::Cbor(e.to_string()))?;
    strict::check(&bytes, MAX_BLOCK_BYTES, MAX_DEPTH)?;
    Ok(bytes)
}

/// Decode strict DAG-CBOR into `T`, with the default limits.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DataError> {
    decode_with_limits(bytes, MAX_BLOCK_BYTES, MAX_DEPTH)
}

/// Decode strict DAG-CBOR into `T`, refusing more than `max_bytes` bytes or nesting deeper
/// than `max_depth` (capped at [`MAX_DEPTH`]).
pub fn decode_with_limits<T: DeserializeOwned>(
    bytes: &[u8],
    max_bytes: usize,
    max_depth: usize,
) -> Result<T, DataError> {
    validate_with_limits(bytes, max_bytes, max_depth)?;
    serde_ipld_dagcbor::from_slice(bytes).map_err(|e| DataError::Cbor(e.to_string()))
}

/// Decode strict DAG-CBOR into a generic data-model value.
pub fn decode_value(bytes: &[u8]) -> Result<Value, DataError> {
    decode(bytes)
}

/// Check that `bytes` is one item of strict DAG-CBOR within the default limits, without
/// building anything (for callers that only store or forward blocks).
pub fn validate(bytes: &[u8]) -> Result<(), DataError> {
    validate_with_limits(bytes, MAX_BLOCK_BYTES, MAX_DEPTH)
}

/// [`validate`] with explicit limits (`max_depth` capped at [`MAX_DEPTH`]).
pub fn validate_with_limits(
    bytes: &[u8],
    max_bytes: usize,
    max_depth: usize,
) -> Result<(), DataError> {
    strict::check(bytes, max_bytes, max_depth.min(MAX_DEPTH))
}
