//! Per-account relay signing keys: the `#atproto` key the relay signs commits with, its
//! rotation to a fresh key, and revocation.
//!
//! The account row keeps the one sealed key that signs (so `services::repo` and service
//! auth need not know about this module); `relay_signing_key` keeps the public history.
//! A rotation is: seal the new key into a `pending` row (one per account at a time, so two
//! rotations cannot interleave), publish it with a PLC update signed by the relay's
//! rotation key, then in one transaction make it the account's key, retire the old one
//! (its private half is destroyed), drop the writer's cached key and sequence `#identity`.
//! Commits made in the instant between the PLC update and that transaction are signed by
//! the old key; relays resolve the DID again on `#identity` and then see the new key.
//! Revoking the current key rotates first, so a revoked key is never in the DID document.

use super::ServiceError;
use crate::context::AppState;
use crate::firehose::sequencer::{self, Pending};
use crate::store::{self, accounts, devices};
use devices::RelayKeyRow;
use pds::crypto::{Curve, Keypair};
use pds::identity::SignedOp;
use sha2::{Digest, Sha256};

/// A pending row older than this is a rotation that died half-way; it is dropped.
const STALE_PENDING_SECS: i64 = 10 * 60;

/// The id of a relay key: 16 hex digits of the SHA-256 of its `did:key`.
pub fn key_id(did_key: &str) -> String {
    Sha256::digest(did_key.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn sealing_label(did: &str, key_id: &str) -> String {
    format!("pending-signing-key:{did}:{key_id}")
}

/// Make sure the account's current key has its history row (accounts made before the
/// device API, or by `com.atproto.server.createAccount`, have none yet).
fn ensure_current_row(
    state: &AppState,
    conn: &rusqlite::Connection,
    account: &accounts::AccountRow,
) -> Result<RelayKeyRow, ServiceError> {
    let key = state.kek.open_keypair(
        &super::repo::signing_key_label(&account.did),
        &account.signing_key,
    )?;
    let public = key.did_key();
    let id = key_id(&public);
    if let Some(row) = devices::key(conn, &account.did, &id)? {
        return Ok(row);
    }
    let row = RelayKeyRow {
        did: account.did.clone(),
        key_id: id,
        public_key: public,
        status: devices::KEY_CURRENT.into(),
        sealed: None,
        created_at: account.created_at.clone(),
        retired_at: None,
        revoked_at: None,
    };
    devices::insert_key(conn, &row)?;
    Ok(row)
}

/// The account's relay keys, newest first (the current one included).
pub async fn list(state: &AppState, did: &str) -> Result<Vec<RelayKeyRow>, ServiceError> {
    let (st, d) = (state.clone(), did.to_string());
    state
        .db
        .write(move |tx| -> Result<Vec<RelayKeyRow>, ServiceError> {
            let account = accounts::by_did(tx.conn(), &d)?
                .ok_or_else(|| ServiceError::RepoNotFound(d.clone()))?;
            ensure_current_row(&st, tx.conn(), &account)?;
            Ok(devices::keys_of(tx.conn(), &d)?)
        })
        .await
}

/// A finished rotation.
#[derive(Debug, Clone)]
pub struct Rotated {
    pub new: RelayKeyRow,
    pub old: RelayKeyRow,
    pub operation: SignedOp,
}

/// Generate a new signing key on `curve`, publish it as `#atproto` and sign later
/// commits with it.
pub async fn rotate(state: &AppState, did: &str, curve: Curve) -> Result<Rotated, ServiceError> {
    if !did.starts_with("did:plc:") {
        return Err(ServiceError::invalid(
            "only a did:plc's signing key can be rotated by the relay (a did:web document is published by its owner)",
        ));
    }
    let key = Keypair::generate(curve);
    let public = key.did_key();
    let id = key_id(&public);
    let sealed = state.kek.seal_keypair(&sealing_label(did, &id), &key)?;
    // 1. Reserve: one pending rotation per account.
    {
        let (st, d, row) = (
            state.clone(),
            did.to_string(),
            RelayKeyRow {
                did: did.to_string(),
                key_id: id.clone(),
                public_key: public.clone(),
                status: devices::KEY_PENDING.into(),
                sealed: Some(sealed),
                created_at: store::now(),
                retired_at: None,
                revoked_at: None,
            },
        );
        state
            .db
            .write(move |tx| -> Result<(), ServiceError> {
                let conn = tx.conn();
                let account = accounts::by_did(conn, &d)?
                    .ok_or_else(|| ServiceError::RepoNotFound(d.clone()))?;
                super::repo::require_active(&account)?;
                ensure_current_row(&st, conn, &account)?;
                let stale = store::in_secs(-STALE_PENDING_SECS);
                for k in devices::keys_of(conn, &d)? {
                    if k.status == devices::KEY_PENDING {
                        if k.created_at < stale {
                            devices::delete_key(conn, &d, &k.key_id)?;
                        } else {
                            return Err(ServiceError::Named(
                                "RotationInProgress",
                                "another signing-key rotation of this account is in progress; try again shortly".into(),
                            ));
                        }
                    }
                }
                devices::insert_key(conn, &row)?;
                Ok(())
            })
            .await?;
    }
    // 2. Publish.
    let new_public = key.public();
    let published =
        super::identity::relay_update(state, did, move |b| Ok(b.atproto_signing_key(&new_public)))
            .await;
    let operation = match published {
        Ok(op) => op,
        Err(e) => {
            let (d, i) = (did.to_string(), id.clone());
            let _ = state
                .db
                .write(move |tx| devices::delete_key(tx.conn(), &d, &i))
                .await;
            return Err(e);
        }
    };
    // 3. Switch.
    let account_sealed = state
        .kek
        .seal_keypair(&super::repo::signing_key_label(did), &key)?;
    let (st, d, i) = (state.clone(), did.to_string(), id.clone());
    let (new, old) = state
        .db
        .write(
            move |tx| -> Result<(RelayKeyRow, RelayKeyRow), ServiceError> {
                let conn = tx.conn();
                let account = accounts::by_did(conn, &d)?
                    .ok_or_else(|| ServiceError::RepoNotFound(d.clone()))?;
                let old = ensure_current_row(&st, conn, &account)?;
                let now = store::now();
                accounts::set_signing_key(conn, &d, &account_sealed)?;
                devices::set_key_status(conn, &d, &old.key_id, devices::KEY_RETIRED, &now)?;
                devices::set_key_status(conn, &d, &i, devices::KEY_CURRENT, &now)?;
                super::repo::forget_signing_key(tx, &d);
                sequencer::append(
                    tx,
                    &st.firehose,
                    Pending::Identity {
                        did: d.clone(),
                        handle: account.handle.clone(),
                    },
                )?;
                let new = devices::key(conn, &d, &i)?
                    .ok_or_else(|| ServiceError::internal("the new key row vanished"))?;
                let old = devices::key(conn, &d, &old.key_id)?.unwrap_or(old);
                Ok((new, old))
            },
        )
        .await?;
    state.did_cache.invalidate(did);
    Ok(Rotated {
        new,
        old,
        operation,
    })
}

/// A finished revocation.
#[derive(Debug, Clone)]
pub struct Revoked {
    pub revoked: RelayKeyRow,
    /// Set when the revoked key was the current one and a fresh key replaced it.
    pub rotation: Option<Rotated>,
}

/// Revoke a relay key. The current key is first replaced by a fresh one on the same curve.
pub async fn revoke(state: &AppState, did: &str, id: &str) -> Result<Revoked, ServiceError> {
    let keys = list(state, did).await?;
    let target = keys
        .iter()
        .find(|k| k.key_id == id)
        .cloned()
        .ok_or_else(|| ServiceError::Named("KeyNotFound", format!("no relay key {id}")))?;
    let rotation = match target.status.as_str() {
        devices::KEY_CURRENT => {
            let curve = pds::crypto::PublicKey::from_did_key(&target.public_key)
                .map(|k| k.curve())
                .unwrap_or(Curve::Secp256k1);
            Some(rotate(state, did, curve).await?)
        }
        devices::KEY_PENDING => {
            return Err(ServiceError::Named(
                "RotationInProgress",
                "this key is being published; revoke it once the rotation finished".into(),
            ));
        }
        _ => None,
    };
    let (d, i) = (did.to_string(), id.to_string());
    let revoked = state
        .db
        .write(move |tx| -> Result<RelayKeyRow, ServiceError> {
            devices::set_key_status(tx.conn(), &d, &i, devices::KEY_REVOKED, &store::now())?;
            devices::key(tx.conn(), &d, &i)?
                .ok_or_else(|| ServiceError::Named("KeyNotFound", format!("no relay key {i}")))
        })
        .await?;
    Ok(Revoked { revoked, rotation })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_short_stable_hex() {
        let k = Keypair::generate(Curve::Secp256k1).did_key();
        let a = key_id(&k);
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a, key_id(&k));
        assert_ne!(a, key_id(&Keypair::generate(Curve::P256).did_key()));
    }
}
