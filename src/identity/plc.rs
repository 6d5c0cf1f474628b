//! did:plc operations: their types and JSON/DAG-CBOR forms, signing, signature
//! verification, the CID and DID they hash to, the spec's constraints, and builders
//! for the operations an atproto PDS issues.
//!
//! Operations are kept exactly as signed (keys as did:key strings, `prev` as the
//! CID string), because the signature and the CID cover those exact strings.
//! This module judges single operations only; the rules that relate operations to
//! each other (prev chains, nullification, the recovery window) live in
//! [`super::log`]. It does no I/O.

use super::PlcError;
use super::check;
use crate::crypto::{Curve, Keypair, PublicKey};
use crate::data::{cbor, cid as cids};
use crate::syntax::Handle;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cid::Cid;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};

/// Largest signed operation, in DAG-CBOR bytes (did:plc spec, "7500 bytes").
pub const MAX_OP_BYTES: usize = 7500;
/// Most rotation keys an operation may list (the spec's "at most 5").
pub const MAX_ROTATION_KEYS: usize = 5;
/// Most `verificationMethods` entries (spec v0.2 limit of 10).
pub const MAX_VERIFICATION_METHODS: usize = 10;
/// Most `alsoKnownAs` entries (the reference directory's limit).
pub const MAX_ALSO_KNOWN_AS: usize = 10;
/// Longest `alsoKnownAs` entry: a 253-character handle plus `at://`.
pub const MAX_ALSO_KNOWN_AS_LEN: usize = 258;
/// Most `services` entries (the reference directory's limit).
pub const MAX_SERVICES: usize = 10;
/// Longest verification-method or service id (the reference directory's limit).
pub const MAX_ID_LEN: usize = 32;
/// Longest service `type`.
pub const MAX_SERVICE_TYPE_LEN: usize = 256;
/// Longest service `endpoint`.
pub const MAX_SERVICE_ENDPOINT_LEN: usize = 512;
/// Longest verification-method did:key string.
pub const MAX_DID_KEY_LEN: usize = 256;

/// The verification method id of the atproto signing key.
pub const ATPROTO_VERIFICATION_METHOD: &str = "atproto";
/// The service id of the atproto PDS.
pub const ATPROTO_PDS_SERVICE: &str = "atproto_pds";
/// The service type of the atproto PDS.
pub const ATPROTO_PDS_TYPE: &str = "AtprotoPersonalDataServer";

/// A service entry of an operation: `{type, endpoint}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// The service type, e.g. `AtprotoPersonalDataServer`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The service URL.
    pub endpoint: String,
}

/// The body of a `plc_operation`: the full document data plus `prev`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlcOperation {
    /// did:keys in priority order (index 0 is the strongest).
    pub rotation_keys: Vec<String>,
    /// Verification-method id (without `#`) to did:key.
    pub verification_methods: BTreeMap<String, String>,
    /// URIs, most important first (`at://handle` for atproto).
    pub also_known_as: Vec<String>,
    /// Service id (without `#`) to service.
    pub services: BTreeMap<String, Service>,
    /// The CID string of the operation this one builds on; `None` for a genesis.
    pub prev: Option<String>,
}

/// The body of a `plc_tombstone`: only the operation it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlcTombstone {
    /// The CID string of the operation being tombstoned.
    pub prev: String,
}

/// The body of a deprecated `create` genesis operation (found only at the start of
/// old logs; its `prev` is always null).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyCreate {
    /// The atproto signing key (also the second rotation key).
    pub signing_key: String,
    /// The recovery key (the first rotation key).
    pub recovery_key: String,
    /// A bare handle, without `at://`.
    pub handle: String,
    /// The PDS URL.
    pub service: String,
}

/// An operation without its signature: what gets signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnsignedOp {
    /// `plc_operation`: creation or update.
    Operation(PlcOperation),
    /// `plc_tombstone`: deactivation.
    Tombstone(PlcTombstone),
    /// `create`: the legacy genesis format.
    LegacyCreate(LegacyCreate),
}

