//! The export folder shared by `pdsctl export` (writes it) and `pdsctl import` (reads it):
//! `manifest.json`, `repo.car` and `blobs/<cid>`, plus the checks that make a folder
//! trustworthy: each blob hashes to its CID, the CAR verifies as the manifest's repository.
//!
//! Everything read from a folder is treated as untrusted: CIDs are parsed before they
//! become file names (so a manifest cannot point outside the folder), and nothing is
//! believed until it verified.

use crate::error::CliError;
use pds::admin::ExportManifest;
use std::path::{Path, PathBuf};

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The repository's file name.
pub const REPO_CAR: &str = "repo.car";
/// The blob folder's name.
pub const BLOBS: &str = "blobs";

/// What a verified folder holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub records: u64,
    pub blobs: u64,
}

/// An export folder.
#[derive(Debug, Clone)]
pub struct ExportDir {
    root: PathBuf,
}

impl ExportDir {
    pub fn new(root: &Path) -> Self {
        ExportDir {
            root: root.to_path_buf(),
        }
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.root.join(MANIFEST)
    }

    pub fn car_path(&self) -> PathBuf {
        self.root.join(REPO_CAR)
    }

    /// The file of one blob; the CID is checked first, so it cannot name another path.
    pub fn blob_path(&self, cid: &str) -> Result<PathBuf, CliError> {
        let parsed = pds::data::cid::parse(cid)
            .map_err(|e| CliError::Failed(format!("blob CID {cid:?}: {e}")))?;
        Ok(self.root.join(BLOBS).join(parsed.to_string()))
    }

    /// Create the folder for an export of `did`; refuse one that holds another account.
    pub fn prepare(&self, did: &str) -> Result<(), CliError> {
        std::fs::create_dir_all(self.root.join(BLOBS)).map_err(CliError::io(format!(
            "cannot create {}",
            self.root.display()
        )))?;
        if let Ok(m) = self.read_manifest()
            && m.did != did
        {
            return Err(CliError::Failed(format!(
                "{} holds an export of {}, not {did}; choose another folder",
                self.root.display(),
                m.did
            )));
        }
        Ok(())
    }

    /// Read `manifest.json`.
    pub fn read_manifest(&self) -> Result<ExportManifest, CliError> {
        let path = self.manifest_path();
        let bytes = std::fs::read(&path)
            .map_err(CliError::io(format!("cannot read {}", path.display())))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            CliError::Failed(format!("{} is not an export manifest: {e}", path.display()))
        })
    }

    /// Write `manifest.json` (complete or not at all).
    pub fn write_manifest(&self, m: &ExportManifest) -> Result<(), CliError> {
        let path = self.manifest_path();
        let text = serde_json::to_vec_pretty(m)
            .map_err(|e| CliError::Failed(format!("cannot encode the manifest: {e}")))?;
        let partial = partial_path(&path);
        std::fs::write(&partial, text)
            .and_then(|()| std::fs::rename(&partial, &path))
            .map_err(CliError::io(format!("cannot write {}", path.display())))
    }

    /// Verify the whole folder against `m`: the CAR as a repository, every blob by CID.
    pub fn verify(&self, m: &ExportManifest) -> Result<Verified, CliError> {
        let records = verify_repo(&self.car_path(), m)?;
        for b in &m.blobs {
            let path = self.blob_path(&b.cid)?;
            verify_blob(&path, &b.cid)?;
            let size = std::fs::metadata(&path)
                .map_err(CliError::io(format!("cannot read {}", path.display())))?
                .len();
            if size != b.size {
                return Err(CliError::Failed(format!(
                    "blob {} has {size} bytes, the manifest says {}",
                    b.cid, b.size
                )));
            }
        }
        Ok(Verified {
            records,
            blobs: m.blobs.len() as u64,
        })
    }
}

/// `<path>.partial`, where downloads go until they are complete.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".partial");
    PathBuf::from(s)
}

/// Check that the file at `path` hashes to `cid`.
pub fn verify_blob(path: &Path, cid: &str) -> Result<(), CliError> {
    let parsed = pds::data::cid::parse(cid)
        .map_err(|e| CliError::Failed(format!("blob CID {cid:?}: {e}")))?;
    let bytes =
        std::fs::read(path).map_err(CliError::io(format!("cannot read {}", path.display())))?;
    pds::data::cid::verify(&parsed, &bytes)
        .map_err(|e| CliError::Failed(format!("{} does not match its CID: {e}", path.display())))
}

/// Verify the CAR at `path` as the repository the manifest describes: the whole tree and
/// the commit's signature (with the manifest's signing key), the DID, the commit CID and
/// the MST root. Returns its number of records.
pub fn verify_repo(path: &Path, m: &ExportManifest) -> Result<u64, CliError> {
    let bad =
        |what: String| CliError::Failed(format!("{} does not verify: {what}", path.display()));
    let key = m
        .signing_key
        .as_deref()
        .ok_or_else(|| bad("the manifest names no signing key".into()))?;
    let key = pds::crypto::PublicKey::from_did_key(key).map_err(|e| bad(e.to_string()))?;
    let file = std::fs::File::open(path)
        .map_err(CliError::io(format!("cannot read {}", path.display())))?;
    let mut opts = pds::repo::VerifyOptions::new(&key);
    opts.did = Some(&m.did);
    let repo = pds::repo::verify_car(std::io::BufReader::new(file), &opts)
        .map_err(|e| bad(e.to_string()))?;
    if repo.commit_cid.to_string() != m.commit {
        return Err(bad(format!(
            "its commit is {}, the manifest says {}",
            repo.commit_cid, m.commit
        )));
    }
    if repo.commit.data.to_string() != m.data {
        return Err(bad(format!(
            "its MST root is {}, the manifest says {}",
            repo.commit.data, m.data
        )));
    }
    Ok(repo.records.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_cid(bytes: &[u8]) -> String {
        pds::data::cid::for_raw(bytes).to_string()
    }

    #[test]
    fn blobs_verify_by_cid_and_bad_cids_never_become_paths() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = ExportDir::new(dir.path());
        d.prepare("did:plc:abc").expect("prepare");
        let cid = raw_cid(b"hello");
        let path = d.blob_path(&cid).expect("path");
        assert!(path.starts_with(dir.path().join(BLOBS)));
        std::fs::write(&path, b"hello").expect("write");
        verify_blob(&path, &cid).expect("verifies");
        std::fs::write(&path, b"hellO").expect("write");
        assert!(verify_blob(&path, &cid).is_err());
        for bad in ["../../etc/passwd", "", "bafy/../x"] {
            assert!(d.blob_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_folder_of_another_account_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = ExportDir::new(dir.path());
        d.prepare("did:plc:abc").expect("prepare");
        let m = ExportManifest {
            did: "did:plc:abc".into(),
            handle: None,
            email: None,
            signing_key: None,
            commit: "c".into(),
            rev: "r".into(),
            data: "d".into(),
            blobs: vec![],
        };
        d.write_manifest(&m).expect("write");
        assert_eq!(d.read_manifest().expect("read"), m);
        d.prepare("did:plc:abc").expect("same account resumes");
        assert!(d.prepare("did:plc:other").is_err());
    }
}
