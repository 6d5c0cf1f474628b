//! The typed client of a relay's device API (`/v1`), over HTTP(S), used when pdsctl acts
//! as a *device* (`pdsctl device ...`, `pdsctl desktop sync`, `pdsctl backup ...`,
//! `pdsctl recover`, `pdsctl transfer ...`). One method per endpoint;
//! every call made as an enrolled device carries a fresh device token: an ES256
//! `device+jwt` signed by the device's P-256 key, bound to the relay (`aud`), the method
//! and path (`htm`, `htu`) and a nonce the relay issued for this one request.
//!
//! It knows the wire shapes of `/v1` (the subset pdsctl reads) and nothing about how
//! commands print. It never sees the admin socket: that is `client.rs`. The device's
//! private key is borrowed from [`crate::device_file::DeviceIdentity`] and never leaves
//! this process except as signatures.

use crate::device_file::DeviceIdentity;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pds::admin::Password;
use pds::crypto::Keypair;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

/// `/v1` paths, as the relay's route table names them.
pub mod paths {
    pub const NONCE: &str = "/v1/auth/nonce";
    pub const DEVICES: &str = "/v1/devices";
    pub const SNAPSHOT: &str = "/v1/relay/repo/snapshot";
    pub const SIGN_COMMIT: &str = "/v1/relay/commits/sign";
    pub const ROTATION_LOG: &str = "/v1/keys/rotation-log";
    pub const RECOVERY_INITIATE: &str = "/v1/recovery/initiate";
    pub const RECOVERY_VERIFY_KEY: &str = "/v1/recovery/verify-key";
    pub const RECOVERY_RESTORE: &str = "/v1/recovery/restore";
    pub const TRANSFER_INITIATE: &str = "/v1/transfer/initiate";
    pub const TRANSFER_ACCEPT: &str = "/v1/transfer/accept";
    pub const TRANSFER_COMPLETE: &str = "/v1/transfer/complete";

    /// `/v1/keys/shares/{id}` (a set id, or `current`).
    pub fn share(id: &str) -> String {
        format!("/v1/keys/shares/{id}")
    }

    /// `/v1/dids/{did}/rotate`.
    pub fn rotate(did: &str) -> String {
        format!("/v1/dids/{did}/rotate")
    }

    /// `/v1/devices/{id}` plus an optional action.
    pub fn device(id: &str, action: Option<&str>) -> String {
        match action {
            Some(a) => format!("/v1/devices/{id}/{a}"),
            None => format!("/v1/devices/{id}"),
        }
    }
}

/// How long a device token lives (the relay accepts at most 300 s).
const TOKEN_LIFETIME_SECS: i64 = 120;

/// What went wrong talking to a relay.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("cannot reach the relay at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The relay answered with an error document.
    #[error("{error}: {message}")]
    Api {
        status: u16,
        error: String,
        message: String,
    },
    #[error("the relay's answer to {what} is not what pdsctl expects: {reason}")]
    Protocol { what: String, reason: String },
    #[error("{0} is not a relay URL (use https://host, or http://localhost:port)")]
    BadUrl(String),
}

impl RelayError {
    /// A stable name for `--json` output (the relay's error name when it sent one).
    pub fn name(&self) -> &str {
        match self {
            RelayError::Unreachable { .. } => "RelayUnreachable",
            RelayError::Api { error, .. } => error,
            RelayError::Protocol { .. } => "ProtocolError",
            RelayError::BadUrl(_) => "Usage",
        }
    }

    /// The relay's error name, if it sent one.
    pub fn api_error(&self) -> Option<&str> {
        match self {
            RelayError::Api { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// The string at JSON `pointer` of an answer to `what`, or a protocol error naming it.
fn text_at(v: &Value, pointer: &str, what: &str) -> Result<String, RelayError> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| protocol(what)(format!("no {}", pointer.trim_start_matches('/'))))
}

fn protocol(what: &str) -> impl FnOnce(String) -> RelayError + '_ {
    move |reason| RelayError::Protocol {
        what: what.to_string(),
        reason,
    }
}

// -- wire types ------------------------------------------------------------------------

/// A device as `/v1` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfo {
    pub id: String,
    pub name: String,
    pub platform: String,
    pub kind: String,
    pub public_key: String,
    pub status: String,
    pub role: String,
    pub online: bool,
    pub created_at: String,
    #[serde(default)]
    pub approved_at: Option<String>,
    #[serde(default)]
    pub last_seen_at: Option<String>,
}

