//! Devices of the device API: enrolment (with an account session, at mobile sign-up, or
//! pending until an enrolled device pairs it), pairing, promotion of a desktop to repo
//! host, de-enrolment (which also takes the device's key out of the DID's rotation keys),
//! heartbeats and status, the operating mode, and the nonces device tokens carry.
//!
//! Decisions, and why:
//! - Device keys are P-256 only: the Secure Enclave's curve. secp256k1 is refused for
//!   devices (it stays fine for rotation and signing keys); Ed25519 is refused everywhere.
//! - A device enrolled with a full account session (the password) is active at once: the
//!   password already controls the account. Without a session (a mobile-only account has
//!   no password) the device waits as `pending` until an enrolled device approves it with
//!   the pairing code the new device shows, so the user compares one code on two screens.
//!   Pending enrolments expire after [`PENDING_TTL_SECS`], at most [`MAX_PENDING`] wait.
//! - "Online" for the repo host is: heard from (any authenticated request or heartbeat)
//!   within `devices.repo_host_timeout_secs`, and not signed off since. A desktop going
//!   to sleep signs off explicitly so the relay need not wait for the timeout.
//! - While the repo host is offline the relay refuses repo writes with 503
//!   ([`require_relay_writable`]): the desktop may hold local commits built on the head it
//!   knew, and a commit the relay built meanwhile would orphan them. While the host is
//!   online the relay still accepts XRPC writes (third-party apps keep working) and builds
//!   those commits itself on the shared head; the desktop follows the head with
//!   `pdsctl desktop sync`, and a commit it built on an old head is refused as stale and
//!   rebuilt on the new one. Reads always work.
//!
//! This module never parses HTTP; the device JWT is checked in `v1::auth`.

use super::ServiceError;
use crate::context::AppState;
use crate::store::{self, DbError, accounts, devices};
use devices::DeviceRow;
use pds::crypto::{CryptoError, Curve, PublicKey};

/// A pending enrolment is forgotten after this long.
pub const PENDING_TTL_SECS: i64 = 15 * 60;
/// At most this many enrolments of one account wait for approval at once.
pub const MAX_PENDING: u32 = 5;
/// A nonce is good for this long.
pub const NONCE_TTL_SECS: i64 = 5 * 60;
/// At most this many unused nonces are outstanding (protects the table).
pub const MAX_NONCES: u64 = 100_000;

/// The platforms a device may declare.
pub const PLATFORMS: [&str; 7] = [
    "ios", "ipados", "android", "macos", "linux", "windows", "other",
];
/// The platforms that can be the repo host.
pub const DESKTOP_PLATFORMS: [&str; 3] = ["macos", "linux", "windows"];

/// Parse a device's public key: a P-256 `did:key`, nothing else.
pub fn parse_device_key(did_key: &str) -> Result<PublicKey, ServiceError> {
    let key = PublicKey::from_did_key(did_key.trim()).map_err(|e| match e {
        CryptoError::UnsupportedKeyType(t) if t == "Ed25519" => ServiceError::Named(
            "UnsupportedKeyType",
            "Ed25519 keys are not accepted: a device key must be a P-256 did:key (did:key:zDn...)"
                .into(),
        ),
        other => ServiceError::Named(
            "InvalidDeviceKey",
            format!("device key: {other}; a device key must be a P-256 did:key (did:key:zDn...)"),
        ),
    })?;
    if key.curve() != Curve::P256 {
        return Err(ServiceError::Named(
            "UnsupportedKeyType",
            format!(
                "device keys must be P-256 (the Secure Enclave's curve), not {}",
                key.curve()
            ),
        ));
    }
    Ok(key)
}

