//! Transfers between devices (`transfer`): the keyed hash of the code, never the code;
//! who started it, who accepted it, how many wrong guesses it took; and the relay's
//! sealed server secrets (`server_secret`), such as the key that hashes transfer codes.
//!
//! Plain queries; `services::transfer` decides expiry, single use and the lock.

use super::DbError;
use rusqlite::{Connection, OptionalExtension, Row, params};

/// Waiting for the new device to submit the code.
pub const PENDING: &str = "pending";
/// The new device submitted the code; waiting for the old device to complete.
pub const ACCEPTED: &str = "accepted";
/// Done: the new device is enrolled (and holds the repo-host lease if the old one did).
pub const COMPLETED: &str = "completed";
/// Too many wrong guesses: the code no longer works.
pub const LOCKED: &str = "locked";

/// One transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRow {
    pub id: String,
    pub did: String,
    pub from_device: String,
    /// `CodeHash` as hex.
    pub code_hash: String,
    pub status: String,
    pub attempts: u32,
    pub created_at: String,
    pub expires_at: String,
    pub new_device: Option<String>,
    pub accepted_at: Option<String>,
    pub completed_at: Option<String>,
}

const COLUMNS: &str = "id, did, from_device, code_hash, status, attempts, created_at, \
    expires_at, new_device, accepted_at, completed_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<TransferRow> {
    Ok(TransferRow {
        id: r.get(0)?,
        did: r.get(1)?,
        from_device: r.get(2)?,
        code_hash: r.get(3)?,
        status: r.get(4)?,
        attempts: r.get(5)?,
        created_at: r.get(6)?,
        expires_at: r.get(7)?,
        new_device: r.get(8)?,
        accepted_at: r.get(9)?,
        completed_at: r.get(10)?,
    })
}

/// Store a new transfer.
pub fn insert(conn: &Connection, t: &TransferRow) -> Result<(), DbError> {
    conn.execute(
        &format!(
            "INSERT INTO transfer ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ),
        params![
            t.id,
            t.did,
            t.from_device,
            t.code_hash,
            t.status,
            t.attempts,
            t.created_at,
            t.expires_at,
            t.new_device,
            t.accepted_at,
            t.completed_at
        ],
    )?;
    Ok(())
}

/// A transfer by id.
pub fn get(conn: &Connection, id: &str) -> Result<Option<TransferRow>, DbError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM transfer WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

/// A transfer by the hash of its code.
pub fn by_hash(conn: &Connection, code_hash: &str) -> Result<Option<TransferRow>, DbError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM transfer WHERE code_hash = ?1"
        ))?
        .query_row([code_hash], from_row)
        .optional()?)
}

/// `did`'s transfers still waiting for a code, newest first.
pub fn pending_of(conn: &Connection, did: &str) -> Result<Vec<TransferRow>, DbError> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM transfer WHERE did = ?1 AND status = 'pending' \
         ORDER BY created_at DESC"
    ))?;
    let rows = st.query_map([did], from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Count a wrong guess against a transfer; lock it at `max`. Returns the new count.
pub fn count_wrong_guess(conn: &Connection, id: &str, max: u32) -> Result<u32, DbError> {
    let attempts: u32 = conn
        .prepare_cached(
            "UPDATE transfer SET attempts = attempts + 1 WHERE id = ?1 RETURNING attempts",
        )?
        .query_row([id], |r| r.get(0))?;
    if attempts >= max {
        conn.prepare_cached("UPDATE transfer SET status = 'locked' WHERE id = ?1")?
            .execute([id])?;
    }
    Ok(attempts)
}

/// Pending -> accepted by `device` (once): false when it was not pending.
pub fn accept(conn: &Connection, id: &str, device: &str, at: &str) -> Result<bool, DbError> {
    let n = conn
        .prepare_cached(
            "UPDATE transfer SET status = 'accepted', new_device = ?2, accepted_at = ?3 \
             WHERE id = ?1 AND status = 'pending'",
        )?
        .execute(params![id, device, at])?;
    Ok(n == 1)
}

/// Accepted -> completed (once): false when it was not accepted.
pub fn complete(conn: &Connection, id: &str, at: &str) -> Result<bool, DbError> {
    let n = conn
        .prepare_cached(
            "UPDATE transfer SET status = 'completed', completed_at = ?2 \
             WHERE id = ?1 AND status = 'accepted'",
        )?
        .execute(params![id, at])?;
    Ok(n == 1)
}

/// A sealed server secret by name.
pub fn secret(conn: &Connection, name: &str) -> Result<Option<Vec<u8>>, DbError> {
    Ok(conn
        .prepare_cached("SELECT value FROM server_secret WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?)
}

/// Store a sealed server secret unless one of that name exists; returns the stored one.
pub fn secret_or_insert(conn: &Connection, name: &str, sealed: &[u8]) -> Result<Vec<u8>, DbError> {
    conn.prepare_cached("INSERT OR IGNORE INTO server_secret (name, value) VALUES (?1, ?2)")?
        .execute(params![name, sealed])?;
    Ok(conn
        .prepare_cached("SELECT value FROM server_secret WHERE name = ?1")?
        .query_row([name], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().expect("open");
        crate::store::schema::migrate(&mut c).expect("schema");
        // Rows here name accounts that these unit tests do not create.
        c.execute_batch("PRAGMA foreign_keys = OFF")
            .expect("pragma");
        c
    }

    #[test]
    fn wrong_guesses_lock_and_each_step_happens_once() {
        let c = db();
        let t = TransferRow {
            id: "t1".into(),
            did: "did:plc:a".into(),
            from_device: "dev-1".into(),
            code_hash: "h".into(),
            status: PENDING.into(),
            attempts: 0,
            created_at: "2025-01-01T00:00:00.000Z".into(),
            expires_at: "2025-01-01T00:10:00.000Z".into(),
            new_device: None,
            accepted_at: None,
            completed_at: None,
        };
        insert(&c, &t).expect("insert");
        assert_eq!(
            by_hash(&c, "h").expect("read").map(|t| t.id),
            Some("t1".into())
        );
        assert!(accept(&c, "t1", "dev-2", "now").expect("accept"));
        assert!(!accept(&c, "t1", "dev-3", "now").expect("second accept"));
        assert!(complete(&c, "t1", "now").expect("complete"));
        assert!(!complete(&c, "t1", "now").expect("second complete"));

        insert(
            &c,
            &TransferRow {
                id: "t2".into(),
                code_hash: "h2".into(),
                ..t
            },
        )
        .expect("insert");
        for n in 1..=5 {
            assert_eq!(count_wrong_guess(&c, "t2", 5).expect("guess"), n);
        }
        assert_eq!(
            get(&c, "t2").expect("read").map(|t| t.status),
            Some(LOCKED.into())
        );
        assert!(!accept(&c, "t2", "dev-2", "now").expect("locked"));
    }

    #[test]
    fn a_secret_is_made_once() {
        let c = db();
        assert!(secret(&c, "k").expect("read").is_none());
        assert_eq!(secret_or_insert(&c, "k", b"one").expect("insert"), b"one");
        assert_eq!(secret_or_insert(&c, "k", b"two").expect("kept"), b"one");
    }
}
