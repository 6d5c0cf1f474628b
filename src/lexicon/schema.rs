//! Lexicon schema documents: serde types for every definition kind, and the structural
//! checks a document must pass before a catalog accepts it.
//!
//! Owns the shape of a lexicon file (`lexicon`, `id`, `defs`) and the rules that can be
//! checked on one document alone: the version, the NSID, which kinds may be named
//! definitions, primary kinds only under `main`, reference syntax, contradictory
//! constraints, what `params`, bodies, messages and permissions may contain. It does not
//! resolve references between documents (that is [`super::catalog`]) and does not look
//! at data. Unknown fields in a document are ignored, so newer schemas still load.

use super::LexiconError;
use super::formats;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::fmt;

/// One lexicon schema document.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LexiconDoc {
    /// Language version; must be 1.
    pub lexicon: u32,
    /// The NSID this document defines.
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Definitions by short name; `main` is the one the bare NSID refers to.
    pub defs: BTreeMap<String, UserType>,
}

/// A named definition under `defs`. The primary kinds are boxed: they are large and rare.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type")]
pub enum UserType {
    #[serde(rename = "record")]
    Record(Box<RecordDef>),
    #[serde(rename = "query")]
    Query(Box<QueryDef>),
    #[serde(rename = "procedure")]
    Procedure(Box<ProcedureDef>),
    #[serde(rename = "subscription")]
    Subscription(Box<SubscriptionDef>),
    #[serde(rename = "permission-set")]
    PermissionSet(Box<PermissionSetDef>),
    #[serde(rename = "token")]
    Token(TokenDef),
    #[serde(rename = "object")]
    Object(ObjectType),
    #[serde(rename = "array")]
    Array(ArrayType),
    #[serde(rename = "boolean")]
    Boolean(BooleanType),
    #[serde(rename = "integer")]
    Integer(IntegerType),
    #[serde(rename = "string")]
    String(StringType),
    #[serde(rename = "bytes")]
    Bytes(BytesType),
    #[serde(rename = "cid-link")]
    CidLink(CidLinkType),
    #[serde(rename = "blob")]
    Blob(BlobType),
}

impl UserType {
    /// The `type` value this definition was declared with.
    pub fn kind(&self) -> &'static str {
        match self {
            UserType::Record(_) => "record",
            UserType::Query(_) => "query",
            UserType::Procedure(_) => "procedure",
            UserType::Subscription(_) => "subscription",
            UserType::PermissionSet(_) => "permission-set",
            UserType::Token(_) => "token",
            UserType::Object(_) => "object",
            UserType::Array(_) => "array",
            UserType::Boolean(_) => "boolean",
            UserType::Integer(_) => "integer",
            UserType::String(_) => "string",
            UserType::Bytes(_) => "bytes",
            UserType::CidLink(_) => "cid-link",
            UserType::Blob(_) => "blob",
        }
    }

    /// Primary kinds describe a whole NSID and may only be the `main` definition.
    pub fn is_primary(&self) -> bool {
        matches!(
            self,
            UserType::Record(_)
                | UserType::Query(_)
                | UserType::Procedure(_)
                | UserType::Subscription(_)
                | UserType::PermissionSet(_)
        )
    }
}

/// A schema in field position: an object property, array items, a body or message schema.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type")]
pub enum FieldType {
    #[serde(rename = "boolean")]
    Boolean(BooleanType),
    #[serde(rename = "integer")]
    Integer(IntegerType),
    #[serde(rename = "string")]
    String(StringType),
    #[serde(rename = "bytes")]
    Bytes(BytesType),
    #[serde(rename = "cid-link")]
    CidLink(CidLinkType),
    #[serde(rename = "blob")]
    Blob(BlobType),
    #[serde(rename = "array")]
    Array(ArrayType),
    #[serde(rename = "object")]
    Object(ObjectType),
    #[serde(rename = "ref")]
    Ref(RefType),
    #[serde(rename = "union")]
    Union(UnionType),
    #[serde(rename = "unknown")]
    Unknown(UnknownType),
}

