//! Blob uploads with per-tier limits, and blob reads.
//!
//! An upload streams into the blob store (refused as soon as it passes the tier's size
//! limit), then is recorded for the account; the account's total is checked against the
//! tier's quota. A blob is content-addressed: uploading the same bytes twice stores one copy.

use super::ServiceError;
use crate::context::AppState;
use crate::store::{accounts, blobs as blob_store};
use bytes::Bytes;
use futures::Stream;
use pds::data::BlobRef;

/// The limits of an account's tier (falling back to the default tier).
pub fn tier_limits<'a>(
    state: &'a AppState,
    account: &accounts::AccountRow,
) -> &'a crate::config::TierLimits {
    state
        .config
        .tier(&account.tier)
        .or_else(|| state.config.tier(&state.config.tiers.default))
        .unwrap_or(&state.config.tiers.free)
}

/// Store a blob for `account`. A deactivated account may upload (an account moving in
/// is filled before it is activated, as atproto migration does); a taken-down one may not.
pub async fn upload<S, E>(
    state: &AppState,
    account: &accounts::AccountRow,
    content_type: Option<&str>,
    body: S,
) -> Result<BlobRef, ServiceError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    if account.takedown_ref.is_some() {
        return Err(ServiceError::RepoTakendown(account.did.clone()));
    }
    store(state, account, content_type, body).await
}

async fn store<S, E>(
    state: &AppState,
    account: &accounts::AccountRow,
    content_type: Option<&str>,
    body: S,
) -> Result<BlobRef, ServiceError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let limits = tier_limits(state, account).clone();
    let tier = account.tier.clone();
    let did = account.did.clone();
    let used = state.db.read(move |c| blob_store::usage(c, &did)).await?;
    let quota_text = |what: &str| {
        format!(
            "Blob storage quota {what}: the {tier} tier holds {} bytes of blobs per account and {used} are used",
            limits.blob_quota_bytes
        )
    };
    if used >= limits.blob_quota_bytes {
        return Err(ServiceError::BlobTooLarge(quota_text("is used up")));
    }
    let limit = limits
        .blob_max_bytes
        .min(limits.blob_quota_bytes.saturating_sub(used));
    let stored = state
        .blobs
        .put_stream(body, limit)
        .await
        .map_err(|e| match e {
            crate::blobs::BlobError::TooLarge { .. } if limit < limits.blob_max_bytes => {
                ServiceError::BlobTooLarge(quota_text("would be exceeded"))
            }
            crate::blobs::BlobError::TooLarge { limit } => ServiceError::BlobTooLarge(format!(
                "This file is too large. It is larger than the maximum size of {limit} bytes \
                 (the {tier} tier's limit per blob)"
            )),
            other => other.into(),
        })?;
    let declared = content_type
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|c| !c.is_empty() && c != "*/*" && c.contains('/'));
    let mime = match crate::blobs::sniff_mime(&stored.head) {
        Some(sniffed) => sniffed.to_string(),
        None => declared.unwrap_or_else(|| "application/octet-stream".to_string()),
    };
    let (did, cid, m, size) = (
        account.did.clone(),
        stored.cid.to_string(),
        mime.clone(),
        stored.size,
    );
    state
        .db
        .write(move |tx| blob_store::insert(tx.conn(), &did, &cid, &m, size))
        .await?;
    Ok(BlobRef::new(stored.cid, mime, stored.size))
}
