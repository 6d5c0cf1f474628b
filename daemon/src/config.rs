//! pdsd's configuration: one struct whose doc comments are the documentation.
//!
//! Precedence: command-line flags > `PDSD_*` environment > TOML file (`--config`) >
//! defaults (`--dev` has its own defaults: loopback, `.test` handles, built-in PLC).
//! `pdsd config show` prints the resolved result with secrets redacted. Nothing here
//! opens sockets or databases; it only decides values.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The public PLC directory, used unless `plc.url` says otherwise (or `--dev`).
pub const PUBLIC_PLC: &str = "https://plc.directory";

/// Every setting of pdsd.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Development mode: loopback only, handles under `.test`, no invites, a built-in
    /// PLC directory, relaxed limits. Set by `--dev`.
    pub dev: bool,
    /// Where the database, blobs and secrets live.
    pub data_dir: PathBuf,
    /// The address the XRPC/HTTP server listens on.
    pub listen: SocketAddr,
    /// The public hostname of this server (e.g. `pds.example.com`). Its public URL is
    /// `https://<hostname>` unless `public_url` is set, and its service DID is `did:web:<hostname>`.
    pub hostname: String,
    /// The public URL clients and the PLC document use; defaults from `hostname`.
    pub public_url: Option<String>,
    /// Handle suffixes users may register under, each starting with a dot (e.g. `.pds.example.com`).
    pub handle_domains: Vec<String>,
    /// DNS servers (`IP:port`) for the `_atproto` TXT records of handles hosted elsewhere.
    /// Empty: the system's resolvers (/etc/resolv.conf).
    pub dns_servers: Vec<SocketAddr>,
    /// Contact e-mail shown in describeServer.
    pub contact_email: Option<String>,
    /// Links shown in describeServer.
    pub privacy_policy_url: Option<String>,
    /// Links shown in describeServer.
    pub terms_of_service_url: Option<String>,
    pub plc: PlcConfig,
    pub invites: InviteConfig,
    pub limits: LimitsConfig,
    pub tiers: TiersConfig,
    pub blobs: BlobConfig,
    pub tls: TlsConfig,
    pub admin: AdminConfig,
    pub firehose: FirehoseConfig,
    pub appview: AppviewConfig,
    pub secrets: SecretsConfig,
    pub devices: DevicesConfig,
    pub email: EmailConfig,
    pub oauth: OAuthConfig,
    pub network: NetworkConfig,
    pub rate_limits: RateLimitsConfig,
}

/// Outbound requests to addresses others name, and how client addresses are read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    /// Let outbound fetches of URLs that others name (DID documents, handles, service
    /// proxying, OAuth client metadata) reach loopback, private and other non-public
    /// addresses, and plain `http://`. Unset: true under `--dev`, false otherwise.
    /// Also `PDSD_ALLOW_PRIVATE_ADDRESSES`.
    pub allow_private_addresses: Option<bool>,
    /// Reverse proxies (IP addresses) whose `X-Forwarded-For` header names the client.
    /// From any other peer the header is ignored and the peer's address is the client's.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// Rate limits on requests, per client address and per account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitsConfig {
    /// Off switch for every rate limit (`--dev` included, they are on by default).
    /// Also `PDSD_RATE_LIMITS_ENABLED`.
    pub enabled: bool,
}

impl Default for RateLimitsConfig {
    fn default() -> Self {
        RateLimitsConfig { enabled: true }
    }
}

/// How pdsd sends e-mail (account deletion codes, PLC operation codes).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// Write each message as a file into this folder (a mail pickup folder for a local
    /// MTA, or for reading codes in development). Default in `--dev`: `<data_dir>/outbox`.
    /// Unset outside `--dev`: e-mail-confirmed operations are unavailable and must be
    /// done by the operator with pdsctl.
    pub outbox_dir: Option<PathBuf>,
}

/// The PLC directory: where did:plc operations are submitted and resolved.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlcConfig {
    /// URL of the PLC directory. Default: the public directory; in `--dev`, the built-in one.
    pub url: Option<String>,
    /// In `--dev` without `url`: where the built-in directory listens (loopback).
    pub builtin_listen: SocketAddr,
}

/// Who may create accounts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InviteConfig {
    /// Whether createAccount needs an invite code (false in `--dev`).
    pub required: bool,
}

