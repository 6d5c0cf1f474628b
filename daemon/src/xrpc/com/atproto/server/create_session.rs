//! com.atproto.server.createSession: log in with handle/DID/e-mail and a password (or an
//! app password); returns access and refresh tokens.

use crate::context::AppState;
use crate::services::session;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct In {
    identifier: String,
    password: String,
    #[allow(dead_code)]
    auth_factor_token: Option<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    if input.identifier.trim().is_empty() || input.password.is_empty() {
        return Err(XrpcError::invalid("identifier and password are required"));
    }
    let login = session::login(&state, &input.identifier, &input.password).await?;
    let mut out = super::session_json(&state, &login.account, true).await;
    out["accessJwt"] = json!(login.tokens.access);
    out["refreshJwt"] = json!(login.tokens.refresh);
    Ok(Json(out))
}
