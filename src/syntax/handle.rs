//! Handles: DNS hostnames used as human-friendly account names (atproto.com/specs/handle).
//!
//! Owns handle syntax and its lowercase normal form. It does not resolve handles
//! (DNS TXT or `/.well-known/atproto-did`) and does not decide which domains a server
//! will serve; `has_reserved_tld` only reports the spec's list so callers can refuse.

use super::{SyntaxError, check_dns_label, string_newtype_impls, syntax_err};
use std::borrow::Cow;

/// The longest handle the syntax allows (the DNS name limit).
const MAX_LEN: usize = 253;

/// Top-level domains the handle spec says must fail registration and resolution,
/// although they pass syntax validation.
const RESERVED_TLDS: [&str; 8] = [
    "alt",
    "arpa",
    "example",
    "internal",
    "invalid",
    "local",
    "localhost",
    "onion",
];

/// A syntactically valid handle, normalized to lowercase.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Handle(Cow<'static, str>);

impl Handle {
    /// `handle.invalid`: the value services report when an account has no
    /// bidirectionally verified handle. Syntactically valid, so it round-trips.
    pub const INVALID: Handle = Handle(Cow::Borrowed("handle.invalid"));

    /// Validate `s` as a handle and normalize it to lowercase.
    pub fn new(s: &str) -> Result<Self, SyntaxError> {
        check(s).map_err(|reason| syntax_err!(Handle, s, "{reason}"))?;
        Ok(Handle(Cow::Owned(s.to_ascii_lowercase())))
    }

    /// Whether `s` is a valid handle (in any letter case).
    pub fn is_valid(s: &str) -> bool {
        check(s).is_ok()
    }

    /// For a string already checked by `check` (e.g. a slice of a validated AT-URI).
    pub(super) fn from_validated(s: &str) -> Self {
        Handle(Cow::Owned(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the handle ends in a TLD that the spec reserves (`.alt`, `.arpa`,
    /// `.example`, `.internal`, `.invalid`, `.local`, `.localhost`, `.onion`).
    /// Such handles are valid syntax but must never be registered or resolved.
    pub fn has_reserved_tld(&self) -> bool {
        let tld = self.0.rsplit('.').next().unwrap_or_default();
        RESERVED_TLDS.contains(&tld)
    }
}

string_newtype_impls!(Handle, "an atproto handle");

/// The handle rules; `Err` names the first one broken.
fn check(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("empty");
    }
    if !s.is_ascii() {
        return Err("only ASCII characters are allowed (encode IDNs as punycode)");
    }
    if s.len() > MAX_LEN {
        return Err("longer than 253 characters");
    }
    let mut labels = s.split('.').peekable();
    let mut count = 0usize;
    while let Some(label) = labels.next() {
        check_dns_label(label)?;
        count += 1;
        let is_last = labels.peek().is_none();
        if is_last && label.starts_with(|c: char| c.is_ascii_digit()) {
            return Err("the last segment (top-level domain) may not start with a digit");
        }
    }
    if count < 2 {
        return Err("needs at least two segments (a bare top-level domain is not a handle)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_to_lowercase() {
        let h = Handle::new("XX.LCS.MIT.EDU").expect("valid handle");
        assert_eq!(h.as_str(), "xx.lcs.mit.edu");
        assert!(Handle::is_valid("XX.LCS.MIT.EDU"));
    }

    #[test]
    fn invalid_marker_is_a_handle() {
        let parsed = Handle::new("handle.invalid").expect("valid syntax");
        assert_eq!(parsed, Handle::INVALID);
        assert!(Handle::INVALID.has_reserved_tld());
        assert!(!Handle::new("alice.test").expect("valid").has_reserved_tld());
    }

    #[test]
    fn serde_round_trip_and_refusal() {
        let h = Handle::new("Alice.Example.COM").expect("valid");
        let json = serde_json::to_string(&h).expect("serialize");
        assert_eq!(json, "\"alice.example.com\"");
        let back: Handle = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, h);
        assert!(serde_json::from_str::<Handle>("\"john..test\"").is_err());
        assert!(serde_json::from_str::<Handle>("42").is_err());
    }

    #[test]
    fn errors_name_the_rule() {
        let e = Handle::new("john.0").expect_err("numeric TLD");
        assert!(e.to_string().contains("top-level domain"), "{e}");
    }
}
