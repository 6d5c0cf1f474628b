//! com.atproto.identity.resolveHandle: the DID of a handle (hosted here, or elsewhere via
//! its `/.well-known/atproto-did`).

use crate::context::AppState;
use crate::store::accounts;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Params;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub struct P {
    handle: String,
}

pub async fn handler(
    State(state): State<AppState>,
    Params(p): Params<P>,
) -> Result<Json<Value>, XrpcError> {
    let handle = pds::syntax::Handle::new(&p.handle)
        .map_err(|e| XrpcError::invalid(format!("Invalid handle: {e}")))?
        .to_string();
    let h = handle.clone();
    if let Some(a) = state.db.read(move |c| accounts::by_handle(c, &h)).await? {
        return Ok(Json(json!({ "did": a.did })));
    }
    if state
        .config
        .handle_domains
        .iter()
        .any(|d| handle.ends_with(d.as_str()))
    {
        return Err(XrpcError::named(
            "HandleNotFound",
            "Unable to resolve handle",
        ));
    }
    let did = crate::services::identity::resolve_external_handle(&state, &handle).await?;
    Ok(Json(json!({ "did": did })))
}
