//! `PUT /v1/keys/shares/{id}`: store the relay's share (Share 2) of the user's rotation
//! key, `{id}` being the split's set id. A device of the account or an account session
//! stores it; the share must protect one of the DID's current rotation keys. The relay
//! keeps one share per account and never two shares of one split (`services::escrow`).

use super::{held_json, held_schema};
use crate::context::AppState;
use crate::services::escrow::{self, Actor};
use crate::v1::PathParam;
use crate::v1::auth::Caller;
use crate::v1::route::{self, Auth, Milestone, Route, err, path_param};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use zeroize::Zeroizing;

#[derive(Deserialize)]
pub struct In {
    share: Zeroizing<String>,
}

impl std::fmt::Debug for In {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("In { share: <redacted> }")
    }
}

async fn handler(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    let actor = match &caller {
        Caller::Device(d) => Actor::Device(d.id.clone()),
        Caller::Session(_) => Actor::Session,
    };
    let stored = escrow::put_share(&state, caller.did(), &id, &input.share, &actor).await?;
    Ok(Json(json!({
        "did": caller.did(),
        "held": held_json(&stored.held),
        "replaced": stored.replaced,
        "changed": stored.changed,
    })))
}

/// `PUT /v1/keys/shares/{id}`.
pub fn route() -> Route {
    Route {
        method: Method::PUT,
        path: "/v1/keys/shares/{id}",
        milestone: Milestone::V0_1,
        auth: Auth::DeviceOrSession,
        summary: "Escrow the relay's share of the rotation key",
        description: "Stores Share 2 of a 2-of-3 Shamir split of the user's rotation key (the `pds-share-v1:` text, \
            whose checksum the relay checks). `{id}` is the split's set id, which the share carries. The share must protect \
            one of the DID's current rotation keys. The relay holds one share per account and never two shares of one \
            split: storing the same share again changes nothing; another share of the held set is 409 ShareConflict; a share \
            of a new set replaces the held one only when its epoch is newer (a re-split), and a set it let go of never comes \
            back. Every store is recorded in the rotation log (`split` or `resplit`).",
        params: vec![path_param(
            "id",
            "the split's set id (as the share carries it)",
            json!({ "type": "string" }),
        )],
        request: route::json(json!({
            "type": "object",
            "required": ["share"],
            "properties": {
                "share": { "type": "string", "description": "the share as `pds-share-v1:` text" }
            }
        })),
        responses: route::ok_json(
            "The share is held.",
            json!({
                "type": "object",
                "required": ["did", "held", "changed"],
                "properties": {
                    "did": { "$ref": "#/components/schemas/Did" },
                    "held": held_schema(),
                    "replaced": { "type": ["string", "null"], "description": "the set id of the share this one replaced" },
                    "changed": { "type": "boolean", "description": "false when the same share was already held" }
                }
            }),
        ),
        errors: vec![
            err(
                400,
                "InvalidShare",
                "not a share, a bad checksum, or another set than {id}",
            ),
            err(
                400,
                "RotationKeyNotInDid",
                "the share's rotation key is not in the DID's rotationKeys",
            ),
            err(
                409,
                "ShareConflict",
                "the relay holds (or held) another share of this split",
            ),
            err(
                409,
                "StaleShare",
                "the held share is of the same or a newer epoch",
            ),
        ],
        handler: axum::routing::put(handler),
    }
}
