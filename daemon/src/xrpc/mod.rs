//! The public HTTP server: one table from NSID to handler, plus the well-known routes.
//!
//! Handlers live under `com/atproto/...`, one file per NSID. Queries answer GET and
//! procedures POST; the other method gets 400 `InvalidRequest`, as the reference PDS
//! answers. Unknown methods go to [`proxy`]. Errors become responses in [`error`] only.

pub mod com;
pub mod error;
pub mod extract;
pub mod proxy;
pub mod well_known;

use crate::context::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{MethodRouter, get, post};
use com::atproto::{identity, repo, server, sync};
use error::XrpcError;

async fn wrong_method() -> XrpcError {
    XrpcError::invalid("Incorrect HTTP method for this XRPC method")
}

fn query<H, T>(h: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    get(h).fallback(wrong_method)
}

fn procedure<H, T>(h: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    post(h).fallback(wrong_method)
}

/// Every XRPC method pdsd serves itself: (NSID, route).
pub fn methods() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        // com.atproto.server
        (
            "com.atproto.server.describeServer",
            query(server::describe_server::handler),
        ),
        (
            "com.atproto.server.createAccount",
            procedure(server::create_account::handler),
        ),
        (
            "com.atproto.server.createSession",
            procedure(server::create_session::handler),
        ),
        (
            "com.atproto.server.refreshSession",
            procedure(server::refresh_session::handler),
        ),
        (
            "com.atproto.server.getSession",
            query(server::get_session::handler),
        ),
        (
            "com.atproto.server.deleteSession",
            procedure(server::delete_session::handler),
        ),
        (
            "com.atproto.server.createAppPassword",
            procedure(server::create_app_password::handler),
        ),
        (
            "com.atproto.server.listAppPasswords",
            query(server::list_app_passwords::handler),
        ),
        (
            "com.atproto.server.revokeAppPassword",
            procedure(server::revoke_app_password::handler),
        ),
        (
            "com.atproto.server.getServiceAuth",
            query(server::get_service_auth::handler),
        ),
        (
            "com.atproto.server.activateAccount",
            procedure(server::activate_account::handler),
        ),
        (
            "com.atproto.server.deactivateAccount",
            procedure(server::deactivate_account::handler),
        ),
        (
            "com.atproto.server.checkAccountStatus",
            query(server::check_account_status::handler),
        ),
        (
            "com.atproto.server.requestAccountDelete",
            procedure(server::request_account_delete::handler),
        ),
        (
            "com.atproto.server.deleteAccount",
            procedure(server::delete_account::handler),
        ),
        (
            "com.atproto.server.createInviteCode",
            procedure(server::create_invite_code::handler),
        ),
        (
            "com.atproto.server.createInviteCodes",
            procedure(server::create_invite_codes::handler),
        ),
        (
            "com.atproto.server.reserveSigningKey",
            procedure(server::reserve_signing_key::handler),
        ),
        // com.atproto.identity
        (
            "com.atproto.identity.resolveHandle",
            query(identity::resolve_handle::handler),
        ),
        (
            "com.atproto.identity.updateHandle",
            procedure(identity::update_handle::handler),
        ),
        (
            "com.atproto.identity.getRecommendedDidCredentials",
            query(identity::get_recommended_did_credentials::handler),
        ),
        (
            "com.atproto.identity.requestPlcOperationSignature",
            procedure(identity::request_plc_operation_signature::handler),
        ),
        (
            "com.atproto.identity.signPlcOperation",
            procedure(identity::sign_plc_operation::handler),
        ),
        (
            "com.atproto.identity.submitPlcOperation",
            procedure(identity::submit_plc_operation::handler),
        ),
        // com.atproto.repo
        (
            "com.atproto.repo.createRecord",
            procedure(repo::create_record::handler),
        ),
        (
            "com.atproto.repo.putRecord",
            procedure(repo::put_record::handler),
        ),
        (
            "com.atproto.repo.deleteRecord",
            procedure(repo::delete_record::handler),
        ),
        (
            "com.atproto.repo.applyWrites",
            procedure(repo::apply_writes::handler),
        ),
        (
            "com.atproto.repo.getRecord",
            query(repo::get_record::handler),
        ),
        (
            "com.atproto.repo.listRecords",
            query(repo::list_records::handler),
        ),
        (
            "com.atproto.repo.describeRepo",
            query(repo::describe_repo::handler),
        ),
        (
            "com.atproto.repo.uploadBlob",
            procedure(repo::upload_blob::handler),
        ),
        (
            "com.atproto.repo.importRepo",
            procedure(repo::import_repo::handler),
        ),
        (
            "com.atproto.repo.listMissingBlobs",
            query(repo::list_missing_blobs::handler),
        ),
        // com.atproto.sync
        ("com.atproto.sync.getRepo", query(sync::get_repo::handler)),
        (
            "com.atproto.sync.getRecord",
            query(sync::get_record::handler),
        ),
        (
            "com.atproto.sync.getLatestCommit",
            query(sync::get_latest_commit::handler),
        ),
        (
            "com.atproto.sync.getRepoStatus",
            query(sync::get_repo_status::handler),
        ),
        (
            "com.atproto.sync.getBlocks",
            query(sync::get_blocks::handler),
        ),
        ("com.atproto.sync.getBlob", query(sync::get_blob::handler)),
        (
            "com.atproto.sync.listBlobs",
            query(sync::list_blobs::handler),
        ),
        (
            "com.atproto.sync.listRepos",
            query(sync::list_repos::handler),
        ),
        (
            "com.atproto.sync.subscribeRepos",
            get(sync::subscribe_repos::handler),
        ),
    ]
}

/// Every route of the public HTTP server.
pub fn router(state: AppState) -> Router {
    let mut r: Router<AppState> = Router::new().merge(crate::oauth::router());
    for (nsid, route) in methods() {
        r = r.route(&format!("/xrpc/{nsid}"), route);
    }
    let upload_limit = state
        .config
        .tiers
        .free
        .blob_max_bytes
        .max(state.config.tiers.pro.blob_max_bytes)
        .max(state.config.tiers.business.blob_max_bytes)
        .max(state.config.limits.import_bytes as u64) as usize;
    r.route("/xrpc/{nsid}", axum::routing::any(proxy::handler))
        // The device API (/v1), built from its own route table.
        .merge(crate::v1::router())
        .route("/xrpc/_health", get(well_known::health))
        .route("/.well-known/atproto-did", get(well_known::atproto_did))
        .route("/.well-known/did.json", get(well_known::did_json))
        .route("/", get(well_known::root))
        .route("/robots.txt", get(well_known::robots))
        .fallback(well_known::not_found)
        // Bodies are streamed; each handler applies its own limit (JSON, blobs, imports).
        .layer(DefaultBodyLimit::max(upload_limit))
        .layer(
            tower_http::cors::CorsLayer::permissive()
                .max_age(std::time::Duration::from_secs(86400)),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::oauth::dpop_nonce_layer,
        ))
        .with_state(state)
}
