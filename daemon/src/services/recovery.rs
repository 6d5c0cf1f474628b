//! The recovery ceremony (`/v1/recovery/*`): someone who put the user's rotation key back
//! together (from two Shamir shares) proves it by signing a challenge, which enrols their
//! machine as a device again; the device then downloads the whole account.
//!
//! - [`initiate`]: the key must be one of the DID's current rotationKeys (and not this
//!   relay's own); the relay answers with a random challenge, valid 10 minutes;
//! - [`verify_key`]: the signature over `pds::secret::challenge::recovery_message` is
//!   checked against that key, the session is used up (once), the new device is enrolled
//!   active in the same transaction, and the rotation log says `recovered`;
//! - [`write_restore`]: one CAR v1 stream with two roots, the head commit and the export
//!   manifest (`pds::admin::ExportManifest` as JSON, a raw block); the manifest block
//!   comes first, then the repository's blocks, then every blob as a raw block. Every
//!   block is named by its hash, so the device verifies all of it.
//!
//! It never sees the rotation key's private half, only signatures.

use super::ServiceError;
use super::device::NewDevice;
use crate::context::AppState;
use crate::store::{self, DbError, accounts, blobs, escrow, recovery};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pds::crypto::PublicKey;
use std::io::Write;

/// How long a challenge may be answered.
pub const CHALLENGE_TTL_SECS: i64 = 10 * 60;
/// Open (unanswered) recovery sessions one account may have at once.
pub const MAX_OPEN: u32 = 5;

/// An issued challenge.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub id: String,
    pub did: String,
    pub handle: Option<String>,
    pub challenge: String,
    /// The relay's service DID, which the signed message names.
    pub audience: String,
    pub expires_at: String,
}

fn key_error(e: pds::crypto::CryptoError) -> ServiceError {
    ServiceError::Named(
        "UnsupportedKeyType",
        format!("rotationKey: {e} (only P-256 and secp256k1 keys exist here)"),
    )
}

/// Start a recovery of `account` (DID or handle) with `rotation_key` (`did:key`).
pub async fn initiate(
    state: &AppState,
    account: &str,
    rotation_key: &str,
) -> Result<Challenge, ServiceError> {
    let found = super::repo::find_account(state, account).await?;
    if found.takedown_ref.is_some() {
        return Err(ServiceError::RepoTakendown(found.did.clone()));
    }
    let key = PublicKey::from_did_key(rotation_key.trim()).map_err(key_error)?;
    let did_key = key.to_did_key();
    if did_key == state.relay_rotation_key.did_key() {
        return Err(ServiceError::Forbidden(
            "this relay's own rotation key cannot recover an account".into(),
        ));
    }
    let keys = super::escrow::current_rotation_keys(state, &found.did).await?;
    if !keys.contains(&did_key) {
        return Err(ServiceError::Named(
            "RotationKeyNotInDid",
            format!(
                "{did_key} is not one of the rotation keys of {}; nothing was started",
                found.did
            ),
        ));
    }
    let id = format!(
        "rcv-{}",
        URL_SAFE_NO_PAD.encode(crate::keys::random_bytes::<12>()?)
    );
    let challenge = URL_SAFE_NO_PAD.encode(crate::keys::random_bytes::<32>()?);
    let now = store::now();
    let row = recovery::SessionRow {
        id: id.clone(),
        did: found.did.clone(),
        rotation_key: did_key,
        challenge: challenge.clone(),
        created_at: now.clone(),
        expires_at: store::in_secs(CHALLENGE_TTL_SECS),
        verified_at: None,
        device_id: None,
    };
    let expires_at = row.expires_at.clone();
    state
        .db
        .write(move |tx| -> Result<(), ServiceError> {
            let conn = tx.conn();
            if recovery::open_count(conn, &row.did, &now)? >= MAX_OPEN {
                return Err(ServiceError::Unavailable(
                    "RateLimitExceeded",
                    format!(
                        "{MAX_OPEN} recoveries of this account are already waiting; answer one \
                         or wait {} minutes",
                        CHALLENGE_TTL_SECS / 60
                    ),
                ));
            }
            recovery::insert(conn, &row, &now)?;
            Ok(())
        })
        .await?;
    Ok(Challenge {
        id,
        did: found.did,
        handle: found.handle,
        challenge,
        audience: state.service_did.clone(),
        expires_at,
    })
}

