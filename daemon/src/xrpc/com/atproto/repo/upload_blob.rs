//! com.atproto.repo.uploadBlob: stream a blob in (size- and quota-limited by tier) and
//! return its reference.

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::services::repo::find_account;
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use futures::TryStreamExt;
use serde_json::{Value, json};

pub async fn handler(
    State(state): State<AppState>,
    auth: AccessAuth,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, XrpcError> {
    let account = find_account(&state, &auth.did).await?;
    let ct = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let stream = body.into_data_stream().map_err(|e| e.to_string());
    let blob = crate::services::blob::upload(&state, &account, ct, Box::pin(stream)).await?;
    Ok(Json(json!({
        "blob": {
            "$type": "blob",
            "ref": {"$link": blob.cid.to_string()},
            "mimeType": blob.mime_type,
            "size": blob.size,
        }
    })))
}
