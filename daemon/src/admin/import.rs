//! `/admin/v1/import/...` (`pdsctl import`): start, receive the CAR and the blobs, then
//! finish: check that every blob the records reference arrived, and only then activate.
//! Adapters over `services::repo::import_car` (which verifies the CAR against the DID's
//! keys and re-signs it with this server's key for the account) and `services::blob`.
//!
//! Importing into an account this pdsd already hosts is a restore. The account of a DID
//! that lives elsewhere (a migration, or a restore after the data was lost) is made by
//! `services::migrate`: `start` creates it deactivated and hands out the PLC update for
//! the user's rotation key to sign, `identity` submits the signed update, and `finish`
//! activates only once the DID names this server and this daemon's key.

use crate::context::AppState;
use crate::services::repo::{find_account, head};
use crate::services::{account, blob, migrate};
use crate::store::{DbError, blobs, repo as repo_store};
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use pds::admin::{
    ImportBlobResponse, ImportFinishRequest, ImportFinishResponse, ImportIdentityRequest,
    ImportIdentityResponse, ImportRepoResponse, ImportStartRequest, ImportStartResponse, PlcUpdate,
};
use serde::Deserialize;

/// `?did=` of a repository upload.
#[derive(Debug, Deserialize)]
pub struct RepoQuery {
    pub did: String,
}

/// `?did=&cid=&mime_type=` of a blob upload.
#[derive(Debug, Deserialize)]
pub struct BlobQuery {
    pub did: String,
    pub cid: String,
    pub mime_type: String,
}

pub async fn start(
    State(state): State<AppState>,
    Json(req): Json<ImportStartRequest>,
) -> Result<Json<ImportStartResponse>, XrpcError> {
    let started = migrate::start(
        &state,
        migrate::Incoming {
            did: req.did,
            handle: req.handle,
            email: req.email,
            password: req.password.map(|p| p.expose().to_string()),
            rotation_key: req.rotation_key,
            old_host_signs: req.old_host_signs,
            ..Default::default()
        },
    )
    .await?;
    let plc_update = match &started.update {
        Some(u) => Some(PlcUpdate {
            operation: migrate::unsigned_json(&u.operation)?,
            prev: serde_json::to_value(&u.prev).map_err(XrpcError::internal)?,
        }),
        None => None,
    };
    Ok(Json(ImportStartResponse {
        did: started.did,
        created: started.created,
        handle: started.handle,
        signing_key: Some(started.signing_key),
        plc_update,
    }))
}

pub async fn identity(
    State(state): State<AppState>,
    Json(req): Json<ImportIdentityRequest>,
) -> Result<Json<ImportIdentityResponse>, XrpcError> {
    let bytes = serde_json::to_vec(&req.operation).map_err(XrpcError::internal)?;
    let op = pds::identity::SignedOp::from_json(&bytes)
        .map_err(|e| XrpcError::invalid(format!("the signed operation: {e}")))?;
    let did = pds::syntax::Did::new(&req.did).map_err(|e| XrpcError::invalid(e.to_string()))?;
    let submitted = migrate::submit_update(&state, did.as_str(), &op).await?;
    Ok(Json(ImportIdentityResponse {
        did: did.to_string(),
        plc_operation: serde_json::to_value(&submitted).map_err(XrpcError::internal)?,
    }))
}

pub async fn repo(
    State(state): State<AppState>,
    Query(q): Query<RepoQuery>,
    body: Body,
) -> Result<Json<ImportRepoResponse>, XrpcError> {
    let account = find_account(&state, &q.did).await?;
    let car = axum::body::to_bytes(body, state.config.limits.import_bytes)
        .await
        .map_err(|e| XrpcError::too_large(format!("the CAR could not be read: {e}")))?;
    crate::services::repo::import_car(&state, &account.did, car.to_vec()).await?;
    let now = head(&state, &account.did).await?;
    let d = account.did.clone();
    let records = state
        .db
        .read(move |c| repo_store::record_count(c, &d))
        .await?;
    Ok(Json(ImportRepoResponse {
        did: account.did,
        commit: now.commit.to_string(),
        rev: now.rev.to_string(),
        data: now.data.to_string(),
        records,
    }))
}

pub async fn blob(
    State(state): State<AppState>,
    Query(q): Query<BlobQuery>,
    body: Body,
) -> Result<Json<ImportBlobResponse>, XrpcError> {
    let account = find_account(&state, &q.did).await?;
    let want = pds::data::cid::parse(&q.cid).map_err(|e| XrpcError::invalid(e.to_string()))?;
    let stored = blob::upload(
        &state,
        &account,
        Some(q.mime_type.as_str()),
        body.into_data_stream(),
    )
    .await?;
    if stored.cid != want {
        return Err(XrpcError::invalid(format!(
            "the bytes sent as blob {want} hash to {}",
            stored.cid
        )));
    }
    Ok(Json(ImportBlobResponse {
        cid: stored.cid.to_string(),
        size: stored.size.unwrap_or_default(),
    }))
}

pub async fn finish(
    State(state): State<AppState>,
    Json(req): Json<ImportFinishRequest>,
) -> Result<Json<ImportFinishResponse>, XrpcError> {
    let account = find_account(&state, &req.did).await?;
    let d = account.did.clone();
    let (missing, records, (blob_count, _)) = state
        .db
        .read(move |c| -> Result<_, DbError> {
            Ok((
                blobs::list_missing(c, &d, None, 10)?,
                repo_store::record_count(c, &d)?,
                blobs::counts(c, &d)?,
            ))
        })
        .await?;
    if let Some((cid, path)) = missing.first() {
        return Err(XrpcError::invalid(format!(
            "{} blob(s) the records reference did not arrive (first: {cid}, used by {path}); \
             the account stays as it was",
            missing.len()
        )));
    }
    if account.deactivated_at.is_some() && account.takedown_ref.is_none() {
        migrate::ready_to_activate(&state, &account).await?;
        account::activate(&state, &account.did).await?;
    }
    let now = head(&state, &account.did).await?;
    Ok(Json(ImportFinishResponse {
        did: account.did,
        commit: now.commit.to_string(),
        data: now.data.to_string(),
        records,
        blobs: blob_count,
    }))
}
