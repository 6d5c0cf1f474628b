//! `POST /v1/devices/{id}/pair`: an enrolled device approves a pending one of the same
//! account, with the pairing code the new device shows.

use super::{device_json, id_param, repo_host_id};
use crate::context::AppState;
use crate::services::device as device_service;
use crate::v1::PathParam;
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
pub struct In {
    code: String,
}

async fn handler(
    State(state): State<AppState>,
    auth: DeviceAuth,
    PathParam(id): PathParam,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    let row = device_service::pair(&state, &auth.device, &id, &input.code).await?;
    let host = repo_host_id(&state, &row.did).await?;
    Ok(Json(
        json!({ "device": device_json(&state, &row, host.as_deref()) }),
    ))
}

/// `POST /v1/devices/{id}/pair`.
pub fn route() -> Route {
    Route {
        method: Method::POST,
        path: "/v1/devices/{id}/pair",
        milestone: Milestone::V0_2,
        auth: Auth::Device,
        summary: "Approve a pending device",
        description: "An enrolled device approves the pending device {id} of the same account. `code` is the pairing \
            code the new device shows (case and dashes do not matter). The new device can authenticate from then on.",
        params: vec![id_param()],
        request: route::json(json!({
            "type": "object",
            "required": ["code"],
            "properties": { "code": { "type": "string" } }
        })),
        responses: route::ok_json(
            "The approved device.",
            json!({ "type": "object", "required": ["device"], "properties": { "device": schema_ref("Device") } }),
        ),
        errors: vec![
            err(
                404,
                "DeviceNotFound",
                "no such pending device on this account (or it expired)",
            ),
            err(400, "DeviceNotPending", "the device is already enrolled"),
            err(400, "InvalidPairingCode", "the code does not match"),
            err(
                403,
                "DeviceLimitReached",
                "the account's tier allows no more devices",
            ),
        ],
        handler: axum::routing::post(handler),
    }
}
