//! `/v1/keys/*` (milestone v0.1, basic Shamir): `PUT /v1/keys/shares/{id}` (the share the
//! relay escrows) and `GET /v1/keys/rotation-log`. DESIGN.md describes the guarded escrow.
//!
//! Not served yet: the flow is built separately. Its endpoints go in this module (or a
//! `keys/` folder) and are listed by [`routes`]; the router and the OpenAPI document pick
//! them up from there. (Relay *signing* keys are `/v1/relay/keys`, in `v1::relay::keys`.)

use super::route::Route;

/// The key-escrow endpoints (none served yet).
pub fn routes() -> Vec<Route> {
    Vec::new()
}
