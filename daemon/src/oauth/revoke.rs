//! `POST /oauth/revoke` (RFC 7009): an access or a refresh token ends its whole session
//! (every token of that authorization). Unknown and already-revoked tokens answer 200,
//! as the RFC says; a token of another client is refused. A confidential client that
//! sends an assertion has it checked; DPoP is not required here (revoking only takes
//! access away), but the answer carries a fresh DPoP nonce like every OAuth answer.

use super::client_auth::{self, ClientAuth};
use super::error::OAuthError;
use super::{Form, finish, issuer, store, token};
use crate::context::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

/// `POST /oauth/revoke`
pub async fn handle(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let r = revoke(&state, &headers, &body).await;
    finish(&state, r)
}

async fn revoke(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, OAuthError> {
    let now = crate::auth::jwt::now_secs();
    let form = Form::parse(headers, body)?;
    let presented = form
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let session = match token::verify_signature(state.oauth.token_key(), presented) {
        Ok(claims) => store::get_token(&state.db, claims.jti).await?,
        Err(_) => match store::find_refresh(&state.db, token::token_hash(presented)).await? {
            store::RefreshLookup::Current(row) => Some(*row),
            store::RefreshLookup::Used(id) => store::get_token(&state.db, id).await?,
            store::RefreshLookup::Unknown => None,
        },
    };
    let ok = || Json(serde_json::json!({})).into_response();
    let Some(session) = session else {
        return Ok(ok());
    };
    if let Some(client_id) = form.get("client_id") {
        if client_id != session.client_id {
            return Err(OAuthError::new(
                super::error::Code::UnauthorizedClient,
                "this token was issued to another client",
            ));
        }
        let started = ClientAuth::from_json(&session.client_auth);
        if started != ClientAuth::None || form.get("client_assertion").is_some() {
            let client = state.oauth.clients.client(client_id, now).await?;
            let iss = issuer(state);
            let url = format!("{iss}/oauth/revoke");
            let auth = client_auth::authenticate(
                &state.db,
                &client,
                form.credentials(),
                &[iss, url.as_str()],
                now,
            )
            .await?;
            if !client_auth::same_binding(&started, &auth) {
                return Err(OAuthError::invalid_client(
                    "the client must authenticate with the key its session was started with",
                ));
            }
        }
    } else if ClientAuth::from_json(&session.client_auth) != ClientAuth::None {
        return Err(OAuthError::invalid_client(
            "a confidential client must authenticate to revoke its tokens",
        ));
    }
    store::delete_token(&state.db, session.id).await?;
    Ok(ok())
}
