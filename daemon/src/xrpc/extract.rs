//! Request extractors with XRPC-shaped rejections: query parameters ([`Params`], repeated
//! keys become arrays) and JSON bodies ([`Input`], size-limited, `application/json` only).
//! A malformed request becomes 400 `InvalidRequest` with a message naming the problem.

use super::error::XrpcError;
use crate::context::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// Query parameters of an XRPC call.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = XrpcError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, XrpcError> {
        let q = parts.uri.query().unwrap_or("");
        serde_html_form::from_str::<T>(q)
            .map(Params)
            .map_err(|e| XrpcError::invalid(format!("Error: Params {e}")))
    }
}

/// A JSON request body of an XRPC procedure.
#[derive(Debug)]
pub struct Input<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Input<T> {
    type Rejection = XrpcError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, XrpcError> {
        let max = state.config.limits.json_body_bytes;
        let ct = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let body: Bytes = axum::body::to_bytes(req.into_body(), max)
            .await
            .map_err(|_| {
                XrpcError::too_large(format!("request body is larger than {max} bytes"))
            })?;
        if !ct.starts_with("application/json") {
            if body.is_empty() {
                return Err(XrpcError::invalid(
                    "Request encoding (Content-Type) required but not provided",
                ));
            }
            return Err(XrpcError::invalid(format!(
                "Wrong request encoding (Content-Type): {}; expected application/json",
                if ct.is_empty() { "none" } else { ct.as_str() }
            )));
        }
        serde_json::from_slice::<T>(&body)
            .map(Input)
            .map_err(|e| XrpcError::invalid(format!("Input: {e}")))
    }
}

/// Deserialize a comma-free boolean query flag that may come as "true"/"false".
pub mod flag {
    use serde::{Deserialize, Deserializer};

    /// `true`/`false`/`1`/`0`, absent means false.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        match s.as_deref() {
            None | Some("false") | Some("0") | Some("") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => Err(serde::de::Error::custom(format!(
                "expected a boolean, got {other:?}"
            ))),
        }
    }
}