/// Parse a rotation or signing key: a P-256 or secp256k1 `did:key`.
pub fn parse_rotation_key(field: &str, did_key: &str) -> Result<PublicKey, ServiceError> {
    PublicKey::from_did_key(did_key.trim()).map_err(|e| match e {
        CryptoError::UnsupportedKeyType(t) => ServiceError::Named(
            "UnsupportedKeyType",
            format!("{field}: {t} keys are not accepted; only P-256 and secp256k1 did:keys are"),
        ),
        other => ServiceError::invalid(format!("{field}: {other}")),
    })
}

/// Check a device name: 1 to 64 characters, no control characters.
pub fn check_name(name: &str) -> Result<String, ServiceError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 64 || n.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            "device name must be 1 to 64 characters without control characters",
        ));
    }
    Ok(n.to_string())
}

/// Check a platform name.
pub fn check_platform(platform: &str) -> Result<String, ServiceError> {
    let p = platform.trim().to_ascii_lowercase();
    if PLATFORMS.contains(&p.as_str()) {
        Ok(p)
    } else {
        Err(ServiceError::invalid(format!(
            "platform must be one of {}",
            PLATFORMS.join(", ")
        )))
    }
}

fn lower_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn new_device_id() -> Result<String, ServiceError> {
    Ok(format!(
        "dev-{}",
        lower_hex(&crate::keys::random_bytes::<10>()?)
    ))
}

/// A pairing code: 8 characters without look-alikes, shown as `XXXX-XXXX`.
fn new_pairing_code() -> Result<String, ServiceError> {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes = crate::keys::random_bytes::<8>()?;
    let chars: String = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    Ok(format!("{}-{}", &chars[..4], &chars[4..]))
}

fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Issue a nonce for one device token. Old nonces are dropped first.
pub async fn issue_nonce(state: &AppState) -> Result<(String, String), ServiceError> {
    let nonce = crate::auth::jwt::random_id();
    let expires = store::in_secs(NONCE_TTL_SECS);
    let (n, e) = (nonce.clone(), expires.clone());
    state
        .db
        .write(move |tx| -> Result<(), ServiceError> {
            let outstanding = devices::prune_nonces(tx.conn(), &store::now())?;
            if outstanding >= MAX_NONCES {
                return Err(ServiceError::Unavailable(
                    "RateLimitExceeded",
                    "too many unused nonces are outstanding; try again in a few minutes".into(),
                ));
            }
            devices::insert_nonce(tx.conn(), &n, &e)?;
            Ok(())
        })
        .await?;
    Ok((nonce, expires))
}

/// Use up a nonce and, for an enrolled device, note that it was heard from. False when
/// the nonce was unknown, used or expired.
pub async fn consume_nonce(
    state: &AppState,
    nonce: &str,
    device_id: Option<&str>,
) -> Result<bool, ServiceError> {
    let (n, d) = (nonce.to_string(), device_id.map(str::to_string));
    state
        .db
        .write(move |tx| -> Result<bool, ServiceError> {
            let now = store::now();
            let ok = devices::consume_nonce(tx.conn(), &n, &now)?;
            if ok && let Some(d) = &d {
                devices::touch(tx.conn(), d, &now)?;
            }
            Ok(ok)
        })
        .await
}

/// A device by id.
pub async fn find(state: &AppState, id: &str) -> Result<Option<DeviceRow>, ServiceError> {
    let id = id.to_string();
    Ok(state.db.read(move |c| devices::device(c, &id)).await?)
}

/// A device of `did` by id (removed ones too), or 404 `DeviceNotFound`.
pub async fn find_of(state: &AppState, did: &str, id: &str) -> Result<DeviceRow, ServiceError> {
    match find(state, id).await? {
        Some(d) if d.did == did => Ok(d),
        _ => Err(not_found(id)),
    }
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::Named("DeviceNotFound", format!("no device {id} on this account"))
}

fn tier_max_devices(state: &AppState, account: &accounts::AccountRow) -> u32 {
    super::blob::tier_limits(state, account).max_devices
}

