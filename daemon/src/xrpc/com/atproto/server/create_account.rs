//! com.atproto.server.createAccount: the DID ceremony (see services::account), then a session.
//!
//! With `did`, an existing did:plc arrives from another host (account migration): the
//! caller proves control with a service token (`lxm` createAccount, `aud` this server)
//! signed by the DID's signing key or one of its rotation keys; the account is created
//! deactivated with a fresh signing key here (services::migrate), to be filled with
//! importRepo and uploadBlob, moved with submitPlcOperation and then activated.

use crate::auth::service_auth;
use crate::context::AppState;
use crate::services::{account, migrate, session};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
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
    headers: HeaderMap,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    if input.plc_op.is_some() {
        return Err(XrpcError::invalid(
            "plcOp is not taken here: bring an existing DID with `did` and a service token, then submit the move with com.atproto.identity.submitPlcOperation",
        ));
    }
    if input.password.as_deref().unwrap_or("").is_empty() {
        return Err(XrpcError::invalid("A password is required"));
    }
    if input.email.as_deref().unwrap_or("").is_empty() {
        return Err(XrpcError::invalid("An email address is required"));
    }
    if let Some(did) = input.did.clone() {
        return arriving(&state, &headers, did, input).await;
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

/// An existing DID moving here: check the service token, then create the account
/// deactivated.
async fn arriving(
    state: &AppState,
    headers: &HeaderMap,
    did: String,
    input: In,
) -> Result<Json<Value>, XrpcError> {
    const LXM: &str = "com.atproto.server.createAccount";
    let token = crate::auth::bearer(headers)?.ok_or_else(|| {
        XrpcError::auth_required(format!(
            "bringing {did} here needs a service token for {LXM} signed by its signing key or a rotation key"
        ))
    })?;
    let keys = migrate::did_keys(state, &did).await?;
    let prover = service_auth::verify(token, &state.service_did, &did, LXM, &keys)?;
    let (rotation_key, old_host_signs) = match &prover {
        service_auth::Prover::RotationKey(k) => (Some(k.to_did_key()), false),
        service_auth::Prover::SigningKey(_) => (None, true),
    };
    let started = migrate::start(
        state,
        migrate::Incoming {
            did,
            handle: Some(input.handle),
            email: input.email,
            password: input.password,
            rotation_key,
            old_host_signs,
            public: true,
            invite_code: input.invite_code,
        },
    )
    .await?;
    let tokens = session::issue(state, &started.did, None).await?;
    Ok(Json(json!({
        "handle": started.handle,
        "did": started.did,
        "accessJwt": tokens.access,
        "refreshJwt": tokens.refresh,
    })))
}