/// `POST /v1/devices`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Enrolled {
    pub did: String,
    pub device: DeviceInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairing_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<i64>,
}

/// `GET /v1/devices`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceList {
    pub did: String,
    pub devices: Vec<DeviceInfo>,
}

/// `POST /v1/devices/{id}/promote`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Promoted {
    pub device: DeviceInfo,
    pub mode: String,
}

/// `DELETE /v1/devices/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Removed {
    pub device: DeviceInfo,
    pub was_repo_host: bool,
    /// `{"status": "notPresent" | "removed" | "needsUserSignature", ...}`.
    pub rotation_keys: Value,
}

/// A repo's head as the relay holds it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Head {
    pub commit: String,
    pub rev: String,
}

/// `POST /v1/devices/{id}/heartbeat`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Heartbeat {
    pub online: bool,
    pub repo_host: bool,
    pub mode: String,
    pub head: Head,
}

/// One op of a signed commit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommitOp {
    pub action: String,
    pub path: String,
    #[serde(default)]
    pub cid: Option<String>,
}

/// `POST /v1/relay/commits/sign`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedCommit {
    pub cid: String,
    pub rev: String,
    /// The signed commit block, base64.
    pub commit: String,
    pub seq: i64,
    pub ops: Vec<CommitOp>,
}

impl SignedCommit {
    /// The signed commit block's bytes.
    pub fn commit_bytes(&self) -> Result<Vec<u8>, RelayError> {
        STANDARD
            .decode(&self.commit)
            .map_err(|e| protocol("commits/sign")(format!("commit is not base64: {e}")))
    }
}

/// The unsigned commit a desktop sends, with its new blocks as a CAR.
#[derive(Debug, Clone)]
pub struct CommitRequest<'a> {
    pub commit: &'a pds::repo::UnsignedCommit,
    pub blocks_car: &'a [u8],
}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<String>,
    message: Option<String>,
}

#[derive(Serialize)]
struct DeviceClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    htm: &'a str,
    htu: &'a str,
    nonce: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A token id: unique enough per process and moment (the nonce is the replay check).