fn device_limit_error(state: &AppState, account: &accounts::AccountRow) -> ServiceError {
    let max = tier_max_devices(state, account);
    ServiceError::Named(
        "DeviceLimitReached",
        format!(
            "the {} tier allows at most {max} device{}; remove one (DELETE /v1/devices/{{id}}) or change tier",
            account.tier,
            if max == 1 { "" } else { "s" }
        ),
    )
}

/// What a new device declares.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub did: String,
    pub name: String,
    pub platform: String,
    pub key: PublicKey,
}

/// Build the row of a device that is active at once (mobile sign-up), checking the tier
/// and that the key is not enrolled elsewhere. Runs inside the caller's transaction.
pub fn insert_active(
    state: &AppState,
    conn: &rusqlite::Connection,
    new: &NewDevice,
) -> Result<DeviceRow, ServiceError> {
    let account = accounts::by_did(conn, &new.did)?
        .ok_or_else(|| ServiceError::RepoNotFound(new.did.clone()))?;
    if devices::count(conn, &new.did, devices::ACTIVE)? >= tier_max_devices(state, &account) {
        return Err(device_limit_error(state, &account));
    }
    let key = new.key.to_did_key();
    if devices::live_by_key(conn, &key)?.is_some() {
        return Err(key_taken());
    }
    let now = store::now();
    let row = DeviceRow {
        id: new_device_id()?,
        did: new.did.clone(),
        name: new.name.clone(),
        platform: new.platform.clone(),
        public_key: key,
        status: devices::ACTIVE.into(),
        pairing_code: None,
        created_at: now.clone(),
        approved_at: Some(now.clone()),
        approved_by: None,
        removed_at: None,
        last_seen_at: Some(now),
        signed_off_at: None,
        firehose_cursor: None,
    };
    devices::insert_device(conn, &row)?;
    Ok(row)
}

fn key_taken() -> ServiceError {
    ServiceError::Named(
        "DeviceKeyInUse",
        "this key is already enrolled (or waiting for approval); a device key is enrolled once"
            .into(),
    )
}

/// Enrol a device: active at once when `with_session` (a full account session), else
/// pending with a pairing code.
pub async fn enrol(
    state: &AppState,
    new: NewDevice,
    with_session: bool,
) -> Result<DeviceRow, ServiceError> {
    let st = state.clone();
    state
        .db
        .write(move |tx| -> Result<DeviceRow, ServiceError> {
            let conn = tx.conn();
            let account = accounts::by_did(conn, &new.did)?
                .ok_or_else(|| ServiceError::RepoNotFound(new.did.clone()))?;
            super::repo::require_active(&account)?;
            devices::expire_pending(conn, &store::in_secs(-PENDING_TTL_SECS))?;
            if with_session {
                return insert_active(&st, conn, &new);
            }
            if devices::count(conn, &new.did, devices::ACTIVE)? >= tier_max_devices(&st, &account)
            {
                return Err(device_limit_error(&st, &account));
            }
            if devices::count(conn, &new.did, devices::PENDING)? >= MAX_PENDING {
                return Err(ServiceError::Named(
                    "TooManyPendingDevices",
                    format!(
                        "{MAX_PENDING} devices already wait for approval on this account; approve or let them expire ({} minutes)",
                        PENDING_TTL_SECS / 60
                    ),
                ));
            }
            let key = new.key.to_did_key();
            if devices::live_by_key(conn, &key)?.is_some() {
                return Err(key_taken());
            }
            let row = DeviceRow {
                id: new_device_id()?,
                did: new.did.clone(),
                name: new.name.clone(),
                platform: new.platform.clone(),
                public_key: key,
                status: devices::PENDING.into(),
                pairing_code: Some(new_pairing_code()?),
                created_at: store::now(),
                approved_at: None,
                approved_by: None,
                removed_at: None,
                last_seen_at: None,
                signed_off_at: None,
                firehose_cursor: None,
            };
            devices::insert_device(conn, &row)?;
            Ok(row)
        })
        .await
}

