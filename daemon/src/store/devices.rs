//! The device API's tables: enrolled devices (with their P-256 public keys, status and
//! last contact), which desktop is an account's repo host, the single-use nonces of
//! device tokens, the history of each account's relay signing keys, and DIDs created
//! ahead of their accounts (`POST /v1/dids`).
//!
//! Plain queries on the connection they are given; what the rows mean (who may approve a
//! device, when a repo host counts as online) is decided in `services::device`. Nothing
//! here holds a private key in the clear: a pending signing key is stored sealed.

use super::DbError;
use rusqlite::{Connection, OptionalExtension, Row, params};

/// Device status: waiting for an enrolled device to approve it.
pub const PENDING: &str = "pending";
/// Device status: may authenticate.
pub const ACTIVE: &str = "active";
/// Device status: de-enrolled; its key never authenticates again.
pub const REMOVED: &str = "removed";

/// One device as stored.
#[derive(Clone)]
pub struct DeviceRow {
    pub id: String,
    pub did: String,
    pub name: String,
    pub platform: String,
    /// The device's P-256 public key as a `did:key`.
    pub public_key: String,
    pub status: String,
    /// The code the new device shows and the approving device types (pending only).
    pub pairing_code: Option<String>,
    pub created_at: String,
    pub approved_at: Option<String>,
    pub approved_by: Option<String>,
    pub removed_at: Option<String>,
    pub last_seen_at: Option<String>,
    pub signed_off_at: Option<String>,
    /// The last firehose sequence number delivered to this device by the firehose proxy.
    pub firehose_cursor: Option<i64>,
}

impl std::fmt::Debug for DeviceRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceRow")
            .field("id", &self.id)
            .field("did", &self.did)
            .field("platform", &self.platform)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

const DEVICE_COLUMNS: &str = "id, did, name, platform, public_key, status, pairing_code, \
    created_at, approved_at, approved_by, removed_at, last_seen_at, signed_off_at, firehose_cursor";

fn device_from(r: &Row<'_>) -> rusqlite::Result<DeviceRow> {
    Ok(DeviceRow {
        id: r.get(0)?,
        did: r.get(1)?,
        name: r.get(2)?,
        platform: r.get(3)?,
        public_key: r.get(4)?,
        status: r.get(5)?,
        pairing_code: r.get(6)?,
        created_at: r.get(7)?,
        approved_at: r.get(8)?,
        approved_by: r.get(9)?,
        removed_at: r.get(10)?,
        last_seen_at: r.get(11)?,
        signed_off_at: r.get(12)?,
        firehose_cursor: r.get(13)?,
    })
}

/// Insert a new device.
pub fn insert_device(conn: &Connection, d: &DeviceRow) -> Result<(), DbError> {
    conn.execute(
        &format!(
            "INSERT INTO device ({DEVICE_COLUMNS}) VALUES \
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
        ),
        params![
            d.id,
            d.did,
            d.name,
            d.platform,
            d.public_key,
            d.status,
            d.pairing_code,
            d.created_at,
            d.approved_at,
            d.approved_by,
            d.removed_at,
            d.last_seen_at,
            d.signed_off_at,
            d.firehose_cursor
        ],
    )?;
    Ok(())
}

/// A device by id (any status).
pub fn device(conn: &Connection, id: &str) -> Result<Option<DeviceRow>, DbError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {DEVICE_COLUMNS} FROM device WHERE id = ?1"
        ))?
        .query_row([id], device_from)
        .optional()?)
}

/// The pending or active device holding this public key, if any.
pub fn live_by_key(conn: &Connection, public_key: &str) -> Result<Option<DeviceRow>, DbError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {DEVICE_COLUMNS} FROM device WHERE public_key = ?1 AND status <> 'removed'"
        ))?
        .query_row([public_key], device_from)
        .optional()?)
}

/// An account's devices, oldest first; removed ones only when asked.
pub fn devices_of(
    conn: &Connection,
    did: &str,
    include_removed: bool,
) -> Result<Vec<DeviceRow>, DbError> {
    let sql = if include_removed {
        format!("SELECT {DEVICE_COLUMNS} FROM device WHERE did = ?1 ORDER BY created_at, id")
    } else {
        format!(
            "SELECT {DEVICE_COLUMNS} FROM device WHERE did = ?1 AND status <> 'removed' \
             ORDER BY created_at, id"
        )
    };
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map([did], device_from)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// How many of an account's devices have this status.
pub fn count(conn: &Connection, did: &str, status: &str) -> Result<u32, DbError> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM device WHERE did = ?1 AND status = ?2")?
        .query_row(params![did, status], |r| r.get::<_, i64>(0))?
        .clamp(0, i64::from(u32::MAX)) as u32)
}

