//! OAuth clients as the atproto profile defines them: the `client_id` is the URL of a
//! client ID metadata document. This module parses `client_id`s (discoverable `https://`
//! ones, and the profile's `http://localhost` development clients, whose metadata is
//! built here without any fetch), validates metadata documents, and matches
//! `redirect_uri`s against them.
//!
//! It does no I/O: fetching, with its address and size rules and its cache, is
//! `fetch.rs`. What a validated [`Client`] may then do is decided by PAR and the token
//! endpoint.

use super::error::{Code, OAuthError};
use super::jose::{self, Jwk};
use super::scope;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

/// Longest `client_id` accepted.
const MAX_CLIENT_ID_LEN: usize = 2048;

/// What a `client_id` designates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientIdKind {
    /// `http://localhost[/][?redirect_uri=...&scope=...]`: a development client.
    Localhost {
        redirect_uris: Vec<String>,
        scope: String,
    },
    /// `https://host/path`: fetch its metadata from that URL.
    Discoverable(Url),
}

/// Parse and check a `client_id`.
pub fn parse_client_id(id: &str) -> Result<ClientIdKind, OAuthError> {
    let bad = |m: &str| OAuthError::invalid_client(format!("client_id {}: {m}", shorten(id)));
    if id.is_empty() {
        return Err(OAuthError::invalid_request("client_id is required"));
    }
    if id.len() > MAX_CLIENT_ID_LEN {
        return Err(bad("is too long"));
    }
    if let Some(rest) = id.strip_prefix("http://localhost") {
        return parse_localhost(rest).map_err(|m| bad(&m));
    }
    let url = Url::parse(id).map_err(|e| bad(&format!("is not a URL ({e})")))?;
    if url.scheme() != "https" {
        return Err(bad(
            "must be an https:// URL (or http://localhost for development clients)",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not contain credentials"));
    }
    if url.port().is_some() {
        return Err(bad("must not contain a port number"));
    }
    if url.fragment().is_some() {
        return Err(bad("must not contain a fragment"));
    }
    match url.host() {
        // Where the name points is checked when it is resolved (fetch.rs).
        Some(url::Host::Domain(d)) if !d.ends_with('.') => {}
        Some(url::Host::Domain(_)) => return Err(bad("must not end with a dot")),
        Some(_) => return Err(bad("must use a domain name, not an IP address")),
        None => return Err(bad("has no host")),
    }
    if url.path() == "/" || url.path().ends_with('/') {
        return Err(bad(
            "must have a path to the metadata document (e.g. /oauth-client-metadata.json)",
        ));
    }
    if url.as_str() != id {
        return Err(bad(&format!(
            "must be in canonical form ({})",
            shorten(url.as_str())
        )));
    }
    Ok(ClientIdKind::Discoverable(url))
}

fn parse_localhost(rest: &str) -> Result<ClientIdKind, String> {
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    let query = match rest.strip_prefix('?') {
        Some(q) => q,
        None if rest.is_empty() => "",
        None => {
            return Err(
                "a development client_id is http://localhost with no port and no path".into(),
            );
        }
    };
    if query.contains('#') {
        return Err("must not contain a fragment".into());
    }
    let mut redirect_uris = Vec::new();
    let mut scope_value: Option<String> = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "redirect_uri" => {
                let u = Url::parse(&v).map_err(|_| format!("redirect_uri {v:?} is not a URL"))?;
                if !is_loopback_ip_redirect(&u) {
                    return Err(format!(
                        "redirect_uri {v:?} must be http://127.0.0.1 or http://[::1] (with any port)"
                    ));
                }
                redirect_uris.push(v.into_owned());
            }
            "scope" => {
                if scope_value.is_some() {
                    return Err("scope may be given only once".into());
                }
                scope::parse(&v)?;
                scope_value = Some(v.into_owned());
            }
            other => {
                return Err(format!(
                    "unexpected query parameter {:?}",
                    other.chars().take(32).collect::<String>()
                ));
            }
        }
    }
    if redirect_uris.is_empty() {
        redirect_uris = vec!["http://127.0.0.1/".into(), "http://[::1]/".into()];
    }
    Ok(ClientIdKind::Localhost {
        redirect_uris,
        scope: scope_value.unwrap_or_else(|| scope::ATPROTO.to_string()),
    })
}

