//! Shape checks that only identity documents need: did:plc identifiers and the
//! http(s) URLs of services. Generic URIs and handles are [`crate::syntax`]'s.
//!
//! They answer "is this shaped right for an identity document?", nothing more:
//! no normalisation, no I/O.

/// `did:plc:` followed by 24 characters of lower-case base32 (`a-z`, `2-7`).
pub(crate) fn is_did_plc(s: &str) -> bool {
    match s.strip_prefix("did:plc:") {
        Some(id) => id.len() == 24 && id.bytes().all(|b| matches!(b, b'a'..=b'z' | b'2'..=b'7')),
        None => false,
    }
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
}
