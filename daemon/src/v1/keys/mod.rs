//! `/v1/keys/*` (milestone v0.1, basic Shamir): the share of the user's rotation key that
//! the relay escrows, and the rotation log. One file per endpoint:
//!
//! - [`put_share`]: `PUT /v1/keys/shares/{id}` (a device or a session stores Share 2)
//! - [`get_share`]: `GET /v1/keys/shares/{id}` (released only for the account password)
//! - [`rotation_log`]: `GET /v1/keys/rotation-log`
//!
//! The rules (one share per account, never two of one split, every release logged) live in
//! `services::escrow`. Relay *signing* keys are `/v1/relay/keys`, in `v1::relay::keys`.

pub mod get_share;
pub mod put_share;
pub mod rotation_log;

use super::route::Route;
use crate::services::escrow::Held;
use serde_json::{Value, json};

/// The key-escrow endpoints.
pub fn routes() -> Vec<Route> {
    vec![
        put_share::route(),
        get_share::route(),
        rotation_log::route(),
    ]
}

/// What the relay holds, as JSON (never the share value).
pub fn held_json(h: &Held) -> Value {
    json!({
        "setId": h.set_id,
        "epoch": h.epoch,
        "shareIndex": h.share_index,
        "rotationKey": h.rotation_key,
        "storedAt": h.stored_at,
    })
}

/// The JSON Schema of [`held_json`].
pub fn held_schema() -> Value {
    json!({
        "type": "object",
        "required": ["setId", "epoch", "shareIndex", "rotationKey", "storedAt"],
        "properties": {
            "setId": { "type": "string", "description": "the split's set identifier" },
            "epoch": { "type": "integer", "minimum": 0 },
            "shareIndex": { "type": "integer", "minimum": 1, "maximum": 3 },
            "rotationKey": { "$ref": "#/components/schemas/DidKey" },
            "storedAt": { "type": "string", "format": "date-time" }
        }
    })
}
