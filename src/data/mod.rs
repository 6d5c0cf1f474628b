//! The atproto data model: values, DAG-CBOR, CIDs and blob references.
//!
//! - [`cid`]: CIDv1 construction and checking (dag-cbor and raw codecs, sha2-256)
//! - [`cbor`]: canonical DAG-CBOR encoding and strict decoding
//! - [`json`]: atproto JSON (`$link`, `$bytes`, blobs) to and from data-model values
//! - [`blob`]: the blob reference type
//!
//! Values are [`Value`] (an IPLD tree). This module owns the rules of the data model
//! (no floats, string map keys, limits on size and depth); it does no I/O.

pub mod blob;
pub mod cbor;
pub mod cid;
pub mod json;

pub use blob::BlobRef;
pub use ipld_core::ipld::Ipld as Value;

use thiserror::Error;

/// Why a value, a CBOR block or a CID was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DataError {
    /// The bytes are not valid (strict, canonical) DAG-CBOR.
    #[error("invalid DAG-CBOR: {0}")]
    Cbor(String),
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
    #[error("invalid atproto JSON: {0}")]
    Json(String),
    /// A value decoded but does not have the expected shape.
    #[error("unexpected shape: {0}")]
    Shape(String),
}