/// Forget pending enrolments created before `before` (never approved in time).
pub fn expire_pending(conn: &Connection, before: &str) -> Result<usize, DbError> {
    Ok(conn.execute(
        "DELETE FROM device WHERE status = 'pending' AND created_at < ?1",
        [before],
    )?)
}

/// Approve a pending device.
pub fn activate(conn: &Connection, id: &str, by: Option<&str>, at: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE device SET status = 'active', pairing_code = NULL, approved_at = ?2, approved_by = ?3 \
         WHERE id = ?1",
        params![id, at, by],
    )?;
    Ok(())
}

/// De-enrol a device.
pub fn remove(conn: &Connection, id: &str, at: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE device SET status = 'removed', pairing_code = NULL, removed_at = ?2 WHERE id = ?1",
        params![id, at],
    )?;
    Ok(())
}

/// The device was heard from (and is not signed off any more).
pub fn touch(conn: &Connection, id: &str, at: &str) -> Result<(), DbError> {
    conn.prepare_cached("UPDATE device SET last_seen_at = ?2, signed_off_at = NULL WHERE id = ?1")?
        .execute(params![id, at])?;
    Ok(())
}

/// The device said it is going to sleep: it counts as offline from now on.
pub fn sign_off(conn: &Connection, id: &str, at: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE device SET last_seen_at = ?2, signed_off_at = ?2 WHERE id = ?1",
        params![id, at],
    )?;
    Ok(())
}

/// Remember what the firehose proxy last delivered to a device.
pub fn set_firehose_cursor(conn: &Connection, id: &str, seq: i64) -> Result<(), DbError> {
    conn.prepare_cached(
        "UPDATE device SET firehose_cursor = MAX(COALESCE(firehose_cursor, 0), ?2) WHERE id = ?1",
    )?
    .execute(params![id, seq])?;
    Ok(())
}

/// One account's sequenced firehose frames after `after`, oldest first (firehose proxy).
pub fn events_of(
    conn: &Connection,
    did: &str,
    after: i64,
    limit: u32,
) -> Result<Vec<(i64, Vec<u8>)>, DbError> {
    let mut st = conn.prepare_cached(
        "SELECT seq, event FROM repo_seq WHERE did = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let rows = st.query_map(params![did, after, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// The repo-host desktop of an account: (device id, since when).
pub fn repo_host(conn: &Connection, did: &str) -> Result<Option<(String, String)>, DbError> {
    Ok(conn
        .prepare_cached("SELECT device_id, since FROM repo_host WHERE did = ?1")?
        .query_row([did], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Make a device the account's repo host (replacing any previous one).
pub fn set_repo_host(
    conn: &Connection,
    did: &str,
    device_id: &str,
    at: &str,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO repo_host (did, device_id, since) VALUES (?1, ?2, ?3)
         ON CONFLICT (did) DO UPDATE SET device_id = excluded.device_id, since = excluded.since",
        params![did, device_id, at],
    )?;
    Ok(())
}

/// Back to mobile-only mode.
pub fn clear_repo_host(conn: &Connection, did: &str) -> Result<(), DbError> {
    conn.execute("DELETE FROM repo_host WHERE did = ?1", [did])?;
    Ok(())
}

/// Store an issued nonce.
pub fn insert_nonce(conn: &Connection, nonce: &str, expires_at: &str) -> Result<(), DbError> {
    conn.prepare_cached("INSERT INTO device_nonce (nonce, expires_at) VALUES (?1, ?2)")?
        .execute(params![nonce, expires_at])?;
    Ok(())
}

/// Use a nonce up: true when it existed and had not expired. Either way it is gone.
pub fn consume_nonce(conn: &Connection, nonce: &str, now: &str) -> Result<bool, DbError> {
    let expires: Option<String> = conn
        .prepare_cached("DELETE FROM device_nonce WHERE nonce = ?1 RETURNING expires_at")?
        .query_row([nonce], |r| r.get(0))
        .optional()?;
    Ok(expires.is_some_and(|e| e.as_str() > now))
}

/// Drop expired nonces; returns how many are still outstanding.
pub fn prune_nonces(conn: &Connection, now: &str) -> Result<u64, DbError> {
    conn.prepare_cached("DELETE FROM device_nonce WHERE expires_at <= ?1")?
        .execute([now])?;
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM device_nonce")?
        .query_row([], |r| r.get::<_, i64>(0))?
        .max(0) as u64)
}

/// Relay signing key status: sealed and about to be published (a PLC update is in flight).
pub const KEY_PENDING: &str = "pending";
/// Relay signing key status: the account's `#atproto` key; signs commits.
pub const KEY_CURRENT: &str = "current";
/// Relay signing key status: replaced by a newer key; the private half is destroyed.
pub const KEY_RETIRED: &str = "retired";
/// Relay signing key status: revoked by the user; the private half is destroyed.
pub const KEY_REVOKED: &str = "revoked";

/// One relay signing key of an account.
#[derive(Clone)]
pub struct RelayKeyRow {
    pub did: String,
    pub key_id: String,
    /// The public key as a `did:key`.
    pub public_key: String,
    pub status: String,
    /// The sealed private key, kept only while the key is pending.
    pub sealed: Option<Vec<u8>>,
    pub created_at: String,
    pub retired_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl std::fmt::Debug for RelayKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayKeyRow")
            .field("did", &self.did)
            .field("key_id", &self.key_id)
            .field("public_key", &self.public_key)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

const KEY_COLUMNS: &str =
    "did, key_id, public_key, status, sealed, created_at, retired_at, revoked_at";

fn key_from(r: &Row<'_>) -> rusqlite::Result<RelayKeyRow> {
    Ok(RelayKeyRow {
        did: r.get(0)?,
        key_id: r.get(1)?,
        public_key: r.get(2)?,
        status: r.get(3)?,
        sealed: r.get(4)?,
        created_at: r.get(5)?,
        retired_at: r.get(6)?,
        revoked_at: r.get(7)?,
    })
}

/// Insert a key row (an existing row with the same id is left alone).
pub fn insert_key(conn: &Connection, k: &RelayKeyRow) -> Result<(), DbError> {
    conn.execute(
        &format!(
            "INSERT OR IGNORE INTO relay_signing_key ({KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ),
        params![
            k.did,
            k.key_id,
            k.public_key,
            k.status,
            k.sealed,
            k.created_at,
            k.retired_at,
            k.revoked_at
        ],
    )?;
    Ok(())
}

/// An account's relay keys, newest first.
pub fn keys_of(conn: &Connection, did: &str) -> Result<Vec<RelayKeyRow>, DbError> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {KEY_COLUMNS} FROM relay_signing_key WHERE did = ?1 ORDER BY created_at DESC, key_id"
    ))?;
    let rows = st.query_map([did], key_from)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// One relay key.
pub fn key(conn: &Connection, did: &str, key_id: &str) -> Result<Option<RelayKeyRow>, DbError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {KEY_COLUMNS} FROM relay_signing_key WHERE did = ?1 AND key_id = ?2"
        ))?
        .query_row(params![did, key_id], key_from)
        .optional()?)
}

