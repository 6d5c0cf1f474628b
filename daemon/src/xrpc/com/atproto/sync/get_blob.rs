//! com.atproto.sync.getBlob: a blob's bytes, streamed, with immutable caching headers (a
//! blob is named by its CID) and headers that stop browsers from running it.

use crate::context::AppState;
use crate::services::repo::find_readable;
use crate::store::blobs as blob_store;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Params;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct P {
    did: String,
    cid: String,
}

pub async fn handler(
    State(state): State<AppState>,
    Params(p): Params<P>,
) -> Result<Response, XrpcError> {
    let did = pds::syntax::Did::new(&p.did)
        .map_err(|e| XrpcError::invalid(format!("Invalid did: {e}")))?;
    let cid = pds::data::cid::parse(&p.cid)
        .map_err(|e| XrpcError::invalid(format!("Invalid cid: {e}")))?;
    let account = find_readable(&state, did.as_str(), false).await?;
    let (d, c) = (account.did.clone(), cid.to_string());
    let row = state
        .db
        .read(move |conn| blob_store::get(conn, &d, &c))
        .await?;
    let not_found = || XrpcError::named("BlobNotFound", "Blob not found");
    let row = row.ok_or_else(not_found)?;
    if row.takedown_ref.is_some() {
        return Err(XrpcError::named("BlobNotFound", "Blob has been taken down"));
    }
    let (size, stream) = state.blobs.get_stream(&cid).await.map_err(|e| match e {
        crate::blobs::BlobError::NotFound => not_found(),
        other => XrpcError::internal(other),
    })?;
    let mut res = (StatusCode::OK, Body::from_stream(stream)).into_response();
    let h = res.headers_mut();
    let mime = HeaderValue::from_str(&row.mime_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, mime);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{cid}\"")) {
        h.insert(header::ETAG, etag);
    }
    Ok(res)
}
