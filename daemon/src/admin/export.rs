//! `/admin/v1/export/...` (`pdsctl export`): the manifest (commit, MST root, blob list),
//! the repository as a CAR stream, and each blob's bytes. Reads only, so members of the
//! socket's group may export too (a repository is public data). Adapters over
//! `services::repo`.

use super::pending;
use crate::context::AppState;
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use pds::admin::{AccountRef, ExportManifest};
use serde::Deserialize;

/// `?id=&cid=` of a blob download.
#[derive(Debug, Deserialize)]
pub struct BlobQuery {
    pub id: String,
    pub cid: String,
}

pub async fn manifest(
    State(_state): State<AppState>,
    Query(_q): Query<AccountRef>,
) -> Result<Json<ExportManifest>, XrpcError> {
    Err(pending("export"))
}

pub async fn repo(
    State(_state): State<AppState>,
    Query(_q): Query<AccountRef>,
) -> Result<Response, XrpcError> {
    Err(pending("export"))
}

pub async fn blob(
    State(_state): State<AppState>,
    Query(q): Query<BlobQuery>,
) -> Result<Response, XrpcError> {
    Err(pending(&format!("export {} (blob {})", q.id, q.cid)))
}
