//! `POST /v1/devices/{id}/heartbeat`: a device says it is online, or (`sleeping`) that it
//! goes offline now. Every authenticated request counts as contact too; the heartbeat is
//! for a desktop that has nothing else to say, and answers with the repo's head so the
//! repo host sees at once whether the relay committed something it has not pulled yet.

use super::id_param;
use crate::context::AppState;
use crate::services::{device as device_service, repo};
use crate::v1::PathParam;
use crate::v1::auth::DeviceAuth;
use crate::v1::route::{self, Auth, Milestone, Route, err};
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Default, Deserialize)]
pub struct In {
    state: Option<String>,
}

async fn handler(
    State(state): State<AppState>,
    auth: DeviceAuth,
    PathParam(id): PathParam,
    body: axum::body::Bytes,
) -> Result<Json<Value>, XrpcError> {
    if id != auth.device.id {
        return Err(XrpcError::forbidden(
            "a device sends its own heartbeat (the path names another device)",
        ));
    }
    let input: In = if body.is_empty() {
        In::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| XrpcError::invalid(format!("Input: {e}")))?
    };
    let sleeping = match input.state.as_deref() {
        None | Some("online") => false,
        Some("sleeping") => true,
        Some(other) => {
            return Err(XrpcError::invalid(format!(
                "state must be online or sleeping, not {other:?}"
            )));
        }
    };
    let row = device_service::heartbeat(&state, &auth.device, sleeping).await?;
    let mode = device_service::mode(&state, &row.did).await?;
    let head = repo::head(&state, &row.did).await?;
    Ok(Json(json!({
        "online": device_service::is_online(&state, &row),
        "repoHost": mode.repo_host.as_ref().is_some_and(|(h, _)| h.id == row.id),
        "mode": mode.name(),
        "head": { "commit": head.commit.to_string(), "rev": head.rev.to_string() },
    })))
}

/// `POST /v1/devices/{id}/heartbeat`.
pub fn route() -> Route {
    Route {
        method: Method::POST,
        path: "/v1/devices/{id}/heartbeat",
        milestone: Milestone::V0_2,
        auth: Auth::Device,
        summary: "Tell the relay the device is online (or going to sleep)",
        description: "{id} must be the calling device. Body optional: {\"state\": \"online\"} (default) or \
            {\"state\": \"sleeping\"}, after which the device counts as offline until its next request (a repo-host \
            desktop going to sleep makes XRPC writes answer 503 at once instead of after the timeout).",
        params: vec![id_param()],
        request: route::json_optional(json!({
            "type": "object",
            "properties": { "state": { "enum": ["online", "sleeping"] } }
        })),
        responses: route::ok_json(
            "The device's view of the account.",
            json!({
                "type": "object",
                "required": ["online", "repoHost", "mode", "head"],
                "properties": {
                    "online": { "type": "boolean" },
                    "repoHost": { "type": "boolean" },
                    "mode": { "$ref": "#/components/schemas/ModeName" },
                    "head": { "$ref": "#/components/schemas/Head" }
                }
            }),
        ),
        errors: vec![err(403, "Forbidden", "the path names another device")],
        handler: axum::routing::post(handler),
    }
}
