//! `/v1/devices`: enrol, list, pair, promote, remove, status, heartbeat. One file per
//! endpoint; the JSON shape of a device (the `Device` schema) is built here.

pub mod enrol;
pub mod heartbeat;
pub mod list;
pub mod pair;
pub mod promote;
pub mod remove;
pub mod status;

use super::route::{Route, path_param};
use crate::context::AppState;
use crate::services::device as device_service;
use crate::store::devices::DeviceRow;
use serde_json::{Value, json};

/// Every /v1/devices endpoint.
pub fn routes() -> Vec<Route> {
    vec![
        enrol::route(),
        list::route(),
        pair::route(),
        promote::route(),
        remove::route(),
        status::route(),
        heartbeat::route(),
    ]
}

/// The `{id}` path parameter.
pub fn id_param() -> super::route::Param {
    path_param(
        "id",
        "a device id (dev-...)",
        json!({ "type": "string", "minLength": 1 }),
    )
}

/// `mobile` or `desktop`.
pub fn kind(platform: &str) -> &'static str {
    if device_service::DESKTOP_PLATFORMS.contains(&platform) {
        "desktop"
    } else {
        "mobile"
    }
}

/// A device as the API shows it.
pub fn device_json(state: &AppState, d: &DeviceRow, repo_host: Option<&str>) -> Value {
    let is_host = repo_host == Some(d.id.as_str());
    json!({
        "id": d.id,
        "name": d.name,
        "platform": d.platform,
        "kind": kind(&d.platform),
        "publicKey": d.public_key,
        "status": d.status,
        "role": if is_host { "repo-host" } else { "device" },
        "online": device_service::is_online(state, d),
        "createdAt": d.created_at,
        "approvedAt": d.approved_at,
        "lastSeenAt": d.last_seen_at,
    })
}

/// The repo host's device id of an account, if any.
pub async fn repo_host_id(
    state: &AppState,
    did: &str,
) -> Result<Option<String>, crate::store::DbError> {
    let d = did.to_string();
    state
        .db
        .read(move |c| crate::store::devices::repo_host(c, &d))
        .await
        .map(|h| h.map(|(id, _)| id))
}
