//! Walking a data-model value alongside its schema.
//!
//! Owns the per-type rules (types, lengths in UTF-8 bytes and graphemes, ranges, enum and
//! const, blobs and their `accept`/`maxSize`, open and closed unions, `unknown`) and the
//! path of the offending field in every error. Reference lookup is the catalog's; string
//! formats are [`super::formats`]. It never changes the value (defaults are not filled in)
//! and never ignores a failure to follow the schema: an unresolved reference is an error.

use super::LexiconError;
use super::catalog::{Catalog, Resolved};
use super::formats;
use super::schema::{
    ArrayType, BlobType, BooleanType, BytesType, FieldType, IntegerType, ObjectType, StringType,
    UnionType, UserType, parse_ref,
};
use crate::data::Value;
use std::collections::BTreeMap;
use std::fmt;
use unicode_segmentation::UnicodeSegmentation;

/// Deepest nesting of schema steps followed for one value; data deeper than this is
/// refused rather than risking the stack.
const MAX_DEPTH: usize = 128;

/// Where in the value we are, as a chain of frames on the call stack; only turned into
/// text when an error needs it.
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    Root(&'a str),
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn depth(&self) -> usize {
        match self {
            Path::Root(_) => 0,
            Path::Key(p, _) | Path::Index(p, _) => p.depth() + 1,
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root(r) => f.write_str(r),
            Path::Key(p, k) => write!(f, "{p}/{k}"),
            Path::Index(p, i) => write!(f, "{p}/{i}"),
        }
    }
}

fn invalid(path: &Path<'_>, reason: impl Into<String>) -> LexiconError {
    LexiconError::Invalid {
        path: path.to_string(),
        reason: reason.into(),
    }
}

fn bad_ref(path: &Path<'_>, reference: &str, reason: impl Into<String>) -> LexiconError {
    LexiconError::Reference {
        path: path.to_string(),
        reference: reference.to_string(),
        reason: reason.into(),
    }
}

/// A short name for the data-model type of a value, for error messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::String(_) => "a string",
        Value::Bytes(_) => "bytes",
        Value::List(_) => "an array",
        Value::Map(m) if is_blob_shaped(m) => "a blob",
        Value::Map(_) => "an object",
        Value::Link(_) => "a cid-link",
    }
}

fn expected(path: &Path<'_>, what: &str, v: &Value) -> LexiconError {
    invalid(path, format!("expected {what}, found {}", kind(v)))
}

fn is_blob_shaped(m: &BTreeMap<String, Value>) -> bool {
    matches!(m.get("$type"), Some(Value::String(t)) if t == "blob")
}

/// Validation of values against the schemas of one catalog.
pub(crate) struct Validator<'c> {
    pub catalog: &'c Catalog,
}

