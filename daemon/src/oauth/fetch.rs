//! Fetching client metadata documents (and confidential clients' `jwks_uri`) from the
//! public web, hardened against server-side request forgery and slow or huge answers,
//! and caching the result by its HTTP caching headers.
//!
//! Rules: `https://` only; names are resolved by our own resolver, which refuses the
//! whole fetch when any address is loopback, private, link-local, shared (CGNAT),
//! multicast, documentation or otherwise not public (IPv4-mapped and NAT64 addresses are
//! judged by the IPv4 address inside), and the connection then goes to exactly the
//! checked addresses; IP literals are judged before any connection. No redirect is
//! followed, no proxy is used, the whole exchange has a time limit, the status must be
//! 200 with `Content-Type: application/json`, and the body is read up to a size limit.
//! The profile's `http://localhost` development clients are never fetched.
//!
//! Cache lifetime: `no-store`/`no-cache` mean none, else `s-maxage`/`max-age` (less
//! `Age`), else `Expires` minus `Date`, else the configured maximum; never more than
//! `oauth.client_metadata_max_cache_secs`. Failures are not cached.

use super::client_metadata::{self, Client, ClientIdKind, Validated};
use super::error::{Code, OAuthError};
use crate::config::OAuthConfig;
use axum::http::HeaderMap;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde_json::Value;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// Most clients kept in the cache.
const MAX_CACHED: usize = 1000;

/// Why a document could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{host} resolves to {ip}, a {kind} address, which is never fetched")]
    Refused {
        host: String,
        ip: IpAddr,
        kind: &'static str,
    },
    #[error("only https:// URLs are fetched")]
    NotHttps,
    #[error("the server answered with a redirect ({0}); the document must be served directly")]
    Redirect(u16),
    #[error("the server answered HTTP {0}, not 200")]
    Status(u16),
    #[error("the content type is {0:?}, not application/json")]
    ContentType(String),
    #[error("the document is larger than {0} bytes")]
    TooLarge(usize),
    #[error("no answer within {0} seconds")]
    Timeout(u64),
    #[error("the document is not JSON: {0}")]
    Json(String),
    #[error("cannot reach the server: {0}")]
    Network(String),
}

/// A refused address, carried through reqwest's error chain from the resolver.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to {ip}, a {kind} address")]
struct RefusedAddress {
    host: String,
    ip: IpAddr,
    kind: &'static str,
}

/// Why an address is not public, if it is not.
pub fn non_public_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => v6_kind(v6),
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("shared (carrier-grade NAT)")
    } else if ip.is_unspecified() || o[0] == 0 {
        Some("unspecified")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_broadcast() || o[0] >= 240 {
        Some("reserved")
    } else if ip.is_documentation() {
        Some("documentation")
    } else if o[0] == 198 && (o[1] & 0xfe) == 18 {
        Some("benchmarking")
    } else if o[0] == 192 && o[1] == 0 && o[2] == 0 {
        Some("IETF protocol")
    } else {
        None
    }
}

fn v6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_kind(v4);
    }
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if (s[0] & 0xfe00) == 0xfc00 {
        Some("private (unique local)")
    } else if (s[0] & 0xffc0) == 0xfe80 || (s[0] & 0xffc0) == 0xfec0 {
        Some("link-local")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        Some("documentation")
    } else if s[0] == 0x0064 && s[1] == 0xff9b {
        // NAT64: judge the IPv4 address inside.
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        v4_kind(v4)
    } else if s[0] == 0x2002 {
        // 6to4: judge the IPv4 address inside.
        let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        v4_kind(v4)
    } else if s[0] == 0x2001 && s[1] == 0 {
        Some("Teredo")
    } else if s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0 {
        Some("IPv4-compatible (deprecated)")
    } else {
        None
    }
}

