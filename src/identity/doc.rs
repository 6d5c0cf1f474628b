//! DID documents: the document a PLC directory serves for a DID's current state,
//! the directory's "data" form of that state, and reading the atproto facts
//! (signing key, PDS endpoint, handle) back out of any DID document, PLC or did:web.
//!
//! Reading follows the atproto DID spec: ids may be relative (`#atproto`) or
//! fully qualified, the first usable entry wins, and the legacy key encodings are
//! accepted. Nothing here resolves anything over the network, and the handle found
//! here is only a claim until it is resolved back to the DID.

use super::DocError;
use super::check;
use super::plc::{
    ATPROTO_PDS_SERVICE, ATPROTO_PDS_TYPE, ATPROTO_VERIFICATION_METHOD, Service, SignedOp,
    did_key_curve,
};
use crate::crypto::{Curve, DID_KEY_PREFIX, PublicKey};
use crate::syntax::Handle;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// The W3C DID v1 context.
pub const DID_CONTEXT: &str = "https://www.w3.org/ns/did/v1";
/// The Multikey context.
pub const MULTIKEY_CONTEXT: &str = "https://w3id.org/security/multikey/v1";
/// Context added when a secp256k1 key is present.
pub const SECP256K1_2019_CONTEXT: &str = "https://w3id.org/security/suites/secp256k1-2019/v1";
/// Context added when a P-256 key is present.
pub const ECDSA_2019_CONTEXT: &str = "https://w3id.org/security/suites/ecdsa-2019/v1";
/// Legacy verification-method type for secp256k1 keys (bare uncompressed multibase).
pub const LEGACY_K256_TYPE: &str = "EcdsaSecp256k1VerificationKey2019";
/// Legacy verification-method type for P-256 keys (bare uncompressed multibase).
pub const LEGACY_P256_TYPE: &str = "EcdsaSecp256r1VerificationKey2019";
/// The current verification-method type.
pub const MULTIKEY_TYPE: &str = "Multikey";

/// A did:plc's current state as a PLC directory's `/data` endpoint serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlcData {
    /// The DID.
    pub did: String,
    /// Verification-method id (without `#`) to did:key.
    pub verification_methods: BTreeMap<String, String>,
    /// Rotation keys, priority order.
    pub rotation_keys: Vec<String>,
    /// URIs (`at://handle` first for atproto).
    pub also_known_as: Vec<String>,
    /// Service id (without `#`) to service.
    pub services: BTreeMap<String, Service>,
}

impl PlcData {
    /// The data an operation sets for `did`; `None` for a tombstone.
    pub fn from_op(did: &str, op: &SignedOp) -> Option<Self> {
        let o = op.op.normalized()?;
        Some(PlcData {
            did: did.to_string(),
            verification_methods: o.verification_methods,
            rotation_keys: o.rotation_keys,
            also_known_as: o.also_known_as,
            services: o.services,
        })
    }
}

/// A verification method of a DID document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMethod {
    /// `did...#fragment` or `#fragment`.
    pub id: String,
    /// `Multikey`, or a legacy type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The DID that controls the key.
    #[serde(default)]
    pub controller: String,
    /// The key (multikey, or bare multibase for legacy types).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_multibase: Option<String>,
}

/// A service of a DID document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocService {
    /// `#fragment` or `did...#fragment`.
    pub id: String,
    /// The service type.
    #[serde(rename = "type")]
    pub kind: String,
    /// A URL for atproto services; DID Core also allows maps and sets.
    pub service_endpoint: serde_json::Value,
}

/// A DID document, as served by a PLC directory and as read from any DID method.
///
/// Reading is lenient where DID Core allows variation (a single `@context` string,
/// missing arrays, extra fields); what atproto needs is checked by the accessors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DidDocument {
    /// JSON-LD contexts (non-string entries are dropped when reading).
    #[serde(rename = "@context", default, deserialize_with = "string_or_strings")]
    pub context: Vec<String>,
    /// The DID.
    pub id: String,
    /// URIs, `at://handle` for atproto.
    #[serde(default)]
    pub also_known_as: Vec<String>,
    /// Public keys.
    #[serde(default)]
    pub verification_method: Vec<VerificationMethod>,
    /// Services.
    #[serde(default)]
    pub service: Vec<DocService>,
}

fn string_or_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => vec![s],
        serde_json::Value::Array(items) => items
            .into_iter()
            .filter_map(|v| match v {
                serde_json::Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    })
}

/// The atproto facts of a DID document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtprotoIdentity {
    /// The DID (the document's id, checked against the expected one).
    pub did: String,
    /// The claimed handle (lower-case), if any; unverified until resolved back.
    pub handle: Option<String>,
    /// The `#atproto` repository signing key.
    pub signing_key: PublicKey,
    /// The `#atproto_pds` endpoint.
    pub pds_endpoint: String,
}

