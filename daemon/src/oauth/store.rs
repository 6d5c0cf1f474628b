//! The SQL of the OAuth server: pushed authorization requests, sessions (token
//! families), rotated-out refresh tokens, single-use values (PKCE challenges, `state`,
//! client assertion ids), browsers' remembered sign-ins, and what each account approved.
//!
//! Every query of `oauth_*` tables lives here, and nothing here decides policy: callers
//! check what a row allows. Codes and tokens arrive already hashed. Times are stored as
//! RFC 3339 text (as elsewhere in the schema) and handled as Unix seconds in Rust.

use crate::store::accounts::{self, AccountRow};
use crate::store::{Db, DbError};
use rusqlite::{Connection, OptionalExtension, params};

/// Unix seconds as the schema's RFC 3339 text.
pub fn ts(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn secs(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|d| d.timestamp())
        .unwrap_or(0)
}

/// A pushed authorization request.
#[derive(Debug, Clone)]
pub struct RequestRow {
    pub id: String,
    pub client_id: String,
    /// JSON of [`super::client_auth::ClientAuth`].
    pub client_auth: String,
    /// JSON of [`super::par::AuthParams`].
    pub parameters: String,
    pub dpop_jkt: String,
    pub device_id: Option<String>,
    pub did: Option<String>,
    pub code_hash: Option<String>,
    pub expires_at: i64,
}

/// A session: the family of tokens one authorization created.
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: String,
    pub did: String,
    pub client_id: String,
    pub client_auth: String,
    pub scope: String,
    pub dpop_jkt: String,
    pub device_id: Option<String>,
    pub code_hash: String,
    pub refresh_hash: Option<String>,
    pub created_at: i64,
    pub refreshed_at: i64,
    pub expires_at: i64,
    pub session_expires_at: Option<i64>,
}

