//! Accounts: creation (the DID ceremony of DESIGN.md) and their life cycle (handle
//! changes, deactivation, takedown, deletion, password resets).
//!
//! The ceremony: the relay generates the account's signing key (secp256k1), assembles
//! the PLC genesis with the user's rotation key first (when given), device keys next,
//! and its own rotation key last, signs it with its own rotation key, submits it to the
//! PLC directory, and only then stores the account with its first (empty) commit and
//! sequences `#identity`, `#account`, `#commit` and `#sync` in the same transaction.
//! [`genesis`] is the ceremony alone (the device API's `POST /v1/dids` runs it ahead of
//! the account); [`create_with`] takes such a DID, and a hook that runs inside the
//! account's transaction (the mobile sign-up binds its device there).

use super::ServiceError;
use super::repo::{create_empty_repo, sequence_commit, sequence_sync, signing_key_label};
use crate::context::AppState;
use crate::firehose::sequencer::{self, Pending};
use crate::store::{self, WriteTx, accounts, blobs as blob_store, repo as repo_store, sessions};
use pds::crypto::{Curve, Keypair, PublicKey};
use pds::identity::{AtprotoGenesis, SignedOp};
use pds::syntax::{Did, Handle};

/// What a new account needs.
#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    pub handle: String,
    pub email: Option<String>,
    /// Absent for device-bound (mobile) accounts.
    pub password: Option<String>,
    pub invite_code: Option<String>,
    /// The user's own rotation key (`did:key`), placed first in rotationKeys.
    pub recovery_key: Option<String>,
    /// Further rotation keys (device keys), placed after the user's key.
    pub device_rotation_keys: Vec<String>,
    /// Tier name; the configured default when absent.
    pub tier: Option<String>,
}

/// A created account.
#[derive(Debug, Clone)]
pub struct Created {
    pub did: String,
    pub handle: String,
    pub plc_op: SignedOp,
    /// The account's signing key (`did:key`), the DID's `#atproto` method.
    pub signing_key: String,
}

/// A DID whose genesis operation was submitted, with the signing key it names.
#[derive(Debug)]
pub struct PreparedDid {
    pub did: String,
    pub op: SignedOp,
    pub signing_key: Keypair,
}

