//! CID strings at the syntax level (the lexicon `cid` string format).
//!
//! Owns the cheap shape check used when validating records: a multibase-prefixed
//! string of plausible length and alphabet. It does not decode the CID or check its
//! version, codec or hash; `data::cid::parse_atproto` does that where a CID is
//! actually used.

use super::{SyntaxError, syntax_err};

const MIN_LEN: usize = 8;
const MAX_LEN: usize = 256;

/// Whether `s` looks like a CID string: 8–256 ASCII letters, digits, `+` or `=`,
/// starting with a multibase prefix. CIDv0 (bare base58, `Qm...`) is refused.
pub fn is_valid_cid_string(s: &str) -> bool {
    check_cid_string(s).is_ok()
}

/// [`is_valid_cid_string`], with the broken rule in the error.
pub fn check_cid_string(s: &str) -> Result<(), SyntaxError> {
    let fail = |reason: &str| syntax_err!(Cid, s, "{reason}");
    if s.len() < MIN_LEN || s.len() > MAX_LEN {
        return Err(fail("must be 8 to 256 characters long"));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'=')
    {
        return Err(fail("may contain only ASCII letters, digits, '+' and '='"));
    }
    if s.starts_with("Qm") {
        return Err(fail("CIDv0 strings are not supported; use CIDv1"));
    }
    let prefix = s.chars().next().unwrap_or_default();
    if multibase::Base::from_code(prefix).is_err() {
        return Err(fail("does not start with a multibase prefix"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_cids_pass() {
        let cid = crate::data::cid::for_cbor(b"hello");
        assert!(is_valid_cid_string(&cid.to_string()));
    }

    #[test]
    fn errors_name_the_rule() {
        let e =
            check_cid_string("QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR").expect_err("CIDv0");
        assert!(e.to_string().contains("CIDv0"), "{e}");
        let e = check_cid_string("qafybeigdyrzt5sfp7udm").expect_err("no multibase prefix");
        assert!(e.to_string().contains("multibase"), "{e}");
    }
}
