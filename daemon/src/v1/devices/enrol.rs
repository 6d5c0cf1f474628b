//! `POST /v1/devices`: enrol a device's P-256 key.
//!
//! With a full account session (web flow, "devices later") the device is active at once.
//! Without one (a mobile-only account has no password) it is `pending` and gets a pairing
//! code to show; an enrolled device approves it with `POST /v1/devices/{id}/pair`. Either
//! way the request carries a proof of possession of the key (a device token signed by it,
//! `iss` = its did:key), so nobody can enrol a key they do not hold.

use super::device_json;
use crate::context::AppState;
use crate::services::{ServiceError, device as device_service};
use crate::store::accounts;
use crate::v1::auth::{OptionalSession, verify_key_proof};
use crate::v1::route::{self, Auth, Milestone, Route, err, schema_ref};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

const PATH: &str = "/v1/devices";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct In {
    account: Option<String>,
    name: String,
    platform: String,
    public_key: String,
    proof: String,
}

async fn handler(
    State(state): State<AppState>,
    OptionalSession(session): OptionalSession,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    let key = device_service::parse_device_key(&input.public_key)?;
    let name = device_service::check_name(&input.name)?;
    let platform = device_service::check_platform(&input.platform)?;
    let did = match (&session, &input.account) {
        (Some(s), None) => s.did.clone(),
        (_, Some(ident)) => {
            let id = ident.clone();
            let found = state
                .db
                .read(move |c| accounts::by_identifier(c, &id))
                .await?
                .ok_or_else(|| ServiceError::RepoNotFound(ident.clone()))?;
            if let Some(s) = &session
                && s.did != found.did
            {
                return Err(XrpcError::invalid(
                    "account names another account than the session's",
                ));
            }
            found.did
        }
        (None, None) => {
            return Err(XrpcError::invalid(
                "without an account session, name the account (DID or handle) in `account`",
            ));
        }
    };
    verify_key_proof(&state, &input.proof, &key, &Method::POST, PATH).await?;
    let row = device_service::enrol(
        &state,
        device_service::NewDevice {
            did,
            name,
            platform,
            key,
        },
        session.is_some(),
    )
    .await?;
    let mut out = json!({ "did": row.did, "device": device_json(&state, &row, None) });
    if let Some(code) = &row.pairing_code {
        out["pairingCode"] = json!(code);
        out["expiresInSeconds"] = json!(device_service::PENDING_TTL_SECS);
    }
    Ok(Json(out))
}

/// `POST /v1/devices`.
pub fn route() -> Route {
    Route {
        method: Method::POST,
        path: PATH,
        milestone: Milestone::V0_2,
        auth: Auth::OptionalSession,
        summary: "Enrol a device key",
        description: "Enrols a P-256 device key. With a (full) account session the device is active at once. Without one, \
            name the account in `account`; the device is pending and the answer carries a pairingCode to show on the new \
            device: an enrolled device approves it with POST /v1/devices/{id}/pair within 15 minutes. `proof` is a device \
            token signed by the new key with iss = publicKey, htm = POST, htu = /v1/devices and a fresh nonce.",
        params: vec![],
        request: route::json(json!({
            "type": "object",
            "required": ["name", "platform", "publicKey", "proof"],
            "properties": {
                "account": { "type": "string", "description": "DID or handle; required without a session" },
                "name": { "type": "string", "minLength": 1, "maxLength": 64 },
                "platform": { "$ref": "#/components/schemas/Platform" },
                "publicKey": { "$ref": "#/components/schemas/DidKey", "description": "P-256 did:key" },
                "proof": { "type": "string", "description": "device token signed by publicKey (iss = publicKey)" }
            }
        })),
        responses: route::ok_json(
            "The enrolled (active) or pending device.",
            json!({
                "type": "object",
                "required": ["did", "device"],
                "properties": {
                    "did": { "$ref": "#/components/schemas/Did" },
                    "device": schema_ref("Device"),
                    "pairingCode": { "type": "string", "description": "pending only: show it on the new device" },
                    "expiresInSeconds": { "type": "integer" }
                }
            }),
        ),
        errors: vec![
            err(400, "InvalidDeviceKey", "a device key is not a did:key"),
            err(
                400,
                "UnsupportedKeyType",
                "publicKey is not P-256 (Ed25519 and secp256k1 are refused)",
            ),
            err(
                401,
                "SessionRequired",
                "a device token was sent instead of an account session",
            ),
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
            err(400, "RepoNotFound", "no such account"),
            err(
                409,
                "DeviceKeyInUse",
                "the key is already enrolled or pending",
            ),
            err(
                403,
                "DeviceLimitReached",
                "the account's tier allows no more devices",
            ),
            err(
                400,
                "TooManyPendingDevices",
                "too many devices wait for approval",
            ),
        ],
        handler: axum::routing::post(handler),
    }
}
