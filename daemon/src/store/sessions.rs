//! Refresh tokens (rotating, with a grace successor), app passwords and e-mail tokens.

use super::DbError;
use rusqlite::{Connection, OptionalExtension, params};

/// A stored refresh token.
#[derive(Debug, Clone)]
pub struct RefreshRow {
    pub did: String,
    pub expires_at: String,
    pub app_password_name: Option<String>,
    pub next_id: Option<String>,
}

/// Record a newly issued refresh token.
pub fn insert_refresh(
    conn: &Connection,
    id: &str,
    did: &str,
    expires_at: &str,
    app_password: Option<&str>,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT OR IGNORE INTO refresh_token (id, did, expires_at, app_password_name) VALUES (?1, ?2, ?3, ?4)",
        params![id, did, expires_at, app_password],
    )?;
    Ok(())
}

/// Look up a refresh token by id.
pub fn refresh(conn: &Connection, id: &str) -> Result<Option<RefreshRow>, DbError> {
    Ok(conn
        .prepare_cached(
            "SELECT did, expires_at, app_password_name, next_id FROM refresh_token WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(RefreshRow {
                did: r.get(0)?,
                expires_at: r.get(1)?,
                app_password_name: r.get(2)?,
                next_id: r.get(3)?,
            })
        })
        .optional()?)
}

/// Mark `id` as rotated into `next_id`, keeping it valid only for a short grace period.
pub fn rotate_refresh(
    conn: &Connection,
    id: &str,
    next_id: &str,
    grace_expires_at: &str,
) -> Result<(), DbError> {
    conn.execute(
        "UPDATE refresh_token SET next_id = ?2, expires_at = MIN(expires_at, ?3) WHERE id = ?1",
        params![id, next_id, grace_expires_at],
    )?;
    Ok(())
}

/// Revoke one refresh token.
pub fn delete_refresh(conn: &Connection, id: &str) -> Result<(), DbError> {
    conn.execute("DELETE FROM refresh_token WHERE id = ?1", [id])?;
    Ok(())
}

/// Revoke every refresh token of an account (password change, takedown).
pub fn delete_all_refresh(conn: &Connection, did: &str) -> Result<(), DbError> {
    conn.execute("DELETE FROM refresh_token WHERE did = ?1", [did])?;
    Ok(())
}

/// Drop expired refresh tokens.
pub fn purge_expired(conn: &Connection, now: &str) -> Result<usize, DbError> {
    Ok(conn.execute("DELETE FROM refresh_token WHERE expires_at < ?1", [now])?)
}

/// An app password (without its hash).
#[derive(Debug, Clone)]
pub struct AppPasswordRow {
    pub name: String,
    pub created_at: String,
    pub privileged: bool,
}

/// Store an app password hash.
pub fn insert_app_password(
    conn: &Connection,
    did: &str,
    name: &str,
    hash: &str,
    privileged: bool,
) -> Result<bool, DbError> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO app_password (did, name, password_hash, created_at, privileged) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![did, name, hash, super::now(), privileged],
    )?;
    Ok(n == 1)
}

/// The app passwords of an account.
pub fn list_app_passwords(conn: &Connection, did: &str) -> Result<Vec<AppPasswordRow>, DbError> {
    let mut st = conn.prepare_cached(
        "SELECT name, created_at, privileged FROM app_password WHERE did = ?1 ORDER BY created_at DESC",
    )?;
    let rows = st.query_map([did], |r| {
        Ok(AppPasswordRow {
            name: r.get(0)?,
            created_at: r.get(1)?,
            privileged: r.get::<_, i64>(2)? != 0,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// (name, hash, privileged) of every app password, for login.
pub fn app_password_hashes(
    conn: &Connection,
    did: &str,
) -> Result<Vec<(String, String, bool)>, DbError> {
    let mut st = conn.prepare_cached(
        "SELECT name, password_hash, privileged FROM app_password WHERE did = ?1",
    )?;
    let rows = st.query_map([did], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? != 0))
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Revoke an app password and the sessions made with it.
pub fn delete_app_password(conn: &Connection, did: &str, name: &str) -> Result<(), DbError> {
    conn.execute(
        "DELETE FROM app_password WHERE did = ?1 AND name = ?2",
        params![did, name],
    )?;
    conn.execute(
        "DELETE FROM refresh_token WHERE did = ?1 AND app_password_name = ?2",
        params![did, name],
    )?;
    Ok(())
}

/// Store a one-time e-mail token (account deletion, PLC operation signature).
pub fn put_email_token(
    conn: &Connection,
    purpose: &str,
    did: &str,
    token: &str,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO email_token (purpose, did, token, requested_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (purpose, did) DO UPDATE SET token = excluded.token, requested_at = excluded.requested_at",
        params![purpose, did, token, super::now()],
    )?;
    Ok(())
}

/// Consume an e-mail token if it matches and is younger than `max_age_secs`.
pub fn take_email_token(
    conn: &Connection,
    purpose: &str,
    did: &str,
    token: &str,
    max_age_secs: i64,
) -> Result<bool, DbError> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT token, requested_at FROM email_token WHERE purpose = ?1 AND did = ?2",
            params![purpose, did],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((stored, at)) = row else {
        return Ok(false);
    };
    let fresh = chrono::DateTime::parse_from_rfc3339(&at)
        .map(|t| chrono::Utc::now().signed_duration_since(t).num_seconds() <= max_age_secs)
        .unwrap_or(false);
    let ok = fresh && crate::auth::constant_time_eq(stored.as_bytes(), token.trim().as_bytes());
    if ok {
        conn.execute(
            "DELETE FROM email_token WHERE purpose = ?1 AND did = ?2",
            params![purpose, did],
        )?;
    }
    Ok(ok)
}