/// A signed operation, as submitted to and served by a PLC directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedOp {
    /// What was signed.
    pub op: UnsignedOp,
    /// The signature: unpadded base64url of the 64-byte compact `r || s`.
    pub sig: String,
}

// ---------------------------------------------------------------------------
// Wire forms. One borrowed form serves both the unsigned bytes (sig omitted
// entirely, as the spec requires) and the signed JSON/DAG-CBOR; the owned form
// parses strictly (no unknown fields, `prev` must be present even when null).

#[derive(Serialize)]
#[serde(tag = "type")]
enum WireOut<'a> {
    #[serde(rename = "plc_operation", rename_all = "camelCase")]
    Operation {
        rotation_keys: &'a [String],
        verification_methods: &'a BTreeMap<String, String>,
        also_known_as: &'a [String],
        services: &'a BTreeMap<String, Service>,
        prev: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        sig: Option<&'a str>,
    },
    #[serde(rename = "plc_tombstone")]
    Tombstone {
        prev: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        sig: Option<&'a str>,
    },
    #[serde(rename = "create", rename_all = "camelCase")]
    LegacyCreate {
        signing_key: &'a str,
        recovery_key: &'a str,
        handle: &'a str,
        service: &'a str,
        prev: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        sig: Option<&'a str>,
    },
}

#[derive(Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
enum WireIn {
    #[serde(rename = "plc_operation", rename_all = "camelCase")]
    Operation {
        rotation_keys: Vec<String>,
        verification_methods: BTreeMap<String, String>,
        also_known_as: Vec<String>,
        services: BTreeMap<String, Service>,
        #[serde(deserialize_with = "present_nullable")]
        prev: Option<String>,
        sig: String,
    },
    #[serde(rename = "plc_tombstone")]
    Tombstone { prev: String, sig: String },
    #[serde(rename = "create", rename_all = "camelCase")]
    LegacyCreate {
        signing_key: String,
        recovery_key: String,
        handle: String,
        service: String,
        #[serde(deserialize_with = "present_null")]
        prev: (),
        sig: String,
    },
}

/// A nullable field that must still be present (`deserialize_with` makes serde
/// require it).
fn present_nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

/// A field that must be present and null.
fn present_null<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(()),
        Some(_) => Err(serde::de::Error::custom(
            "prev of a legacy create operation must be null",
        )),
    }
}

impl UnsignedOp {
    fn wire<'a>(&'a self, sig: Option<&'a str>) -> WireOut<'a> {
        match self {
            UnsignedOp::Operation(o) => WireOut::Operation {
                rotation_keys: &o.rotation_keys,
                verification_methods: &o.verification_methods,
                also_known_as: &o.also_known_as,
                services: &o.services,
                prev: o.prev.as_deref(),
                sig,
            },
            UnsignedOp::Tombstone(t) => WireOut::Tombstone { prev: &t.prev, sig },
            UnsignedOp::LegacyCreate(c) => WireOut::LegacyCreate {
                signing_key: &c.signing_key,
                recovery_key: &c.recovery_key,
                handle: &c.handle,
                service: &c.service,
                prev: None,
                sig,
            },
        }
    }

    /// The DAG-CBOR bytes that get signed: the operation without any `sig` field.
    pub fn unsigned_bytes(&self) -> Result<Vec<u8>, PlcError> {
        Ok(cbor::encode(&self.wire(None))?)
    }

    /// The operation's `prev` CID string (`None` for a creation).
    pub fn prev(&self) -> Option<&str> {
        match self {
            UnsignedOp::Operation(o) => o.prev.as_deref(),
            UnsignedOp::Tombstone(t) => Some(&t.prev),
            UnsignedOp::LegacyCreate(_) => None,
        }
    }

    /// The document data this operation sets, in `plc_operation` form (a legacy
    /// `create` is translated as the spec describes); `None` for a tombstone.
    pub fn normalized(&self) -> Option<PlcOperation> {
        match self {
            UnsignedOp::Operation(o) => Some(o.clone()),
            UnsignedOp::Tombstone(_) => None,
            UnsignedOp::LegacyCreate(c) => Some(c.normalized()),
        }
    }