/// What PAR stores, refused when a single-use value was seen before.
#[derive(Debug, PartialEq, Eq)]
pub enum Insert {
    Stored,
    /// The named single-use value (`code_challenge`, `state`, client assertion) was used before.
    Reused(&'static str),
}

/// Remember single-use values and store a request, in one transaction.
pub async fn insert_request(
    db: &Db,
    row: RequestRow,
    once: Vec<(&'static str, String, i64)>,
    now: i64,
) -> Result<Insert, DbError> {
    db.write(move |tx| {
        let c = tx.conn();
        cleanup(c, now)?;
        for (what, key, expires) in &once {
            if !use_once_in(c, key, *expires)? {
                return Ok(Insert::Reused(what));
            }
        }
        c.execute(
            "INSERT INTO oauth_request (id, client_id, client_auth, parameters, dpop_jkt,
                device_id, did, code_hash, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, NULL, NULL, NULL, ?6, ?7)",
            params![
                row.id,
                row.client_id,
                row.client_auth,
                row.parameters,
                row.dpop_jkt,
                ts(now),
                ts(row.expires_at)
            ],
        )?;
        Ok(Insert::Stored)
    })
    .await
}

/// Record a single-use value; false when it was already recorded (and not expired).
pub async fn use_once(db: &Db, key: String, expires_at: i64) -> Result<bool, DbError> {
    db.write(move |tx| use_once_in(tx.conn(), &key, expires_at))
        .await
}

fn use_once_in(c: &Connection, key: &str, expires_at: i64) -> Result<bool, DbError> {
    let n = c.execute(
        "INSERT OR IGNORE INTO oauth_replay (key, expires_at) VALUES (?1, ?2)",
        params![key, ts(expires_at)],
    )?;
    Ok(n == 1)
}

/// Drop what has expired (run with PAR writes, so the tables stay small).
fn cleanup(c: &Connection, now: i64) -> Result<(), DbError> {
    let t = ts(now);
    c.execute("DELETE FROM oauth_replay WHERE expires_at < ?1", [&t])?;
    c.execute("DELETE FROM oauth_request WHERE expires_at < ?1", [&t])?;
    c.execute("DELETE FROM oauth_used_refresh WHERE expires_at < ?1", [&t])?;
    c.execute(
        "DELETE FROM oauth_token WHERE expires_at < ?1 OR session_expires_at < ?1",
        [&t],
    )?;
    c.execute(
        "DELETE FROM oauth_device_account WHERE expires_at < ?1",
        [&t],
    )?;
    Ok(())
}

fn request_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<RequestRow> {
    Ok(RequestRow {
        id: r.get(0)?,
        client_id: r.get(1)?,
        client_auth: r.get(2)?,
        parameters: r.get(3)?,
        dpop_jkt: r.get(4)?,
        device_id: r.get(5)?,
        did: r.get(6)?,
        code_hash: r.get(7)?,
        expires_at: secs(&r.get::<_, String>(8)?),
    })
}

const REQUEST_COLS: &str =
    "id, client_id, client_auth, parameters, dpop_jkt, device_id, did, code_hash, expires_at";

/// Give a request to the browser that opened it first, and extend its life for the
/// sign-in. Returns the row as it now is (with the device that owns it).
pub async fn claim_request_for_device(
    db: &Db,
    id: String,
    device: String,
    expires_at: i64,
    now: i64,
) -> Result<Option<RequestRow>, DbError> {
    db.write(move |tx| {
        let c = tx.conn();
        c.execute(
            "UPDATE oauth_request SET device_id = ?2, expires_at = ?3
             WHERE id = ?1 AND device_id IS NULL AND code_hash IS NULL AND expires_at >= ?4",
            params![id, device, ts(expires_at), ts(now)],
        )?;
        c.query_row(
            &format!("SELECT {REQUEST_COLS} FROM oauth_request WHERE id = ?1 AND expires_at >= ?2"),
            params![id, ts(now)],
            request_from,
        )
        .optional()
        .map_err(DbError::from)
    })
    .await
}

/// Set (or clear) the account that signed in for a request.
pub async fn set_request_account(db: &Db, id: String, did: Option<String>) -> Result<(), DbError> {
    db.write(move |tx| {
        tx.conn()
            .execute(
                "UPDATE oauth_request SET did = ?2 WHERE id = ?1 AND code_hash IS NULL",
                params![id, did],
            )
            .map(|_| ())
            .map_err(DbError::from)
    })
    .await
}

/// Attach the authorization code to an approved request; it expires with the code.
/// Returns false when the request was already answered.
pub async fn set_request_code(
    db: &Db,
    id: String,
    code_hash: String,
    expires_at: i64,
) -> Result<bool, DbError> {
    db.write(move |tx| {
        let n = tx.conn().execute(
            "UPDATE oauth_request SET code_hash = ?2, expires_at = ?3
             WHERE id = ?1 AND code_hash IS NULL",
            params![id, code_hash, ts(expires_at)],
        )?;
        Ok(n == 1)
    })
    .await
}

/// Delete a request (denied, or abandoned).
pub async fn delete_request(db: &Db, id: String) -> Result<(), DbError> {
    db.write(move |tx| {
        tx.conn()
            .execute("DELETE FROM oauth_request WHERE id = ?1", [id])
            .map(|_| ())
            .map_err(DbError::from)
    })
    .await
}

/// What presenting an authorization code found.
#[derive(Debug)]
pub enum CodeClaim {
    /// The code's request, now consumed (a code works once, even if the exchange then fails).
    Found(RequestRow),
    /// The code was exchanged before: the session it created was revoked.
    Reused,
    /// No such code, or it expired.
    Unknown,
}

/// Consume the request holding `code_hash`; on a second use revoke what the first created.
pub async fn claim_code(db: &Db, code_hash: String, now: i64) -> Result<CodeClaim, DbError> {
    db.write(move |tx| {
        let c = tx.conn();
        let found = c
            .query_row(
                &format!("SELECT {REQUEST_COLS} FROM oauth_request WHERE code_hash = ?1"),
                [&code_hash],
                request_from,
            )
            .optional()?;
        if let Some(row) = found {
            c.execute("DELETE FROM oauth_request WHERE id = ?1", [&row.id])?;
            if row.expires_at < now {
                return Ok(CodeClaim::Unknown);
            }
            return Ok(CodeClaim::Found(row));
        }
        let token: Option<String> = c
            .query_row(
                "SELECT id FROM oauth_token WHERE code_hash = ?1",
                [&code_hash],
                |r| r.get(0),
            )
            .optional()?;
        match token {
            Some(id) => {
                delete_token_in(c, &id)?;
                Ok(CodeClaim::Reused)
            }
            None => Ok(CodeClaim::Unknown),
        }
    })
    .await
}

/// Store a new session and record the account's approval of the client.
pub async fn insert_token(
    db: &Db,
    row: TokenRow,
    client_name: Option<String>,
) -> Result<(), DbError> {
    db.write(move |tx| {
        let c = tx.conn();
        c.execute(
            "INSERT INTO oauth_token (id, did, client_id, client_auth, scope, dpop_jkt, device_id,
                code_hash, refresh_hash, created_at, refreshed_at, expires_at, session_expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                row.id,
                row.did,
                row.client_id,
                row.client_auth,
                row.scope,
                row.dpop_jkt,
                row.device_id,
                row.code_hash,
                row.refresh_hash,
                ts(row.created_at),
                ts(row.refreshed_at),
                ts(row.expires_at),
                row.session_expires_at.map(ts)
            ],
        )?;
        c.execute(
            "INSERT INTO oauth_authorization (did, client_id, client_name, scope, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)
             ON CONFLICT (did, client_id) DO UPDATE SET
                client_name = excluded.client_name, scope = excluded.scope,
                updated_at = excluded.updated_at",
            params![row.did, row.client_id, client_name, row.scope, ts(row.created_at)],
        )?;
        Ok(())
    })
    .await
}