impl FieldType {
    /// The `type` value this schema was declared with.
    pub fn kind(&self) -> &'static str {
        match self {
            FieldType::Boolean(_) => "boolean",
            FieldType::Integer(_) => "integer",
            FieldType::String(_) => "string",
            FieldType::Bytes(_) => "bytes",
            FieldType::CidLink(_) => "cid-link",
            FieldType::Blob(_) => "blob",
            FieldType::Array(_) => "array",
            FieldType::Object(_) => "object",
            FieldType::Ref(_) => "ref",
            FieldType::Union(_) => "union",
            FieldType::Unknown(_) => "unknown",
        }
    }
}

/// `record`: the schema of records in one collection.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecordDef {
    #[serde(default)]
    pub description: Option<String>,
    /// Which record keys the collection allows.
    pub key: RecordKeyType,
    /// The record's fields; must be declared with `"type": "object"`.
    #[serde(deserialize_with = "object_schema")]
    pub record: ObjectType,
}

/// The record key scheme of a collection (`tid`, `nsid`, `any`, `literal:<value>`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum RecordKeyType {
    Tid,
    Nsid,
    Any,
    /// Exactly this key, e.g. `self` for `literal:self`.
    Literal(String),
}

impl TryFrom<String> for RecordKeyType {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        match s.as_str() {
            "tid" => Ok(RecordKeyType::Tid),
            "nsid" => Ok(RecordKeyType::Nsid),
            "any" => Ok(RecordKeyType::Any),
            _ => match s.strip_prefix("literal:") {
                Some(lit) => {
                    formats::record_key(lit).map_err(|e| format!("record key type {s:?}: {e}"))?;
                    Ok(RecordKeyType::Literal(lit.to_string()))
                }
                None => Err(format!(
                    "unknown record key type {s:?} (expected tid, nsid, any or literal:<key>)"
                )),
            },
        }
    }
}

impl fmt::Display for RecordKeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordKeyType::Tid => f.write_str("tid"),
            RecordKeyType::Nsid => f.write_str("nsid"),
            RecordKeyType::Any => f.write_str("any"),
            RecordKeyType::Literal(k) => write!(f, "literal:{k}"),
        }
    }
}

/// `query`: an XRPC query (HTTP GET).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct QueryDef {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "params_schema")]
    pub parameters: Option<ParamsType>,
    #[serde(default)]
    pub output: Option<Body>,
    #[serde(default)]
    pub errors: Vec<ErrorDef>,
}

/// `procedure`: an XRPC procedure (HTTP POST).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProcedureDef {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "params_schema")]
    pub parameters: Option<ParamsType>,
    #[serde(default)]
    pub input: Option<Body>,
    #[serde(default)]
    pub output: Option<Body>,
    #[serde(default)]
    pub errors: Vec<ErrorDef>,
}

/// `subscription`: an event stream (WebSocket).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SubscriptionDef {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "params_schema")]
    pub parameters: Option<ParamsType>,
    pub message: Message,
    #[serde(default)]
    pub errors: Vec<ErrorDef>,
}

/// An XRPC request or response body.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Body {
    #[serde(default)]
    pub description: Option<String>,
    /// MIME type, `application/json` for JSON bodies.
    pub encoding: String,
    /// An `object`, a `ref` or a `union` of refs; absent means "not described".
    #[serde(default)]
    pub schema: Option<FieldType>,
}

/// The messages of a subscription.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Message {
    #[serde(default)]
    pub description: Option<String>,
    /// Always a `union` of refs.
    pub schema: FieldType,
}

/// An error name an endpoint may return.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorDef {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// `params`: HTTP query parameters of an endpoint.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ParamsType {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub required: Vec<String>,
    #[serde(default)]
    pub properties: BTreeMap<String, FieldType>,
}

/// `permission-set`: a bundle of auth permissions (an OAuth scope).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PermissionSetDef {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    /// Localised titles by language tag.
    #[serde(default, rename = "title:lang")]
    pub title_lang: BTreeMap<String, String>,
    #[serde(default)]
    pub detail: Option<String>,
    /// Localised details by language tag.
    #[serde(default, rename = "detail:lang")]
    pub detail_lang: BTreeMap<String, String>,
    #[serde(deserialize_with = "permission_list")]
    pub permissions: Vec<Permission>,
}

