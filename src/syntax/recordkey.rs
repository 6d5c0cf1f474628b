//! Record keys: the name of a record within a collection (atproto.com/specs/record-key).
//!
//! Owns the baseline record-key syntax every key type must meet. It does not apply a
//! lexicon's key type (`tid`, `nsid`, `literal:<value>`, `any`); the lexicon
//! validator does that with the other identifier checks in this module.

use super::{SyntaxError, Tid, string_newtype_impls, syntax_err};

/// Longest record key.
const MAX_LEN: usize = 512;

/// A syntactically valid record key (case-sensitive, stored as given).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct RecordKey(String);

impl RecordKey {
    /// Validate `s` as a record key.
    pub fn new(s: &str) -> Result<Self, SyntaxError> {
        check(s).map_err(|reason| syntax_err!(RecordKey, s, "{reason}"))?;
        Ok(RecordKey(s.to_owned()))
    }

    /// For a string already checked by `check` (e.g. a slice of a validated AT-URI).
    pub(super) fn from_validated(s: &str) -> Self {
        RecordKey(s.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(RecordKey, "a record key");

/// Every TID is a valid record key (the most common key type).
impl From<Tid> for RecordKey {
    fn from(t: Tid) -> Self {
        RecordKey(t.as_str().to_owned())
    }
}

impl From<&Tid> for RecordKey {
    fn from(t: &Tid) -> Self {
        RecordKey(t.as_str().to_owned())
    }
}

/// Whether `s` meets the record-key syntax.
pub fn is_valid_rkey(s: &str) -> bool {
    check(s).is_ok()
}

/// The record-key rules; `Err` names the first one broken.
pub(super) fn check(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("empty");
    }
    if s.len() > MAX_LEN {
        return Err("longer than 512 characters");
    }
    if s == "." || s == ".." {
        return Err("\".\" and \"..\" are not allowed");
    }
    let allowed =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'~');
    if !s.bytes().all(allowed) {
        return Err("may contain only ASCII letters, digits and .-_:~");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tid_is_a_record_key() {
        let t = Tid::from_parts(1_700_000_000_000_000, 7);
        let k = RecordKey::from(&t);
        assert_eq!(k.as_str(), t.as_str());
        assert!(is_valid_rkey(k.as_str()));
    }

    #[test]
    fn serde_round_trip_and_refusal() {
        let k = RecordKey::new("self").expect("valid");
        let json = serde_json::to_string(&k).expect("serialize");
        assert_eq!(json, "\"self\"");
        assert_eq!(
            serde_json::from_str::<RecordKey>(&json).expect("deserialize"),
            k
        );
        assert!(serde_json::from_str::<RecordKey>("\"..\"").is_err());
        assert!(serde_json::from_str::<RecordKey>("\"a/b\"").is_err());
    }
}
