//! com.atproto.server.*: accounts, sessions, app passwords, invites, service auth.
//! One file per NSID; the session body they share is here.

pub mod activate_account;
pub mod check_account_status;
pub mod create_account;
pub mod create_app_password;
pub mod create_invite_code;
pub mod create_invite_codes;
pub mod create_session;
pub mod deactivate_account;
pub mod delete_account;
pub mod delete_session;
pub mod describe_server;
pub mod get_service_auth;
pub mod get_session;
pub mod list_app_passwords;
pub mod refresh_session;
pub mod request_account_delete;
pub mod reserve_signing_key;
pub mod revoke_app_password;

use crate::context::AppState;
use crate::store::accounts::AccountRow;
use serde_json::{Value, json};

/// The body createSession, refreshSession and getSession share.
pub async fn session_json(state: &AppState, account: &AccountRow, with_email: bool) -> Value {
    let mut out = json!({
        "did": account.did,
        "handle": account.handle_or_invalid(),
        "active": account.is_active(),
    });
    if !account.is_active() {
        out["status"] = json!(account.status());
    }
    if with_email && let Some(e) = &account.email {
        out["email"] = json!(e);
        out["emailConfirmed"] = json!(account.email_confirmed_at.is_some());
    }
    if let Ok(doc) = crate::services::identity::did_document(state, &account.did).await {
        out["didDoc"] = doc;
    }
    out
}
