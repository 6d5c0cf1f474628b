//! atproto JSON <-> data-model values: `{"$link": cid}` is a link, `{"$bytes": b64}` is
//! bytes, blobs are `{"$type": "blob", "ref": {"$link"}, "mimeType", "size"}`.
//!
//! Owns the conversion and the data-model rules that JSON can break: numbers must be
//! integers in the signed 64-bit range, `$link`/`$bytes` objects have exactly one key of
//! the right type, `$type` (wherever it appears) is a non-empty string, `$type: "blob"`
//! objects have a valid `ref`, `mimeType` and `size`, and a document's top level is an
//! object. It does not validate against lexicons, and it does not check that a `$type`
//! is a valid NSID: both belong to the lexicon layer.
//!
//! Numbers: JSON does not distinguish `123` from `123.0`, and neither does JavaScript,
//! which produces much atproto JSON. The interop vectors (`data-model-valid.json`, "float,
//! but integer-like") require `123.0` to be read as the integer 123. We therefore accept a
//! number written with a fraction or exponent only when its value is a whole number that
//! is exactly representable (|n| <= 2^53); anything with a fractional part, or a large
//! float that may already have been rounded, is refused as a float.

use super::blob::BlobRef;
use super::cbor::MAX_DEPTH;
use super::{DataError, Value};
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use std::collections::BTreeMap;

/// Standard base64 alphabet; `=` padding optional on input (the spec allows both), never
/// written on output (what the reference implementations write).
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Largest magnitude at which every whole f64 is exact (2^53).
const MAX_SAFE_FLOAT_INT: f64 = 9_007_199_254_740_992.0;

/// Convert any atproto JSON value into a data-model value.
///
/// Accepts scalars at the top level too; use [`object_from_json`] for documents (request
/// bodies, record values) and [`record_from_json`] for records.
pub fn from_json(v: &serde_json::Value) -> Result<Value, DataError> {
    let mut path = Vec::new();
    convert(v, &mut path, 0)
}

/// Convert an atproto JSON document whose top level must be an object.
pub fn object_from_json(v: &serde_json::Value) -> Result<Value, DataError> {
    if !v.is_object() {
        return Err(err(&[], "the top level must be an object"));
    }
    from_json(v)
}

/// Convert a record: a JSON object whose `$type` is a non-empty string.
pub fn record_from_json(v: &serde_json::Value) -> Result<Value, DataError> {
    let value = object_from_json(v)?;
    check_record_shape(&value)?;
    Ok(value)
}

/// Check the record rules that apply to an already-built value: a map with a non-empty
/// string `$type`.
pub(crate) fn check_record_shape(v: &Value) -> Result<(), DataError> {
    let Value::Map(map) = v else {
        return Err(DataError::Shape("a record must be a map".into()));
    };
    match map.get("$type") {
        Some(Value::String(t)) if !t.is_empty() => Ok(()),
        Some(_) => Err(DataError::Shape(
            "a record's $type must be a non-empty string".into(),
        )),
        None => Err(DataError::Shape("a record must have a $type".into())),
    }
}

/// Write a data-model value as atproto JSON (the inverse of [`from_json`]).
///
/// Map keys starting with `$` are reserved by the data model; a map that uses `$link` or
/// `$bytes` as an ordinary key (which only hand-built or foreign CBOR can contain) cannot
/// be told apart from a link or bytes once written as JSON.
///
/// Values from [`from_json`] or strict [`super::cbor::decode_value`] never hold floats or
/// integers outside i64. A hand-built value that does is outside the data model; such
/// numbers are written as JSON `null` rather than panicking (encoding the same value as
/// DAG-CBOR with [`super::cbor::encode`] is refused outright).
pub fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Integer(i) => match i64::try_from(*i) {
            Ok(i) => J::Number(i.into()),
            Err(_) => J::Null,
        },
        Value::Float(_) => J::Null,
        Value::String(s) => J::String(s.clone()),
        Value::Bytes(b) => {
            let mut m = serde_json::Map::new();
            m.insert("$bytes".into(), J::String(B64.encode(b)));
            J::Object(m)
        }
        Value::List(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(map) => J::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect::<serde_json::Map<_, _>>(),
        ),
        Value::Link(cid) => {
            let mut m = serde_json::Map::new();
            m.insert("$link".into(), J::String(cid.to_string()));
            J::Object(m)
        }
    }
}

