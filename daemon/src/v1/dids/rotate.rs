//! `POST /v1/dids/{did}/rotate`: rotate the relay signing key, or change the rotation
//! keys, with a PLC update signed by the relay's key or the user's (see
//! `services::rotation` for who signs what). Exactly one of `signingKey`, `rotationKeys`
//! or `operation` is sent; an enrolled device of the account calls it.

use crate::context::AppState;
use crate::services::{relay_keys, rotation};
use crate::v1::PathParam;
use crate::v1::auth::DeviceAuth;
use crate::v1::relay::keys::{key_json, parse_curve};
use crate::v1::route::{self, Auth, Milestone, Route, err, path_param, schema_ref};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub struct SigningKey {
    curve: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct In {
    signing_key: Option<SigningKey>,
    rotation_keys: Option<Vec<String>>,
    operation: Option<Value>,
}

async fn handler(
    State(state): State<AppState>,
    auth: DeviceAuth,
    PathParam(did): PathParam,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    if auth.device.did != did {
        return Err(XrpcError::forbidden(format!(
            "this device belongs to {}, not to {did}",
            auth.device.did
        )));
    }
    let given = [
        input.signing_key.is_some(),
        input.rotation_keys.is_some(),
        input.operation.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if given != 1 {
        return Err(XrpcError::invalid(
            "send exactly one of signingKey, rotationKeys or operation",
        ));
    }
    if let Some(sk) = input.signing_key {
        let curve = parse_curve(sk.curve.as_deref())?;
        let r = relay_keys::rotate(&state, &did, curve).await?;
        return Ok(Json(json!({
            "status": "submitted",
            "signedBy": "relay",
            "operation": serde_json::to_value(&r.operation).map_err(XrpcError::internal)?,
            "key": key_json(&r.new),
        })));
    }
    let outcome = match (input.rotation_keys, input.operation) {
        (Some(keys), _) => rotation::change_rotation_keys(&state, &did, &keys).await?,
        (_, Some(op)) => rotation::submit_user_operation(&state, &did, &op).await?,
        _ => return Err(XrpcError::invalid("nothing to do")),
    };
    Ok(Json(match outcome {
        rotation::Outcome::Submitted {
            operation,
            signed_by,
        } => json!({
            "status": "submitted",
            "signedBy": signed_by,
            "operation": serde_json::to_value(&operation).map_err(XrpcError::internal)?,
        }),
        rotation::Outcome::NeedsSignature {
            operation,
            signing_input,
            signers,
        } => {
            let op = pds::identity::SignedOp {
                op: operation,
                sig: String::new(),
            };
            let mut unsigned = serde_json::to_value(&op).map_err(XrpcError::internal)?;
            if let Some(m) = unsigned.as_object_mut() {
                m.remove("sig");
            }
            json!({
                "status": "needsSignature",
                "operation": unsigned,
                "signingInput": base64::engine::general_purpose::STANDARD.encode(signing_input),
                "signers": signers,
            })
        }
    }))
}

/// `POST /v1/dids/{did}/rotate`.
pub fn route() -> Route {
    Route {
        method: Method::POST,
        path: "/v1/dids/{did}/rotate",
        milestone: Milestone::V0_1,
        auth: Auth::Device,
        summary: "Rotate the relay signing key or change the DID's rotation keys",
        description: "Send exactly one of:\n\
            - `signingKey` — the relay generates a new #atproto key (curve secp256k1 by default, or p256), publishes it \
            with a PLC update signed by the relay's rotation key, and signs later commits with it (same as POST /v1/relay/keys);\n\
            - `rotationKeys` — the complete new list, priority order, the relay's key last. A pure removal that keeps the \
            first key is signed by the relay (`status: submitted`); any other change answers `status: needsSignature` with \
            the unsigned operation and `signingInput` (base64 DAG-CBOR): sign it with one of `signers` (ES256/ES256K, \
            low-S, base64url r||s as `sig`) and send it back as `operation`;\n\
            - `operation` — a complete signed PLC operation following the DID's latest one, signed by a rotation key above \
            the relay's, keeping #atproto, atproto_pds and alsoKnownAs. The relay checks it and submits it.",
        params: vec![path_param(
            "did",
            "the account's did:plc",
            schema_ref("Did"),
        )],
        request: route::json(json!({
            "type": "object",
            "properties": {
                "signingKey": {
                    "type": "object",
                    "properties": { "curve": { "$ref": "#/components/schemas/Curve" } }
                },
                "rotationKeys": { "type": "array", "minItems": 1, "maxItems": 5, "items": { "$ref": "#/components/schemas/DidKey" } },
                "operation": { "type": "object", "description": "a signed plc_operation (JSON form)" }
            }
        })),
        responses: route::ok_json(
            "Submitted, or the operation the user's key must sign.",
            json!({
                "type": "object",
                "required": ["status", "operation"],
                "properties": {
                    "status": { "enum": ["submitted", "needsSignature"] },
                    "signedBy": { "enum": ["relay", "user"] },
                    "operation": { "type": "object" },
                    "signingInput": { "type": "string", "contentEncoding": "base64" },
                    "signers": { "type": "array", "items": { "$ref": "#/components/schemas/DidKey" } },
                    "key": { "$ref": "#/components/schemas/RelayKey" }
                }
            }),
        ),
        errors: vec![
            err(
                400,
                "UnsupportedKeyType",
                "a key is Ed25519 or another unsupported type",
            ),
            err(
                403,
                "Forbidden",
                "the device belongs to another account, or the relay's key can no longer sign for this DID",
            ),
            err(
                409,
                "StaleOperation",
                "operation does not follow the DID's latest operation",
            ),
            err(
                409,
                "RotationInProgress",
                "another signing-key rotation is running",
            ),
            err(502, "UpstreamFailure", "the PLC directory failed"),
        ],
        handler: axum::routing::post(handler),
    }
}
