//! `/admin/v1/oauth/...` (`pdsctl oauth list|revoke`): the third-party apps an account
//! has authorized with OAuth, and ending their access. Calls [`crate::oauth::admin`];
//! answers carry session ids only, never a token.

use crate::context::AppState;
use crate::oauth::admin as oauth_admin;
use crate::services::repo::find_account;
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::{Query, State};
use pds::admin::{AccountRef, OAuthListResponse, OAuthRevokeRequest, OAuthRevokeResponse};

pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<AccountRef>,
) -> Result<Json<OAuthListResponse>, XrpcError> {
    let account = find_account(&state, &q.id).await?;
    let apps = oauth_admin::list_authorizations(&state.db, &account.did).await?;
    Ok(Json(OAuthListResponse {
        did: account.did,
        handle: account.handle,
        apps,
    }))
}

pub async fn revoke(
    State(state): State<AppState>,
    Json(req): Json<OAuthRevokeRequest>,
) -> Result<Json<OAuthRevokeResponse>, XrpcError> {
    let account = find_account(&state, &req.id).await?;
    let target = req.target.trim();
    if target.is_empty() {
        return Err(XrpcError::invalid(
            "name the app to revoke: its client_id or a session id from `pdsctl oauth list`",
        ));
    }
    let revoked = oauth_admin::revoke_authorization(&state.db, &account.did, target).await?;
    if revoked == 0 {
        return Err(XrpcError::not_found(format!(
            "{} has no live OAuth session for {target}; `pdsctl oauth list {}` shows what it has",
            account.did, account.did
        )));
    }
    Ok(Json(OAuthRevokeResponse {
        did: account.did,
        target: target.to_string(),
        revoked,
    }))
}
