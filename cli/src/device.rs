//! This machine as a device of an account: its P-256 device key (kept in a 0600 file in
//! pdsctl's data folder, `<data>/devices/<did>.json`), the id the relay gave it, and the
//! device tokens it signs for each `/v1` request (ES256 `device+jwt`, one nonce each,
//! as docs/api.md describes).
//!
//! It holds only the device key, never a rotation key or a share. Enrolment itself is in
//! [`crate::relay`]; this module stores and signs.

use crate::error::CliError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pds::crypto::{Curve, Keypair};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Write `bytes` to `path` with mode 0600 (created, or truncated), creating the folder
/// with mode 0700.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(CliError::io(format!("cannot create {}", dir.display())))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(CliError::io(format!("cannot write {}", path.display())))?;
    // An older file may have been looser.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .and_then(|()| f.write_all(bytes))
        .and_then(|()| f.sync_all())
        .map_err(CliError::io(format!("cannot write {}", path.display())))
}

/// The file as stored.
#[derive(Serialize, Deserialize)]
struct Stored {
    kind: String,
    did: String,
    relay: String,
    device_id: String,
    name: String,
    platform: String,
    /// `pending` until a transfer completes, then `active`.
    #[serde(default)]
    status: String,
    public_key: String,
    private_key_multibase: Zeroizing<String>,
}

const KIND: &str = "pdsctl-device";

/// This machine's device identity for one account.
pub struct Device {
    pub did: String,
    /// The relay's public URL.
    pub relay: String,
    pub id: String,
    pub name: String,
    pub platform: String,
    pub status: String,
    pub key: Keypair,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("did", &self.did)
            .field("relay", &self.relay)
            .field("id", &self.id)
            .field("key", &self.key.did_key())
            .finish_non_exhaustive()
    }
}

/// A fresh P-256 device key.
pub fn new_key() -> Keypair {
    Keypair::generate(Curve::P256)
}

/// The name a new device gives itself: `pdsctl on <host>`.
pub fn default_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "this machine".into());
    let name = format!("pdsctl on {host}");
    name.chars().take(64).collect()
}

/// The platform name the relay knows this machine by.
pub fn platform() -> &'static str {
    if cfg!(target_os = "macos") {
        "macos"
    } else if cfg!(target_os = "windows") {
        "windows"
    } else {
        "linux"
    }
}

fn safe(did: &str) -> String {
    did.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// The file of `did`'s device identity.
pub fn path(data_dir: &Path, did: &str) -> PathBuf {
    data_dir.join("devices").join(format!("{}.json", safe(did)))
}

impl Device {
    /// Save to the data folder (0600).
    pub fn save(&self, data_dir: &Path) -> Result<PathBuf, CliError> {
        let stored = Stored {
            kind: KIND.into(),
            did: self.did.clone(),
            relay: self.relay.clone(),
            device_id: self.id.clone(),
            name: self.name.clone(),
            platform: self.platform.clone(),
            status: self.status.clone(),
            public_key: self.key.did_key(),
            private_key_multibase: self.key.to_private_multikey(),
        };
        let text = Zeroizing::new(
            serde_json::to_vec_pretty(&stored)
                .map_err(|e| CliError::Failed(format!("cannot encode the device: {e}")))?,
        );
        let p = path(data_dir, &self.did);
        write_private(&p, &text)?;
        Ok(p)
    }

    /// This machine's device for `did` at `relay`, if it has one.
    pub fn load(data_dir: &Path, did: &str, relay: &str) -> Result<Option<Device>, CliError> {
        let p = path(data_dir, did);
        let text = match std::fs::read(&p) {
            Ok(t) => Zeroizing::new(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(CliError::Io {
                    what: format!("cannot read {}", p.display()),
                    source: e,
                });
            }
        };
        let stored: Stored = serde_json::from_slice(&text).map_err(|e| {
            CliError::Failed(format!("{} is not a pdsctl device file: {e}", p.display()))
        })?;
        if stored.kind != KIND || stored.did != did {
            return Err(CliError::Failed(format!(
                "{} is not this account's device file",
                p.display()
            )));
        }
        if stored.relay.trim_end_matches('/') != relay.trim_end_matches('/') {
            return Ok(None);
        }
        let key = Keypair::from_private_multikey(&stored.private_key_multibase)
            .map_err(|e| CliError::Failed(format!("the device key in {}: {e}", p.display())))?;
        Ok(Some(Device {
            did: stored.did,
            relay: stored.relay,
            id: stored.device_id,
            name: stored.name,
            platform: stored.platform,
            status: if stored.status.is_empty() {
                "active".into()
            } else {
                stored.status
            },
            key,
        }))
    }

    /// Forget this machine's device for `did` (its local state).
    pub fn forget(data_dir: &Path, did: &str) -> Result<bool, CliError> {
        let p = path(data_dir, did);
        match std::fs::remove_file(&p) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(CliError::Io {
                what: format!("cannot remove {}", p.display()),
                source: e,
            }),
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// A device token (or, with `kid` = None and `iss` = the key's did:key, a proof of
/// possession) for `method path` at the relay `aud`, with a fresh `nonce`.
pub fn token(
    key: &Keypair,
    kid: Option<&str>,
    aud: &str,
    method: &str,
    path: &str,
    nonce: &str,
) -> String {
    let mut header = serde_json::json!({ "alg": key.curve().jwt_alg(), "typ": "device+jwt" });
    if let Some(k) = kid {
        header["kid"] = serde_json::json!(k);
    }
    let iat = now();
    let mut jti = [0u8; 12];
    // The nonce is what the relay checks against replays; a jti only labels the token,
    // so a failing generator (all zeros) does not make the token unsafe.
    let _ = getrandom::fill(&mut jti);
    let claims = serde_json::json!({
        "iss": kid.map(str::to_string).unwrap_or_else(|| key.did_key()),
        "aud": aud,
        "htm": method,
        "htu": path,
        "nonce": nonce,
        "iat": iat,
        "exp": iat + 120,
        "jti": URL_SAFE_NO_PAD.encode(jti),
    });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_round_trips_and_belongs_to_one_relay() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = Device {
            did: "did:plc:abc".into(),
            relay: "http://127.0.0.1:1".into(),
            id: "dev-1".into(),
            name: "n".into(),
            platform: "linux".into(),
            status: "active".into(),
            key: new_key(),
        };
        let p = d.save(dir.path()).expect("save");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).expect("meta").permissions().mode() & 0o777,
            0o600
        );
        let back = Device::load(dir.path(), "did:plc:abc", "http://127.0.0.1:1/")
            .expect("load")
            .expect("present");
        assert_eq!(back.key.did_key(), d.key.did_key());
        assert!(
            Device::load(dir.path(), "did:plc:abc", "http://other")
                .expect("load")
                .is_none()
        );
        assert!(Device::forget(dir.path(), "did:plc:abc").expect("forget"));
        assert!(
            Device::load(dir.path(), "did:plc:abc", "http://127.0.0.1:1")
                .expect("load")
                .is_none()
        );
    }

    #[test]
    fn tokens_verify_with_the_device_key() {
        let k = new_key();
        let t = token(
            &k,
            Some("dev-1"),
            "did:web:x",
            "GET",
            "/v1/relay/mode",
            "n1",
        );
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).expect("sig");
        k.public()
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .expect("verifies");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("claims"))
                .expect("json");
        assert_eq!(claims["iss"], "dev-1");
        assert_eq!(claims["htu"], "/v1/relay/mode");
    }
}
