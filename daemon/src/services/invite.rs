//! Invite codes: creation (admin), checking and spending at account creation.
//! Codes look like `<hostname-with-dashes>-xxxxx-xxxxx` (base32, 50 random bits).

use super::ServiceError;
use crate::context::AppState;
use rusqlite::{Connection, OptionalExtension, params};

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A fresh invite code for this server.
pub fn generate(hostname: &str) -> Result<String, ServiceError> {
    let bytes = crate::keys::random_bytes::<10>()?;
    let chars: String = bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect();
    Ok(format!(
        "{}-{}-{}",
        hostname.replace('.', "-"),
        &chars[..5],
        &chars[5..]
    ))
}

/// A created code.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Invite {
    pub code: String,
    pub available: u32,
    pub for_account: String,
}

/// Create `count` codes with `uses` each, for `for_account` ("admin" when none).
pub async fn create(
    state: &AppState,
    count: u32,
    uses: u32,
    for_account: Option<String>,
) -> Result<Vec<Invite>, ServiceError> {
    if uses == 0 || count == 0 || count > 1000 {
        return Err(ServiceError::invalid(
            "useCount must be at least 1 and codeCount between 1 and 1000",
        ));
    }
    let mut invites = Vec::new();
    for _ in 0..count {
        invites.push(Invite {
            code: generate(&state.config.hostname)?,
            available: uses,
            for_account: for_account.clone().unwrap_or_else(|| "admin".into()),
        });
    }
    let rows = invites.clone();
    state
        .db
        .write(move |tx| -> Result<(), ServiceError> {
            for i in &rows {
                tx.conn().execute(
                    "INSERT INTO invite_code (code, available, disabled, for_account, created_by, created_at) VALUES (?1, ?2, 0, ?3, 'admin', ?4)",
                    params![i.code, i.available, i.for_account, crate::store::now()],
                ).map_err(crate::store::DbError::from)?;
            }
            Ok(())
        })
        .await?;
    Ok(invites)
}

/// Spend one use of `code` for `did` (inside the account-creation transaction).
pub fn spend(conn: &Connection, code: &str, did: &str) -> Result<(), ServiceError> {
    check_available(conn, code)?;
    conn.execute(
        "INSERT INTO invite_code_use (code, used_by, used_at) VALUES (?1, ?2, ?3)",
        params![code, did, crate::store::now()],
    )
    .map_err(crate::store::DbError::from)?;
    Ok(())
}

/// Whether `code` has a use left, without spending it (`POST /v1/dids` checks early).
pub fn check_available(conn: &Connection, code: &str) -> Result<(), ServiceError> {
    let row: Option<(i64, i64)> = conn
        .query_row(
            "SELECT available, disabled FROM invite_code WHERE code = ?1",
            [code],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(crate::store::DbError::from)?;
    let used: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM invite_code_use WHERE code = ?1",
            [code],
            |r| r.get(0),
        )
        .map_err(crate::store::DbError::from)?;
    match row {
        Some((available, 0)) if used < available => Ok(()),
        _ => Err(ServiceError::Named(
            "InvalidInviteCode",
            "Provided invite code not available".into(),
        )),
    }
}