const TOKEN_COLS: &str = "id, did, client_id, client_auth, scope, dpop_jkt, device_id, code_hash,
    refresh_hash, created_at, refreshed_at, expires_at, session_expires_at";

fn token_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok(TokenRow {
        id: r.get(0)?,
        did: r.get(1)?,
        client_id: r.get(2)?,
        client_auth: r.get(3)?,
        scope: r.get(4)?,
        dpop_jkt: r.get(5)?,
        device_id: r.get(6)?,
        code_hash: r.get(7)?,
        refresh_hash: r.get(8)?,
        created_at: secs(&r.get::<_, String>(9)?),
        refreshed_at: secs(&r.get::<_, String>(10)?),
        expires_at: secs(&r.get::<_, String>(11)?),
        session_expires_at: r.get::<_, Option<String>>(12)?.map(|s| secs(&s)),
    })
}

/// A session by id (the access tokens' `jti`).
pub async fn get_token(db: &Db, id: String) -> Result<Option<TokenRow>, DbError> {
    db.read(move |c| {
        c.query_row(
            &format!("SELECT {TOKEN_COLS} FROM oauth_token WHERE id = ?1"),
            [id],
            token_from,
        )
        .optional()
        .map_err(DbError::from)
    })
    .await
}

/// What presenting a refresh token found.
#[derive(Debug)]
pub enum RefreshLookup {
    Current(Box<TokenRow>),
    /// A rotated-out token: the session it belonged to.
    Used(String),
    Unknown,
}

/// Find the session of a refresh token.
pub async fn find_refresh(db: &Db, hash: String) -> Result<RefreshLookup, DbError> {
    db.read(move |c| {
        if let Some(row) = c
            .query_row(
                &format!("SELECT {TOKEN_COLS} FROM oauth_token WHERE refresh_hash = ?1"),
                [&hash],
                token_from,
            )
            .optional()?
        {
            return Ok(RefreshLookup::Current(Box::new(row)));
        }
        let used: Option<String> = c
            .query_row(
                "SELECT token_id FROM oauth_used_refresh WHERE hash = ?1",
                [&hash],
                |r| r.get(0),
            )
            .optional()?;
        Ok(used
            .map(RefreshLookup::Used)
            .unwrap_or(RefreshLookup::Unknown))
    })
    .await
}

/// Replace a session's refresh token; false when another request rotated it first.
pub async fn rotate_refresh(
    db: &Db,
    id: String,
    old_hash: String,
    new_hash: String,
    expires_at: i64,
    now: i64,
    old_expires_at: i64,
) -> Result<bool, DbError> {
    db.write(move |tx| {
        let c = tx.conn();
        let n = c.execute(
            "UPDATE oauth_token SET refresh_hash = ?3, refreshed_at = ?4, expires_at = ?5
             WHERE id = ?1 AND refresh_hash = ?2",
            params![id, old_hash, new_hash, ts(now), ts(expires_at)],
        )?;
        if n != 1 {
            return Ok(false);
        }
        c.execute(
            "INSERT OR REPLACE INTO oauth_used_refresh (hash, token_id, expires_at) VALUES (?1, ?2, ?3)",
            params![old_hash, id, ts(old_expires_at.max(now))],
        )?;
        Ok(true)
    })
    .await
}

fn delete_token_in(c: &Connection, id: &str) -> Result<usize, DbError> {
    c.execute("DELETE FROM oauth_used_refresh WHERE token_id = ?1", [id])?;
    Ok(c.execute("DELETE FROM oauth_token WHERE id = ?1", [id])?)
}

/// Revoke a session (all its tokens). Returns whether it existed.
pub async fn delete_token(db: &Db, id: String) -> Result<bool, DbError> {
    db.write(move |tx| Ok(delete_token_in(tx.conn(), &id)? > 0))
        .await
}

/// An account by DID, handle or email (as typed on the sign-in page; a leading `@` is
/// part of no email, so it marks a handle).
pub async fn find_account(db: &Db, identifier: String) -> Result<Option<AccountRow>, DbError> {
    db.read(move |c| {
        let ident = identifier.trim();
        match ident.strip_prefix('@') {
            Some(handle) => accounts::by_handle(c, handle),
            None => accounts::by_identifier(c, ident),
        }
    })
    .await
}

