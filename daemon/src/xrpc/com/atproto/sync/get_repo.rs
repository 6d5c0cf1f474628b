//! com.atproto.sync.getRepo: the whole repo as a CAR, streamed (commit first, then the
//! MST in pre-order with records interleaved); with `since`, only blocks added after that rev.

use super::{ChannelWriter, car_response};
use crate::context::AppState;
use crate::services::repo::{find_readable, head};
use crate::store::repo::{SqlBlocks, blocks_since};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Params;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

/// Why an export stopped part-way.
struct ExportFailure(String);

impl From<crate::store::DbError> for ExportFailure {
    fn from(e: crate::store::DbError) -> Self {
        ExportFailure(e.to_string())
    }
}

#[derive(Debug, Deserialize)]
pub struct P {
    did: String,
    since: Option<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    Params(p): Params<P>,
) -> Result<Response, XrpcError> {
    let did = pds::syntax::Did::new(&p.did)
        .map_err(|e| XrpcError::invalid(format!("Invalid did: {e}")))?;
    let since = p
        .since
        .as_deref()
        .map(pds::syntax::Tid::new)
        .transpose()
        .map_err(|e| XrpcError::invalid(format!("Invalid since: {e}")))?;
    let account = find_readable(&state, did.as_str(), false).await?;
    let head = head(&state, &account.did).await?;
    let (mut writer, body) = ChannelWriter::new();
    let db = state.db.clone();
    tokio::task::spawn_blocking(move || {
        let result = db.read_blocking(|conn| -> Result<(), ExportFailure> {
            let blocks = SqlBlocks {
                conn,
                did: &account.did,
            };
            match &since {
                None => pds::repo::export_car(&blocks, &head.commit, &mut writer)
                    .map(|_| ())
                    .map_err(|e| ExportFailure(e.to_string())),
                Some(rev) => {
                    let newer = blocks_since(conn, &account.did, rev.as_str())
                        .map_err(|e| ExportFailure(e.to_string()))?;
                    let mut car = pds::car::CarWriter::new(&mut writer, &[head.commit])
                        .map_err(|e| ExportFailure(e.to_string()))?;
                    for (cid, bytes) in &newer {
                        car.write_block(cid, bytes)
                            .map_err(|e| ExportFailure(e.to_string()))?;
                    }
                    car.finish()
                        .map(|_| ())
                        .map_err(|e| ExportFailure(e.to_string()))
                }
            }
        });
        if let Err(ExportFailure(e)) = result {
            tracing::warn!(error = %e, "getRepo stream failed");
            writer.fail(e);
        }
    });
    Ok(car_response(body))
}
