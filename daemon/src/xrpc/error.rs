//! The one place where an error becomes an XRPC response: `{"error", "message"}` with the
//! Lexicon's error name and the right HTTP status.
//!
//! Handlers return `Result<_, XrpcError>`; domain errors convert with `?` through the
//! `From` impls below, which are the whole mapping table. Internal failures are logged
//! with their cause and answered with a generic message, never with internals.

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::borrow::Cow;

/// An XRPC error response.
#[derive(Debug, Clone)]
pub struct XrpcError {
    pub status: StatusCode,
    pub error: Cow<'static, str>,
    pub message: String,
    /// Extra response headers (e.g. `WWW-Authenticate` and `DPoP-Nonce` on OAuth failures);
    /// a Vec rather than a HeaderMap keeps the error small.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl XrpcError {
    /// Any status and error name.
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        XrpcError {
            status,
            error: Cow::Borrowed(error),
            message: message.into(),
            headers: Vec::new(),
        }
    }
    /// The same error with one more response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
    /// 400 with a Lexicon-specific error name.
    pub fn named(error: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, message)
    }
    /// 400 InvalidRequest.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::named("InvalidRequest", message)
    }
    /// 401 AuthMissing: no credentials were sent.
    pub fn auth_missing() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "AuthMissing",
            "Authentication Required",
        )
    }
    /// 401 AuthRequired: credentials are needed or were refused.
    pub fn auth_required(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "AuthRequired", message)
    }
    /// 400 InvalidToken.
    pub fn invalid_token(message: impl Into<String>) -> Self {
        Self::named("InvalidToken", message)
    }
    /// 400 ExpiredToken.
    pub fn expired_token() -> Self {
        Self::named("ExpiredToken", "Token has expired")
    }
    /// 403 Forbidden: authenticated but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", message)
    }
    /// 404 NotFound (non-XRPC routes).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", message)
    }
    /// 413 PayloadTooLarge.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge", message)
    }
    /// 502 UpstreamFailure.
    pub fn upstream(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, "UpstreamFailure", message)
    }
    /// 503: the service cannot do this now (e.g. the repo-host desktop is offline).
    pub fn unavailable(error: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, error, message)
    }
    /// 500, with the cause logged and a generic message answered.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Internal Server Error",
        )
    }
}

impl std::fmt::Display for XrpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.error,
            self.message
        )
    }
}

impl std::error::Error for XrpcError {}

impl IntoResponse for XrpcError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "message": self.message });
        let mut res = (self.status, Json(body)).into_response();
        for (name, value) in self.headers {
            res.headers_mut().append(name, value);
        }
        res
    }
}

impl From<crate::store::DbError> for XrpcError {
    fn from(e: crate::store::DbError) -> Self {
        XrpcError::internal(e)
    }
}

impl From<pds::store::StoreError> for XrpcError {
    fn from(e: pds::store::StoreError) -> Self {
        XrpcError::internal(e)
    }
}

impl From<pds::data::DataError> for XrpcError {
    fn from(e: pds::data::DataError) -> Self {
        XrpcError::invalid(e.to_string())
    }
}

impl From<pds::crypto::CryptoError> for XrpcError {
    fn from(e: pds::crypto::CryptoError) -> Self {
        XrpcError::invalid(e.to_string())
    }
}

impl From<crate::services::ServiceError> for XrpcError {
    fn from(e: crate::services::ServiceError) -> Self {
        use crate::services::ServiceError as S;
        let msg = e.to_string();
        match e {
            S::InvalidRequest(m) => XrpcError::invalid(m),
            S::Named("AccountTakedown", m) => {
                XrpcError::new(StatusCode::UNAUTHORIZED, "AccountTakedown", m)
            }
            // The device API's names that are not 400 (see docs/api.md).
            S::Named(
                name @ ("DeviceNotFound" | "KeyNotFound" | "DidNotFound" | "ShareNotFound"
                | "RecoveryNotFound" | "TransferNotFound"),
                m,
            ) => XrpcError::new(StatusCode::NOT_FOUND, name, m),
            S::Named(
                name @ ("TransferCodeExpired"
                | "TransferCodeUsed"
                | "RecoveryExpired"
                | "RecoveryUsed"),
                m,
            ) => XrpcError::new(StatusCode::GONE, name, m),
            S::Named(name @ "TransferLocked", m) => XrpcError::new(StatusCode::LOCKED, name, m),
            S::Named(name @ ("InvalidSignature" | "InvalidPassword"), m) => {
                XrpcError::new(StatusCode::UNAUTHORIZED, name, m)
            }
            S::Named(
                name @ ("StaleCommit"
                | "StaleOperation"
                | "RotationInProgress"
                | "DeviceKeyInUse"
                | "ShareConflict"
                | "StaleShare"
                | "TransferNotAccepted"),
                m,
            ) => XrpcError::new(StatusCode::CONFLICT, name, m),
            S::Named(
                name @ ("NotRepoHost" | "DeviceLimitReached" | "TierLimitExceeded"
                | "DevicePending"),
                m,
            ) => XrpcError::new(StatusCode::FORBIDDEN, name, m),
            S::Named(name, m) => XrpcError::named(name, m),
            S::AuthenticationRequired(m) => {
                XrpcError::new(StatusCode::UNAUTHORIZED, "AuthenticationRequired", m)
            }
            S::Forbidden(m) => XrpcError::forbidden(m),
            S::RepoNotFound(_) => XrpcError::named("RepoNotFound", msg),
            S::RepoDeactivated(_) => XrpcError::named("RepoDeactivated", msg),
            S::RepoTakendown(_) => XrpcError::named("RepoTakendown", msg),
            S::RecordNotFound(_) => XrpcError::named("RecordNotFound", msg),
            S::InvalidSwap(m) => XrpcError::named("InvalidSwap", m),
            S::BlobTooLarge(m) => XrpcError::named("BlobTooLarge", m),
            S::BlobNotFound => XrpcError::named("BlobNotFound", msg),
            S::Upstream(m) => XrpcError::upstream(m),
            S::Unavailable(name, m) => XrpcError::unavailable(name, m),
            S::Internal(m) => XrpcError::internal(m),
        }
    }
}

impl From<pds::identity::PlcError> for XrpcError {
    fn from(e: pds::identity::PlcError) -> Self {
        XrpcError::invalid(e.to_string())
    }
}
