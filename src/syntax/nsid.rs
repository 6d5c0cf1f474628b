//! NSIDs: namespaced identifiers for lexicons, e.g. `com.atproto.repo.createRecord`
//! (atproto.com/specs/nsid).
//!
//! Owns NSID syntax and splitting an NSID into domain authority and name. It does not
//! resolve lexicons or check that anyone controls the authority domain, and it does
//! not handle the `*` glob variation (that is a pattern, not an NSID).

use super::{SyntaxError, check_dns_label, string_newtype_impls, syntax_err};

/// Longest NSID: a 253-character authority, a period and a 63-character name.
const MAX_LEN: usize = 253 + 1 + 63;

/// A syntactically valid NSID, stored as given (NSIDs are case-sensitive and are
/// not force-lowercased).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Nsid(String);

impl Nsid {
    /// Validate `s` as an NSID.
    pub fn new(s: &str) -> Result<Self, SyntaxError> {
        check(s).map_err(|reason| syntax_err!(Nsid, s, "{reason}"))?;
        Ok(Nsid(s.to_owned()))
    }

    /// Whether `s` is a valid NSID.
    pub fn is_valid(s: &str) -> bool {
        check(s).is_ok()
    }

    /// For a string already checked by `check` (e.g. a slice of a validated AT-URI).
    pub(super) fn from_validated(s: &str) -> Self {
        Nsid(s.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The domain authority as written, in reverse-DNS order: `com.example` for
    /// `com.example.fooBar`.
    pub fn authority(&self) -> &str {
        self.0.rsplit_once('.').map(|(a, _)| a).unwrap_or_default()
    }

    /// The domain authority as a DNS name, lowercased: `example.com` for
    /// `com.example.fooBar` (what lexicon resolution looks up).
    pub fn authority_domain(&self) -> String {
        let mut labels: Vec<&str> = self.authority().split('.').collect();
        labels.reverse();
        labels.join(".").to_ascii_lowercase()
    }

    /// The name segment: `fooBar` for `com.example.fooBar`.
    pub fn name(&self) -> &str {
        self.0.rsplit_once('.').map(|(_, n)| n).unwrap_or_default()
    }
}

string_newtype_impls!(Nsid, "an NSID");

/// The NSID rules; `Err` names the first one broken.
///
/// The spec also says the authority is at most 253 characters, but neither the
/// reference implementations nor the interop vectors (which list a 283-character
/// authority as valid) enforce it, and the lexicon spec asks syntax checks to be as
/// permissive as the identifier allows; only the overall 317-character limit applies.
pub(super) fn check(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("empty");
    }
    if !s.is_ascii() {
        return Err("only ASCII characters are allowed");
    }
    if s.len() > MAX_LEN {
        return Err("longer than 317 characters");
    }
    let Some((authority, name)) = s.rsplit_once('.') else {
        return Err("needs at least three period-separated segments");
    };
    let mut segments = 0usize;
    for (i, label) in authority.split('.').enumerate() {
        check_dns_label(label)?;
        if i == 0 && label.starts_with(|c: char| c.is_ascii_digit()) {
            return Err("the first segment (top-level domain) may not start with a digit");
        }
        segments += 1;
    }
    if segments < 2 {
        return Err("needs at least three period-separated segments");
    }
    if name.is_empty() {
        return Err("empty name segment");
    }
    if name.len() > 63 {
        return Err("name segment longer than 63 characters");
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("the name segment may contain only ASCII letters and digits");
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err("the name segment may not start with a digit");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts() {
        let n = Nsid::new("com.Example.fooBar").expect("valid");
        assert_eq!(n.authority(), "com.Example");
        assert_eq!(n.authority_domain(), "example.com");
        assert_eq!(n.name(), "fooBar");
        assert_eq!(n.as_str(), "com.Example.fooBar");
    }

    #[test]
    fn errors_name_the_rule() {
        let e = Nsid::new("com.example.3").expect_err("digit name");
        assert!(e.to_string().contains("may not start with a digit"), "{e}");
        let e = Nsid::new("com.example").expect_err("two segments");
        assert!(e.to_string().contains("three"), "{e}");
    }

    #[test]
    fn serde_round_trip_and_refusal() {
        let n = Nsid::new("app.bsky.feed.post").expect("valid");
        let json = serde_json::to_string(&n).expect("serialize");
        assert_eq!(serde_json::from_str::<Nsid>(&json).expect("deserialize"), n);
        assert!(serde_json::from_str::<Nsid>("\"app.bsky.feed.p_st\"").is_err());
    }
}
