//! com.atproto.sync.getRecord: a CAR proving a record's inclusion (or absence) under the
//! current signed commit.

use super::car_response;
use crate::context::AppState;
use crate::services::repo::{find_readable, head};
use crate::store::repo::SqlBlocks;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Params;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct P {
    did: String,
    collection: String,
    rkey: String,
}

pub async fn handler(
    State(state): State<AppState>,
    Params(p): Params<P>,
) -> Result<Response, XrpcError> {
    let did = pds::syntax::Did::new(&p.did)
        .map_err(|e| XrpcError::invalid(format!("Invalid did: {e}")))?;
    let collection = crate::xrpc::com::atproto::repo::collection(&p.collection)?;
    let rkey = crate::xrpc::com::atproto::repo::rkey(&p.rkey)?;
    let account = find_readable(&state, did.as_str(), false).await?;
    let head = head(&state, &account.did).await?;
    let key = format!("{collection}/{rkey}");
    let bytes = state
        .db
        .read(move |conn| -> Result<Vec<u8>, XrpcError> {
            let blocks = SqlBlocks {
                conn,
                did: &account.did,
            };
            pds::repo::record_proof_car(&blocks, &head.commit, &key)
                .map(|(_, car)| car)
                .map_err(XrpcError::internal)
        })
        .await?;
    Ok(car_response(Body::from(bytes)))
}
