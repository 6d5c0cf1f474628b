//! com.atproto.server.deleteSession: revoke the presented refresh token.

use crate::auth::RefreshAuth;
use crate::context::AppState;
use crate::services::session;
use crate::xrpc::error::XrpcError;
use axum::extract::State;

pub async fn handler(State(state): State<AppState>, auth: RefreshAuth) -> Result<(), XrpcError> {
    session::revoke(&state, &auth).await?;
    Ok(())
}
