//! This machine as a device of a relay: the identity pdsctl keeps in its data folder
//! (`device.json`: the relay, the account, the device id and the device's P-256 private
//! key) and where the desktop's copy of the repo lives (`repo.car`).
//!
//! The file is created with mode 0600 inside a 0700 folder, replaced atomically, and
//! refused when others can read it. The private key is held in zeroizing memory, never
//! printed (Debug redacts it) and leaves the process only as signatures. Nothing here
//! talks to the network.

use crate::error::CliError;
use clap::Args;
use pds::crypto::{Curve, Keypair};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The `kind` field that marks the file.
pub const KIND: &str = "pdsctl-device";
/// The identity file's name in the data folder.
pub const FILE: &str = "device.json";
/// The desktop's repo copy in the data folder.
pub const REPO_FILE: &str = "repo.car";

/// Where pdsctl keeps this machine's device identity.
#[derive(Debug, Args, Clone)]
pub struct DataDirArgs {
    /// pdsctl's data folder, holding the device key (device.json, mode 0600) and the
    /// desktop's copy of the repo (repo.car). Also $PDSCTL_DATA_DIR.
    ///
    /// Default: the per-user data folder (e.g. ~/.local/share/pdsctl on Linux,
    /// ~/Library/Application Support/pdsctl on macOS).
    #[arg(long, env = "PDSCTL_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

impl DataDirArgs {
    /// The folder (not created).
    pub fn dir(&self) -> Result<PathBuf, CliError> {
        if let Some(d) = self.data_dir.as_ref().filter(|d| !d.as_os_str().is_empty()) {
            return Ok(d.clone());
        }
        directories::ProjectDirs::from("", "", "pdsctl")
            .map(|p| p.data_dir().to_path_buf())
            .ok_or_else(|| {
                CliError::Usage("no home folder to keep the device key in; pass --data-dir".into())
            })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct File {
    kind: String,
    relay: String,
    aud: String,
    did: String,
    #[serde(default)]
    handle: Option<String>,
    device_id: String,
    name: String,
    platform: String,
    public_key: String,
    private_key_multibase: Zeroizing<String>,
}

/// This machine's enrolment with a relay.
pub struct DeviceIdentity {
    /// The relay's URL.
    pub relay: String,
    /// The relay's service DID (the `aud` of device tokens).
    pub aud: String,
    /// The account.
    pub did: String,
    pub handle: Option<String>,
    pub device_id: String,
    pub name: String,
    pub platform: String,
    key: Keypair,
}

impl std::fmt::Debug for DeviceIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceIdentity")
            .field("relay", &self.relay)
            .field("did", &self.did)
            .field("device_id", &self.device_id)
            .field("public_key", &self.key.did_key())
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl DeviceIdentity {
    /// A new identity (not saved yet).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        relay: String,
        aud: String,
        did: String,
        handle: Option<String>,
        device_id: String,
        name: String,
        platform: String,
        key: Keypair,
    ) -> Self {
        DeviceIdentity {
            relay,
            aud,
            did,
            handle,
            device_id,
            name,
            platform,
            key,
        }
    }

    /// The device's key (P-256).
    pub fn key(&self) -> &Keypair {
        &self.key
    }

    /// The identity file in `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(FILE)
    }

    /// Whether `dir` holds an identity.
    pub fn exists(dir: &Path) -> bool {
        Self::path(dir).exists()
    }

    /// Read the identity in `dir`.
    pub fn load(dir: &Path) -> Result<Self, CliError> {
        let path = Self::path(dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => Zeroizing::new(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CliError::Failed(format!(
                    "this machine is not enrolled as a device (no {}); run `pdsctl device enroll` first",
                    path.display()
                )));
            }
            Err(e) => {
                return Err(CliError::Io {
                    what: format!("cannot read {}", path.display()),
                    source: e,
                });
            }
        };
        check_private(&path)?;
        let bad = |m: String| {
            CliError::Failed(format!(
                "{} is not a pdsctl device file: {m}",
                path.display()
            ))
        };
        let f: File = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if f.kind != KIND {
            return Err(bad(format!("kind is {:?}", f.kind)));
        }
        let key = Keypair::from_private_multikey(&f.private_key_multibase)
            .map_err(|e| bad(e.to_string()))?;
        if key.curve() != Curve::P256 || key.did_key() != f.public_key {
            return Err(bad(
                "its public key does not match its private key (or is not P-256)".into(),
            ));
        }
        Ok(DeviceIdentity {
            relay: f.relay,
            aud: f.aud,
            did: f.did,
            handle: f.handle,
            device_id: f.device_id,
            name: f.name,
            platform: f.platform,
            key,
        })
    }