fn token_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}-{nanos:x}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A device token (or, with `kid` = `None`, a proof of possession whose `iss` is the
/// key's did:key): compact JWS, ES256, low-S `r||s`.
pub fn device_token(
    key: &Keypair,
    kid: Option<&str>,
    iss: &str,
    aud: &str,
    method: &Method,
    path: &str,
    nonce: &str,
) -> String {
    let mut header = json!({ "typ": "device+jwt" });
    if let Some(k) = kid {
        header["kid"] = json!(k);
    }
    let iat = now_secs();
    let claims = DeviceClaims {
        iss,
        aud,
        htm: method.as_str(),
        htu: path,
        nonce,
        iat,
        exp: iat + TOKEN_LIFETIME_SECS,
        jti: token_id(),
    };
    // Serialising plain strings and integers cannot fail.
    let claims = serde_json::to_value(&claims).unwrap_or_default();
    pds::crypto::jws::sign(key, &header, &claims)
}

/// A relay, by its public URL.
#[derive(Debug, Clone)]
pub struct RelayClient {
    base: String,
    http: reqwest::Client,
}

impl RelayClient {
    /// A client for the relay at `url` (`https://host`; `http://` is for loopback tests).
    pub fn new(url: &str) -> Result<Self, RelayError> {
        let base = url.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("https://") || base.starts_with("http://")) || base.len() < 10 {
            return Err(RelayError::BadUrl(url.to_string()));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("pdsctl/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RelayError::Unreachable {
                url: base.clone(),
                reason: e.to_string(),
            })?;
        Ok(RelayClient { base, http })
    }

    /// The relay's URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    // -- not as a device ---------------------------------------------------------------

    /// The relay's service DID (the `aud` of device tokens).
    pub async fn service_did(&self) -> Result<String, RelayError> {
        let v: Value = self
            .send(
                Method::GET,
                "/xrpc/com.atproto.server.describeServer",
                None,
                None,
            )
            .await?
            .json_as("describeServer")
            .await?;
        text_at(&v, "/did", "describeServer")
    }

    /// An account session (createSession): the access token.
    pub async fn create_session(
        &self,
        identifier: &str,
        password: &Password,
    ) -> Result<String, RelayError> {
        let body = json!({ "identifier": identifier, "password": password.expose() });
        let v: Value = self
            .send(
                Method::POST,
                "/xrpc/com.atproto.server.createSession",
                Some(&body),
                None,
            )
            .await?
            .json_as("createSession")
            .await?;
        text_at(&v, "/accessJwt", "createSession")
    }

    /// The `#atproto` signing key of `did`, from the DID document the relay serves
    /// (describeRepo). Commits the relay signs are checked against it.
    pub async fn signing_key(&self, did: &str) -> Result<pds::crypto::PublicKey, RelayError> {
        let path = format!("/xrpc/com.atproto.repo.describeRepo?repo={did}");
        let v: Value = self
            .send(Method::GET, &path, None, None)
            .await?
            .json_as("describeRepo")
            .await?;
        let methods = v
            .pointer("/didDoc/verificationMethod")
            .and_then(Value::as_array)
            .ok_or_else(|| protocol("describeRepo")("no didDoc.verificationMethod".into()))?;
        let multibase = methods
            .iter()
            .find(|m| {
                m.get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|i| i.ends_with("#atproto"))
            })
            .and_then(|m| m.get("publicKeyMultibase"))
            .and_then(Value::as_str)
            .ok_or_else(|| protocol("describeRepo")("no #atproto key".into()))?;
        pds::crypto::PublicKey::from_multikey(multibase)
            .map_err(|e| protocol("describeRepo")(format!("#atproto key: {e}")))
    }

    async fn nonce(&self) -> Result<String, RelayError> {
        let v: Value = self
            .send(Method::POST, paths::NONCE, None, None)
            .await?
            .json_as("auth/nonce")
            .await?;
        text_at(&v, "/nonce", "auth/nonce")
    }

    /// Enrol `key` on `account`. With `session` the device is active at once; without,
    /// it is pending and the answer carries the pairing code.
    pub async fn enrol(
        &self,
        aud: &str,
        key: &Keypair,
        account: &str,
        name: &str,
        platform: &str,
        session: Option<&str>,
    ) -> Result<Enrolled, RelayError> {
        let did_key = key.did_key();
        let nonce = self.nonce().await?;
        let proof = device_token(
            key,
            None,
            &did_key,
            aud,
            &Method::POST,
            paths::DEVICES,
            &nonce,
        );
        let body = json!({
            "account": account,
            "name": name,
            "platform": platform,
            "publicKey": did_key,
            "proof": proof,
        });
        self.send(Method::POST, paths::DEVICES, Some(&body), session)
            .await?
            .json_as("POST /v1/devices")
            .await
    }

    // -- as an enrolled device -----------------------------------------------------------

    /// Call `method path` as `device`, with a fresh device token.
    async fn as_device(
        &self,
        device: &DeviceIdentity,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<reqwest::Response, RelayError> {
        let nonce = self.nonce().await?;
        let token = device_token(
            device.key(),
            Some(&device.device_id),
            &device.device_id,
            &device.aud,
            &method,
            path,
            &nonce,
        );
        self.send(method, path, body, Some(&token)).await
    }

    /// `GET /v1/devices`.
    pub async fn devices(&self, device: &DeviceIdentity) -> Result<DeviceList, RelayError> {
        self.as_device(device, Method::GET, paths::DEVICES, None)
            .await?
            .json_as("GET /v1/devices")
            .await
    }

    /// `POST /v1/devices/{id}/promote`.
    pub async fn promote(&self, device: &DeviceIdentity, id: &str) -> Result<Promoted, RelayError> {
        self.as_device(
            device,
            Method::POST,
            &paths::device(id, Some("promote")),
            None,
        )
        .await?
        .json_as("promote")
        .await
    }

    /// `DELETE /v1/devices/{id}`.
    pub async fn remove(&self, device: &DeviceIdentity, id: &str) -> Result<Removed, RelayError> {
        self.as_device(device, Method::DELETE, &paths::device(id, None), None)
            .await?
            .json_as("DELETE /v1/devices/{id}")
            .await
    }

    /// `POST /v1/devices/{id}/heartbeat` for this device (`sleeping`: going offline).
    pub async fn heartbeat(
        &self,
        device: &DeviceIdentity,
        sleeping: bool,
    ) -> Result<Heartbeat, RelayError> {
        let body = json!({ "state": if sleeping { "sleeping" } else { "online" } });
        self.as_device(
            device,
            Method::POST,
            &paths::device(&device.device_id, Some("heartbeat")),
            Some(&body),
        )
        .await?
        .json_as("heartbeat")
        .await
    }

    /// `GET /v1/relay/repo/snapshot`: the whole repo as CAR bytes.
    pub async fn snapshot(&self, device: &DeviceIdentity) -> Result<Vec<u8>, RelayError> {
        let res = self
            .as_device(device, Method::GET, paths::SNAPSHOT, None)
            .await?;
        let res = check(res).await?;
        res.bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| protocol("repo/snapshot")(e.to_string()))
    }

    /// `POST /v1/relay/commits/sign`.
    pub async fn sign_commit(
        &self,
        device: &DeviceIdentity,
        req: &CommitRequest<'_>,
    ) -> Result<SignedCommit, RelayError> {
        let c = req.commit;
        let body = json!({
            "commit": {
                "did": c.did.as_str(),
                "version": 3,
                "data": c.data.to_string(),
                "rev": c.rev.as_str(),
                "prev": c.prev.map(|p| p.to_string()),
            },
            "blocks": STANDARD.encode(req.blocks_car),
        });
        self.as_device(device, Method::POST, paths::SIGN_COMMIT, Some(&body))
            .await?
            .json_as("commits/sign")
            .await
    }

    // -- keys, recovery, transfer -------------------------------------------------------

    /// The DID of `account`: a DID as it is, a handle resolved by the relay.
    pub async fn resolve(&self, account: &str) -> Result<String, RelayError> {
        if account.starts_with("did:") {
            return Ok(account.to_string());
        }
        let path = format!("/xrpc/com.atproto.identity.resolveHandle?handle={account}");
        let v: Value = self
            .send(Method::GET, &path, None, None)
            .await?
            .json_as("resolveHandle")
            .await?;
        text_at(&v, "/did", "resolveHandle")
    }

    /// `GET /v1/keys/rotation-log`.
    pub async fn rotation_log(&self, device: &DeviceIdentity) -> Result<Value, RelayError> {
        self.as_device(device, Method::GET, paths::ROTATION_LOG, None)
            .await?
            .json_as("rotation-log")
            .await
    }

    /// `POST /v1/dids/{did}/rotate` with a new list of rotation keys.
    pub async fn rotate_keys(
        &self,
        device: &DeviceIdentity,
        keys: &[String],
    ) -> Result<Value, RelayError> {
        let body = json!({ "rotationKeys": keys });
        self.as_device(
            device,
            Method::POST,
            &paths::rotate(&device.did),
            Some(&body),
        )
        .await?
        .json_as("dids/rotate")
        .await
    }

    /// `PUT /v1/keys/shares/{set}`: hand the relay its share.
    pub async fn put_share(
        &self,
        device: &DeviceIdentity,
        share: &pds::secret::Share,
    ) -> Result<Value, RelayError> {
        let body = json!({ "share": share.reveal_text().as_str() });
        self.as_device(
            device,
            Method::PUT,
            &paths::share(&share.set_id().to_string()),
            Some(&body),
        )
        .await?
        .json_as("PUT keys/shares")
        .await
    }

    /// `GET /v1/keys/shares/current` with the account password (HTTP Basic): the share's
    /// `pds-share-v1:` text.
    pub async fn release_share(
        &self,
        identifier: &str,
        password: &Password,
    ) -> Result<zeroize::Zeroizing<String>, RelayError> {
        let res = self
            .http
            .get(format!("{}{}", self.base, paths::share("current")))
            .basic_auth(identifier, Some(password.expose()))
            .send()
            .await
            .map_err(|e| RelayError::Unreachable {
                url: self.base.clone(),
                reason: error_chain(&e),
            })?;
        let v: Value = check(res).await?.json_as("GET keys/shares").await?;
        v.get("share")
            .and_then(Value::as_str)
            .map(|s| zeroize::Zeroizing::new(s.to_string()))
            .ok_or_else(|| protocol("GET keys/shares")("no share".into()))
    }

    /// `POST /v1/recovery/initiate`.
    pub async fn recovery_initiate(
        &self,
        did: &str,
        rotation_key: &str,
    ) -> Result<Value, RelayError> {
        let body = json!({ "account": did, "rotationKey": rotation_key });
        self.send(Method::POST, paths::RECOVERY_INITIATE, Some(&body), None)
            .await?
            .json_as("recovery/initiate")
            .await
    }

    /// `POST /v1/recovery/verify-key`: `signature` over the challenge, and the new
    /// device `key` with its proof of possession.
    pub async fn recovery_verify_key(
        &self,
        aud: &str,
        recovery_id: &str,
        signature: &str,
        key: &Keypair,
        name: &str,
        platform: &str,
    ) -> Result<Value, RelayError> {
        let fields = json!({ "recoveryId": recovery_id, "signature": signature });
        self.post_new_device(aud, paths::RECOVERY_VERIFY_KEY, key, name, platform, fields)
            .await?
            .json_as("recovery/verify-key")
            .await
    }

    /// `GET /v1/recovery/restore`: the stream (repository and blobs, one CAR).
    pub async fn restore(&self, device: &DeviceIdentity) -> Result<reqwest::Response, RelayError> {
        self.as_device(device, Method::GET, paths::RECOVERY_RESTORE, None)
            .await
    }

    /// `POST /v1/transfer/initiate`.
    pub async fn transfer_initiate(&self, device: &DeviceIdentity) -> Result<Value, RelayError> {
        self.as_device(device, Method::POST, paths::TRANSFER_INITIATE, None)
            .await?
            .json_as("transfer/initiate")
            .await
    }

    /// `POST /v1/transfer/accept` for the new device `key`.
    #[allow(clippy::too_many_arguments)]
    pub async fn transfer_accept(
        &self,
        aud: &str,
        account: &str,
        code: &str,
        key: &Keypair,
        name: &str,
        platform: &str,
    ) -> Result<Value, RelayError> {
        let fields = json!({ "account": account, "code": code });
        self.post_new_device(aud, paths::TRANSFER_ACCEPT, key, name, platform, fields)
            .await?
            .json_as("transfer/accept")
            .await
    }

    /// `POST /v1/transfer/complete`.
    pub async fn transfer_complete(
        &self,
        device: &DeviceIdentity,
        transfer_id: &str,
        remove_old: bool,
    ) -> Result<Value, RelayError> {
        let body = json!({ "transferId": transfer_id, "removeOld": remove_old });
        self.as_device(device, Method::POST, paths::TRANSFER_COMPLETE, Some(&body))
            .await?
            .json_as("transfer/complete")
            .await
    }

    /// `com.atproto.identity.requestPlcOperationSignature` (the relay e-mails a code).
    pub async fn request_plc_signature(&self, session: &str) -> Result<(), RelayError> {
        self.send(
            Method::POST,
            "/xrpc/com.atproto.identity.requestPlcOperationSignature",
            None,
            Some(session),
        )
        .await?;
        Ok(())
    }

    /// `com.atproto.identity.signPlcOperation`: the relay signs `fields` (on top of the
    /// DID's latest operation) with its rotation key, given the e-mailed `token`.
    pub async fn sign_plc_operation(
        &self,
        session: &str,
        token: &str,
        fields: &pds::identity::PlcOperation,
    ) -> Result<pds::identity::SignedOp, RelayError> {
        let body = json!({
            "token": token,
            "rotationKeys": fields.rotation_keys,
            "verificationMethods": fields.verification_methods,
            "alsoKnownAs": fields.also_known_as,
            "services": fields.services,
        });
        let v: Value = self
            .send(
                Method::POST,
                "/xrpc/com.atproto.identity.signPlcOperation",
                Some(&body),
                Some(session),
            )
            .await?
            .json_as("signPlcOperation")
            .await?;
        let op = v
            .get("operation")
            .ok_or_else(|| protocol("signPlcOperation")("no operation".into()))?;
        let bytes =
            serde_json::to_vec(op).map_err(|e| protocol("signPlcOperation")(e.to_string()))?;
        pds::identity::SignedOp::from_json(&bytes)
            .map_err(|e| protocol("signPlcOperation")(e.to_string()))
    }

    // -- com.atproto, for an account moving in (`pdsctl recover --to URL`) ---------------

    /// `createAccount` for an existing `did`, proven with `service_token` (signed by one
    /// of the DID's keys); answers with the new account's access token.
    pub async fn create_account_for_did(
        &self,
        service_token: &str,
        did: &str,
        handle: &str,
        email: &str,
        password: &Password,
        invite_code: Option<&str>,
    ) -> Result<String, RelayError> {
        let mut body = json!({
            "did": did,
            "handle": handle,
            "email": email,
            "password": password.expose(),
        });
        if let Some(code) = invite_code {
            body["inviteCode"] = json!(code);
        }
        let v: Value = self
            .send(
                Method::POST,
                "/xrpc/com.atproto.server.createAccount",
                Some(&body),
                Some(service_token),
            )
            .await?
            .json_as("createAccount")
            .await?;
        text_at(&v, "/accessJwt", "createAccount")
    }

    /// `importRepo`: replace the signed-in account's repository with `car`.
    pub async fn import_repo(&self, session: &str, car: Vec<u8>) -> Result<(), RelayError> {
        self.send_bytes(
            "/xrpc/com.atproto.repo.importRepo",
            car,
            "application/vnd.ipld.car",
            session,
        )
        .await?;
        Ok(())
    }

    /// `uploadBlob`: the CID the server gives the bytes.
    pub async fn upload_blob(
        &self,
        session: &str,
        bytes: Vec<u8>,
        mime: &str,
    ) -> Result<String, RelayError> {
        let v: Value = self
            .send_bytes("/xrpc/com.atproto.repo.uploadBlob", bytes, mime, session)
            .await?
            .json_as("uploadBlob")
            .await?;
        text_at(&v, "/blob/ref/$link", "uploadBlob")
    }

    /// `listMissingBlobs`: CIDs the records name that the server does not hold (first page
    /// of up to 1,000).
    pub async fn missing_blobs(&self, session: &str) -> Result<Vec<String>, RelayError> {
        let v: Value = self
            .send(
                Method::GET,
                "/xrpc/com.atproto.repo.listMissingBlobs?limit=1000",
                None,
                Some(session),
            )
            .await?
            .json_as("listMissingBlobs")
            .await?;
        Ok(v.get("blobs")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|b| b.get("cid").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// `checkAccountStatus` of the signed-in account.
    pub async fn account_status(&self, session: &str) -> Result<Value, RelayError> {
        self.send(
            Method::GET,
            "/xrpc/com.atproto.server.checkAccountStatus",
            None,
            Some(session),
        )
        .await?
        .json_as("checkAccountStatus")
        .await
    }

    /// `getRecommendedDidCredentials`: what the DID must say to be hosted here.
    pub async fn recommended_credentials(&self, session: &str) -> Result<Value, RelayError> {
        self.send(
            Method::GET,
            "/xrpc/com.atproto.identity.getRecommendedDidCredentials",
            None,
            Some(session),
        )
        .await?
        .json_as("getRecommendedDidCredentials")
        .await
    }

    /// `submitPlcOperation`: the server checks the signed move and sends it to the PLC
    /// directory.
    pub async fn submit_plc_operation(
        &self,
        session: &str,
        op: &pds::identity::SignedOp,
    ) -> Result<(), RelayError> {
        let operation =
            serde_json::to_value(op).map_err(|e| protocol("submitPlcOperation")(e.to_string()))?;
        self.send(
            Method::POST,
            "/xrpc/com.atproto.identity.submitPlcOperation",
            Some(&json!({ "operation": operation })),
            Some(session),
        )
        .await?;
        Ok(())
    }

    /// `activateAccount`.
    pub async fn activate_account(&self, session: &str) -> Result<(), RelayError> {
        self.send(
            Method::POST,
            "/xrpc/com.atproto.server.activateAccount",
            None,
            Some(session),
        )
        .await?;
        Ok(())
    }

    /// The repository head the server holds for `did`: the commit's CID and its block,
    /// decoded (the block is checked against the CID).
    pub async fn head_commit(
        &self,
        did: &str,
    ) -> Result<(pds::Cid, pds::repo::Commit), RelayError> {
        let what = "getLatestCommit";
        let v: Value = self
            .send(
                Method::GET,
                &format!("/xrpc/com.atproto.sync.getLatestCommit?did={did}"),
                None,
                None,
            )
            .await?
            .json_as(what)
            .await?;
        let cid = text_at(&v, "/cid", what)?;
        let car = self
            .send(
                Method::GET,
                &format!("/xrpc/com.atproto.sync.getBlocks?did={did}&cids={cid}"),
                None,
                None,
            )
            .await?
            .bytes()
            .await
            .map_err(|e| protocol("getBlocks")(error_chain(&e)))?;
        let file = pds::car::read_all(std::io::Cursor::new(&car), Default::default())
            .map_err(|e| protocol("getBlocks")(e.to_string()))?;
        let cid = pds::data::cid::parse(&cid).map_err(|e| protocol(what)(e.to_string()))?;
        let block = file
            .blocks
            .get(&cid)
            .ok_or_else(|| protocol("getBlocks")("the commit block is missing".into()))?;
        let commit =
            pds::repo::Commit::decode(block).map_err(|e| protocol("getBlocks")(e.to_string()))?;
        Ok((cid, commit))
    }

    /// A proof of possession of `key` (not enrolled) for `method path`.
    /// POST to `path` on behalf of a device that is not enrolled yet: `fields` plus the
    /// new device's key, name, platform and its proof of possession for `path`.
    async fn post_new_device(
        &self,
        aud: &str,
        path: &str,
        key: &Keypair,
        name: &str,
        platform: &str,
        mut fields: Value,
    ) -> Result<reqwest::Response, RelayError> {
        let proof = self.proof(aud, key, &Method::POST, path).await?;
        if let Some(map) = fields.as_object_mut() {
            map.insert("deviceKey".into(), json!(key.did_key()));
            map.insert("deviceName".into(), json!(name));
            map.insert("platform".into(), json!(platform));
            map.insert("proof".into(), json!(proof));
        }
        self.send(Method::POST, path, Some(&fields), None).await
    }

    async fn proof(
        &self,
        aud: &str,
        key: &Keypair,
        method: &Method,
        path: &str,
    ) -> Result<String, RelayError> {
        let nonce = self.nonce().await?;
        Ok(device_token(
            key,
            None,
            &key.did_key(),
            aud,
            method,
            path,
            &nonce,
        ))
    }

    // -- plumbing --------------------------------------------------------------------------

    /// Send one request; an error status becomes [`RelayError::Api`] (see [`check`]).
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        bearer: Option<&str>,
    ) -> Result<reqwest::Response, RelayError> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.map_err(|e| RelayError::Unreachable {
            url: self.base.clone(),
            reason: error_chain(&e),
        })?;
        check(res).await
    }
}