impl<'c> Validator<'c> {
    /// A value in a field position; `base` is the NSID of the document the schema is in
    /// (for local `#name` references).
    pub fn field(
        &self,
        base: &str,
        schema: &FieldType,
        v: &Value,
        path: &Path<'_>,
    ) -> Result<(), LexiconError> {
        if path.depth() > MAX_DEPTH {
            return Err(invalid(
                path,
                format!("nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        match schema {
            FieldType::Boolean(b) => boolean(b, v, path),
            FieldType::Integer(i) => integer(i, v, path),
            FieldType::String(s) => string(s, v, path),
            FieldType::Bytes(b) => bytes(b, v, path),
            FieldType::CidLink(_) => cid_link(v, path),
            FieldType::Blob(b) => blob(b, v, path),
            FieldType::Array(a) => self.array(base, a, v, path),
            FieldType::Object(o) => self.object(base, o, v, path),
            FieldType::Ref(r) => {
                let target = self
                    .catalog
                    .resolve(&r.reference, base)
                    .map_err(|e| bad_ref(path, &r.reference, e.to_string()))?;
                self.def(&target, v, path, &r.reference)
            }
            FieldType::Union(u) => self.union(base, u, v, path),
            FieldType::Unknown(_) => unknown(v, path),
        }
    }

    /// A value against a named definition reached through `reference`.
    pub fn def(
        &self,
        target: &Resolved<'_>,
        v: &Value,
        path: &Path<'_>,
        reference: &str,
    ) -> Result<(), LexiconError> {
        let base = target.nsid;
        match target.def {
            UserType::Object(o) => self.object(base, o, v, path),
            UserType::Record(r) => {
                // Records carry their own `$type`, even when reached through a ref.
                let Value::Map(m) = v else {
                    return Err(expected(path, "an object", v));
                };
                check_type_field(m, target.nsid, path)?;
                self.object(base, &r.record, v, path)
            }
            UserType::Array(a) => self.array(base, a, v, path),
            UserType::Boolean(b) => boolean(b, v, path),
            UserType::Integer(i) => integer(i, v, path),
            UserType::String(s) => string(s, v, path),
            UserType::Bytes(b) => bytes(b, v, path),
            UserType::CidLink(_) => cid_link(v, path),
            UserType::Blob(b) => blob(b, v, path),
            other @ (UserType::Token(_)
            | UserType::Query(_)
            | UserType::Procedure(_)
            | UserType::Subscription(_)
            | UserType::PermissionSet(_)) => Err(bad_ref(
                path,
                reference,
                format!(
                    "points at a {} definition, which has no data form",
                    other.kind()
                ),
            )),
        }
    }

    pub fn object(
        &self,
        base: &str,
        schema: &ObjectType,
        v: &Value,
        path: &Path<'_>,
    ) -> Result<(), LexiconError> {
        let Value::Map(map) = v else {
            return Err(expected(path, "an object", v));
        };
        if is_blob_shaped(map) {
            return Err(expected(path, "an object", v));
        }
        for name in &schema.required {
            if !map.contains_key(name) {
                return Err(invalid(&Path::Key(path, name), "required field is missing"));
            }
        }
        for (name, prop) in &schema.properties {
            let Some(value) = map.get(name) else { continue };
            let fpath = Path::Key(path, name);
            if matches!(value, Value::Null) {
                if schema.nullable.iter().any(|n| n == name) {
                    continue;
                }
                return Err(invalid(
                    &fpath,
                    "must not be null (the field is not nullable)",
                ));
            }
            self.field(base, prop, value, &fpath)?;
        }
        Ok(())
    }

    fn array(
        &self,
        base: &str,
        schema: &ArrayType,
        v: &Value,
        path: &Path<'_>,
    ) -> Result<(), LexiconError> {
        let Value::List(items) = v else {
            return Err(expected(path, "an array", v));
        };
        let n = items.len() as u64;
        if let Some(min) = schema.min_length
            && n < min
        {
            return Err(invalid(path, format!("has {n} elements, fewer than {min}")));
        }
        if let Some(max) = schema.max_length
            && n > max
        {
            return Err(invalid(path, format!("has {n} elements, more than {max}")));
        }
        for (i, item) in items.iter().enumerate() {
            self.field(base, &schema.items, item, &Path::Index(path, i))?;
        }
        Ok(())
    }

    fn union(
        &self,
        base: &str,
        schema: &UnionType,
        v: &Value,
        path: &Path<'_>,
    ) -> Result<(), LexiconError> {
        let Value::Map(map) = v else {
            return Err(expected(path, "an object with a $type", v));
        };
        let type_path = Path::Key(path, "$type");
        let ty = match map.get("$type") {
            Some(Value::String(t)) => t.as_str(),
            Some(other) => return Err(expected(&type_path, "a string", other)),
            None => return Err(invalid(&type_path, "a union member needs a $type")),
        };
        let (ty_nsid, ty_name) = type_parts(ty).map_err(|e| invalid(&type_path, e))?;
        for r in &schema.refs {
            let parts = parse_ref(r).map_err(|e| bad_ref(path, r, e))?;
            if parts.nsid.unwrap_or(base) == ty_nsid && parts.name == ty_name {
                let target = self
                    .catalog
                    .resolve(r, base)
                    .map_err(|e| bad_ref(path, r, e.to_string()))?;
                return match target.def {
                    UserType::Object(_) | UserType::Record(_) => self.def(&target, v, path, r),
                    other => Err(bad_ref(
                        path,
                        r,
                        format!(
                            "a union may only name objects and records, not a {}",
                            other.kind()
                        ),
                    )),
                };
            }
        }
        if schema.closed {
            Err(invalid(
                &type_path,
                format!(
                    "{ty:?} is not one of the closed union's types [{}]",
                    schema.refs.join(", ")
                ),
            ))
        } else {
            // Open unions admit types added after this schema was written.
            Ok(())
        }
    }
}

/// Split a data `$type` into NSID and definition name; `#main` must be left implicit.
fn type_parts(ty: &str) -> Result<(&str, &str), String> {
    let parts = parse_ref(ty).map_err(|e| format!("not a type reference: {e}"))?;
    let Some(nsid) = parts.nsid else {
        return Err(format!(
            "{ty:?} must name its lexicon, not a local #definition"
        ));
    };
    if ty.ends_with("#main") {
        return Err(format!("{ty:?} must be written without #main"));
    }
    Ok((nsid, parts.name))
}

/// The `$type` of a record must be exactly its collection's NSID.
pub(crate) fn check_type_field(
    map: &BTreeMap<String, Value>,
    nsid: &str,
    path: &Path<'_>,
) -> Result<(), LexiconError> {
    let type_path = Path::Key(path, "$type");
    match map.get("$type") {
        Some(Value::String(t)) if t == nsid => Ok(()),
        Some(Value::String(t)) => Err(invalid(
            &type_path,
            format!("expected {nsid:?}, found {t:?}"),
        )),
        Some(other) => Err(expected(&type_path, "a string", other)),
        None => Err(invalid(&type_path, "a record needs a $type")),
    }
}

fn boolean(schema: &BooleanType, v: &Value, path: &Path<'_>) -> Result<(), LexiconError> {
    let Value::Bool(b) = v else {
        return Err(expected(path, "a boolean", v));
    };
    match schema.const_value {
        Some(c) if c != *b => Err(invalid(path, format!("must be {c}"))),
        _ => Ok(()),
    }
}

fn integer(schema: &IntegerType, v: &Value, path: &Path<'_>) -> Result<(), LexiconError> {
    let Value::Integer(n) = v else {
        return Err(expected(path, "an integer", v));
    };
    let n = *n;
    if let Some(c) = schema.const_value
        && n != i128::from(c)
    {
        return Err(invalid(path, format!("must be {c}, found {n}")));
    }
    if let Some(allowed) = &schema.enum_values
        && !allowed.iter().any(|a| i128::from(*a) == n)
    {
        return Err(invalid(path, format!("{n} is not one of {allowed:?}")));
    }
    if let Some(min) = schema.minimum
        && n < i128::from(min)
    {
        return Err(invalid(path, format!("{n} is less than the minimum {min}")));
    }
    if let Some(max) = schema.maximum
        && n > i128::from(max)
    {
        return Err(invalid(
            path,
            format!("{n} is greater than the maximum {max}"),
        ));
    }
    Ok(())
}

fn string(schema: &StringType, v: &Value, path: &Path<'_>) -> Result<(), LexiconError> {
    let Value::String(s) = v else {
        return Err(expected(path, "a string", v));
    };
    if let Some(c) = &schema.const_value
        && c != s
    {
        return Err(invalid(path, format!("must be {c:?}")));
    }
    if let Some(allowed) = &schema.enum_values
        && !allowed.contains(s)
    {
        return Err(invalid(path, format!("{s:?} is not one of {allowed:?}")));
    }
    let bytes = s.len() as u64;
    if let Some(min) = schema.min_length
        && bytes < min
    {
        return Err(invalid(
            path,
            format!("{bytes} UTF-8 bytes is shorter than {min}"),
        ));
    }
    if let Some(max) = schema.max_length
        && bytes > max
    {
        return Err(invalid(
            path,
            format!("{bytes} UTF-8 bytes is longer than {max}"),
        ));
    }
    // A grapheme is at least one byte, so the byte length bounds the count from above:
    // short strings skip the segmentation work for the maximum.
    let need_count = schema.min_graphemes.is_some_and(|m| m > 0)
        || schema.max_graphemes.is_some_and(|m| bytes > m);
    if need_count {
        let graphemes = s.graphemes(true).count() as u64;
        if let Some(min) = schema.min_graphemes
            && graphemes < min
        {
            return Err(invalid(
                path,
                format!("{graphemes} graphemes is fewer than {min}"),
            ));
        }
        if let Some(max) = schema.max_graphemes
            && graphemes > max
        {
            return Err(invalid(
                path,
                format!("{graphemes} graphemes is more than {max}"),
            ));
        }
    }
    if let Some(format) = schema.format {
        formats::check(format, s).map_err(|e| invalid(path, e))?;
    }
    Ok(())
}

fn bytes(schema: &BytesType, v: &Value, path: &Path<'_>) -> Result<(), LexiconError> {
    let Value::Bytes(b) = v else {
        return Err(expected(path, "bytes", v));
    };
    let n = b.len() as u64;
    if let Some(min) = schema.min_length
        && n < min
    {
        return Err(invalid(path, format!("{n} bytes is shorter than {min}")));
    }
    if let Some(max) = schema.max_length
        && n > max
    {
        return Err(invalid(path, format!("{n} bytes is longer than {max}")));
    }
    Ok(())
}

fn cid_link(v: &Value, path: &Path<'_>) -> Result<(), LexiconError> {
    match v {
        Value::Link(_) => Ok(()),
        other => Err(expected(path, "a cid-link", other)),
    }
}

/// The fields of a well-formed blob reference: `(mimeType, size)`.
fn blob_fields<'v>(v: &'v Value, path: &Path<'_>) -> Result<(&'v str, i128), LexiconError> {
    let Value::Map(m) = v else {
        return Err(expected(path, "a blob", v));
    };
    if !is_blob_shaped(m) {
        return Err(invalid(
            path,
            "expected a blob ({\"$type\": \"blob\", ref, mimeType, size})",
        ));
    }
    match m.get("ref") {
        Some(Value::Link(_)) => {}
        Some(other) => return Err(expected(&Path::Key(path, "ref"), "a cid-link", other)),
        None => return Err(invalid(&Path::Key(path, "ref"), "a blob needs a ref")),
    }
    let mime = match m.get("mimeType") {
        Some(Value::String(s)) if !s.is_empty() => s.as_str(),
        Some(Value::String(_)) => {
            return Err(invalid(&Path::Key(path, "mimeType"), "empty MIME type"));
        }
        Some(other) => return Err(expected(&Path::Key(path, "mimeType"), "a string", other)),
        None => {
            return Err(invalid(
                &Path::Key(path, "mimeType"),
                "a blob needs a mimeType",
            ));
        }
    };
    let size = match m.get("size") {
        Some(Value::Integer(n)) if *n >= 0 => *n,
        Some(Value::Integer(n)) => {
            return Err(invalid(
                &Path::Key(path, "size"),
                format!("negative size {n}"),
            ));
        }
        Some(other) => return Err(expected(&Path::Key(path, "size"), "an integer", other)),
        None => return Err(invalid(&Path::Key(path, "size"), "a blob needs a size")),
    };
    Ok((mime, size))
}

fn blob(schema: &BlobType, v: &Value, path: &Path<'_>) -> Result<(), LexiconError> {
    let (mime, size) = blob_fields(v, path)?;
    if let Some(max) = schema.max_size
        && size > i128::from(max)
    {
        return Err(invalid(
            path,
            format!("blob of {size} bytes is larger than {max}"),
        ));
    }
    if let Some(accept) = &schema.accept
        && !accept.iter().any(|pattern| mime_matches(pattern, mime))
    {
        return Err(invalid(
            path,
            format!(
                "MIME type {mime:?} is not accepted (accepted: {})",
                accept.join(", ")
            ),
        ));
    }
    Ok(())
}

/// `pattern` is `*/*`, `type/*` or `type/subtype`; MIME types compare case-insensitively
/// and without parameters.
fn mime_matches(pattern: &str, mime: &str) -> bool {
    let essence = mime.split(';').next().unwrap_or_default().trim();
    if pattern == "*/*" {
        return true;
    }
    match pattern.strip_suffix("/*") {
        Some(top) => essence
            .split_once('/')
            .is_some_and(|(t, sub)| t.eq_ignore_ascii_case(top) && !sub.is_empty()),
        None => essence.eq_ignore_ascii_case(pattern),
    }
}

/// `unknown`: any object that is not itself a blob; blobs nested inside must be well formed.
fn unknown(v: &Value, path: &Path<'_>) -> Result<(), LexiconError> {
    match v {
        Value::Map(m) if !is_blob_shaped(m) => nested_blobs(v, path),
        other => Err(expected(path, "an object", other)),
    }
}

fn nested_blobs(v: &Value, path: &Path<'_>) -> Result<(), LexiconError> {
    if path.depth() > MAX_DEPTH {
        return Err(invalid(
            path,
            format!("nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    match v {
        Value::Map(m) => {
            if is_blob_shaped(m) {
                blob_fields(v, path)?;
            }
            for (k, item) in m {
                nested_blobs(item, &Path::Key(path, k))?;
            }
            Ok(())
        }
        Value::List(items) => {
            for (i, item) in items.iter().enumerate() {
                nested_blobs(item, &Path::Index(path, i))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::mime_matches;

    #[test]
    fn mime_patterns() {
        assert!(mime_matches("*/*", "text/plain"));
        assert!(mime_matches("image/*", "image/png"));
        assert!(mime_matches("image/*", "IMAGE/png; q=1"));
        assert!(!mime_matches("image/*", "text/plain"));
        assert!(!mime_matches("image/*", "image/"));
        assert!(mime_matches("video/mp4", "video/mp4"));
        assert!(!mime_matches("video/mp4", "video/mpeg"));
    }
}
