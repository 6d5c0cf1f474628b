//! Small syntax checks shared by the PLC and DID-document code: generic URIs,
//! http(s) service URLs, handles and did:plc identifiers.
//!
//! These are deliberately local and minimal: they answer "is this shaped right for
//! an identity document?", nothing more. They do no normalisation and no I/O.
// TODO(identity): switch `is_handle` to `pds::syntax` once that module lands.

/// `did:plc:` followed by 24 characters of lower-case base32 (`a-z`, `2-7`).
pub(crate) fn is_did_plc(s: &str) -> bool {
    match s.strip_prefix("did:plc:") {
        Some(id) => id.len() == 24 && id.bytes().all(|b| matches!(b, b'a'..=b'z' | b'2'..=b'7')),
        None => false,
    }
}

/// A URI in the RFC 3986 sense, checked loosely: a scheme (a letter, then letters,
/// digits, `+`, `-`, `.`), a colon, and a non-empty rest with no whitespace or
/// control characters.
pub(crate) fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    scheme_ok && !rest.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Why a service URL was refused, in words for an error message.
pub(crate) fn http_url_problem(s: &str, origin_only: bool) -> Option<&'static str> {
    let rest = if let Some(r) = s.strip_prefix("https://") {
        r
    } else if let Some(r) = s.strip_prefix("http://") {
        r
    } else {
        return Some("must start with https:// or http://");
    };
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("must not contain whitespace or control characters");
    }
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Some("must not contain user information");
    }
    let host = match authority.rsplit_once(':') {
        // A bracketed IPv6 literal has colons of its own.
        Some((h, port)) if !authority.ends_with(']') => {
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return Some("has a malformed port");
            }
            h
        }
        _ => authority,
    };
    if host.is_empty() {
        return Some("has no host");
    }
    if origin_only && !(path.is_empty() || path == "/") {
        return Some("must be only scheme, host and optional port (no path, query or fragment)");
    }
    None
}

/// An atproto handle: a DNS name of at least two labels, 253 characters at most,
/// labels of 1..=63 letters, digits and inner hyphens, the last label not starting
/// with a digit. ASCII only; case is not significant.
pub(crate) fn is_handle(s: &str) -> bool {
    if s.is_empty() || s.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = s.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if !labels.iter().all(|l| label_ok(l)) {
        return false;
    }
    labels
        .last()
        .and_then(|l| l.bytes().next())
        .is_some_and(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_plc_shape() {
        assert!(is_did_plc("did:plc:yk4dd2qkboz2yv6tpubpc6co"));
        assert!(!is_did_plc("did:plc:yk4dd2qkboz2yv6tpubpc6c"));
        assert!(!is_did_plc("did:plc:yk4dd2qkboz2yv6tpubpc6c0"));
        assert!(!is_did_plc("did:plc:YK4DD2QKBOZ2YV6TPUBPC6CO"));
        assert!(!is_did_plc("did:web:yk4dd2qkboz2yv6tpubpc6co"));
    }

    #[test]
    fn uris() {
        assert!(is_uri("at://alice.test"));
        assert!(is_uri("https://example.com/x"));
        assert!(is_uri("did:plc:yk4dd2qkboz2yv6tpubpc6co"));
        assert!(!is_uri("alice.test"));
        assert!(!is_uri("at://alice test"));
        assert!(!is_uri("1at://alice.test"));
        assert!(!is_uri("at:"));
    }

    #[test]
    fn http_urls() {
        assert_eq!(http_url_problem("https://pds.example.com", true), None);
        assert_eq!(http_url_problem("http://localhost:2583", true), None);
        assert_eq!(http_url_problem("https://[::1]:443/", true), None);
        assert!(http_url_problem("https://pds.example.com/xrpc", true).is_some());
        assert_eq!(
            http_url_problem("https://pds.example.com/xrpc", false),
            None
        );
        assert!(http_url_problem("ftp://pds.example.com", false).is_some());
        assert!(http_url_problem("https://user@pds.example.com", false).is_some());
        assert!(http_url_problem("https://", false).is_some());
        assert!(http_url_problem("https://pds.example.com:x", false).is_some());
    }

    #[test]
    fn handles() {
        assert!(is_handle("alice.test"));
        assert!(is_handle("dan.bsky.social"));
        assert!(is_handle("XN--ls8h.test"));
        assert!(!is_handle("alice"));
        assert!(!is_handle("alice.123"));
        assert!(!is_handle("-alice.test"));
        assert!(!is_handle("alice..test"));
        assert!(!is_handle("alice.test/path"));
    }
}
