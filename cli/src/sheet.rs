//! Writing a recovery sheet (Share 3 on paper) to disk: the plain-text and the printable
//! HTML forms that `pds::secret::RecoverySheet` renders, side by side, mode 0600 (they
//! are secret until printed), and reading the words back from a words file or a sheet.
//!
//! The wording and layout belong to the library; this module only picks file names.

use crate::error::CliError;
use pds::secret::{RecoverySheet, Share};
use std::path::{Path, PathBuf};

/// The two files of a sheet.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Written {
    pub text: PathBuf,
    pub html: PathBuf,
}

/// `out` without a `.txt`/`.html` extension: the sheet is `<base>.txt` and `<base>.html`.
pub fn base(out: &Path) -> PathBuf {
    match out.extension().and_then(|e| e.to_str()) {
        Some("txt" | "html" | "htm") => out.with_extension(""),
        _ => out.to_path_buf(),
    }
}

fn with_suffix(base: &Path, suffix: &str) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Write the sheet of `share` for `did` / `handle`, dated today.
pub fn write(share: &Share, did: &str, handle: &str, out: &Path) -> Result<Written, CliError> {
    let sheet = RecoverySheet::new(share, did, handle, chrono::Utc::now().date_naive());
    let b = base(out);
    let written = Written {
        text: with_suffix(&b, ".txt"),
        html: with_suffix(&b, ".html"),
    };
    crate::device_opts::write_private(&written.text, sheet.reveal_text().as_bytes())?;
    crate::device_opts::write_private(&written.html, sheet.reveal_html().as_bytes())?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_are_written_next_to_each_other() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = pds::crypto::Keypair::generate(pds::crypto::Curve::Secp256k1);
        let shares = pds::secret::split(&key, 1).expect("split");
        let w = write(
            &shares[2],
            "did:plc:abc",
            "alice.test",
            &dir.path().join("sheet.html"),
        )
        .expect("write");
        assert_eq!(w.text, dir.path().join("sheet.txt"));
        assert_eq!(w.html, dir.path().join("sheet.html"));
        let text = std::fs::read_to_string(&w.text).expect("text");
        let phrase = shares[2].reveal_words().reveal_phrase();
        let first = phrase.split(' ').next().expect("a word");
        assert!(text.contains(first));
        assert!(text.contains(&key.did_key()));
    }
}
