//! Relay escrow of Share 2 of the user's rotation key, and the rotation log
//! (`PUT /v1/keys/shares/{id}`, `GET /v1/keys/shares/{id}`, `GET /v1/keys/rotation-log`).
//!
//! The rules, from DESIGN.md:
//! - the relay holds at most one share per account, and never two shares of one split:
//!   a share of the set it already holds is refused unless it is the very same share, and
//!   a share of another set replaces the held one only when its epoch is newer (a
//!   re-split); every store is logged (`split`, `resplit`);
//! - a share is accepted only for a rotation key that the DID's current PLC operation
//!   lists in rotationKeys, so the relay never escrows a share of a key that cannot act;
//! - the share is released only to someone who proved control of the account with its
//!   password (checked by the caller, `v1::keys::get_share`), every release is logged
//!   (`share_released`, and `share_release_refused` for a wrong password), and the
//!   account is told by e-mail when it has an address.
//!
//! The share is parsed with `pds::secret::Share` (which checks its checksum) and stored
//! sealed with the key-encryption key; it is never logged. This module does not combine
//! shares: the relay cannot rebuild the key from what it holds.

use super::ServiceError;
use crate::context::AppState;
use crate::store::{self, escrow};
use pds::secret::Share;
use zeroize::Zeroizing;

/// How a caller is named in the rotation log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An enrolled device (its id).
    Device(String),
    /// An account session.
    Session,
    /// Someone who presented the account password.
    Password,
    /// Someone who proved the rotation key (recovery).
    RotationKey,
}

impl Actor {
    /// The form stored in the log.
    pub fn label(&self) -> String {
        match self {
            Actor::Device(id) => id.clone(),
            Actor::Session => "session".into(),
            Actor::Password => "password".into(),
            Actor::RotationKey => "rotation-key".into(),
        }
    }
}

/// What the relay holds for an account (no share value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub set_id: String,
    pub epoch: u32,
    pub share_index: u8,
    pub rotation_key: String,
    pub stored_at: String,
}

impl From<&escrow::ShareRow> for Held {
    fn from(r: &escrow::ShareRow) -> Self {
        Held {
            set_id: r.set_id.clone(),
            epoch: r.epoch,
            share_index: r.share_index,
            rotation_key: r.rotation_key.clone(),
            stored_at: r.stored_at.clone(),
        }
    }
}

/// What a store did.
#[derive(Debug, Clone)]
pub struct Stored {
    pub held: Held,
    /// The set the new share replaced, if any.
    pub replaced: Option<String>,
    /// False when the very same share was already held (nothing changed).
    pub changed: bool,
}

fn seal_label(did: &str) -> String {
    format!("escrow-share:{did}")
}

/// The rotation keys the DID's latest PLC operation lists.
pub async fn current_rotation_keys(
    state: &AppState,
    did: &str,
) -> Result<Vec<String>, ServiceError> {
    if !did.starts_with("did:plc:") {
        return Err(ServiceError::invalid(
            "only did:plc identities have rotation keys to back up",
        ));
    }
    let last = super::identity::last_op(state, did).await?;
    if last.is_tombstone() {
        return Err(ServiceError::Named(
            "DidTombstoned",
            format!("{did} was tombstoned at the PLC directory"),
        ));
    }
    Ok(last.op.rotation_keys())
}

/// Store `text` (a `pds-share-v1:` share of set `set_id`) as `did`'s escrowed share.
pub async fn put_share(
    state: &AppState,
    did: &str,
    set_id: &str,
    text: &str,
    actor: &Actor,
) -> Result<Stored, ServiceError> {
    let share = Share::from_text(text)
        .map_err(|e| ServiceError::Named("InvalidShare", format!("the share: {e}")))?;
    let share_set = share.set_id().to_string();
    if share_set != set_id.trim() {
        return Err(ServiceError::Named(
            "InvalidShare",
            format!("the share belongs to set {share_set}, but the path names {set_id}"),
        ));
    }
    let key = share.did_key();
    let keys = current_rotation_keys(state, did).await?;
    if !keys.contains(&key) {
        return Err(ServiceError::Named(
            "RotationKeyNotInDid",
            format!(
                "the share protects {key}, which is not one of the rotation keys of {did}; \
                 add the key to rotationKeys before backing it up"
            ),
        ));
    }
    if key == state.relay_rotation_key.did_key() {
        return Err(ServiceError::Named(
            "InvalidShare",
            "a share of this relay's own rotation key makes no sense".into(),
        ));
    }
    let sealed = state.kek.seal(&seal_label(did), text.trim().as_bytes())?;
    let st = state.clone();
    let (d, actor_label) = (did.to_string(), actor.label());
    let row = escrow::ShareRow {
        did: did.to_string(),
        set_id: share_set.clone(),
        epoch: share.epoch(),
        share_index: share.index(),
        rotation_key: key,
        sealed,
        stored_at: store::now(),
        stored_by: actor_label.clone(),
    };
    drop(share);
    state
        .db
        .write(move |tx| -> Result<Stored, ServiceError> {
            let conn = tx.conn();
            let held = escrow::share(conn, &d)?;
            let mut replaced = None;
            if let Some(h) = &held {
                if h.set_id == row.set_id {
                    let same = h.share_index == row.share_index && {
                        let old = st.kek.open(&seal_label(&d), &h.sealed)?;
                        let new = st.kek.open(&seal_label(&d), &row.sealed)?;
                        crate::auth::constant_time_eq(&old, &new)
                    };
                    if same {
                        return Ok(Stored {
                            held: Held::from(h),
                            replaced: None,
                            changed: false,
                        });
                    }
                    return Err(ServiceError::Named(
                        "ShareConflict",
                        format!(
                            "this relay already holds share {} of set {}; it never holds two \
                             shares of one backup",
                            h.share_index, h.set_id
                        ),
                    ));
                }
                if row.epoch <= h.epoch {
                    return Err(ServiceError::Named(
                        "StaleShare",
                        format!(
                            "the held share (set {}) is of epoch {}; a replacement must be of a \
                             newer epoch, not {}",
                            h.set_id, h.epoch, row.epoch
                        ),
                    ));
                }
                replaced = Some(h.set_id.clone());
            }
            // A set this relay held once and let go of never comes back.
            let seen = escrow::log_of(conn, &d)?
                .iter()
                .any(|l| l.set_id.as_deref() == Some(row.set_id.as_str()));
            if seen {
                return Err(ServiceError::Named(
                    "ShareConflict",
                    format!(
                        "set {} was held here before; this relay never holds two shares of one backup",
                        row.set_id
                    ),
                ));
            }
            escrow::put_share(conn, &row)?;
            escrow::append_log(
                conn,
                &d,
                &row.stored_at,
                &escrow::NewLog {
                    event: if replaced.is_some() { "resplit" } else { "split" },
                    set_id: Some(row.set_id.clone()),
                    epoch: Some(row.epoch),
                    share_index: Some(row.share_index),
                    rotation_key: Some(row.rotation_key.clone()),
                    actor: actor_label,
                    detail: replaced
                        .as_ref()
                        .map(|s| format!("replaces the share of set {s}")),
                },
            )?;
            Ok(Stored {
                held: Held::from(&row),
                replaced,
                changed: true,
            })
        })
        .await
}

