//! com.atproto.server.listAppPasswords: names and creation times (never the passwords).

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::store::sessions;
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

pub async fn handler(
    State(state): State<AppState>,
    auth: AccessAuth,
) -> Result<Json<Value>, XrpcError> {
    let did = auth.did.clone();
    let rows = state
        .db
        .read(move |c| sessions::list_app_passwords(c, &did))
        .await?;
    let passwords: Vec<Value> = rows
        .iter()
        .map(|r| json!({"name": r.name, "createdAt": r.created_at, "privileged": r.privileged}))
        .collect();
    Ok(Json(json!({ "passwords": passwords })))
}
