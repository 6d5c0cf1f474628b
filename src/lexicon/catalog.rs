//! A catalog of lexicon documents: reference resolution and the validation entry points.
//!
//! Owns the set of documents (one per NSID), turning `nsid`, `nsid#name` and `#name` into
//! definitions, and the public ways to validate: records (with their record key and
//! `$type`), XRPC bodies, and values against any named definition. The per-type rules are
//! in `validate`. A catalog never loads documents by itself: callers add them (the
//! vendored ones are [`super::builtin()`]).

use super::LexiconError;
use super::formats;
use super::schema::{
    Body, FieldType, LexiconDoc, ObjectType, ParamsType, RecordDef, RecordKeyType, UserType,
    parse_ref,
};
use super::validate::{Path, Validator, check_type_field};
use crate::data::Value;
use std::collections::BTreeMap;

/// Lexicon documents by NSID.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    docs: BTreeMap<String, LexiconDoc>,
}

/// A definition found by [`Catalog::resolve`].
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'c> {
    /// The NSID of the document holding the definition.
    pub nsid: &'c str,
    /// The definition's short name (`main` for a bare NSID).
    pub name: &'c str,
    pub def: &'c UserType,
}

/// What optimistic validation concluded about a record (the `validationStatus` of
/// `com.atproto.repo.createRecord` and friends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidationStatus {
    /// The collection's lexicon is known and the record matches it.
    Valid,
    /// The collection's lexicon is not known, so the record was not checked.
    Unknown,
}

