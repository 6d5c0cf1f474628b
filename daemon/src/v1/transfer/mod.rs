//! `/v1/transfer/*` (milestone v0.2): moving to a new device with a short code, and
//! handing the repo-host lease over. One file per endpoint:
//!
//! - [`initiate`]: `POST /v1/transfer/initiate` (the old device gets a code and QR payload)
//! - [`accept`]: `POST /v1/transfer/accept` (the new device submits the code and its key)
//! - [`complete`]: `POST /v1/transfer/complete` (the old device confirms; the lease moves)
//!
//! Expiry, single use and the lock after wrong guesses live in `services::transfer`; the
//! code and its keyed hash in `pds::secret::transfer`.

pub mod accept;
pub mod complete;
pub mod initiate;

use super::route::Route;
use crate::store::transfer::TransferRow;
use serde_json::{Value, json};

/// The transfer endpoints.
pub fn routes() -> Vec<Route> {
    vec![initiate::route(), accept::route(), complete::route()]
}

/// A transfer as JSON (never the code).
pub fn transfer_json(t: &TransferRow) -> Value {
    json!({
        "id": t.id,
        "did": t.did,
        "fromDevice": t.from_device,
        "status": t.status,
        "createdAt": t.created_at,
        "expiresAt": t.expires_at,
        "newDevice": t.new_device,
        "acceptedAt": t.accepted_at,
        "completedAt": t.completed_at,
    })
}

/// The JSON Schema of [`transfer_json`].
pub fn transfer_schema() -> Value {
    json!({
        "type": "object",
        "required": ["id", "did", "fromDevice", "status", "createdAt", "expiresAt"],
        "properties": {
            "id": { "type": "string" },
            "did": { "$ref": "#/components/schemas/Did" },
            "fromDevice": { "type": "string" },
            "status": { "enum": ["pending", "accepted", "completed", "locked"] },
            "createdAt": { "type": "string", "format": "date-time" },
            "expiresAt": { "type": "string", "format": "date-time" },
            "newDevice": { "type": ["string", "null"] },
            "acceptedAt": { "type": ["string", "null"] },
            "completedAt": { "type": ["string", "null"] }
        }
    })
}
