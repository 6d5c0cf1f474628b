//! The recovery-key file pdsctl writes for `account create --generate-recovery-key FILE`:
//! a small JSON document with the curve, the public `did:key` and the private key
//! (multibase), created with mode 0600 and never over an existing file.
//!
//! The private key stays in zeroizing memory and is never printed or logged; only the
//! public `did:key` is shown. It is the user's rotation key, first in rotationKeys.

use crate::error::CliError;
use pds::crypto::{Curve, Keypair};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;
use zeroize::Zeroizing;

/// The `kind` field that marks the file.
pub const KIND: &str = "pdsctl-recovery-key";

#[derive(Serialize, Deserialize)]
struct KeyFile {
    kind: String,
    curve: Curve,
    did_key: String,
    private_key_multibase: Zeroizing<String>,
    note: String,
}

/// Make a rotation key on `curve` and write it to `path` (mode 0600, which must not exist
/// yet). Returns the key.
pub fn generate(path: &Path, curve: Curve, note: &str) -> Result<Keypair, CliError> {
    let key = Keypair::generate(curve);
    let doc = KeyFile {
        kind: KIND.into(),
        curve,
        did_key: key.did_key(),
        private_key_multibase: key.to_private_multikey(),
        note: note.into(),
    };
    let text = Zeroizing::new(
        serde_json::to_string_pretty(&doc)
            .map_err(|e| CliError::Failed(format!("cannot encode the key file: {e}")))?,
    );
    write_private(path, text.as_bytes())?;
    Ok(key)
}

/// Read a key file written by [`generate`]. The private key never leaves zeroizing
/// memory until it becomes a [`Keypair`] (which zeroizes itself).
pub fn read(path: &Path) -> Result<Keypair, CliError> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(CliError::io(format!("cannot read {}", path.display())))?,
    );
    let bad = |m: String| {
        CliError::Failed(format!(
            "{} is not a recovery-key file: {m}",
            path.display()
        ))
    };
    let doc: KeyFile = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    if doc.kind != KIND {
        return Err(bad(format!("kind is {:?}", doc.kind)));
    }
    let key = Keypair::from_private_multikey(&doc.private_key_multibase)
        .map_err(|e| bad(e.to_string()))?;
    if key.did_key() != doc.did_key || key.curve() != doc.curve {
        return Err(bad("its public key does not match its private key".into()));
    }
    Ok(key)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                CliError::Failed(format!(
                    "{} already exists; pdsctl never overwrites a key file (choose another name)",
                    path.display()
                ))
            } else {
                CliError::Io {
                    what: format!("cannot create {}", path.display()),
                    source: e,
                }
            }
        })?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(CliError::io(format!("cannot write {}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn key_file_round_trips_with_mode_0600_and_is_never_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("recovery.json");
        for curve in [Curve::Secp256k1, Curve::P256] {
            let _ = std::fs::remove_file(&path);
            let key = generate(&path, curve, "test").expect("generate");
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let back = read(&path).expect("read");
            assert_eq!(back.did_key(), key.did_key());
            assert_eq!(back.curve(), curve);
            assert!(generate(&path, curve, "again").is_err());
            assert_eq!(
                read(&path).expect("still the first").did_key(),
                key.did_key()
            );
        }
    }

    #[test]
    fn a_tampered_file_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k.json");
        generate(&path, Curve::Secp256k1, "test").expect("generate");
        let other = Keypair::generate(Curve::Secp256k1).did_key();
        let mut doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        doc["did_key"] = other.into();
        std::fs::write(&path, doc.to_string()).expect("write");
        assert!(read(&path).is_err());
    }
}
