//! `POST /v1/transfer/accept`: the new device names the account, submits the code it was
//! shown, its new P-256 key and a proof of possession of that key. A right code (in time,
//! not used, not locked) records the device as pending until the old device completes.

use super::{transfer_json, transfer_schema};
use crate::context::AppState;
use crate::services::{device as device_service, transfer};
use crate::v1::auth::verify_key_proof;
use crate::v1::route::{self, Auth, Milestone, Route, err};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use zeroize::Zeroizing;

const PATH: &str = "/v1/transfer/accept";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct In {
    account: String,
    code: Zeroizing<String>,
    device_key: String,
    device_name: String,
    platform: String,
    proof: String,
}

impl std::fmt::Debug for In {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("In")
            .field("account", &self.account)
            .field("code", &"<redacted>")
            .finish_non_exhaustive()
    }
}

async fn handler(
    State(state): State<AppState>,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    let key = device_service::parse_device_key(&input.device_key)?;
    let name = device_service::check_name(&input.device_name)?;
    let platform = device_service::check_platform(&input.platform)?;
    verify_key_proof(&state, &input.proof, &key, &Method::POST, PATH).await?;
    let (t, device) = transfer::accept(
        &state,
        &input.code,
        transfer::Joining {
            account: input.account.clone(),
            name,
            platform,
            key,
        },
    )
    .await?;
    Ok(Json(json!({
        "transfer": transfer_json(&t),
        "did": t.did,
        "deviceId": device.id,
        "status": device.status,
    })))
}

/// `POST /v1/transfer/accept`.
pub fn route() -> Route {
    Route {
        method: Method::POST,
        path: PATH,
        milestone: Milestone::V0_2,
        auth: Auth::None,
        summary: "Submit a transfer code from the new device",
        description: "`account` is the handle or DID the new device joins; `code` the six words (any case, any \
            separators, four-letter abbreviations accepted) or read from the QR payload; `deviceKey` the new device's \
            P-256 did:key and `proof` a device token signed by it (iss = deviceKey, htm = POST, htu = \
            /v1/transfer/accept, a fresh nonce). A right code records the device as pending (its tokens answer 403 \
            DevicePending) until the old device calls POST /v1/transfer/complete. A wrong code counts against the \
            account's waiting transfers; after 5 they lock.",
        params: vec![],
        request: route::json(json!({
            "type": "object",
            "required": ["account", "code", "deviceKey", "deviceName", "platform", "proof"],
            "properties": {
                "account": { "type": "string", "description": "handle or DID" },
                "code": { "type": "string" },
                "deviceKey": { "$ref": "#/components/schemas/DidKey" },
                "deviceName": { "type": "string", "minLength": 1, "maxLength": 64 },
                "platform": { "$ref": "#/components/schemas/Platform" },
                "proof": { "type": "string" }
            }
        })),
        responses: route::ok_json(
            "Accepted; waiting for the old device.",
            json!({
                "type": "object",
                "required": ["transfer", "did", "deviceId", "status"],
                "properties": {
                    "transfer": transfer_schema(),
                    "did": { "$ref": "#/components/schemas/Did" },
                    "deviceId": { "type": "string" },
                    "status": { "const": "pending" }
                }
            }),
        ),
        errors: vec![
            err(
                400,
                "InvalidTransferCode",
                "the code is malformed or not the one shown",
            ),
            err(410, "TransferCodeExpired", "the code expired"),
            err(410, "TransferCodeUsed", "the code was already used"),
            err(423, "TransferLocked", "too many wrong codes"),
            err(400, "RepoNotFound", "no such account"),
            err(400, "UnsupportedKeyType", "deviceKey is not P-256"),
            err(400, "InvalidDeviceKey", "deviceKey is not a did:key"),
            err(409, "DeviceKeyInUse", "the device key is already enrolled"),
            err(401, "InvalidDeviceToken", "the proof does not verify"),
            err(
                401,
                "BadNonce",
                "the proof's nonce is unknown, used or expired",
            ),
        ],
        handler: axum::routing::post(handler),
    }
}
