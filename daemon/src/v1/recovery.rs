//! `/v1/recovery/*` (milestone v1.0): the recovery ceremony — `POST /v1/recovery/initiate`,
//! `POST /v1/recovery/verify-key` (prove the rotation key was reconstructed by signing a
//! challenge), `GET /v1/recovery/restore` (stream repo and blobs). DESIGN.md describes it.
//!
//! Not served yet: the flow is built separately. Its endpoints go in this module (or a
//! `recovery/` folder) and are listed by [`routes`]; the router and the OpenAPI document
//! pick them up from there. `v1::relay::snapshot` already streams the repo as a CAR.

use super::route::Route;

/// The recovery endpoints (none served yet).
pub fn routes() -> Vec<Route> {
    Vec::new()
}
