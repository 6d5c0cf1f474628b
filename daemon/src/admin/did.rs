//! `/admin/v1/did/...` (`pdsctl did ...`): the DID document and PLC audit log with every
//! key labelled by whose it is, and signing-key rotation, through `services::identity`.
//!
//! Labels: the relay's rotation key and the account's signing key are recognised exactly
//! (this daemon holds them). Other rotation keys follow the order of the DID ceremony
//! (`[user key, device keys..., relay key]`): the first is the user's, the ones between
//! it and the relay's key are devices'. With no device registry yet, a key the daemon
//! does not hold cannot be told apart more precisely than by its place.

use crate::context::AppState;
use crate::services::identity;
use crate::services::repo::{find_account, signing_key_label};
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::{Query, State};
use pds::admin::{AccountRef, DidKeyInfo, DidShowResponse, KeyOwner, RotateSigningKeyResponse};

pub async fn show(
    State(state): State<AppState>,
    Query(q): Query<AccountRef>,
) -> Result<Json<DidShowResponse>, XrpcError> {
    let account = find_account(&state, &q.id).await?;
    let did = account.did.clone();
    let document = identity::did_document(&state, &did).await?;
    let (audit_log, keys) = if did.starts_with("did:plc:") {
        let log = identity::audit_log(&state, &did).await?;
        let last = identity::last_op(&state, &did).await?;
        let rotation = last.op.rotation_keys();
        let signing = last
            .op
            .normalized()
            .and_then(|o| o.verification_methods.get("atproto").cloned());
        let held_signing = state
            .kek
            .open_keypair(&signing_key_label(&did), &account.signing_key)
            .ok()
            .map(|k| k.did_key());
        let keys = label_keys(
            &rotation,
            signing.as_deref(),
            &state.relay_rotation_key.did_key(),
            held_signing.as_deref(),
        );
        (
            serde_json::to_value(&log).map_err(XrpcError::internal)?,
            keys,
        )
    } else {
        (serde_json::Value::Array(Vec::new()), Vec::new())
    };
    Ok(Json(DidShowResponse {
        did,
        handle: account.handle,
        document,
        audit_log,
        keys,
    }))
}

pub async fn rotate_signing_key(
    State(state): State<AppState>,
    Json(req): Json<AccountRef>,
) -> Result<Json<RotateSigningKeyResponse>, XrpcError> {
    let account = crate::services::repo::find_account(&state, &req.id).await?;
    let (signing_key, op) =
        crate::services::identity::rotate_signing_key(&state, &account.did).await?;
    Ok(Json(RotateSigningKeyResponse {
        did: account.did,
        signing_key,
        plc_operation: serde_json::to_value(&op).map_err(XrpcError::internal)?,
    }))
}

/// Label the keys of the current operation (see the module doc for the rule).
fn label_keys(
    rotation: &[String],
    signing: Option<&str>,
    relay_rotation: &str,
    held_signing: Option<&str>,
) -> Vec<DidKeyInfo> {
    let relay_at = rotation.iter().position(|k| k == relay_rotation);
    let mut out: Vec<DidKeyInfo> = rotation
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let owner = if Some(i) == relay_at {
                KeyOwner::Relay
            } else if i == 0 {
                KeyOwner::User
            } else if relay_at.is_some_and(|r| i < r) {
                KeyOwner::Device
            } else {
                KeyOwner::Unknown
            };
            DidKeyInfo {
                key: k.clone(),
                role: "rotation".into(),
                index: u32::try_from(i).ok(),
                owner,
            }
        })
        .collect();
    if let Some(s) = signing {
        out.push(DidKeyInfo {
            key: s.to_string(),
            role: "signing".into(),
            index: None,
            owner: if Some(s) == held_signing {
                KeyOwner::Relay
            } else {
                KeyOwner::Unknown
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owners(keys: &[DidKeyInfo]) -> Vec<(&str, KeyOwner)> {
        keys.iter().map(|k| (k.key.as_str(), k.owner)).collect()
    }

    #[test]
    fn the_ceremony_order_labels_user_devices_and_relay() {
        let rot = ["u", "d1", "d2", "r"].map(String::from);
        let keys = label_keys(&rot, Some("s"), "r", Some("s"));
        assert_eq!(
            owners(&keys),
            [
                ("u", KeyOwner::User),
                ("d1", KeyOwner::Device),
                ("d2", KeyOwner::Device),
                ("r", KeyOwner::Relay),
                ("s", KeyOwner::Relay),
            ]
        );
        assert_eq!(keys[3].index, Some(3));
        assert_eq!(keys[4].role, "signing");
    }

    #[test]
    fn without_a_user_key_the_relay_key_is_first_and_foreign_keys_are_unknown() {
        let rot = ["r".to_string()];
        let keys = label_keys(&rot, Some("s"), "r", Some("other"));
        assert_eq!(
            owners(&keys),
            [("r", KeyOwner::Relay), ("s", KeyOwner::Unknown)]
        );
        // Moved away: the relay's key is gone; keys after the first are not ours.
        let rot = ["u", "x"].map(String::from);
        let keys = label_keys(&rot, None, "r", None);
        assert_eq!(
            owners(&keys),
            [("u", KeyOwner::User), ("x", KeyOwner::Unknown)]
        );
    }
}
