//! Changing a DID's rotation keys through the relay (`POST /v1/dids/{did}/rotate`).
//!
//! Who signs (DESIGN.md: the relay's key is the lowest-priority rotation key, for routine
//! updates that the user's key can always override):
//! - the relay signs a change only when it is a pure removal (order kept) that keeps the
//!   first key and the relay's own key, e.g. dropping a lost device's key, or when the
//!   relay's key is the only rotation key and the change puts one user key above it (the
//!   first `pdsctl backup create` of an account made without a user key);
//! - any other change (adding a key, replacing the user's key, reordering) must be signed
//!   by a rotation key above the relay's: the relay answers with the unsigned operation and
//!   the exact bytes to sign, and the client sends the signed operation back;
//! - a user-signed operation is checked before it is submitted: it must follow the DID's
//!   latest operation, verify against one of its rotation keys other than the relay's, and
//!   keep what the relay depends on (the account's signing key, this relay as the PDS, the
//!   handle). Moving the DID elsewhere is done at the PLC directory, not through the relay.
//!
//! Every accepted change sequences `#identity`. Signing-key rotation is in
//! `services::relay_keys`.

use super::ServiceError;
use crate::context::AppState;
use crate::store::accounts;
use pds::crypto::PublicKey;
use pds::identity::{SignedOp, UnsignedOp, UpdateBuilder};

/// What a rotation request led to.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The operation was submitted to the PLC directory.
    Submitted {
        operation: SignedOp,
        /// `relay` or `user`.
        signed_by: &'static str,
    },
    /// The user's key must sign `operation`: sign `signing_input` and send the result back.
    NeedsSignature {
        operation: UnsignedOp,
        signing_input: Vec<u8>,
        /// The rotation keys whose signature the relay will accept (priority order).
        signers: Vec<String>,
    },
}

fn require_plc(did: &str) -> Result<(), ServiceError> {
    if did.starts_with("did:plc:") {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "only did:plc identities have rotation keys",
        ))
    }
}

/// Whether `new` is `current` with some keys removed, order kept.
fn is_removal(current: &[String], new: &[String]) -> bool {
    let mut it = current.iter();
    new.len() < current.len() && new.iter().all(|k| it.any(|c| c == k))
}

/// Whether `new` puts a first user key above a relay that is the DID's only rotation
/// key (an account made without one, e.g. by `pdsctl account create`): nobody but the
/// relay could sign that, and it only gives the user power over the relay.
fn adopts_first_user_key(current: &[String], new: &[String], relay: &str) -> bool {
    current == [relay] && new.len() == 2 && new.get(1).map(String::as_str) == Some(relay)
}

/// Ask for a new list of rotation keys (priority order, the relay's key last).
pub async fn change_rotation_keys(
    state: &AppState,
    did: &str,
    new_keys: &[String],
) -> Result<Outcome, ServiceError> {
    require_plc(did)?;
    let relay = state.relay_rotation_key.did_key();
    let mut parsed: Vec<PublicKey> = Vec::with_capacity(new_keys.len());
    for k in new_keys {
        parsed.push(super::device::parse_rotation_key("rotationKeys", k)?);
    }
    let normalised: Vec<String> = parsed.iter().map(PublicKey::to_did_key).collect();
    if normalised.is_empty() || normalised.len() > 5 {
        return Err(ServiceError::invalid("rotationKeys must hold 1 to 5 keys"));
    }
    let mut seen = std::collections::HashSet::new();
    if normalised.iter().any(|k| !seen.insert(k.clone())) {
        return Err(ServiceError::invalid("rotationKeys lists a key twice"));
    }
    if normalised.last() != Some(&relay) {
        return Err(ServiceError::invalid(format!(
            "this relay's rotation key ({relay}) must stay last in rotationKeys; to leave the relay, submit an operation to the PLC directory yourself"
        )));
    }
    let last = super::identity::last_op(state, did).await?;
    let current = last.op.rotation_keys();
    if current == normalised {
        return Err(ServiceError::invalid(
            "rotationKeys is already exactly that",
        ));
    }
    let relay_may_sign = current.contains(&relay)
        && ((is_removal(&current, &normalised) && current.first() == normalised.first())
            || adopts_first_user_key(&current, &normalised, &relay));
    if relay_may_sign {
        let keys = parsed.clone();
        let operation =
            super::identity::relay_update(state, did, move |b| Ok(b.rotation_keys(&keys))).await?;
        super::account::announce_identity(state, did).await?;
        return Ok(Outcome::Submitted {
            operation,
            signed_by: "relay",
        });
    }
    let operation = UpdateBuilder::after(&last)?
        .rotation_keys(&parsed)
        .build()?;
    let signing_input = operation.unsigned_bytes()?;
    Ok(Outcome::NeedsSignature {
        operation,
        signing_input,
        signers: current.into_iter().filter(|k| *k != relay).collect(),
    })
}

