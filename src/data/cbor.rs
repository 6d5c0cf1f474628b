//! DAG-CBOR encoding and strict decoding for the atproto data model.
//!
//! Why our own checker runs before serde_ipld_dagcbor: atproto hashes and signs the exact
//! bytes of records, commits and MST nodes, so two encodings of one value must never both
//! be accepted (a second encoding is a second CID for the "same" record, and a way to
//! smuggle data past signatures and equality checks). serde_ipld_dagcbor is strict in
//! most respects, but its strictness depends on the requested Rust type and on cargo
//! features any crate in the build can switch on (`less-strict-decoding`), it accepts
//! floats and integers beyond i64 that atproto forbids, and it has no size or depth limit
//! (its recursion would overflow the stack on hostile nesting). So every decode first runs
//! the small validating walker in `strict.rs` over the raw bytes, which enforces the
//! whole rule set (see [`CborRule`](super::CborRule)) plus the limits, and only then hands
//! the bytes to serde_ipld_dagcbor to build the value. Encoding uses serde_ipld_dagcbor
//! (which writes map and struct entries in canonical order and shortest integer forms)
//! and then runs the same walker over its output, so we never write what we would refuse
//! to read. This module does no I/O.

use super::{DataError, Value, strict};
use serde::{Serialize, de::DeserializeOwned};

/// Largest block we decode by default (records and MST nodes are far smaller).
pub const MAX_BLOCK_BYTES: usize = 2 * 1024 * 1024;
/// Deepest nesting (of maps and arrays) we decode by default.
pub const MAX_DEPTH: usize = 128;
/// The most [`decode_with_limits`] will allow whatever it is asked: the serde decoder
/// recurses once per level, and this keeps it well inside a default thread stack.
pub const DEPTH_CEILING: usize = 512;

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
/// than `max_depth` (itself capped at [`DEPTH_CEILING`]).
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

/// [`validate`] with explicit limits (`max_depth` capped at [`DEPTH_CEILING`]).
pub fn validate_with_limits(
    bytes: &[u8],
    max_bytes: usize,
    max_depth: usize,
) -> Result<(), DataError> {
    strict::check(bytes, max_bytes, max_depth.min(DEPTH_CEILING))
}