/// Request limits that protect the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest JSON request body, in bytes.
    pub json_body_bytes: usize,
    /// Largest repo import (CAR) body, in bytes.
    pub import_bytes: usize,
    /// Largest record, in bytes of DAG-CBOR.
    pub record_bytes: usize,
    /// Most writes in one applyWrites.
    pub writes_per_batch: usize,
    /// Largest request body passed on to a proxied service (app view, chat), in bytes.
    pub proxy_body_bytes: usize,
}

/// One subscription tier's limits (Free/Pro/Business; a self-hosted operator sets their own).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TierLimits {
    /// Largest single blob, in bytes.
    pub blob_max_bytes: u64,
    /// Total blob storage per account, in bytes.
    pub blob_quota_bytes: u64,
    /// Most enrolled devices per account.
    pub max_devices: u32,
    /// Whether the relay holds the firehose for a sleeping desktop.
    pub firehose_proxy: bool,
}

/// The tiers, and which one new accounts get.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TiersConfig {
    /// Tier of new accounts: `free`, `pro` or `business`.
    pub default: String,
    pub free: TierLimits,
    pub pro: TierLimits,
    pub business: TierLimits,
}

/// Where blobs are kept.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlobConfig {
    /// Folder for blobs; default `<data_dir>/blobs`.
    pub dir: Option<PathBuf>,
}

/// TLS: off behind a reverse proxy (the default), or automatic certificates with ACME.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// `off` (plain HTTP; put a reverse proxy in front) or `acme`.
    pub mode: String,
    /// ACME contact e-mail.
    pub acme_email: Option<String>,
    /// Use the ACME staging directory (for testing).
    pub acme_staging: bool,
}

/// The admin API: a Unix socket for pdsctl, and HTTP Basic admin for XRPC admin calls.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Unix socket path; default `<data_dir>/pdsd.sock` in `--dev`, `/run/pdsd/admin.sock` otherwise.
    pub socket: Option<PathBuf>,
    /// Password for `Basic admin:<password>` on XRPC admin methods (createInviteCode...).
    /// Unset disables them over HTTP. Also `PDSD_ADMIN_PASSWORD`.
    pub password: Option<String>,
}

/// The firehose (com.atproto.sync.subscribeRepos).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FirehoseConfig {
    /// How far back a cursor may replay, in hours. Older events are deleted (checked every
    /// 10 minutes); a cursor older than what is kept gets `#info OutdatedCursor` and then
    /// everything kept. 0 keeps nothing for replay.
    pub backfill_hours: u64,
    /// Relays (hostnames, meaning https, or URLs) told about this server with
    /// com.atproto.sync.requestCrawl at start and after the first write since start,
    /// retried with backoff until they answer 2xx. Default `["bsky.network"]`; none in `--dev`.
    pub relays: Vec<String>,
    /// The live ring's size in events: a subscriber that falls this many events behind is
    /// dropped with ConsumerTooSlow (min 16). Memory: the ring holds this many recent frames.
    pub subscriber_buffer: usize,
}

/// The app view that app.bsky.* calls are proxied to.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppviewConfig {
    /// URL of the default app view (e.g. `https://api.bsky.app`); unset means no proxying.
    pub url: Option<String>,
    /// Its service DID (e.g. `did:web:api.bsky.app`).
    pub did: Option<String>,
    /// Chat service URL and DID, for chat.bsky.*.
    pub chat_url: Option<String>,
    /// Chat service DID.
    pub chat_did: Option<String>,
}

/// Where server secrets come from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecretsConfig {
    /// The key-encryption key (64 hex digits). Unset: read or create `<data_dir>/secrets/kek`
    /// (mode 0600). Prefer the environment (`PDSD_KEK`) over writing it here.
    pub kek: Option<String>,
}

