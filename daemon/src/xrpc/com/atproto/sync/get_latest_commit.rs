//! com.atproto.sync.getLatestCommit: the current commit CID and rev.

use crate::context::AppState;
use crate::services::repo::{find_readable, head};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Params;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub struct P {
    did: String,
}

pub async fn handler(
    State(state): State<AppState>,
    Params(p): Params<P>,
) -> Result<Json<Value>, XrpcError> {
    let did = pds::syntax::Did::new(&p.did)
        .map_err(|e| XrpcError::invalid(format!("Invalid did: {e}")))?;
    let account = find_readable(&state, did.as_str(), false).await?;
    let head = head(&state, &account.did).await?;
    Ok(Json(
        json!({"cid": head.commit.to_string(), "rev": head.rev.to_string()}),
    ))
}