/// An enrolled device approves a pending one of the same account.
pub async fn pair(
    state: &AppState,
    approver: &DeviceRow,
    id: &str,
    code: &str,
) -> Result<DeviceRow, ServiceError> {
    let st = state.clone();
    let (approver_id, did, id, code) = (
        approver.id.clone(),
        approver.did.clone(),
        id.to_string(),
        normalise_code(code),
    );
    state
        .db
        .write(move |tx| -> Result<DeviceRow, ServiceError> {
            let conn = tx.conn();
            devices::expire_pending(conn, &store::in_secs(-PENDING_TTL_SECS))?;
            let target = match devices::device(conn, &id)? {
                Some(d) if d.did == did => d,
                _ => return Err(not_found(&id)),
            };
            if target.status == devices::ACTIVE {
                return Err(ServiceError::Named(
                    "DeviceNotPending",
                    format!("device {id} is already enrolled"),
                ));
            }
            if target.status != devices::PENDING {
                return Err(not_found(&id));
            }
            let expected = normalise_code(target.pairing_code.as_deref().unwrap_or(""));
            if expected.is_empty()
                || !crate::auth::constant_time_eq(expected.as_bytes(), code.as_bytes())
            {
                return Err(ServiceError::Named(
                    "InvalidPairingCode",
                    "the pairing code does not match the one the new device shows".into(),
                ));
            }
            let account = accounts::by_did(conn, &did)?
                .ok_or_else(|| ServiceError::RepoNotFound(did.clone()))?;
            if devices::count(conn, &did, devices::ACTIVE)? >= tier_max_devices(&st, &account) {
                return Err(device_limit_error(&st, &account));
            }
            devices::activate(conn, &id, Some(&approver_id), &store::now())?;
            devices::device(conn, &id)?.ok_or_else(|| not_found(&id))
        })
        .await
}

/// Make a desktop the account's repo host.
pub async fn promote(
    state: &AppState,
    by: &DeviceRow,
    id: &str,
) -> Result<DeviceRow, ServiceError> {
    let (did, id) = (by.did.clone(), id.to_string());
    state
        .db
        .write(move |tx| -> Result<DeviceRow, ServiceError> {
            let conn = tx.conn();
            let target = match devices::device(conn, &id)? {
                Some(d) if d.did == did && d.status == devices::ACTIVE => d,
                Some(d) if d.did == did && d.status == devices::PENDING => {
                    return Err(ServiceError::Named(
                        "DevicePending",
                        format!("device {id} is waiting for approval; pair it first"),
                    ));
                }
                _ => return Err(not_found(&id)),
            };
            if !DESKTOP_PLATFORMS.contains(&target.platform.as_str()) {
                return Err(ServiceError::Named(
                    "NotADesktop",
                    format!(
                        "only a desktop ({}) can be the repo host; device {id} is {}",
                        DESKTOP_PLATFORMS.join(", "),
                        target.platform
                    ),
                ));
            }
            devices::set_repo_host(conn, &did, &id, &store::now())?;
            Ok(target)
        })
        .await
}

/// What de-enrolling did.
#[derive(Debug, Clone)]
pub struct Removed {
    pub device: DeviceRow,
    /// Whether the device had been the repo host (the account is mobile-only now).
    pub was_repo_host: bool,
    /// What happened to the key in the DID's rotation keys.
    pub rotation_keys: RotationKeyRemoval,
}

/// The device key's place in the DID's rotation keys after de-enrolment.
#[derive(Debug, Clone)]
pub enum RotationKeyRemoval {
    /// The key was not a rotation key.
    NotPresent,
    /// A PLC update signed by the relay's rotation key removed it.
    Removed { operation: pds::identity::SignedOp },
    /// The relay could not remove it (e.g. its own key is no longer a rotation key); the
    /// user's key must sign the change (`POST /v1/dids/{did}/rotate`).
    NeedsUserSignature(String),
}