/// The OAuth authorization server: how third-party apps sign in (AT Protocol OAuth
/// profile: PAR, PKCE S256, DPoP, client ID metadata documents).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OAuthConfig {
    /// Lifetime of an access token, in seconds (1 to 1800: the profile wants them under
    /// 30 minutes). Revocation takes effect at once whatever this is.
    pub access_token_secs: u64,
    /// Public clients (no client key): lifetime of the whole session and of each refresh
    /// token, in days.
    pub public_session_days: u64,
    /// Confidential clients (`private_key_jwt`): lifetime of each refresh token, in days.
    /// Their sessions have no overall limit while they keep refreshing.
    pub confidential_refresh_days: u64,
    /// How often the server-issued DPoP nonce changes, in seconds (1 to 150). The current
    /// and the previous nonce are accepted, so no nonce lives longer than 5 minutes.
    pub dpop_nonce_rotation_secs: u64,
    /// How long "stay signed in on this browser" lasts on the authorization page, in days.
    pub device_session_days: u64,
    /// Time limit for fetching an app's client metadata document or JWKS, in seconds.
    pub client_fetch_timeout_secs: u64,
    /// Largest client metadata document or JWKS accepted, in bytes.
    pub client_metadata_max_bytes: usize,
    /// Longest time a client metadata document is cached, in seconds, whatever its
    /// `Cache-Control` allows (so a confidential client's removed key stops working soon).
    pub client_metadata_max_cache_secs: u64,
    /// Accept the profile's development clients (`client_id` = `http://localhost?...`,
    /// redirecting to `http://127.0.0.1` or `http://[::1]`). Their metadata is not fetched.
    pub allow_localhost_clients: bool,
    /// `client_id`s whose name and logo are shown on the consent page without the
    /// "provided by the app, not verified" caution.
    pub trusted_clients: Vec<String>,
}

/// The device API (/v1).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DevicesConfig {
    /// Seconds without a heartbeat after which the repo-host desktop counts as offline.
    pub repo_host_timeout_secs: u64,
    /// Seconds a transfer code (`POST /v1/transfer/initiate`) can be entered.
    pub transfer_code_ttl_secs: u64,
    /// Wrong transfer codes after which an account's waiting transfers lock.
    pub transfer_max_attempts: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            dev: false,
            data_dir: default_data_dir(),
            listen: SocketAddr::from(([127, 0, 0, 1], 2583)),
            hostname: "localhost".into(),
            public_url: None,
            handle_domains: vec![],
            dns_servers: vec![],
            contact_email: None,
            privacy_policy_url: None,
            terms_of_service_url: None,
            plc: PlcConfig::default(),
            invites: InviteConfig::default(),
            limits: LimitsConfig::default(),
            tiers: TiersConfig::default(),
            blobs: BlobConfig::default(),
            tls: TlsConfig::default(),
            admin: AdminConfig::default(),
            firehose: FirehoseConfig::default(),
            appview: AppviewConfig::default(),
            secrets: SecretsConfig::default(),
            devices: DevicesConfig::default(),
            email: EmailConfig::default(),
            oauth: OAuthConfig::default(),
            network: NetworkConfig::default(),
            rate_limits: RateLimitsConfig::default(),
        }
    }
}

impl Default for OAuthConfig {
    fn default() -> Self {
        OAuthConfig {
            access_token_secs: 600,
            public_session_days: 14,
            confidential_refresh_days: 180,
            dpop_nonce_rotation_secs: 60,
            device_session_days: 30,
            client_fetch_timeout_secs: 5,
            client_metadata_max_bytes: 64 * 1024,
            client_metadata_max_cache_secs: 600,
            allow_localhost_clients: true,
            trusted_clients: vec![],
        }
    }
}

impl Default for PlcConfig {
    fn default() -> Self {
        PlcConfig {
            url: None,
            builtin_listen: SocketAddr::from(([127, 0, 0, 1], 2584)),
        }
    }
}

impl Default for InviteConfig {
    fn default() -> Self {
        InviteConfig { required: true }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            json_body_bytes: 1024 * 1024,
            import_bytes: 512 * 1024 * 1024,
            record_bytes: 1024 * 1024,
            writes_per_batch: 200,
            proxy_body_bytes: 64 * 1024 * 1024,
        }
    }
}

impl Default for TierLimits {
    fn default() -> Self {
        TierLimits {
            blob_max_bytes: 5 * 1024 * 1024,
            blob_quota_bytes: 1024 * 1024 * 1024,
            max_devices: 3,
            firehose_proxy: false,
        }
    }
}

