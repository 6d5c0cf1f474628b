//! `GET /v1/keys/rotation-log`: every split, re-split, release of the escrowed share,
//! recovery and transfer of the caller's account, oldest first, and what the relay holds
//! now (never a share value). For `pdsctl backup status|log` and the apps.

use super::{held_json, held_schema};
use crate::context::AppState;
use crate::services::escrow;
use crate::v1::auth::Caller;
use crate::v1::route::{self, Auth, Milestone, Route};
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde_json::{Value, json};

async fn handler(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, XrpcError> {
    let (log, held) = escrow::rotation_log(&state, caller.did()).await?;
    let entries: Vec<Value> = log
        .iter()
        .map(|l| {
            json!({
                "seq": l.seq,
                "at": l.at,
                "event": l.event,
                "setId": l.set_id,
                "epoch": l.epoch,
                "shareIndex": l.share_index,
                "rotationKey": l.rotation_key,
                "actor": l.actor,
                "detail": l.detail,
            })
        })
        .collect();
    let epoch = log.iter().filter_map(|l| l.epoch).max().unwrap_or(0);
    Ok(Json(json!({
        "did": caller.did(),
        "held": held.as_ref().map(held_json),
        "lastEpoch": epoch,
        "entries": entries,
    })))
}

/// `GET /v1/keys/rotation-log`.
pub fn route() -> Route {
    Route {
        method: Method::GET,
        path: "/v1/keys/rotation-log",
        milestone: Milestone::V0_1,
        auth: Auth::DeviceOrSession,
        summary: "The rotation log and the escrowed share's metadata",
        description: "Every key event of the account, oldest first: `split` and `resplit` (a share stored in escrow), \
            `share_released` and `share_release_refused`, `recovered` (a device enrolled by proving the rotation key) and \
            `transfer_completed`. `held` describes the share the relay holds now (set, epoch, share number, rotation key), \
            `lastEpoch` the highest epoch logged (a new split uses the next one).",
        params: vec![],
        request: None,
        responses: route::ok_json(
            "The log.",
            json!({
                "type": "object",
                "required": ["did", "held", "lastEpoch", "entries"],
                "properties": {
                    "did": { "$ref": "#/components/schemas/Did" },
                    "held": { "oneOf": [held_schema(), { "type": "null" }] },
                    "lastEpoch": { "type": "integer" },
                    "entries": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["seq", "at", "event", "actor"],
                            "properties": {
                                "seq": { "type": "integer" },
                                "at": { "type": "string", "format": "date-time" },
                                "event": { "enum": ["split", "resplit", "share_released", "share_release_refused", "recovered", "transfer_completed"] },
                                "setId": { "type": ["string", "null"] },
                                "epoch": { "type": ["integer", "null"] },
                                "shareIndex": { "type": ["integer", "null"] },
                                "rotationKey": { "type": ["string", "null"] },
                                "actor": { "type": "string", "description": "a device id, `session`, `password` or `rotation-key`" },
                                "detail": { "type": ["string", "null"] }
                            }
                        }
                    }
                }
            }),
        ),
        errors: vec![],
        handler: axum::routing::get(handler),
    }
}
