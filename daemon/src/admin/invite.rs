//! `POST /admin/v1/invite/create` (`pdsctl invite create`): make invite codes through
//! [`crate::services::invite`], the same service the XRPC admin methods use.

use crate::context::AppState;
use crate::services::invite::{InviteSpec, create_invite_codes};
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::State;
use pds::admin::{InviteCreateRequest, InviteCreateResponse};

pub async fn create(
    State(state): State<AppState>,
    Json(req): Json<InviteCreateRequest>,
) -> Result<Json<InviteCreateResponse>, XrpcError> {
    let for_account = match &req.for_account {
        Some(did) => {
            pds::syntax::Did::new(did).map_err(|e| XrpcError::invalid(e.to_string()))?;
            did.as_str()
        }
        None => "admin",
    };
    let codes = create_invite_codes(
        &state.db,
        &state.config.hostname,
        InviteSpec {
            uses: req.uses,
            count: req.count,
            for_account,
            created_by: "admin",
        },
    )
    .await?;
    Ok(Json(InviteCreateResponse {
        codes,
        uses: req.uses,
    }))
}
