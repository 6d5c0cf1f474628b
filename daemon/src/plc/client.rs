//! A client for a PLC directory's HTTP API (the public one, a private one, or pdsd's
//! built-in directory): submit operations, read documents, data and audit logs.
//!
//! It only moves JSON; the operations themselves are built and checked by `pds::identity`.

use serde_json::Value;
use std::time::Duration;

/// Why a PLC directory call failed.
#[derive(Debug, thiserror::Error)]
pub enum PlcClientError {
    #[error("PLC directory unreachable at {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("PLC directory refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("DID not found in the PLC directory: {0}")]
    NotFound(String),
    #[error("PLC directory answered something unreadable: {0}")]
    BadResponse(String),
}

/// A PLC directory at a base URL.
#[derive(Debug, Clone)]
pub struct PlcClient {
    base: String,
    http: reqwest::Client,
}

impl PlcClient {
    /// A client for the directory at `base` (no trailing slash needed).
    pub fn new(base: &str, http: reqwest::Client) -> Self {
        PlcClient {
            base: base.trim_end_matches('/').to_string(),
            http,
        }
    }

    /// The directory's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn unreachable(&self, e: impl std::fmt::Display) -> PlcClientError {
        PlcClientError::Unreachable {
            url: self.base.clone(),
            message: e.to_string(),
        }
    }

    async fn get_json(&self, did: &str, suffix: &str) -> Result<Value, PlcClientError> {
        let url = format!("{}/{}{}", self.base, did, suffix);
        let res = self
            .http
            .get(&url)
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = res.status();
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
            return Err(PlcClientError::NotFound(did.to_string()));
        }
        if !status.is_success() {
            let message = res.text().await.unwrap_or_default();
            return Err(PlcClientError::Refused {
                status: status.as_u16(),
                message: message.chars().take(500).collect(),
            });
        }
        res.json::<Value>()
            .await
            .map_err(|e| PlcClientError::BadResponse(e.to_string()))
    }

    /// Submit a signed operation (JSON) for `did`.
    pub async fn submit(&self, did: &str, op: &Value) -> Result<(), PlcClientError> {
        let url = format!("{}/{}", self.base, did);
        let res = self
            .http
            .post(&url)
            .timeout(Duration::from_secs(30))
            .json(op)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = res.status();
        if status.is_success() {
            return Ok(());
        }
        let text = res.text().await.unwrap_or_default();
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| {
                v.get("message")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| text.chars().take(500).collect());
        Err(PlcClientError::Refused {
            status: status.as_u16(),
            message,
        })
    }

    /// The current DID document.
    pub async fn document(&self, did: &str) -> Result<Value, PlcClientError> {
        self.get_json(did, "").await
    }

    /// The last operation.
    pub async fn last_op(&self, did: &str) -> Result<Value, PlcClientError> {
        self.get_json(did, "/log/last").await
    }

    /// The audit log: every operation with its CID, time and nullified flag.
    pub async fn audit_log(&self, did: &str) -> Result<Value, PlcClientError> {
        self.get_json(did, "/log/audit").await
    }
}