/// De-enrol a device: its key stops authenticating at once, it stops being the repo host,
/// and its key leaves the DID's rotation keys.
pub async fn remove(state: &AppState, did: &str, id: &str) -> Result<Removed, ServiceError> {
    let (d, i) = (did.to_string(), id.to_string());
    let (device, was_repo_host) = state
        .db
        .write(move |tx| -> Result<(DeviceRow, bool), ServiceError> {
            let conn = tx.conn();
            let device = match devices::device(conn, &i)? {
                Some(dev) if dev.did == d && dev.status != devices::REMOVED => dev,
                _ => return Err(not_found(&i)),
            };
            let host = devices::repo_host(conn, &d)?;
            let was_host = host.as_ref().is_some_and(|(h, _)| *h == i);
            if was_host {
                devices::clear_repo_host(conn, &d)?;
            }
            devices::remove(conn, &i, &store::now())?;
            Ok((device, was_host))
        })
        .await?;
    let rotation_keys = if did.starts_with("did:plc:") && device.status == devices::ACTIVE {
        remove_rotation_key(state, did, &device.public_key).await
    } else {
        RotationKeyRemoval::NotPresent
    };
    Ok(Removed {
        device,
        was_repo_host,
        rotation_keys,
    })
}

async fn remove_rotation_key(state: &AppState, did: &str, key: &str) -> RotationKeyRemoval {
    let last = match super::identity::last_op(state, did).await {
        Ok(op) => op,
        Err(e) => return RotationKeyRemoval::NeedsUserSignature(e.to_string()),
    };
    let current = last.op.rotation_keys();
    if !current.iter().any(|k| k == key) {
        return RotationKeyRemoval::NotPresent;
    }
    let mut remaining = Vec::new();
    for k in current.iter().filter(|k| *k != key) {
        match PublicKey::from_did_key(k) {
            Ok(pk) => remaining.push(pk),
            Err(e) => return RotationKeyRemoval::NeedsUserSignature(e.to_string()),
        }
    }
    match super::identity::relay_update(state, did, move |b| Ok(b.rotation_keys(&remaining))).await
    {
        Ok(operation) => {
            if let Err(e) = super::account::announce_identity(state, did).await {
                tracing::warn!(error = %e, "could not sequence #identity after a rotation-key removal");
            }
            RotationKeyRemoval::Removed { operation }
        }
        Err(e) => RotationKeyRemoval::NeedsUserSignature(e.to_string()),
    }
}

/// Parse a stored time.
fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// Whether a device counts as online now.
pub fn is_online(state: &AppState, device: &DeviceRow) -> bool {
    if device.status != devices::ACTIVE || device.signed_off_at.is_some() {
        return false;
    }
    let timeout =
        chrono::Duration::seconds(state.config.devices.repo_host_timeout_secs.min(1 << 40) as i64);
    device
        .last_seen_at
        .as_deref()
        .and_then(parse_time)
        .is_some_and(|seen| chrono::Utc::now() - seen <= timeout)
}

/// The account's operating mode.
#[derive(Debug, Clone)]
pub struct Mode {
    /// The repo-host desktop, if one was promoted, and whether it is online.
    pub repo_host: Option<(DeviceRow, bool)>,
}

impl Mode {
    /// `mobile-only` or `desktop-enrolled`.
    pub fn name(&self) -> &'static str {
        if self.repo_host.is_some() {
            "desktop-enrolled"
        } else {
            "mobile-only"
        }
    }
    /// Whether the relay accepts repo writes now.
    pub fn writable(&self) -> bool {
        self.repo_host.as_ref().is_none_or(|(_, online)| *online)
    }
}

/// The operating mode of `did`, read on `conn`.
pub fn mode_on(state: &AppState, conn: &rusqlite::Connection, did: &str) -> Result<Mode, DbError> {
    let Some((host_id, _)) = devices::repo_host(conn, did)? else {
        return Ok(Mode { repo_host: None });
    };
    Ok(Mode {
        repo_host: devices::device(conn, &host_id)?.map(|d| {
            let online = is_online(state, &d);
            (d, online)
        }),
    })
}