impl Default for TiersConfig {
    fn default() -> Self {
        TiersConfig {
            default: "free".into(),
            free: TierLimits::default(),
            pro: TierLimits {
                blob_max_bytes: 50 * 1024 * 1024,
                blob_quota_bytes: 20 * 1024 * 1024 * 1024,
                max_devices: 10,
                firehose_proxy: true,
            },
            business: TierLimits {
                blob_max_bytes: 100 * 1024 * 1024,
                blob_quota_bytes: 200 * 1024 * 1024 * 1024,
                max_devices: 50,
                firehose_proxy: true,
            },
        }
    }
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            mode: "off".into(),
            acme_email: None,
            acme_staging: false,
        }
    }
}

impl Default for FirehoseConfig {
    fn default() -> Self {
        FirehoseConfig {
            backfill_hours: 72,
            relays: vec!["bsky.network".into()],
            subscriber_buffer: 2048,
        }
    }
}

impl Default for DevicesConfig {
    fn default() -> Self {
        DevicesConfig {
            repo_host_timeout_secs: 120,
            transfer_code_ttl_secs: 600,
            transfer_max_attempts: 5,
        }
    }
}

/// `$XDG_DATA_HOME/pdsd` (or the platform's equivalent), else `./pdsd-data`.
pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "pdsd")
        .map(|p| p.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("pdsd-data"))
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Values given on the command line (or their `PDSD_*` environment twins, which clap reads).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub dev: bool,
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub plc_url: Option<String>,
    pub socket: Option<PathBuf>,
    pub hostname: Option<String>,
    pub plc_listen: Option<SocketAddr>,
}

impl Config {
    /// The defaults of `--dev`.
    pub fn dev_defaults() -> Self {
        let mut c = Config {
            dev: true,
            ..Config::default()
        };
        c.handle_domains = vec![".test".into()];
        c.invites.required = false;
        c.firehose.relays = vec![];
        c
    }

    /// Resolve the configuration from defaults, the file, the environment and flags.
    pub fn load(o: &Overrides) -> Result<Config, ConfigError> {
        let base = if o.dev {
            Config::dev_defaults()
        } else {
            Config::default()
        };
        let mut cfg = match &o.config_file {
            Some(path) => merge_file(base, path)?,
            None => base,
        };
        if o.dev {
            cfg.dev = true;
        }
        apply_env(&mut cfg)?;
        if let Some(d) = &o.data_dir {
            cfg.data_dir = d.clone();
        }
        if let Some(l) = o.listen {
            cfg.listen = l;
        }
        if let Some(u) = &o.plc_url {
            cfg.plc.url = Some(u.clone());
        }
        if let Some(s) = &o.socket {
            cfg.admin.socket = Some(s.clone());
        }
        if let Some(l) = o.plc_listen {
            cfg.plc.builtin_listen = l;
        }
        if let Some(h) = &o.hostname {
            cfg.hostname = h.clone();
        }
        cfg.finish()?;
        Ok(cfg)
    }

    /// Fill derived defaults and check consistency.
    fn finish(&mut self) -> Result<(), ConfigError> {
        if self.handle_domains.is_empty() {
            self.handle_domains = vec![format!(".{}", self.hostname)];
        }
        for d in &self.handle_domains {
            if !d.starts_with('.') || d.len() < 2 {
                return Err(ConfigError::Invalid(format!(
                    "handle domain {d:?} must start with a dot, e.g. \".{}\"",
                    self.hostname
                )));
            }
        }
        if !matches!(self.tls.mode.as_str(), "off" | "acme") {
            return Err(ConfigError::Invalid(format!(
                "tls.mode must be \"off\" or \"acme\", not {:?}",
                self.tls.mode
            )));
        }
        if self.tier(&self.tiers.default).is_none() {
            return Err(ConfigError::Invalid(format!(
                "tiers.default must be free, pro or business, not {:?}",
                self.tiers.default
            )));
        }
        if let Some(k) = &self.secrets.kek {
            parse_kek(k).map_err(ConfigError::Invalid)?;
        }
        self.oauth.check()?;
        Ok(())
    }

