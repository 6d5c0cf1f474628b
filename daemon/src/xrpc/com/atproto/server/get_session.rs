//! com.atproto.server.getSession: who the access token belongs to, with the DID document;
//! the email only for full sessions, privileged app passwords and OAuth apps granted
//! `transition:email`.

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::services::repo::find_account;
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::State;
use serde_json::Value;

pub async fn handler(
    State(state): State<AppState>,
    auth: AccessAuth,
) -> Result<Json<Value>, XrpcError> {
    let account = find_account(&state, &auth.did).await?;
    Ok(Json(
        super::session_json(&state, &account, auth.may_read_email()).await,
    ))
}
