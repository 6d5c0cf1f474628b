//! The device API (`/v1`) that the iPhone and macOS apps and `pdsctl` (acting as a
//! device) use. One file per endpoint or small group, mirroring the path:
//!
//! - [`auth`]: device tokens, sessions, proofs of possession; `POST /v1/auth/nonce`
//! - [`accounts`], [`accounts_mobile`]: `POST /v1/accounts`, `POST /v1/accounts/mobile`
//! - [`dids`]: `POST /v1/dids`, `POST /v1/dids/{did}/rotate`
//! - [`devices`]: enrol, list, pair, promote, remove, status, heartbeat
//! - [`relay`]: relay signing keys, mode, repo snapshot, desktop commit signing, firehose proxy
//! - [`transfer`]: moving to a new device with a code, and the repo-host lease handover
//! - [`recovery`]: the recovery ceremony (prove the rotation key, enrol, restore)
//! - [`keys`]: relay escrow of a Shamir share of the rotation key, and the rotation log
//! - [`openapi`]: the OpenAPI 3.1 document (`GET /v1/openapi.json`) and docs/api.md
//!
//! [`routes`] is the one table: the router is built from it here, the documents in
//! [`openapi`]. Handlers answer errors as `{"error", "message"}` through
//! `xrpc::error::XrpcError`, like XRPC; operations live in `services`, SQL in `store`.

pub mod accounts;
pub mod accounts_mobile;
pub mod auth;
pub mod devices;
pub mod dids;
pub mod keys;
pub mod openapi;
pub mod recovery;
pub mod relay;
pub mod route;
pub mod transfer;

use crate::context::AppState;
use crate::xrpc::error::XrpcError;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use route::Route;
use std::collections::BTreeMap;

/// Every endpoint of the device API, in document order.
pub fn routes() -> Vec<Route> {
    let mut all = vec![
        auth::nonce_route(),
        openapi::route(),
        accounts::route(),
        accounts_mobile::route(),
        dids::create_route(),
        dids::rotate::route(),
    ];
    all.extend(devices::routes());
    all.extend(relay::routes());
    all.extend(transfer::routes());
    all.extend(recovery::routes());
    all.extend(keys::routes());
    all
}

async fn method_not_allowed() -> XrpcError {
    XrpcError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "this /v1 path does not take that HTTP method (see GET /v1/openapi.json)",
    )
}

async fn no_route() -> XrpcError {
    XrpcError::not_found("no such /v1 endpoint (see GET /v1/openapi.json)")
}

/// The `/v1` router, built from [`routes`].
pub fn router() -> Router<AppState> {
    let mut by_path: BTreeMap<&'static str, axum::routing::MethodRouter<AppState>> =
        BTreeMap::new();
    for r in routes() {
        let merged = match by_path.remove(r.path) {
            Some(existing) => existing.merge(r.handler),
            None => r.handler,
        };
        by_path.insert(r.path, merged);
    }
    let mut router = Router::new();
    for (path, method_router) in by_path {
        router = router.route(path, method_router.fallback(method_not_allowed));
    }
    router
        .route("/v1", axum::routing::any(no_route))
        .route("/v1/{*rest}", axum::routing::any(no_route))
}

/// A path parameter, with a JSON error when it is malformed.
#[derive(Debug)]
pub struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = XrpcError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, XrpcError> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|p| PathParam(p.0))
            .map_err(|e| XrpcError::invalid(format!("path: {e}")))
    }
}
