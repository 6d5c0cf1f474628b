//! AT-URIs in the restricted form lexicons use: `at://AUTHORITY[/COLLECTION[/RKEY]]`
//! (atproto.com/specs/at-uri-scheme).
//!
//! Owns parsing, validating and building such URIs. Queries and fragments, which the
//! general AT-URI syntax reserves but lexicons do not use, are refused. It does not
//! resolve the authority or fetch records, and does not re-case the authority (the
//! string is kept exactly as given so it round-trips inside signed records).

use super::{
    AtIdentifier, Did, Handle, Nsid, RecordKey, SyntaxError, nsid, recordkey, string_newtype_impls,
    syntax_err,
};

/// Longest AT-URI (8 KiB).
const MAX_LEN: usize = 8 * 1024;
const SCHEME: &str = "at://";

/// A valid restricted AT-URI.
///
/// Invariants (set by `new`): `s` starts with `at://`; `s[SCHEME.len()..auth_end]` is
/// the authority; when present, `s[auth_end + 1..coll_end]` is the collection and
/// `s[coll_end + 1..]` the record key.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct AtUri {
    s: String,
    auth_end: usize,
    coll_end: Option<usize>,
    has_rkey: bool,
}

impl AtUri {
    /// Validate `s` as a restricted AT-URI.
    pub fn new(s: &str) -> Result<Self, SyntaxError> {
        let (auth_end, coll_end, has_rkey) =
            parse(s).map_err(|reason| syntax_err!(AtUri, s, "{reason}"))?;
        Ok(AtUri {
            s: s.to_owned(),
            auth_end,
            coll_end,
            has_rkey,
        })
    }

    /// Whether `s` is a valid restricted AT-URI.
    pub fn is_valid(s: &str) -> bool {
        parse(s).is_ok()
    }

    /// Build `at://authority[/collection[/rkey]]` and validate it. A record key
    /// without a collection is an error, as is any part that fails its own syntax.
    pub fn from_parts(
        authority: &str,
        collection: Option<&str>,
        rkey: Option<&str>,
    ) -> Result<Self, SyntaxError> {
        let mut s = format!("{SCHEME}{authority}");
        match (collection, rkey) {
            (None, Some(_)) => {
                return Err(syntax_err!(AtUri, &s, "a record key needs a collection"));
            }
            (None, None) => {}
            (Some(c), None) => {
                s.push('/');
                s.push_str(c);
            }
            (Some(c), Some(r)) => {
                s.push('/');
                s.push_str(c);
                s.push('/');
                s.push_str(r);
            }
        }
        Self::new(&s)
    }

