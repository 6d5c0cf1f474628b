//! `POST /v1/relay/commits/sign`: the repo-host desktop sends an unsigned commit with its
//! new blocks; the relay checks the transition, signs, stores, emits on the firehose and
//! returns the signed commit. The checks are in `services::desktop`.
//!
//! The body is JSON (so the API stays one format): the commit's fields, with CIDs as
//! strings, and the new blocks as a base64 CAR v1 (its root is ignored; by convention
//! the new MST root). It may be larger than other JSON bodies: up to [`MAX_BODY`].

use crate::context::AppState;
use crate::services::desktop;
use crate::v1::auth::DeviceAuth;
use crate::v1::route::{self, Auth, Milestone, Route, err, schema_ref};
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Largest request body.
pub const MAX_BODY: usize = 32 * 1024 * 1024;

#[derive(Debug, Deserialize)]
pub struct CommitIn {
    did: String,
    version: i64,
    data: String,
    rev: String,
    prev: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct In {
    commit: CommitIn,
    blocks: String,
}

async fn handler(
    State(state): State<AppState>,
    auth: DeviceAuth,
    req: Request,
) -> Result<Json<Value>, XrpcError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !ct.starts_with("application/json") {
        return Err(XrpcError::invalid("Content-Type must be application/json"));
    }
    let body = axum::body::to_bytes(req.into_body(), MAX_BODY)
        .await
        .map_err(|_| {
            XrpcError::too_large(format!("request body is larger than {MAX_BODY} bytes"))
        })?;
    let input: In =
        serde_json::from_slice(&body).map_err(|e| XrpcError::invalid(format!("Input: {e}")))?;
    let c = &input.commit;
    let commit = desktop::unsigned_commit(&c.did, c.version, &c.data, &c.rev, c.prev.as_deref())?;
    let car = base64::engine::general_purpose::STANDARD
        .decode(input.blocks.trim())
        .map_err(|e| XrpcError::named("InvalidCommit", format!("blocks is not base64: {e}")))?;
    let limits = pds::car::CarLimits {
        max_total_bytes: MAX_BODY as u64,
        ..Default::default()
    };
    let file = pds::car::read_all(std::io::Cursor::new(car), limits).map_err(|e| {
        XrpcError::named("InvalidCommit", format!("blocks is not a valid CAR: {e}"))
    })?;
    let blocks: HashMap<_, _> = file.blocks.into_iter().collect();
    let signed = desktop::sign_commit(&state, &auth.device, commit, blocks).await?;
    Ok(Json(json!({
        "cid": signed.cid.to_string(),
        "rev": signed.rev.to_string(),
        "commit": base64::engine::general_purpose::STANDARD.encode(&signed.bytes),
        "seq": signed.seq,
        "ops": signed.ops.iter().map(|o| json!({
            "action": o.action.as_str(),
            "path": o.path,
            "cid": o.cid.map(|c| c.to_string()),
            "prev": o.prev.map(|c| c.to_string()),
        })).collect::<Vec<_>>(),
    })))
}

/// `POST /v1/relay/commits/sign`.
pub fn route() -> Route {
    Route {
        method: Method::POST,
        path: "/v1/relay/commits/sign",
        milestone: Milestone::V1_0,
        auth: Auth::Device,
        summary: "Sign a commit the repo-host desktop built",
        description: "Only the repo host calls this. `commit` is the unsigned v3 commit: did, version 3, data (the new MST \
            root), rev (a TID after the head's rev, not ahead of the relay's clock) and prev (the CID of the relay's current \
            head commit, which the signature then covers). `blocks` is a base64 CAR v1 holding the new MST nodes and new \
            records. The relay reads the diff between the head's tree and the new tree from those blocks over its own, \
            replays the ops and requires exactly the new root (a canonical MST), validates every created or updated record \
            against the lexicons and the record size limit, checks referenced blobs exist, then signs with the account's \
            signing key, stores the commit, emits #commit on the firehose and returns it. A commit built on an old head is \
            refused with 409 StaleCommit: sync and rebuild.",
        params: vec![],
        request: route::json(json!({
            "type": "object",
            "required": ["commit", "blocks"],
            "properties": {
                "commit": {
                    "type": "object",
                    "required": ["did", "version", "data", "rev", "prev"],
                    "properties": {
                        "did": { "$ref": "#/components/schemas/Did" },
                        "version": { "const": 3 },
                        "data": { "$ref": "#/components/schemas/Cid" },
                        "rev": { "$ref": "#/components/schemas/Tid" },
                        "prev": { "$ref": "#/components/schemas/Cid" }
                    }
                },
                "blocks": { "type": "string", "contentEncoding": "base64", "contentMediaType": "application/vnd.ipld.car" }
            }
        })),
        responses: route::ok_json(
            "The signed commit.",
            json!({
                "type": "object",
                "required": ["cid", "rev", "commit", "seq", "ops"],
                "properties": {
                    "cid": schema_ref("Cid"),
                    "rev": schema_ref("Tid"),
                    "commit": { "type": "string", "contentEncoding": "base64", "description": "the signed commit block (DAG-CBOR)" },
                    "seq": { "type": "integer", "description": "the firehose sequence number of its #commit" },
                    "ops": { "type": "array", "items": {
                        "type": "object",
                        "required": ["action", "path"],
                        "properties": {
                            "action": { "enum": ["create", "update", "delete"] },
                            "path": { "type": "string" },
                            "cid": { "type": ["string", "null"] },
                            "prev": { "type": ["string", "null"] }
                        }
                    } }
                }
            }),
        ),
        errors: vec![
            err(
                400,
                "InvalidCommit",
                "malformed commit or blocks, an invalid MST transition, an invalid record, a rev ahead of the clock",
            ),
            err(
                400,
                "InvalidRequest",
                "a record references a blob that was not uploaded",
            ),
            err(
                403,
                "NotRepoHost",
                "the device is not the account's repo host",
            ),
            err(
                409,
                "StaleCommit",
                "prev is not the current head commit, or rev does not come after the head's",
            ),
            err(413, "PayloadTooLarge", "the body is larger than 32 MiB"),
        ],
        handler: axum::routing::post(handler),
    }
}
