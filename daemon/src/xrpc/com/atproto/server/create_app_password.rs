//! com.atproto.server.createAppPassword: a named, revocable password for third-party
//! clients (shown once, stored hashed).

use crate::auth::{AccessAuth, password};
use crate::context::AppState;
use crate::store::sessions;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub struct In {
    name: String,
    #[serde(default)]
    privileged: bool,
}

/// `xxxx-xxxx-xxxx-xxxx` from a-z and 2-7.
fn generate() -> Result<String, XrpcError> {
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let bytes = crate::keys::random_bytes::<16>().map_err(XrpcError::internal)?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| A[(*b as usize) % A.len()] as char)
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

pub async fn handler(
    State(state): State<AppState>,
    auth: AccessAuth,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    auth.require_full()?;
    let name = input.name.trim().to_string();
    if name.is_empty() || name.len() > 100 {
        return Err(XrpcError::invalid(
            "app password name must be 1 to 100 characters",
        ));
    }
    let secret = generate()?;
    let hash = password::hash_async(secret.clone())
        .await
        .map_err(XrpcError::internal)?;
    let (did, n, privileged) = (auth.did.clone(), name.clone(), input.privileged);
    let created = state
        .db
        .write(move |tx| sessions::insert_app_password(tx.conn(), &did, &n, &hash, privileged))
        .await?;
    if !created {
        return Err(XrpcError::named(
            "DuplicateName",
            "An app password with this name already exists",
        ));
    }
    Ok(Json(json!({
        "name": name,
        "password": secret,
        "createdAt": crate::store::now(),
        "privileged": input.privileged,
    })))
}
