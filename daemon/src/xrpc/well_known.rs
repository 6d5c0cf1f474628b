//! Routes outside /xrpc: `/.well-known/atproto-did` (handle verification for hosted
//! handles), `/.well-known/did.json` (the server's did:web), health, and a plain banner.

use super::error::XrpcError;
use crate::context::AppState;
use crate::store::accounts;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};

/// `GET /.well-known/atproto-did`: the DID of the account whose handle is the Host.
pub async fn atproto_did(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, XrpcError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .split(':')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let not_found = || XrpcError::not_found("no user by that handle on this server");
    if !state
        .config
        .handle_domains
        .iter()
        .any(|d| host.ends_with(d.as_str()))
    {
        return Err(not_found());
    }
    let account = state
        .db
        .read(move |c| accounts::by_handle(c, &host))
        .await?
        .ok_or_else(not_found)?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        account.did,
    ))
}

/// `GET /.well-known/did.json`: this server's did:web document.
pub async fn did_json(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": state.service_did,
        "service": [{
            "id": "#atproto_pds",
            "type": "AtprotoPersonalDataServer",
            "serviceEndpoint": state.public_url,
        }],
    }))
}

/// `GET /xrpc/_health`.
pub async fn health(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "version": env!("CARGO_PKG_VERSION"), "seq": state.firehose.latest_seq() }))
}

/// `GET /`: a short banner.
pub async fn root() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        concat!(
            "This is an AT Protocol Personal Data Server (pdsd ",
            env!("CARGO_PKG_VERSION"),
            ").\n\nMost API routes are under /xrpc/\n"
        ),
    )
}

/// `GET /robots.txt`: crawl nothing but the root.
pub async fn robots() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "User-agent: *\nAllow: /$\nDisallow: /\n",
    )
}

/// Anything else.
pub async fn not_found() -> XrpcError {
    XrpcError::not_found("Not Found")
}