    /// The public base URL (no trailing slash).
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None if self.dev || self.hostname == "localhost" => {
                format!("http://localhost:{}", self.listen.port())
            }
            None => format!("https://{}", self.hostname),
        }
    }

    /// This server's own DID (`did:web:<hostname>`, with the port in dev).
    pub fn service_did(&self) -> String {
        if self.dev || self.hostname == "localhost" {
            format!("did:web:localhost%3A{}", self.listen.port())
        } else {
            format!("did:web:{}", self.hostname)
        }
    }

    /// The admin socket's path.
    pub fn socket_path(&self) -> PathBuf {
        match &self.admin.socket {
            Some(p) => p.clone(),
            None if self.dev => self.data_dir.join("pdsd.sock"),
            None => PathBuf::from("/run/pdsd/admin.sock"),
        }
    }

    /// Where outgoing e-mail is written, if anywhere.
    pub fn outbox_dir(&self) -> Option<PathBuf> {
        match &self.email.outbox_dir {
            Some(d) => Some(d.clone()),
            None if self.dev => Some(self.data_dir.join("outbox")),
            None => None,
        }
    }

    /// The blob folder.
    pub fn blob_dir(&self) -> PathBuf {
        self.blobs
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("blobs"))
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("pds.sqlite")
    }

    /// The limits of a tier by name.
    pub fn tier(&self, name: &str) -> Option<&TierLimits> {
        match name {
            "free" => Some(&self.tiers.free),
            "pro" => Some(&self.tiers.pro),
            "business" => Some(&self.tiers.business),
            _ => None,
        }
    }

    /// Whether the built-in PLC directory should run (dev without an external URL).
    pub fn builtin_plc(&self) -> bool {
        self.dev && self.plc.url.is_none()
    }

    /// Whether outbound fetches of URLs others name may reach non-public addresses and
    /// plain http: `[network] allow_private_addresses`, else true exactly under `--dev`.
    // Not read outside tests yet: the public-only outbound client (issue 16) will use it.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn allow_private_addresses(&self) -> bool {
        self.network.allow_private_addresses.unwrap_or(self.dev)
    }

    /// The configuration as TOML with secrets redacted.
    pub fn to_redacted_toml(&self) -> String {
        let mut c = self.clone();
        if c.admin.password.is_some() {
            c.admin.password = Some("<redacted>".into());
        }
        if c.secrets.kek.is_some() {
            c.secrets.kek = Some("<redacted>".into());
        }
        toml::to_string_pretty(&c).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }
}

impl OAuthConfig {
    fn check(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(format!("oauth.{m}")));
        if !(1..=1800).contains(&self.access_token_secs) {
            return bad("access_token_secs must be between 1 and 1800 (30 minutes)");
        }
        if !(1..=150).contains(&self.dpop_nonce_rotation_secs) {
            return bad("dpop_nonce_rotation_secs must be between 1 and 150");
        }
        if self.public_session_days == 0
            || self.confidential_refresh_days == 0
            || self.device_session_days == 0
        {
            return bad(
                "public_session_days, confidential_refresh_days and device_session_days must be at least 1",
            );
        }
        if self.public_session_days > 3650
            || self.confidential_refresh_days > 3650
            || self.device_session_days > 3650
        {
            return bad("lifetimes in days must be at most 3650");
        }
        if !(1..=60).contains(&self.client_fetch_timeout_secs) {
            return bad("client_fetch_timeout_secs must be between 1 and 60");
        }
        if !(1024..=1024 * 1024).contains(&self.client_metadata_max_bytes) {
            return bad("client_metadata_max_bytes must be between 1024 and 1048576");
        }
        if self.client_metadata_max_cache_secs > 86_400 {
            return bad("client_metadata_max_cache_secs must be at most 86400 (a day)");
        }
        Ok(())
    }
}

/// Parse a key-encryption key given as 64 hex digits.
pub fn parse_kek(s: &str) -> Result<[u8; 32], String> {
    let s = s.trim();
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("the key-encryption key must be 64 hex digits (32 bytes)".into());
    }
    let mut out = [0u8; 32];
    for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
        let hex = std::str::from_utf8(chunk).map_err(|e| e.to_string())?;
        out[i] = u8::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn merge_file(base: Config, path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let parse_err = |message: String| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let file: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| parse_err(e.to_string()))?;
    let mut merged = toml::Table::try_from(&base).map_err(|e| parse_err(e.to_string()))?;
    deep_merge(&mut merged, file);
    toml::Value::Table(merged)
        .try_into()
        .map_err(|e: toml::de::Error| parse_err(e.to_string()))
}

