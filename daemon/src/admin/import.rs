//! `/admin/v1/import/...` (`pdsctl import`): start (create the account deactivated, or
//! prepare a migration), receive the CAR and the blobs, then finish: verify everything and
//! only then activate. Adapters over `services::repo` and `services::account`.

use super::pending;
use crate::context::AppState;
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use pds::admin::{
    ImportBlobResponse, ImportFinishRequest, ImportFinishResponse, ImportRepoResponse,
    ImportStartRequest, ImportStartResponse,
};
use serde::Deserialize;

/// `?did=` of a repository upload.
#[derive(Debug, Deserialize)]
pub struct RepoQuery {
    pub did: String,
}

/// `?did=&cid=&mime_type=` of a blob upload.
#[derive(Debug, Deserialize)]
pub struct BlobQuery {
    pub did: String,
    pub cid: String,
    pub mime_type: String,
}

pub async fn start(
    State(_state): State<AppState>,
    Json(_req): Json<ImportStartRequest>,
) -> Result<Json<ImportStartResponse>, XrpcError> {
    Err(pending("import"))
}

pub async fn repo(
    State(_state): State<AppState>,
    Query(q): Query<RepoQuery>,
    _body: Body,
) -> Result<Json<ImportRepoResponse>, XrpcError> {
    Err(pending(&format!("import (repository of {})", q.did)))
}

pub async fn blob(
    State(_state): State<AppState>,
    Query(q): Query<BlobQuery>,
    _body: Body,
) -> Result<Json<ImportBlobResponse>, XrpcError> {
    Err(pending(&format!(
        "import (blob {} of {}, {})",
        q.cid, q.did, q.mime_type
    )))
}

pub async fn finish(
    State(_state): State<AppState>,
    Json(_req): Json<ImportFinishRequest>,
) -> Result<Json<ImportFinishResponse>, XrpcError> {
    Err(pending("import"))
}
