//! Moving an existing did:plc onto this pdsd: the account of a DID that lives elsewhere
//! (another PDS, or a relay that is gone), for `pdsctl import` and `pdsctl recover --to`.
//!
//! The move, in order:
//! 1. [`start`]: read the DID's latest PLC operation; refuse, before anything is made or
//!    signed, a user key that is not one of its current rotationKeys; create the account
//!    *deactivated*, with a fresh signing key held by this daemon and an empty repository;
//!    build the unsigned PLC update that moves the DID here (the user's key first in
//!    rotationKeys, this relay's key last, the new `#atproto` key, this server as
//!    `atproto_pds`, the handle) and hand it out for the user's key to sign.
//! 2. [`submit_update`]: check the signed update (it follows the latest operation, is
//!    signed by one of that operation's rotation keys, and is exactly the move prepared
//!    here), then submit it to the PLC directory. The signer is the user's key, or, when
//!    the user has none, the old host's key (through its `signPlcOperation`): the update
//!    then keeps the DID's other rotation keys and swaps the old host's for this relay's.
//! 3. The repository and blobs are imported (`services::repo::import_car`,
//!    `services::blob`), then [`ready_to_activate`] checks that the DID now names this
//!    server and this daemon's key before `services::account::activate` emits `#account`,
//!    `#identity` and `#sync`.
//!
//! This module never holds the user's rotation key: it only ever sees its public did:key
//! and operations signed elsewhere (by pdsctl). The keys of the old host are left out of
//! the new rotationKeys on purpose: a host that is gone, or that was left, can then no
//! longer change the identity; devices enrol again on the new host.

use super::ServiceError;
use super::repo::{create_empty_repo, signing_key_label};
use crate::context::AppState;
use crate::store::{self, accounts};
use pds::crypto::{Curve, Keypair, PublicKey};
use pds::identity::{SignedOp, UnsignedOp, UpdateBuilder};
use pds::syntax::Did;

/// What the caller brings to [`start`].
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    pub did: String,
    /// The handle to host; default: the one the DID's document names.
    pub handle: Option<String>,
    pub email: Option<String>,
    /// A password for the account on this server (none: sign in with devices, or set one
    /// later with `pdsctl account reset-password`).
    pub password: Option<String>,
    /// The user's rotation key (`did:key`) that will sign the move. Needed unless the DID
    /// already names this server with this daemon's key, or `old_host_signs`.
    pub rotation_key: Option<String>,
    /// The DID's current host signs the move with its own rotation key (the last in
    /// rotationKeys): the update keeps the keys above it and puts this relay's key last.
    pub old_host_signs: bool,
    /// Arriving through the public createAccount (not the operator's socket): the
    /// server's invite policy applies, and `invite_code` is spent.
    pub public: bool,
    pub invite_code: Option<String>,
}

/// The PLC update the user's key must sign, and what it builds on.
#[derive(Debug, Clone)]
pub struct PendingUpdate {
    /// The unsigned update.
    pub operation: UnsignedOp,
    /// The DID's latest operation, which the update follows.
    pub prev: SignedOp,
}

/// What [`start`] did.
#[derive(Debug, Clone)]
pub struct Started {
    pub did: String,
    pub handle: Option<String>,
    /// Whether the account was created now (false: it was already here).
    pub created: bool,
    /// The account's signing key on this server (`did:key`).
    pub signing_key: String,
    /// The update to sign, when the DID does not name this server and key yet.
    pub update: Option<PendingUpdate>,
}

fn require_plc(did: &str) -> Result<(), ServiceError> {
    if did.starts_with("did:plc:") {
        Ok(())
    } else {
        Err(ServiceError::invalid(format!(
            "{did} is not a did:plc: only did:plc identities can be moved with a rotation key"
        )))
    }
}

/// The DID's latest operation, refusing a DID the directory does not know or that ended.
async fn latest(state: &AppState, did: &str) -> Result<SignedOp, ServiceError> {
    use crate::plc::client::PlcClientError;
    let value = state.plc.last_op(did).await.map_err(|e| match e {
        PlcClientError::NotFound(_) => ServiceError::Named(
            "DidNotFound",
            format!("the PLC directory does not know {did} (or it was tombstoned)"),
        ),
        other => other.into(),
    })?;
    let bytes = serde_json::to_vec(&value).map_err(ServiceError::internal)?;
    let last = SignedOp::from_json(&bytes).map_err(|e| {
        ServiceError::Upstream(format!("PLC directory returned a bad operation: {e}"))
    })?;
    if last.is_tombstone() {
        return Err(ServiceError::Named(
            "DidTombstoned",
            format!("{did} was deactivated for good at the PLC directory (tombstoned)"),
        ));
    }
    Ok(last)
}

