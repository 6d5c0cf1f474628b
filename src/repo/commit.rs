//! Repository commits, version 3: `{did, version: 3, data, rev, prev, sig}`.
//!
//! `prev` is always present (usually null), `data` is the MST root, `rev` a TID that
//! grows with every commit, and `sig` the 64-byte low-S signature of the DAG-CBOR
//! encoding of the same map without `sig`. Decoding is strict: exactly those six
//! fields with the right types, canonical bytes. This file builds, signs, decodes and
//! verifies commits; it does not read stores or trees.

use crate::crypto::{CryptoError, Keypair, PublicKey};
use crate::data::{DataError, Value, cbor, cid::for_cbor};
use crate::syntax::{Did, Tid};
use cid::Cid;
use serde::Serialize;
use thiserror::Error;

/// The only commit version written and accepted.
pub const COMMIT_VERSION: u64 = 3;

/// Why a commit was refused.
#[derive(Debug, Error)]
pub enum CommitError {
    /// Bytes that are not DAG-CBOR, or not a map.
    #[error("commit is not valid DAG-CBOR: {0}")]
    Decode(#[from] DataError),
    /// A map that is not a v3 commit (missing, extra or mistyped fields).
    #[error("not a v3 commit: {0}")]
    Shape(String),
    /// A commit with another version number.
    #[error("unsupported commit version {0} (only version 3 is accepted)")]
    UnsupportedVersion(i128),
    /// Bytes that decode but are not the canonical encoding of the commit.
    #[error("commit is not canonically encoded")]
    NonCanonical,
    /// A `rev` that is not a TID.
    #[error("invalid rev {0:?}: not a TID")]
    InvalidRev(String),
    /// A `did` that is not a DID.
    #[error("invalid DID {0:?}")]
    InvalidDid(String),
    /// The signature is malformed or does not verify.
    #[error("commit signature: {0}")]
    Signature(#[from] CryptoError),
}

#[derive(Serialize)]
struct UnsignedWire<'a> {
    did: &'a str,
    version: u64,
    data: Cid,
    rev: &'a str,
    prev: Option<Cid>,
}

#[derive(Serialize)]
struct SignedWire<'a> {
    did: &'a str,
    version: u64,
    data: Cid,
    rev: &'a str,
    prev: Option<Cid>,
    #[serde(with = "serde_bytes")]
    sig: &'a [u8],
}

/// A commit before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedCommit {
    /// The repository's DID.
    pub did: Did,
    /// The MST root.
    pub data: Cid,
    /// This commit's revision.
    pub rev: Tid,
    /// The previous commit's CID; atproto v3 writes null here.
    pub prev: Option<Cid>,
}

impl UnsignedCommit {
    /// A commit to sign.
    pub fn new(did: Did, data: Cid, rev: Tid, prev: Option<Cid>) -> Self {
        UnsignedCommit {
            did,
            data,
            rev,
            prev,
        }
    }

    /// The DAG-CBOR bytes that get signed.
    pub fn bytes(&self) -> Result<Vec<u8>, CommitError> {
        Ok(cbor::encode(&UnsignedWire {
            did: self.did.as_str(),
            version: COMMIT_VERSION,
            data: self.data,
            rev: self.rev.as_str(),
            prev: self.prev,
        })?)
    }

    /// Sign with the account's key: the result carries its block bytes and CID.
    pub fn sign(self, key: &Keypair) -> Result<SignedCommit, CommitError> {
        let sig = key.sign(&self.bytes()?).to_vec();
        let commit = Commit {
            did: self.did,
            version: COMMIT_VERSION,
            data: self.data,
            rev: self.rev,
            prev: self.prev,
            sig,
        };
        let bytes = commit.encode()?;
        let cid = for_cbor(&bytes);
        Ok(SignedCommit { commit, cid, bytes })
    }
}

/// A decoded, signed commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The repository's DID.
    pub did: Did,
    /// Always 3.
    pub version: u64,
    /// The MST root.
    pub data: Cid,
    /// The revision.
    pub rev: Tid,
    /// The previous commit, usually null in v3.
    pub prev: Option<Cid>,
    /// The signature over the unsigned commit's bytes.
    pub sig: Vec<u8>,
}

