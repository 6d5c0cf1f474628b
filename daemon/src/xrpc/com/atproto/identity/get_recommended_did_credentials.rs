//! com.atproto.identity.getRecommendedDidCredentials: what the DID document should hold
//! for this account to be hosted here (migration).

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::services::repo::find_account;
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

pub async fn handler(
    State(state): State<AppState>,
    auth: AccessAuth,
) -> Result<Json<Value>, XrpcError> {
    let account = find_account(&state, &auth.did).await?;
    let key = state
        .kek
        .open_keypair(
            &crate::services::repo::signing_key_label(&account.did),
            &account.signing_key,
        )
        .map_err(XrpcError::internal)?;
    let mut out = json!({
        "rotationKeys": [state.relay_rotation_key.did_key()],
        "verificationMethods": {"atproto": key.did_key()},
        "services": {"atproto_pds": {"type": "AtprotoPersonalDataServer", "endpoint": state.public_url}},
    });
    if let Some(h) = &account.handle {
        out["alsoKnownAs"] = json!([format!("at://{h}")]);
    } else {
        out["alsoKnownAs"] = json!([]);
    }
    Ok(Json(out))
}
