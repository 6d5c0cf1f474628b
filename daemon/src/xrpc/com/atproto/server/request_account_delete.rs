//! com.atproto.server.requestAccountDelete: e-mail a one-time code that deleteAccount needs.

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::services::{mail, repo::find_account};
use crate::store::sessions;
use crate::xrpc::error::XrpcError;
use axum::extract::State;

pub async fn handler(State(state): State<AppState>, auth: AccessAuth) -> Result<(), XrpcError> {
    auth.require_full()?;
    let account = find_account(&state, &auth.did).await?;
    let email = account
        .email
        .clone()
        .ok_or_else(|| XrpcError::invalid("This account has no e-mail address"))?;
    let code = mail::one_time_code()?;
    let (d, c) = (account.did.clone(), code.clone());
    state
        .db
        .write(move |tx| sessions::put_email_token(tx.conn(), "delete_account", &d, &c))
        .await?;
    mail::send(
        &state,
        &email,
        "Delete your account",
        &format!(
            "To delete your account {}, use this code: {code}\n\nIt expires in 15 minutes. If you did not ask for this, ignore this message.",
            account.handle_or_invalid()
        ),
    )?;
    Ok(())
}
