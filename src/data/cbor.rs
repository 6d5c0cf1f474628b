//! DAG-CBOR encoding and decoding for the atproto data model.
//!
//! Encoding is canonical (serde_ipld_dagcbor sorts map keys length-first and uses the
//! shortest integer forms). Decoding goes through [`decode`], which is where strictness
//! lives: input must be canonical, float-free, use only tag 42, and stay within the
//! size and depth limits. This module does no I/O.

use super::{DataError, Value};
use serde::{Serialize, de::DeserializeOwned};

/// Largest block we decode by default (records and MST nodes are far smaller).
pub const MAX_BLOCK_BYTES: usize = 2 * 1024 * 1024;
/// Deepest nesting we decode by default.
pub const MAX_DEPTH: usize = 128;

/// Encode any serializable value as canonical DAG-CBOR.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, DataError> {
    serde_ipld_dagcbor::to_vec(value).map_err(|e| DataError::Cbor(e.to_string()))
}

/// Decode strict DAG-CBOR into `T`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DataError> {
    if bytes.len() > MAX_BLOCK_BYTES {
        return Err(DataError::TooLarge {
            size: bytes.len(),
            limit: MAX_BLOCK_BYTES,
        });
    }
    serde_ipld_dagcbor::from_slice(bytes).map_err(|e| DataError::Cbor(e.to_string()))
}

/// Decode strict DAG-CBOR into a generic data-model value.
pub fn decode_value(bytes: &[u8]) -> Result<Value, DataError> {
    decode(bytes)
}
