//! `GET /v1/devices`: the account's pending and active devices.

use super::{device_json, repo_host_id};
use crate::context::AppState;
use crate::services::device as device_service;
use crate::v1::auth::Caller;
use crate::v1::route::{self, Auth, Milestone, Route};
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde_json::{Value, json};

async fn handler(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, XrpcError> {
    let did = caller.did().to_string();
    let host = repo_host_id(&state, &did).await?;
    let devices = device_service::list(&state, &did).await?;
    Ok(Json(json!({
        "did": did,
        "devices": devices
            .iter()
            .map(|d| device_json(&state, d, host.as_deref()))
            .collect::<Vec<_>>(),
    })))
}

/// `GET /v1/devices`.
pub fn route() -> Route {
    Route {
        method: Method::GET,
        path: "/v1/devices",
        milestone: Milestone::V0_2,
        auth: Auth::DeviceOrSession,
        summary: "List the account's devices",
        description: "Pending and active devices, oldest first (removed ones are not listed).",
        params: vec![],
        request: None,
        responses: route::ok_json(
            "The devices.",
            json!({
                "type": "object",
                "required": ["did", "devices"],
                "properties": {
                    "did": { "$ref": "#/components/schemas/Did" },
                    "devices": { "type": "array", "items": { "$ref": "#/components/schemas/Device" } }
                }
            }),
        ),
        errors: vec![],
        handler: axum::routing::get(handler),
    }
}
