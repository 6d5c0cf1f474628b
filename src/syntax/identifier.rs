//! At-identifiers: a string that is either a DID or a handle (the lexicon
//! `at-identifier` format, used mostly in XRPC parameters and AT-URI authorities).
//!
//! Owns telling the two apart (a DID starts with `did:`; a handle cannot contain
//! `:`). It does not resolve a handle to a DID.

use super::{Did, Handle, SyntaxError, syntax_err};
use std::fmt;
use std::str::FromStr;

/// Either a DID or a (lowercase-normalized) handle.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum AtIdentifier {
    Did(Did),
    Handle(Handle),
}

impl AtIdentifier {
    /// Parse `s` as a DID if it starts with `did:`, otherwise as a handle.
    pub fn new(s: &str) -> Result<Self, SyntaxError> {
        if s.starts_with("did:") {
            Did::new(s)
                .map(AtIdentifier::Did)
                .map_err(|e| syntax_err!(AtIdentifier, s, "not a valid DID ({})", reason(&e)))
        } else {
            Handle::new(s)
                .map(AtIdentifier::Handle)
                .map_err(|e| syntax_err!(AtIdentifier, s, "not a valid handle ({})", reason(&e)))
        }
    }

    /// Whether `s` is a valid DID or handle.
    pub fn is_valid(s: &str) -> bool {
        if s.starts_with("did:") {
            Did::is_valid(s)
        } else {
            Handle::is_valid(s)
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            AtIdentifier::Did(d) => d.as_str(),
            AtIdentifier::Handle(h) => h.as_str(),
        }
    }

    pub fn as_did(&self) -> Option<&Did> {
        match self {
            AtIdentifier::Did(d) => Some(d),
            AtIdentifier::Handle(_) => None,
        }
    }

    pub fn as_handle(&self) -> Option<&Handle> {
        match self {
            AtIdentifier::Handle(h) => Some(h),
            AtIdentifier::Did(_) => None,
        }
    }
}

/// The rule-naming part of an inner error, so the outer message does not repeat the input.
fn reason(e: &SyntaxError) -> &str {
    match e {
        SyntaxError::Did { reason, .. } | SyntaxError::Handle { reason, .. } => reason,
        _ => "",
    }
}

impl From<Did> for AtIdentifier {
    fn from(d: Did) -> Self {
        AtIdentifier::Did(d)
    }
}

impl From<Handle> for AtIdentifier {
    fn from(h: Handle) -> Self {
        AtIdentifier::Handle(h)
    }
}

impl fmt::Display for AtIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AtIdentifier {
    type Err = SyntaxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl AsRef<str> for AtIdentifier {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl TryFrom<&str> for AtIdentifier {
    type Error = SyntaxError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl TryFrom<String> for AtIdentifier {
    type Error = SyntaxError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(&s)
    }
}

impl From<AtIdentifier> for String {
    fn from(v: AtIdentifier) -> String {
        v.as_str().to_owned()
    }
}

impl serde::Serialize for AtIdentifier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for AtIdentifier {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = AtIdentifier;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a DID or a handle")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<AtIdentifier, E> {
                AtIdentifier::new(s).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_dids_from_handles() {
        let d = AtIdentifier::new("did:plc:abc").expect("valid DID");
        assert!(d.as_did().is_some());
        let h = AtIdentifier::new("Alice.Test").expect("valid handle");
        assert_eq!(h.as_handle().map(Handle::as_str), Some("alice.test"));
        let e = AtIdentifier::new("did:thing").expect_err("bad DID");
        assert!(e.to_string().contains("not a valid DID"), "{e}");
    }

    #[test]
    fn serde_round_trip_and_refusal() {
        for s in ["did:web:example.com", "alice.example.com"] {
            let id = AtIdentifier::new(s).expect("valid");
            let json = serde_json::to_string(&id).expect("serialize");
            assert_eq!(json, format!("\"{s}\""));
            assert_eq!(
                serde_json::from_str::<AtIdentifier>(&json).expect("deserialize"),
                id
            );
        }
        assert!(serde_json::from_str::<AtIdentifier>("\"@handle\"").is_err());
    }
}