/// The keys that can prove control of `did` today: the `#atproto` signing key and the
/// rotation keys of its latest PLC operation.
pub async fn did_keys(
    state: &AppState,
    did: &str,
) -> Result<crate::auth::service_auth::DidKeys, ServiceError> {
    require_plc(did)?;
    let last = latest(state, did).await?;
    let data = last
        .op
        .normalized()
        .ok_or_else(|| ServiceError::Upstream(format!("{did} has no usable PLC operation")))?;
    let signing = data
        .verification_methods
        .get(pds::identity::plc::ATPROTO_VERIFICATION_METHOD)
        .and_then(|k| PublicKey::from_did_key(k).ok());
    let rotation = data
        .rotation_keys
        .iter()
        .filter_map(|k| PublicKey::from_did_key(k).ok())
        .collect();
    Ok(crate::auth::service_auth::DidKeys { signing, rotation })
}

/// Refuse a user key that cannot sign an update of `last`.
fn check_rotation_key(did: &str, last: &SignedOp, key: &str) -> Result<PublicKey, ServiceError> {
    let public = PublicKey::from_did_key(key.trim())
        .map_err(|e| ServiceError::invalid(format!("the rotation key {key:?}: {e}")))?;
    let current = last.op.rotation_keys();
    if !current.contains(&public.to_did_key()) {
        return Err(ServiceError::Forbidden(format!(
            "{} is not one of the rotation keys of {did} ({}); nothing was signed or changed. \
             Use the key (or the shares of the key) that the DID names first in rotationKeys",
            public.to_did_key(),
            current.join(", ")
        )));
    }
    Ok(public)
}

/// The first `at://` handle of an operation.
fn handle_of(op: &UnsignedOp) -> Option<String> {
    op.normalized()?
        .also_known_as
        .iter()
        .find_map(|u| u.strip_prefix("at://").map(str::to_string))
}

/// Who will sign the move, and so which rotation keys the moved DID keeps above this
/// relay's.
enum Signer {
    /// The user's key (it becomes the only key above this relay's).
    User(PublicKey),
    /// The old host's key, the last of the DID's keys (the others are kept, in order).
    OldHost,
}

/// The rotation keys above this relay's in the update.
fn keys_above_relay(last: &SignedOp, signer: &Signer) -> Result<Vec<PublicKey>, ServiceError> {
    match signer {
        Signer::User(k) => Ok(vec![k.clone()]),
        Signer::OldHost => {
            let current = last.op.rotation_keys();
            let kept = current.len().saturating_sub(1);
            current
                .iter()
                .take(kept)
                .map(|k| {
                    PublicKey::from_did_key(k).map_err(|e| {
                        ServiceError::Upstream(format!("the DID lists a bad rotation key {k}: {e}"))
                    })
                })
                .collect()
        }
    }
}

/// Which signer the request names, after checking it can sign an update of `last`.
fn signer_of(did: &str, last: &SignedOp, input: &Incoming) -> Result<Signer, ServiceError> {
    match (&input.rotation_key, input.old_host_signs) {
        (Some(k), _) => Ok(Signer::User(check_rotation_key(did, last, k)?)),
        (None, true) => Ok(Signer::OldHost),
        (None, false) => Err(ServiceError::Named(
            "RotationKeyRequired",
            format!(
                "{did} does not name this server yet; moving it here takes a PLC update signed \
                 by your rotation key (pdsctl import --recovery-key FILE, or pdsctl recover --to), \
                 or by its current host (pdsctl import --old-pds URL)"
            ),
        )),
    }
}

/// Build the update that moves `did` here.
fn build_update(
    state: &AppState,
    last: &SignedOp,
    signer: &Signer,
    signing_key: &PublicKey,
    handle: Option<&str>,
) -> Result<PendingUpdate, ServiceError> {
    let mut keys = keys_above_relay(last, signer)?;
    let relay = state.relay_rotation_key.public();
    keys.retain(|k| *k != relay);
    keys.push(relay);
    let mut builder = UpdateBuilder::after(last)?
        .rotation_keys(&keys)
        .atproto_signing_key(signing_key)
        .pds_endpoint(&state.public_url)?;
    if let Some(h) = handle {
        builder = builder.handle(h)?;
    }
    Ok(PendingUpdate {
        operation: builder.build()?,
        prev: last.clone(),
    })
}

