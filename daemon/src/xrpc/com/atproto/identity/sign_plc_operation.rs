//! com.atproto.identity.signPlcOperation: sign a PLC operation for the account with this
//! server's rotation key, given the e-mailed code. Fields not given keep their current value.

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::store::sessions;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use pds::identity::{PlcOperation, Service, UnsignedOp};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct In {
    token: Option<String>,
    rotation_keys: Option<Vec<String>>,
    also_known_as: Option<Vec<String>>,
    verification_methods: Option<BTreeMap<String, String>>,
    services: Option<BTreeMap<String, Service>>,
}

pub async fn handler(
    State(state): State<AppState>,
    auth: AccessAuth,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    auth.require_full()?;
    let token = input.token.ok_or_else(|| {
        XrpcError::invalid("email confirmation token required to sign PLC operations")
    })?;
    let d = auth.did.clone();
    let valid = state
        .db
        .write(move |tx| {
            sessions::take_email_token(tx.conn(), "plc_operation", &d, &token, 15 * 60)
        })
        .await?;
    if !valid {
        return Err(XrpcError::named(
            "InvalidToken",
            "Token is invalid or expired",
        ));
    }
    let last = crate::services::identity::last_op(&state, &auth.did).await?;
    let current = last
        .op
        .normalized()
        .ok_or_else(|| XrpcError::invalid("this DID has been tombstoned"))?;
    let prev = last.cid().map_err(XrpcError::internal)?;
    let op = UnsignedOp::Operation(PlcOperation {
        rotation_keys: input.rotation_keys.unwrap_or(current.rotation_keys),
        verification_methods: input
            .verification_methods
            .unwrap_or(current.verification_methods),
        also_known_as: input.also_known_as.unwrap_or(current.also_known_as),
        services: input.services.unwrap_or(current.services),
        prev: Some(prev.to_string()),
    });
    op.check_constraints()?;
    if !last
        .op
        .rotation_keys()
        .contains(&state.relay_rotation_key.did_key())
    {
        return Err(XrpcError::invalid(
            "this server's rotation key is no longer a rotation key of this DID",
        ));
    }
    let signed = op.sign(&state.relay_rotation_key)?;
    Ok(Json(
        json!({ "operation": serde_json::to_value(&signed).map_err(XrpcError::internal)? }),
    ))
}