/// One `permission` of a permission set. Only the fields of the `repo` and `rpc`
/// resources are read; other resources are kept by name and ignored, as the spec asks.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Permission {
    pub resource: String,
    /// `repo`: the record collections (NSIDs).
    #[serde(default)]
    pub collection: Option<Vec<String>>,
    /// `repo`: a subset of `create`, `update`, `delete`.
    #[serde(default)]
    pub action: Option<Vec<String>>,
    /// `rpc`: the endpoints (NSIDs).
    #[serde(default)]
    pub lxm: Option<Vec<String>>,
    /// `rpc`: the audience service, `*` in permission sets.
    #[serde(default)]
    pub aud: Option<String>,
    /// `rpc`: take the audience from the request instead of `aud`.
    #[serde(default, rename = "inheritAud")]
    pub inherit_aud: Option<bool>,
}

/// `token`: a named symbol with no data representation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TokenDef {
    #[serde(default)]
    pub description: Option<String>,
}

/// `object`: a map with named, typed properties.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ObjectType {
    #[serde(default)]
    pub description: Option<String>,
    pub properties: BTreeMap<String, FieldType>,
    /// Properties that must be present.
    #[serde(default)]
    pub required: Vec<String>,
    /// Properties that may be `null`.
    #[serde(default)]
    pub nullable: Vec<String>,
}

/// `array`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ArrayType {
    #[serde(default)]
    pub description: Option<String>,
    pub items: Box<FieldType>,
    /// Minimum number of elements.
    #[serde(default, rename = "minLength")]
    pub min_length: Option<u64>,
    /// Maximum number of elements.
    #[serde(default, rename = "maxLength")]
    pub max_length: Option<u64>,
}

/// `boolean`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BooleanType {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub default: Option<bool>,
    #[serde(default, rename = "const")]
    pub const_value: Option<bool>,
}

/// `integer` (signed, 64-bit).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IntegerType {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub minimum: Option<i64>,
    #[serde(default)]
    pub maximum: Option<i64>,
    /// A closed set of allowed values.
    #[serde(default, rename = "enum")]
    pub enum_values: Option<Vec<i64>>,
    #[serde(default)]
    pub default: Option<i64>,
    #[serde(default, rename = "const")]
    pub const_value: Option<i64>,
}

/// `string`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StringType {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub format: Option<StringFormat>,
    /// Minimum length in UTF-8 bytes.
    #[serde(default, rename = "minLength")]
    pub min_length: Option<u64>,
    /// Maximum length in UTF-8 bytes.
    #[serde(default, rename = "maxLength")]
    pub max_length: Option<u64>,
    /// Minimum length in extended grapheme clusters.
    #[serde(default, rename = "minGraphemes")]
    pub min_graphemes: Option<u64>,
    /// Maximum length in extended grapheme clusters.
    #[serde(default, rename = "maxGraphemes")]
    pub max_graphemes: Option<u64>,
    /// Suggested values; not a constraint.
    #[serde(default, rename = "knownValues")]
    pub known_values: Option<Vec<String>>,
    /// A closed set of allowed values.
    #[serde(default, rename = "enum")]
    pub enum_values: Option<Vec<String>>,
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default, rename = "const")]
    pub const_value: Option<String>,
}

/// The `format` of a string schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum StringFormat {
    #[serde(rename = "at-identifier")]
    AtIdentifier,
    #[serde(rename = "at-uri")]
    AtUri,
    #[serde(rename = "cid")]
    Cid,
    #[serde(rename = "datetime")]
    Datetime,
    #[serde(rename = "did")]
    Did,
    #[serde(rename = "handle")]
    Handle,
    #[serde(rename = "nsid")]
    Nsid,
    #[serde(rename = "tid")]
    Tid,
    #[serde(rename = "record-key")]
    RecordKey,
    #[serde(rename = "uri")]
    Uri,
    #[serde(rename = "language")]
    Language,
}

impl StringFormat {
    /// The name used in schemas.
    pub fn as_str(self) -> &'static str {
        match self {
            StringFormat::AtIdentifier => "at-identifier",
            StringFormat::AtUri => "at-uri",
            StringFormat::Cid => "cid",
            StringFormat::Datetime => "datetime",
            StringFormat::Did => "did",
            StringFormat::Handle => "handle",
            StringFormat::Nsid => "nsid",
            StringFormat::Tid => "tid",
            StringFormat::RecordKey => "record-key",
            StringFormat::Uri => "uri",
            StringFormat::Language => "language",
        }
    }
}

