//! Device-to-device transfer with handover of the repo-host lease (`/v1/transfer/*`).
//!
//! - [`initiate`]: an enrolled device asks for a transfer; the relay makes a six-word
//!   code (`pds::secret::TransferCode`), keeps only its keyed hash (HMAC with a server
//!   secret sealed in `server_secret`), and hands the code out once. It expires after
//!   `devices.transfer_code_ttl_secs` (10 minutes by default).
//! - [`accept`]: the new device names the account and submits the code with its P-256
//!   key. A right code works once: the new device is recorded pending and the transfer
//!   becomes `accepted`. A wrong code counts against the account's waiting transfers,
//!   which lock after `devices.transfer_max_attempts` (5) wrong guesses; a locked,
//!   expired or used code is refused even when it is right.
//! - [`complete`]: the device that started the transfer confirms; the new device becomes
//!   active, takes the repo-host lease if the old device held it (a desktop only), and the
//!   old device is removed when asked. The rotation log says `transfer_completed`.
//!
//! The code itself is never stored or logged; only the device that asked sees it.

use super::ServiceError;
use crate::context::AppState;
use crate::store::{self, accounts, devices, escrow, transfer};
use pds::secret::{CodeHash, TransferCode, TransferKey};
use zeroize::Zeroizing;

const KEY_NAME: &str = "transfer-code-key";

/// The server key that hashes transfer codes: made once, stored sealed.
async fn code_key(state: &AppState) -> Result<TransferKey, ServiceError> {
    let existing = state.db.read(|c| transfer::secret(c, KEY_NAME)).await?;
    let sealed = match existing {
        Some(s) => s,
        None => {
            let fresh = Zeroizing::new(crate::keys::random_bytes::<32>()?);
            let sealed = state.kek.seal(KEY_NAME, fresh.as_slice())?;
            state
                .db
                .write(move |tx| transfer::secret_or_insert(tx.conn(), KEY_NAME, &sealed))
                .await?
        }
    };
    let plain = state.kek.open(KEY_NAME, &sealed)?;
    let bytes: [u8; 32] = plain
        .as_slice()
        .try_into()
        .map_err(|_| ServiceError::internal("the transfer-code key is not 32 bytes"))?;
    Ok(TransferKey::from_bytes(bytes))
}

fn expired(row: &transfer::TransferRow) -> bool {
    row.expires_at.as_str() <= store::now().as_str()
}

/// A started transfer and its code (shown once).
#[derive(Debug)]
pub struct Started {
    pub id: String,
    pub code: TransferCode,
    pub expires_at: String,
}

