//! com.atproto.repo.importRepo: replace the caller's repo with a CAR (account migration),
//! verified completely before anything is stored.

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::xrpc::error::XrpcError;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;

pub async fn handler(
    State(state): State<AppState>,
    auth: AccessAuth,
    headers: HeaderMap,
    body: Body,
) -> Result<(), XrpcError> {
    auth.require_full()?;
    let ct = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/vnd.ipld.car") {
        return Err(XrpcError::invalid(
            "importRepo takes a CAR (Content-Type: application/vnd.ipld.car)",
        ));
    }
    let limit = state.config.limits.import_bytes;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        XrpcError::too_large(format!(
            "repo is larger than the import limit of {limit} bytes"
        ))
    })?;
    crate::services::repo::import_car(&state, &auth.did, bytes.to_vec()).await?;
    Ok(())
}