/// Work done inside the account-creation transaction, after the account row exists.
pub type AfterInsert =
    Box<dyn FnOnce(&mut WriteTx<'_>, &str) -> Result<(), ServiceError> + Send + 'static>;

/// The rotation keys of a new DID: the user's key first, device keys next, this relay's
/// key last (at most 5). Keys other than P-256 and secp256k1 are refused.
pub fn rotation_keys(
    state: &AppState,
    user_key: Option<&str>,
    device_keys: &[String],
) -> Result<Vec<PublicKey>, ServiceError> {
    let mut rotation: Vec<PublicKey> = Vec::new();
    if let Some(k) = user_key {
        rotation.push(
            PublicKey::from_did_key(k)
                .map_err(|e| ServiceError::Named("InvalidRequest", format!("recoveryKey: {e}")))?,
        );
    }
    for k in device_keys {
        rotation.push(
            PublicKey::from_did_key(k)
                .map_err(|e| ServiceError::Named("InvalidRequest", format!("device key: {e}")))?,
        );
    }
    rotation.push(state.relay_rotation_key.public());
    if rotation.len() > 5 {
        return Err(ServiceError::invalid(
            "at most 5 rotation keys fit in a DID",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if rotation.iter().any(|k| !seen.insert(k.to_did_key())) {
        return Err(ServiceError::invalid(
            "the same key appears twice among the rotation keys",
        ));
    }
    Ok(rotation)
}

/// The ceremony alone: generate the account's signing key, build the genesis operation
/// with `rotation` (as [`rotation_keys`] orders them), sign it with this relay's rotation
/// key and submit it to the PLC directory.
pub async fn genesis(
    state: &AppState,
    handle: &str,
    rotation: Vec<PublicKey>,
) -> Result<PreparedDid, ServiceError> {
    let signing_key = Keypair::generate(Curve::Secp256k1);
    let genesis = AtprotoGenesis {
        rotation_keys: rotation,
        signing_key: signing_key.public(),
        handle: handle.to_string(),
        pds_endpoint: state.public_url.clone(),
    };
    let (did, op) = genesis.sign(&state.relay_rotation_key)?;
    super::identity::submit(state, &did, &op).await?;
    Ok(PreparedDid {
        did,
        op,
        signing_key,
    })
}

impl std::fmt::Display for NewAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.handle)
    }
}

/// Check a requested handle against syntax and this server's domains; returns it normalised.
pub fn check_handle(state: &AppState, handle: &str) -> Result<String, ServiceError> {
    let h = Handle::new(handle.trim().trim_start_matches('@'))
        .map_err(|e| ServiceError::Named("InvalidHandle", format!("Invalid handle: {e}")))?;
    let h = h.as_str().to_string();
    let Some(domain) = state
        .config
        .handle_domains
        .iter()
        .find(|d| h.ends_with(d.as_str()))
    else {
        return Err(ServiceError::Named(
            "UnsupportedDomain",
            format!(
                "Handle must end with one of: {}",
                state.config.handle_domains.join(", ")
            ),
        ));
    };
    let front = &h[..h.len() - domain.len()];
    if front.contains('.') {
        return Err(ServiceError::Named(
            "InvalidHandle",
            "Handle may not contain dots before the server's domain".into(),
        ));
    }
    if front.len() < 3 {
        return Err(ServiceError::Named(
            "InvalidHandle",
            "Handle too short".into(),
        ));
    }
    if front.len() > 18 {
        return Err(ServiceError::Named(
            "InvalidHandle",
            "Handle too long".into(),
        ));
    }
    Ok(h)
}

/// A handle on the user's own domain: valid, not under a reserved TLD, and resolving to
/// `did` right now. Returns it normalized.
async fn check_own_domain_handle(
    state: &AppState,
    did: &str,
    handle: &str,
) -> Result<String, ServiceError> {
    let h = Handle::new(handle.trim().trim_start_matches('@'))
        .map_err(|e| ServiceError::Named("InvalidHandle", format!("Invalid handle: {e}")))?;
    if h.has_reserved_tld() {
        return Err(ServiceError::Named(
            "InvalidHandle",
            format!("{h} ends in a reserved top-level domain and cannot be a handle"),
        ));
    }
    match state.handles.resolve(h.as_str()).await {
        Some(found) if found == did => Ok(h.as_str().to_string()),
        Some(other) => Err(ServiceError::invalid(format!(
            "{h} names {other}, not this account; set its _atproto TXT record (or \
             /.well-known/atproto-did) to did={did}"
        ))),
        None => Err(ServiceError::invalid(format!(
            "{h} does not resolve to this account: publish a DNS TXT record _atproto.{h} \
             with the text did={did} (or serve {did} at https://{h}/.well-known/atproto-did), \
             then try again"
        ))),
    }
}

pub(crate) fn check_email(email: &str) -> Result<String, ServiceError> {
    let e = email.trim();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(e.to_string())
    } else {
        Err(ServiceError::invalid(
            "This email address is not supported, please use a different email.",
        ))
    }
}

/// Run the DID ceremony and create the account.
pub async fn create(state: &AppState, input: NewAccount) -> Result<Created, ServiceError> {
    create_with(state, input, None, None).await
}

