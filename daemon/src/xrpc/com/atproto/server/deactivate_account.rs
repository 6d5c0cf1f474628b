//! com.atproto.server.deactivateAccount: stop serving the repo (e.g. before a migration),
//! optionally scheduling deletion.

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::extract::State;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct In {
    delete_after: Option<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    auth: AccessAuth,
    Input(input): Input<In>,
) -> Result<(), XrpcError> {
    auth.require_full()?;
    if let Some(d) = &input.delete_after {
        pds::syntax::Datetime::new(d)
            .map_err(|e| XrpcError::invalid(format!("Invalid deleteAfter: {e}")))?;
    }
    crate::services::account::deactivate(&state, &auth.did, input.delete_after).await?;
    Ok(())
}
