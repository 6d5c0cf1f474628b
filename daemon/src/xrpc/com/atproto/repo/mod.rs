//! com.atproto.repo.*: record writes and reads, blobs, import. One file per NSID; the
//! parameter checks they share are here.

pub mod apply_writes;
pub mod create_record;
pub mod delete_record;
pub mod describe_repo;
pub mod get_record;
pub mod import_repo;
pub mod list_missing_blobs;
pub mod list_records;
pub mod put_record;
pub mod upload_blob;

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::xrpc::error::XrpcError;
use cid::Cid;
use pds::data::Value;
use pds::syntax::Did;

/// The DID of the repo a caller writes to; it must be the caller's own. Named by the
/// caller's own DID, it needs no lookup: the commit checks the account (its existence
/// and status) inside the writer's transaction anyway.
pub async fn write_target(
    state: &AppState,
    auth: &AccessAuth,
    repo: &str,
) -> Result<Did, XrpcError> {
    if repo == auth.did
        && let Ok(did) = Did::new(repo)
    {
        return Ok(did);
    }
    let account = crate::services::repo::find_account(state, repo).await?;
    auth.require_did(&account.did)?;
    Did::new(&account.did).map_err(XrpcError::internal)
}

/// A valid collection NSID.
pub fn collection(s: &str) -> Result<String, XrpcError> {
    pds::syntax::Nsid::new(s)
        .map(|n| n.to_string())
        .map_err(|e| XrpcError::invalid(format!("Invalid collection: {e}")))
}

/// A valid record key.
pub fn rkey(s: &str) -> Result<String, XrpcError> {
    pds::syntax::RecordKey::new(s)
        .map(|k| k.to_string())
        .map_err(|e| XrpcError::invalid(format!("Invalid record key: {e}")))
}

/// An optional CID parameter.
pub fn optional_cid(s: Option<&str>, name: &str) -> Result<Option<Cid>, XrpcError> {
    s.map(|v| {
        pds::data::cid::parse(v).map_err(|e| XrpcError::invalid(format!("Invalid {name}: {e}")))
    })
    .transpose()
}

/// A record from its JSON form: a data-model object whose `$type` is the collection.
pub fn record_value(json: &serde_json::Value, collection: &str) -> Result<Value, XrpcError> {
    let v = pds::data::json::record_from_json(json)
        .map_err(|e| XrpcError::invalid(format!("Invalid record: {e}")))?;
    let t = json
        .get("$type")
        .and_then(|t| t.as_str())
        .unwrap_or_default();
    if t != collection {
        return Err(XrpcError::invalid(format!(
            "Invalid $type: expected {collection}, got {t}"
        )));
    }
    Ok(v)
}