/// Create the account; with `prepared`, for a DID whose genesis was already submitted
/// (its rotation keys are then those of `prepared`, not of `input`). `after_insert` runs
/// in the same transaction as the account row.
pub async fn create_with(
    state: &AppState,
    input: NewAccount,
    prepared: Option<PreparedDid>,
    after_insert: Option<AfterInsert>,
) -> Result<Created, ServiceError> {
    let handle = check_handle(state, &input.handle)?;
    let email = input.email.as_deref().map(check_email).transpose()?;
    if let Some(p) = &input.password
        && p.is_empty()
    {
        return Err(ServiceError::invalid("Password must not be empty"));
    }
    if state.config.invites.required && input.invite_code.is_none() {
        return Err(ServiceError::Named(
            "InvalidInviteCode",
            "An invite code is required to create an account on this server".into(),
        ));
    }
    let tier = input
        .tier
        .clone()
        .unwrap_or_else(|| state.config.tiers.default.clone());
    if state.config.tier(&tier).is_none() {
        return Err(ServiceError::invalid(format!("unknown tier {tier:?}")));
    }
    let rotation = match &prepared {
        Some(_) => Vec::new(),
        None => rotation_keys(
            state,
            input.recovery_key.as_deref(),
            &input.device_rotation_keys,
        )?,
    };
    {
        let (h, e) = (handle.clone(), email.clone());
        let own_did = prepared.as_ref().map(|p| p.did.clone());
        let taken = state
            .db
            .read(move |c| -> Result<(bool, bool), store::DbError> {
                // A DID made ahead of its account (POST /v1/dids) holds its handle.
                let reserved = store::devices::pending_did_by_handle(c, &h, &store::now())?
                    .is_some_and(|p| Some(&p.did) != own_did.as_ref());
                Ok((
                    reserved || accounts::by_handle(c, &h)?.is_some(),
                    match &e {
                        Some(e) => accounts::by_email(c, e)?.is_some(),
                        None => false,
                    },
                ))
            })
            .await?;
        if taken.0 {
            return Err(ServiceError::Named(
                "HandleNotAvailable",
                format!("Handle already taken: {handle}"),
            ));
        }
        if taken.1 {
            return Err(ServiceError::invalid(format!(
                "Email already taken: {}",
                email.clone().unwrap_or_default()
            )));
        }
    }
    let password_hash = match &input.password {
        Some(p) => Some(
            crate::auth::password::hash_async(p.clone())
                .await
                .map_err(ServiceError::internal)?,
        ),
        None => None,
    };
    let PreparedDid {
        did,
        op,
        signing_key,
    } = match prepared {
        Some(p) => p,
        None => genesis(state, &handle, rotation).await?,
    };
    let signing_public = signing_key.public().to_did_key();

    let sealed = state
        .kek
        .seal_keypair(&signing_key_label(&did), &signing_key)?;
    let row = accounts::AccountRow {
        did: did.clone(),
        handle: Some(handle.clone()),
        email,
        email_confirmed_at: None,
        password_hash,
        created_at: store::now(),
        deactivated_at: None,
        delete_after: None,
        takedown_ref: None,
        tier,
        invite_code: input.invite_code.clone(),
        signing_key: sealed,
    };
    let st = state.clone();
    let did_typed = Did::new(&did)?;
    let invite = input.invite_code.clone();
    let h = handle.clone();
    state
        .db
        .write(move |tx| -> Result<(), ServiceError> {
            let conn = tx.conn();
            if accounts::by_handle(conn, &h)?.is_some() {
                return Err(ServiceError::Named(
                    "HandleNotAvailable",
                    format!("Handle already taken: {h}"),
                ));
            }
            if let Some(code) = &invite {
                super::invite::spend(conn, code, &row.did)?;
            }
            accounts::insert(conn, &row)?;
            if let Some(hook) = after_insert {
                hook(tx, &row.did)?;
            }
            let outcome = create_empty_repo(&st, tx, &did_typed, &signing_key)?;
            sequencer::append(
                tx,
                &st.firehose,
                Pending::Identity {
                    did: row.did.clone(),
                    handle: Some(h.clone()),
                },
            )?;
            sequencer::append(
                tx,
                &st.firehose,
                Pending::Account {
                    did: row.did.clone(),
                    active: true,
                    status: None,
                },
            )?;
            sequence_commit(&st, tx, &row.did, &outcome, Vec::new())?;
            sequence_sync(
                &st,
                tx,
                &row.did,
                &outcome.commit.cid,
                &outcome.commit.bytes,
                outcome.rev.as_str(),
            )?;
            Ok(())
        })
        .await?;
    Ok(Created {
        did,
        handle,
        plc_op: op,
        signing_key: signing_public,
    })
}