impl fmt::Display for StringFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `bytes`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BytesType {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, rename = "minLength")]
    pub min_length: Option<u64>,
    #[serde(default, rename = "maxLength")]
    pub max_length: Option<u64>,
}

/// `cid-link`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CidLinkType {
    #[serde(default)]
    pub description: Option<String>,
}

/// `blob`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BlobType {
    #[serde(default)]
    pub description: Option<String>,
    /// Acceptable MIME types: `type/subtype`, `type/*` or `*/*`.
    #[serde(default)]
    pub accept: Option<Vec<String>>,
    /// Maximum size in bytes.
    #[serde(default, rename = "maxSize")]
    pub max_size: Option<u64>,
}

/// `ref`: the schema of another definition.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RefType {
    #[serde(default)]
    pub description: Option<String>,
    /// `nsid`, `nsid#name` or `#name` (in the same document).
    #[serde(rename = "ref")]
    pub reference: String,
}

/// `union`: one of several object or record schemas, told apart by `$type`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UnionType {
    #[serde(default)]
    pub description: Option<String>,
    pub refs: Vec<String>,
    /// A closed union refuses `$type`s outside `refs`; an open one lets them through.
    #[serde(default)]
    pub closed: bool,
}

/// `unknown`: any data-model object.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UnknownType {
    #[serde(default)]
    pub description: Option<String>,
}

// Schemas whose position fixes their `type`: the tag must still be present and right,
// so a `record` without `"type": "object"` is refused rather than guessed.

#[derive(Deserialize)]
#[serde(tag = "type")]
enum ObjectTagged {
    #[serde(rename = "object")]
    Object(ObjectType),
}

#[derive(Deserialize)]
#[serde(tag = "type")]
enum ParamsTagged {
    #[serde(rename = "params")]
    Params(ParamsType),
}

#[derive(Deserialize)]
#[serde(tag = "type")]
enum PermissionTagged {
    #[serde(rename = "permission")]
    Permission(Permission),
}

fn object_schema<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectType, D::Error> {
    let ObjectTagged::Object(o) = ObjectTagged::deserialize(d)?;
    Ok(o)
}

fn params_schema<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ParamsType>, D::Error> {
    Ok(Option::<ParamsTagged>::deserialize(d)?.map(|ParamsTagged::Params(p)| p))
}

fn permission_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Permission>, D::Error> {
    Ok(Vec::<PermissionTagged>::deserialize(d)?
        .into_iter()
        .map(|PermissionTagged::Permission(p)| p)
        .collect())
}

/// A reference split into its document and definition name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RefParts<'a> {
    /// `None` for a local `#name` reference.
    pub nsid: Option<&'a str>,
    pub name: &'a str,
}

/// Split `nsid`, `nsid#name` or `#name`, checking the syntax of both parts.
pub(crate) fn parse_ref(reference: &str) -> Result<RefParts<'_>, String> {
    let (nsid, name) = match reference.split_once('#') {
        Some(("", name)) => (None, name),
        Some((nsid, name)) => (Some(nsid), name),
        None => (Some(reference), "main"),
    };
    if let Some(n) = nsid {
        formats::nsid(n).map_err(|e| format!("{reference:?}: {e}"))?;
    }
    check_def_name(name).map_err(|e| format!("{reference:?}: {e}"))?;
    Ok(RefParts { nsid, name })
}

fn check_def_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty definition name".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "definition name {name:?} has characters other than A-Z a-z 0-9 _ -"
        ));
    }
    Ok(())
}