/// Resolves names and refuses any that reaches a non-public address.
#[derive(Debug, Clone)]
struct PublicOnlyResolver {
    allow_loopback: bool,
}

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            for a in &addrs {
                if let Some(kind) = non_public_kind(a.ip()) {
                    if allow_loopback && a.ip().is_loopback() {
                        continue;
                    }
                    return Err(Box::new(RefusedAddress {
                        host: host.clone(),
                        ip: a.ip(),
                        kind,
                    })
                        as Box<dyn std::error::Error + Send + Sync>);
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

struct Cached {
    client: Arc<Client>,
    expires_at: i64,
}

/// The hardened fetcher and its cache of validated clients.
pub struct ClientFetcher {
    http: reqwest::Client,
    timeout_secs: u64,
    max_bytes: usize,
    max_cache_secs: i64,
    allow_localhost_clients: bool,
    /// Tests only: also fetch `http://` from loopback servers.
    allow_loopback: bool,
    cache: Mutex<HashMap<String, Cached>>,
}

impl std::fmt::Debug for ClientFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientFetcher")
            .field("timeout_secs", &self.timeout_secs)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl ClientFetcher {
    /// A fetcher following `cfg`.
    pub fn new(cfg: &OAuthConfig) -> Result<Self, String> {
        Self::build(cfg, false)
    }

    /// A fetcher that may also reach `http://` servers on loopback (tests only).
    #[cfg(test)]
    pub fn for_loopback_tests(cfg: &OAuthConfig) -> Result<Self, String> {
        Self::build(cfg, true)
    }

    fn build(cfg: &OAuthConfig, allow_loopback: bool) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .user_agent(concat!(
                "pdsd/",
                env!("CARGO_PKG_VERSION"),
                " (OAuth client metadata)"
            ))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .https_only(!allow_loopback)
            .dns_resolver(Arc::new(PublicOnlyResolver { allow_loopback }))
            .connect_timeout(Duration::from_secs(cfg.client_fetch_timeout_secs))
            .timeout(Duration::from_secs(cfg.client_fetch_timeout_secs))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(ClientFetcher {
            http,
            timeout_secs: cfg.client_fetch_timeout_secs,
            max_bytes: cfg.client_metadata_max_bytes,
            max_cache_secs: i64::try_from(cfg.client_metadata_max_cache_secs).unwrap_or(600),
            allow_localhost_clients: cfg.allow_localhost_clients,
            allow_loopback,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The validated client for `client_id`, from the cache or freshly fetched.
    pub async fn client(&self, client_id: &str, now: i64) -> Result<Arc<Client>, OAuthError> {
        let url = match client_metadata::parse_client_id(client_id) {
            Ok(ClientIdKind::Localhost {
                redirect_uris,
                scope,
            }) => {
                if !self.allow_localhost_clients {
                    return Err(OAuthError::invalid_client(
                        "development clients (http://localhost) are not accepted by this server",
                    ));
                }
                return Client::localhost(client_id, redirect_uris, &scope).map(Arc::new);
            }
            Ok(ClientIdKind::Discoverable(url)) => url,
            // In loopback test mode, accept http://127.0.0.1:port/... ids as discoverable.
            Err(_) if self.allow_loopback && client_id.starts_with("http://127.0.0.1:") => {
                Url::parse(client_id).map_err(|e| OAuthError::invalid_client(e.to_string()))?
            }
            Err(e) => return Err(e),
        };
        if let Some(c) = self.cached(client_id, now) {
            return Ok(c);
        }
        let (doc, ttl) = self.get_json(&url).await.map_err(|e| {
            OAuthError::invalid_client(format!("cannot use client metadata at {url}: {e}"))
        })?;
        let client = match client_metadata::validate(&url, doc)? {
            Validated::Ready(c) => c,
            Validated::NeedsJwks {
                client,
                jwks_uri,
                alg,
            } => {
                let (jwks, _) = self.get_json(&jwks_uri).await.map_err(|e| {
                    OAuthError::new(
                        Code::InvalidClientMetadata,
                        format!("cannot use the client's jwks_uri {jwks_uri}: {e}"),
                    )
                })?;
                client_metadata::with_jwks(client, &jwks, alg)?
            }
        };
        let client = Arc::new(client);
        if ttl > 0 {
            self.store(client_id, client.clone(), now + ttl);
        }
        Ok(client)
    }

    fn cached(&self, id: &str, now: i64) -> Option<Arc<Client>> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(id)
            .filter(|c| c.expires_at > now)
            .map(|c| c.client.clone())
    }

    fn store(&self, id: &str, client: Arc<Client>, expires_at: i64) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_CACHED {
                let now = crate::auth::jwt::now_secs();
                cache.retain(|_, c| c.expires_at > now);
                if cache.len() >= MAX_CACHED
                    && let Some(k) = cache.keys().next().cloned()
                {
                    cache.remove(&k);
                }
            }
            cache.insert(id.to_string(), Cached { client, expires_at });
        }
    }

    /// Forget a cached client (tests; and when a client's key set changed).
    #[cfg(test)]
    pub fn forget(&self, id: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(id);
        }
    }

    /// Fetch a JSON document under every rule above; returns it and its cache lifetime.
    pub async fn get_json(&self, url: &Url) -> Result<(Value, i64), FetchError> {
        if url.scheme() != "https" && !(self.allow_loopback && url.scheme() == "http") {
            return Err(FetchError::NotHttps);
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal
            && let Some(kind) = non_public_kind(ip)
            && !(self.allow_loopback && ip.is_loopback())
        {
            return Err(FetchError::Refused {
                host: ip.to_string(),
                ip,
                kind,
            });
        }
        let limit = Duration::from_secs(self.timeout_secs);
        match tokio::time::timeout(limit, self.get_json_inner(url)).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout(self.timeout_secs)),
        }
    }

    async fn get_json_inner(&self, url: &Url) -> Result<(Value, i64), FetchError> {
        let mut res = self
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| self.network_error(e))?;
        let status = res.status().as_u16();
        if (300..400).contains(&status) {
            return Err(FetchError::Redirect(status));
        }
        if status != 200 {
            return Err(FetchError::Status(status));
        }
        let ct = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let mime = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if mime != "application/json" {
            return Err(FetchError::ContentType(ct.chars().take(64).collect()));
        }
        if res
            .content_length()
            .is_some_and(|n| n > self.max_bytes as u64)
        {
            return Err(FetchError::TooLarge(self.max_bytes));
        }
        let ttl = cache_ttl(res.headers(), self.max_cache_secs);
        let mut body: Vec<u8> = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| self.network_error(e))? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(FetchError::TooLarge(self.max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        let v: Value =
            serde_json::from_slice(&body).map_err(|e| FetchError::Json(e.to_string()))?;
        Ok((v, ttl))
    }

    fn network_error(&self, e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            return FetchError::Timeout(self.timeout_secs);
        }
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = source {
            if let Some(r) = s.downcast_ref::<RefusedAddress>() {
                return FetchError::Refused {
                    host: r.host.clone(),
                    ip: r.ip,
                    kind: r.kind,
                };
            }
            source = s.source();
        }
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            source = s.source();
        }
        FetchError::Network(msg.chars().take(300).collect())
    }
}

