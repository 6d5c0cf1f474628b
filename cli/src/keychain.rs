//! Where this machine keeps Share 1 of an account's backup: the OS keychain (macOS
//! Keychain, Windows Credential Manager, the Secret Service; only when pdsctl is built
//! with the `keychain` feature), or a file with mode 0600 in pdsctl's data folder
//! (`<data>/keychain/<did>.share`) when there is no keychain, as on a headless server.
//!
//! It stores the share's `pds-share-v1:` text and nothing else; it never holds two shares
//! of one account (storing replaces), never prints a share, and never decides whether a
//! share may live here (the backup command does: not beside the relay's escrow).

use crate::error::CliError;
use pds::secret::Share;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The keychain service name pdsctl's entries use.
#[cfg(feature = "keychain")]
const SERVICE: &str = "pdsctl-rotation-share";

/// Where Share 1 goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The OS keychain when available, else the file.
    Auto,
    /// The OS keychain, or fail.
    Os,
    /// The 0600 file in the data folder.
    File,
}

impl Mode {
    /// From `--keychain` (`none` is the file: no OS keychain).
    pub fn parse(s: &str) -> Mode {
        match s {
            "os" => Mode::Os,
            "file" | "none" => Mode::File,
            _ => Mode::Auto,
        }
    }
}

/// The keychain of one machine.
#[derive(Debug, Clone)]
pub struct Keychain {
    mode: Mode,
    dir: PathBuf,
}

/// Where a share was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Os,
    File(PathBuf),
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Os => f.write_str("the OS keychain"),
            Place::File(p) => write!(f, "{} (mode 0600)", p.display()),
        }
    }
}

fn file_name(did: &str) -> String {
    let safe: String = did
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{safe}.share")
}

impl Keychain {
    pub fn new(mode: Mode, data_dir: &Path) -> Self {
        Keychain {
            mode,
            dir: data_dir.join("keychain"),
        }
    }

    /// The fallback file of `did`'s share.
    pub fn file_path(&self, did: &str) -> PathBuf {
        self.dir.join(file_name(did))
    }

    fn use_os(&self) -> Result<bool, CliError> {
        match self.mode {
            Mode::File => Ok(false),
            Mode::Os if !os::available() => Err(CliError::Failed(
                "no OS keychain is available (pdsctl was built without the `keychain` feature, \
                 or no keychain service answers); use --keychain file"
                    .into(),
            )),
            Mode::Os => Ok(true),
            Mode::Auto => Ok(os::available()),
        }
    }

    /// Store `share` as `did`'s Share 1, replacing an earlier one.
    pub fn store(&self, did: &str, share: &Share) -> Result<Place, CliError> {
        let text = share.reveal_text();
        if self.use_os()? {
            os::store(did, &text)?;
            return Ok(Place::Os);
        }
        let path = self.file_path(did);
        crate::device_opts::write_private(&path, text.as_bytes())?;
        Ok(Place::File(path))
    }

    /// `did`'s Share 1, if this machine has one.
    pub fn load(&self, did: &str) -> Result<Option<(Share, Place)>, CliError> {
        if self.use_os()?
            && let Some(text) = os::load(did)?
        {
            let share = Share::from_text(&text).map_err(|e| {
                CliError::Failed(format!("the share in the OS keychain is damaged: {e}"))
            })?;
            return Ok(Some((share, Place::Os)));
        }
        let path = self.file_path(did);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => Zeroizing::new(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(CliError::Io {
                    what: format!("cannot read {}", path.display()),
                    source: e,
                });
            }
        };
        let share = Share::from_text(&text)
            .map_err(|e| CliError::Failed(format!("{} is not a share: {e}", path.display())))?;
        Ok(Some((share, Place::File(path))))
    }
}

#[cfg(feature = "keychain")]
mod os {
    use super::SERVICE;
    use crate::error::CliError;
    use zeroize::Zeroizing;

    pub fn available() -> bool {
        keyring::Entry::store_status().is_ok()
    }

    fn entry(did: &str) -> Result<keyring::Entry, CliError> {
        keyring::Entry::new(SERVICE, did)
            .map_err(|e| CliError::Failed(format!("the OS keychain: {e}")))
    }

    pub fn store(did: &str, text: &str) -> Result<(), CliError> {
        entry(did)?
            .set_password(text)
            .map_err(|e| CliError::Failed(format!("cannot write to the OS keychain: {e}")))
    }

    pub fn load(did: &str) -> Result<Option<Zeroizing<String>>, CliError> {
        match entry(did)?.get_password() {
            Ok(t) => Ok(Some(Zeroizing::new(t))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(CliError::Failed(format!(
                "cannot read the OS keychain: {e}"
            ))),
        }
    }
}

#[cfg(not(feature = "keychain"))]
mod os {
    use crate::error::CliError;
    use zeroize::Zeroizing;

    pub fn available() -> bool {
        false
    }

    pub fn store(_did: &str, _text: &str) -> Result<(), CliError> {
        Err(CliError::Failed(
            "pdsctl was built without the OS keychain".into(),
        ))
    }

    pub fn load(_did: &str) -> Result<Option<Zeroizing<String>>, CliError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pds::crypto::{Curve, Keypair};

    #[test]
    fn the_file_fallback_is_private_and_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let k = Keychain::new(Mode::File, dir.path());
        assert!(k.load("did:plc:abc").expect("empty").is_none());
        let key = Keypair::generate(Curve::Secp256k1);
        let shares = pds::secret::split(&key, 1).expect("split");
        let place = k.store("did:plc:abc", &shares[0]).expect("store");
        let Place::File(path) = &place else {
            panic!("file mode stores in a file");
        };
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let (back, _) = k.load("did:plc:abc").expect("load").expect("present");
        assert_eq!(back, shares[0]);
        assert!(k.load("did:plc:other").expect("other").is_none());
    }
}