impl Commit {
    /// The canonical block bytes.
    pub fn encode(&self) -> Result<Vec<u8>, CommitError> {
        Ok(cbor::encode(&SignedWire {
            did: self.did.as_str(),
            version: self.version,
            data: self.data,
            rev: self.rev.as_str(),
            prev: self.prev,
            sig: &self.sig,
        })?)
    }

    /// Decode a commit block strictly (v3 shape, canonical bytes, valid DID and rev).
    pub fn decode(bytes: &[u8]) -> Result<Commit, CommitError> {
        let Value::Map(map) = cbor::decode_value(bytes)? else {
            return Err(CommitError::Shape("not a map".into()));
        };
        const FIELDS: [&str; 6] = ["data", "did", "prev", "rev", "sig", "version"];
        if let Some(extra) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(CommitError::Shape(format!("unexpected field {extra:?}")));
        }
        let field = |name: &str| {
            map.get(name)
                .ok_or_else(|| CommitError::Shape(format!("missing field {name:?}")))
        };
        let version = match field("version")? {
            Value::Integer(3) => COMMIT_VERSION,
            Value::Integer(v) => return Err(CommitError::UnsupportedVersion(*v)),
            _ => return Err(CommitError::Shape("version is not an integer".into())),
        };
        let Value::String(did) = field("did")? else {
            return Err(CommitError::Shape("did is not a string".into()));
        };
        let Value::Link(data) = field("data")? else {
            return Err(CommitError::Shape("data is not a CID link".into()));
        };
        let Value::String(rev) = field("rev")? else {
            return Err(CommitError::Shape("rev is not a string".into()));
        };
        let prev = match field("prev")? {
            Value::Null => None,
            Value::Link(c) => Some(*c),
            _ => {
                return Err(CommitError::Shape(
                    "prev is neither null nor a CID link".into(),
                ));
            }
        };
        let Value::Bytes(sig) = field("sig")? else {
            return Err(CommitError::Shape("sig is not a byte string".into()));
        };
        let did = Did::new(did).map_err(|_| CommitError::InvalidDid(did.clone()))?;
        let rev = Tid::new(rev).map_err(|_| CommitError::InvalidRev(rev.clone()))?;
        let commit = Commit {
            did,
            version,
            data: *data,
            rev,
            prev,
            sig: sig.clone(),
        };
        if commit.encode()? != bytes {
            return Err(CommitError::NonCanonical);
        }
        Ok(commit)
    }

    /// The commit without its signature.
    pub fn unsigned(&self) -> UnsignedCommit {
        UnsignedCommit {
            did: self.did.clone(),
            data: self.data,
            rev: self.rev.clone(),
            prev: self.prev,
        }
    }

    /// Check the signature with the account's public key.
    pub fn verify(&self, key: &PublicKey) -> Result<(), CommitError> {
        key.verify(&self.unsigned().bytes()?, &self.sig)?;
        Ok(())
    }

    /// Check the signature with a `did:key`.
    pub fn verify_did_key(&self, did_key: &str) -> Result<(), CommitError> {
        self.verify(&PublicKey::from_did_key(did_key)?)
    }
}

/// A signed commit with its block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCommit {
    /// The commit.
    pub commit: Commit,
    /// Its CID.
    pub cid: Cid,
    /// Its block bytes.
    pub bytes: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Curve;

    #[test]
    fn sign_decode_verify_both_curves() {
        for curve in [Curve::P256, Curve::Secp256k1] {
            let kp = Keypair::generate(curve);
            let data = for_cbor(b"root");
            let (Ok(did), Ok(rev)) = (Did::new("did:plc:abc"), Tid::new("3jzfcijpj2z2a")) else {
                panic!("test identifiers")
            };
            let Ok(signed) = UnsignedCommit::new(did, data, rev, None).sign(&kp) else {
                panic!("sign failed")
            };
            let back = Commit::decode(&signed.bytes);
            assert!(matches!(&back, Ok(c) if *c == signed.commit));
            assert!(signed.commit.verify(&kp.public()).is_ok());
            let other = Keypair::generate(curve);
            assert!(signed.commit.verify(&other.public()).is_err());
        }
    }
}