/// Accounts signed in on a browser (still valid), newest first.
pub async fn device_accounts(
    db: &Db,
    device: String,
    now: i64,
) -> Result<Vec<AccountRow>, DbError> {
    db.read(move |c| {
        let mut st = c.prepare(
            "SELECT did FROM oauth_device_account WHERE device_id = ?1 AND expires_at >= ?2
             ORDER BY signed_in_at DESC",
        )?;
        let dids = st
            .query_map(params![device, ts(now)], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(dids.len());
        for did in dids {
            if let Some(a) = accounts::by_did(c, &did)? {
                out.push(a);
            }
        }
        Ok(out)
    })
    .await
}

/// Remember a sign-in on a browser until `expires_at`.
pub async fn remember_device(
    db: &Db,
    device: String,
    did: String,
    now: i64,
    expires_at: i64,
) -> Result<(), DbError> {
    db.write(move |tx| {
        tx.conn()
            .execute(
                "INSERT OR REPLACE INTO oauth_device_account (device_id, did, signed_in_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![device, did, ts(now), ts(expires_at)],
            )
            .map(|_| ())
            .map_err(DbError::from)
    })
    .await
}

/// Forget every sign-in of a browser.
pub async fn forget_device(db: &Db, device: String) -> Result<(), DbError> {
    db.write(move |tx| {
        tx.conn()
            .execute(
                "DELETE FROM oauth_device_account WHERE device_id = ?1",
                [device],
            )
            .map(|_| ())
            .map_err(DbError::from)
    })
    .await
}

/// One app an account authorized, with its live sessions: the admin contract's shape,
/// so `pdsctl oauth list` shows exactly what the store holds.
pub use pds::admin::{OAuthApp as Authorization, OAuthSession as SessionInfo};

/// The apps `did` authorized that still have a live session, most recently used first.
pub async fn list_authorizations(
    db: &Db,
    did: String,
    now: i64,
) -> Result<Vec<Authorization>, DbError> {
    db.read(move |c| {
        let mut st = c.prepare(
            "SELECT id, client_id, scope, created_at, refreshed_at, expires_at FROM oauth_token
             WHERE did = ?1 AND expires_at >= ?2 AND (session_expires_at IS NULL OR session_expires_at >= ?2)
             ORDER BY refreshed_at DESC",
        )?;
        let sessions = st
            .query_map(params![did, ts(now)], |r| {
                Ok((
                    r.get::<_, String>(1)?,
                    SessionInfo {
                        token_id: r.get(0)?,
                        scope: r.get(2)?,
                        created_at: r.get(3)?,
                        refreshed_at: r.get(4)?,
                        expires_at: r.get(5)?,
                    },
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out: Vec<Authorization> = Vec::new();
        for (client_id, s) in sessions {
            if let Some(a) = out.iter_mut().find(|a| a.client_id == client_id) {
                a.sessions.push(s);
                continue;
            }
            let (client_name, scope, authorized_at, updated_at) = c
                .query_row(
                    "SELECT client_name, scope, created_at, updated_at FROM oauth_authorization
                     WHERE did = ?1 AND client_id = ?2",
                    params![did, client_id],
                    |r| {
                        Ok((
                            r.get::<_, Option<String>>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                        ))
                    },
                )
                .optional()?
                .unwrap_or((None, s.scope.clone(), s.created_at.clone(), s.refreshed_at.clone()));
            let last_used_at = if s.refreshed_at > updated_at {
                s.refreshed_at.clone()
            } else {
                updated_at
            };
            out.push(Authorization {
                client_id,
                client_name,
                scope,
                authorized_at,
                last_used_at,
                sessions: vec![s],
            });
        }
        Ok(out)
    })
    .await
}

/// Revoke an account's sessions with a client (by `client_id`) or one session (by token
/// id), and forget the approval when no session of that client remains. Returns how
/// many sessions were revoked.
pub async fn revoke_authorization(db: &Db, did: String, target: String) -> Result<usize, DbError> {
    db.write(move |tx| {
        let c = tx.conn();
        let ids: Vec<(String, String)> = {
            let mut st = c.prepare(
                "SELECT id, client_id FROM oauth_token WHERE did = ?1 AND (client_id = ?2 OR id = ?2)",
            )?;
            st.query_map(params![did, target], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?
        };
        let mut n = 0;
        for (id, _) in &ids {
            n += delete_token_in(c, id)?;
        }
        let mut clients: Vec<String> = ids.into_iter().map(|(_, c)| c).collect();
        clients.push(target.clone());
        clients.dedup();
        for client in clients {
            let left: i64 = c.query_row(
                "SELECT COUNT(*) FROM oauth_token WHERE did = ?1 AND client_id = ?2",
                params![did, client],
                |r| r.get(0),
            )?;
            if left == 0 {
                c.execute(
                    "DELETE FROM oauth_authorization WHERE did = ?1 AND client_id = ?2",
                    params![did, client],
                )?;
            }
        }
        Ok(n)
    })
    .await
}