/// Whether the DID's document names this server and `key` as its signing key.
async fn names_us(state: &AppState, did: &str, key: &PublicKey) -> bool {
    state.did_cache.invalidate(did);
    match super::identity::parsed_document(state, did).await {
        Ok(doc) => {
            doc.pds_endpoint()
                .is_ok_and(|e| e.trim_end_matches('/') == state.public_url)
                && doc.atproto_signing_key().is_ok_and(|k| k == *key)
        }
        Err(_) => false,
    }
}

/// Prepare the move of `input.did` here: create the account (deactivated) unless it
/// exists, and return the PLC update to sign when the DID does not name this server yet.
pub async fn start(state: &AppState, input: Incoming) -> Result<Started, ServiceError> {
    let did = Did::new(input.did.trim())?.to_string();
    let d = did.clone();
    let existing = state.db.read(move |c| accounts::by_did(c, &d)).await?;
    if let Some(account) = existing {
        if input.public && account.deactivated_at.is_none() {
            return Err(ServiceError::invalid(format!(
                "{did} already has an active account on this server: sign in instead"
            )));
        }
        let key = state
            .kek
            .open_keypair(&signing_key_label(&did), &account.signing_key)?;
        let public = key.public();
        if !did.starts_with("did:plc:") || names_us(state, &did, &public).await {
            return Ok(Started {
                did,
                handle: account.handle,
                created: false,
                signing_key: public.to_did_key(),
                update: None,
            });
        }
        // Hosted here, but the DID names another server or key (a move that stopped
        // half-way, or a DID moved away and now back): it must be signed again.
        let last = latest(state, &did).await?;
        let signer = signer_of(&did, &last, &input)?;
        let update = build_update(state, &last, &signer, &public, account.handle.as_deref())?;
        return Ok(Started {
            did,
            handle: account.handle,
            created: false,
            signing_key: public.to_did_key(),
            update: Some(update),
        });
    }

    require_plc(&did)?;
    if input.public && state.config.invites.required && input.invite_code.is_none() {
        return Err(ServiceError::Named(
            "InvalidInviteCode",
            "An invite code is required to create an account on this server".into(),
        ));
    }
    let last = latest(state, &did).await?;
    let signer = signer_of(&did, &last, &input)?;

    let handle = match input.handle.as_deref().or(handle_of(&last.op).as_deref()) {
        Some(h) => Some(super::account::check_handle(state, h).map_err(|e| {
            ServiceError::Named(
                "InvalidHandle",
                format!("{e} (choose a handle this server hosts with --handle)"),
            )
        })?),
        None => None,
    };
    let email = match input.email.as_deref() {
        Some(e) if input.public => Some(super::account::check_email(e)?),
        other => other.map(str::trim).map(str::to_string),
    };
    let password_hash = match input.password.as_deref() {
        Some("") => return Err(ServiceError::invalid("Password must not be empty")),
        Some(p) => Some(
            crate::auth::password::hash_async(p.to_string())
                .await
                .map_err(ServiceError::internal)?,
        ),
        None => None,
    };
    let signing_key = Keypair::generate(Curve::Secp256k1);
    let update = build_update(
        state,
        &last,
        &signer,
        &signing_key.public(),
        handle.as_deref(),
    )?;
    let sealed = state
        .kek
        .seal_keypair(&signing_key_label(&did), &signing_key)?;
    let now = store::now();
    let row = accounts::AccountRow {
        did: did.clone(),
        handle: handle.clone(),
        email,
        email_confirmed_at: None,
        password_hash,
        created_at: now.clone(),
        deactivated_at: Some(now),
        delete_after: None,
        takedown_ref: None,
        tier: state.config.tiers.default.clone(),
        invite_code: input.invite_code.clone().filter(|_| input.public),
        signing_key: sealed,
    };
    let invite = row.invite_code.clone();
    let st = state.clone();
    let did_typed = Did::new(&did)?;
    let key = signing_key.clone();
    state
        .db
        .write(move |tx| -> Result<(), ServiceError> {
            let conn = tx.conn();
            if accounts::by_did(conn, &row.did)?.is_some() {
                return Err(ServiceError::invalid(format!(
                    "{} is being imported by another request",
                    row.did
                )));
            }
            if let Some(h) = &row.handle
                && accounts::by_handle(conn, h)?.is_some()
            {
                return Err(ServiceError::Named(
                    "HandleNotAvailable",
                    format!("Handle already taken: {h} (choose another with --handle)"),
                ));
            }
            if let Some(e) = &row.email
                && accounts::by_email(conn, e)?.is_some()
            {
                return Err(ServiceError::invalid(format!("Email already taken: {e}")));
            }
            if let Some(code) = &invite {
                super::invite::spend(conn, code, &row.did)?;
            }
            accounts::insert(conn, &row)?;
            // An empty repository until the import replaces it; nothing is sequenced
            // while the account is deactivated.
            create_empty_repo(&st, tx, &did_typed, &key)?;
            Ok(())
        })
        .await?;
    Ok(Started {
        did,
        handle,
        created: true,
        signing_key: signing_key.did_key(),
        update: Some(update),
    })
}

