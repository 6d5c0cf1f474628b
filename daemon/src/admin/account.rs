//! `/admin/v1/account/...` (`pdsctl account ...`): create (the DID ceremony), list, show,
//! deactivate, activate, delete, reset-password, takedown, untakedown. Each is a thin
//! adapter over `services::account`, the functions the XRPC handlers call too; the only
//! thing added here is the read of an account's summary ([`account_info`]).
//!
//! The operator creates accounts without an invite: when the server requires invites,
//! a single-use code is made and spent for the new account, so the invite tables still
//! record who created it.

use crate::context::AppState;
use crate::services::repo::find_account;
use crate::services::{account, invite};
use crate::store::{DbError, accounts, blobs, repo as repo_store};
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::{Query, State};
use pds::admin::{
    AccountCreateRequest, AccountCreateResponse, AccountDeleted, AccountInfo, AccountListResponse,
    AccountRef, AccountStatus, ResetPasswordRequest, TakedownRequest,
};

/// The most accounts one `account list` page reads at once.
const PAGE: u32 = 500;

pub async fn create(
    State(state): State<AppState>,
    Json(req): Json<AccountCreateRequest>,
) -> Result<Json<AccountCreateResponse>, XrpcError> {
    let invite_code = if state.config.invites.required {
        let made = invite::create(&state, 1, 1, None).await?;
        made.into_iter().next().map(|i| i.code)
    } else {
        None
    };
    let created = account::create(
        &state,
        account::NewAccount {
            handle: req.handle,
            email: Some(req.email),
            password: Some(req.password.expose().to_string()),
            invite_code,
            recovery_key: req.recovery_key,
            ..Default::default()
        },
    )
    .await?;
    let plc_operation = serde_json::to_value(&created.plc_op).map_err(XrpcError::internal)?;
    Ok(Json(AccountCreateResponse {
        did: created.did,
        handle: created.handle,
        plc_operation,
    }))
}

pub async fn list(State(state): State<AppState>) -> Result<Json<AccountListResponse>, XrpcError> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let after = cursor.clone();
        let page = state
            .db
            .read(move |c| -> Result<Vec<AccountInfo>, DbError> {
                accounts::list(c, after.as_deref(), PAGE)?
                    .iter()
                    .map(|a| summary(c, a))
                    .collect()
            })
            .await?;
        let full = page.len() == PAGE as usize;
        cursor = page.last().map(|a| a.did.clone());
        out.extend(page);
        if !full {
            break;
        }
    }
    Ok(Json(AccountListResponse { accounts: out }))
}

pub async fn show(
    State(state): State<AppState>,
    Query(q): Query<AccountRef>,
) -> Result<Json<AccountInfo>, XrpcError> {
    let a = find_account(&state, &q.id).await?;
    Ok(Json(account_info(&state, a.did).await?))
}

pub async fn deactivate(
    State(state): State<AppState>,
    Json(req): Json<AccountRef>,
) -> Result<Json<AccountInfo>, XrpcError> {
    let a = find_account(&state, &req.id).await?;
    account::deactivate(&state, &a.did, None).await?;
    Ok(Json(account_info(&state, a.did).await?))
}

pub async fn activate(
    State(state): State<AppState>,
    Json(req): Json<AccountRef>,
) -> Result<Json<AccountInfo>, XrpcError> {
    let a = find_account(&state, &req.id).await?;
    account::activate(&state, &a.did).await?;
    Ok(Json(account_info(&state, a.did).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    Json(req): Json<AccountRef>,
) -> Result<Json<AccountDeleted>, XrpcError> {
    let a = find_account(&state, &req.id).await?;
    account::delete(&state, &a.did).await?;
    Ok(Json(AccountDeleted { did: a.did }))
}

pub async fn reset_password(
    State(state): State<AppState>,
    Json(req): Json<ResetPasswordRequest>,
) -> Result<Json<AccountInfo>, XrpcError> {
    let a = find_account(&state, &req.id).await?;
    account::reset_password(&state, &a.did, req.password.expose()).await?;
    Ok(Json(account_info(&state, a.did).await?))
}

pub async fn takedown(
    State(state): State<AppState>,
    Json(req): Json<TakedownRequest>,
) -> Result<Json<AccountInfo>, XrpcError> {
    let a = find_account(&state, &req.id).await?;
    let reference = match req.reference {
        Some(r) if !r.trim().is_empty() => r,
        _ => format!("pdsctl-{}", crate::store::now()),
    };
    account::takedown(&state, &a.did, &reference).await?;
    Ok(Json(account_info(&state, a.did).await?))
}

pub async fn untakedown(
    State(state): State<AppState>,
    Json(req): Json<AccountRef>,
) -> Result<Json<AccountInfo>, XrpcError> {
    let a = find_account(&state, &req.id).await?;
    account::untakedown(&state, &a.did).await?;
    Ok(Json(account_info(&state, a.did).await?))
}

/// The summary of one account, read fresh (after a change, it shows the change).
pub async fn account_info(state: &AppState, did: String) -> Result<AccountInfo, XrpcError> {
    let d = did.clone();
    let found = state
        .db
        .read(move |c| -> Result<Option<AccountInfo>, DbError> {
            accounts::by_did(c, &d)?.map(|a| summary(c, &a)).transpose()
        })
        .await?;
    found.ok_or_else(|| XrpcError::named("RepoNotFound", format!("no account {did}")))
}

fn summary(c: &rusqlite::Connection, a: &accounts::AccountRow) -> Result<AccountInfo, DbError> {
    let head = repo_store::head(c, &a.did)?;
    let (blob_count, _) = blobs::counts(c, &a.did)?;
    let status = match a.status() {
        "takendown" => AccountStatus::Takendown,
        "deactivated" => AccountStatus::Deactivated,
        _ => AccountStatus::Active,
    };
    Ok(AccountInfo {
        did: a.did.clone(),
        handle: a.handle.clone(),
        email: a.email.clone(),
        status,
        created_at: a.created_at.clone(),
        deactivated_at: a.deactivated_at.clone(),
        takedown_ref: a.takedown_ref.clone(),
        tier: a.tier.clone(),
        repo_rev: head.as_ref().map(|h| h.rev.to_string()),
        repo_commit: head.as_ref().map(|h| h.commit.to_string()),
        records: repo_store::record_count(c, &a.did)?,
        blobs: blob_count,
        blob_bytes: blobs::usage(c, &a.did)?,
    })
}
