//! Lexicon schemas: parsing schema documents, a catalog that resolves references between
//! them, and validation of data-model values (records, XRPC bodies) against them.
//!
//! - [`schema`]: the serde types for every definition kind, and the structural checks a
//!   document must pass before it is used
//! - [`catalog`]: a set of documents keyed by NSID; reference resolution; the entry points
//!   for validating records and arbitrary values
//! - [`builtin`]: the `com.atproto.*` and `app.bsky.*` lexicons vendored in `lexicons/`,
//!   compiled into the library
//!
//! Validation works on [`crate::data::Value`] trees (so links, bytes and blobs already have
//! their data-model shape); string formats are checked with [`crate::syntax`]. This module
//! never fetches lexicons from the network and never repairs data: a value either passes
//! or is refused with the path of the offending field.

pub mod builtin;
pub mod catalog;
mod formats;
pub mod schema;
mod validate;

pub use builtin::builtin;
pub use catalog::{Catalog, Resolved, ValidationStatus};
pub use schema::{
    ArrayType, BlobType, Body, BooleanType, BytesType, CidLinkType, ErrorDef, FieldType,
    IntegerType, LexiconDoc, Message, ObjectType, ParamsType, Permission, PermissionSetDef,
    ProcedureDef, QueryDef, RecordDef, RecordKeyType, RefType, StringFormat, StringType,
    SubscriptionDef, TokenDef, UnionType, UnknownType, UserType,
};

use thiserror::Error;

/// Why a lexicon document was refused, or why a value does not match its lexicon.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum LexiconError {
    /// A schema document is malformed: bad JSON shape, a bad NSID, a definition kind in a
    /// place it may not appear, contradictory constraints, ...
    #[error("invalid lexicon {id}: {path}: {reason}")]
    Schema {
        /// The document's `id` as written (or `?` when even that was unreadable).
        id: String,
        /// Where in the document, e.g. `defs/main/record/properties/text`.
        path: String,
        reason: String,
    },
    /// A document with this NSID is already in the catalog.
    #[error("lexicon {0} is already in the catalog")]
    Duplicate(String),
    /// No document with this NSID is in the catalog.
    #[error("no lexicon is known for {0}")]
    UnknownLexicon(String),
    /// The NSID's `main` definition is not of the kind the caller asked for.
    #[error("{nsid} is not a {expected} (its main definition is {found})")]
    WrongKind {
        nsid: String,
        expected: &'static str,
        found: &'static str,
    },
    /// The record key is not valid for this collection.
    #[error("invalid record key {rkey:?}: {reason}")]
    RecordKey { rkey: String, reason: String },
    /// The value does not match the schema at `path` (e.g. `record/embed/images/0/alt`).
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
    /// The schema itself could not be followed at `path`: a reference that does not
    /// resolve, or that points at a definition kind it may not point at.
    #[error("{path}: reference {reference}: {reason}")]
    Reference {
        path: String,
        reference: String,
        reason: String,
    },
}