fn is_loopback_ip_redirect(u: &Url) -> bool {
    u.scheme() == "http"
        && u.fragment().is_none()
        && u.username().is_empty()
        && u.password().is_none()
        && match u.host() {
            Some(url::Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
            Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
            _ => false,
        }
}

/// Web or native app (OpenID's `application_type`), which decides the redirect rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppType {
    Web,
    Native,
}

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone)]
pub enum AuthMethod {
    /// A public client.
    None,
    /// A confidential client: JWT assertions signed with one of `keys`, with `alg`.
    PrivateKeyJwt { alg: String, keys: Vec<Jwk> },
}

/// A client whose metadata passed every check.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub localhost: bool,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub refresh_allowed: bool,
    pub auth: AuthMethod,
    pub name: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
}

impl Client {
    /// Whether this is a confidential client.
    pub fn is_confidential(&self) -> bool {
        matches!(self.auth, AuthMethod::PrivateKeyJwt { .. })
    }

    /// The metadata of a development client (nothing fetched).
    pub fn localhost(
        id: &str,
        redirect_uris: Vec<String>,
        scope_value: &str,
    ) -> Result<Client, OAuthError> {
        let scopes = scope::parse(scope_value).map_err(OAuthError::invalid_client)?;
        if !scopes.iter().any(|s| s == scope::ATPROTO) {
            return Err(OAuthError::new(
                Code::InvalidClientMetadata,
                "a development client's scope must include atproto",
            ));
        }
        Ok(Client {
            id: id.to_string(),
            localhost: true,
            redirect_uris,
            scopes,
            refresh_allowed: true,
            auth: AuthMethod::None,
            name: None,
            client_uri: None,
            logo_uri: None,
            tos_uri: None,
            policy_uri: None,
        })
    }

    /// Whether `redirect_uri` is one the client registered. Loopback IP redirects
    /// (`http://127.0.0.1`, `http://[::1]`) match whatever their port (RFC 8252 7.3).
    pub fn redirect_allowed(&self, redirect_uri: &str) -> bool {
        if self.redirect_uris.iter().any(|r| r == redirect_uri) {
            return true;
        }
        let Ok(asked) = Url::parse(redirect_uri) else {
            return false;
        };
        if !is_loopback_ip_redirect(&asked) {
            return false;
        }
        self.redirect_uris.iter().any(|r| {
            Url::parse(r).is_ok_and(|reg| {
                is_loopback_ip_redirect(&reg)
                    && reg.host() == asked.host()
                    && reg.path() == asked.path()
                    && reg.query() == asked.query()
            })
        })
    }

    /// The host part of the client_id, shown on the consent page as the verified origin.
    pub fn host(&self) -> String {
        if self.localhost {
            return "localhost".into();
        }
        Url::parse(&self.id)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| self.id.clone())
    }
}

/// A client metadata document as published (fields pdsd reads).
#[derive(Debug, Deserialize)]
struct Document {
    client_id: String,
    #[serde(default)]
    application_type: Option<String>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    response_types: Option<Vec<String>>,
    #[serde(default)]
    redirect_uris: Option<Vec<String>>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    token_endpoint_auth_signing_alg: Option<String>,
    #[serde(default)]
    dpop_bound_access_tokens: Option<bool>,
    #[serde(default)]
    jwks: Option<Value>,
    #[serde(default)]
    jwks_uri: Option<String>,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default)]
    client_uri: Option<String>,
    #[serde(default)]
    logo_uri: Option<String>,
    #[serde(default)]
    tos_uri: Option<String>,
    #[serde(default)]
    policy_uri: Option<String>,
}

