//! The state every request handler shares: configuration, the database, secrets, the
//! blob store, the PLC client and the firehose. Built once at start-up by
//! [`AppContext::build`] and handed to the router as `Arc<AppContext>`; there is no other
//! global state.

use crate::blobs::BlobStore;
use crate::config::Config;
use crate::keys::{Kek, KeyError};
use crate::plc::client::PlcClient;
use crate::store::{Db, DbError};
use pds::crypto::{Curve, Keypair};
use rusqlite::OptionalExtension;
use std::sync::Arc;
use std::time::Instant;
use zeroize::Zeroizing;

/// Shared state, as handlers receive it.
pub type AppState = Arc<AppContext>;

/// Why start-up failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Key(#[from] KeyError),
    #[error("{0}")]
    Db(#[from] DbError),
    #[error("blob store: {0}")]
    Blob(#[from] crate::blobs::BlobError),
    #[error("cannot create data folder {path}: {message}")]
    DataDir { path: String, message: String },
    #[error("{0}")]
    Other(String),
}

/// Everything handlers need.
pub struct AppContext {
    pub config: Config,
    pub db: Db,
    pub kek: Kek,
    jwt_secret: Zeroizing<Vec<u8>>,
    /// The relay's own PLC rotation key (lowest priority in every account's rotationKeys).
    pub relay_rotation_key: Keypair,
    /// `did:web:<hostname>`: the audience of session tokens, and describeServer's did.
    pub service_did: String,
    /// The public base URL (the `atproto_pds` service endpoint in DID documents).
    pub public_url: String,
    pub plc: PlcClient,
    pub blobs: BlobStore,
    pub http: reqwest::Client,
    /// Resolves handles hosted elsewhere (DNS TXT `_atproto`, then HTTPS).
    pub handles: crate::services::handle_resolver::HandleResolver,
    pub tids: pds::syntax::TidClock,
    pub started: Instant,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub firehose: crate::firehose::Firehose,
    /// Resolved DID documents, briefly cached.
    pub did_cache: crate::services::identity::DidCache,
    /// Cancelled when the server shuts down (long-lived streams watch it).
    pub shutdown: tokio_util::sync::CancellationToken,
    /// The OAuth authorization server's keys, nonces and client cache.
    pub oauth: crate::oauth::OAuthState,
    /// Repo commits built ahead of the database writer, per account.
    pub repo_pipeline: crate::services::repo_pipeline::Pipeline,
}

impl std::fmt::Debug for AppContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppContext")
            .field("service_did", &self.service_did)
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl AppContext {
    /// Open everything the server needs. `plc_url` is the directory to use (the built-in
    /// one's URL in `--dev`).
    pub async fn build(config: Config, plc_url: &str) -> Result<AppState, StartError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| StartError::DataDir {
            path: config.data_dir.display().to_string(),
            message: e.to_string(),
        })?;
        let kek = Kek::load(config.secrets.kek.as_deref(), &config.data_dir)?;
        let db = Db::open(&config.db_path())?;
        let jwt_secret = load_or_create_secret(&db, &kek, "jwt-secret").await?;
        let relay_rotation_key = load_or_create_key(&db, &kek, "relay-rotation-key").await?;
        let oauth_secret = load_or_create_secret(&db, &kek, "oauth-secret").await?;
        let oauth = crate::oauth::OAuthState::new(&config.oauth, &oauth_secret)
            .map_err(StartError::Other)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("pdsd/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| StartError::Other(e.to_string()))?;
        let blobs = BlobStore::local(&config.blob_dir())?;
        let firehose = crate::firehose::Firehose::new(db.clone(), &config.firehose);
        let handles = crate::services::handle_resolver::HandleResolver::new(&config, http.clone());
        Ok(Arc::new(AppContext {
            service_did: config.service_did(),
            public_url: config.public_url(),
            plc: PlcClient::new(plc_url, http.clone()),
            config,
            db,
            kek,
            jwt_secret,
            relay_rotation_key,
            blobs,
            handles,
            http,
            tids: pds::syntax::TidClock::new(),
            started: Instant::now(),
            started_at: chrono::Utc::now(),
            firehose,
            did_cache: Default::default(),
            shutdown: tokio_util::sync::CancellationToken::new(),
            oauth,
            repo_pipeline: Default::default(),
        }))
    }

    /// The HMAC secret of session tokens.
    pub fn jwt_secret(&self) -> &[u8] {
        &self.jwt_secret
    }
}

async fn stored_secret(db: &Db, name: &'static str) -> Result<Option<Vec<u8>>, DbError> {
    db.read(move |c| {
        c.query_row(
            "SELECT value FROM server_secret WHERE name = ?1",
            [name],
            |r| r.get::<_, Vec<u8>>(0),
        )
        .optional()
        .map_err(DbError::from)
    })
    .await
}

async fn store_secret(db: &Db, name: &'static str, sealed: Vec<u8>) -> Result<(), DbError> {
    db.write(move |tx| {
        tx.conn()
            .execute(
                "INSERT OR IGNORE INTO server_secret (name, value) VALUES (?1, ?2)",
                rusqlite::params![name, sealed],
            )
            .map(|_| ())
            .map_err(DbError::from)
    })
    .await
}

async fn load_or_create_secret(
    db: &Db,
    kek: &Kek,
    name: &'static str,
) -> Result<Zeroizing<Vec<u8>>, StartError> {
    if let Some(sealed) = stored_secret(db, name).await? {
        return Ok(kek.open(name, &sealed)?);
    }
    let fresh = crate::keys::random_bytes::<32>()?;
    store_secret(db, name, kek.seal(name, &fresh)?).await?;
    // Read back: another start may have raced us (INSERT OR IGNORE keeps the first).
    let sealed = stored_secret(db, name)
        .await?
        .ok_or_else(|| StartError::Other(format!("secret {name} vanished")))?;
    Ok(kek.open(name, &sealed)?)
}

async fn load_or_create_key(db: &Db, kek: &Kek, name: &'static str) -> Result<Keypair, StartError> {
    if let Some(sealed) = stored_secret(db, name).await? {
        return Ok(kek.open_keypair(name, &sealed)?);
    }
    let key = Keypair::generate(Curve::Secp256k1);
    store_secret(db, name, kek.seal_keypair(name, &key)?).await?;
    let sealed = stored_secret(db, name)
        .await?
        .ok_or_else(|| StartError::Other(format!("secret {name} vanished")))?;
    Ok(kek.open_keypair(name, &sealed)?)
}
