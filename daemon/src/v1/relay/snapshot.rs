//! `GET /v1/relay/repo/snapshot`: the account's whole repo as a CAR (the head commit
//! first, then the MST with records), for a desktop that starts hosting or has to catch
//! up. Streamed like com.atproto.sync.getRepo, from the relay's copy.

use crate::context::AppState;
use crate::services::repo;
use crate::store::repo::SqlBlocks;
use crate::v1::auth::Caller;
use crate::v1::route::{Auth, Body, Milestone, Response, Route};
use crate::xrpc::com::atproto::sync::{ChannelWriter, car_response};
use crate::xrpc::error::XrpcError;
use axum::extract::State;
use axum::http::{HeaderValue, Method};
use serde_json::json;

/// Why the stream stopped part-way.
struct ExportFailure(String);

impl From<crate::store::DbError> for ExportFailure {
    fn from(e: crate::store::DbError) -> Self {
        ExportFailure(e.to_string())
    }
}

async fn handler(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::response::Response, XrpcError> {
    let account = repo::find_account(&state, caller.did()).await?;
    let head = repo::head(&state, &account.did).await?;
    let (mut writer, body) = ChannelWriter::new();
    let db = state.db.clone();
    let did = account.did.clone();
    tokio::task::spawn_blocking(move || {
        let result = db.read_blocking(|conn| -> Result<(), ExportFailure> {
            let blocks = SqlBlocks { conn, did: &did };
            pds::repo::export_car(&blocks, &head.commit, &mut writer)
                .map(|_| ())
                .map_err(|e| ExportFailure(e.to_string()))
        });
        if let Err(ExportFailure(e)) = result {
            tracing::warn!(error = %e, "snapshot stream failed");
            writer.fail(e);
        }
    });
    let mut res = car_response(body);
    if let Ok(v) = HeaderValue::from_str(head.rev.as_str()) {
        res.headers_mut().insert("x-repo-rev", v);
    }
    if let Ok(v) = HeaderValue::from_str(&head.commit.to_string()) {
        res.headers_mut().insert("x-repo-commit", v);
    }
    Ok(res)
}

/// `GET /v1/relay/repo/snapshot`.
pub fn route() -> Route {
    Route {
        method: Method::GET,
        path: "/v1/relay/repo/snapshot",
        milestone: Milestone::V1_0,
        auth: Auth::DeviceOrSession,
        summary: "The full repo as a CAR",
        description: "The account's repo at its head: a CAR v1 whose root is the head commit, then every MST node and \
            record. Headers x-repo-commit and x-repo-rev name the head. Works in every mode and while the repo host is offline.",
        params: vec![],
        request: None,
        responses: vec![Response {
            status: 200,
            description: "The repo (CAR v1).",
            body: Some(Body {
                content_type: "application/vnd.ipld.car",
                schema: json!({ "type": "string", "contentMediaType": "application/vnd.ipld.car" }),
                required: true,
            }),
        }],
        errors: vec![],
        handler: axum::routing::get(handler),
    }
}