/// Deactivate (the repo stops being served; `delete_after` schedules deletion).
pub async fn deactivate(
    state: &AppState,
    did: &str,
    delete_after: Option<String>,
) -> Result<(), ServiceError> {
    let (st, d) = (state.clone(), did.to_string());
    state
        .db
        .write(move |tx| -> Result<(), ServiceError> {
            let a = accounts::by_did(tx.conn(), &d)?
                .ok_or_else(|| ServiceError::RepoNotFound(d.clone()))?;
            accounts::set_deactivated(tx.conn(), &d, Some(&store::now()), delete_after.as_deref())?;
            if a.takedown_ref.is_none() {
                sequencer::append(
                    tx,
                    &st.firehose,
                    Pending::Account {
                        did: d.clone(),
                        active: false,
                        status: Some("deactivated".into()),
                    },
                )?;
            }
            Ok(())
        })
        .await
}

/// Reactivate: the repo is served again, and relays hear `#account`, `#identity`, `#sync`.
pub async fn activate(state: &AppState, did: &str) -> Result<(), ServiceError> {
    let (st, d) = (state.clone(), did.to_string());
    state
        .db
        .write(move |tx| -> Result<(), ServiceError> {
            let a = accounts::by_did(tx.conn(), &d)?
                .ok_or_else(|| ServiceError::RepoNotFound(d.clone()))?;
            accounts::set_deactivated(tx.conn(), &d, None, None)?;
            if a.takedown_ref.is_none() {
                sequencer::append(
                    tx,
                    &st.firehose,
                    Pending::Account {
                        did: d.clone(),
                        active: true,
                        status: None,
                    },
                )?;
                sequencer::append(
                    tx,
                    &st.firehose,
                    Pending::Identity {
                        did: d.clone(),
                        handle: a.handle.clone(),
                    },
                )?;
                if let Some(head) = repo_store::head(tx.conn(), &d)?
                    && let Some(bytes) = pds::store::BlockSource::get_block(
                        &repo_store::SqlBlocks {
                            conn: tx.conn(),
                            did: &d,
                        },
                        &head.commit,
                    )?
                {
                    sequence_sync(&st, tx, &d, &head.commit, &bytes, head.rev.as_str())?;
                }
            }
            Ok(())
        })
        .await
}

/// Take down (operator action): no sessions, nothing served, relays told.
pub async fn takedown(state: &AppState, did: &str, reference: &str) -> Result<(), ServiceError> {
    let (st, d, r) = (state.clone(), did.to_string(), reference.to_string());
    state
        .db
        .write(move |tx| -> Result<(), ServiceError> {
            accounts::by_did(tx.conn(), &d)?
                .ok_or_else(|| ServiceError::RepoNotFound(d.clone()))?;
            accounts::set_takedown(tx.conn(), &d, Some(&r))?;
            sessions::delete_all_refresh(tx.conn(), &d)?;
            sequencer::append(
                tx,
                &st.firehose,
                Pending::Account {
                    did: d.clone(),
                    active: false,
                    status: Some("takendown".into()),
                },
            )?;
            Ok(())
        })
        .await
}

/// Lift a takedown.
pub async fn untakedown(state: &AppState, did: &str) -> Result<(), ServiceError> {
    let (st, d) = (state.clone(), did.to_string());
    state
        .db
        .write(move |tx| -> Result<(), ServiceError> {
            let a = accounts::by_did(tx.conn(), &d)?
                .ok_or_else(|| ServiceError::RepoNotFound(d.clone()))?;
            accounts::set_takedown(tx.conn(), &d, None)?;
            let (active, status) = if a.deactivated_at.is_some() {
                (false, Some("deactivated".to_string()))
            } else {
                (true, None)
            };
            sequencer::append(
                tx,
                &st.firehose,
                Pending::Account {
                    did: d.clone(),
                    active,
                    status,
                },
            )?;
            Ok(())
        })
        .await
}

