//! `POST /admin/v1/invite/create` (`pdsctl invite create`): make invite codes through
//! [`crate::services::invite`], the same service the XRPC admin methods use.

use crate::context::AppState;
use crate::services::invite;
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::State;
use pds::admin::{InviteCreateRequest, InviteCreateResponse};

pub async fn create(
    State(state): State<AppState>,
    Json(req): Json<InviteCreateRequest>,
) -> Result<Json<InviteCreateResponse>, XrpcError> {
    if let Some(did) = &req.for_account {
        pds::syntax::Did::new(did).map_err(|e| XrpcError::invalid(e.to_string()))?;
    }
    let made = invite::create(&state, req.count, req.uses, req.for_account.clone()).await?;
    Ok(Json(InviteCreateResponse {
        codes: made.into_iter().map(|i| i.code).collect(),
        uses: req.uses,
    }))
}
