//! The XRPC server: one table from NSID to handler, and the routes around it.
//!
//! Handlers live under `com/atproto/...`, one file per NSID. Errors become responses in
//! [`error`] only. Unknown methods are proxied (see `proxy`).

pub mod error;
pub mod extract;

use crate::context::AppState;
use axum::Router;

/// Every route of the public HTTP server.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::oauth::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::oauth::dpop_nonce_layer,
        ))
        .with_state(state)
}
