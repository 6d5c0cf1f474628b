//! Sessions: password login (account or app password), token issuing, refresh-token
//! rotation and revocation.
//!
//! Access tokens are short-lived HS256 `at+jwt`s (2 hours); refresh tokens are
//! `refresh+jwt`s (90 days) whose ids are stored, so they can be rotated (the old one
//! stays usable for a short grace period and then yields the same successor) and revoked.

use super::ServiceError;
use crate::auth::{self, jwt, scope};
use crate::context::AppState;
use crate::store::{accounts, sessions};

/// Access tokens live this long.
pub const ACCESS_SECS: i64 = 2 * 60 * 60;
/// Refresh tokens live this long.
pub const REFRESH_SECS: i64 = 90 * 24 * 60 * 60;
/// A rotated refresh token keeps working this long (concurrent refreshes, lost responses).
pub const REFRESH_GRACE_SECS: i64 = 2 * 60 * 60;

/// A new pair of tokens.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

/// A successful login.
#[derive(Debug, Clone)]
pub struct Login {
    pub account: accounts::AccountRow,
    pub tokens: Tokens,
}

fn make_tokens(state: &AppState, did: &str, access_scope: &str, jti: &str) -> (Tokens, i64) {
    let now = jwt::now_secs();
    let access = jwt::sign_hs256(
        state.jwt_secret(),
        auth::ACCESS_TYP,
        &jwt::SessionClaims {
            scope: access_scope.to_string(),
            sub: did.to_string(),
            aud: state.service_did.clone(),
            iat: now,
            exp: now + ACCESS_SECS,
            jti: None,
        },
    );
    let exp = now + REFRESH_SECS;
    let refresh = jwt::sign_hs256(
        state.jwt_secret(),
        auth::REFRESH_TYP,
        &jwt::SessionClaims {
            scope: scope::REFRESH.to_string(),
            sub: did.to_string(),
            aud: state.service_did.clone(),
            iat: now,
            exp,
            jti: Some(jti.to_string()),
        },
    );
    (Tokens { access, refresh }, exp)
}

