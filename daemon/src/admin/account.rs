//! `/admin/v1/account/...` (`pdsctl account ...`): create (the DID ceremony), list, show,
//! deactivate, activate, delete, reset-password, takedown, untakedown. Each is a thin
//! adapter over `services::account`, the functions the XRPC handlers call too.

use super::pending;
use crate::context::AppState;
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::{Query, State};
use pds::admin::{
    AccountCreateRequest, AccountCreateResponse, AccountDeleted, AccountInfo, AccountListResponse,
    AccountRef, ResetPasswordRequest, TakedownRequest,
};

pub async fn create(
    State(_state): State<AppState>,
    Json(_req): Json<AccountCreateRequest>,
) -> Result<Json<AccountCreateResponse>, XrpcError> {
    Err(pending("account create"))
}

pub async fn list(State(_state): State<AppState>) -> Result<Json<AccountListResponse>, XrpcError> {
    Err(pending("account list"))
}

pub async fn show(
    State(_state): State<AppState>,
    Query(_q): Query<AccountRef>,
) -> Result<Json<AccountInfo>, XrpcError> {
    Err(pending("account show"))
}

pub async fn deactivate(
    State(_state): State<AppState>,
    Json(_req): Json<AccountRef>,
) -> Result<Json<AccountInfo>, XrpcError> {
    Err(pending("account deactivate"))
}

pub async fn activate(
    State(_state): State<AppState>,
    Json(_req): Json<AccountRef>,
) -> Result<Json<AccountInfo>, XrpcError> {
    Err(pending("account activate"))
}

pub async fn delete(
    State(_state): State<AppState>,
    Json(_req): Json<AccountRef>,
) -> Result<Json<AccountDeleted>, XrpcError> {
    Err(pending("account delete"))
}

pub async fn reset_password(
    State(_state): State<AppState>,
    Json(_req): Json<ResetPasswordRequest>,
) -> Result<Json<AccountInfo>, XrpcError> {
    Err(pending("account reset-password"))
}

pub async fn takedown(
    State(_state): State<AppState>,
    Json(_req): Json<TakedownRequest>,
) -> Result<Json<AccountInfo>, XrpcError> {
    Err(pending("account takedown"))
}

pub async fn untakedown(
    State(_state): State<AppState>,
    Json(_req): Json<AccountRef>,
) -> Result<Json<AccountInfo>, XrpcError> {
    Err(pending("account untakedown"))
}
