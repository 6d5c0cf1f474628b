//! `POST /oauth/par` (RFC 9126): the only way an authorization starts. The client
//! pushes its request here (with a DPoP proof, and its assertion if confidential);
//! everything is validated now, against the client's metadata, and stored. The client
//! gets back a short-lived `request_uri` to send the browser to `/oauth/authorize` with.
//!
//! `code_challenge` values and (`client_id`, `state`) pairs are single-use for 24 hours.
//! Requests that carry a JAR `request` object or a `request_uri` are refused. This
//! module does not show pages or issue codes.

use super::client_auth::{self, ClientAuth};
use super::error::{Code, OAuthError};
use super::{Form, check_dpop, finish, issuer, jose, pkce, scope, store};
use crate::context::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// How long a pushed request waits for the browser, in seconds.
pub const PAR_LIFETIME: i64 = 300;
/// How long single-use values (PKCE challenges, state) are remembered.
const ONCE_WINDOW: i64 = 24 * 3600;
/// Prefix of the `request_uri`s we hand out (RFC 9126 2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:req-";

/// Where the authorization response goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

/// The validated parameters of an authorization request, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthParams {
    pub redirect_uri: String,
    pub scope: String,
    pub state: String,
    pub code_challenge: String,
    pub response_mode: ResponseMode,
    #[serde(default)]
    pub login_hint: Option<String>,
    #[serde(default)]
    pub prompt: Option<String>,
}

/// `POST /oauth/par`
pub async fn handle(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let r = push(&state, &headers, &body).await;
    finish(&state, r)
}

async fn push(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Response, OAuthError> {
    let now = crate::auth::jwt::now_secs();
    let form = Form::parse(headers, body)?;
    let proof = check_dpop(state, headers, "/oauth/par", now)?;
    if form.get("request").is_some() {
        return Err(OAuthError::invalid_request(
            "request objects (JAR) are not supported; send the parameters in the form",
        ));
    }
    if form.get("request_uri").is_some() {
        return Err(OAuthError::invalid_request(
            "request_uri must not be sent to the PAR endpoint",
        ));
    }
    let client_id = form
        .get("client_id")
        .ok_or_else(|| OAuthError::invalid_request("client_id is required"))?;
    let client = state.oauth.clients.client(client_id, now).await?;
    let iss = issuer(state);
    let par_url = format!("{iss}/oauth/par");
    let auth = client_auth::authenticate(
        &state.db,
        &client,
        form.credentials(),
        &[iss, par_url.as_str()],
        now,
    )
    .await?;

    match form.get("response_type") {
        Some("code") => {}
        Some(other) => {
            return Err(OAuthError::new(
                Code::UnsupportedResponseType,
                format!(
                    "response_type must be code, not {}",
                    other.chars().take(40).collect::<String>()
                ),
            ));
        }
        None => {
            return Err(OAuthError::invalid_request(
                "response_type is required (code)",
            ));
        }
    }
    let redirect_uri = form
        .get("redirect_uri")
        .ok_or_else(|| OAuthError::invalid_request("redirect_uri is required"))?;
    if !client.redirect_allowed(redirect_uri) {
        return Err(OAuthError::invalid_request(format!(
            "redirect_uri {} is not one of the client's registered redirect_uris",
            redirect_uri.chars().take(200).collect::<String>()
        )));
    }
    let scope_param = form.get("scope").ok_or_else(|| {
        OAuthError::new(
            Code::InvalidScope,
            "scope is required (it must include atproto)",
        )
    })?;
    let scopes = scope::parse(scope_param).map_err(|e| OAuthError::new(Code::InvalidScope, e))?;
    scope::check_request(&scopes, &client.scopes)
        .map_err(|e| OAuthError::new(Code::InvalidScope, e))?;
    let state_param = form
        .get("state")
        .ok_or_else(|| OAuthError::invalid_request("state is required"))?;
    if state_param.len() > 1024 {
        return Err(OAuthError::invalid_request(
            "state is too long (1024 characters at most)",
        ));
    }
    pkce::check_challenge(
        form.get("code_challenge_method"),
        form.get("code_challenge"),
    )?;
    let code_challenge = form.get("code_challenge").unwrap_or_default().to_string();
    let response_mode = match form.get("response_mode") {
        None | Some("query") => ResponseMode::Query,
        Some("fragment") => ResponseMode::Fragment,
        Some("form_post") => ResponseMode::FormPost,
        Some(other) => {
            return Err(OAuthError::invalid_request(format!(
                "response_mode must be query, fragment or form_post, not {}",
                other.chars().take(40).collect::<String>()
            )));
        }
    };
    if let Some(jkt) = form.get("dpop_jkt")
        && jkt != proof.jkt
    {
        return Err(OAuthError::new(
            Code::InvalidDpopProof,
            "dpop_jkt does not match the key of the DPoP proof",
        ));
    }
    let login_hint = form.get("login_hint").map(|h| h.trim().to_string());
    if login_hint.as_ref().is_some_and(|h| h.len() > 256) {
        return Err(OAuthError::invalid_request("login_hint is too long"));
    }
    let prompt = match form.get("prompt") {
        None => None,
        Some(p @ ("none" | "login" | "consent" | "select_account")) => Some(p.to_string()),
        Some(other) => {
            return Err(OAuthError::invalid_request(format!(
                "prompt {} is not supported (none, login, consent, select_account)",
                other.chars().take(40).collect::<String>()
            )));
        }
    };
    if client.is_confidential() && auth == ClientAuth::None {
        return Err(OAuthError::invalid_client(
            "confidential clients must authenticate",
        ));
    }

    let params = AuthParams {
        redirect_uri: redirect_uri.to_string(),
        scope: scopes.join(" "),
        state: state_param.to_string(),
        code_challenge: code_challenge.clone(),
        response_mode,
        login_hint,
        prompt,
    };
    let id = super::random_token()?;
    let row = store::RequestRow {
        id: id.clone(),
        client_id: client.id.clone(),
        client_auth: auth.to_json(),
        parameters: serde_json::to_string(&params).map_err(OAuthError::internal)?,
        dpop_jkt: proof.jkt,
        device_id: None,
        did: None,
        code_hash: None,
        expires_at: now + PAR_LIFETIME,
    };
    let once = vec![
        (
            "code_challenge",
            format!("pkce:{code_challenge}"),
            now + ONCE_WINDOW,
        ),
        (
            "state",
            format!(
                "state:{}:{}",
                jose::sha256_b64(&client.id),
                jose::sha256_b64(state_param)
            ),
            now + ONCE_WINDOW,
        ),
    ];
    match store::insert_request(&state.db, row, once, now).await? {
        store::Insert::Stored => {}
        store::Insert::Reused(what) => {
            return Err(OAuthError::invalid_request(format!(
                "this {what} was already used in an earlier request; generate a new one for every authorization"
            )));
        }
    }
    let body = serde_json::json!({
        "request_uri": format!("{REQUEST_URI_PREFIX}{id}"),
        "expires_in": PAR_LIFETIME,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
