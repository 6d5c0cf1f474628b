//! Identity: resolving DID documents (did:plc through the PLC directory, did:web over
//! HTTPS) with a short cache, reading the PLC log, building and submitting PLC updates
//! signed by the relay's rotation key, and service-auth tokens signed by account keys.

use super::ServiceError;
use crate::auth::jwt;
use crate::context::AppState;
use crate::store::accounts;
use pds::identity::{DidDocument, LogEntry, SignedOp, UpdateBuilder};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a resolved document is reused.
const CACHE_TTL: Duration = Duration::from_secs(60);
const CACHE_MAX: usize = 10_000;

/// Resolved DID documents, briefly cached.
#[derive(Debug, Default)]
pub struct DidCache {
    entries: Mutex<HashMap<String, (Value, Instant)>>,
}

impl DidCache {
    fn get(&self, did: &str) -> Option<Value> {
        let map = self.entries.lock().ok()?;
        map.get(did)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(v, _)| v.clone())
    }
    fn put(&self, did: &str, doc: Value) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= CACHE_MAX {
                map.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            }
            map.insert(did.to_string(), (doc, Instant::now()));
        }
    }
    /// Forget a DID (after this server changed it).
    pub fn invalidate(&self, did: &str) {
        if let Ok(mut map) = self.entries.lock() {
            map.remove(did);
        }
    }
}

/// The did:web document URL for `did:web:host[%3Aport]`.
fn did_web_url(did: &str) -> Result<String, ServiceError> {
    let rest = did
        .strip_prefix("did:web:")
        .ok_or_else(|| ServiceError::invalid(format!("not a did:web: {did}")))?;
    if rest.contains(':') {
        return Err(ServiceError::invalid(
            "did:web with a path is not supported",
        ));
    }
    let host = rest.replace("%3A", ":").replace("%3a", ":");
    let scheme = if host.starts_with("localhost") {
        "http"
    } else {
        "https"
    };
    Ok(format!("{scheme}://{host}/.well-known/did.json"))
}

/// The DID document of `did`, as JSON.
pub async fn did_document(state: &AppState, did: &str) -> Result<Value, ServiceError> {
    if let Some(doc) = state.did_cache.get(did) {
        return Ok(doc);
    }
    let doc = if did.starts_with("did:plc:") {
        state.plc.document(did).await?
    } else if did.starts_with("did:web:") {
        let url = did_web_url(did)?;
        let res = state
            .http
            .get(&url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| ServiceError::Upstream(format!("cannot resolve {did}: {e}")))?;
        if !res.status().is_success() {
            return Err(ServiceError::Upstream(format!(
                "cannot resolve {did}: {} answered {}",
                url,
                res.status()
            )));
        }
        res.json::<Value>()
            .await
            .map_err(|e| ServiceError::Upstream(format!("cannot resolve {did}: {e}")))?
    } else {
        return Err(ServiceError::invalid(format!(
            "unsupported DID method: {did}"
        )));
    };
    state.did_cache.put(did, doc.clone());
    Ok(doc)
}

/// The parsed document.
pub async fn parsed_document(state: &AppState, did: &str) -> Result<DidDocument, ServiceError> {
    let doc = did_document(state, did).await?;
    serde_json::from_value::<DidDocument>(doc)
        .map_err(|e| ServiceError::Upstream(format!("DID document of {did} is malformed: {e}")))
}

/// The endpoint of service `#id` in `did`'s document.
pub async fn service_endpoint(
    state: &AppState,
    did: &str,
    id: &str,
) -> Result<String, ServiceError> {
    let doc = did_document(state, did).await?;
    let want = format!("#{id}");
    let full = format!("{did}#{id}");
    doc.get("service")
        .and_then(Value::as_array)
        .and_then(|services| {
            services.iter().find(|s| {
                s.get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|i| i == want || i == full)
            })
        })
        .and_then(|s| s.get("serviceEndpoint").and_then(Value::as_str))
        .map(str::to_string)
        .ok_or_else(|| ServiceError::invalid(format!("{did} has no service #{id}")))
}

/// Whether `did`'s document names this server as its PDS.
pub async fn points_here(state: &AppState, did: &str) -> bool {
    match parsed_document(state, did).await {
        Ok(doc) => doc
            .pds_endpoint()
            .is_ok_and(|e| e.trim_end_matches('/') == state.public_url),
        Err(_) => false,
    }
}

/// The latest operation of a did:plc.
pub async fn last_op(state: &AppState, did: &str) -> Result<SignedOp, ServiceError> {
    let v = state.plc.last_op(did).await?;
    let bytes = serde_json::to_vec(&v).map_err(ServiceError::internal)?;
    SignedOp::from_json(&bytes)
        .map_err(|e| ServiceError::Upstream(format!("PLC directory returned a bad operation: {e}")))
}

