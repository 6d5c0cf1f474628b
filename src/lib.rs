//! `pds`: the protocol and domain core of pdsd and pdsctl.
//!
//! Everything here is pure protocol logic: no sockets, no HTTP, no SQL, no CLI.
//! The daemon (`pdsd`) and the command line (`pdsctl`) both build on it.
//!
//! - [`syntax`] — identifiers (handle, DID, NSID, AT-URI, TID, record key, datetime, language, CID strings)
//! - [`data`] — the atproto data model: DAG-CBOR (strict), JSON conversion, CIDs, blob refs
//! - [`crypto`] — P-256 and secp256k1 keys, did:key / multikey, low-S signatures
//! - [`car`] — CAR v1 streaming writer and verifying reader
//! - [`repo`] — the repository: MST, signed v3 commits, diffs, proofs, whole-repo verification
//! - [`identity`] — DID documents and PLC operations (build, sign, verify, derive did:plc)
//! - [`lexicon`] — lexicon schema documents and record validation
//! - [`secret`] — Shamir 2-of-3 shares, BIP-39 words, recovery sheets, transfer codes
//! - [`store`] — storage traits and their typed error, with an in-memory implementation
//! - [`admin`] — the admin-socket contract shared by pdsd and pdsctl

pub mod admin;
pub mod car;
pub mod crypto;
pub mod data;
pub mod identity;
pub mod lexicon;
pub mod repo;
pub mod secret;
pub mod store;
pub mod syntax;

pub use cid::Cid;