    /// Write the identity into `dir` (created 0700 if missing), replacing the file
    /// atomically; the file is 0600 from its first byte.
    pub fn save(&self, dir: &Path) -> Result<(), CliError> {
        let f = File {
            kind: KIND.into(),
            relay: self.relay.clone(),
            aud: self.aud.clone(),
            did: self.did.clone(),
            handle: self.handle.clone(),
            device_id: self.device_id.clone(),
            name: self.name.clone(),
            platform: self.platform.clone(),
            public_key: self.key.did_key(),
            private_key_multibase: self.key.to_private_multikey(),
        };
        let text = Zeroizing::new(
            serde_json::to_string_pretty(&f)
                .map_err(|e| CliError::Failed(format!("cannot encode the device file: {e}")))?,
        );
        write_private_atomic(dir, FILE, text.as_bytes())
    }

    /// Delete the identity file (the key is gone for good).
    pub fn forget(dir: &Path) -> Result<(), CliError> {
        let path = Self::path(dir);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(CliError::Io {
                what: format!("cannot delete {}", path.display()),
                source: e,
            }),
        }
    }
}

/// Refuse a key file that others may read (as ssh does).
fn check_private(path: &Path) -> Result<(), CliError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(CliError::io(format!("cannot inspect {}", path.display())))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(CliError::Failed(format!(
            "{} holds a private key but others may read it (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    Ok(())
}

/// Create `dir` (0700) if needed.
pub fn ensure_dir(dir: &Path) -> Result<(), CliError> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(CliError::io(format!("cannot create {}", dir.display())))
}

/// Write `bytes` to `dir/name` through a 0600 temporary file and a rename, so readers
/// see the old file or the new one, never half of one.
pub fn write_private_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), CliError> {
    use std::os::unix::fs::OpenOptionsExt;
    ensure_dir(dir)?;
    let target = dir.join(name);
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &target)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        CliError::Io {
            what: format!("cannot write {}", target.display()),
            source: e,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn identity() -> DeviceIdentity {
        DeviceIdentity::new(
            "https://relay.example.com".into(),
            "did:web:relay.example.com".into(),
            "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa".into(),
            Some("alice.example.com".into()),
            "dev-1".into(),
            "laptop".into(),
            "linux".into(),
            Keypair::generate(Curve::P256),
        )
    }

    #[test]
    fn the_file_is_private_round_trips_and_debug_redacts_the_key() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("pdsctl");
        let id = identity();
        id.save(&dir).expect("save");
        let path = DeviceIdentity::path(&dir);
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dmode = std::fs::metadata(&dir).expect("meta").permissions().mode() & 0o777;
        assert_eq!(dmode, 0o700);
        let back = DeviceIdentity::load(&dir).expect("load");
        assert_eq!(back.key().did_key(), id.key().did_key());
        assert_eq!(back.device_id, "dev-1");
        let secret = id.key().to_private_multikey();
        let shown = format!("{back:?}");
        assert!(!shown.contains(secret.as_str()), "{shown}");
        assert!(shown.contains("redacted"));
        // Saved again (an update) it stays private.
        back.save(&dir).expect("save again");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_readable_or_tampered_file_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        identity().save(dir).expect("save");
        let path = DeviceIdentity::path(dir);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = DeviceIdentity::load(dir).expect_err("readable by others");
        assert!(err.to_string().contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let mut doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        doc["publicKey"] = Keypair::generate(Curve::P256).did_key().into();
        std::fs::write(&path, doc.to_string()).expect("write");
        assert!(DeviceIdentity::load(dir).is_err());
        DeviceIdentity::forget(dir).expect("forget");
        let err = DeviceIdentity::load(dir).expect_err("gone");
        assert!(err.to_string().contains("pdsctl device enroll"), "{err}");
    }
}