impl LexiconDoc {
    /// Parse and check a document from JSON text.
    pub fn from_json(text: &str) -> Result<Self, LexiconError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| schema_err("?", "", e))?;
        Self::from_json_value(value)
    }

    /// Parse and check a document from a JSON value.
    pub fn from_json_value(value: serde_json::Value) -> Result<Self, LexiconError> {
        let id = match value.get("id").and_then(|v| v.as_str()) {
            Some(id) => id.to_string(),
            None => "?".to_string(),
        };
        let doc: LexiconDoc = serde_json::from_value(value).map_err(|e| schema_err(&id, "", e))?;
        doc.check()?;
        Ok(doc)
    }

    /// The structural rules one document must satisfy on its own.
    pub fn check(&self) -> Result<(), LexiconError> {
        let err = |path: &str, reason: String| schema_err(&self.id, path, reason);
        if self.lexicon != 1 {
            return Err(err(
                "lexicon",
                format!("unsupported lexicon version {}", self.lexicon),
            ));
        }
        formats::nsid(&self.id).map_err(|e| err("id", e))?;
        if self.defs.is_empty() {
            return Err(err(
                "defs",
                "a lexicon needs at least one definition".into(),
            ));
        }
        for (name, def) in &self.defs {
            let path = format!("defs/{name}");
            check_def_name(name).map_err(|e| err(&path, e))?;
            if def.is_primary() && name != "main" {
                return Err(err(
                    &path,
                    format!("a {} definition must be named main", def.kind()),
                ));
            }
            check_user_type(def, &path).map_err(|(p, r)| err(&p, r))?;
        }
        Ok(())
    }
}

fn schema_err(id: &str, path: &str, reason: impl fmt::Display) -> LexiconError {
    LexiconError::Schema {
        id: id.to_string(),
        path: if path.is_empty() {
            "(document)".into()
        } else {
            path.to_string()
        },
        reason: reason.to_string(),
    }
}

/// A structural problem: where, and why.
type Problem = (String, String);

fn problem(path: &str, reason: impl Into<String>) -> Problem {
    (path.to_string(), reason.into())
}

fn check_user_type(def: &UserType, path: &str) -> Result<(), Problem> {
    match def {
        UserType::Record(r) => check_object(&r.record, &format!("{path}/record")),
        UserType::Query(q) => {
            check_params(q.parameters.as_ref(), path)?;
            check_body(q.output.as_ref(), &format!("{path}/output"))?;
            check_errors(&q.errors, path)
        }
        UserType::Procedure(p) => {
            check_params(p.parameters.as_ref(), path)?;
            check_body(p.input.as_ref(), &format!("{path}/input"))?;
            check_body(p.output.as_ref(), &format!("{path}/output"))?;
            check_errors(&p.errors, path)
        }
        UserType::Subscription(s) => {
            check_params(s.parameters.as_ref(), path)?;
            let mpath = format!("{path}/message/schema");
            match &s.message.schema {
                FieldType::Union(u) => check_union(u, &mpath)?,
                other => {
                    return Err(problem(
                        &mpath,
                        format!(
                            "a subscription message must be a union, not {}",
                            other.kind()
                        ),
                    ));
                }
            }
            check_errors(&s.errors, path)
        }
        UserType::PermissionSet(p) => check_permission_set(p, path),
        UserType::Token(_) | UserType::CidLink(_) => Ok(()),
        UserType::Object(o) => check_object(o, path),
        UserType::Array(a) => check_array(a, path),
        UserType::Boolean(b) => check_boolean(b, path),
        UserType::Integer(i) => check_integer(i, path),
        UserType::String(s) => check_string(s, path),
        UserType::Bytes(b) => check_min_max(b.min_length, b.max_length, "Length", path),
        UserType::Blob(b) => check_blob(b, path),
    }
}

fn check_field(field: &FieldType, path: &str) -> Result<(), Problem> {
    match field {
        FieldType::Boolean(b) => check_boolean(b, path),
        FieldType::Integer(i) => check_integer(i, path),
        FieldType::String(s) => check_string(s, path),
        FieldType::Bytes(b) => check_min_max(b.min_length, b.max_length, "Length", path),
        FieldType::CidLink(_) | FieldType::Unknown(_) => Ok(()),
        FieldType::Blob(b) => check_blob(b, path),
        FieldType::Array(a) => check_array(a, path),
        FieldType::Object(o) => check_object(o, path),
        FieldType::Ref(r) => parse_ref(&r.reference)
            .map(|_| ())
            .map_err(|e| problem(&format!("{path}/ref"), e)),
        FieldType::Union(u) => check_union(u, path),
    }
}

fn check_object(o: &ObjectType, path: &str) -> Result<(), Problem> {
    for (list, what) in [(&o.required, "required"), (&o.nullable, "nullable")] {
        for name in list {
            if !o.properties.contains_key(name) {
                return Err(problem(
                    &format!("{path}/{what}"),
                    format!("{name:?} is not one of the properties"),
                ));
            }
        }
    }
    for (name, prop) in &o.properties {
        check_field(prop, &format!("{path}/properties/{name}"))?;
    }
    Ok(())
}

