//! `POST /v1/transfer/complete`: the device that started a transfer confirms it. The new
//! device becomes active; when the old device held the repo-host lease and the new one is
//! a desktop, the lease moves to it; with `removeOld` the old device is de-enrolled.

use super::{transfer_json, transfer_schema};
use crate::context::AppState;
use crate::services::transfer;
use crate::v1::auth::DeviceAuth;
use crate::v1::route::{self, Auth, Milestone, Route, err, schema_ref};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct In {
    transfer_id: String,
    #[serde(default)]
    remove_old: bool,
}

async fn handler(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    let done =
        transfer::complete(&state, &auth.device, &input.transfer_id, input.remove_old).await?;
    let host = if done.lease_moved {
        Some(done.device.id.as_str())
    } else {
        None
    };
    Ok(Json(json!({
        "transfer": transfer_json(&done.transfer),
        "device": super::super::devices::device_json(&state, &done.device, host),
        "leaseMoved": done.lease_moved,
        "oldRemoved": done.old_removed,
    })))
}

/// `POST /v1/transfer/complete`.
pub fn route() -> Route {
    Route {
        method: Method::POST,
        path: "/v1/transfer/complete",
        milestone: Milestone::V0_2,
        auth: Auth::Device,
        summary: "Confirm a transfer; hand the repo-host lease over",
        description: "Only the device that started the transfer may complete it, once the new device accepted. The new \
            device becomes active. If the old device was the account's repo host and the new one is a desktop (macos, \
            linux, windows), the repo-host lease moves to the new device. With `removeOld`, the old device is de-enrolled \
            (and, when the lease could not move, the account goes back to mobile-only mode). The rotation log records \
            `transfer_completed`.",
        params: vec![],
        request: route::json(json!({
            "type": "object",
            "required": ["transferId"],
            "properties": {
                "transferId": { "type": "string" },
                "removeOld": { "type": "boolean", "default": false }
            }
        })),
        responses: route::ok_json(
            "Completed.",
            json!({
                "type": "object",
                "required": ["transfer", "device", "leaseMoved", "oldRemoved"],
                "properties": {
                    "transfer": transfer_schema(),
                    "device": schema_ref("Device"),
                    "leaseMoved": { "type": "boolean" },
                    "oldRemoved": { "type": "boolean" }
                }
            }),
        ),
        errors: vec![
            err(404, "TransferNotFound", "no such transfer on this account"),
            err(403, "Forbidden", "another device started the transfer"),
            err(
                409,
                "TransferNotAccepted",
                "the new device has not entered the code",
            ),
            err(
                410,
                "TransferCodeExpired",
                "the code or the new device's request expired",
            ),
            err(
                410,
                "TransferCodeUsed",
                "the transfer was already completed",
            ),
            err(
                423,
                "TransferLocked",
                "the transfer locked after wrong codes",
            ),
            err(403, "DeviceLimitReached", "the tier allows no more devices"),
        ],
        handler: axum::routing::post(handler),
    }
}
