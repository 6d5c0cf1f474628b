//! Generic URIs (the lexicon `uri` string format): RFC 3986 scheme, then a
//! non-empty remainder, at most 8 KiB.
//!
//! Owns the shape check only. It does not parse URIs into parts, resolve or fetch
//! them, or judge schemes; AT-URIs have their own stricter type in `aturi`.

use super::{SyntaxError, syntax_err};

/// Longest URI (8 KiB).
const MAX_LEN: usize = 8 * 1024;

/// Whether `s` is a URI in the lexicon `uri` sense.
pub fn is_valid_uri(s: &str) -> bool {
    check_uri(s).is_ok()
}

/// [`is_valid_uri`], with the broken rule in the error.
///
/// Rules: `scheme ":" rest` where the scheme is a letter followed by letters,
/// digits, `+`, `-` or `.` (RFC 3986 §3.1); `rest` is printable ASCII without
/// spaces (as RFC 3986 requires: anything else must be percent-encoded) and is not
/// empty or only slashes (`http:` and `http://` name nothing).
pub fn check_uri(s: &str) -> Result<(), SyntaxError> {
    let fail = |reason: &str| syntax_err!(Uri, s, "{reason}");
    if s.len() > MAX_LEN {
        return Err(fail("longer than 8 KiB"));
    }
    let Some((scheme, rest)) = s.split_once(':') else {
        return Err(fail("needs a scheme followed by ':'"));
    };
    let mut sb = scheme.bytes();
    if !sb.next().is_some_and(|b| b.is_ascii_alphabetic()) {
        return Err(fail("the scheme must start with a letter"));
    }
    if !sb.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) {
        return Err(fail(
            "the scheme may contain only letters, digits, '+', '-' and '.'",
        ));
    }
    if !rest.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(fail(
            "only printable ASCII without spaces is allowed (percent-encode the rest)",
        ));
    }
    if rest.bytes().all(|b| b == b'/') {
        return Err(fail("nothing after the scheme"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(is_valid_uri("https://example.com/a?b=c#d"));
        assert!(is_valid_uri("mailto:alice@example.com"));
        assert!(!is_valid_uri("http://"));
        assert!(!is_valid_uri("https://example.com/\u{e9}"));
        let e = check_uri("1http://x").expect_err("bad scheme");
        assert!(e.to_string().contains("start with a letter"), "{e}");
    }
}
