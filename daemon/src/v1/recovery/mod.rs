//! `/v1/recovery/*` (milestone v1.0): the recovery ceremony. Whoever put the user's
//! rotation key back together (two of the three Shamir shares) proves it and enrols their
//! machine as a device again, then downloads the account. One file per endpoint:
//!
//! - [`initiate`]: `POST /v1/recovery/initiate` (a challenge for a rotation key)
//! - [`verify_key`]: `POST /v1/recovery/verify-key` (the signed challenge enrols a device)
//! - [`restore`]: `GET /v1/recovery/restore` (the repository and every blob, one stream)
//!
//! The flow lives in `services::recovery`; the message signed is
//! `pds::secret::challenge::recovery_message`.

pub mod initiate;
pub mod restore;
pub mod verify_key;

use super::route::Route;

/// The recovery endpoints.
pub fn routes() -> Vec<Route> {
    vec![initiate::route(), verify_key::route(), restore::route()]
}
