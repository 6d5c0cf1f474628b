//! `GET /v1/devices/{id}/status`: a device's role, last contact and whether it is online.

use super::{device_json, id_param, repo_host_id};
use crate::context::AppState;
use crate::services::device as device_service;
use crate::v1::PathParam;
use crate::v1::auth::Caller;
use crate::v1::route::{self, Auth, Milestone, Route, err, schema_ref};
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde_json::Value;

async fn handler(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam,
) -> Result<Json<Value>, XrpcError> {
    let row = device_service::find_of(&state, caller.did(), &id).await?;
    let host = repo_host_id(&state, &row.did).await?;
    Ok(Json(device_json(&state, &row, host.as_deref())))
}

/// `GET /v1/devices/{id}/status`.
pub fn route() -> Route {
    Route {
        method: Method::GET,
        path: "/v1/devices/{id}/status",
        milestone: Milestone::V0_2,
        auth: Auth::DeviceOrSession,
        summary: "A device's status: last seen, role, online",
        description: "role is `repo-host` for the promoted desktop, else `device`. online: heard from within \
            devices.repo_host_timeout_secs and not signed off. Removed devices are still reported (status removed).",
        params: vec![id_param()],
        request: None,
        responses: route::ok_json("The device.", schema_ref("Device")),
        errors: vec![err(404, "DeviceNotFound", "no such device on this account")],
        handler: axum::routing::get(handler),
    }
}
