//! `/admin/v1/did/...` (`pdsctl did ...`): the PLC document and audit log with every key
//! labelled (user, relay, device), and signing-key rotation. Adapters over
//! `services::identity`; the PLC operations themselves are built by `pds::identity`.

use super::pending;
use crate::context::AppState;
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::{Query, State};
use pds::admin::{AccountRef, DidShowResponse, RotateSigningKeyResponse};

pub async fn show(
    State(_state): State<AppState>,
    Query(_q): Query<AccountRef>,
) -> Result<Json<DidShowResponse>, XrpcError> {
    Err(pending("did show"))
}

pub async fn rotate_signing_key(
    State(_state): State<AppState>,
    Json(_req): Json<AccountRef>,
) -> Result<Json<RotateSigningKeyResponse>, XrpcError> {
    Err(pending("did rotate-signing-key"))
}
