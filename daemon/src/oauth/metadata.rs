//! The discovery documents: `/.well-known/oauth-protected-resource` (RFC 9728: this PDS
//! is a resource server and names its authorization server, itself) and
//! `/.well-known/oauth-authorization-server` (RFC 8414, with every field the atproto
//! profile requires). Both are plain JSON built from the public URL; nothing here is
//! secret or per-request.

use super::{issuer, jose, scope};
use crate::context::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The authorization server metadata.
pub fn authorization_server_document(state: &AppState) -> Value {
    let iss = issuer(state);
    json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/oauth/authorize"),
        "token_endpoint": format!("{iss}/oauth/token"),
        "pushed_authorization_request_endpoint": format!("{iss}/oauth/par"),
        "revocation_endpoint": format!("{iss}/oauth/revoke"),
        "require_pushed_authorization_requests": true,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": jose::SUPPORTED_ALGS,
        "revocation_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
        "revocation_endpoint_auth_signing_alg_values_supported": jose::SUPPORTED_ALGS,
        "dpop_signing_alg_values_supported": jose::SUPPORTED_ALGS,
        "scopes_supported": scope::SUPPORTED,
        "subject_types_supported": ["public"],
        "authorization_response_iss_parameter_supported": true,
        "client_id_metadata_document_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": true,
        "require_request_uri_registration": true,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "ui_locales_supported": ["en"],
        "protected_resources": [state.public_url],
    })
}

/// The protected resource metadata.
pub fn protected_resource_document(state: &AppState) -> Value {
    json!({
        "resource": state.public_url,
        "authorization_servers": [issuer(state)],
        "scopes_supported": scope::SUPPORTED,
        "bearer_methods_supported": ["header"],
    })
}

fn cached(v: Value) -> Response {
    let mut res = Json(v).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}

/// `GET /.well-known/oauth-authorization-server`
pub async fn authorization_server(State(state): State<AppState>) -> Response {
    cached(authorization_server_document(&state))
}

/// `GET /.well-known/oauth-protected-resource`
pub async fn protected_resource(State(state): State<AppState>) -> Response {
    cached(protected_resource_document(&state))
}
