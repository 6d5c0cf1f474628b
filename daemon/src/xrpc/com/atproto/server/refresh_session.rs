//! com.atproto.server.refreshSession: trade a refresh token for a new pair (rotation).

use crate::auth::RefreshAuth;
use crate::context::AppState;
use crate::services::session;
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

pub async fn handler(
    State(state): State<AppState>,
    auth: RefreshAuth,
) -> Result<Json<Value>, XrpcError> {
    let (account, tokens) = session::refresh(&state, &auth).await?;
    let mut out = super::session_json(&state, &account, true).await;
    out["accessJwt"] = json!(tokens.access);
    out["refreshJwt"] = json!(tokens.refresh);
    Ok(Json(out))
}
