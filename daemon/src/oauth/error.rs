//! Errors of the OAuth endpoints (PAR, token, revocation), answered the way RFC 6749
//! section 5.2 says: a JSON body `{"error", "error_description"}`, `Cache-Control:
//! no-store`, and a fresh `DPoP-Nonce` header (RFC 9449 section 8) on every answer.
//!
//! These are not XRPC errors: resource-server (XRPC) failures are built by
//! `resource.rs` as [`crate::xrpc::error::XrpcError`]s carrying `WWW-Authenticate`.
//! Internal failures are logged with their cause and answered generically.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The registered OAuth error codes pdsd answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidRequest,
    InvalidClient,
    InvalidClientMetadata,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    InvalidDpopProof,
    UseDpopNonce,
    AccessDenied,
    ServerError,
    TemporarilyUnavailable,
}

impl Code {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidRequest => "invalid_request",
            Code::InvalidClient => "invalid_client",
            Code::InvalidClientMetadata => "invalid_client_metadata",
            Code::InvalidGrant => "invalid_grant",
            Code::UnauthorizedClient => "unauthorized_client",
            Code::UnsupportedGrantType => "unsupported_grant_type",
            Code::UnsupportedResponseType => "unsupported_response_type",
            Code::InvalidScope => "invalid_scope",
            Code::InvalidDpopProof => "invalid_dpop_proof",
            Code::UseDpopNonce => "use_dpop_nonce",
            Code::AccessDenied => "access_denied",
            Code::ServerError => "server_error",
            Code::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            // RFC 6749 5.2: 401 when the client tried to authenticate through a header;
            // our clients authenticate in the body, so 400 throughout, as the profile's
            // reference answers.
            Code::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            Code::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// An OAuth error response.
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub code: Code,
    pub description: String,
    /// The DPoP nonce to send with it (set by the handler wrapper).
    pub nonce: Option<String>,
}

impl OAuthError {
    /// An error with a description for the client's developer.
    pub fn new(code: Code, description: impl Into<String>) -> Self {
        OAuthError {
            code,
            description: description.into(),
            nonce: None,
        }
    }
    /// `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(Code::InvalidRequest, description)
    }
    /// `invalid_grant`.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(Code::InvalidGrant, description)
    }
    /// `invalid_client`.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(Code::InvalidClient, description)
    }
    /// 500 `server_error`, with the cause logged and not answered.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "OAuth endpoint failed");
        Self::new(Code::ServerError, "internal server error")
    }
    /// Attach the DPoP nonce the client must use next.
    pub fn with_nonce(mut self, nonce: String) -> Self {
        self.nonce = Some(nonce);
        self
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl std::error::Error for OAuthError {}

impl From<crate::store::DbError> for OAuthError {
    fn from(e: crate::store::DbError) -> Self {
        OAuthError::internal(e)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code.as_str(), "error_description": self.description });
        let mut res = (self.code.status(), Json(body)).into_response();
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(n) = self.nonce.and_then(|n| HeaderValue::from_str(&n).ok()) {
            h.insert(super::DPOP_NONCE, n);
        }
        res
    }
}
