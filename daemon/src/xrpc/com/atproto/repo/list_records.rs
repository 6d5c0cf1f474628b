//! com.atproto.repo.listRecords: a page of one collection (rkey-descending by default,
//! `reverse` for ascending), with a cursor.

use crate::context::AppState;
use crate::services::repo::find_readable;
use crate::store::repo as repo_store;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::{Params, flag};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub struct P {
    repo: String,
    collection: String,
    limit: Option<u32>,
    cursor: Option<String>,
    #[serde(default, deserialize_with = "flag::deserialize")]
    reverse: bool,
}

pub async fn handler(
    State(state): State<AppState>,
    Params(p): Params<P>,
) -> Result<Json<Value>, XrpcError> {
    let collection = super::collection(&p.collection)?;
    let limit = p.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(XrpcError::invalid("limit must be between 1 and 100"));
    }
    let account = find_readable(&state, &p.repo, false).await?;
    let did = account.did.clone();
    let (c, cursor, reverse) = (collection.clone(), p.cursor.clone(), p.reverse);
    let rows = state
        .db
        .read(move |conn| {
            repo_store::list_records(conn, &did, &c, limit, cursor.as_deref(), reverse)
        })
        .await?;
    let mut records = Vec::with_capacity(rows.len());
    for r in &rows {
        let value = pds::data::cbor::decode_value(&r.bytes).map_err(XrpcError::internal)?;
        records.push(json!({
            "uri": format!("at://{}/{}/{}", account.did, collection, r.rkey),
            "cid": r.cid.to_string(),
            "value": pds::data::json::to_json(&value),
        }));
    }
    let mut out = json!({ "records": records });
    if rows.len() as u32 == limit
        && let Some(last) = rows.last()
    {
        out["cursor"] = json!(last.rkey);
    }
    Ok(Json(out))
}
