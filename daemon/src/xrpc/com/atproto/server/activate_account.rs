//! com.atproto.server.activateAccount: serve a deactivated account's repo again.
//!
//! An account that arrived from another host is activated only once its DID names this
//! server and this server's signing key (the PLC move was submitted), as the reference
//! PDS requires.

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::services::repo::find_account;
use crate::xrpc::error::XrpcError;
use axum::extract::State;

pub async fn handler(State(state): State<AppState>, auth: AccessAuth) -> Result<(), XrpcError> {
    auth.require_full()?;
    let account = find_account(&state, &auth.did).await?;
    crate::services::migrate::ready_to_activate(&state, &account).await?;
    crate::services::account::activate(&state, &auth.did).await?;
    Ok(())
}