    /// The URI of one record, `at://<did>/<collection>/<rkey>`. Cannot fail: the
    /// parts are already valid and their maximum lengths fit the URI limit.
    pub fn for_record(repo: &Did, collection: &Nsid, rkey: &RecordKey) -> Self {
        let s = format!("{SCHEME}{repo}/{collection}/{rkey}");
        let auth_end = SCHEME.len() + repo.as_str().len();
        let coll_end = auth_end + 1 + collection.as_str().len();
        AtUri {
            s,
            auth_end,
            coll_end: Some(coll_end),
            has_rkey: true,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.s
    }

    /// The authority (a DID or handle) exactly as written.
    pub fn authority(&self) -> &str {
        self.s.get(SCHEME.len()..self.auth_end).unwrap_or_default()
    }

    /// The authority as a typed DID or (lowercased) handle.
    pub fn authority_identifier(&self) -> AtIdentifier {
        let a = self.authority();
        if a.starts_with("did:") {
            AtIdentifier::Did(Did::from_validated(a))
        } else {
            AtIdentifier::Handle(Handle::from_validated(a))
        }
    }

    /// The collection NSID, if the URI has one.
    pub fn collection(&self) -> Option<Nsid> {
        self.collection_str().map(Nsid::from_validated)
    }

    /// The collection NSID as written, if the URI has one.
    pub fn collection_str(&self) -> Option<&str> {
        let end = self.coll_end?;
        self.s.get(self.auth_end + 1..end)
    }

    /// The record key as written, if the URI has one.
    pub fn rkey(&self) -> Option<&str> {
        if !self.has_rkey {
            return None;
        }
        let end = self.coll_end?;
        self.s.get(end + 1..)
    }

    /// The record key, typed, if the URI has one.
    pub fn record_key(&self) -> Option<RecordKey> {
        self.rkey().map(RecordKey::from_validated)
    }
}

string_newtype_impls!(AtUri, "an at:// URI");

/// Check `s`; on success return (end of authority, end of collection, has rkey).
fn parse(s: &str) -> Result<(usize, Option<usize>, bool), String> {
    if s.len() > MAX_LEN {
        return Err("longer than 8 KiB".into());
    }
    let Some(rest) = s.strip_prefix(SCHEME) else {
        return Err("must start with \"at://\"".into());
    };
    if rest.contains('?') {
        return Err("query parts are not allowed in lexicon AT-URIs".into());
    }
    if rest.contains('#') {
        return Err("fragments are not allowed in lexicon AT-URIs".into());
    }
    let mut parts = rest.split('/');
    let authority = parts.next().unwrap_or_default();
    if authority.is_empty() {
        return Err("empty authority".into());
    }
    if !AtIdentifier::is_valid(authority) {
        return Err(format!(
            "the authority {authority:?} is neither a valid DID nor a valid handle"
        ));
    }
    let auth_end = SCHEME.len() + authority.len();
    let Some(collection) = parts.next() else {
        return Ok((auth_end, None, false));
    };
    if collection.is_empty() {
        return Err("empty path segment (trailing or doubled '/')".into());
    }
    nsid::check(collection).map_err(|r| format!("the collection is not a valid NSID: {r}"))?;
    let coll_end = auth_end + 1 + collection.len();
    let Some(rkey) = parts.next() else {
        return Ok((auth_end, Some(coll_end), false));
    };
    if rkey.is_empty() {
        return Err("empty path segment (trailing or doubled '/')".into());
    }
    recordkey::check(rkey).map_err(|r| format!("the record key is not valid: {r}"))?;
    if parts.next().is_some() {
        return Err("at most two path segments (collection and record key) are allowed".into());
    }
    Ok((auth_end, Some(coll_end), true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors() {
        let u =
            AtUri::new("at://did:plc:asdf123/com.atproto.feed.post/3jzfcijpj2z2a").expect("valid");
        assert_eq!(u.authority(), "did:plc:asdf123");
        assert!(u.authority_identifier().as_did().is_some());
        assert_eq!(
            u.collection().map(|n| n.name().to_owned()),
            Some("post".into())
        );
        assert_eq!(u.rkey(), Some("3jzfcijpj2z2a"));

        let u = AtUri::new("at://user.bsky.social/com.atproto.feed.post").expect("valid");
        assert_eq!(u.authority(), "user.bsky.social");
        assert_eq!(u.collection_str(), Some("com.atproto.feed.post"));
        assert_eq!(u.rkey(), None);

        let u = AtUri::new("at://user.bsky.social").expect("valid");
        assert_eq!(u.collection(), None);
        assert_eq!(u.rkey(), None);
    }

    #[test]
    fn from_parts_and_for_record_agree_with_new() {
        let did = Did::new("did:plc:asdf123").expect("did");
        let nsid = Nsid::new("app.bsky.feed.post").expect("nsid");
        let rkey = RecordKey::new("3jzfcijpj2z2a").expect("rkey");
        let built = AtUri::for_record(&did, &nsid, &rkey);
        let parsed = AtUri::new(built.as_str()).expect("valid");
        assert_eq!(built, parsed);
        let from_parts = AtUri::from_parts(did.as_str(), Some(nsid.as_str()), Some(rkey.as_str()))
            .expect("valid");
        assert_eq!(from_parts, parsed);
        assert_eq!(built.rkey(), Some("3jzfcijpj2z2a"));
        assert!(AtUri::from_parts("did:plc:x", None, Some("self")).is_err());
        assert!(AtUri::from_parts("did:plc:x", Some("nope"), None).is_err());
    }

    #[test]
    fn serde_round_trip_and_refusal() {
        let u = AtUri::new("at://did:plc:asdf123/app.bsky.feed.post/self").expect("valid");
        let json = serde_json::to_string(&u).expect("serialize");
        assert_eq!(
            serde_json::from_str::<AtUri>(&json).expect("deserialize"),
            u
        );
        assert!(serde_json::from_str::<AtUri>("\"at://did:plc:asdf123/\"").is_err());
    }
}
