//! The operations pdsd performs, shared by the XRPC handlers, the admin socket and the
//! device API, so that each flow exists once: accounts and the DID ceremony, moving a DID
//! here (migrate), sessions, repo writes and reads, identity (PLC) updates, blobs, invites,
//! devices, and the user's keys (escrow of a Shamir share, recovery, transfer).
//!
//! Services return [`ServiceError`], a typed error; `xrpc::error` maps it to the
//! Lexicon's error names (the admin API reuses that mapping).

pub mod account;
pub mod blob;
pub mod desktop;
pub mod device;
pub mod escrow;
pub mod handle_resolver;
pub mod identity;
pub mod invite;
pub mod mail;
pub mod migrate;
pub mod recovery;
pub mod relay_keys;
pub mod repo;
pub mod repo_pipeline;
pub mod rotation;
pub mod session;
pub mod transfer;

use crate::store::DbError;

/// Why an operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// 400 InvalidRequest.
    #[error("{0}")]
    InvalidRequest(String),
    /// 400 with a Lexicon-specific error name.
    #[error("{1}")]
    Named(&'static str, String),
    /// 401 AuthenticationRequired (wrong password and the like).
    #[error("{0}")]
    AuthenticationRequired(String),
    /// 403: authenticated but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 400 RepoNotFound.
    #[error("Could not find repo for DID: {0}")]
    RepoNotFound(String),
    /// 400 RepoDeactivated.
    #[error("Repo has been deactivated: {0}")]
    RepoDeactivated(String),
    /// 400 RepoTakendown.
    #[error("Repo has been taken down: {0}")]
    RepoTakendown(String),
    /// 400 RecordNotFound.
    #[error("Could not locate record: {0}")]
    RecordNotFound(String),
    /// 400 InvalidSwap.
    #[error("{0}")]
    InvalidSwap(String),
    /// 413 / 400 BlobTooLarge.
    #[error("{0}")]
    BlobTooLarge(String),
    /// 404 for blobs.
    #[error("Blob not found")]
    BlobNotFound,
    /// 502: a service we depend on (PLC directory, app view) failed.
    #[error("{0}")]
    Upstream(String),
    /// 503: cannot do this now.
    #[error("{1}")]
    Unavailable(&'static str, String),
    /// 500: logged, answered generically.
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    /// 400 InvalidRequest.
    pub fn invalid(msg: impl Into<String>) -> Self {
        ServiceError::InvalidRequest(msg.into())
    }
    /// An internal failure with its cause.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ServiceError::Internal(cause.to_string())
    }
}

impl From<DbError> for ServiceError {
    fn from(e: DbError) -> Self {
        ServiceError::Internal(e.to_string())
    }
}

impl From<crate::keys::KeyError> for ServiceError {
    fn from(e: crate::keys::KeyError) -> Self {
        ServiceError::Internal(e.to_string())
    }
}

impl From<pds::store::StoreError> for ServiceError {
    fn from(e: pds::store::StoreError) -> Self {
        ServiceError::Internal(e.to_string())
    }
}

impl From<crate::plc::client::PlcClientError> for ServiceError {
    fn from(e: crate::plc::client::PlcClientError) -> Self {
        use crate::plc::client::PlcClientError as P;
        match e {
            P::Refused { status, message } if (400..500).contains(&status) => ServiceError::Named(
                "InvalidRequest",
                format!("PLC directory refused the operation: {message}"),
            ),
            other => ServiceError::Upstream(other.to_string()),
        }
    }
}

impl From<crate::blobs::BlobError> for ServiceError {
    fn from(e: crate::blobs::BlobError) -> Self {
        use crate::blobs::BlobError as B;
        match e {
            B::TooLarge { limit } => ServiceError::BlobTooLarge(format!(
                "This file is too large. It is larger than the maximum size of {limit} bytes"
            )),
            B::NotFound => ServiceError::BlobNotFound,
            B::Body(m) => ServiceError::invalid(format!("upload interrupted: {m}")),
            B::Store(m) => ServiceError::Internal(m),
        }
    }
}

impl From<pds::syntax::SyntaxError> for ServiceError {
    fn from(e: pds::syntax::SyntaxError) -> Self {
        ServiceError::InvalidRequest(e.to_string())
    }
}

impl From<pds::data::DataError> for ServiceError {
    fn from(e: pds::data::DataError) -> Self {
        ServiceError::InvalidRequest(e.to_string())
    }
}

impl From<pds::repo::WriteError> for ServiceError {
    fn from(e: pds::repo::WriteError) -> Self {
        use pds::repo::WriteError as W;
        match e {
            W::InvalidSwapCommit { .. } | W::InvalidSwap { .. } => {
                ServiceError::InvalidSwap(e.to_string())
            }
            W::RecordAlreadyExists(p) => {
                ServiceError::InvalidRequest(format!("Record already exists: {p}"))
            }
            W::RecordNotFound(p) => ServiceError::RecordNotFound(p),
            W::DuplicatePath(_) | W::InvalidPath(_) | W::InvalidRecord { .. } | W::NotACreate => {
                ServiceError::InvalidRequest(e.to_string())
            }
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

impl From<pds::identity::PlcError> for ServiceError {
    fn from(e: pds::identity::PlcError) -> Self {
        ServiceError::InvalidRequest(e.to_string())
    }
}
