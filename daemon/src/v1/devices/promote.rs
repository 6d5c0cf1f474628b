//! `POST /v1/devices/{id}/promote`: make a desktop the account's repo host (desktop-
//! enrolled mode). From then on the desktop builds commits and the relay signs them;
//! see `services::device` for what XRPC writes do meanwhile.

use super::{device_json, id_param};
use crate::context::AppState;
use crate::services::device as device_service;
use crate::v1::PathParam;
use crate::v1::auth::DeviceAuth;
use crate::v1::route::{self, Auth, Milestone, Route, err, schema_ref};
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde_json::{Value, json};

async fn handler(
    State(state): State<AppState>,
    auth: DeviceAuth,
    PathParam(id): PathParam,
) -> Result<Json<Value>, XrpcError> {
    let row = device_service::promote(&state, &auth.device, &id).await?;
    let mode = device_service::mode(&state, &row.did).await?;
    Ok(Json(json!({
        "device": device_json(&state, &row, Some(&row.id)),
        "mode": mode.name(),
    })))
}

/// `POST /v1/devices/{id}/promote`.
pub fn route() -> Route {
    Route {
        method: Method::POST,
        path: "/v1/devices/{id}/promote",
        milestone: Milestone::V0_2,
        auth: Auth::Device,
        summary: "Make a desktop the repo host",
        description: "Any enrolled device of the account may promote an enrolled desktop (macos, linux, windows), itself \
            included. The account switches to desktop-enrolled mode: the desktop builds commits and sends them to \
            POST /v1/relay/commits/sign. While it is offline (no request or heartbeat within the configured timeout, or \
            signed off), XRPC writes answer 503 RepoHostOffline; reads keep working. De-enrolling the desktop returns the \
            account to mobile-only mode.",
        params: vec![id_param()],
        request: None,
        responses: route::ok_json(
            "The new repo host.",
            json!({
                "type": "object",
                "required": ["device", "mode"],
                "properties": { "device": schema_ref("Device"), "mode": { "enum": ["desktop-enrolled"] } }
            }),
        ),
        errors: vec![
            err(404, "DeviceNotFound", "no such device on this account"),
            err(400, "DevicePending", "the device waits for approval"),
            err(400, "NotADesktop", "the device is not a desktop"),
        ],
        handler: axum::routing::post(handler),
    }
}
