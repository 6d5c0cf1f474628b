//! com.atproto.repo.getRecord: one record's value and CID (repo by DID or handle).

use crate::context::AppState;
use crate::services::repo::read_record;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Params;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub struct P {
    repo: String,
    collection: String,
    rkey: String,
    cid: Option<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    Params(p): Params<P>,
) -> Result<Json<Value>, XrpcError> {
    let collection = super::collection(&p.collection)?;
    let rkey = super::rkey(&p.rkey)?;
    let want = super::optional_cid(p.cid.as_deref(), "cid")?;
    let (account, record) = read_record(&state, &p.repo, &collection, &rkey).await?;
    let uri = format!("at://{}/{}/{}", account.did, collection, rkey);
    match record {
        Some((cid, value)) if want.is_none_or(|w| w == cid) => Ok(Json(json!({
            "uri": uri,
            "cid": cid.to_string(),
            "value": pds::data::json::to_json(&value),
        }))),
        _ => Err(XrpcError::named(
            "RecordNotFound",
            format!("Could not locate record: {uri}"),
        )),
    }
}
