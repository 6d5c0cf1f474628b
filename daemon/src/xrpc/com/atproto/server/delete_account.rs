//! com.atproto.server.deleteAccount: delete with DID, password and the e-mailed code.

use crate::context::AppState;
use crate::services::{account, repo::find_account};
use crate::store::sessions;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::extract::State;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct In {
    did: String,
    password: String,
    token: String,
}

pub async fn handler(
    State(state): State<AppState>,
    Input(input): Input<In>,
) -> Result<(), XrpcError> {
    let a = find_account(&state, &input.did).await?;
    let ok = match &a.password_hash {
        Some(h) => crate::auth::password::verify_async(input.password.clone(), h.clone()).await,
        None => false,
    };
    if !ok {
        return Err(XrpcError::auth_required("Invalid did or password"));
    }
    let (d, t) = (a.did.clone(), input.token.clone());
    let valid = state
        .db
        .write(move |tx| sessions::take_email_token(tx.conn(), "delete_account", &d, &t, 15 * 60))
        .await?;
    if !valid {
        return Err(XrpcError::named(
            "InvalidToken",
            "Token is invalid or expired",
        ));
    }
    account::delete(&state, &a.did).await?;
    Ok(())
}