    /// The rotation keys this operation hands control to (empty for a tombstone).
    pub fn rotation_keys(&self) -> Vec<String> {
        match self {
            UnsignedOp::Operation(o) => o.rotation_keys.clone(),
            UnsignedOp::Tombstone(_) => Vec::new(),
            UnsignedOp::LegacyCreate(c) => vec![c.recovery_key.clone(), c.signing_key.clone()],
        }
    }

    /// Check the spec's constraints on a new operation: key types and counts,
    /// duplicates, id and URI shapes, size limits on each field, and a canonical
    /// `prev`. The legacy `create` form is refused here: it is only read from old logs.
    pub fn check_constraints(&self) -> Result<(), PlcError> {
        match self {
            UnsignedOp::Operation(o) => o.check_constraints(),
            UnsignedOp::Tombstone(t) => check_prev(&t.prev).map(|_| ()),
            UnsignedOp::LegacyCreate(_) => Err(PlcError::LegacyCreate),
        }
    }

    /// Check the constraints, then sign with `signer` (DAG-CBOR without `sig`,
    /// ECDSA-SHA256, low-S, unpadded base64url). Whether `signer` is allowed to sign
    /// is a question for the log; the builders check it for you.
    pub fn sign(self, signer: &Keypair) -> Result<SignedOp, PlcError> {
        self.check_constraints()?;
        let bytes = self.unsigned_bytes()?;
        let sig = encode_sig(&signer.sign(&bytes));
        let signed = SignedOp { op: self, sig };
        signed.check_size()?;
        Ok(signed)
    }
}

impl LegacyCreate {
    /// The `plc_operation` equivalent of a legacy create, as the reference
    /// implementation defines it.
    pub fn normalized(&self) -> PlcOperation {
        let handle = if self.handle.starts_with("at://") {
            self.handle.clone()
        } else {
            let bare = self
                .handle
                .replacen("http://", "", 1)
                .replacen("https://", "", 1);
            format!("at://{bare}")
        };
        let endpoint =
            if self.service.starts_with("http://") || self.service.starts_with("https://") {
                self.service.clone()
            } else {
                format!("https://{}", self.service)
            };
        PlcOperation {
            rotation_keys: vec![self.recovery_key.clone(), self.signing_key.clone()],
            verification_methods: BTreeMap::from([(
                ATPROTO_VERIFICATION_METHOD.to_string(),
                self.signing_key.clone(),
            )]),
            also_known_as: vec![handle],
            services: BTreeMap::from([(
                ATPROTO_PDS_SERVICE.to_string(),
                Service {
                    kind: ATPROTO_PDS_TYPE.to_string(),
                    endpoint,
                },
            )]),
            prev: None,
        }
    }
}

