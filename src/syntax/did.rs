//! DIDs: the generic `did:<method>:<identifier>` syntax as atproto constrains it
//! (atproto.com/specs/did).
//!
//! Owns generic DID syntax for any method. It does not know which methods are
//! supported (plc, web) nor resolve DID documents; that is `identity`'s business.

use super::{SyntaxError, string_newtype_impls, syntax_err};

/// atproto's hard limit on DID length.
const MAX_LEN: usize = 2048;

/// A syntactically valid DID (case-sensitive, stored as given).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Did(String);

impl Did {
    /// Validate `s` as a DID of any method.
    pub fn new(s: &str) -> Result<Self, SyntaxError> {
        check(s).map_err(|reason| syntax_err!(Did, s, "{reason}"))?;
        Ok(Did(s.to_owned()))
    }

    /// Whether `s` is a valid DID.
    pub fn is_valid(s: &str) -> bool {
        check(s).is_ok()
    }

    /// For a string already checked by `check` (e.g. a slice of a validated AT-URI).
    pub(super) fn from_validated(s: &str) -> Self {
        Did(s.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The method name, e.g. `plc` in `did:plc:...`.
    pub fn method(&self) -> &str {
        self.parts().0
    }

    /// The method-specific identifier, e.g. `ewvi7nxzyoun6zhxrhs64oiz` in
    /// `did:plc:ewvi7nxzyoun6zhxrhs64oiz`.
    pub fn identifier(&self) -> &str {
        self.parts().1
    }

    fn parts(&self) -> (&str, &str) {
        // Validated: "did:" prefix, then method, ':' and a non-empty identifier.
        let rest = self.0.get(4..).unwrap_or_default();
        rest.split_once(':').unwrap_or((rest, ""))
    }
}

string_newtype_impls!(Did, "a DID");

/// The DID rules; `Err` names the first one broken.
fn check(s: &str) -> Result<(), &'static str> {
    if s.len() > MAX_LEN {
        return Err("longer than 2048 characters");
    }
    let Some(rest) = s.strip_prefix("did:") else {
        return Err("must start with lowercase \"did:\"");
    };
    let Some((method, ident)) = rest.split_once(':') else {
        return Err("needs a method and an identifier separated by ':'");
    };
    if method.is_empty() {
        return Err("empty method");
    }
    if !method.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err("the method must be lowercase ASCII letters only");
    }
    if ident.is_empty() {
        return Err("empty method-specific identifier");
    }
    let bytes = ident.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'_' | b':' | b'-' => i += 1,
            b'%' => {
                let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
                if !(hex(i + 1) && hex(i + 2)) {
                    return Err("'%' must be followed by two hex digits");
                }
                i += 3;
            }
            _ => {
                return Err(
                    "the identifier may contain only ASCII letters, digits and ._:%- (no query, fragment or path)",
                );
            }
        }
    }
    if ident.ends_with(':') {
        return Err("may not end with ':'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts() {
        let d = Did::new("did:plc:7iza6de2dwap2sbkpav7c6c6").expect("valid");
        assert_eq!(d.method(), "plc");
        assert_eq!(d.identifier(), "7iza6de2dwap2sbkpav7c6c6");
        let d = Did::new("did:method::::val").expect("valid");
        assert_eq!(d.method(), "method");
        assert_eq!(d.identifier(), ":::val");
    }

    #[test]
    fn percent_encoding_is_checked() {
        assert!(Did::is_valid("did:web:localhost%3A1234"));
        assert!(!Did::is_valid("did:web:localhost%3"));
        assert!(!Did::is_valid("did:web:local%zzhost"));
    }

    #[test]
    fn serde_round_trip_and_refusal() {
        let d = Did::new("did:web:example.com").expect("valid");
        let json = serde_json::to_string(&d).expect("serialize");
        assert_eq!(json, "\"did:web:example.com\"");
        assert_eq!(serde_json::from_str::<Did>(&json).expect("deserialize"), d);
        assert!(serde_json::from_str::<Did>("\"did:METHOD:val\"").is_err());
    }
}