/// Start a transfer from `from` (an active device).
pub async fn initiate(
    state: &AppState,
    from: &devices::DeviceRow,
) -> Result<Started, ServiceError> {
    let key = code_key(state).await?;
    let code = TransferCode::generate().map_err(ServiceError::internal)?;
    let id = format!(
        "xfer-{}",
        crate::keys::random_bytes::<10>()?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let row = transfer::TransferRow {
        id: id.clone(),
        did: from.did.clone(),
        from_device: from.id.clone(),
        code_hash: code.hash(&key).to_string(),
        status: transfer::PENDING.into(),
        attempts: 0,
        created_at: store::now(),
        expires_at: store::in_secs(state.config.devices.transfer_code_ttl_secs.min(86_400) as i64),
        new_device: None,
        accepted_at: None,
        completed_at: None,
    };
    let expires_at = row.expires_at.clone();
    state
        .db
        .write(move |tx| transfer::insert(tx.conn(), &row))
        .await?;
    Ok(Started {
        id,
        code,
        expires_at,
    })
}

/// What the new device brings.
#[derive(Debug, Clone)]
pub struct Joining {
    /// The account (DID or handle) the device joins.
    pub account: String,
    pub name: String,
    pub platform: String,
    pub key: pds::crypto::PublicKey,
}

fn invalid_code(left: u32) -> ServiceError {
    ServiceError::Named(
        "InvalidTransferCode",
        format!(
            "that transfer code is not the one shown on the other device ({left} tr{} left \
             before the transfer locks)",
            if left == 1 { "y" } else { "ies" }
        ),
    )
}

fn locked() -> ServiceError {
    ServiceError::Named(
        "TransferLocked",
        "too many wrong codes: this transfer is locked; start a new one on the other device".into(),
    )
}

/// Submit `code` for `joining`. Returns the transfer and the pending device.
pub async fn accept(
    state: &AppState,
    code_text: &str,
    joining: Joining,
) -> Result<(transfer::TransferRow, devices::DeviceRow), ServiceError> {
    let account = super::repo::find_account(state, &joining.account).await?;
    super::repo::require_active(&account)?;
    let code = TransferCode::parse(code_text)
        .map_err(|e| ServiceError::Named("InvalidTransferCode", e.to_string()))?;
    let key = code_key(state).await?;
    let hash: CodeHash = code.hash(&key);
    drop(code);
    let max = state.config.devices.transfer_max_attempts.max(1);
    let (did, h) = (account.did.clone(), hash.to_string());
    let outcome = state
        .db
        .write(move |tx| -> Result<Accepting, ServiceError> {
            let conn = tx.conn();
            let found = transfer::by_hash(conn, &h)?.filter(|t| t.did == did);
            let Some(t) = found else {
                // A wrong guess counts against every transfer of this account that waits.
                let waiting = transfer::pending_of(conn, &did)?;
                if waiting.is_empty() {
                    return Err(ServiceError::Named(
                        "InvalidTransferCode",
                        "no transfer of this account waits for a code; start one on the other \
                         device"
                            .into(),
                    ));
                }
                let mut left = max;
                for w in &waiting {
                    let n = transfer::count_wrong_guess(conn, &w.id, max)?;
                    left = left.min(max.saturating_sub(n));
                }
                // Answered Ok so that the counts are committed; refused below.
                return Ok(Accepting::WrongGuess { left });
            };
            match t.status.as_str() {
                transfer::PENDING if expired(&t) => Err(ServiceError::Named(
                    "TransferCodeExpired",
                    "this transfer code expired; start a new transfer on the other device".into(),
                )),
                transfer::PENDING => {
                    let device = insert_pending(conn, &did, &joining)?;
                    let now = store::now();
                    if !transfer::accept(conn, &t.id, &device.id, &now)? {
                        return Err(used());
                    }
                    let t = transfer::get(conn, &t.id)?.unwrap_or(t);
                    Ok(Accepting::Accepted(Box::new((t, device))))
                }
                transfer::LOCKED => Err(locked()),
                transfer::ACCEPTED | transfer::COMPLETED => Err(used()),
                other => Err(ServiceError::internal(format!("transfer status {other}"))),
            }
        })
        .await?;
    match outcome {
        Accepting::Accepted(done) => Ok(*done),
        Accepting::WrongGuess { left: 0 } => Err(locked()),
        Accepting::WrongGuess { left } => Err(invalid_code(left)),
    }
}

/// What one accept did inside its transaction.
enum Accepting {
    Accepted(Box<(transfer::TransferRow, devices::DeviceRow)>),
    WrongGuess { left: u32 },
}

fn used() -> ServiceError {
    ServiceError::Named(
        "TransferCodeUsed",
        "this transfer code was already used; start a new transfer on the other device".into(),
    )
}

/// Record the joining device as pending (no pairing code: the transfer approves it).
fn insert_pending(
    conn: &rusqlite::Connection,
    did: &str,
    joining: &Joining,
) -> Result<devices::DeviceRow, ServiceError> {
    let key = joining.key.to_did_key();
    if devices::live_by_key(conn, &key)?.is_some() {
        return Err(ServiceError::Named(
            "DeviceKeyInUse",
            "this key is already enrolled (or waiting for approval); a device key is enrolled once"
                .into(),
        ));
    }
    let row = devices::DeviceRow {
        id: format!(
            "dev-{}",
            crate::keys::random_bytes::<10>()?
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ),
        did: did.to_string(),
        name: joining.name.clone(),
        platform: joining.platform.clone(),
        public_key: key,
        status: devices::PENDING.into(),
        pairing_code: None,
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
}

/// What completing did.
#[derive(Debug, Clone)]
pub struct Completed {
    pub transfer: transfer::TransferRow,
    pub device: devices::DeviceRow,
    /// Whether the repo-host lease moved to the new device.
    pub lease_moved: bool,
    /// Whether the old device was removed.
    pub old_removed: bool,
}

/// The device that started transfer `id` confirms it.
pub async fn complete(
    state: &AppState,
    by: &devices::DeviceRow,
    id: &str,
    remove_old: bool,
) -> Result<Completed, ServiceError> {
    let st = state.clone();
    let (by, id) = (by.clone(), id.to_string());
    let done = state
        .db
        .write(move |tx| -> Result<Completed, ServiceError> {
            let conn = tx.conn();
            let t = match transfer::get(conn, &id)? {
                Some(t) if t.did == by.did => t,
                _ => {
                    return Err(ServiceError::Named(
                        "TransferNotFound",
                        format!("no transfer {id} on this account"),
                    ));
                }
            };
            if t.from_device != by.id {
                return Err(ServiceError::Forbidden(format!(
                    "only the device that started transfer {id} ({}) can complete it",
                    t.from_device
                )));
            }
            match t.status.as_str() {
                transfer::ACCEPTED => {}
                transfer::PENDING if expired(&t) => {
                    return Err(ServiceError::Named(
                        "TransferCodeExpired",
                        "nobody entered the code in time; start a new transfer".into(),
                    ));
                }
                transfer::PENDING => {
                    return Err(ServiceError::Named(
                        "TransferNotAccepted",
                        "the new device has not entered the code yet".into(),
                    ));
                }
                transfer::LOCKED => return Err(locked()),
                _ => return Err(used()),
            }
            let new_id = t
                .new_device
                .clone()
                .ok_or_else(|| ServiceError::internal("accepted transfer without a device"))?;
            let new = match devices::device(conn, &new_id)? {
                Some(d) if d.status == devices::PENDING => d,
                _ => {
                    return Err(ServiceError::Named(
                        "TransferCodeExpired",
                        "the new device's request lapsed; start a new transfer".into(),
                    ));
                }
            };
            let now = store::now();
            let host = devices::repo_host(conn, &by.did)?;
            let was_host = host.as_ref().is_some_and(|(h, _)| *h == by.id);
            if remove_old {
                devices::remove(conn, &by.id, &now)?;
            }
            let account = accounts::by_did(conn, &by.did)?
                .ok_or_else(|| ServiceError::RepoNotFound(by.did.clone()))?;
            let max = super::blob::tier_limits(&st, &account).max_devices;
            if devices::count(conn, &by.did, devices::ACTIVE)? >= max {
                return Err(ServiceError::Named(
                    "DeviceLimitReached",
                    format!(
                        "the {} tier allows at most {max} devices; complete with removeOld, or \
                         remove a device first",
                        account.tier
                    ),
                ));
            }
            devices::activate(conn, &new.id, Some(&by.id), &now)?;
            let desktop = super::device::DESKTOP_PLATFORMS.contains(&new.platform.as_str());
            let lease_moved = was_host && desktop;
            if lease_moved {
                devices::set_repo_host(conn, &by.did, &new.id, &now)?;
            } else if was_host && remove_old {
                devices::clear_repo_host(conn, &by.did)?;
            }
            if !transfer::complete(conn, &t.id, &now)? {
                return Err(used());
            }
            escrow::append_log(
                conn,
                &by.did,
                &now,
                &escrow::NewLog {
                    event: "transfer_completed",
                    actor: by.id.clone(),
                    detail: Some(format!(
                        "device {} ({}) joined from {}{}{}",
                        new.id,
                        new.name,
                        by.id,
                        if lease_moved {
                            "; the repo-host lease moved to it"
                        } else {
                            ""
                        },
                        if remove_old {
                            "; the old device was removed"
                        } else {
                            ""
                        }
                    )),
                    ..Default::default()
                },
            )?;
            let device = devices::device(conn, &new.id)?.unwrap_or(new);
            let transfer = transfer::get(conn, &t.id)?.unwrap_or(t);
            Ok(Completed {
                transfer,
                device,
                lease_moved,
                old_removed: remove_old,
            })
        })
        .await?;
    Ok(done)
}

/// A transfer as its starting device sees it.
pub async fn status(
    state: &AppState,
    by: &devices::DeviceRow,
    id: &str,
) -> Result<transfer::TransferRow, ServiceError> {
    let i = id.to_string();
    match state.db.read(move |c| transfer::get(c, &i)).await? {
        Some(t) if t.did == by.did => Ok(t),
        _ => Err(ServiceError::Named(
            "TransferNotFound",
            format!("no transfer {id} on this account"),
        )),
    }
}