/// Check and submit an operation signed by the user's key.
pub async fn submit_user_operation(
    state: &AppState,
    did: &str,
    operation: &serde_json::Value,
) -> Result<Outcome, ServiceError> {
    require_plc(did)?;
    let bytes = serde_json::to_vec(operation).map_err(ServiceError::internal)?;
    let op = SignedOp::from_json(&bytes)
        .map_err(|e| ServiceError::invalid(format!("operation: {e}")))?;
    op.check_constraints()
        .map_err(|e| ServiceError::invalid(format!("operation: {e}")))?;
    let Some(data) = op.op.normalized().filter(|_| !op.is_tombstone()) else {
        return Err(ServiceError::invalid(
            "operation must be a plc_operation (tombstones are submitted to the PLC directory directly)",
        ));
    };
    let last = super::identity::last_op(state, did).await?;
    let last_cid = last.cid()?.to_string();
    if op.op.prev() != Some(last_cid.as_str()) {
        return Err(ServiceError::Named(
            "StaleOperation",
            format!("operation must follow the DID's latest operation {last_cid}"),
        ));
    }
    let current = last.op.rotation_keys();
    let signer = op.verify(&current).map_err(|e| {
        ServiceError::invalid(format!(
            "operation is not signed by a rotation key of {did}: {e}"
        ))
    })?;
    let relay = state.relay_rotation_key.did_key();
    if current.get(signer) == Some(&relay) {
        return Err(ServiceError::invalid(
            "operation must be signed by your own rotation key, not the relay's",
        ));
    }
    let d = did.to_string();
    let account = state
        .db
        .read(move |c| accounts::by_did(c, &d))
        .await?
        .ok_or_else(|| ServiceError::RepoNotFound(did.to_string()))?;
    let signing = state
        .kek
        .open_keypair(&super::repo::signing_key_label(did), &account.signing_key)?
        .did_key();
    if data.verification_methods.get("atproto") != Some(&signing) {
        return Err(ServiceError::invalid(format!(
            "operation must keep #atproto = {signing} (rotate the signing key with POST /v1/relay/keys)"
        )));
    }
    let endpoint = data
        .services
        .get("atproto_pds")
        .map(|s| s.endpoint.trim_end_matches('/').to_string());
    if endpoint.as_deref() != Some(state.public_url.as_str()) {
        return Err(ServiceError::invalid(format!(
            "operation must keep this relay ({}) as the atproto_pds service; to move, submit to the PLC directory yourself",
            state.public_url
        )));
    }
    let before = last.op.normalized().map(|o| o.also_known_as);
    if before.as_ref() != Some(&data.also_known_as) {
        return Err(ServiceError::invalid(
            "operation must keep alsoKnownAs (change the handle with com.atproto.identity.updateHandle)",
        ));
    }
    super::identity::submit(state, did, &op).await?;
    super::account::announce_identity(state, did).await?;
    Ok(Outcome::Submitted {
        operation: op,
        signed_by: "user",
    })
}

#[cfg(test)]
mod tests {
    use super::{adopts_first_user_key, is_removal};

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn removals_keep_order() {
        assert!(is_removal(&v(&["a", "b", "c"]), &v(&["a", "c"])));
        assert!(!is_removal(&v(&["a", "b", "c"]), &v(&["c", "a"])));
        assert!(!is_removal(&v(&["a", "b"]), &v(&["a", "b"])));
        assert!(!is_removal(&v(&["a", "b"]), &v(&["a", "x"])));
    }

    #[test]
    fn the_relay_adopts_only_a_first_user_key() {
        assert!(adopts_first_user_key(&v(&["r"]), &v(&["u", "r"]), "r"));
        assert!(!adopts_first_user_key(
            &v(&["u", "r"]),
            &v(&["x", "u", "r"]),
            "r"
        ));
        assert!(!adopts_first_user_key(
            &v(&["r"]),
            &v(&["u", "x", "r"]),
            "r"
        ));
        assert!(!adopts_first_user_key(&v(&["r"]), &v(&["r", "u"]), "r"));
    }
}
