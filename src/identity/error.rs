//! The typed errors of the identity module: [`PlcError`] for operations and logs,
//! [`DocError`] for DID documents.
//!
//! Each variant names one rule of the did:plc or atproto DID specification, so the
//! daemon can map it to a precise answer. Messages never contain key material
//! beyond public did:keys.

use crate::crypto::CryptoError;
use crate::data::DataError;
use thiserror::Error;

/// Why a PLC operation, or an operation log, was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PlcError {
    // --- shape and encoding ---
    /// The JSON is not a PLC operation (unknown `type`, missing or unknown fields,
    /// wrong value types).
    #[error("malformed PLC operation: {0}")]
    Malformed(String),
    /// DAG-CBOR encoding failed (should not happen for well-typed operations).
    #[error("cannot encode operation: {0}")]
    Encoding(#[from] DataError),
    /// The signed operation is larger than the spec's limit in DAG-CBOR.
    #[error("operation is {size} bytes in DAG-CBOR; the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    /// `prev` is not the base32 string of a CIDv1 dag-cbor sha2-256 CID.
    #[error("invalid prev {prev:?}: {reason}")]
    InvalidPrev { prev: String, reason: String },
    /// New operations may not use the deprecated `create` format.
    #[error("the legacy `create` operation format is accepted only in existing logs")]
    LegacyCreate,

    // --- field constraints ---
    /// `rotationKeys` must hold 1 to 5 keys.
    #[error("rotationKeys must hold 1 to {max} keys, got {count}")]
    RotationKeyCount { count: usize, max: usize },
    /// A rotation key that is not a P-256 or secp256k1 did:key.
    #[error("invalid rotation key {key:?}: {source}")]
    RotationKey { key: String, source: CryptoError },
    /// The same rotation key listed twice.
    #[error("rotation key {0} is listed more than once")]
    DuplicateRotationKey(String),
    /// Too many `verificationMethods` entries.
    #[error("verificationMethods may hold at most {max} entries, got {count}")]
    VerificationMethodCount { count: usize, max: usize },
    /// A verification method whose id or key is unacceptable.
    #[error("invalid verification method {id:?}: {reason}")]
    VerificationMethod { id: String, reason: String },
    /// A verification method key that is not a P-256 or secp256k1 did:key.
    #[error("invalid key for verification method {id:?}: {source}")]
    VerificationMethodKey { id: String, source: CryptoError },
    /// Too many `alsoKnownAs` entries.
    #[error("alsoKnownAs may hold at most {max} entries, got {count}")]
    AlsoKnownAsCount { count: usize, max: usize },
    /// An `alsoKnownAs` entry that is not an acceptable URI.
    #[error("invalid alsoKnownAs entry {uri:?}: {reason}")]
    AlsoKnownAs { uri: String, reason: String },
    /// Too many `services` entries.
    #[error("services may hold at most {max} entries, got {count}")]
    ServiceCount { count: usize, max: usize },
    /// A service whose id, type or endpoint is unacceptable.
    #[error("invalid service {id:?}: {reason}")]
    Service { id: String, reason: String },
    /// A handle given to a builder that is not a valid atproto handle.
    #[error("invalid handle {0:?}")]
    Handle(String),

    // --- signatures ---
    /// `sig` is not strict base64url without padding (padding characters,
    /// non-zero trailing bits, whitespace and other characters are refused).
    #[error("signature is not strict unpadded base64url: {0}")]
    SignatureEncoding(String),
    /// The signature is not 64 bytes of compact `r || s` (DER is refused).
    #[error("signature must be 64 bytes of compact r||s, got {0} bytes")]
    SignatureLength(usize),
    /// The signature's S is in the upper half of the curve order.
    #[error("signature is not low-S")]
    HighS,
    /// No allowed rotation key verifies the signature.
    #[error("signature does not verify with any of the {tried} allowed rotation keys")]
    BadSignature { tried: usize },
    /// There is no rotation key that could sign this operation.
    #[error("the operation this builds on has no rotation keys")]
    NoRotationKeys,
    /// A builder was asked to sign with a key that is not an allowed rotation key.
    #[error("signing key {0} is not a rotation key of the operation this builds on")]
    SignerNotRotationKey(String),

    // --- chain rules ---
    /// The genesis operation does not hash to the DID.
    #[error("genesis operation derives {derived}, not {did}")]
    DidMismatch { did: String, derived: String },
    /// A DID string that is not `did:plc:` + 24 base32 characters.
    #[error("{0:?} is not a did:plc identifier")]
    NotDidPlc(String),
    /// The first operation of a log must be a creation with `prev: null`.
    #[error("the first operation must be a creation (plc_operation or create) with prev null")]
    NotGenesis,
    /// A creation operation (`prev: null`) where the DID already exists.
    #[error("the DID already exists: an update must name its prev")]
    UnexpectedGenesis,
    /// The log has no operations.
    #[error("the operation log is empty")]
    EmptyLog,
    /// A log entry that belongs to another DID.
    #[error("log entry for {found} in the log of {expected}")]
    WrongDid { expected: String, found: String },
    /// A log entry whose `cid` is not the CID of its operation.
    #[error("log entry claims CID {claimed} but its operation hashes to {computed}")]
    CidMismatch { claimed: String, computed: String },
    /// The same operation twice.
    #[error("operation {0} is already in the log")]
    DuplicateOperation(String),
    /// `prev` names no operation of this DID.
    #[error("prev {0} is not an operation of this DID")]
    PrevNotFound(String),
    /// `prev` names an operation that has been nullified.
    #[error("prev {0} has been nullified")]
    PrevNullified(String),
    /// `prev` names a tombstone: a tombstoned DID accepts no updates.
    #[error("prev {0} is a tombstone: the DID is deactivated")]
    PrevIsTombstone(String),
    /// Timestamps must increase strictly along the log.
    #[error("operation time {at} is not after the latest operation's time {latest}")]
    TimestampOrder { at: String, latest: String },
    /// A fork that would nullify operations signed by a key of equal or higher priority.
    #[error(
        "rotation key #{signer} may not nullify an operation signed by rotation key #{disputed}: \
         only a key listed before it can"
    )]
    InsufficientPriority { signer: usize, disputed: usize },
    /// A fork submitted more than 72 hours after the first operation it would nullify.
    #[error("recovery window closed: {elapsed_secs} s after the disputed operation (limit 72 h)")]
    LateRecovery { elapsed_secs: i64 },
    /// A log entry's `nullified` flag disagrees with the rules.
    #[error("log entry {cid} is marked nullified={claimed}, but the rules say {actual}")]
    NullifiedMismatch {
        cid: String,
        claimed: bool,
        actual: bool,
    },
    /// The DID is deactivated, so there is no current state to build on.
    #[error("the DID is tombstoned")]
    Tombstoned,
}

/// Why a DID document, or the atproto data in it, was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DocError {
    /// The JSON is not a DID document.
    #[error("malformed DID document: {0}")]
    Malformed(String),
    /// The document is for another DID than the one resolved.
    #[error("DID document is for {found}, expected {expected}")]
    IdMismatch { expected: String, found: String },
    /// No `#atproto` verification method of a usable type.
    #[error("DID document has no #atproto signing key")]
    NoSigningKey,
    /// The first `#atproto` verification method holds an unusable key.
    #[error("invalid #atproto signing key: {0}")]
    SigningKey(CryptoError),
    /// No `#atproto_pds` service of type AtprotoPersonalDataServer.
    #[error("DID document has no #atproto_pds service")]
    NoPdsEndpoint,
    /// The `#atproto_pds` endpoint is not an http(s) URL.
    #[error("invalid #atproto_pds endpoint {endpoint:?}: {reason}")]
    PdsEndpoint { endpoint: String, reason: String },
}
