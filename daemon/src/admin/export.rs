//! `/admin/v1/export/...` (`pdsctl export`): the manifest (commit, MST root, signing key,
//! blob list), the repository as a CAR stream, and each blob's bytes. Reads only, so
//! members of the socket's group may export too (a repository is public data). The CAR
//! is written by `pds::repo::export_car` over the account's stored blocks, as getRepo
//! does; the operator may export any account, whatever its state.

use crate::context::AppState;
use crate::services::repo::{find_account, head, signing_key_label};
use crate::store::repo::SqlBlocks;
use crate::store::{DbError, blobs};
use crate::xrpc::com::atproto::sync::{ChannelWriter, car_response};
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use pds::admin::{AccountRef, BlobEntry, ExportManifest};
use serde::Deserialize;

/// `?id=&cid=` of a blob download.
#[derive(Debug, Deserialize)]
pub struct BlobQuery {
    pub id: String,
    pub cid: String,
}

pub async fn manifest(
    State(state): State<AppState>,
    Query(q): Query<AccountRef>,
) -> Result<Json<ExportManifest>, XrpcError> {
    let account = find_account(&state, &q.id).await?;
    let head = head(&state, &account.did).await?;
    let d = account.did.clone();
    let listed = state.db.read(move |c| blobs::all_cids(c, &d)).await?;
    let signing_key = state
        .kek
        .open_keypair(&signing_key_label(&account.did), &account.signing_key)
        .map(|k| k.did_key())
        .map_err(XrpcError::internal)?;
    Ok(Json(ExportManifest {
        did: account.did,
        handle: account.handle,
        email: account.email,
        signing_key: Some(signing_key),
        commit: head.commit.to_string(),
        rev: head.rev.to_string(),
        data: head.data.to_string(),
        blobs: listed
            .into_iter()
            .map(|(cid, mime_type, size)| BlobEntry {
                cid,
                mime_type,
                size,
            })
            .collect(),
    }))
}

pub async fn repo(
    State(state): State<AppState>,
    Query(q): Query<AccountRef>,
) -> Result<Response, XrpcError> {
    let account = find_account(&state, &q.id).await?;
    let head = head(&state, &account.did).await?;
    let (mut writer, body) = ChannelWriter::new();
    let db = state.db.clone();
    tokio::task::spawn_blocking(move || {
        let result = db.read_blocking(|conn| -> Result<(), DbError> {
            let blocks = SqlBlocks {
                conn,
                did: &account.did,
            };
            pds::repo::export_car(&blocks, &head.commit, &mut writer)
                .map(|_| ())
                .map_err(|e| DbError::Task(e.to_string()))
        });
        if let Err(e) = result {
            tracing::warn!(error = %e, "admin export stream failed");
            writer.fail(e.to_string());
        }
    });
    Ok(car_response(body))
}

pub async fn blob(
    State(state): State<AppState>,
    Query(q): Query<BlobQuery>,
) -> Result<Response, XrpcError> {
    let account = find_account(&state, &q.id).await?;
    let cid = pds::data::cid::parse(&q.cid).map_err(|e| XrpcError::invalid(e.to_string()))?;
    let (d, c) = (account.did.clone(), cid.to_string());
    let row = state
        .db
        .read(move |conn| blobs::get(conn, &d, &c))
        .await?
        .ok_or_else(|| {
            XrpcError::named("BlobNotFound", format!("{} has no blob {cid}", account.did))
        })?;
    let (size, stream) = state
        .blobs
        .get_stream(&cid)
        .await
        .map_err(|e| XrpcError::named("BlobNotFound", e.to_string()))?;
    let body = Body::from_stream(stream.map(|r| r.map_err(std::io::Error::other)));
    let mut res = body.into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    if let Ok(v) = HeaderValue::from_str(&row.mime_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    Ok(res)
}