/// Check the answer to recovery `id` and enrol `device` (its key's possession was proven
/// by the caller). Returns the device and the recovered account's DID.
pub async fn verify_key(
    state: &AppState,
    id: &str,
    signature: &str,
    device: NewDevicePart,
) -> Result<store::devices::DeviceRow, ServiceError> {
    let i = id.to_string();
    let session = state
        .db
        .read(move |c| recovery::get(c, &i))
        .await?
        .ok_or_else(|| {
            ServiceError::Named(
                "RecoveryNotFound",
                format!("no recovery {id} (start one with POST /v1/recovery/initiate)"),
            )
        })?;
    if session.verified_at.is_some() {
        return Err(ServiceError::Named(
            "RecoveryUsed",
            "this recovery was already answered; start a new one".into(),
        ));
    }
    if session.expires_at.as_str() <= store::now().as_str() {
        return Err(ServiceError::Named(
            "RecoveryExpired",
            format!(
                "the challenge expired ({} minutes); start a new recovery",
                CHALLENGE_TTL_SECS / 60
            ),
        ));
    }
    // The key must still be a rotation key now, not only when the challenge was issued.
    let keys = super::escrow::current_rotation_keys(state, &session.did).await?;
    if !keys.contains(&session.rotation_key) {
        return Err(ServiceError::Named(
            "RotationKeyNotInDid",
            format!(
                "{} is no longer a rotation key of {}",
                session.rotation_key, session.did
            ),
        ));
    }
    let key = PublicKey::from_did_key(&session.rotation_key).map_err(ServiceError::internal)?;
    let message = pds::secret::challenge::recovery_message(
        &session.did,
        &session.id,
        &session.challenge,
        &state.service_did,
    )
    .ok_or_else(|| ServiceError::internal("recovery message fields"))?;
    let sig = URL_SAFE_NO_PAD
        .decode(signature.trim().trim_end_matches('='))
        .map_err(|_| ServiceError::invalid("signature must be base64url"))?;
    key.verify(&message, &sig).map_err(|_| {
        ServiceError::Named(
            "InvalidSignature",
            "the signature does not verify with the rotation key (sign the recovery message \
             with the reconstructed key)"
                .into(),
        )
    })?;
    let st = state.clone();
    let new = NewDevice {
        did: session.did.clone(),
        name: device.name,
        platform: device.platform,
        key: device.key,
    };
    let (sid, rotation_key) = (session.id.clone(), session.rotation_key.clone());
    state
        .db
        .write(
            move |tx| -> Result<store::devices::DeviceRow, ServiceError> {
                let conn = tx.conn();
                let account = accounts::by_did(conn, &new.did)?
                    .ok_or_else(|| ServiceError::RepoNotFound(new.did.clone()))?;
                if account.takedown_ref.is_some() {
                    return Err(ServiceError::RepoTakendown(account.did));
                }
                let row = super::device::insert_active(&st, conn, &new)?;
                if !recovery::mark_verified(conn, &sid, &row.id, &store::now())? {
                    return Err(ServiceError::Named(
                        "RecoveryUsed",
                        "this recovery was already answered; start a new one".into(),
                    ));
                }
                escrow::append_log(
                    conn,
                    &new.did,
                    &store::now(),
                    &escrow::NewLog {
                        event: "recovered",
                        rotation_key: Some(rotation_key),
                        actor: super::escrow::Actor::RotationKey.label(),
                        detail: Some(format!("enrolled device {} ({})", row.id, row.name)),
                        ..Default::default()
                    },
                )?;
                Ok(row)
            },
        )
        .await
}