impl RelayClient {
    /// POST raw bytes of `content_type` as the signed-in account.
    async fn send_bytes(
        &self,
        path: &str,
        bytes: Vec<u8>,
        content_type: &str,
        bearer: &str,
    ) -> Result<reqwest::Response, RelayError> {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(bearer)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(bytes)
            .send()
            .await
            .map_err(|e| RelayError::Unreachable {
                url: self.base.clone(),
                reason: error_chain(&e),
            })?;
        check(res).await
    }
}

/// Pass a success through; turn an error status into [`RelayError::Api`].
async fn check(res: reqwest::Response) -> Result<reqwest::Response, RelayError> {
    if res.status().is_success() {
        return Ok(res);
    }
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    let (error, message) = match serde_json::from_str::<ErrorBody>(&text) {
        Ok(b) => (
            b.error.unwrap_or_else(|| format!("Http{status}")),
            b.message.unwrap_or_else(|| format!("HTTP {status}")),
        ),
        Err(_) => (
            format!("Http{status}"),
            format!(
                "HTTP {status}: {}",
                text.chars().take(200).collect::<String>()
            ),
        ),
    };
    Err(RelayError::Api {
        status,
        error,
        message,
    })
}

/// Decoding a successful answer.
trait JsonAs {
    async fn json_as<T: DeserializeOwned>(self, what: &str) -> Result<T, RelayError>;
}