/// The audit log of a did:plc.
pub async fn audit_log(state: &AppState, did: &str) -> Result<Vec<LogEntry>, ServiceError> {
    let v = state.plc.audit_log(did).await?;
    serde_json::from_value::<Vec<LogEntry>>(v)
        .map_err(|e| ServiceError::Upstream(format!("PLC directory returned a bad audit log: {e}")))
}

/// Submit a signed operation and forget the cached document.
pub async fn submit(state: &AppState, did: &str, op: &SignedOp) -> Result<(), ServiceError> {
    let json: Value = serde_json::to_value(op).map_err(ServiceError::internal)?;
    state.plc.submit(did, &json).await?;
    state.did_cache.invalidate(did);
    Ok(())
}

/// Build an update on top of the current operation, sign it with the relay's rotation
/// key (the lowest-priority key, which the user's key can always override), submit it.
pub async fn relay_update(
    state: &AppState,
    did: &str,
    change: impl FnOnce(UpdateBuilder) -> Result<UpdateBuilder, ServiceError>,
) -> Result<SignedOp, ServiceError> {
    let last = last_op(state, did).await?;
    let keys = last.op.rotation_keys();
    if !keys.contains(&state.relay_rotation_key.did_key()) {
        return Err(ServiceError::Forbidden(format!(
            "this server's rotation key is no longer in the rotationKeys of {did}; sign the change with your own rotation key"
        )));
    }
    let builder = change(UpdateBuilder::after(&last)?)?;
    let op = builder.sign(&state.relay_rotation_key)?;
    submit(state, did, &op).await?;
    Ok(op)
}

/// A service-auth token for `did` to call `aud` (optionally bound to method `lxm`).
pub async fn service_token(
    state: &AppState,
    did: &str,
    aud: &str,
    lxm: Option<&str>,
    exp: i64,
) -> Result<String, ServiceError> {
    let d = did.to_string();
    let account = state
        .db
        .read(move |c| accounts::by_did(c, &d))
        .await?
        .ok_or_else(|| ServiceError::RepoNotFound(did.to_string()))?;
    let key = state
        .kek
        .open_keypair(&super::repo::signing_key_label(did), &account.signing_key)?;
    let claims = jwt::ServiceClaims {
        iss: did.to_string(),
        aud: aud.to_string(),
        exp,
        iat: Some(jwt::now_secs()),
        lxm: lxm.map(str::to_string),
        jti: Some(jwt::random_id()),
    };
    Ok(jwt::sign_with_key(&key, "JWT", &claims))
}

/// Resolve a handle hosted elsewhere: DNS TXT `_atproto.<handle>`, then
/// `https://<handle>/.well-known/atproto-did`.
pub async fn resolve_external_handle(
    state: &AppState,
    handle: &str,
) -> Result<String, ServiceError> {
    state
        .handles
        .resolve(handle)
        .await
        .ok_or_else(|| ServiceError::Named("HandleNotFound", "Unable to resolve handle".into()))
}

/// Give an account a new signing key: publish it as `#atproto` with a PLC update signed
/// by the relay's rotation key, then sign every later commit with it. Relays hear
/// `#identity`. Returns the new key's did:key and the submitted operation.
pub async fn rotate_signing_key(
    state: &AppState,
    did: &str,
) -> Result<(String, SignedOp), ServiceError> {
    let d = did.to_string();
    state
        .db
        .read(move |c| accounts::by_did(c, &d))
        .await?
        .ok_or_else(|| ServiceError::RepoNotFound(did.to_string()))?;
    if !did.starts_with("did:plc:") {
        return Err(ServiceError::invalid(
            "only did:plc identities can be rotated by this server",
        ));
    }
    let key = pds::crypto::Keypair::generate(pds::crypto::Curve::Secp256k1);
    let public = key.public();
    let op = relay_update(state, did, move |b| Ok(b.atproto_signing_key(&public))).await?;
    let sealed = state
        .kek
        .seal_keypair(&super::repo::signing_key_label(did), &key)?;
    let (st, d) = (state.clone(), did.to_string());
    state
        .db
        .write(move |tx| -> Result<(), ServiceError> {
            accounts::set_signing_key(tx.conn(), &d, &sealed)?;
            super::repo::forget_signing_key(tx, &d);
            let handle = accounts::by_did(tx.conn(), &d)?.and_then(|a| a.handle);
            crate::firehose::sequencer::append(
                tx,
                &st.firehose,
                crate::firehose::sequencer::Pending::Identity {
                    did: d.clone(),
                    handle,
                },
            )?;
            Ok(())
        })
        .await?;
    Ok((key.did_key(), op))
}
