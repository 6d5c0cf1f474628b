//! Blob references: `{"$type": "blob", "ref": <cid link>, "mimeType", "size"}`, their
//! conversion to and from data-model values, and finding them anywhere inside a value.
//!
//! The deprecated legacy form `{"cid": "<cid string>", "mimeType"}` is accepted as input
//! only (the spec: "should not throw errors when encountering the old format, but should
//! never write them"); it is kept distinguishable (`size == None`) so that re-encoding
//! never turns it into a typed blob with an invented size. This module knows nothing
//! about blob storage or lexicon constraints (accepted types, maximum size).

use super::{DataError, Value};
use cid::Cid;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// A reference to a blob, as stored inside records.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobRef {
    /// The blob's CID (normally raw codec, sha2-256).
    pub cid: Cid,
    /// Its media type; never empty.
    pub mime_type: String,
    /// Its length in bytes; `None` only for a legacy reference, which carries no size.
    pub size: Option<u64>,
}

impl BlobRef {
    /// A (typed, current-format) blob reference for content with this CID, type and size.
    pub fn new(cid: Cid, mime_type: impl Into<String>, size: u64) -> Self {
        BlobRef {
            cid,
            mime_type: mime_type.into(),
            size: Some(size),
        }
    }

    /// True for a reference read from the deprecated `{"cid", "mimeType"}` form.
    pub fn is_legacy(&self) -> bool {
        self.size.is_none()
    }

    /// The data-model value: the typed map, or the legacy map for a legacy reference.
    pub fn to_value(&self) -> Value {
        let mut map = BTreeMap::new();
        map.insert(
            "mimeType".to_string(),
            Value::String(self.mime_type.clone()),
        );
        match self.size {
            Some(size) => {
                map.insert("$type".to_string(), Value::String("blob".into()));
                map.insert("ref".to_string(), Value::Link(self.cid));
                map.insert("size".to_string(), Value::Integer(size.into()));
            }
            None => {
                map.insert("cid".to_string(), Value::String(self.cid.to_string()));
            }
        }
        Value::Map(map)
    }

    /// Read a blob reference from a value in either the typed or the legacy form.
    ///
    /// Typed: `$type` is `"blob"`, `ref` is a link, `mimeType` a non-empty string, `size`
    /// an integer from 0 to i64::MAX (other keys are ignored, as the spec asks for unknown
    /// fields). Legacy: exactly the two keys `cid` (a CID string) and `mimeType`.
    pub fn from_value(v: &Value) -> Result<BlobRef, DataError> {
        let Value::Map(map) = v else {
            return Err(DataError::Shape("a blob reference must be a map".into()));
        };
        if map.contains_key("$type") {
            return typed(map);
        }
        if map.len() == 2 && map.contains_key("cid") && map.contains_key("mimeType") {
            return legacy(map);
        }
        Err(DataError::Shape(
            "not a blob reference (no $type and not the legacy {cid, mimeType} form)".into(),
        ))
    }
}

fn mime_type(map: &BTreeMap<String, Value>) -> Result<String, DataError> {
    match map.get("mimeType") {
        Some(Value::String(m)) if !m.is_empty() => Ok(m.clone()),
        Some(Value::String(_)) => Err(DataError::Shape("blob mimeType is empty".into())),
        Some(_) => Err(DataError::Shape("blob mimeType must be a string".into())),
        None => Err(DataError::Shape("blob is missing mimeType".into())),
    }
}

fn typed(map: &BTreeMap<String, Value>) -> Result<BlobRef, DataError> {
    match map.get("$type") {
        Some(Value::String(t)) if t == "blob" => {}
        _ => return Err(DataError::Shape("blob $type must be \"blob\"".into())),
    }
    let cid = match map.get("ref") {
        Some(Value::Link(cid)) => *cid,
        Some(_) => return Err(DataError::Shape("blob ref must be a link".into())),
        None => return Err(DataError::Shape("blob is missing ref".into())),
    };
    let mime_type = mime_type(map)?;
    let size = match map.get("size") {
        Some(Value::Integer(n)) => u64::try_from(*n)
            .ok()
            .filter(|n| i64::try_from(*n).is_ok())
            .ok_or_else(|| DataError::Shape(format!("blob size {n} is out of range")))?,
        Some(_) => return Err(DataError::Shape("blob size must be an integer".into())),
        None => return Err(DataError::Shape("blob is missing size".into())),
    };
    Ok(BlobRef {
        cid,
        mime_type,
        size: Some(size),
    })
}

