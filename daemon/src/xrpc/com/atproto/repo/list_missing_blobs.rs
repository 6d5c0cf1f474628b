//! com.atproto.repo.listMissingBlobs: blobs the caller's records reference but that were
//! never uploaded here (after an import).

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::store::blobs as blob_store;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Params;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub struct P {
    limit: Option<u32>,
    cursor: Option<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    auth: AccessAuth,
    Params(p): Params<P>,
) -> Result<Json<Value>, XrpcError> {
    let limit = p.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return Err(XrpcError::invalid("limit must be between 1 and 1000"));
    }
    let did = auth.did.clone();
    let rows = state
        .db
        .read(move |c| blob_store::list_missing(c, &did, p.cursor.as_deref(), limit))
        .await?;
    let blobs: Vec<Value> = rows
        .iter()
        .map(|(cid, path)| json!({"cid": cid, "recordUri": format!("at://{}/{}", auth.did, path)}))
        .collect();
    let mut out = json!({ "blobs": blobs });
    if rows.len() as u32 == limit
        && let Some((last, _)) = rows.last()
    {
        out["cursor"] = json!(last);
    }
    Ok(Json(out))
}