/// What [`validate`] needs fetched next: a confidential client's `jwks_uri`.
#[derive(Debug)]
pub enum Validated {
    Ready(Client),
    NeedsJwks {
        client: Client,
        jwks_uri: Url,
        alg: String,
    },
}

fn invalid(m: impl Into<String>) -> OAuthError {
    OAuthError::new(Code::InvalidClientMetadata, m)
}

/// Check a fetched metadata document against the `client_id` it was fetched from.
pub fn validate(client_id: &Url, doc: Value) -> Result<Validated, OAuthError> {
    let doc: Document = serde_json::from_value(doc)
        .map_err(|e| invalid(format!("client metadata is not valid: {e}")))?;
    if doc.client_id != client_id.as_str() {
        return Err(invalid(format!(
            "client metadata says client_id {}, but it was fetched from {}",
            shorten(&doc.client_id),
            client_id
        )));
    }
    let app_type = match doc.application_type.as_deref() {
        None | Some("web") => AppType::Web,
        Some("native") => AppType::Native,
        Some(other) => {
            return Err(invalid(format!(
                "application_type must be web or native, not {}",
                shorten(other)
            )));
        }
    };
    if doc.dpop_bound_access_tokens != Some(true) {
        return Err(invalid("dpop_bound_access_tokens must be true"));
    }
    let grants = doc.grant_types.unwrap_or_default();
    if !grants.iter().any(|g| g == "authorization_code") {
        return Err(invalid("grant_types must include authorization_code"));
    }
    for g in &grants {
        if g != "authorization_code" && g != "refresh_token" {
            return Err(invalid(format!(
                "grant type {} is not supported (only authorization_code and refresh_token)",
                shorten(g)
            )));
        }
    }
    if !doc
        .response_types
        .unwrap_or_default()
        .iter()
        .any(|r| r == "code")
    {
        return Err(invalid("response_types must include code"));
    }
    let scopes = scope::parse(doc.scope.as_deref().unwrap_or(""))
        .map_err(|e| invalid(format!("scope: {e}")))?;
    if !scopes.iter().any(|s| s == scope::ATPROTO) {
        return Err(invalid("scope must include atproto"));
    }
    let redirect_uris = doc.redirect_uris.unwrap_or_default();
    if redirect_uris.is_empty() {
        return Err(invalid("redirect_uris must list at least one URI"));
    }
    for r in &redirect_uris {
        check_redirect(client_id, app_type, r)?;
    }
    if let Some(u) = &doc.client_uri {
        let parsed = Url::parse(u).map_err(|_| invalid("client_uri is not a URL"))?;
        if parsed.scheme() != "https" || parsed.host_str() != client_id.host_str() {
            return Err(invalid(
                "client_uri must be an https:// URL on the same host as the client_id",
            ));
        }
    }
    for (name, v) in [
        ("logo_uri", &doc.logo_uri),
        ("tos_uri", &doc.tos_uri),
        ("policy_uri", &doc.policy_uri),
    ] {
        if let Some(u) = v
            && !Url::parse(u).is_ok_and(|p| p.scheme() == "https")
        {
            return Err(invalid(format!("{name} must be an https:// URL")));
        }
    }
    let name = doc
        .client_name
        .map(|n| {
            n.trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(80)
                .collect::<String>()
        })
        .filter(|n| !n.is_empty());
    let mut client = Client {
        id: client_id.to_string(),
        localhost: false,
        redirect_uris,
        scopes,
        refresh_allowed: grants.iter().any(|g| g == "refresh_token"),
        auth: AuthMethod::None,
        name,
        client_uri: doc.client_uri,
        logo_uri: doc.logo_uri,
        tos_uri: doc.tos_uri,
        policy_uri: doc.policy_uri,
    };
    match doc.token_endpoint_auth_method.as_deref() {
        None | Some("none") => {
            if doc.token_endpoint_auth_signing_alg.is_some() {
                return Err(invalid(
                    "token_endpoint_auth_signing_alg must not be set for a public client",
                ));
            }
            Ok(Validated::Ready(client))
        }
        Some("private_key_jwt") => {
            let alg = doc.token_endpoint_auth_signing_alg.ok_or_else(|| {
                invalid("token_endpoint_auth_signing_alg is required with private_key_jwt")
            })?;
            jose::alg_curve(&alg)
                .map_err(|e| invalid(format!("token_endpoint_auth_signing_alg: {e}")))?;
            match (doc.jwks, doc.jwks_uri) {
                (Some(_), Some(_)) => Err(invalid("give jwks or jwks_uri, not both")),
                (None, None) => Err(invalid("a confidential client needs jwks or jwks_uri")),
                (Some(jwks), None) => {
                    let keys = usable_keys(&jwks, &alg)?;
                    client.auth = AuthMethod::PrivateKeyJwt { alg, keys };
                    Ok(Validated::Ready(client))
                }
                (None, Some(uri)) => {
                    let jwks_uri = Url::parse(&uri)
                        .ok()
                        .filter(|u| u.scheme() == "https")
                        .ok_or_else(|| invalid("jwks_uri must be an https:// URL"))?;
                    Ok(Validated::NeedsJwks {
                        client,
                        jwks_uri,
                        alg,
                    })
                }
            }
        }
        Some(other) => Err(invalid(format!(
            "token_endpoint_auth_method must be none or private_key_jwt, not {}",
            shorten(other)
        ))),
    }
}