/// How long a response may be cached, in seconds, by its headers (see the module doc).
pub fn cache_ttl(h: &HeaderMap, max: i64) -> i64 {
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok());
    let mut max_age: Option<i64> = None;
    let mut s_maxage: Option<i64> = None;
    if let Some(cc) = get("cache-control") {
        for d in cc.split(',') {
            let d = d.trim().to_ascii_lowercase();
            let (k, v) = match d.split_once('=') {
                Some((k, v)) => (
                    k.trim().to_string(),
                    Some(v.trim().trim_matches('"').to_string()),
                ),
                None => (d.clone(), None),
            };
            match (k.as_str(), v) {
                ("no-store" | "no-cache", _) => return 0,
                ("max-age", Some(v)) => max_age = v.parse().ok(),
                ("s-maxage", Some(v)) => s_maxage = v.parse().ok(),
                _ => {}
            }
        }
    }
    let age: i64 = get("age").and_then(|a| a.trim().parse().ok()).unwrap_or(0);
    let ttl = match s_maxage.or(max_age) {
        Some(m) => m.saturating_sub(age),
        None => match get("expires") {
            Some(exp) => {
                let exp = chrono::DateTime::parse_from_rfc2822(exp.trim()).ok();
                let date = get("date")
                    .and_then(|d| chrono::DateTime::parse_from_rfc2822(d.trim()).ok())
                    .map(|d| d.timestamp())
                    .unwrap_or_else(crate::auth::jwt::now_secs);
                // An unparseable Expires means "already expired" (RFC 9111 5.3).
                exp.map(|e| e.timestamp() - date).unwrap_or(0)
            }
            None => max,
        },
    };
    ttl.clamp(0, max.max(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn address_classes() {
        let refused = [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:c0a8:101::1",
            "2001::1",
            "::10.0.0.1",
        ];
        for ip in refused {
            let parsed: IpAddr = ip.parse().expect("ip");
            assert!(non_public_kind(parsed).is_some(), "{ip} must be refused");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let parsed: IpAddr = ip.parse().expect("ip");
            assert_eq!(non_public_kind(parsed), None, "{ip} is public");
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("value"));
        }
        h
    }

    #[test]
    fn caching_rules() {
        assert_eq!(cache_ttl(&headers(&[]), 600), 600);
        assert_eq!(
            cache_ttl(&headers(&[("cache-control", "max-age=60")]), 600),
            60
        );
        assert_eq!(
            cache_ttl(&headers(&[("cache-control", "public, max-age=86400")]), 600),
            600
        );
        assert_eq!(
            cache_ttl(
                &headers(&[("cache-control", "max-age=60"), ("age", "50")]),
                600
            ),
            10
        );
        assert_eq!(
            cache_ttl(
                &headers(&[("cache-control", "max-age=60, s-maxage=30")]),
                600
            ),
            30
        );
        assert_eq!(
            cache_ttl(&headers(&[("cache-control", "no-store")]), 600),
            0
        );
        assert_eq!(
            cache_ttl(&headers(&[("cache-control", "no-cache, max-age=60")]), 600),
            0
        );
        assert_eq!(
            cache_ttl(&headers(&[("cache-control", "max-age=-5")]), 600),
            0
        );
        assert_eq!(
            cache_ttl(
                &headers(&[
                    ("date", "Mon, 01 Jan 2024 00:00:00 GMT"),
                    ("expires", "Mon, 01 Jan 2024 00:02:00 GMT")
                ]),
                600
            ),
            120
        );
        assert_eq!(cache_ttl(&headers(&[("expires", "0")]), 600), 0);
    }

    #[tokio::test]
    async fn loopback_and_private_hosts_are_never_contacted() {
        let f = ClientFetcher::new(&OAuthConfig::default()).expect("fetcher");
        for url in [
            "https://localhost/oauth-client-metadata.json",
            "https://127.0.0.1/x.json",
            "https://10.0.0.1/x.json",
            "https://192.168.1.20/x.json",
            "https://[::1]/x.json",
            "https://[::ffff:10.0.0.1]/x.json",
        ] {
            let e = f
                .get_json(&Url::parse(url).expect("url"))
                .await
                .unwrap_err();
            assert!(matches!(e, FetchError::Refused { .. }), "{url}: {e}");
        }
        let e = f
            .get_json(&Url::parse("http://app.example.com/x.json").expect("url"))
            .await
            .unwrap_err();
        assert!(matches!(e, FetchError::NotHttps), "{e}");
        let e = f
            .client("https://localhost/oauth-client-metadata.json", 0)
            .await
            .unwrap_err();
        assert_eq!(e.code, Code::InvalidClient);
        assert!(e.description.contains("loopback"), "{}", e.description);
    }
}