impl ValidationStatus {
    /// `"valid"` or `"unknown"`, as XRPC responses spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ValidationStatus::Valid => "valid",
            ValidationStatus::Unknown => "unknown",
        }
    }
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a (checked) document. A second document with the same NSID is refused.
    pub fn add(&mut self, doc: LexiconDoc) -> Result<(), LexiconError> {
        if self.docs.contains_key(&doc.id) {
            return Err(LexiconError::Duplicate(doc.id));
        }
        self.docs.insert(doc.id.clone(), doc);
        Ok(())
    }

    /// Parse, check and add a document from JSON text.
    pub fn add_json(&mut self, text: &str) -> Result<(), LexiconError> {
        self.add(LexiconDoc::from_json(text)?)
    }

    /// The document for an NSID.
    pub fn get(&self, nsid: &str) -> Option<&LexiconDoc> {
        self.docs.get(nsid)
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// True when there are no documents.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The NSIDs of all documents, in order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.docs.keys().map(String::as_str)
    }

    /// Find the definition a reference names. `base` is the NSID of the document the
    /// reference appears in, used for local `#name` references.
    pub fn resolve(&self, reference: &str, base: &str) -> Result<Resolved<'_>, LexiconError> {
        let parts = parse_ref(reference).map_err(|reason| LexiconError::Reference {
            path: base.to_string(),
            reference: reference.to_string(),
            reason,
        })?;
        let nsid = parts.nsid.unwrap_or(base);
        let (id, doc) = self
            .docs
            .get_key_value(nsid)
            .ok_or_else(|| LexiconError::UnknownLexicon(nsid.to_string()))?;
        let (name, def) =
            doc.defs
                .get_key_value(parts.name)
                .ok_or_else(|| LexiconError::Reference {
                    path: base.to_string(),
                    reference: reference.to_string(),
                    reason: format!("{nsid} has no definition named {}", parts.name),
                })?;
        Ok(Resolved {
            nsid: id,
            name,
            def,
        })
    }

    /// The definition named by a global reference (`nsid` or `nsid#name`), if known.
    pub fn def(&self, reference: &str) -> Option<&UserType> {
        match parse_ref(reference) {
            Ok(parts) if parts.nsid.is_some() => self.resolve(reference, "").ok().map(|r| r.def),
            _ => None,
        }
    }

    /// Whether records of this collection can be validated: its lexicon is in the catalog
    /// and its `main` definition is a record.
    pub fn is_known_collection(&self, nsid: &str) -> bool {
        self.record_def(nsid).is_ok()
    }

    /// The record definition of a collection.
    pub fn record_def(&self, nsid: &str) -> Result<&RecordDef, LexiconError> {
        match self.main(nsid)? {
            UserType::Record(r) => Ok(r),
            other => Err(LexiconError::WrongKind {
                nsid: nsid.to_string(),
                expected: "record",
                found: other.kind(),
            }),
        }
    }

    /// Validate a record for `collection` stored under `rkey`: the record key must suit
    /// the collection's key type, `$type` must be the collection, and the fields must
    /// match. Errors name the offending field, e.g. `record/embed/images/0/alt`.
    pub fn validate_record(
        &self,
        collection: &str,
        rkey: &str,
        record: &Value,
    ) -> Result<(), LexiconError> {
        let def = self.record_def(collection)?;
        check_record_key(&def.key, rkey)?;
        let root = Path::Root("record");
        let Value::Map(map) = record else {
            return Err(LexiconError::Invalid {
                path: root.to_string(),
                reason: "a record must be an object".into(),
            });
        };
        check_type_field(map, collection, &root)?;
        Validator { catalog: self }.object(collection, &def.record, record, &root)
    }

    /// Optimistic validation as a PDS does it: a known collection is validated; an
    /// unknown one passes as [`ValidationStatus::Unknown`] unless `require_known`.
    pub fn check_record(
        &self,
        collection: &str,
        rkey: &str,
        record: &Value,
        require_known: bool,
    ) -> Result<ValidationStatus, LexiconError> {
        if !require_known && !self.docs.contains_key(collection) {
            return Ok(ValidationStatus::Unknown);
        }
        self.validate_record(collection, rkey, record)?;
        Ok(ValidationStatus::Valid)
    }

    /// Validate a value against any named definition (`nsid` or `nsid#name`): an object,
    /// a record (which then needs its `$type`), or a string/integer/array/... definition.
    /// Error paths start at `value`.
    pub fn validate_def(&self, reference: &str, value: &Value) -> Result<(), LexiconError> {
        let target = self.resolve(reference, "")?;
        Validator { catalog: self }.def(&target, value, &Path::Root("value"), reference)
    }

    /// Validate the JSON input body of procedure `nsid`. Error paths start at `input`.
    pub fn validate_input(&self, nsid: &str, value: &Value) -> Result<(), LexiconError> {
        let body = match self.main(nsid)? {
            UserType::Procedure(p) => p.input.as_ref(),
            other => {
                return Err(LexiconError::WrongKind {
                    nsid: nsid.to_string(),
                    expected: "procedure",
                    found: other.kind(),
                });
            }
        };
        self.validate_body(nsid, body, value, "input")
    }

    /// Validate the JSON output body of query or procedure `nsid`. Error paths start at
    /// `output`.
    pub fn validate_output(&self, nsid: &str, value: &Value) -> Result<(), LexiconError> {
        let body = match self.main(nsid)? {
            UserType::Procedure(p) => p.output.as_ref(),
            UserType::Query(q) => q.output.as_ref(),
            other => {
                return Err(LexiconError::WrongKind {
                    nsid: nsid.to_string(),
                    expected: "query or procedure",
                    found: other.kind(),
                });
            }
        };
        self.validate_body(nsid, body, value, "output")
    }

    /// The query parameters of endpoint `nsid` (a query, procedure or subscription);
    /// `Ok(None)` when it declares none. Turning HTTP query strings into typed values is
    /// the caller's job; this is the schema to do it with.
    pub fn params(&self, nsid: &str) -> Result<Option<&ParamsType>, LexiconError> {
        match self.main(nsid)? {
            UserType::Query(q) => Ok(q.parameters.as_ref()),
            UserType::Procedure(p) => Ok(p.parameters.as_ref()),
            UserType::Subscription(s) => Ok(s.parameters.as_ref()),
            other => Err(LexiconError::WrongKind {
                nsid: nsid.to_string(),
                expected: "query, procedure or subscription",
                found: other.kind(),
            }),
        }
    }

    /// Check that every reference in every document resolves, and points at a kind it
    /// may: refs at anything with a data form, unions at objects and records only.
    /// Documents may be added in any order, so this is a separate, final step.
    pub fn check_refs(&self) -> Result<(), LexiconError> {
        for (nsid, doc) in &self.docs {
            for (name, def) in &doc.defs {
                let path = format!("{nsid}#{name}");
                for_each_field_in_def(def, &path, &mut |field, path| {
                    self.check_field_refs(nsid, field, path)
                })?;
            }
        }
        Ok(())
    }

    fn check_field_refs(
        &self,
        base: &str,
        field: &FieldType,
        path: &str,
    ) -> Result<(), LexiconError> {
        let bad = |reference: &str, reason: String| LexiconError::Reference {
            path: path.to_string(),
            reference: reference.to_string(),
            reason,
        };
        match field {
            FieldType::Ref(r) => {
                let target = self
                    .resolve(&r.reference, base)
                    .map_err(|e| bad(&r.reference, e.to_string()))?;
                if matches!(
                    target.def,
                    UserType::Token(_)
                        | UserType::Query(_)
                        | UserType::Procedure(_)
                        | UserType::Subscription(_)
                        | UserType::PermissionSet(_)
                ) {
                    return Err(bad(
                        &r.reference,
                        format!("a ref can not point at a {}", target.def.kind()),
                    ));
                }
            }
            FieldType::Union(u) => {
                for r in &u.refs {
                    let target = self.resolve(r, base).map_err(|e| bad(r, e.to_string()))?;
                    if !matches!(target.def, UserType::Object(_) | UserType::Record(_)) {
                        return Err(bad(
                            r,
                            format!("a union can not point at a {}", target.def.kind()),
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn main(&self, nsid: &str) -> Result<&UserType, LexiconError> {
        let doc = self
            .docs
            .get(nsid)
            .ok_or_else(|| LexiconError::UnknownLexicon(nsid.to_string()))?;
        doc.defs.get("main").ok_or_else(|| LexiconError::WrongKind {
            nsid: nsid.to_string(),
            expected: "main definition",
            found: "nothing",
        })
    }

    fn validate_body(
        &self,
        nsid: &str,
        body: Option<&Body>,
        value: &Value,
        root: &str,
    ) -> Result<(), LexiconError> {
        let Some(schema) = body.and_then(|b| b.schema.as_ref()) else {
            // No body schema: the endpoint does not describe its body, so nothing to check.
            return Ok(());
        };
        Validator { catalog: self }.field(nsid, schema, value, &Path::Root(root))
    }
}

/// The record key must be valid syntax and fit the collection's key scheme.
fn check_record_key(key: &RecordKeyType, rkey: &str) -> Result<(), LexiconError> {
    let fail = |reason: String| LexiconError::RecordKey {
        rkey: rkey.to_string(),
        reason,
    };
    formats::record_key(rkey).map_err(fail)?;
    match key {
        RecordKeyType::Any => Ok(()),
        RecordKeyType::Tid => {
            formats::tid(rkey).map_err(|e| fail(format!("this collection uses TID keys: {e}")))
        }
        RecordKeyType::Nsid => {
            formats::nsid(rkey).map_err(|e| fail(format!("this collection uses NSID keys: {e}")))
        }
        RecordKeyType::Literal(k) if k == rkey => Ok(()),
        RecordKeyType::Literal(k) => {
            Err(fail(format!("this collection only allows the key {k:?}")))
        }
    }
}

/// Call `f` on every field schema in a definition, depth first, with its path.
fn for_each_field_in_def(
    def: &UserType,
    path: &str,
    f: &mut dyn FnMut(&FieldType, &str) -> Result<(), LexiconError>,
) -> Result<(), LexiconError> {
    let body = |b: Option<&Body>,
                what: &str,
                f: &mut dyn FnMut(&FieldType, &str) -> Result<(), LexiconError>| {
        match b.and_then(|b| b.schema.as_ref()) {
            Some(s) => for_each_field(s, &format!("{path}/{what}/schema"), f),
            None => Ok(()),
        }
    };
    match def {
        UserType::Record(r) => for_each_field_in_object(&r.record, &format!("{path}/record"), f),
        UserType::Object(o) => for_each_field_in_object(o, path, f),
        UserType::Array(a) => for_each_field(&a.items, &format!("{path}/items"), f),
        UserType::Query(q) => body(q.output.as_ref(), "output", f),
        UserType::Procedure(p) => {
            body(p.input.as_ref(), "input", f)?;
            body(p.output.as_ref(), "output", f)
        }
        UserType::Subscription(s) => {
            for_each_field(&s.message.schema, &format!("{path}/message/schema"), f)
        }
        UserType::PermissionSet(_)
        | UserType::Token(_)
        | UserType::Boolean(_)
        | UserType::Integer(_)
        | UserType::String(_)
        | UserType::Bytes(_)
        | UserType::CidLink(_)
        | UserType::Blob(_) => Ok(()),
    }
}

fn for_each_field_in_object(
    o: &ObjectType,
    path: &str,
    f: &mut dyn FnMut(&FieldType, &str) -> Result<(), LexiconError>,
) -> Result<(), LexiconError> {
    for (name, prop) in &o.properties {
        for_each_field(prop, &format!("{path}/properties/{name}"), f)?;
    }
    Ok(())
}

fn for_each_field(
    field: &FieldType,
    path: &str,
    f: &mut dyn FnMut(&FieldType, &str) -> Result<(), LexiconError>,
) -> Result<(), LexiconError> {
    f(field, path)?;
    match field {
        FieldType::Array(a) => for_each_field(&a.items, &format!("{path}/items"), f),
        FieldType::Object(o) => for_each_field_in_object(o, path, f),
        _ => Ok(()),
    }
}
