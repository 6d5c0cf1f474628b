//! Secrets at rest: the key-encryption key (KEK) and the sealing of private keys with it.
//!
//! The KEK comes from `PDSD_KEK`/`secrets.kek`, or from `<data_dir>/secrets/kek` (created
//! with mode 0600 on first start). Every private key pdsd keeps (account signing keys, the
//! relay's rotation key, the session-token secret) is stored sealed with
//! XChaCha20-Poly1305 under the KEK, with associated data naming what it is, so a sealed
//! value cannot be swapped for another. Nothing here logs or prints key material.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::io::Write;
use std::path::Path;
use zeroize::{Zeroize, Zeroizing};

const SEAL_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// Why a secret could not be loaded or opened.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key-encryption key: {0}")]
    Kek(String),
    #[error("cannot open a sealed secret ({0}): wrong key-encryption key or corrupted data")]
    Open(String),
    #[error("random number generator failed: {0}")]
    Random(String),
    #[error("key: {0}")]
    Crypto(#[from] pds::crypto::CryptoError),
}

/// The key-encryption key. Debug is redacted; the bytes are zeroized on drop.
pub struct Kek {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(redacted)")
    }
}

/// Fill a buffer from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], KeyError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(b)
}

impl Kek {
    /// A KEK from raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Kek {
            key: Zeroizing::new(bytes),
        }
    }

    /// Load the KEK: from configuration/environment when given, else from
    /// `<data_dir>/secrets/kek`, creating it (mode 0600, folder 0700) if absent.
    pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<Kek, KeyError> {
        if let Some(hex) = configured {
            return crate::config::parse_kek(hex)
                .map(Kek::from_bytes)
                .map_err(KeyError::Kek);
        }
        let dir = data_dir.join("secrets");
        let path = dir.join("kek");
        if path.exists() {
            check_private(&path)?;
            let mut text = std::fs::read_to_string(&path)
                .map_err(|e| KeyError::Kek(format!("{}: {e}", path.display())))?;
            let parsed = crate::config::parse_kek(&text);
            text.zeroize();
            return parsed
                .map(Kek::from_bytes)
                .map_err(|e| KeyError::Kek(format!("{}: {e}", path.display())));
        }
        create_private_dir(&dir)?;
        let bytes = random_bytes::<32>()?;
        let mut hex = Zeroizing::new(String::with_capacity(65));
        for b in bytes {
            hex.push_str(&format!("{b:02x}"));
        }
        hex.push('\n');
        write_private_file(&path, hex.as_bytes())
            .map_err(|e| KeyError::Kek(format!("{}: {e}", path.display())))?;
        Ok(Kek::from_bytes(bytes))
    }

    /// Seal `plaintext`, binding it to `label` (e.g. `signing-key:did:plc:...`).
    pub fn seal(&self, label: &str, plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        let cipher = XChaCha20Poly1305::new((&*self.key).into());
        let nonce_bytes = random_bytes::<NONCE_LEN>()?;
        let nonce = XNonce::from(nonce_bytes);
        let ct = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: label.as_bytes(),
                },
            )
            .map_err(|_| KeyError::Open(label.to_string()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(SEAL_VERSION);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Open what [`Kek::seal`] sealed under the same label.
    pub fn open(&self, label: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != SEAL_VERSION {
            return Err(KeyError::Open(label.to_string()));
        }
        let mut nonce_bytes = [0u8; NONCE_LEN];
        nonce_bytes.copy_from_slice(&sealed[1..1 + NONCE_LEN]);
        let cipher = XChaCha20Poly1305::new((&*self.key).into());
        cipher
            .decrypt(
                &XNonce::from(nonce_bytes),
                Payload {
                    msg: &sealed[1 + NONCE_LEN..],
                    aad: label.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| KeyError::Open(label.to_string()))
    }

    /// Seal a private key (its private multikey form).
    pub fn seal_keypair(
        &self,
        label: &str,
        key: &pds::crypto::Keypair,
    ) -> Result<Vec<u8>, KeyError> {
        self.seal(label, key.to_private_multikey().as_bytes())
    }

    /// Open a sealed private key.
    pub fn open_keypair(
        &self,
        label: &str,
        sealed: &[u8],
    ) -> Result<pds::crypto::Keypair, KeyError> {
        let bytes = self.open(label, sealed)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| KeyError::Open(label.to_string()))?;
        Ok(pds::crypto::Keypair::from_private_multikey(text)?)
    }
}

/// Create a folder readable only by its owner.
pub fn create_private_dir(dir: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.exists() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| KeyError::Kek(format!("{}: {e}", dir.display())))
}

/// Write a file with mode 0600 (created exclusively: never overwrites an existing secret).
pub fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn check_private(path: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let meta =
        std::fs::metadata(path).map_err(|e| KeyError::Kek(format!("{}: {e}", path.display())))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(KeyError::Kek(format!(
            "{} is readable by other users; run `chmod 600 {}`",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_label_binding() {
        let kek = Kek::from_bytes([7u8; 32]);
        let sealed = kek.seal("a", b"secret").expect("seal");
        assert_eq!(kek.open("a", &sealed).expect("open").as_slice(), b"secret");
        assert!(
            kek.open("b", &sealed).is_err(),
            "another label must not open it"
        );
        let other = Kek::from_bytes([8u8; 32]);
        assert!(
            other.open("a", &sealed).is_err(),
            "another KEK must not open it"
        );
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(kek.open("a", &tampered).is_err());
        assert!(kek.open("a", &[]).is_err());
    }

    #[test]
    fn kek_file_is_created_private_and_reloaded() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let a = Kek::load(None, dir.path()).expect("create");
        let mode = std::fs::metadata(dir.path().join("secrets/kek"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = Kek::load(None, dir.path()).expect("reload");
        let sealed = a.seal("x", b"y").expect("seal");
        assert_eq!(b.open("x", &sealed).expect("open").as_slice(), b"y");
        assert!(format!("{a:?}").contains("redacted"));
    }
}
