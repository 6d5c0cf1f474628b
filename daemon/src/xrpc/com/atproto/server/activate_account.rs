//! com.atproto.server.activateAccount: serve a deactivated account's repo again.

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::xrpc::error::XrpcError;
use axum::extract::State;

pub async fn handler(State(state): State<AppState>, auth: AccessAuth) -> Result<(), XrpcError> {
    auth.require_full()?;
    crate::services::account::activate(&state, &auth.did).await?;
    Ok(())
}