/// Check the user-signed move of `did` and submit it to the PLC directory.
///
/// Accepted only when it follows the DID's latest operation, is signed by one of that
/// operation's rotation keys, and is exactly a move here: this server as `atproto_pds`,
/// this daemon's signing key for the account as `#atproto`, this relay's rotation key
/// last, and the account's handle.
pub async fn submit_update(
    state: &AppState,
    did: &str,
    op: &SignedOp,
) -> Result<SignedOp, ServiceError> {
    require_plc(did)?;
    let d = did.to_string();
    let account = state
        .db
        .read(move |c| accounts::by_did(c, &d))
        .await?
        .ok_or_else(|| {
            ServiceError::invalid(format!(
                "{did} is not being imported here: run `pdsctl import` first"
            ))
        })?;
    let key = state
        .kek
        .open_keypair(&signing_key_label(did), &account.signing_key)?;
    let last = latest(state, did).await?;
    let last_cid = last.cid()?.to_string();
    if op.op.prev() != Some(last_cid.as_str()) {
        return Err(ServiceError::invalid(format!(
            "the signed update builds on {}, but the latest operation of {did} is {last_cid}; \
             start the import again",
            op.op.prev().unwrap_or("nothing")
        )));
    }
    let signer = op.verify(&last.op.rotation_keys()).map_err(|e| {
        ServiceError::Forbidden(format!(
            "the update is not signed by a rotation key of {did}: {e}"
        ))
    })?;
    let data = op
        .op
        .normalized()
        .filter(|_| !op.is_tombstone())
        .ok_or_else(|| ServiceError::invalid("a move must be a plc_operation"))?;
    let mismatch = |what: &str| {
        ServiceError::invalid(format!(
            "the signed update does not move {did} here: {what}; nothing was submitted"
        ))
    };
    let endpoint = data
        .services
        .get(pds::identity::plc::ATPROTO_PDS_SERVICE)
        .map(|s| s.endpoint.trim_end_matches('/'));
    if endpoint != Some(state.public_url.as_str()) {
        return Err(mismatch(&format!(
            "its atproto_pds is {:?}, this server is {}",
            endpoint, state.public_url
        )));
    }
    if data
        .verification_methods
        .get(pds::identity::plc::ATPROTO_VERIFICATION_METHOD)
        != Some(&key.did_key())
    {
        return Err(mismatch(
            "its #atproto key is not this server's signing key for the account",
        ));
    }
    if data.rotation_keys.last() != Some(&state.relay_rotation_key.did_key()) {
        return Err(mismatch(
            "this relay's rotation key is not last in rotationKeys",
        ));
    }
    if let Some(h) = &account.handle
        && !data.also_known_as.contains(&format!("at://{h}"))
    {
        return Err(mismatch(&format!("its alsoKnownAs does not name {h}")));
    }
    super::identity::submit(state, did, op).await?;
    tracing::info!(
        did,
        signer,
        "moved a DID here with a user-signed PLC update"
    );
    Ok(op.clone())
}

/// Refuse to activate an account whose DID does not name this server and this daemon's
/// signing key yet (a move whose PLC update was never submitted).
pub async fn ready_to_activate(
    state: &AppState,
    account: &accounts::AccountRow,
) -> Result<(), ServiceError> {
    if !account.did.starts_with("did:plc:") {
        return Ok(());
    }
    let key = state
        .kek
        .open_keypair(&signing_key_label(&account.did), &account.signing_key)?;
    if names_us(state, &account.did, &key.public()).await {
        Ok(())
    } else {
        Err(ServiceError::invalid(format!(
            "{} does not name this server and its signing key yet: the PLC update that moves \
             it here was not submitted; the account stays deactivated",
            account.did
        )))
    }
}

/// The JSON of an unsigned operation: its signed form without `sig`.
pub fn unsigned_json(op: &UnsignedOp) -> Result<serde_json::Value, ServiceError> {
    let mut v = serde_json::to_value(SignedOp {
        op: op.clone(),
        sig: String::new(),
    })
    .map_err(ServiceError::internal)?;
    if let Some(m) = v.as_object_mut() {
        m.remove("sig");
    }
    Ok(v)
}
