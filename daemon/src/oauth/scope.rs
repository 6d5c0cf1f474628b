//! OAuth scopes: which ones pdsd grants, how the consent page words them, and what a
//! DPoP-bound access token may call on the XRPC API.
//!
//! Supported: `atproto` (required in every request: the atproto profile), and the
//! transitional scopes `transition:generic` (what an app password may do),
//! `transition:chat.bsky` (direct messages, only together with generic) and
//! `transition:email` (the account's email in getSession). The granular permission
//! scopes (`repo:`, `rpc:`, `blob:`, `account:`, `identity:`, `include:`) are refused
//! with `invalid_scope` and are not advertised. This module only reads scope strings;
//! account-management limits (no handle/email/password changes) come from the XRPC
//! handlers' `require_full`, which OAuth tokens never pass.

/// The profile's own scope; every session has it.
pub const ATPROTO: &str = "atproto";
/// App-password-level access to the account's repo, blobs, preferences and proxying.
pub const GENERIC: &str = "transition:generic";
/// Direct messages (`chat.bsky.*`); needs [`GENERIC`].
pub const CHAT: &str = "transition:chat.bsky";
/// The account's email address and its confirmation status.
pub const EMAIL: &str = "transition:email";

/// Every scope pdsd can grant (the metadata's `scopes_supported`).
pub const SUPPORTED: &[&str] = &[ATPROTO, GENERIC, CHAT, EMAIL];

/// Split a scope string into its values, refusing empty, duplicate or odd values.
pub fn parse(s: &str) -> Result<Vec<String>, String> {
    if s.len() > 2048 {
        return Err("scope is too long".into());
    }
    let mut out: Vec<String> = Vec::new();
    for v in s.split(' ') {
        if v.is_empty() {
            return Err("scope values must be separated by single spaces".into());
        }
        // RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
        if !v
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
        {
            return Err(format!(
                "scope value {v:?} has characters OAuth does not allow"
            ));
        }
        if !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    }
    Ok(out)
}

/// Check requested scopes against what pdsd supports and what the client declared.
pub fn check_request(requested: &[String], declared: &[String]) -> Result<(), String> {
    if !requested.iter().any(|s| s == ATPROTO) {
        return Err("scope must include atproto".into());
    }
    for s in requested {
        if !SUPPORTED.contains(&s.as_str()) {
            return Err(format!(
                "scope {} is not supported by this server (supported: {})",
                s.chars().take(64).collect::<String>(),
                SUPPORTED.join(" ")
            ));
        }
        if !declared.iter().any(|d| d == s) {
            return Err(format!(
                "scope {s} is not declared in the client's metadata"
            ));
        }
    }
    if requested.iter().any(|s| s == CHAT) && !requested.iter().any(|s| s == GENERIC) {
        return Err(format!("{CHAT} only works together with {GENERIC}"));
    }
    Ok(())
}

/// How the consent page describes one scope: a title and a sentence.
pub fn describe(scope: &str) -> (&'static str, &'static str) {
    match scope {
        ATPROTO => (
            "Know who you are",
            "See your account's identifier (DID) and handle. It cannot see anything private.",
        ),
        GENERIC => (
            "Use your account",
            "Create, edit and delete posts, likes, follows and other records; upload media; \
             read and change your preferences. It cannot change your handle, email or \
             password, and cannot delete or move your account.",
        ),
        CHAT => ("Direct messages", "Read and send your direct messages."),
        EMAIL => (
            "Your email address",
            "See the email address of your account and whether it is confirmed.",
        ),
        _ => (
            "Unknown permission",
            "This server does not know this permission.",
        ),
    }
}

/// What a token with `scope` may call at `path` (`/xrpc/<nsid>`). `Err` names the
/// scope that is missing.
pub fn allows(scope: &str, path: &str) -> Result<(), &'static str> {
    let has = |s: &str| grants(scope, s);
    if !has(ATPROTO) {
        return Err(ATPROTO);
    }
    let nsid = path.strip_prefix("/xrpc/").unwrap_or("");
    // Who am I: every session may ask.
    if nsid == "com.atproto.server.getSession" {
        return Ok(());
    }
    if !has(GENERIC) {
        return Err(GENERIC);
    }
    if nsid.starts_with("chat.bsky.") && !has(CHAT) {
        return Err(CHAT);
    }
    Ok(())
}

/// Whether a granted scope string includes `wanted` (e.g. [`EMAIL`] for getSession's
/// email field).
pub fn grants(scope: &str, wanted: &str) -> bool {
    scope.split(' ').any(|s| s == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        parse(s).expect("parse")
    }

    #[test]
    fn parse_and_check() {
        assert_eq!(
            v("atproto transition:generic"),
            vec!["atproto", "transition:generic"]
        );
        assert_eq!(v("atproto atproto"), vec!["atproto"]);
        assert!(parse("atproto  x").is_err());
        assert!(parse("").is_err());
        assert!(parse("a\"b").is_err());
        let declared = v("atproto transition:generic transition:chat.bsky");
        check_request(&v("atproto transition:generic"), &declared).expect("ok");
        assert!(check_request(&v("transition:generic"), &declared).is_err());
        assert!(
            check_request(&v("atproto transition:email"), &declared)
                .unwrap_err()
                .contains("not declared")
        );
        assert!(
            check_request(&v("atproto repo:*"), &v("atproto repo:*"))
                .unwrap_err()
                .contains("not supported")
        );
        assert!(check_request(&v("atproto transition:chat.bsky"), &declared).is_err());
    }

    #[test]
    fn resource_access_follows_scope() {
        let generic = "atproto transition:generic";
        assert!(allows(generic, "/xrpc/com.atproto.repo.createRecord").is_ok());
        assert_eq!(
            allows(generic, "/xrpc/chat.bsky.convo.listConvos"),
            Err(CHAT)
        );
        assert!(
            allows(
                "atproto transition:generic transition:chat.bsky",
                "/xrpc/chat.bsky.convo.listConvos"
            )
            .is_ok()
        );
        assert!(allows("atproto", "/xrpc/com.atproto.server.getSession").is_ok());
        assert_eq!(
            allows("atproto", "/xrpc/com.atproto.repo.createRecord"),
            Err(GENERIC)
        );
        assert_eq!(
            allows("transition:generic", "/xrpc/com.atproto.repo.createRecord"),
            Err(ATPROTO)
        );
        for s in SUPPORTED {
            assert_ne!(describe(s).0, "Unknown permission");
        }
    }
}