/// Change a key's status; retiring or revoking destroys the sealed private half.
pub fn set_key_status(
    conn: &Connection,
    did: &str,
    key_id: &str,
    status: &str,
    at: &str,
) -> Result<(), DbError> {
    match status {
        KEY_RETIRED => conn.execute(
            "UPDATE relay_signing_key SET status = ?3, sealed = NULL, retired_at = ?4 \
             WHERE did = ?1 AND key_id = ?2",
            params![did, key_id, status, at],
        )?,
        KEY_REVOKED => conn.execute(
            "UPDATE relay_signing_key SET status = ?3, sealed = NULL, revoked_at = ?4, \
             retired_at = COALESCE(retired_at, ?4) WHERE did = ?1 AND key_id = ?2",
            params![did, key_id, status, at],
        )?,
        _ => conn.execute(
            "UPDATE relay_signing_key SET status = ?3, sealed = NULL WHERE did = ?1 AND key_id = ?2",
            params![did, key_id, status],
        )?,
    };
    Ok(())
}

/// Forget a pending key whose publication failed.
pub fn delete_key(conn: &Connection, did: &str, key_id: &str) -> Result<(), DbError> {
    conn.execute(
        "DELETE FROM relay_signing_key WHERE did = ?1 AND key_id = ?2 AND status = 'pending'",
        params![did, key_id],
    )?;
    Ok(())
}

/// A DID made ahead of its account.
#[derive(Clone)]
pub struct PendingDidRow {
    pub did: String,
    pub handle: String,
    /// The account signing key, sealed with the KEK.
    pub signing_key: Vec<u8>,
    /// The signed genesis operation (JSON).
    pub operation: String,
    pub created_at: String,
    pub expires_at: String,
}

impl std::fmt::Debug for PendingDidRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingDidRow")
            .field("did", &self.did)
            .field("handle", &self.handle)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

const PENDING_COLUMNS: &str = "did, handle, signing_key, operation, created_at, expires_at";

fn pending_from(r: &Row<'_>) -> rusqlite::Result<PendingDidRow> {
    Ok(PendingDidRow {
        did: r.get(0)?,
        handle: r.get(1)?,
        signing_key: r.get(2)?,
        operation: r.get(3)?,
        created_at: r.get(4)?,
        expires_at: r.get(5)?,
    })
}

