//! Lexicon string formats, checked by the parsers in [`crate::syntax`].
//!
//! Owns only the mapping from a `format` name to the syntax check that implements it, and
//! the one limit the lexicon spec adds on top (URIs of at most 8 KiB). It must not
//! re-implement identifier syntax: every rule lives in `crate::syntax`.

use super::schema::StringFormat;
use crate::syntax;

/// Longest `uri`-format string a lexicon accepts.
const MAX_URI_BYTES: usize = 8 * 1024;

/// Check `s` against a lexicon string format; the error names the format and why.
pub(crate) fn check(format: StringFormat, s: &str) -> Result<(), String> {
    match format {
        StringFormat::AtIdentifier => reason(syntax::AtIdentifier::new(s)),
        StringFormat::AtUri => reason(syntax::AtUri::new(s)),
        StringFormat::Cid => {
            if syntax::is_valid_cid_string(s) {
                Ok(())
            } else {
                Err("not a valid CID string".into())
            }
        }
        StringFormat::Datetime => reason(syntax::Datetime::new(s)),
        StringFormat::Did => reason(syntax::Did::new(s)),
        StringFormat::Handle => reason(syntax::Handle::new(s)),
        StringFormat::Nsid => nsid(s),
        StringFormat::Tid => reason(syntax::Tid::new(s)),
        StringFormat::RecordKey => record_key(s),
        StringFormat::Uri => {
            if s.len() > MAX_URI_BYTES {
                Err(format!("URI longer than {MAX_URI_BYTES} bytes"))
            } else if syntax::is_valid_uri(s) {
                Ok(())
            } else {
                Err("not a valid URI".into())
            }
        }
        StringFormat::Language => language(s),
    }
}

/// An NSID (schema ids, references, collections).
pub(crate) fn nsid(s: &str) -> Result<(), String> {
    reason(syntax::Nsid::new(s))
}

/// A record key of any scheme.
pub(crate) fn record_key(s: &str) -> Result<(), String> {
    reason(syntax::RecordKey::new(s))
}

/// A TID.
pub(crate) fn tid(s: &str) -> Result<(), String> {
    reason(syntax::Tid::new(s))
}

/// A strictly parsed BCP-47 language tag.
pub(crate) fn language(s: &str) -> Result<(), String> {
    reason(syntax::Language::new(s))
}

fn reason<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<(), String> {
    r.map(|_| ()).map_err(|e| e.to_string())
}
