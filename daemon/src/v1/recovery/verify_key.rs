//! `POST /v1/recovery/verify-key`: prove the reconstructed rotation key by signing the
//! challenge, and enrol this machine's new P-256 device key (with its own proof of
//! possession). The recovery session works once; the device is active at once and the
//! rotation log says `recovered`.

use crate::context::AppState;
use crate::services::{device as device_service, recovery};
use crate::v1::auth::verify_key_proof;
use crate::v1::route::{self, Auth, Milestone, Route, err, schema_ref};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

const PATH: &str = "/v1/recovery/verify-key";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct In {
    recovery_id: String,
    signature: String,
    device_key: String,
    device_name: String,
    platform: String,
    proof: String,
}

async fn handler(
    State(state): State<AppState>,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    let key = device_service::parse_device_key(&input.device_key)?;
    let name = device_service::check_name(&input.device_name)?;
    let platform = device_service::check_platform(&input.platform)?;
    verify_key_proof(&state, &input.proof, &key, &Method::POST, PATH).await?;
    let device = recovery::verify_key(
        &state,
        &input.recovery_id,
        &input.signature,
        recovery::NewDevicePart {
            name,
            platform,
            key,
        },
    )
    .await?;
    Ok(Json(json!({
        "did": device.did,
        "deviceId": device.id,
        "device": super::super::devices::device_json(&state, &device, None),
    })))
}

/// `POST /v1/recovery/verify-key`.
pub fn route() -> Route {
    Route {
        method: Method::POST,
        path: PATH,
        milestone: Milestone::V1_0,
        auth: Auth::None,
        summary: "Prove the rotation key; enrol this device",
        description: "`signature` is the rotation key's signature (base64url of the 64-byte low-S r||s) over the \
            recovery message of POST /v1/recovery/initiate. `proof` is a device token signed by the new device key \
            (iss = deviceKey, htm = POST, htu = /v1/recovery/verify-key, a fresh nonce). When both verify, and the key is \
            still one of the DID's rotation keys, the device is enrolled (active) and can call GET /v1/recovery/restore. \
            A recovery works once and for 10 minutes.",
        params: vec![],
        request: route::json(json!({
            "type": "object",
            "required": ["recoveryId", "signature", "deviceKey", "deviceName", "platform", "proof"],
            "properties": {
                "recoveryId": { "type": "string" },
                "signature": { "type": "string", "description": "base64url" },
                "deviceKey": { "$ref": "#/components/schemas/DidKey", "description": "P-256 did:key" },
                "deviceName": { "type": "string", "minLength": 1, "maxLength": 64 },
                "platform": { "$ref": "#/components/schemas/Platform" },
                "proof": { "type": "string" }
            }
        })),
        responses: route::ok_json(
            "The enrolled device.",
            json!({
                "type": "object",
                "required": ["did", "deviceId", "device"],
                "properties": {
                    "did": { "$ref": "#/components/schemas/Did" },
                    "deviceId": { "type": "string" },
                    "device": schema_ref("Device")
                }
            }),
        ),
        errors: vec![
            err(404, "RecoveryNotFound", "no such recovery"),
            err(410, "RecoveryExpired", "the challenge expired"),
            err(410, "RecoveryUsed", "the recovery was already answered"),
            err(
                401,
                "InvalidSignature",
                "the signature does not verify with the rotation key",
            ),
            err(
                400,
                "RotationKeyNotInDid",
                "the key is no longer one of the DID's rotation keys",
            ),
            err(401, "InvalidDeviceToken", "the proof does not verify"),
            err(
                401,
                "BadNonce",
                "the proof's nonce is unknown, used or expired",
            ),
            err(400, "UnsupportedKeyType", "deviceKey is not P-256"),
            err(400, "InvalidDeviceKey", "deviceKey is not a did:key"),
            err(409, "DeviceKeyInUse", "the device key is already enrolled"),
            err(403, "DeviceLimitReached", "the tier allows no more devices"),
        ],
        handler: axum::routing::post(handler),
    }
}