impl DidDocument {
    /// The document a PLC directory serves for `data`: the DID and Multikey
    /// contexts plus one suite context per curve present, verification methods
    /// `did#id` of type Multikey, services `#id`.
    pub fn from_plc_data(data: &PlcData) -> Self {
        let mut context = vec![DID_CONTEXT.to_string(), MULTIKEY_CONTEXT.to_string()];
        let mut verification_method = Vec::with_capacity(data.verification_methods.len());
        for (id, key) in &data.verification_methods {
            let suite = match did_key_curve(key) {
                Some(Curve::P256) => Some(ECDSA_2019_CONTEXT),
                Some(Curve::Secp256k1) => Some(SECP256K1_2019_CONTEXT),
                None => None,
            };
            if let Some(suite) = suite
                && !context.iter().any(|c| c == suite)
            {
                context.push(suite.to_string());
            }
            verification_method.push(VerificationMethod {
                id: format!("{}#{id}", data.did),
                kind: MULTIKEY_TYPE.to_string(),
                controller: data.did.clone(),
                public_key_multibase: Some(
                    key.strip_prefix(DID_KEY_PREFIX).unwrap_or(key).to_string(),
                ),
            });
        }
        let service = data
            .services
            .iter()
            .map(|(id, s)| DocService {
                id: format!("#{id}"),
                kind: s.kind.clone(),
                service_endpoint: serde_json::Value::String(s.endpoint.clone()),
            })
            .collect();
        DidDocument {
            context,
            id: data.did.clone(),
            also_known_as: data.also_known_as.clone(),
            verification_method,
            service,
        }
    }

    /// Parse a DID document's JSON.
    pub fn from_json(json: &[u8]) -> Result<Self, DocError> {
        serde_json::from_slice(json).map_err(|e| DocError::Malformed(e.to_string()))
    }

    /// The JSON form.
    pub fn to_json(&self) -> Result<String, DocError> {
        serde_json::to_string(self).map_err(|e| DocError::Malformed(e.to_string()))
    }

    /// Refuse a document whose `id` is not the DID that was resolved.
    pub fn check_id(&self, expected: &str) -> Result<(), DocError> {
        if self.id == expected {
            Ok(())
        } else {
            Err(DocError::IdMismatch {
                expected: expected.to_string(),
                found: self.id.clone(),
            })
        }
    }

    /// Whether an entry id names `fragment` of this document (relative or full).
    fn names(&self, id: &str, fragment: &str) -> bool {
        match id.split_once('#') {
            Some((base, frag)) => frag == fragment && (base.is_empty() || base == self.id),
            None => false,
        }
    }

    /// The atproto repository signing key: the first verification method with id
    /// `#atproto`, controlled by this DID, of type Multikey or one of the legacy
    /// types, that holds a usable key.
    pub fn atproto_signing_key(&self) -> Result<PublicKey, DocError> {
        let mut first_error = None;
        for vm in &self.verification_method {
            if !self.names(&vm.id, ATPROTO_VERIFICATION_METHOD) || vm.controller != self.id {
                continue;
            }
            let Some(multibase) = vm.public_key_multibase.as_deref() else {
                continue;
            };
            let parsed = match vm.kind.as_str() {
                MULTIKEY_TYPE => PublicKey::from_multikey(multibase),
                LEGACY_K256_TYPE => PublicKey::from_legacy_multibase(Curve::Secp256k1, multibase),
                LEGACY_P256_TYPE => PublicKey::from_legacy_multibase(Curve::P256, multibase),
                _ => continue,
            };
            match parsed {
                Ok(key) => return Ok(key),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.map_or(DocError::NoSigningKey, DocError::SigningKey))
    }

    /// The PDS URL: the first service with id `#atproto_pds` and type
    /// AtprotoPersonalDataServer whose endpoint is an http(s) URL.
    pub fn pds_endpoint(&self) -> Result<&str, DocError> {
        let mut first_error = None;
        for s in &self.service {
            if !self.names(&s.id, ATPROTO_PDS_SERVICE) || s.kind != ATPROTO_PDS_TYPE {
                continue;
            }
            let serde_json::Value::String(endpoint) = &s.service_endpoint else {
                first_error.get_or_insert_with(|| DocError::PdsEndpoint {
                    endpoint: s.service_endpoint.to_string(),
                    reason: "is not a string".into(),
                });
                continue;
            };
            match check::http_url_problem(endpoint, false) {
                None => return Ok(endpoint),
                Some(reason) => {
                    first_error.get_or_insert_with(|| DocError::PdsEndpoint {
                        endpoint: endpoint.clone(),
                        reason: reason.into(),
                    });
                }
            }
        }
        Err(first_error.unwrap_or(DocError::NoPdsEndpoint))
    }

    /// The claimed handle: the first `alsoKnownAs` entry that is `at://` followed
    /// by a syntactically valid handle and nothing else, lower-cased.
    pub fn handle(&self) -> Option<String> {
        self.also_known_as
            .iter()
            .filter_map(|u| u.strip_prefix("at://"))
            .find_map(|h| Handle::new(h).ok())
            .map(|h| h.as_str().to_string())
    }

    /// All three atproto facts, after checking the document is for `expected_did`.
    pub fn atproto(&self, expected_did: &str) -> Result<AtprotoIdentity, DocError> {
        self.check_id(expected_did)?;
        Ok(AtprotoIdentity {
            did: self.id.clone(),
            handle: self.handle(),
            signing_key: self.atproto_signing_key()?,
            pds_endpoint: self.pds_endpoint()?.to_string(),
        })
    }
}
