//! `GET /v1/recovery/restore`: the whole account in one stream, for the device that just
//! recovered (or any device of the account): a CAR v1 whose roots are the head commit and
//! the export manifest, holding the manifest (JSON, a raw block), the repository's blocks,
//! then every blob as a raw block. Written by `services::recovery::write_restore` off the
//! async threads, as getRepo streams.

use crate::context::AppState;
use crate::services::recovery;
use crate::v1::auth::DeviceAuth;
use crate::v1::route::{Auth, Body, Milestone, Response, Route};
use crate::xrpc::com::atproto::sync::{ChannelWriter, car_response};
use crate::xrpc::error::XrpcError;
use axum::extract::State;
use axum::http::{HeaderValue, Method};
use serde_json::json;

async fn handler(
    State(state): State<AppState>,
    auth: DeviceAuth,
) -> Result<axum::response::Response, XrpcError> {
    let manifest = recovery::manifest(&state, &auth.device.did).await?;
    let total: u64 = manifest.blobs.iter().map(|b| b.size).sum();
    let count = manifest.blobs.len();
    let commit = manifest.commit.clone();
    let (mut writer, body) = ChannelWriter::new();
    let rt = tokio::runtime::Handle::current();
    let st = state.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = recovery::write_restore(&st, &manifest, &rt, &mut writer) {
            tracing::warn!(error = %e.0, "restore stream failed");
            writer.fail(e.0);
        }
    });
    let mut res = car_response(body);
    for (name, value) in [
        ("x-repo-commit", commit),
        ("x-blob-count", count.to_string()),
        ("x-blob-bytes", total.to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            res.headers_mut().insert(name, v);
        }
    }
    Ok(res)
}

/// `GET /v1/recovery/restore`.
pub fn route() -> Route {
    Route {
        method: Method::GET,
        path: "/v1/recovery/restore",
        milestone: Milestone::V1_0,
        auth: Auth::Device,
        summary: "The whole account, repository and blobs, in one stream",
        description: "A CAR v1 stream with two roots: the head commit, and the export manifest (JSON: did, handle, \
            signing key, commit, rev, MST root, and every blob's CID, MIME type and size) stored as a raw block. The \
            manifest block comes first, then the repository (commit, MST nodes, records), then every blob as a raw block \
            named by its CID, so the device verifies everything it receives. Headers x-repo-commit, x-blob-count and \
            x-blob-bytes give sizes for a progress bar. Any enrolled device of the account may call it; a device enrolled \
            by POST /v1/recovery/verify-key calls it first.",
        params: vec![],
        request: None,
        responses: vec![Response {
            status: 200,
            description: "The account (CAR v1).",
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
