//! Identity: did:plc operations and logs, and DID documents.
//!
//! - [`plc`]: PLC operations (`plc_operation`, `plc_tombstone`, legacy `create`):
//!   JSON and DAG-CBOR forms, signing, verification, CID, DID derivation, the
//!   spec's constraints, and builders for genesis, update and tombstone
//! - [`log`]: audit-log verification and the incremental [`PlcState`] a PLC
//!   directory uses to accept or refuse operations (prev chain, key priority,
//!   72-hour recovery window, tombstones)
//! - [`doc`]: the DID document and `/data` form a PLC directory serves, and reading
//!   the atproto signing key, PDS endpoint and handle out of any DID document
//!
//! Only P-256 and secp256k1 keys are accepted anywhere. This module does no I/O and
//! keeps no clock: resolution and time belong to the caller.

mod check;
pub mod doc;
mod error;
pub mod log;
pub mod plc;

pub use doc::{AtprotoIdentity, DidDocument, DocService, PlcData, VerificationMethod};
pub use error::{DocError, PlcError};
pub use log::{Applied, LogEntry, PlcState, RECOVERY_WINDOW, verify_ops};
pub use plc::{
    AtprotoGenesis, LegacyCreate, PlcOperation, PlcTombstone, Service, SignedOp, UnsignedOp,
    UpdateBuilder, tombstone,
};