impl PlcOperation {
    fn check_constraints(&self) -> Result<(), PlcError> {
        // Rotation keys: 1..=5, P-256/secp256k1 did:keys, no duplicates.
        let count = self.rotation_keys.len();
        if count == 0 || count > MAX_ROTATION_KEYS {
            return Err(PlcError::RotationKeyCount {
                count,
                max: MAX_ROTATION_KEYS,
            });
        }
        let mut seen = HashSet::new();
        for key in &self.rotation_keys {
            PublicKey::from_did_key(key).map_err(|source| PlcError::RotationKey {
                key: key.clone(),
                source,
            })?;
            if !seen.insert(key.as_str()) {
                return Err(PlcError::DuplicateRotationKey(key.clone()));
            }
        }

        // Verification methods.
        let count = self.verification_methods.len();
        if count > MAX_VERIFICATION_METHODS {
            return Err(PlcError::VerificationMethodCount {
                count,
                max: MAX_VERIFICATION_METHODS,
            });
        }
        for (id, key) in &self.verification_methods {
            if let Some(reason) = id_problem(id) {
                return Err(PlcError::VerificationMethod {
                    id: id.clone(),
                    reason: reason.to_string(),
                });
            }
            if key.len() > MAX_DID_KEY_LEN {
                return Err(PlcError::VerificationMethod {
                    id: id.clone(),
                    reason: format!("did:key longer than {MAX_DID_KEY_LEN} characters"),
                });
            }
            // The spec (v0.2) lets verification methods hold any did:key; this
            // project only ever deals in the two atproto curves.
            PublicKey::from_did_key(key).map_err(|source| PlcError::VerificationMethodKey {
                id: id.clone(),
                source,
            })?;
        }

        // alsoKnownAs: URIs, bounded, unique.
        let count = self.also_known_as.len();
        if count > MAX_ALSO_KNOWN_AS {
            return Err(PlcError::AlsoKnownAsCount {
                count,
                max: MAX_ALSO_KNOWN_AS,
            });
        }
        let mut seen = HashSet::new();
        for uri in &self.also_known_as {
            let bad = |reason: &str| PlcError::AlsoKnownAs {
                uri: uri.clone(),
                reason: reason.to_string(),
            };
            if uri.len() > MAX_ALSO_KNOWN_AS_LEN {
                return Err(bad("longer than 258 characters"));
            }
            if !crate::syntax::is_valid_uri(uri) {
                return Err(bad("not a URI"));
            }
            if !seen.insert(uri.as_str()) {
                return Err(bad("listed more than once"));
            }
        }

        // Services: bounded; ids, types and endpoints of sane shape.
        let count = self.services.len();
        if count > MAX_SERVICES {
            return Err(PlcError::ServiceCount {
                count,
                max: MAX_SERVICES,
            });
        }
        for (id, service) in &self.services {
            let bad = |reason: String| PlcError::Service {
                id: id.clone(),
                reason,
            };
            if let Some(reason) = id_problem(id) {
                return Err(bad(reason.to_string()));
            }
            if service.kind.is_empty() || service.kind.len() > MAX_SERVICE_TYPE_LEN {
                return Err(bad(format!(
                    "type must be 1 to {MAX_SERVICE_TYPE_LEN} characters"
                )));
            }
            if service.endpoint.len() > MAX_SERVICE_ENDPOINT_LEN {
                return Err(bad(format!(
                    "endpoint longer than {MAX_SERVICE_ENDPOINT_LEN} characters"
                )));
            }
            if !crate::syntax::is_valid_uri(&service.endpoint) {
                return Err(bad("endpoint is not a URI".to_string()));
            }
            if service.kind == ATPROTO_PDS_TYPE
                && let Some(reason) = check::http_url_problem(&service.endpoint, false)
            {
                return Err(bad(format!("endpoint {reason}")));
            }
        }

        if let Some(prev) = &self.prev {
            check_prev(prev)?;
        }
        Ok(())
    }
}

/// Problems with a verification-method or service id, if any.
fn id_problem(id: &str) -> Option<&'static str> {
    if id.is_empty() || id.len() > MAX_ID_LEN {
        Some("id must be 1 to 32 characters")
    } else if id.starts_with('#') {
        Some("id must not start with '#' (it is added in the DID document)")
    } else if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("id must not contain whitespace")
    } else {
        None
    }
}

/// Parse `prev` and insist on the spec's form: CIDv1, dag-cbor, sha2-256, written
/// in base32 (so that the string itself, which is what gets signed, is canonical).
pub fn check_prev(prev: &str) -> Result<Cid, PlcError> {
    let bad = |reason: String| PlcError::InvalidPrev {
        prev: prev.to_string(),
        reason,
    };
    let cid = cids::parse_atproto(prev).map_err(|e| bad(e.to_string()))?;
    if cid.codec() != cids::DAG_CBOR {
        return Err(bad("codec must be dag-cbor".into()));
    }
    if cid.to_string() != prev {
        return Err(bad("must be written in base32 (the 'b...' form)".into()));
    }
    Ok(cid)
}

/// Encode a 64-byte signature the way PLC operations carry it.
pub fn encode_sig(sig: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(sig)
}

