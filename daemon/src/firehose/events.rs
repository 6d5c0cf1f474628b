//! Firehose event bodies and their wire frames (event-stream spec: a DAG-CBOR header
//! `{op, t}` followed by a DAG-CBOR body, in one binary WebSocket message).
//!
//! Owns the shapes only; the sequencer assigns `seq` and the hub sends frames.

use cid::Cid;
use serde::Serialize;

/// One operation of a #commit.
#[derive(Debug, Clone, Serialize)]
pub struct RepoOp {
    pub action: String,
    pub path: String,
    /// The new record's CID (null for deletes).
    pub cid: Option<Cid>,
    /// The previous record's CID (updates and deletes; sync v1.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev: Option<Cid>,
}

/// `#commit`.
#[derive(Debug, Clone, Serialize)]
pub struct CommitEvent {
    pub seq: i64,
    /// Deprecated; always false.
    pub rebase: bool,
    /// Deprecated; always false.
    #[serde(rename = "tooBig")]
    pub too_big: bool,
    pub repo: String,
    pub commit: Cid,
    pub rev: String,
    pub since: Option<String>,
    #[serde(with = "serde_bytes")]
    pub blocks: Vec<u8>,
    pub ops: Vec<RepoOp>,
    /// The blobs referenced by the records this commit creates or updates (the lexicon
    /// marks the field deprecated; it stays required).
    pub blobs: Vec<Cid>,
    #[serde(rename = "prevData", skip_serializing_if = "Option::is_none")]
    pub prev_data: Option<Cid>,
    pub time: String,
}

/// `#identity`.
#[derive(Debug, Clone, Serialize)]
pub struct IdentityEvent {
    pub seq: i64,
    pub did: String,
    pub time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
}

/// `#account`.
#[derive(Debug, Clone, Serialize)]
pub struct AccountEvent {
    pub seq: i64,
    pub did: String,
    pub time: String,
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// `#sync`: the repo was reset to this commit (import, recovery).
#[derive(Debug, Clone, Serialize)]
pub struct SyncEvent {
    pub seq: i64,
    pub did: String,
    #[serde(with = "serde_bytes")]
    pub blocks: Vec<u8>,
    pub rev: String,
    pub time: String,
}

/// `#info`.
#[derive(Debug, Clone, Serialize)]
pub struct InfoEvent {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Serialize)]
struct MessageHeader<'a> {
    op: i64,
    t: &'a str,
}

#[derive(Serialize)]
struct ErrorHeader {
    op: i64,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

/// A message frame: header `{op: 1, t}` then `body`.
pub fn frame<T: Serialize>(t: &str, body: &T) -> Result<Vec<u8>, pds::data::DataError> {
    let mut out = pds::data::cbor::encode(&MessageHeader { op: 1, t })?;
    out.extend(pds::data::cbor::encode(body)?);
    Ok(out)
}

/// An error frame: header `{op: -1}` then `{error, message}`.
pub fn error_frame(error: &str, message: Option<&str>) -> Vec<u8> {
    let mut out = pds::data::cbor::encode(&ErrorHeader { op: -1 }).unwrap_or_default();
    out.extend(pds::data::cbor::encode(&ErrorBody { error, message }).unwrap_or_default());
    out
}

/// Now, as the firehose writes times.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
