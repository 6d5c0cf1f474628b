//! com.atproto.repo.describeRepo: handle, DID document and collections of a repo.

use crate::context::AppState;
use crate::services::repo::find_readable;
use crate::store::repo as repo_store;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Params;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub struct P {
    repo: String,
}

pub async fn handler(
    State(state): State<AppState>,
    Params(p): Params<P>,
) -> Result<Json<Value>, XrpcError> {
    let account = find_readable(&state, &p.repo, false).await?;
    let did = account.did.clone();
    let collections = state
        .db
        .read(move |c| repo_store::collections(c, &did))
        .await?;
    let doc = crate::services::identity::did_document(&state, &account.did)
        .await
        .ok();
    let handle = account.handle_or_invalid();
    let handle_is_correct = doc
        .as_ref()
        .and_then(|d| d.get("alsoKnownAs"))
        .and_then(|a| a.as_array())
        .is_some_and(|a| {
            a.iter()
                .any(|v| v.as_str() == Some(&format!("at://{handle}")))
        });
    Ok(Json(json!({
        "handle": handle,
        "did": account.did,
        "didDoc": doc.unwrap_or(Value::Null),
        "collections": collections,
        "handleIsCorrect": handle_is_correct,
    })))
}
