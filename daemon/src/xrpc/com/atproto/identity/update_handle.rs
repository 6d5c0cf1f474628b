//! com.atproto.identity.updateHandle: change the account's handle (PLC update + #identity).

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::extract::State;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct In {
    handle: String,
}

pub async fn handler(
    State(state): State<AppState>,
    auth: AccessAuth,
    Input(input): Input<In>,
) -> Result<(), XrpcError> {
    if !auth.is_privileged() {
        return Err(XrpcError::invalid(format!(
            "{} cannot change the handle",
            auth.limited_kind()
        )));
    }
    crate::services::account::update_handle(&state, &auth.did, &input.handle).await?;
    Ok(())
}