/// The operating mode of `did`.
pub async fn mode(state: &AppState, did: &str) -> Result<Mode, ServiceError> {
    let (st, d) = (state.clone(), did.to_string());
    Ok(state.db.read(move |c| mode_on(&st, c, &d)).await?)
}

/// Refuse repo writes the relay would build itself while the repo-host desktop is
/// offline (see the module documentation). Runs in the writer's transaction.
pub fn require_relay_writable(
    state: &AppState,
    conn: &rusqlite::Connection,
    did: &str,
) -> Result<(), ServiceError> {
    let mode = mode_on(state, conn, did)?;
    match &mode.repo_host {
        Some((host, false)) => Err(ServiceError::Unavailable(
            "RepoHostOffline",
            format!(
                "this account's repo is hosted on the desktop \"{}\" ({}), which is offline (last seen {}); \
                 writes resume when it is back online, reads keep working",
                host.name,
                host.id,
                host.last_seen_at.as_deref().unwrap_or("never")
            ),
        )),
        _ => Ok(()),
    }
}

/// The devices of an account (pending and active).
pub async fn list(state: &AppState, did: &str) -> Result<Vec<DeviceRow>, ServiceError> {
    let d = did.to_string();
    Ok(state
        .db
        .write(move |tx| -> Result<Vec<DeviceRow>, DbError> {
            devices::expire_pending(tx.conn(), &store::in_secs(-PENDING_TTL_SECS))?;
            devices::devices_of(tx.conn(), &d, false)
        })
        .await?)
}

/// A heartbeat: the device is online, or (`sleeping`) is about to go offline.
pub async fn heartbeat(
    state: &AppState,
    device: &DeviceRow,
    sleeping: bool,
) -> Result<DeviceRow, ServiceError> {
    let id = device.id.clone();
    state
        .db
        .write(move |tx| -> Result<DeviceRow, ServiceError> {
            let now = store::now();
            if sleeping {
                devices::sign_off(tx.conn(), &id, &now)?;
            } else {
                devices::touch(tx.conn(), &id, &now)?;
            }
            devices::device(tx.conn(), &id)?.ok_or_else(|| not_found(&id))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_keys_are_p256_only() {
        let p = pds::crypto::Keypair::generate(Curve::P256);
        assert!(parse_device_key(&p.did_key()).is_ok());
        let k = pds::crypto::Keypair::generate(Curve::Secp256k1);
        let err = parse_device_key(&k.did_key()).expect_err("secp256k1 device key");
        assert!(err.to_string().contains("P-256"), "{err}");
        // An Ed25519 did:key (multicodec 0xed): refused by name.
        let ed = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
        let err = parse_device_key(ed).expect_err("ed25519");
        assert!(matches!(err, ServiceError::Named("UnsupportedKeyType", _)));
        assert!(err.to_string().contains("Ed25519"), "{err}");
        assert!(err.to_string().contains("P-256"), "{err}");
        let err = parse_rotation_key("rotationKey", ed).expect_err("ed25519 rotation key");
        assert!(err.to_string().contains("Ed25519"), "{err}");
        assert!(parse_rotation_key("rotationKey", &k.did_key()).is_ok());
    }

    #[test]
    fn pairing_codes_compare_loosely() {
        let code = new_pairing_code().expect("code");
        assert_eq!(code.len(), 9);
        assert_eq!(normalise_code(&code.to_lowercase()), normalise_code(&code));
        assert_eq!(
            normalise_code(&code.replace('-', " ")),
            normalise_code(&code)
        );
    }

    #[test]
    fn names_and_platforms_are_checked() {
        assert!(check_name("Anna's iPhone").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a\u{0}b").is_err());
        assert!(check_name(&"x".repeat(65)).is_err());
        assert_eq!(check_platform("macOS").expect("macos"), "macos");
        assert!(check_platform("amiga").is_err());
    }
}