/// Store a DID made ahead of its account.
pub fn insert_pending_did(conn: &Connection, p: &PendingDidRow) -> Result<(), DbError> {
    conn.execute(
        &format!("INSERT INTO pending_did ({PENDING_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![
            p.did,
            p.handle,
            p.signing_key,
            p.operation,
            p.created_at,
            p.expires_at
        ],
    )?;
    Ok(())
}

/// A pending DID by DID.
pub fn pending_did(conn: &Connection, did: &str) -> Result<Option<PendingDidRow>, DbError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {PENDING_COLUMNS} FROM pending_did WHERE did = ?1"
        ))?
        .query_row([did], pending_from)
        .optional()?)
}

/// An unexpired pending DID holding a handle.
pub fn pending_did_by_handle(
    conn: &Connection,
    handle: &str,
    now: &str,
) -> Result<Option<PendingDidRow>, DbError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {PENDING_COLUMNS} FROM pending_did WHERE handle = ?1 AND expires_at > ?2"
        ))?
        .query_row(params![handle, now], pending_from)
        .optional()?)
}

/// Forget a pending DID (its account was created, or it expired).
pub fn delete_pending_did(conn: &Connection, did: &str) -> Result<(), DbError> {
    conn.execute("DELETE FROM pending_did WHERE did = ?1", [did])?;
    Ok(())
}

/// Forget expired pending DIDs.
pub fn expire_pending_dids(conn: &Connection, now: &str) -> Result<usize, DbError> {
    Ok(conn.execute("DELETE FROM pending_did WHERE expires_at <= ?1", [now])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().expect("open");
        c.execute_batch("PRAGMA foreign_keys = ON;").expect("fk");
        super::super::schema::migrate(&mut c).expect("migrate");
        c.execute(
            "INSERT INTO account (did, handle, created_at, signing_key) VALUES ('did:plc:a', 'a.test', 'now', x'00')",
            [],
        )
        .expect("account");
        c
    }

    fn row(id: &str, key: &str, status: &str) -> DeviceRow {
        DeviceRow {
            id: id.into(),
            did: "did:plc:a".into(),
            name: "phone".into(),
            platform: "ios".into(),
            public_key: key.into(),
            status: status.into(),
            pairing_code: None,
            created_at: "2024-01-01T00:00:00.000Z".into(),
            approved_at: None,
            approved_by: None,
            removed_at: None,
            last_seen_at: None,
            signed_off_at: None,
            firehose_cursor: None,
        }
    }

    #[test]
    fn a_live_key_is_enrolled_once_and_removed_keys_may_return() {
        let c = db();
        insert_device(&c, &row("d1", "did:key:x", ACTIVE)).expect("first");
        assert!(insert_device(&c, &row("d2", "did:key:x", PENDING)).is_err());
        remove(&c, "d1", "later").expect("remove");
        assert!(live_by_key(&c, "did:key:x").expect("query").is_none());
        insert_device(&c, &row("d2", "did:key:x", PENDING)).expect("again");
        assert_eq!(count(&c, "did:plc:a", PENDING).expect("count"), 1);
        assert_eq!(devices_of(&c, "did:plc:a", false).expect("list").len(), 1);
        assert_eq!(devices_of(&c, "did:plc:a", true).expect("list").len(), 2);
    }

    #[test]
    fn nonces_are_single_use_and_expire() {
        let c = db();
        insert_nonce(&c, "n1", "2999-01-01T00:00:00.000Z").expect("insert");
        insert_nonce(&c, "n2", "2000-01-01T00:00:00.000Z").expect("insert");
        let now = "2024-01-01T00:00:00.000Z";
        assert!(consume_nonce(&c, "n1", now).expect("use"));
        assert!(!consume_nonce(&c, "n1", now).expect("reuse"));
        assert!(!consume_nonce(&c, "n2", now).expect("expired"));
        assert!(!consume_nonce(&c, "never", now).expect("unknown"));
        assert_eq!(prune_nonces(&c, now).expect("prune"), 0);
    }

    #[test]
    fn deleting_an_account_takes_its_devices_and_keys() {
        let c = db();
        insert_device(&c, &row("d1", "did:key:x", ACTIVE)).expect("device");
        set_repo_host(&c, "did:plc:a", "d1", "now").expect("host");
        insert_key(
            &c,
            &RelayKeyRow {
                did: "did:plc:a".into(),
                key_id: "k1".into(),
                public_key: "did:key:k".into(),
                status: KEY_CURRENT.into(),
                sealed: None,
                created_at: "now".into(),
                retired_at: None,
                revoked_at: None,
            },
        )
        .expect("key");
        c.execute("DELETE FROM account WHERE did = 'did:plc:a'", [])
            .expect("delete");
        assert!(device(&c, "d1").expect("q").is_none());
        assert!(repo_host(&c, "did:plc:a").expect("q").is_none());
        assert!(keys_of(&c, "did:plc:a").expect("q").is_empty());
    }
}