fn stored_time(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Issue a session for `did` (after account creation or a verified login).
pub async fn issue(
    state: &AppState,
    did: &str,
    app_password: Option<(&str, bool)>,
) -> Result<Tokens, ServiceError> {
    let access_scope = match app_password {
        None => scope::ACCESS,
        Some((_, true)) => scope::APP_PASS_PRIVILEGED,
        Some((_, false)) => scope::APP_PASS,
    };
    let jti = jwt::random_id();
    let (tokens, exp) = make_tokens(state, did, access_scope, &jti);
    let (d, name) = (did.to_string(), app_password.map(|(n, _)| n.to_string()));
    state
        .db
        .write(move |tx| {
            sessions::insert_refresh(tx.conn(), &jti, &d, &stored_time(exp), name.as_deref())
        })
        .await?;
    Ok(tokens)
}

/// Log in with a handle, DID or e-mail and the account password or an app password.
pub async fn login(
    state: &AppState,
    identifier: &str,
    password: &str,
) -> Result<Login, ServiceError> {
    let id = identifier.to_string();
    let account = state
        .db
        .read(move |c| accounts::by_identifier(c, &id))
        .await?;
    let wrong = || ServiceError::AuthenticationRequired("Invalid identifier or password".into());
    let Some(account) = account else {
        // Spend the same effort as a real check so timing does not reveal which accounts exist.
        let _ = auth::password::verify_async(password.to_string(), DUMMY_HASH.to_string()).await;
        return Err(wrong());
    };
    let mut app_password: Option<(String, bool)> = None;
    let full = match &account.password_hash {
        Some(h) => auth::password::verify_async(password.to_string(), h.clone()).await,
        None => false,
    };
    if !full {
        let d = account.did.clone();
        let candidates = state
            .db
            .read(move |c| sessions::app_password_hashes(c, &d))
            .await?;
        for (name, hash, privileged) in candidates {
            if auth::password::verify_async(password.to_string(), hash).await {
                app_password = Some((name, privileged));
                break;
            }
        }
        if app_password.is_none() {
            return Err(wrong());
        }
    }
    if account.takedown_ref.is_some() {
        return Err(ServiceError::Named(
            "AccountTakedown",
            "Account has been taken down".into(),
        ));
    }
    let tokens = issue(
        state,
        &account.did,
        app_password.as_ref().map(|(n, p)| (n.as_str(), *p)),
    )
    .await?;
    Ok(Login { account, tokens })
}

// A valid Argon2id hash of a random string, used to equalise timing for unknown accounts.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2yKx7sI0C3wS8m2m7m3n3u7ZqSxq0uS7o4ZV2Q3m9rQ";

/// Rotate a refresh token: a new pair, the old token retired after a grace period.
pub async fn refresh(
    state: &AppState,
    presented: &auth::RefreshAuth,
) -> Result<(accounts::AccountRow, Tokens), ServiceError> {
    let st = state.clone();
    let jti = presented.jti.clone();
    let did = presented.did.clone();
    let (account, tokens) = state
        .db
        .write(move |tx| -> Result<_, ServiceError> {
            let conn = tx.conn();
            let row = sessions::refresh(conn, &jti)?.ok_or_else(|| {
                ServiceError::Named("ExpiredToken", "Token has been revoked".into())
            })?;
            if row.did != did || row.expires_at < crate::store::now() {
                return Err(ServiceError::Named(
                    "ExpiredToken",
                    "Token has expired".into(),
                ));
            }
            let account = accounts::by_did(conn, &did)?
                .ok_or_else(|| ServiceError::Named("InvalidToken", "Account not found".into()))?;
            if account.takedown_ref.is_some() {
                return Err(ServiceError::Named(
                    "AccountTakedown",
                    "Account has been taken down".into(),
                ));
            }
            let privileged = match &row.app_password_name {
                None => None,
                Some(name) => {
                    let hashes = sessions::app_password_hashes(conn, &did)?;
                    match hashes.into_iter().find(|(n, _, _)| n == name) {
                        Some((_, _, p)) => Some(p),
                        None => {
                            return Err(ServiceError::Named(
                                "ExpiredToken",
                                "Token has been revoked".into(),
                            ));
                        }
                    }
                }
            };
            let access_scope = match privileged {
                None => scope::ACCESS,
                Some(true) => scope::APP_PASS_PRIVILEGED,
                Some(false) => scope::APP_PASS,
            };
            // A token rotated before yields its successor again, within the grace period.
            let next = row.next_id.clone().unwrap_or_else(jwt::random_id);
            let (tokens, exp) = make_tokens(&st, &did, access_scope, &next);
            if row.next_id.is_none() {
                sessions::insert_refresh(
                    conn,
                    &next,
                    &did,
                    &stored_time(exp),
                    row.app_password_name.as_deref(),
                )?;
                sessions::rotate_refresh(
                    conn,
                    &jti,
                    &next,
                    &crate::store::in_secs(REFRESH_GRACE_SECS),
                )?;
            }
            Ok((account, tokens))
        })
        .await?;
    Ok((account, tokens))
}

/// Revoke a refresh token (and its successor, if it was rotated).
pub async fn revoke(state: &AppState, presented: &auth::RefreshAuth) -> Result<(), ServiceError> {
    let jti = presented.jti.clone();
    state
        .db
        .write(move |tx| -> Result<(), ServiceError> {
            let conn = tx.conn();
            if let Some(row) = sessions::refresh(conn, &jti)?
                && let Some(next) = row.next_id
            {
                sessions::delete_refresh(conn, &next)?;
            }
            sessions::delete_refresh(conn, &jti)?;
            Ok(())
        })
        .await
}
