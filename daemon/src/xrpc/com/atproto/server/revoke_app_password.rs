//! com.atproto.server.revokeAppPassword: delete an app password and its sessions.

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::store::sessions;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::extract::State;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct In {
    name: String,
}

pub async fn handler(
    State(state): State<AppState>,
    auth: AccessAuth,
    Input(input): Input<In>,
) -> Result<(), XrpcError> {
    auth.require_full()?;
    let did = auth.did.clone();
    state
        .db
        .write(move |tx| sessions::delete_app_password(tx.conn(), &did, &input.name))
        .await?;
    Ok(())
}
