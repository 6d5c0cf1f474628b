//! `GET /v1/relay/mode`: mobile-only or desktop-enrolled, whether the repo host is
//! online (and so whether the relay accepts writes), and the tier's limits.

use crate::context::AppState;
use crate::services::{blob, device as device_service, repo};
use crate::v1::auth::Caller;
use crate::v1::devices::device_json;
use crate::v1::route::{self, Auth, Milestone, Route, schema_ref};
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde_json::{Value, json};

async fn handler(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, XrpcError> {
    let did = caller.did().to_string();
    let account = repo::find_account(&state, &did).await?;
    let mode = device_service::mode(&state, &did).await?;
    let limits = blob::tier_limits(&state, &account);
    let host = mode.repo_host.as_ref().map(|(d, _)| {
        let mut v = device_json(&state, d, Some(&d.id));
        v["online"] = json!(mode.writable());
        v
    });
    Ok(Json(json!({
        "did": did,
        "mode": mode.name(),
        "repoHost": host,
        "repoHostOnline": mode.repo_host.as_ref().map(|(_, online)| *online),
        "writes": if mode.writable() { "accepted" } else { "unavailable" },
        "tier": account.tier,
        "limits": {
            "blobMaxBytes": limits.blob_max_bytes,
            "blobQuotaBytes": limits.blob_quota_bytes,
            "maxDevices": limits.max_devices,
            "firehoseProxy": limits.firehose_proxy,
        },
    })))
}

/// `GET /v1/relay/mode`.
pub fn route() -> Route {
    Route {
        method: Method::GET,
        path: "/v1/relay/mode",
        milestone: Milestone::V1_0,
        auth: Auth::DeviceOrSession,
        summary: "The account's operating mode and whether the repo host is online",
        description: "mode is mobile-only (the relay builds and signs every commit) or desktop-enrolled (a promoted desktop \
            builds commits, the relay signs them). writes is `unavailable` while the repo host is offline: XRPC writes \
            then answer 503 RepoHostOffline. Also reports the account's tier limits.",
        params: vec![],
        request: None,
        responses: route::ok_json("The mode.", schema_ref("Mode")),
        errors: vec![],
        handler: axum::routing::get(handler),
    }
}