/// Note a release refused for a wrong password.
pub async fn refuse_release(state: &AppState, did: &str, why: &str) -> Result<(), ServiceError> {
    let (d, why) = (did.to_string(), why.to_string());
    state
        .db
        .write(move |tx| -> Result<(), ServiceError> {
            escrow::append_log(
                tx.conn(),
                &d,
                &store::now(),
                &escrow::NewLog {
                    event: "share_release_refused",
                    actor: Actor::Password.label(),
                    detail: Some(why),
                    ..Default::default()
                },
            )?;
            Ok(())
        })
        .await
}

/// Release `did`'s escrowed share to a caller who proved control of the account (the
/// caller checked the password). `set_id` is the set asked for, or `current`.
pub async fn release_share(
    state: &AppState,
    did: &str,
    set_id: &str,
    actor: &Actor,
) -> Result<(Held, Zeroizing<String>), ServiceError> {
    let d = did.to_string();
    let row = state
        .db
        .read(move |c| escrow::share(c, &d))
        .await?
        .ok_or_else(|| {
            ServiceError::Named(
                "ShareNotFound",
                format!("this relay holds no share for {did}"),
            )
        })?;
    if set_id != "current" && set_id.trim() != row.set_id {
        return Err(ServiceError::Named(
            "ShareNotFound",
            format!(
                "this relay holds a share of set {}, not of {set_id} (that backup was replaced)",
                row.set_id
            ),
        ));
    }
    let plain = state.kek.open(&seal_label(did), &row.sealed)?;
    let text = Zeroizing::new(
        String::from_utf8(plain.to_vec())
            .map_err(|_| ServiceError::internal("an escrowed share is not text"))?,
    );
    let (d, actor_label, held) = (did.to_string(), actor.label(), Held::from(&row));
    let logged = held.clone();
    state
        .db
        .write(move |tx| -> Result<(), ServiceError> {
            escrow::append_log(
                tx.conn(),
                &d,
                &store::now(),
                &escrow::NewLog {
                    event: "share_released",
                    set_id: Some(logged.set_id.clone()),
                    epoch: Some(logged.epoch),
                    share_index: Some(logged.share_index),
                    rotation_key: Some(logged.rotation_key.clone()),
                    actor: actor_label,
                    detail: None,
                },
            )?;
            Ok(())
        })
        .await?;
    notify(
        state,
        did,
        "Your recovery share was released",
        &format!(
            "The share of your identity's rotation key that this server keeps (set {}) was \
             released to someone who signed in with your password. If this was not you, \
             change your password now and make a new backup (pdsctl backup rotate).",
            held.set_id
        ),
    )
    .await;
    Ok((held, text))
}

/// The rotation log of `did`, and what the relay holds now.
pub async fn rotation_log(
    state: &AppState,
    did: &str,
) -> Result<(Vec<escrow::LogRow>, Option<Held>), ServiceError> {
    let d = did.to_string();
    let (log, row) = state
        .db
        .read(move |c| -> Result<_, store::DbError> {
            Ok((escrow::log_of(c, &d)?, escrow::share(c, &d)?))
        })
        .await?;
    Ok((log, row.as_ref().map(Held::from)))
}

/// Tell the account by e-mail, when it has an address and the server can send; a
/// failure to tell is logged, never fatal (the rotation log is the record).
pub async fn notify(state: &AppState, did: &str, subject: &str, body: &str) {
    let d = did.to_string();
    let email = match state.db.read(move |c| store::accounts::by_did(c, &d)).await {
        Ok(Some(a)) => a.email,
        _ => None,
    };
    if let Some(to) = email
        && let Err(e) = super::mail::send(state, &to, subject, body)
    {
        tracing::info!(did, error = %e, "could not e-mail a key notice");
    }
}
