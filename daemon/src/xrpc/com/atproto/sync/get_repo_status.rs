//! com.atproto.sync.getRepoStatus: whether a repo is active, its status, and its rev.

use crate::context::AppState;
use crate::services::repo::find_account;
use crate::store::repo as repo_store;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Params;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub struct P {
    did: String,
}

pub async fn handler(
    State(state): State<AppState>,
    Params(p): Params<P>,
) -> Result<Json<Value>, XrpcError> {
    let did = pds::syntax::Did::new(&p.did)
        .map_err(|e| XrpcError::invalid(format!("Invalid did: {e}")))?;
    let account = find_account(&state, did.as_str()).await?;
    let d = account.did.clone();
    let head = state.db.read(move |c| repo_store::head(c, &d)).await?;
    let active = account.is_active();
    let mut out = json!({"did": account.did, "active": active});
    if !active {
        out["status"] = json!(account.status());
    }
    if let Some(h) = head
        && active
    {
        out["rev"] = json!(h.rev.to_string());
    }
    Ok(Json(out))
}
