//! com.atproto.repo.deleteRecord: delete one record (deleting a missing record is a no-op,
//! as in the reference PDS).

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::services::ServiceError;
use crate::services::repo::{PreparedWrite, apply_writes};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use pds::repo::Write;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct In {
    repo: String,
    collection: String,
    rkey: String,
    swap_record: Option<String>,
    swap_commit: Option<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    auth: AccessAuth,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    let did = super::write_target(&state, &auth, &input.repo).await?;
    let collection = super::collection(&input.collection)?;
    let rkey = super::rkey(&input.rkey)?;
    let swap_record = super::optional_cid(input.swap_record.as_deref(), "swapRecord")?;
    let swap_commit = super::optional_cid(input.swap_commit.as_deref(), "swapCommit")?;
    let write = PreparedWrite {
        write: Write::Delete {
            collection,
            rkey,
            swap_record,
        },
        blobs: vec![],
        validation: None,
    };
    match apply_writes(&state, &did, vec![write], swap_commit).await {
        Ok(done) => Ok(Json(json!({
            "commit": {"cid": done.commit.to_string(), "rev": done.rev.to_string()}
        }))),
        // Deleting what is not there changes nothing; with a swapRecord it is a conflict.
        Err(ServiceError::RecordNotFound(_)) if swap_record.is_none() => Ok(Json(json!({}))),
        Err(ServiceError::RecordNotFound(p)) => {
            Err(ServiceError::InvalidSwap(format!("Record was at {p}: not found")).into())
        }
        Err(e) => Err(e.into()),
    }
}
