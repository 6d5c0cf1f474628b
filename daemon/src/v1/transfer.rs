//! `/v1/transfer/*` (milestone v0.2): device-to-device transfer with handover of the
//! repo-host lease — `POST /v1/transfer/initiate` (session and short code),
//! `POST /v1/transfer/accept` (the new device submits the code), `POST /v1/transfer/complete`
//! (finalise, hand the lease over). DESIGN.md describes the flow.
//!
//! Not served yet: the flow is built separately. Its endpoints go in this module (or a
//! `transfer/` folder, one file per endpoint) and are listed by [`routes`]; the router and
//! the OpenAPI document pick them up from there. Authenticate with `v1::auth::DeviceAuth`,
//! hand the repo-host role over through `services::device` (`store::devices::set_repo_host`).

use super::route::Route;

/// The transfer endpoints (none served yet).
pub fn routes() -> Vec<Route> {
    Vec::new()
}
