//! Account rows: identity (DID, handle, e-mail), the password hash, status
//! (deactivated, taken down, scheduled deletion), tier, and the sealed signing key.

use super::DbError;
use rusqlite::{Connection, OptionalExtension, Row, params};

/// One account as stored.
#[derive(Clone)]
pub struct AccountRow {
    pub did: String,
    pub handle: Option<String>,
    pub email: Option<String>,
    pub email_confirmed_at: Option<String>,
    pub password_hash: Option<String>,
    pub created_at: String,
    pub deactivated_at: Option<String>,
    pub delete_after: Option<String>,
    pub takedown_ref: Option<String>,
    pub tier: String,
    pub invite_code: Option<String>,
    /// Sealed with the KEK; never logged.
    pub signing_key: Vec<u8>,
}

impl std::fmt::Debug for AccountRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRow")
            .field("did", &self.did)
            .field("handle", &self.handle)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl AccountRow {
    /// `active`, `deactivated` or `takendown`, as com.atproto.sync.getRepoStatus names them.
    pub fn status(&self) -> &'static str {
        if self.takedown_ref.is_some() {
            "takendown"
        } else if self.deactivated_at.is_some() {
            "deactivated"
        } else {
            "active"
        }
    }

    /// Whether the account is active.
    pub fn is_active(&self) -> bool {
        self.status() == "active"
    }

    /// The handle, or `handle.invalid` when there is none.
    pub fn handle_or_invalid(&self) -> String {
        self.handle
            .clone()
            .unwrap_or_else(|| "handle.invalid".into())
    }
}

const COLUMNS: &str = "did, handle, email, email_confirmed_at, password_hash, created_at, \
    deactivated_at, delete_after, takedown_ref, tier, invite_code, signing_key";

fn from_row(r: &Row<'_>) -> rusqlite::Result<AccountRow> {
    Ok(AccountRow {
        did: r.get(0)?,
        handle: r.get(1)?,
        email: r.get(2)?,
        email_confirmed_at: r.get(3)?,
        password_hash: r.get(4)?,
        created_at: r.get(5)?,
        deactivated_at: r.get(6)?,
        delete_after: r.get(7)?,
        takedown_ref: r.get(8)?,
        tier: r.get(9)?,
        invite_code: r.get(10)?,
        signing_key: r.get(11)?,
    })
}

/// Insert a new account.
pub fn insert(conn: &Connection, a: &AccountRow) -> Result<(), DbError> {
    conn.execute(
        &format!("INSERT INTO account ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
        params![
            a.did,
            a.handle,
            a.email,
            a.email_confirmed_at,
            a.password_hash,
            a.created_at,
            a.deactivated_at,
            a.delete_after,
            a.takedown_ref,
            a.tier,
            a.invite_code,
            a.signing_key
        ],
    )?;
    Ok(())
}

/// By DID.
pub fn by_did(conn: &Connection, did: &str) -> Result<Option<AccountRow>, DbError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM account WHERE did = ?1"))?
        .query_row([did], from_row)
        .optional()?)
}

/// By handle (case-insensitive: handles are stored lowercase).
pub fn by_handle(conn: &Connection, handle: &str) -> Result<Option<AccountRow>, DbError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM account WHERE handle = ?1"))?
        .query_row([handle.to_ascii_lowercase()], from_row)
        .optional()?)
}

/// By e-mail (case-insensitive).
pub fn by_email(conn: &Connection, email: &str) -> Result<Option<AccountRow>, DbError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM account WHERE email = ?1"))?
        .query_row([email], from_row)
        .optional()?)
}

/// By DID, handle or e-mail, whichever `identifier` looks like.
pub fn by_identifier(conn: &Connection, identifier: &str) -> Result<Option<AccountRow>, DbError> {
    let id = identifier.trim();
    if id.starts_with("did:") {
        by_did(conn, id)
    } else if id.contains('@') {
        by_email(conn, id)
    } else {
        by_handle(conn, id.trim_start_matches('@'))
    }
}

/// Accounts in DID order after `cursor`.
pub fn list(
    conn: &Connection,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Vec<AccountRow>, DbError> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM account WHERE did > ?1 ORDER BY did LIMIT ?2"
    ))?;
    let rows = st.query_map(params![cursor.unwrap_or(""), limit], from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Change the handle.
pub fn set_handle(conn: &Connection, did: &str, handle: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE account SET handle = ?2 WHERE did = ?1",
        params![did, handle.to_ascii_lowercase()],
    )?;
    Ok(())
}

/// Change the password hash.
pub fn set_password(conn: &Connection, did: &str, hash: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE account SET password_hash = ?2 WHERE did = ?1",
        params![did, hash],
    )?;
    Ok(())
}

/// Deactivate (with an optional deletion date) or reactivate.
pub fn set_deactivated(
    conn: &Connection,
    did: &str,
    at: Option<&str>,
    delete_after: Option<&str>,
) -> Result<(), DbError> {
    conn.execute(
        "UPDATE account SET deactivated_at = ?2, delete_after = ?3 WHERE did = ?1",
        params![did, at, delete_after],
    )?;
    Ok(())
}

/// Take down (with a reference) or restore.
pub fn set_takedown(conn: &Connection, did: &str, reference: Option<&str>) -> Result<(), DbError> {
    conn.execute(
        "UPDATE account SET takedown_ref = ?2 WHERE did = ?1",
        params![did, reference],
    )?;
    Ok(())
}

/// Delete an account row and everything keyed by it outside the repo tables.
pub fn delete(conn: &Connection, did: &str) -> Result<(), DbError> {
    conn.execute("DELETE FROM refresh_token WHERE did = ?1", [did])?;
    conn.execute("DELETE FROM app_password WHERE did = ?1", [did])?;
    conn.execute("DELETE FROM email_token WHERE did = ?1", [did])?;
    // OAuth: the account's sessions (with their spent refresh hashes), the apps it
    // approved, its remembered sign-ins and any request it was signing in to.
    conn.execute(
        "DELETE FROM oauth_used_refresh WHERE token_id IN (SELECT id FROM oauth_token WHERE did = ?1)",
        [did],
    )?;
    conn.execute("DELETE FROM oauth_token WHERE did = ?1", [did])?;
    conn.execute("DELETE FROM oauth_authorization WHERE did = ?1", [did])?;
    conn.execute("DELETE FROM oauth_device_account WHERE did = ?1", [did])?;
    conn.execute("DELETE FROM oauth_request WHERE did = ?1", [did])?;
    conn.execute("DELETE FROM account WHERE did = ?1", [did])?;
    Ok(())
}

/// Replace the sealed signing key.
pub fn set_signing_key(conn: &Connection, did: &str, sealed: &[u8]) -> Result<(), DbError> {
    conn.execute(
        "UPDATE account SET signing_key = ?2 WHERE did = ?1",
        params![did, sealed],
    )?;
    Ok(())
}
