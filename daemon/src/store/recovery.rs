//! Recovery sessions (`recovery_session`): the challenge the relay issued to a rotation
//! key for `POST /v1/recovery/verify-key`, until it is answered once or expires.
//!
//! Plain queries; `services::recovery` decides what a valid answer is.

use super::DbError;
use rusqlite::{Connection, OptionalExtension, params};

/// One recovery session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id: String,
    pub did: String,
    /// The rotation key (`did:key`) that must sign the challenge.
    pub rotation_key: String,
    pub challenge: String,
    pub created_at: String,
    pub expires_at: String,
    pub verified_at: Option<String>,
    /// The device enrolled by the answer.
    pub device_id: Option<String>,
}

/// Store a new session, dropping expired ones first.
pub fn insert(conn: &Connection, s: &SessionRow, now: &str) -> Result<(), DbError> {
    conn.prepare_cached("DELETE FROM recovery_session WHERE expires_at <= ?1")?
        .execute([now])?;
    conn.prepare_cached(
        "INSERT INTO recovery_session (id, did, rotation_key, challenge, created_at, \
         expires_at, verified_at, device_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        s.id,
        s.did,
        s.rotation_key,
        s.challenge,
        s.created_at,
        s.expires_at,
        s.verified_at,
        s.device_id
    ])?;
    Ok(())
}

/// A session by id.
pub fn get(conn: &Connection, id: &str) -> Result<Option<SessionRow>, DbError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, did, rotation_key, challenge, created_at, expires_at, verified_at, \
             device_id FROM recovery_session WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(SessionRow {
                id: r.get(0)?,
                did: r.get(1)?,
                rotation_key: r.get(2)?,
                challenge: r.get(3)?,
                created_at: r.get(4)?,
                expires_at: r.get(5)?,
                verified_at: r.get(6)?,
                device_id: r.get(7)?,
            })
        })
        .optional()?)
}

/// Mark a session answered (once): false when it already was.
pub fn mark_verified(
    conn: &Connection,
    id: &str,
    device_id: &str,
    at: &str,
) -> Result<bool, DbError> {
    let n = conn
        .prepare_cached(
            "UPDATE recovery_session SET verified_at = ?2, device_id = ?3 \
             WHERE id = ?1 AND verified_at IS NULL",
        )?
        .execute(params![id, at, device_id])?;
    Ok(n == 1)
}

/// How many unanswered, unexpired sessions `did` has.
pub fn open_count(conn: &Connection, did: &str, now: &str) -> Result<u32, DbError> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM recovery_session \
             WHERE did = ?1 AND verified_at IS NULL AND expires_at > ?2",
        )?
        .query_row(params![did, now], |r| r.get(0))?)
}
