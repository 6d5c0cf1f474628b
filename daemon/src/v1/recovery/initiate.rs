//! `POST /v1/recovery/initiate`: start a recovery with a rotation key. Nobody is signed
//! in (the machine that recovers has nothing yet); the key must be one of the DID's
//! current rotationKeys (not this relay's own), and the answer is a challenge that the
//! key signs for `POST /v1/recovery/verify-key` within 10 minutes.

use crate::context::AppState;
use crate::services::recovery;
use crate::v1::route::{self, Auth, Milestone, Route, err};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct In {
    account: String,
    rotation_key: String,
}

async fn handler(
    State(state): State<AppState>,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    let c = recovery::initiate(&state, &input.account, &input.rotation_key).await?;
    Ok(Json(json!({
        "recoveryId": c.id,
        "did": c.did,
        "handle": c.handle,
        "challenge": c.challenge,
        "audience": c.audience,
        "expiresAt": c.expires_at,
        "message": "sign the UTF-8 text: pds-recovery-challenge-v1, did, recoveryId, challenge, audience, one per line (no trailing newline)",
    })))
}

/// `POST /v1/recovery/initiate`.
pub fn route() -> Route {
    Route {
        method: Method::POST,
        path: "/v1/recovery/initiate",
        milestone: Milestone::V1_0,
        auth: Auth::None,
        summary: "Start a recovery with the rotation key",
        description: "Names the account (handle or DID) and the reconstructed rotation key's did:key. The key must be \
            one of the DID's current rotationKeys at the PLC directory (and not this relay's own key). The answer is a \
            random challenge valid for 10 minutes. The device signs, with the rotation key, the UTF-8 text made of the \
            lines `pds-recovery-challenge-v1`, did, recoveryId, challenge and audience (the relay's service DID), joined \
            by a line feed with none at the end, and sends the signature to POST /v1/recovery/verify-key. At most 5 \
            recoveries of one account may wait at once.",
        params: vec![],
        request: route::json(json!({
            "type": "object",
            "required": ["account", "rotationKey"],
            "properties": {
                "account": { "type": "string", "description": "handle or DID" },
                "rotationKey": { "$ref": "#/components/schemas/DidKey" }
            }
        })),
        responses: route::ok_json(
            "A challenge.",
            json!({
                "type": "object",
                "required": ["recoveryId", "did", "challenge", "audience", "expiresAt"],
                "properties": {
                    "recoveryId": { "type": "string" },
                    "did": { "$ref": "#/components/schemas/Did" },
                    "handle": { "type": ["string", "null"] },
                    "challenge": { "type": "string", "description": "base64url, 32 random bytes" },
                    "audience": { "type": "string", "description": "the relay's service DID" },
                    "expiresAt": { "type": "string", "format": "date-time" },
                    "message": { "type": "string" }
                }
            }),
        ),
        errors: vec![
            err(400, "RepoNotFound", "no such account"),
            err(400, "RepoTakendown", "the account was taken down"),
            err(
                400,
                "UnsupportedKeyType",
                "the key is not a P-256 or secp256k1 did:key",
            ),
            err(
                400,
                "RotationKeyNotInDid",
                "the key is not one of the DID's rotation keys",
            ),
            err(403, "Forbidden", "the key is this relay's own rotation key"),
            err(503, "RateLimitExceeded", "too many recoveries wait"),
        ],
        handler: axum::routing::post(handler),
    }
}
