//! Resolving a handle that this server does not host, the two ways the atproto handle
//! spec allows: a DNS TXT record at `_atproto.<handle>` whose text is `did=<DID>`, and
//! otherwise `https://<handle>/.well-known/atproto-did`. Used by resolveHandle and by
//! updateHandle, which accepts a domain handle only when it resolves to the account.
//!
//! DNS goes to the system's resolvers (/etc/resolv.conf) or to the `dns_servers` of the
//! configuration. A handle resolves only to one DID: TXT records naming two different
//! DIDs make the DNS answer count as no answer. This module only looks things up; it
//! decides nothing about accounts.

use crate::config::Config;
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use std::time::Duration;

/// How long one way of resolving may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest `/.well-known/atproto-did` body we read (a DID is far shorter).
const WELL_KNOWN_MAX_BYTES: usize = 2048;

/// Looks up handles hosted elsewhere.
pub struct HandleResolver {
    dns: Option<TokioResolver>,
    http: reqwest::Client,
}

impl std::fmt::Debug for HandleResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandleResolver")
            .field("dns", &self.dns.is_some())
            .finish_non_exhaustive()
    }
}

impl HandleResolver {
    /// A resolver with the configured DNS servers, or the system's. Without a usable DNS
    /// configuration only HTTPS resolution remains (logged once, here).
    pub fn new(config: &Config, http: reqwest::Client) -> HandleResolver {
        let builder = if config.dns_servers.is_empty() {
            TokioResolver::builder_tokio()
        } else {
            let servers = config
                .dns_servers
                .iter()
                .map(|addr| {
                    let mut s = NameServerConfig::udp_and_tcp(addr.ip());
                    for c in &mut s.connections {
                        c.port = addr.port();
                    }
                    s
                })
                .collect();
            Ok(TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(servers),
                TokioRuntimeProvider::default(),
            ))
        };
        let dns = match builder.and_then(|mut b| {
            b.options_mut().timeout = LOOKUP_TIMEOUT;
            b.options_mut().attempts = 1;
            b.build()
        }) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(error = %e, "no DNS resolver; handles resolve over HTTPS only");
                None
            }
        };
        HandleResolver { dns, http }
    }

    /// The DID `handle` claims, by DNS first and then HTTPS; `None` when neither answers
    /// with exactly one valid DID.
    pub async fn resolve(&self, handle: &str) -> Option<String> {
        if let Some(did) = self.by_dns(handle).await {
            return Some(did);
        }
        self.by_https(handle).await
    }

    async fn by_dns(&self, handle: &str) -> Option<String> {
        let dns = self.dns.as_ref()?;
        let lookup = dns.txt_lookup(format!("_atproto.{handle}.")).await.ok()?;
        let texts: Vec<String> = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::TXT(txt) => Some(
                    txt.txt_data
                        .iter()
                        .map(|part| String::from_utf8_lossy(part))
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect();
        did_from_txt(&texts)
    }

    async fn by_https(&self, handle: &str) -> Option<String> {
        let url = format!("https://{handle}/.well-known/atproto-did");
        let mut res = self
            .http
            .get(&url)
            .timeout(LOOKUP_TIMEOUT)
            .send()
            .await
            .ok()?;
        if !res.status().is_success() {
            return None;
        }
        // Read at most the limit, whatever the server claims or streams.
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.ok()? {
            body.extend_from_slice(&chunk);
            if body.len() > WELL_KNOWN_MAX_BYTES {
                return None;
            }
        }
        let did = std::str::from_utf8(&body).ok()?.trim();
        pds::syntax::Did::new(did).ok().map(|d| d.to_string())
    }
}

/// The DID named by a handle's `_atproto` TXT records: the `did=` value when every such
/// record names the same valid DID; `None` when there is none, one is invalid, or they
/// disagree. Records not starting with `did=` are ignored.
pub fn did_from_txt(records: &[String]) -> Option<String> {
    let mut found: Option<String> = None;
    for r in records {
        let Some(value) = r.trim().strip_prefix("did=") else {
            continue;
        };
        let did = pds::syntax::Did::new(value.trim()).ok()?.to_string();
        match &found {
            Some(f) if *f != did => return None,
            _ => found = Some(did),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::did_from_txt;

    fn v(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn txt_records_name_one_did() {
        let did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
        assert_eq!(did_from_txt(&v(&[&format!("did={did}")])), Some(did.into()));
        // Other TXT records beside it are ignored; repeats of the same DID are fine.
        assert_eq!(
            did_from_txt(&v(&[
                "v=spf1 -all",
                &format!("did={did}"),
                &format!("did={did}")
            ])),
            Some(did.into())
        );
        assert_eq!(did_from_txt(&v(&["v=spf1 -all"])), None);
        assert_eq!(did_from_txt(&[]), None);
        // Two different DIDs: ambiguous, so no answer.
        assert_eq!(
            did_from_txt(&v(&[&format!("did={did}"), "did=did:web:example.com"])),
            None
        );
        // An invalid DID is no answer either.
        assert_eq!(did_from_txt(&v(&["did=not-a-did"])), None);
    }
}