/// Finish a `jwks_uri` client with the fetched key set.
pub fn with_jwks(mut client: Client, jwks: &Value, alg: String) -> Result<Client, OAuthError> {
    let keys = usable_keys(jwks, &alg)?;
    client.auth = AuthMethod::PrivateKeyJwt { alg, keys };
    Ok(client)
}

/// The keys of a JWKS that can check `alg` signatures. Keys of other types are skipped
/// (a key set may hold keys for other servers); at least one must remain.
fn usable_keys(jwks: &Value, alg: &str) -> Result<Vec<Jwk>, OAuthError> {
    let curve = jose::alg_curve(alg).map_err(|e| invalid(e.to_string()))?;
    let list = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("jwks must be an object with a keys array"))?;
    let keys: Vec<Jwk> = list
        .iter()
        .filter_map(|k| jose::parse_jwk(k).ok())
        .filter(|k| k.usable_for_signing && k.key.curve() == curve)
        .filter(|k| k.alg.as_deref().is_none_or(|a| a == alg))
        .collect();
    if keys.is_empty() {
        return Err(invalid(format!(
            "jwks has no usable {alg} public key (only P-256 and secp256k1 EC keys are accepted)"
        )));
    }
    Ok(keys)
}

fn check_redirect(client_id: &Url, app_type: AppType, r: &str) -> Result<(), OAuthError> {
    let bad = |m: &str| invalid(format!("redirect_uri {}: {m}", shorten(r)));
    let u = Url::parse(r).map_err(|_| bad("is not an absolute URI"))?;
    if u.fragment().is_some() {
        return Err(bad("must not contain a fragment"));
    }
    match u.scheme() {
        "https" => {
            if !u.username().is_empty() || u.password().is_some() {
                return Err(bad("must not contain credentials"));
            }
            if app_type == AppType::Native && u.origin() != client_id.origin() {
                return Err(bad(
                    "a native app's https redirect must be on the client_id's origin",
                ));
            }
            Ok(())
        }
        "http" => {
            if is_loopback_ip_redirect(&u) {
                Ok(())
            } else {
                Err(bad(
                    "plain http is only allowed for http://127.0.0.1 or http://[::1] loopback redirects",
                ))
            }
        }
        scheme => {
            if app_type != AppType::Native {
                return Err(bad("custom URI schemes are only for native apps"));
            }
            let host = client_id.host_str().unwrap_or_default();
            let reversed: Vec<&str> = host.split('.').rev().collect();
            if scheme != reversed.join(".") {
                return Err(bad(&format!(
                    "a native app's custom scheme must be the client_id host reversed ({})",
                    reversed.join(".")
                )));
            }
            if r.len() <= scheme.len() + 1
                || !r[scheme.len() + 1..].starts_with('/')
                || r[scheme.len() + 1..].starts_with("//")
            {
                return Err(bad("a custom scheme must be followed by :/ and a path"));
            }
            Ok(())
        }
    }
}

