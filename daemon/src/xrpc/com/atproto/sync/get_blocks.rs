//! com.atproto.sync.getBlocks: chosen blocks of a repo as a CAR.

use super::car_response;
use crate::context::AppState;
use crate::services::repo::{find_readable, head};
use crate::store::repo::SqlBlocks;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Params;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use pds::store::BlockSource;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct P {
    did: String,
    #[serde(default)]
    cids: Vec<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    Params(p): Params<P>,
) -> Result<Response, XrpcError> {
    let did = pds::syntax::Did::new(&p.did)
        .map_err(|e| XrpcError::invalid(format!("Invalid did: {e}")))?;
    if p.cids.len() > 10_000 {
        return Err(XrpcError::invalid("too many cids (at most 10000)"));
    }
    let cids = p
        .cids
        .iter()
        .map(|c| pds::data::cid::parse(c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| XrpcError::invalid(format!("Invalid cid: {e}")))?;
    let account = find_readable(&state, did.as_str(), false).await?;
    let head = head(&state, &account.did).await?;
    let bytes = state
        .db
        .read(move |conn| -> Result<Vec<u8>, XrpcError> {
            let src = SqlBlocks {
                conn,
                did: &account.did,
            };
            let mut found = Vec::with_capacity(cids.len());
            let mut missing = Vec::new();
            for cid in &cids {
                match src.get_block(cid).map_err(XrpcError::internal)? {
                    Some(b) => found.push((*cid, b)),
                    None => missing.push(cid.to_string()),
                }
            }
            if !missing.is_empty() {
                return Err(XrpcError::named(
                    "BlockNotFound",
                    format!("Could not find blocks: {}", missing.join(", ")),
                ));
            }
            pds::car::to_bytes(&head.commit, found.iter().map(|(c, b)| (c, b)))
                .map_err(XrpcError::internal)
        })
        .await?;
    Ok(car_response(Body::from(bytes)))
}
