//! `POST /v1/transfer/initiate`: an enrolled device starts a transfer to a new device and
//! receives, once, a six-word code and the QR payload (`pdsxfer:<code>@<relay URL>`) to
//! show. The relay keeps only the code's keyed hash.

use super::{transfer_json, transfer_schema};
use crate::context::AppState;
use crate::services::transfer;
use crate::v1::auth::DeviceAuth;
use crate::v1::route::{self, Auth, Milestone, Route};
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, header};
use axum::response::IntoResponse;
use serde_json::json;

async fn handler(
    State(state): State<AppState>,
    auth: DeviceAuth,
) -> Result<impl IntoResponse, XrpcError> {
    let started = transfer::initiate(&state, &auth.device).await?;
    let code = started.code.reveal();
    let payload = started
        .code
        .reveal_payload(&state.public_url)
        .map_err(XrpcError::internal)?;
    let st = crate::services::transfer::status(&state, &auth.device, &started.id).await?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "transfer": transfer_json(&st),
            "code": code.as_str(),
            "qrPayload": payload.as_str(),
            "expiresAt": started.expires_at,
        })),
    ))
}

/// `POST /v1/transfer/initiate`.
pub fn route() -> Route {
    Route {
        method: Method::POST,
        path: "/v1/transfer/initiate",
        milestone: Milestone::V0_2,
        auth: Auth::Device,
        summary: "Start a transfer to a new device",
        description: "Answers a six-word code (BIP-39 English words, 66 random bits) and the payload for a QR code, \
            `pdsxfer:<code>@<relay URL>`, for the new device. The code is shown once and expires after 10 minutes \
            (devices.transfer_code_ttl_secs); it works once, and 5 wrong codes for the account \
            (devices.transfer_max_attempts) lock its waiting transfers.",
        params: vec![],
        request: None,
        responses: route::ok_json(
            "The transfer and its code.",
            json!({
                "type": "object",
                "required": ["transfer", "code", "qrPayload", "expiresAt"],
                "properties": {
                    "transfer": transfer_schema(),
                    "code": { "type": "string", "description": "six words joined by hyphens" },
                    "qrPayload": { "type": "string" },
                    "expiresAt": { "type": "string", "format": "date-time" }
                }
            }),
        ),
        errors: vec![],
        handler: axum::routing::post(handler),
    }
}