fn shorten(s: &str) -> String {
    let t: String = s.chars().take(120).collect();
    if t.len() < s.len() {
        format!("{t}...")
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "client_id": "https://app.example.com/oauth-client-metadata.json",
            "client_name": "Example",
            "client_uri": "https://app.example.com",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "scope": "atproto transition:generic",
            "redirect_uris": ["https://app.example.com/callback"],
            "dpop_bound_access_tokens": true,
            "token_endpoint_auth_method": "none"
        })
    }

    fn id() -> Url {
        Url::parse("https://app.example.com/oauth-client-metadata.json").expect("url")
    }

    fn client(v: Value) -> Result<Client, OAuthError> {
        match validate(&id(), v)? {
            Validated::Ready(c) => Ok(c),
            Validated::NeedsJwks { .. } => Err(invalid("needs jwks")),
        }
    }

    #[test]
    fn client_ids() {
        assert!(matches!(
            parse_client_id("https://app.example.com/oauth-client-metadata.json"),
            Ok(ClientIdKind::Discoverable(_))
        ));
        for bad in [
            "",
            "http://app.example.com/client.json",
            "https://app.example.com:8443/client.json",
            "https://user:pw@app.example.com/client.json",
            "https://10.0.0.1/client.json",
            "https://[::1]/client.json",
            "https://app.example.com/",
            "https://app.example.com",
            "https://app.example.com/client.json#x",
            "https://app.example.com/a/../client.json",
            "ftp://app.example.com/client.json",
            "http://localhost:8080/",
            "http://localhost/path",
            "http://localhost?foo=bar",
            "http://localhost?redirect_uri=https%3A%2F%2Fevil.example.com%2F",
            "http://localhost?redirect_uri=http%3A%2F%2Flocalhost%2Fcb",
        ] {
            assert!(parse_client_id(bad).is_err(), "{bad}");
        }
        match parse_client_id("http://localhost").expect("bare localhost") {
            ClientIdKind::Localhost {
                redirect_uris,
                scope,
            } => {
                assert_eq!(redirect_uris, vec!["http://127.0.0.1/", "http://[::1]/"]);
                assert_eq!(scope, "atproto");
            }
            other => panic!("unexpected {other:?}"),
        }
        match parse_client_id(
            "http://localhost?redirect_uri=http%3A%2F%2F127.0.0.1%3A9999%2Fcb&scope=atproto%20transition%3Ageneric",
        )
        .expect("with params")
        {
            ClientIdKind::Localhost { redirect_uris, scope } => {
                assert_eq!(redirect_uris, vec!["http://127.0.0.1:9999/cb"]);
                assert_eq!(scope, "atproto transition:generic");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn metadata_rules() {
        let c = client(doc()).expect("valid");
        assert!(!c.is_confidential());
        assert!(c.refresh_allowed);
        assert_eq!(c.name.as_deref(), Some("Example"));
        let cases: Vec<(&str, Value)> = vec![
            ("client_id", json!("https://other.example.com/x.json")),
            ("dpop_bound_access_tokens", json!(false)),
            ("grant_types", json!(["implicit"])),
            ("response_types", json!(["token"])),
            ("scope", json!("transition:generic")),
            ("redirect_uris", json!([])),
            ("redirect_uris", json!(["http://app.example.com/cb"])),
            ("redirect_uris", json!(["com.example.app:/cb"])),
            ("client_uri", json!("https://evil.example.net")),
            ("logo_uri", json!("http://app.example.com/logo.png")),
            ("token_endpoint_auth_method", json!("client_secret_basic")),
            ("application_type", json!("desktop")),
        ];
        for (field, value) in cases {
            let mut d = doc();
            d[field] = value;
            assert!(client(d).is_err(), "{field}");
        }
    }

    #[test]
    fn native_redirects() {
        let mut d = doc();
        d["application_type"] = json!("native");
        d["redirect_uris"] = json!([
            "com.example.app:/callback",
            "https://app.example.com/cb",
            "http://127.0.0.1/cb"
        ]);
        client(d).expect("native redirects");
        for bad in [
            "com.example.evil:/cb",
            "com.example.app://cb",
            "https://evil.example.com/cb",
        ] {
            let mut d = doc();
            d["application_type"] = json!("native");
            d["redirect_uris"] = json!([bad]);
            assert!(client(d).is_err(), "{bad}");
        }
    }

    #[test]
    fn confidential_clients_need_usable_keys() {
        let k = pds::crypto::Keypair::generate(pds::crypto::Curve::P256);
        let mut jwk = jose::public_jwk(&k.public());
        jwk["kid"] = json!("k1");
        let mut d = doc();
        d["token_endpoint_auth_method"] = json!("private_key_jwt");
        d["token_endpoint_auth_signing_alg"] = json!("ES256");
        d["jwks"] = json!({"keys": [{"kty": "RSA", "n": "x", "e": "AQAB"}, jwk]});
        let c = client(d.clone()).expect("confidential");
        match &c.auth {
            AuthMethod::PrivateKeyJwt { alg, keys } => {
                assert_eq!(alg, "ES256");
                assert_eq!(keys.len(), 1);
                assert_eq!(keys[0].kid.as_deref(), Some("k1"));
            }
            AuthMethod::None => panic!("expected a confidential client"),
        }
        let mut no_keys = d.clone();
        no_keys["jwks"] = json!({"keys": []});
        assert!(client(no_keys).is_err());
        let mut none_alg = d.clone();
        none_alg["token_endpoint_auth_signing_alg"] = json!("none");
        assert!(client(none_alg).is_err());
        let mut eddsa = d.clone();
        eddsa["token_endpoint_auth_signing_alg"] = json!("EdDSA");
        assert!(client(eddsa).unwrap_err().description.contains("Ed25519"));
        let mut uri = d.clone();
        uri.as_object_mut().map(|o| o.remove("jwks"));
        uri["jwks_uri"] = json!("https://app.example.com/jwks.json");
        assert!(matches!(
            validate(&id(), uri),
            Ok(Validated::NeedsJwks { .. })
        ));
    }

    #[test]
    fn redirect_matching() {
        let c = client(doc()).expect("valid");
        assert!(c.redirect_allowed("https://app.example.com/callback"));
        assert!(!c.redirect_allowed("https://app.example.com/callback?x=1"));
        assert!(!c.redirect_allowed("https://app.example.com/other"));
        let l = Client::localhost(
            "http://localhost",
            vec!["http://127.0.0.1/cb".into()],
            "atproto",
        )
        .expect("localhost");
        assert!(l.redirect_allowed("http://127.0.0.1:61234/cb"));
        assert!(l.redirect_allowed("http://127.0.0.1/cb"));
        assert!(!l.redirect_allowed("http://127.0.0.1:61234/other"));
        assert!(!l.redirect_allowed("http://[::1]:61234/cb"));
        assert!(!l.redirect_allowed("http://localhost:61234/cb"));
    }
}
