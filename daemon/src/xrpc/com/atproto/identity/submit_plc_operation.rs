//! com.atproto.identity.submitPlcOperation: send a signed PLC operation for the account to
//! the directory, after checking it keeps this server as the PDS with our signing key.

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::services::repo::find_account;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::extract::State;
use pds::identity::SignedOp;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub struct In {
    operation: Value,
}

pub async fn handler(
    State(state): State<AppState>,
    auth: AccessAuth,
    Input(input): Input<In>,
) -> Result<(), XrpcError> {
    auth.require_full()?;
    let bytes = serde_json::to_vec(&input.operation).map_err(XrpcError::internal)?;
    let op = SignedOp::from_json(&bytes)
        .map_err(|e| XrpcError::invalid(format!("Invalid operation: {e}")))?;
    let data = op
        .op
        .normalized()
        .ok_or_else(|| XrpcError::invalid("a tombstone cannot be submitted through this server"))?;
    let account = find_account(&state, &auth.did).await?;
    let key = state
        .kek
        .open_keypair(
            &crate::services::repo::signing_key_label(&account.did),
            &account.signing_key,
        )
        .map_err(XrpcError::internal)?;
    if data.verification_methods.get("atproto") != Some(&key.did_key()) {
        return Err(XrpcError::invalid(
            "Incorrect signing key: the operation must keep this server's signing key",
        ));
    }
    let endpoint = data
        .services
        .get("atproto_pds")
        .map(|s| s.endpoint.trim_end_matches('/'));
    if endpoint != Some(state.public_url.as_str()) {
        return Err(XrpcError::invalid(
            "Incorrect endpoint on atproto_pds service",
        ));
    }
    if let Some(h) = &account.handle
        && !data.also_known_as.iter().any(|a| a == &format!("at://{h}"))
    {
        return Err(XrpcError::invalid("Incorrect handle in alsoKnownAs"));
    }
    crate::services::identity::submit(&state, &auth.did, &op).await?;
    crate::services::account::announce_identity(&state, &auth.did).await?;
    Ok(())
}