fn legacy(map: &BTreeMap<String, Value>) -> Result<BlobRef, DataError> {
    let cid = match map.get("cid") {
        Some(Value::String(s)) => super::cid::parse(s)?,
        _ => return Err(DataError::Shape("legacy blob cid must be a string".into())),
    };
    Ok(BlobRef {
        cid,
        mime_type: mime_type(map)?,
        size: None,
    })
}

/// Every blob reference inside `v`, in document order (map keys in sorted order),
/// duplicates included. Typed blobs are recognised by `$type: "blob"`; legacy ones by
/// being a map of exactly `cid` (string) and `mimeType`. Maps that claim to be blobs but
/// are malformed are skipped (strict readers have already refused them).
pub fn blob_refs(v: &Value) -> Vec<BlobRef> {
    let mut out = Vec::new();
    // An explicit stack (in reverse) rather than recursion: values may be arbitrarily deep
    // when built by hand, and this must not overflow the stack.
    let mut stack = vec![v];
    while let Some(node) = stack.pop() {
        match node {
            Value::Map(map) => {
                let claims_blob = matches!(map.get("$type"), Some(Value::String(t)) if t == "blob");
                let looks_legacy = !map.contains_key("$type")
                    && map.len() == 2
                    && matches!(map.get("cid"), Some(Value::String(_)))
                    && map.contains_key("mimeType");
                if (claims_blob || looks_legacy)
                    && let Ok(blob) = BlobRef::from_value(node)
                {
                    out.push(blob);
                    continue;
                }
                stack.extend(map.values().rev());
            }
            Value::List(items) => stack.extend(items.iter().rev()),
            _ => {}
        }
    }
    out
}

impl Serialize for BlobRef {
    /// DAG-CBOR (and other binary formats): the map with a tag-42 `ref`. JSON (and other
    /// human-readable formats): the atproto JSON form with `{"$link": ...}`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = self.to_value();
        if serializer.is_human_readable() {
            super::json::to_json(&value).serialize(serializer)
        } else {
            value.serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for BlobRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = if deserializer.is_human_readable() {
            let json = serde_json::Value::deserialize(deserializer)?;
            super::json::from_json(&json).map_err(serde::de::Error::custom)?
        } else {
            Value::deserialize(deserializer)?
        };
        BlobRef::from_value(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cid() -> Cid {
        super::super::cid::for_raw(b"hello")
    }

    #[test]
    fn typed_round_trip() {
        let b = BlobRef::new(cid(), "image/png", 5);
        assert_eq!(BlobRef::from_value(&b.to_value()), Ok(b));
    }

    #[test]
    fn legacy_stays_legacy() {
        let mut m = BTreeMap::new();
        m.insert("cid".into(), Value::String(cid().to_string()));
        m.insert("mimeType".into(), Value::String("image/png".into()));
        let v = Value::Map(m);
        let b = BlobRef::from_value(&v).expect("legacy blob");
        assert!(b.is_legacy());
        assert_eq!(b.to_value(), v);
    }

    #[test]
    fn json_form_uses_link_objects() {
        let b = BlobRef::new(cid(), "image/png", 5);
        let j = serde_json::to_value(&b).expect("serialize");
        assert_eq!(j["ref"]["$link"], serde_json::json!(cid().to_string()));
        assert_eq!(j["$type"], "blob");
        let back: BlobRef = serde_json::from_value(j).expect("deserialize");
        assert_eq!(back, b);
    }
}
