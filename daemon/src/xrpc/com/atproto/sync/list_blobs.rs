//! com.atproto.sync.listBlobs: CIDs of the blobs a repo's records reference (optionally
//! only those of records written after `since`).

use crate::context::AppState;
use crate::services::repo::find_readable;
use crate::store::blobs as blob_store;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Params;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub struct P {
    did: String,
    since: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    Params(p): Params<P>,
) -> Result<Json<Value>, XrpcError> {
    let did = pds::syntax::Did::new(&p.did)
        .map_err(|e| XrpcError::invalid(format!("Invalid did: {e}")))?;
    let limit = p.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return Err(XrpcError::invalid("limit must be between 1 and 1000"));
    }
    if let Some(s) = &p.since {
        pds::syntax::Tid::new(s).map_err(|e| XrpcError::invalid(format!("Invalid since: {e}")))?;
    }
    let account = find_readable(&state, did.as_str(), false).await?;
    let d = account.did.clone();
    let cids = state
        .db
        .read(move |c| {
            blob_store::list_referenced(c, &d, p.since.as_deref(), p.cursor.as_deref(), limit)
        })
        .await?;
    let mut out = json!({ "cids": cids });
    if cids.len() as u32 == limit
        && let Some(last) = cids.last()
    {
        out["cursor"] = json!(last);
    }
    Ok(Json(out))
}
