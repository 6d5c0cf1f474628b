//! com.atproto.server.createAccount: the DID ceremony (see services::account), then a session.

use crate::context::AppState;
use crate::services::{account, session};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct In {
    handle: String,
    email: Option<String>,
    password: Option<String>,
    invite_code: Option<String>,
    /// The user's own rotation key (did:key), placed first in rotationKeys.
    recovery_key: Option<String>,
    did: Option<String>,
    plc_op: Option<Value>,
    #[allow(dead_code)]
    verification_code: Option<String>,
    #[allow(dead_code)]
    verification_phone: Option<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    if input.did.is_some() || input.plc_op.is_some() {
        return Err(XrpcError::invalid(
            "Bringing an existing DID is done by migration: create the account with pdsctl import, or use the device API",
        ));
    }
    if input.password.as_deref().unwrap_or("").is_empty() {
        return Err(XrpcError::invalid("A password is required"));
    }
    if input.email.as_deref().unwrap_or("").is_empty() {
        return Err(XrpcError::invalid("An email address is required"));
    }
    let created = account::create(
        &state,
        account::NewAccount {
            handle: input.handle,
            email: input.email,
            password: input.password,
            invite_code: input.invite_code,
            recovery_key: input.recovery_key,
            ..Default::default()
        },
    )
    .await?;
    let tokens = session::issue(&state, &created.did, None).await?;
    let doc = crate::services::identity::did_document(&state, &created.did)
        .await
        .ok();
    let mut out = json!({
        "handle": created.handle,
        "did": created.did,
        "accessJwt": tokens.access,
        "refreshJwt": tokens.refresh,
    });
    if let Some(d) = doc {
        out["didDoc"] = d;
    }
    Ok(Json(out))
}
