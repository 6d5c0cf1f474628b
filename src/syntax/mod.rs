//! Identifier syntax: handles, DIDs, NSIDs, AT-URIs, TIDs, record keys,
//! at-identifiers, datetimes, language tags, plus string-level checks for CIDs and
//! generic URIs.
//!
//! Owns the rules for what a well-formed identifier string is, the validated newtypes
//! that carry them through the rest of the code (so a `Did` in a signature is always
//! a syntactically valid DID), and the TID clock. It must not resolve anything (no DNS,
//! no HTTP, no DID documents), must not decide policy such as which DID methods or
//! TLDs a server accepts beyond the published syntax, and never panics on input.
//!
//! Every newtype offers `new(&str) -> Result<Self, SyntaxError>`, `as_str()`,
//! `Display`, `FromStr`, `AsRef<str>`, `TryFrom<&str>`/`TryFrom<String>`, and serde
//! support that writes the plain string and validates when reading.

mod aturi;
mod cid;
mod datetime;
mod did;
mod handle;
mod identifier;
mod language;
mod nsid;
mod recordkey;
mod tid;
mod uri;

pub use aturi::AtUri;
pub use cid::{check_cid_string, is_valid_cid_string};
pub use datetime::{Datetime, is_valid_datetime_syntax};
pub use did::Did;
pub use handle::Handle;
pub use identifier::AtIdentifier;
pub use language::{Language, is_valid_language_syntax};
pub use nsid::Nsid;
pub use recordkey::{RecordKey, is_valid_rkey};
pub use tid::{Tid, TidClock};
pub use uri::{check_uri, is_valid_uri};

/// Why a string is not a valid identifier of some kind.
///
/// `input` is the offending string, cut to a readable length (some inputs are
/// kilobytes long); `reason` names the rule that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    #[error("invalid handle {input:?}: {reason}")]
    Handle { input: String, reason: String },
    #[error("invalid DID {input:?}: {reason}")]
    Did { input: String, reason: String },
    #[error("invalid NSID {input:?}: {reason}")]
    Nsid { input: String, reason: String },
    #[error("invalid AT-URI {input:?}: {reason}")]
    AtUri { input: String, reason: String },
    #[error("invalid TID {input:?}: {reason}")]
    Tid { input: String, reason: String },
    #[error("invalid record key {input:?}: {reason}")]
    RecordKey { input: String, reason: String },
    #[error("invalid at-identifier {input:?}: {reason}")]
    AtIdentifier { input: String, reason: String },
    #[error("invalid datetime {input:?}: {reason}")]
    Datetime { input: String, reason: String },
    #[error("invalid language tag {input:?}: {reason}")]
    Language { input: String, reason: String },
    #[error("invalid CID string {input:?}: {reason}")]
    Cid { input: String, reason: String },
    #[error("invalid URI {input:?}: {reason}")]
    Uri { input: String, reason: String },
}

/// How much of an offending input an error message repeats.
const EXCERPT_CHARS: usize = 80;

/// The start of `s`, for error messages.
fn excerpt(s: &str) -> String {
    let mut chars = s.chars();
    let mut out: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// A constructor for one `SyntaxError` variant: `err!(Handle, input, "why")`.
macro_rules! syntax_err {
    ($variant:ident, $input:expr, $($reason:tt)+) => {
        $crate::syntax::SyntaxError::$variant {
            input: $crate::syntax::excerpt($input),
            reason: format!($($reason)+),
        }
    };
}
pub(crate) use syntax_err;

/// The string-facing trait impls every validated newtype shares. The type must
/// have `fn new(&str) -> Result<Self, SyntaxError>` and `fn as_str(&self) -> &str`.
macro_rules! string_newtype_impls {
    ($ty:ident, $expecting:literal) => {
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::syntax::SyntaxError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = $crate::syntax::SyntaxError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = $crate::syntax::SyntaxError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::new(&s)
            }
        }

        impl From<$ty> for String {
            fn from(v: $ty) -> String {
                v.as_str().to_owned()
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl ::serde::de::Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: ::serde::de::Error>(self, s: &str) -> Result<$ty, E> {
                        $ty::new(s).map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}
pub(crate) use string_newtype_impls;

/// One DNS-style label as used by handles and NSID authorities: 1–63 ASCII letters,
/// digits and hyphens, not starting or ending with a hyphen. `Err` names the rule.
fn check_dns_label(label: &str) -> Result<(), &'static str> {
    if label.is_empty() {
        return Err("empty segment (leading, trailing or doubled period)");
    }
    if label.len() > 63 {
        return Err("segment longer than 63 characters");
    }
    if !label
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err("segments may contain only ASCII letters, digits and hyphens");
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err("segment starts or ends with a hyphen");
    }
    Ok(())
}
