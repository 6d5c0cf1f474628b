//! com.atproto.server.createInviteCode (admin): one code with `useCount` uses.

use crate::auth::AdminAuth;
use crate::context::AppState;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct In {
    use_count: u32,
    for_account: Option<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    let codes =
        crate::services::invite::create(&state, 1, input.use_count, input.for_account).await?;
    let code = codes.first().map(|c| c.code.clone()).unwrap_or_default();
    Ok(Json(json!({ "code": code })))
}
