//! com.atproto.server.checkAccountStatus: what a migrating account has here (repo head,
//! counts of records and blobs, whether its identity points here).

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::services::repo::find_account;
use crate::store::{blobs as blob_store, repo as repo_store};
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

pub async fn handler(
    State(state): State<AppState>,
    auth: AccessAuth,
) -> Result<Json<Value>, XrpcError> {
    let account = find_account(&state, &auth.did).await?;
    let did = account.did.clone();
    let (head, records, (blobs, expected_blobs)) = state
        .db
        .read(move |c| -> Result<_, crate::store::DbError> {
            Ok((
                repo_store::head(c, &did)?,
                repo_store::record_count(c, &did)?,
                blob_store::counts(c, &did)?,
            ))
        })
        .await?;
    let valid_did = crate::services::identity::points_here(&state, &account.did).await;
    let mut out = json!({
        "activated": account.deactivated_at.is_none(),
        "validDid": valid_did,
        "repoBlocks": 0,
        "indexedRecords": records,
        "privateStateValues": 0,
        "expectedBlobs": expected_blobs,
        "importedBlobs": blobs.min(expected_blobs),
    });
    if let Some(h) = head {
        out["repoCommit"] = json!(h.commit.to_string());
        out["repoRev"] = json!(h.rev.to_string());
    }
    let d = account.did.clone();
    let blocks = state
        .db
        .read(move |c| crate::store::repo::block_count(c, &d))
        .await?;
    out["repoBlocks"] = json!(blocks);
    Ok(Json(out))
}