impl JsonAs for reqwest::Response {
    async fn json_as<T: DeserializeOwned>(self, what: &str) -> Result<T, RelayError> {
        let bytes = self
            .bytes()
            .await
            .map_err(|e| protocol(what)(error_chain(&e)))?;
        serde_json::from_slice(&bytes).map_err(|e| protocol(what)(e.to_string()))
    }
}

/// reqwest's error with its causes (the top level alone says little).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use pds::crypto::Curve;

    fn decode(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
    }

    #[test]
    fn device_tokens_are_es256_bound_to_the_request_and_verify() {
        let key = Keypair::generate(Curve::P256);
        let t = device_token(
            &key,
            Some("dev-1"),
            "dev-1",
            "did:web:relay.example.com",
            &Method::POST,
            "/v1/relay/commits/sign",
            "n0nce",
        );
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        let h = decode(parts[0]);
        assert_eq!(
            h,
            json!({"alg": "ES256", "typ": "device+jwt", "kid": "dev-1"})
        );
        let c = decode(parts[1]);
        assert_eq!(c["iss"], "dev-1");
        assert_eq!(c["aud"], "did:web:relay.example.com");
        assert_eq!(c["htm"], "POST");
        assert_eq!(c["htu"], "/v1/relay/commits/sign");
        assert_eq!(c["nonce"], "n0nce");
        let (iat, exp) = (
            c["iat"].as_i64().expect("iat"),
            c["exp"].as_i64().expect("exp"),
        );
        assert!(exp > iat && exp - iat <= 300);
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).expect("sig");
        key.public()
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .expect("the signature verifies with the device key");
        // A proof of possession has no kid, and a fresh jti each time.
        let p = device_token(
            &key,
            None,
            &key.did_key(),
            "a",
            &Method::POST,
            "/v1/devices",
            "n",
        );
        let ph = decode(p.split('.').next().expect("header"));
        assert!(ph.get("kid").is_none());
        let q = device_token(
            &key,
            None,
            &key.did_key(),
            "a",
            &Method::POST,
            "/v1/devices",
            "n",
        );
        assert_ne!(
            decode(p.split('.').nth(1).expect("claims"))["jti"],
            decode(q.split('.').nth(1).expect("claims"))["jti"]
        );
    }

    #[test]
    fn relay_urls_are_checked() {
        assert!(RelayClient::new("https://pds.example.com/").is_ok());
        assert_eq!(
            RelayClient::new("https://pds.example.com/")
                .expect("ok")
                .url(),
            "https://pds.example.com"
        );
        assert!(matches!(
            RelayClient::new("ftp://x.example"),
            Err(RelayError::BadUrl(_))
        ));
        assert!(matches!(
            RelayClient::new("pds.example.com"),
            Err(RelayError::BadUrl(_))
        ));
    }
}
