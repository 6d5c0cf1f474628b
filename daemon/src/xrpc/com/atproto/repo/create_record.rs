//! com.atproto.repo.createRecord: create one record (rkey defaults to a new TID).

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::services::repo::{PreparedWrite, apply_writes, prepare_record};
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
    rkey: Option<String>,
    validate: Option<bool>,
    record: Value,
    swap_commit: Option<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    auth: AccessAuth,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    let did = super::write_target(&state, &auth, &input.repo).await?;
    let collection = super::collection(&input.collection)?;
    let rkey = match input.rkey {
        Some(k) => super::rkey(&k)?,
        None => state.tids.next().to_string(),
    };
    let record = super::record_value(&input.record, &collection)?;
    let (blobs, validation) = prepare_record(&collection, &rkey, &record, input.validate)?;
    let swap = super::optional_cid(input.swap_commit.as_deref(), "swapCommit")?;
    let write = PreparedWrite {
        write: Write::Create {
            collection: collection.clone(),
            rkey: rkey.clone(),
            record,
        },
        blobs,
        validation,
    };
    let done = apply_writes(&state, &did, vec![write], swap).await?;
    let r = done
        .results
        .first()
        .ok_or_else(|| XrpcError::internal("commit without results"))?;
    let mut out = json!({
        "uri": format!("at://{}/{}/{}", did, collection, rkey),
        "cid": r.cid.map(|c| c.to_string()),
        "commit": {"cid": done.commit.to_string(), "rev": done.rev.to_string()},
    });
    if let Some(v) = r.validation {
        out["validationStatus"] = json!(v);
    }
    Ok(Json(out))
}