/// Delete an account: repo, blobs, sessions, the row; relays hear `#account deleted`.
/// The DID itself is left as it is (its owner may move it elsewhere with their rotation key).
pub async fn delete(state: &AppState, did: &str) -> Result<(), ServiceError> {
    let (st, d) = (state.clone(), did.to_string());
    let orphaned = state
        .db
        .write(move |tx| -> Result<Vec<String>, ServiceError> {
            let conn = tx.conn();
            accounts::by_did(conn, &d)?.ok_or_else(|| ServiceError::RepoNotFound(d.clone()))?;
            let orphaned = blob_store::delete_account_blobs(conn, &d)?;
            repo_store::delete_repo(conn, &d)?;
            accounts::delete(conn, &d)?;
            conn.execute("DELETE FROM repo_seq WHERE did = ?1", [&d])
                .map_err(store::DbError::from)?;
            sequencer::append(
                tx,
                &st.firehose,
                Pending::Account {
                    did: d.clone(),
                    active: false,
                    status: Some("deleted".into()),
                },
            )?;
            Ok(orphaned)
        })
        .await?;
    for cid in orphaned {
        if let Ok(c) = pds::data::cid::parse(&cid)
            && let Err(e) = state.blobs.delete(&c).await
        {
            tracing::warn!(error = %e, "could not remove a deleted account's blob");
        }
    }
    state.did_cache.invalidate(did);
    Ok(())
}

/// Set a new password; every session of the account ends.
pub async fn reset_password(
    state: &AppState,
    did: &str,
    password: &str,
) -> Result<(), ServiceError> {
    if password.is_empty() {
        return Err(ServiceError::invalid("Password must not be empty"));
    }
    let hash = crate::auth::password::hash_async(password.to_string())
        .await
        .map_err(ServiceError::internal)?;
    let d = did.to_string();
    state
        .db
        .write(move |tx| -> Result<(), ServiceError> {
            accounts::by_did(tx.conn(), &d)?
                .ok_or_else(|| ServiceError::RepoNotFound(d.clone()))?;
            accounts::set_password(tx.conn(), &d, &hash)?;
            sessions::delete_all_refresh(tx.conn(), &d)?;
            Ok(())
        })
        .await
}

/// Change the handle: a PLC update signed by the relay's rotation key, then `#identity`.
pub async fn update_handle(state: &AppState, did: &str, handle: &str) -> Result<(), ServiceError> {
    let handle = match check_handle(state, handle) {
        Ok(h) => h,
        // Not under this server's domains: the user's own domain, which must already
        // name this account (DNS TXT `_atproto` or `/.well-known/atproto-did`).
        Err(ServiceError::Named("UnsupportedDomain", _)) => {
            check_own_domain_handle(state, did, handle).await?
        }
        Err(e) => return Err(e),
    };
    let h = handle.clone();
    let existing = state.db.read(move |c| accounts::by_handle(c, &h)).await?;
    if let Some(a) = existing {
        if a.did == did {
            return Ok(());
        }
        return Err(ServiceError::Named(
            "HandleNotAvailable",
            format!("Handle already taken: {handle}"),
        ));
    }
    if did.starts_with("did:plc:") {
        let h = handle.clone();
        super::identity::relay_update(state, did, move |b| Ok(b.handle(&h)?)).await?;
    }
    let (st, d, h) = (state.clone(), did.to_string(), handle.clone());
    state
        .db
        .write(move |tx| -> Result<(), ServiceError> {
            if let Some(other) = accounts::by_handle(tx.conn(), &h)?
                && other.did != d
            {
                return Err(ServiceError::Named(
                    "HandleNotAvailable",
                    format!("Handle already taken: {h}"),
                ));
            }
            accounts::set_handle(tx.conn(), &d, &h)?;
            sequencer::append(
                tx,
                &st.firehose,
                Pending::Identity {
                    did: d.clone(),
                    handle: Some(h.clone()),
                },
            )?;
            Ok(())
        })
        .await?;
    Ok(())
}

/// Sequence `#identity` for an account (after a PLC change made elsewhere).
pub async fn announce_identity(state: &AppState, did: &str) -> Result<(), ServiceError> {
    let (st, d) = (state.clone(), did.to_string());
    state.did_cache.invalidate(did);
    state
        .db
        .write(move |tx| -> Result<(), ServiceError> {
            let a = accounts::by_did(tx.conn(), &d)?;
            sequencer::append(
                tx,
                &st.firehose,
                Pending::Identity {
                    did: d.clone(),
                    handle: a.and_then(|a| a.handle),
                },
            )?;
            Ok(())
        })
        .await
}