fn deep_merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => deep_merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn apply_env(cfg: &mut Config) -> Result<(), ConfigError> {
    let get = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(v) = get("PDSD_HOSTNAME") {
        cfg.hostname = v;
    }
    if let Some(v) = get("PDSD_PUBLIC_URL") {
        cfg.public_url = Some(v);
    }
    if let Some(v) = get("PDSD_HANDLE_DOMAINS") {
        cfg.handle_domains = v.split(',').map(|s| s.trim().to_string()).collect();
    }
    if let Some(v) = get("PDSD_ADMIN_PASSWORD") {
        cfg.admin.password = Some(v);
    }
    if let Some(v) = get("PDSD_KEK") {
        cfg.secrets.kek = Some(v);
    }
    if let Some(v) = get("PDSD_APPVIEW_URL") {
        cfg.appview.url = Some(v);
    }
    if let Some(v) = get("PDSD_APPVIEW_DID") {
        cfg.appview.did = Some(v);
    }
    if let Some(v) = get("PDSD_RELAYS") {
        cfg.firehose.relays = v
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }
    if let Some(v) = get("PDSD_INVITE_REQUIRED") {
        cfg.invites.required = env_bool("PDSD_INVITE_REQUIRED", &v)?;
    }
    if let Some(v) = get("PDSD_ALLOW_PRIVATE_ADDRESSES") {
        cfg.network.allow_private_addresses = Some(env_bool("PDSD_ALLOW_PRIVATE_ADDRESSES", &v)?);
    }
    if let Some(v) = get("PDSD_RATE_LIMITS_ENABLED") {
        cfg.rate_limits.enabled = env_bool("PDSD_RATE_LIMITS_ENABLED", &v)?;
    }
    Ok(())
}

fn env_bool(name: &str, v: &str) -> Result<bool, ConfigError> {
    match v {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(ConfigError::Env {
            name: name.into(),
            message: "expected true or false".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_config_loads_with_this_loader() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).expect("examples folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                Config::load(&Overrides {
                    config_file: Some(path.clone()),
                    ..Default::default()
                })
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                seen += 1;
            }
        }
        assert!(seen >= 1, "examples/pdsd.toml is checked");
    }

    #[test]
    fn dev_defaults_are_loopback_and_test_handles() {
        let c = Config::load(&Overrides {
            dev: true,
            ..Default::default()
        })
        .expect("dev config");
        assert_eq!(c.handle_domains, vec![".test".to_string()]);
        assert!(!c.invites.required);
        assert!(c.listen.ip().is_loopback());
        assert!(c.builtin_plc());
        assert!(c.firehose.relays.is_empty(), "no requestCrawl in --dev");
        assert!(
            c.allow_private_addresses(),
            "--dev reaches loopback services"
        );
        assert!(c.rate_limits.enabled, "rate limits stay on under --dev");
        let prod = Config::load(&Overrides::default()).expect("default config");
        assert!(!prod.allow_private_addresses());
        assert!(prod.rate_limits.enabled);
    }

    #[test]
    fn file_values_merge_over_defaults_and_unknown_keys_fail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("pdsd.toml");
        std::fs::write(
            &p,
            "hostname = \"pds.example.com\"\n[invites]\nrequired = false\n",
        )
        .expect("write");
        let c = Config::load(&Overrides {
            config_file: Some(p.clone()),
            ..Default::default()
        })
        .expect("load");
        assert_eq!(c.hostname, "pds.example.com");
        assert!(!c.invites.required);
        assert_eq!(c.handle_domains, vec![".pds.example.com".to_string()]);
        assert_eq!(c.service_did(), "did:web:pds.example.com");
        std::fs::write(&p, "hostnam = \"typo\"\n").expect("write");
        assert!(
            Config::load(&Overrides {
                config_file: Some(p),
                ..Default::default()
            })
            .is_err()
        );
    }

    #[test]
    fn redaction_hides_secrets() {
        let mut c = Config::dev_defaults();
        c.admin.password = Some("hunter2".into());
        c.secrets.kek = Some("00".repeat(32));
        let s = c.to_redacted_toml();
        assert!(!s.contains("hunter2"));
        assert!(!s.contains(&"00".repeat(32)));
    }
}
