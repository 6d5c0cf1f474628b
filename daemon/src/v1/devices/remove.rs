//! `DELETE /v1/devices/{id}`: de-enrol a device. Its key no longer authenticates, it is
//! no longer the repo host (the account returns to mobile-only mode), and if its key is
//! among the DID's rotation keys a PLC update signed by the relay's rotation key removes it.

use super::{device_json, id_param};
use crate::context::AppState;
use crate::services::device::{self as device_service, RotationKeyRemoval};
use crate::v1::PathParam;
use crate::v1::auth::Caller;
use crate::v1::route::{self, Auth, Milestone, Route, err, schema_ref};
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde_json::{Value, json};

async fn handler(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam,
) -> Result<Json<Value>, XrpcError> {
    let did = caller.did().to_string();
    let removed = device_service::remove(&state, &did, &id).await?;
    let mut device = device_json(&state, &removed.device, None);
    device["status"] = json!("removed");
    device["online"] = json!(false);
    let rotation = match &removed.rotation_keys {
        RotationKeyRemoval::NotPresent => json!({ "status": "notPresent" }),
        RotationKeyRemoval::Removed { operation } => json!({
            "status": "removed",
            "operation": serde_json::to_value(operation).map_err(XrpcError::internal)?,
        }),
        RotationKeyRemoval::NeedsUserSignature(why) => json!({
            "status": "needsUserSignature",
            "message": format!("{why}; remove the key with POST /v1/dids/{did}/rotate signed by your rotation key"),
        }),
    };
    Ok(Json(json!({
        "device": device,
        "wasRepoHost": removed.was_repo_host,
        "rotationKeys": rotation,
    })))
}

/// `DELETE /v1/devices/{id}`.
pub fn route() -> Route {
    Route {
        method: Method::DELETE,
        path: "/v1/devices/{id}",
        milestone: Milestone::V0_2,
        auth: Auth::DeviceOrSession,
        summary: "De-enrol a device",
        description: "The device's key stops authenticating at once (a pending enrolment is cancelled). If it was the repo \
            host, the account returns to mobile-only mode. If its key is among the DID's rotation keys, the relay removes \
            it with a PLC update signed by its rotation key (`rotationKeys.status: removed`); when the relay cannot sign \
            (its key is no longer a rotation key) the answer says `needsUserSignature`.",
        params: vec![id_param()],
        request: None,
        responses: route::ok_json(
            "The removed device.",
            json!({
                "type": "object",
                "required": ["device", "wasRepoHost", "rotationKeys"],
                "properties": {
                    "device": schema_ref("Device"),
                    "wasRepoHost": { "type": "boolean" },
                    "rotationKeys": {
                        "type": "object",
                        "required": ["status"],
                        "properties": {
                            "status": { "enum": ["notPresent", "removed", "needsUserSignature"] },
                            "operation": { "type": "object" },
                            "message": { "type": "string" }
                        }
                    }
                }
            }),
        ),
        errors: vec![err(404, "DeviceNotFound", "no such device on this account")],
        handler: axum::routing::delete(handler),
    }
}