/// Decode a `sig` strictly: unpadded base64url, zero trailing bits, nothing else.
pub fn decode_sig(sig: &str) -> Result<Vec<u8>, PlcError> {
    URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|e| PlcError::SignatureEncoding(e.to_string()))
}

impl SignedOp {
    /// Parse the JSON form (strict: unknown fields and missing `prev` are refused).
    pub fn from_json(json: &[u8]) -> Result<Self, PlcError> {
        serde_json::from_slice(json).map_err(|e| PlcError::Malformed(e.to_string()))
    }

    /// The JSON form.
    pub fn to_json(&self) -> Result<String, PlcError> {
        serde_json::to_string(self).map_err(|e| PlcError::Malformed(e.to_string()))
    }

    /// The DAG-CBOR bytes of the signed operation (what the CID and DID hash).
    pub fn to_cbor(&self) -> Result<Vec<u8>, PlcError> {
        Ok(cbor::encode(&self.op.wire(Some(&self.sig)))?)
    }

    /// The operation's CID (CIDv1, dag-cbor, sha2-256), as `prev` links name it.
    pub fn cid(&self) -> Result<Cid, PlcError> {
        Ok(cids::for_cbor(&self.to_cbor()?))
    }

    /// Whether this is a creation (`prev: null`, not a tombstone).
    pub fn is_genesis(&self) -> bool {
        self.op.prev().is_none()
    }

    /// Whether this is a tombstone.
    pub fn is_tombstone(&self) -> bool {
        matches!(self.op, UnsignedOp::Tombstone(_))
    }

    /// The did:plc this genesis operation creates: `did:plc:` + the first 24
    /// characters of the lower-case, unpadded base32 of SHA-256 of the signed
    /// operation's DAG-CBOR.
    pub fn genesis_did(&self) -> Result<String, PlcError> {
        if !self.is_genesis() {
            return Err(PlcError::NotGenesis);
        }
        let digest = Sha256::digest(self.to_cbor()?);
        let b32 = multibase::Base::Base32Lower.encode(digest.as_slice());
        let id: String = b32.chars().take(24).collect();
        Ok(format!("did:plc:{id}"))
    }

    /// Verify the signature against rotation keys given as did:key strings, in
    /// priority order. Returns the index of the first key that verifies.
    ///
    /// Keys that are not P-256/secp256k1 did:keys cannot have signed and are
    /// passed over (their index still counts).
    pub fn verify(&self, rotation_keys: &[String]) -> Result<usize, PlcError> {
        let keys: Vec<Option<PublicKey>> = rotation_keys
            .iter()
            .map(|k| PublicKey::from_did_key(k).ok())
            .collect();
        self.verify_with(&keys)
    }

    /// Like [`SignedOp::verify`], with keys already parsed.
    pub fn verify_keys(&self, rotation_keys: &[PublicKey]) -> Result<usize, PlcError> {
        let keys: Vec<Option<PublicKey>> = rotation_keys.iter().cloned().map(Some).collect();
        self.verify_with(&keys)
    }

    fn verify_with(&self, keys: &[Option<PublicKey>]) -> Result<usize, PlcError> {
        let sig = decode_sig(&self.sig)?;
        if sig.len() != 64 {
            return Err(PlcError::SignatureLength(sig.len()));
        }
        if keys.is_empty() {
            return Err(PlcError::NoRotationKeys);
        }
        let msg = self.op.unsigned_bytes()?;
        for (i, key) in keys.iter().enumerate() {
            let Some(key) = key else { continue };
            match key.verify(&msg, &sig) {
                Ok(()) => return Ok(i),
                // A high-S signature is refused before any key is tried: say so.
                Err(crate::crypto::CryptoError::HighS) => return Err(PlcError::HighS),
                Err(_) => {}
            }
        }
        Err(PlcError::BadSignature { tried: keys.len() })
    }