/// A device enrolled by recovery, before it has an account.
#[derive(Debug, Clone)]
pub struct NewDevicePart {
    pub name: String,
    pub platform: String,
    pub key: PublicKey,
}

/// Why a restore stream stopped.
#[derive(Debug)]
pub struct RestoreFailure(pub String);

impl From<DbError> for RestoreFailure {
    fn from(e: DbError) -> Self {
        RestoreFailure(e.to_string())
    }
}

impl From<pds::car::CarError> for RestoreFailure {
    fn from(e: pds::car::CarError) -> Self {
        RestoreFailure(e.to_string())
    }
}

/// The manifest of a restore: what `pdsctl export` writes, from the relay's copy.
pub async fn manifest(
    state: &AppState,
    did: &str,
) -> Result<pds::admin::ExportManifest, ServiceError> {
    let account = super::repo::find_account(state, did).await?;
    let head = super::repo::head(state, &account.did).await?;
    let d = account.did.clone();
    let listed = state.db.read(move |c| blobs::all_cids(c, &d)).await?;
    let signing_key = state
        .kek
        .open_keypair(
            &super::repo::signing_key_label(&account.did),
            &account.signing_key,
        )?
        .did_key();
    Ok(pds::admin::ExportManifest {
        did: account.did,
        handle: account.handle,
        email: account.email,
        signing_key: Some(signing_key),
        commit: head.commit.to_string(),
        rev: head.rev.to_string(),
        data: head.data.to_string(),
        blobs: listed
            .into_iter()
            .map(|(cid, mime_type, size)| pds::admin::BlobEntry {
                cid,
                mime_type,
                size,
            })
            .collect(),
    })
}

/// Write the restore stream of `manifest` to `out` (blocking; run it off the async
/// threads). Blobs are read through `rt`.
pub fn write_restore<W: Write>(
    state: &AppState,
    manifest: &pds::admin::ExportManifest,
    rt: &tokio::runtime::Handle,
    out: W,
) -> Result<(), RestoreFailure> {
    let bad = |what: &str, e: &dyn std::fmt::Display| RestoreFailure(format!("{what}: {e}"));
    let commit = pds::data::cid::parse(&manifest.commit).map_err(|e| bad("commit", &e))?;
    let manifest_bytes = serde_json::to_vec(manifest).map_err(|e| bad("manifest", &e))?;
    let manifest_cid = pds::data::cid::for_raw(&manifest_bytes);
    let mut car = pds::car::CarWriter::new(out, &[commit, manifest_cid])?;
    car.write_block(&manifest_cid, &manifest_bytes)?;
    // The repository: the commit and every node and record reachable from it.
    let repo_blocks = state
        .db
        .read_blocking(|conn| -> Result<Vec<u8>, RestoreFailure> {
            let blocks = store::repo::SqlBlocks {
                conn,
                did: &manifest.did,
            };
            let mut buf = Vec::new();
            pds::repo::export_car(&blocks, &commit, &mut buf).map_err(|e| bad("repo", &e))?;
            Ok(buf)
        })?;
    let mut reader = pds::car::CarReader::new(
        std::io::Cursor::new(repo_blocks),
        pds::car::CarLimits {
            max_total_bytes: u64::MAX,
            ..Default::default()
        },
    )?;
    while let Some((cid, bytes)) = reader.next_block()? {
        car.write_block(&cid, &bytes)?;
    }
    for b in &manifest.blobs {
        let cid = pds::data::cid::parse(&b.cid).map_err(|e| bad("blob", &e))?;
        let bytes = rt
            .block_on(state.blobs.get_bytes(&cid))
            .map_err(|e| bad(&format!("blob {}", b.cid), &e))?;
        car.write_block(&cid, &bytes)?;
    }
    let mut out = car.finish()?;
    out.flush().map_err(|e| bad("flush", &e))?;
    Ok(())
}