fn check_array(a: &ArrayType, path: &str) -> Result<(), Problem> {
    check_min_max(a.min_length, a.max_length, "Length", path)?;
    check_field(&a.items, &format!("{path}/items"))
}

fn check_min_max(
    min: Option<u64>,
    max: Option<u64>,
    what: &str,
    path: &str,
) -> Result<(), Problem> {
    match (min, max) {
        (Some(lo), Some(hi)) if lo > hi => Err(problem(
            path,
            format!("min{what} {lo} is greater than max{what} {hi}"),
        )),
        _ => Ok(()),
    }
}

fn check_boolean(b: &BooleanType, path: &str) -> Result<(), Problem> {
    if b.default.is_some() && b.const_value.is_some() {
        return Err(problem(path, "const and default are mutually exclusive"));
    }
    Ok(())
}

fn check_integer(i: &IntegerType, path: &str) -> Result<(), Problem> {
    if let (Some(lo), Some(hi)) = (i.minimum, i.maximum)
        && lo > hi
    {
        return Err(problem(
            path,
            format!("minimum {lo} is greater than maximum {hi}"),
        ));
    }
    if i.default.is_some() && i.const_value.is_some() {
        return Err(problem(path, "const and default are mutually exclusive"));
    }
    for (v, what) in [(i.default, "default"), (i.const_value, "const")] {
        let Some(v) = v else { continue };
        let in_range = i.minimum.is_none_or(|lo| v >= lo) && i.maximum.is_none_or(|hi| v <= hi);
        let in_enum = i.enum_values.as_ref().is_none_or(|e| e.contains(&v));
        if !in_range || !in_enum {
            return Err(problem(path, format!("{what} {v} is not an allowed value")));
        }
    }
    Ok(())
}

fn check_string(s: &StringType, path: &str) -> Result<(), Problem> {
    if s.default.is_some() && s.const_value.is_some() {
        return Err(problem(path, "const and default are mutually exclusive"));
    }
    check_min_max(s.min_length, s.max_length, "Length", path)?;
    check_min_max(s.min_graphemes, s.max_graphemes, "Graphemes", path)?;
    if let Some(allowed) = &s.enum_values {
        for (v, what) in [(&s.default, "default"), (&s.const_value, "const")] {
            if let Some(v) = v
                && !allowed.contains(v)
            {
                return Err(problem(path, format!("{what} {v:?} is not in enum")));
            }
        }
    }
    Ok(())
}

fn check_blob(b: &BlobType, path: &str) -> Result<(), Problem> {
    for pattern in b.accept.iter().flatten() {
        let ok = match pattern.split_once('/') {
            Some((ty, sub)) => {
                let part = |p: &str| !p.is_empty() && !p.contains('*') && !p.contains('/');
                (ty == "*" && sub == "*") || (part(ty) && (sub == "*" || part(sub)))
            }
            None => false,
        };
        if !ok {
            return Err(problem(
                &format!("{path}/accept"),
                format!("{pattern:?} is not a MIME type, type/* or */*"),
            ));
        }
    }
    Ok(())
}

fn check_union(u: &UnionType, path: &str) -> Result<(), Problem> {
    if u.closed && u.refs.is_empty() {
        return Err(problem(path, "a closed union needs at least one ref"));
    }
    for r in &u.refs {
        parse_ref(r).map_err(|e| problem(&format!("{path}/refs"), e))?;
    }
    Ok(())
}

fn check_params(params: Option<&ParamsType>, path: &str) -> Result<(), Problem> {
    let Some(params) = params else { return Ok(()) };
    let path = format!("{path}/parameters");
    for name in &params.required {
        if !params.properties.contains_key(name) {
            return Err(problem(
                &format!("{path}/required"),
                format!("{name:?} is not one of the properties"),
            ));
        }
    }
    for (name, prop) in &params.properties {
        let ppath = format!("{path}/properties/{name}");
        let scalar = |f: &FieldType| {
            matches!(
                f,
                FieldType::Boolean(_) | FieldType::Integer(_) | FieldType::String(_)
            )
        };
        let allowed = match prop {
            FieldType::Array(a) => scalar(&a.items),
            other => scalar(other),
        };
        if !allowed {
            return Err(problem(
                &ppath,
                "parameters may only be boolean, integer, string, or arrays of those",
            ));
        }
        check_field(prop, &ppath)?;
    }
    Ok(())
}