/// One step of a JSON pointer, kept unformatted until an error needs it.
#[derive(Debug, Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn pointer(path: &[Seg<'_>]) -> String {
    let mut out = String::new();
    for seg in path {
        out.push('/');
        match seg {
            Seg::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
            Seg::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}

fn err(path: &[Seg<'_>], reason: impl Into<String>) -> DataError {
    DataError::Json {
        path: pointer(path),
        reason: reason.into(),
    }
}

fn convert<'a>(
    v: &'a serde_json::Value,
    path: &mut Vec<Seg<'a>>,
    depth: usize,
) -> Result<Value, DataError> {
    use serde_json::Value as J;
    match v {
        J::Null => Ok(Value::Null),
        J::Bool(b) => Ok(Value::Bool(*b)),
        J::String(s) => Ok(Value::String(s.clone())),
        J::Number(n) => number(n).map_err(|reason| err(path, reason)),
        J::Array(items) => {
            if depth >= MAX_DEPTH {
                return Err(DataError::TooDeep { limit: MAX_DEPTH });
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                out.push(convert(item, path, depth + 1)?);
                path.pop();
            }
            Ok(Value::List(out))
        }
        J::Object(obj) => {
            // `$link` and `$bytes` objects are scalars in the data model: no depth taken.
            if let Some(link) = obj.get("$link") {
                return convert_link(obj.len(), link).map_err(|reason| err(path, reason));
            }
            if let Some(bytes) = obj.get("$bytes") {
                return convert_bytes(obj.len(), bytes).map_err(|reason| err(path, reason));
            }
            if depth >= MAX_DEPTH {
                return Err(DataError::TooDeep { limit: MAX_DEPTH });
            }
            let mut out = BTreeMap::new();
            for (k, item) in obj {
                path.push(Seg::Key(k));
                out.insert(k.clone(), convert(item, path, depth + 1)?);
                path.pop();
            }
            let out = Value::Map(out);
            check_type_field(&out).map_err(|reason| err(path, reason))?;
            Ok(out)
        }
    }
}

fn number(n: &serde_json::Number) -> Result<Value, String> {
    if let Some(i) = n.as_i64() {
        return Ok(Value::Integer(i.into()));
    }
    if n.is_u64() {
        return Err(format!("integer {n} is outside the signed 64-bit range"));
    }
    match n.as_f64() {
        Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() <= MAX_SAFE_FLOAT_INT => {
            // Whole and within 2^53, so the cast is exact.
            Ok(Value::Integer((f as i64).into()))
        }
        _ => Err(format!("{n} is not an integer (floats are not allowed)")),
    }
}

fn convert_link(keys: usize, link: &serde_json::Value) -> Result<Value, String> {
    if keys != 1 {
        return Err("a $link object must have exactly one key".into());
    }
    let serde_json::Value::String(s) = link else {
        return Err("$link must be a string".into());
    };
    super::cid::parse(s)
        .map(Value::Link)
        .map_err(|e| e.to_string())
}

fn convert_bytes(keys: usize, bytes: &serde_json::Value) -> Result<Value, String> {
    if keys != 1 {
        return Err("a $bytes object must have exactly one key".into());
    }
    let serde_json::Value::String(s) = bytes else {
        return Err("$bytes must be a string".into());
    };
    B64.decode(s)
        .map(Value::Bytes)
        .map_err(|e| format!("$bytes is not valid base64: {e}"))
}

/// `$type`, where present, must be a non-empty string; `$type: "blob"` must be a blob.
fn check_type_field(map_value: &Value) -> Result<(), String> {
    let Value::Map(map) = map_value else {
        return Ok(());
    };
    match map.get("$type") {
        None => Ok(()),
        Some(Value::String(t)) if t == "blob" => BlobRef::from_value(map_value)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Some(Value::String(t)) if !t.is_empty() => Ok(()),
        Some(_) => Err("$type must be a non-empty string".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integer_like_float_is_an_integer() {
        assert_eq!(from_json(&json!(123.0)), Ok(Value::Integer(123)));
        assert!(from_json(&json!(123.5)).is_err());
        assert!(from_json(&json!(1e300)).is_err());
        assert!(from_json(&json!(u64::MAX)).is_err());
    }

    #[test]
    fn error_carries_a_json_pointer() {
        let e = from_json(&json!({"a/b": [0, {"$type": ""}]}));
        match e {
            Err(DataError::Json { path, .. }) => assert_eq!(path, "/a~1b/1"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn bytes_padding_is_optional() {
        assert_eq!(
            from_json(&json!({"$bytes": "AAE="})),
            from_json(&json!({"$bytes": "AAE"}))
        );
        assert_eq!(to_json(&Value::Bytes(vec![0, 1])), json!({"$bytes": "AAE"}));
    }
}