    /// Check the spec's constraints on a new operation, including its signed size
    /// and the encoding of its signature (not the signature's validity: that needs
    /// the log).
    pub fn check_constraints(&self) -> Result<(), PlcError> {
        self.op.check_constraints()?;
        let sig = decode_sig(&self.sig)?;
        if sig.len() != 64 {
            return Err(PlcError::SignatureLength(sig.len()));
        }
        self.check_size()
    }

    fn check_size(&self) -> Result<(), PlcError> {
        let size = self.to_cbor()?.len();
        if size > MAX_OP_BYTES {
            return Err(PlcError::TooLarge {
                size,
                limit: MAX_OP_BYTES,
            });
        }
        Ok(())
    }
}

impl Serialize for SignedOp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.op.wire(Some(&self.sig)).serialize(s)
    }
}

impl<'de> Deserialize<'de> for SignedOp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match WireIn::deserialize(d)? {
            WireIn::Operation {
                rotation_keys,
                verification_methods,
                also_known_as,
                services,
                prev,
                sig,
            } => SignedOp {
                op: UnsignedOp::Operation(PlcOperation {
                    rotation_keys,
                    verification_methods,
                    also_known_as,
                    services,
                    prev,
                }),
                sig,
            },
            WireIn::Tombstone { prev, sig } => SignedOp {
                op: UnsignedOp::Tombstone(PlcTombstone { prev }),
                sig,
            },
            WireIn::LegacyCreate {
                signing_key,
                recovery_key,
                handle,
                service,
                prev: (),
                sig,
            } => SignedOp {
                op: UnsignedOp::LegacyCreate(LegacyCreate {
                    signing_key,
                    recovery_key,
                    handle,
                    service,
                }),
                sig,
            },
        })
    }
}

// ---------------------------------------------------------------------------
// Builders.

fn handle_uri(handle: &str) -> Result<String, PlcError> {
    let bare = handle.strip_prefix("at://").unwrap_or(handle);
    let handle = Handle::new(bare).map_err(|_| PlcError::Handle(handle.to_string()))?;
    Ok(format!("at://{}", handle.as_str()))
}

fn pds_service(endpoint: &str) -> Result<Service, PlcError> {
    if let Some(reason) = check::http_url_problem(endpoint, true) {
        return Err(PlcError::Service {
            id: ATPROTO_PDS_SERVICE.to_string(),
            reason: format!("endpoint {endpoint:?} {reason}"),
        });
    }
    Ok(Service {
        kind: ATPROTO_PDS_TYPE.to_string(),
        endpoint: endpoint.trim_end_matches('/').to_string(),
    })
}

fn rotation_key_strings(keys: &[PublicKey]) -> Vec<String> {
    keys.iter().map(PublicKey::to_did_key).collect()
}

fn check_signer(signer: &Keypair, allowed: &[String]) -> Result<(), PlcError> {
    let did_key = signer.did_key();
    if allowed.contains(&did_key) {
        Ok(())
    } else {
        Err(PlcError::SignerNotRotationKey(did_key))
    }
}

/// The genesis operation of an atproto account: rotation keys, the `#atproto`
/// signing key, `at://handle`, and the `#atproto_pds` service.
#[derive(Debug, Clone)]
pub struct AtprotoGenesis {
    /// Rotation keys in priority order (1 to 5).
    pub rotation_keys: Vec<PublicKey>,
    /// The repository signing key (`#atproto`).
    pub signing_key: PublicKey,
    /// The handle, without `at://`.
    pub handle: String,
    /// The PDS URL: scheme, host and optional port only.
    pub pds_endpoint: String,
}

impl AtprotoGenesis {
    /// The unsigned genesis operation, checked against the spec's constraints.
    pub fn build(&self) -> Result<UnsignedOp, PlcError> {
        let op = UnsignedOp::Operation(PlcOperation {
            rotation_keys: rotation_key_strings(&self.rotation_keys),
            verification_methods: BTreeMap::from([(
                ATPROTO_VERIFICATION_METHOD.to_string(),
                self.signing_key.to_did_key(),
            )]),
            also_known_as: vec![handle_uri(&self.handle)?],
            services: BTreeMap::from([(
                ATPROTO_PDS_SERVICE.to_string(),
                pds_service(&self.pds_endpoint)?,
            )]),
            prev: None,
        });
        op.check_constraints()?;
        Ok(op)
    }