fn check_body(body: Option<&Body>, path: &str) -> Result<(), Problem> {
    let Some(body) = body else { return Ok(()) };
    if body.encoding.trim().is_empty() {
        return Err(problem(&format!("{path}/encoding"), "empty encoding"));
    }
    match &body.schema {
        None => Ok(()),
        Some(s @ (FieldType::Object(_) | FieldType::Ref(_) | FieldType::Union(_))) => {
            check_field(s, &format!("{path}/schema"))
        }
        Some(other) => Err(problem(
            &format!("{path}/schema"),
            format!(
                "a body schema must be an object, ref or union, not {}",
                other.kind()
            ),
        )),
    }
}

fn check_errors(errors: &[ErrorDef], path: &str) -> Result<(), Problem> {
    for (i, e) in errors.iter().enumerate() {
        if e.name.is_empty() || e.name.chars().any(char::is_whitespace) {
            return Err(problem(
                &format!("{path}/errors/{i}/name"),
                format!(
                    "{:?} is not an error name (non-empty, no whitespace)",
                    e.name
                ),
            ));
        }
    }
    Ok(())
}

fn check_permission_set(p: &PermissionSetDef, path: &str) -> Result<(), Problem> {
    for (map, what) in [
        (&p.title_lang, "title:lang"),
        (&p.detail_lang, "detail:lang"),
    ] {
        for tag in map.keys() {
            formats::language(tag).map_err(|e| problem(&format!("{path}/{what}"), e))?;
        }
    }
    for (i, perm) in p.permissions.iter().enumerate() {
        check_permission(perm, &format!("{path}/permissions/{i}"))?;
    }
    Ok(())
}

fn check_permission(p: &Permission, path: &str) -> Result<(), Problem> {
    let non_empty_unique = |list: &Option<Vec<String>>, field: &str| -> Result<(), Problem> {
        let fpath = format!("{path}/{field}");
        let list = list
            .as_ref()
            .ok_or_else(|| problem(&fpath, format!("{} permissions need {field}", p.resource)))?;
        if list.is_empty() {
            return Err(problem(&fpath, "must list at least one value"));
        }
        for (i, v) in list.iter().enumerate() {
            if list.iter().take(i).any(|w| w == v) {
                return Err(problem(&fpath, format!("{v:?} is listed twice")));
            }
        }
        Ok(())
    };
    match p.resource.as_str() {
        "" => Err(problem(&format!("{path}/resource"), "empty resource")),
        "repo" => {
            non_empty_unique(&p.collection, "collection")?;
            for c in p.collection.iter().flatten() {
                formats::nsid(c).map_err(|e| problem(&format!("{path}/collection"), e))?;
            }
            if p.action.is_some() {
                non_empty_unique(&p.action, "action")?;
            }
            for a in p.action.iter().flatten() {
                if !matches!(a.as_str(), "create" | "update" | "delete") {
                    return Err(problem(
                        &format!("{path}/action"),
                        format!("{a:?} is not create, update or delete"),
                    ));
                }
            }
            Ok(())
        }
        "rpc" => {
            non_empty_unique(&p.lxm, "lxm")?;
            let mut lxm_wildcard = false;
            for m in p.lxm.iter().flatten() {
                if m == "*" {
                    lxm_wildcard = true;
                } else {
                    formats::nsid(m).map_err(|e| problem(&format!("{path}/lxm"), e))?;
                }
            }
            match (&p.aud, p.inherit_aud) {
                (Some(aud), _) if aud != "*" => Err(problem(
                    &format!("{path}/aud"),
                    "a permission set may only use the wildcard audience \"*\"",
                )),
                (Some(_), _) if lxm_wildcard => {
                    Err(problem(path, "aud and lxm can not both be the wildcard"))
                }
                (None, Some(true)) | (Some(_), _) => Ok(()),
                (None, _) => Err(problem(
                    &format!("{path}/aud"),
                    "rpc permissions need aud unless inheritAud is true",
                )),
            }
        }
        // Other resources (blob, account, identity, future ones) are ignored by services
        // that apply permission sets, so their fields are not judged here.
        _ => Ok(()),
    }
}
