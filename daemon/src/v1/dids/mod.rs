//! `POST /v1/dids`: key material in, the relay builds and submits the PLC genesis.
//!
//! The web flow's first step when the user brings their own rotation key: the relay
//! generates the account's signing key, assembles the genesis (rotationKeys = [rotationKey,
//! deviceKeys..., relay rotation key], #atproto = the new signing key, alsoKnownAs =
//! at://handle, atproto_pds = this relay), signs it with its rotation key, submits it, and
//! keeps the sealed signing key for 24 hours, holding the handle, until `POST /v1/accounts`
//! names the DID. The client verifies the returned operation before trusting the DID.
//! Needs an invite code (checked, not spent) when the relay requires invites.
//!
//! - [`rotate`]: `POST /v1/dids/{did}/rotate`

pub mod rotate;

use super::route::{self, Auth, Milestone, Route, err, schema_ref};
use crate::context::AppState;
use crate::services::{ServiceError, account, device as device_service, invite};
use crate::store::{self, accounts, devices};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

/// How long a DID waits for its account.
pub const PENDING_DID_SECS: i64 = 24 * 60 * 60;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct In {
    handle: String,
    rotation_key: String,
    #[serde(default)]
    device_keys: Vec<String>,
    invite_code: Option<String>,
}

async fn handler(
    State(state): State<AppState>,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    let handle = account::check_handle(&state, &input.handle)?;
    let user = device_service::parse_rotation_key("rotationKey", &input.rotation_key)?;
    let mut device_keys = Vec::with_capacity(input.device_keys.len());
    for k in &input.device_keys {
        device_keys.push(device_service::parse_device_key(k)?.to_did_key());
    }
    let rotation = account::rotation_keys(&state, Some(&user.to_did_key()), &device_keys)?;
    {
        let (h, code, required) = (
            handle.clone(),
            input.invite_code.clone(),
            state.config.invites.required,
        );
        state
            .db
            .write(move |tx| -> Result<(), ServiceError> {
                let conn = tx.conn();
                devices::expire_pending_dids(conn, &store::now())?;
                match (&code, required) {
                    (Some(c), _) => invite::check_available(conn, c)?,
                    (None, true) => {
                        return Err(ServiceError::Named(
                            "InvalidInviteCode",
                            "An invite code is required to create an account on this server".into(),
                        ));
                    }
                    (None, false) => {}
                }
                if accounts::by_handle(conn, &h)?.is_some()
                    || devices::pending_did_by_handle(conn, &h, &store::now())?.is_some()
                {
                    return Err(ServiceError::Named(
                        "HandleNotAvailable",
                        format!("Handle already taken: {h}"),
                    ));
                }
                Ok(())
            })
            .await?;
    }
    let prepared = account::genesis(&state, &handle, rotation).await?;
    let sealed = state
        .kek
        .seal_keypair(
            &super::accounts::pending_key_label(&prepared.did),
            &prepared.signing_key,
        )
        .map_err(ServiceError::from)?;
    let operation = prepared
        .op
        .to_json()
        .map_err(|e| XrpcError::internal(e.to_string()))?;
    let expires_at = store::in_secs(PENDING_DID_SECS);
    let row = devices::PendingDidRow {
        did: prepared.did.clone(),
        handle: handle.clone(),
        signing_key: sealed,
        operation,
        created_at: store::now(),
        expires_at: expires_at.clone(),
    };
    state
        .db
        .write(move |tx| devices::insert_pending_did(tx.conn(), &row))
        .await?;
    Ok(Json(json!({
        "did": prepared.did,
        "handle": handle,
        "signingKey": prepared.signing_key.did_key(),
        "rotationKeys": prepared.op.op.rotation_keys(),
        "operation": serde_json::to_value(&prepared.op).map_err(XrpcError::internal)?,
        "expiresAt": expires_at,
    })))
}

/// `POST /v1/dids`.
pub fn create_route() -> Route {
    Route {
        method: Method::POST,
        path: "/v1/dids",
        milestone: Milestone::V0_1,
        auth: Auth::None,
        summary: "Make a did:plc from the user's key material",
        description: "The relay assembles the genesis operation (rotationKeys = [rotationKey, deviceKeys..., relay rotation key], \
            #atproto = a new relay-held signing key, alsoKnownAs = at://handle, atproto_pds = this relay), signs it with its \
            rotation key and submits it to the PLC directory. The DID holds the handle for 24 hours until POST /v1/accounts \
            creates the account on it. Verify `operation` (signature, keys, DID = hash of the operation) before trusting the DID.",
        params: vec![],
        request: route::json(json!({
            "type": "object",
            "required": ["handle", "rotationKey"],
            "properties": {
                "handle": { "type": "string" },
                "rotationKey": { "$ref": "#/components/schemas/DidKey", "description": "the user's rotation key (P-256 or secp256k1)" },
                "deviceKeys": { "type": "array", "maxItems": 3, "items": { "$ref": "#/components/schemas/DidKey" }, "description": "P-256 device keys placed after the user's key" },
                "inviteCode": { "type": "string" }
            }
        })),
        responses: route::ok_json(
            "The new DID and its genesis operation.",
            schema_ref("CreatedDid"),
        ),
        errors: vec![
            err(400, "InvalidDeviceKey", "a device key is not a did:key"),
            err(
                400,
                "UnsupportedKeyType",
                "a key is Ed25519 (or a device key is not P-256)",
            ),
            err(400, "InvalidHandle", "the handle is malformed"),
            err(400, "HandleNotAvailable", "the handle is taken"),
            err(
                400,
                "InvalidInviteCode",
                "an invite is required and missing, or used up",
            ),
            err(502, "UpstreamFailure", "the PLC directory failed"),
        ],
        handler: axum::routing::post(handler),
    }
}