    /// Build and sign with one of the new rotation keys; returns the DID and the
    /// signed operation.
    pub fn sign(&self, signer: &Keypair) -> Result<(String, SignedOp), PlcError> {
        let op = self.build()?;
        check_signer(signer, &op.rotation_keys())?;
        let signed = op.sign(signer)?;
        Ok((signed.genesis_did()?, signed))
    }
}

/// An update to the current state of a DID: starts as a copy of the document data
/// of the operation it builds on, with `prev` set to that operation's CID.
///
/// To recover (fork) from an earlier point, start from that earlier operation.
#[derive(Debug, Clone)]
pub struct UpdateBuilder {
    prev_rotation_keys: Vec<String>,
    op: PlcOperation,
}

impl UpdateBuilder {
    /// Start an update on top of `prev` (which must not be a tombstone).
    pub fn after(prev: &SignedOp) -> Result<Self, PlcError> {
        let cid = prev.cid()?;
        let mut op = prev.op.normalized().ok_or(PlcError::Tombstoned)?;
        let prev_rotation_keys = op.rotation_keys.clone();
        op.prev = Some(cid.to_string());
        Ok(UpdateBuilder {
            prev_rotation_keys,
            op,
        })
    }

    /// Set the handle: replaces the first `at://` entry of `alsoKnownAs`, or puts
    /// one first if there is none.
    pub fn handle(mut self, handle: &str) -> Result<Self, PlcError> {
        let uri = handle_uri(handle)?;
        let aka = &mut self.op.also_known_as;
        match aka.iter().position(|u| u.starts_with("at://")) {
            Some(i) => {
                if let Some(slot) = aka.get_mut(i) {
                    *slot = uri;
                }
            }
            None => aka.insert(0, uri),
        }
        Ok(self)
    }

    /// Set the `#atproto` repository signing key.
    pub fn atproto_signing_key(mut self, key: &PublicKey) -> Self {
        self.op
            .verification_methods
            .insert(ATPROTO_VERIFICATION_METHOD.to_string(), key.to_did_key());
        self
    }

    /// Replace the rotation keys (priority order).
    pub fn rotation_keys(mut self, keys: &[PublicKey]) -> Self {
        self.op.rotation_keys = rotation_key_strings(keys);
        self
    }

    /// Set the `#atproto_pds` service endpoint (scheme, host, optional port).
    pub fn pds_endpoint(mut self, endpoint: &str) -> Result<Self, PlcError> {
        let service = pds_service(endpoint)?;
        self.op
            .services
            .insert(ATPROTO_PDS_SERVICE.to_string(), service);
        Ok(self)
    }

    /// The operation as it stands, checked against the spec's constraints.
    pub fn build(&self) -> Result<UnsignedOp, PlcError> {
        let op = UnsignedOp::Operation(self.op.clone());
        op.check_constraints()?;
        Ok(op)
    }

    /// Build and sign with a rotation key of the operation this builds on.
    pub fn sign(self, signer: &Keypair) -> Result<SignedOp, PlcError> {
        check_signer(signer, &self.prev_rotation_keys)?;
        self.build()?.sign(signer)
    }
}

/// A tombstone ending `prev`, signed by one of `prev`'s rotation keys.
pub fn tombstone(prev: &SignedOp, signer: &Keypair) -> Result<SignedOp, PlcError> {
    let keys = prev.op.rotation_keys();
    if prev.is_tombstone() {
        return Err(PlcError::Tombstoned);
    }
    check_signer(signer, &keys)?;
    UnsignedOp::Tombstone(PlcTombstone {
        prev: prev.cid()?.to_string(),
    })
    .sign(signer)
}

/// The curve of a did:key, if it is one of ours (for messages and documents).
pub(crate) fn did_key_curve(key: &str) -> Option<Curve> {
    PublicKey::from_did_key(key).ok().map(|k| k.curve())
}
