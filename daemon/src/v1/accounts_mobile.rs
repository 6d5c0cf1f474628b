//! `POST /v1/accounts/mobile`: account creation and device binding in one call.
//!
//! The phone sends its handle, an e-mail address or none, its P-256 device key with a
//! proof of possession (a device token signed by that key, `iss` = its did:key), and the
//! public did:key of the user's rotation key (kept on the phone, backed up with Shamir).
//! The relay runs the DID ceremony with rotationKeys = [user key, device key (unless
//! `deviceInRotationKeys` is false), relay key], creates the account without a password,
//! enrols the device as active in the same transaction, and answers with the DID, the
//! device id, the genesis operation (for the phone to verify) and session tokens for XRPC.

use super::route::{self, Auth, Milestone, Route, err, schema_ref};
use crate::context::AppState;
use crate::services::{account, device as device_service, session};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const PATH: &str = "/v1/accounts/mobile";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct In {
    handle: String,
    email: Option<String>,
    invite_code: Option<String>,
    device_key: String,
    rotation_key: String,
    device_name: String,
    platform: String,
    device_in_rotation_keys: Option<bool>,
    proof: String,
}

async fn handler(
    State(state): State<AppState>,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    let device_key = device_service::parse_device_key(&input.device_key)?;
    let rotation_key = device_service::parse_rotation_key("rotationKey", &input.rotation_key)?;
    let name = device_service::check_name(&input.device_name)?;
    let platform = device_service::check_platform(&input.platform)?;
    super::auth::verify_key_proof(&state, &input.proof, &device_key, &Method::POST, PATH).await?;
    let device_did_key = device_key.to_did_key();
    let in_rotation = input.device_in_rotation_keys.unwrap_or(true);
    let enrolled: Arc<Mutex<Option<String>>> = Arc::default();
    let hook: account::AfterInsert = {
        let (st, slot) = (state.clone(), enrolled.clone());
        let (key, name, platform) = (device_key.clone(), name.clone(), platform.clone());
        Box::new(move |tx, did| {
            let row = device_service::insert_active(
                &st,
                tx.conn(),
                &device_service::NewDevice {
                    did: did.to_string(),
                    name,
                    platform,
                    key,
                },
            )?;
            if let Ok(mut s) = slot.lock() {
                *s = Some(row.id);
            }
            Ok(())
        })
    };
    let created = account::create_with(
        &state,
        account::NewAccount {
            handle: input.handle,
            email: input.email.filter(|e| !e.is_empty()),
            password: None,
            invite_code: input.invite_code,
            recovery_key: Some(rotation_key.to_did_key()),
            device_rotation_keys: if in_rotation {
                vec![device_did_key]
            } else {
                vec![]
            },
            tier: None,
        },
        None,
        Some(hook),
    )
    .await?;
    let device_id = enrolled
        .lock()
        .ok()
        .and_then(|s| s.clone())
        .ok_or_else(|| XrpcError::internal("the device row was not recorded"))?;
    let tokens = session::issue(&state, &created.did, None).await?;
    Ok(Json(json!({
        "did": created.did,
        "handle": created.handle,
        "deviceId": device_id,
        "accessJwt": tokens.access,
        "refreshJwt": tokens.refresh,
        "signingKey": created.signing_key,
        "rotationKeys": created.plc_op.op.rotation_keys(),
        "plcOperation": serde_json::to_value(&created.plc_op).map_err(XrpcError::internal)?,
    })))
}

/// `POST /v1/accounts/mobile`.
pub fn route() -> Route {
    Route {
        method: Method::POST,
        path: PATH,
        milestone: Milestone::V0_1,
        auth: Auth::None,
        summary: "Create an account and bind the phone to it in one call",
        description: "The relay builds and submits the PLC genesis with rotationKeys = [rotationKey, deviceKey \
            (unless deviceInRotationKeys is false), relay rotation key] and a relay-held #atproto signing key, \
            creates a password-less account, enrols the device (active), and returns session tokens for XRPC. \
            `proof` is a device token signed by deviceKey with iss = deviceKey, htm = POST, \
            htu = /v1/accounts/mobile and a nonce from POST /v1/auth/nonce. Verify plcOperation before trusting the DID.",
        params: vec![],
        request: route::json(json!({
            "type": "object",
            "required": ["handle", "deviceKey", "rotationKey", "deviceName", "platform", "proof"],
            "properties": {
                "handle": { "type": "string" },
                "email": { "type": ["string", "null"], "format": "email", "description": "optional" },
                "inviteCode": { "type": "string" },
                "deviceKey": { "$ref": "#/components/schemas/DidKey", "description": "the device's P-256 key (did:key:zDn...)" },
                "rotationKey": { "$ref": "#/components/schemas/DidKey", "description": "public did:key of the user's rotation key (P-256 or secp256k1)" },
                "deviceName": { "type": "string", "minLength": 1, "maxLength": 64 },
                "platform": { "$ref": "#/components/schemas/Platform" },
                "deviceInRotationKeys": { "type": "boolean", "default": true },
                "proof": { "type": "string", "description": "device token signed by deviceKey (iss = deviceKey)" }
            }
        })),
        responses: route::ok_json(
            "The account, the enrolled device and a session.",
            schema_ref("CreatedMobileAccount"),
        ),
        errors: vec![
            err(
                400,
                "UnsupportedKeyType",
                "deviceKey is not P-256, or a key is Ed25519",
            ),
            err(400, "InvalidDeviceKey", "deviceKey is not a did:key"),
            err(
                401,
                "InvalidDeviceToken",
                "proof does not verify or does not match the request",
            ),
            err(
                401,
                "BadNonce",
                "the proof's nonce is unknown, used or expired",
            ),
            err(400, "InvalidHandle", "the handle is malformed"),
            err(400, "HandleNotAvailable", "the handle is taken"),
            err(
                400,
                "InvalidInviteCode",
                "an invite is required and missing, or used up",
            ),
            err(400, "DeviceKeyInUse", "deviceKey is already enrolled"),
            err(400, "DeviceLimitReached", "the tier allows no device"),
            err(502, "UpstreamFailure", "the PLC directory failed"),
        ],
        handler: axum::routing::post(handler),
    }
}
