//! The admin-socket contract shared by pdsd (server) and pdsctl (client): the API
//! version, the version header, one path constant per verb, and the serde request and
//! response types of each verb.
//!
//! Owns only the wire shapes; it performs no I/O and knows nothing of HTTP libraries,
//! sockets or the database. The daemon serves these paths (`daemon/src/admin/`), the CLI
//! calls them through its typed client (`cli/src/client.rs`), and names match across the
//! layers: `pdsctl invite create` -> [`paths::INVITE_CREATE`] -> `daemon/src/admin/invite.rs`.
//!
//! Compatibility rule: within one API version (`/admin/v1/`), fields are only ever added,
//! each new one optional or defaulted, so a pdsctl and a pdsd of different releases still
//! understand each other; both sides warn when the version header differs.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The API version in every path.
pub const API_VERSION: &str = "v1";

/// The header every answer of the daemon carries: the daemon's package version.
/// pdsctl sends its own version in the same header, so each side can log a mismatch.
pub const VERSION_HEADER: &str = "Pdsd-Version";

/// The media type of a repository export (CAR v1).
pub const CAR_MEDIA_TYPE: &str = "application/vnd.ipld.car";

/// The default socket of a system service (systemd's `RuntimeDirectory=pdsd`).
pub const SYSTEM_SOCKET: &str = "/run/pdsd/admin.sock";

/// The socket's file name inside the data folder in `--dev`.
pub const DEV_SOCKET_NAME: &str = "pdsd.sock";

/// Paths, one per verb. GET paths only read (members of the socket's group may call them);
/// POST paths change things (only root and pdsd's own user may call them).
pub mod paths {
    /// Prefix of every admin path.
    pub const PREFIX: &str = "/admin/v1";
    /// GET: [`super::StatusResponse`].
    pub const STATUS: &str = "/admin/v1/status";
    /// POST [`super::InviteCreateRequest`] -> [`super::InviteCreateResponse`].
    pub const INVITE_CREATE: &str = "/admin/v1/invite/create";
    /// POST [`super::AccountCreateRequest`] -> [`super::AccountCreateResponse`].
    pub const ACCOUNT_CREATE: &str = "/admin/v1/account/create";
    /// GET -> [`super::AccountListResponse`].
    pub const ACCOUNT_LIST: &str = "/admin/v1/account/list";
    /// GET `?id=` -> [`super::AccountInfo`].
    pub const ACCOUNT_SHOW: &str = "/admin/v1/account/show";
    /// POST [`super::AccountRef`] -> [`super::AccountInfo`].
    pub const ACCOUNT_DEACTIVATE: &str = "/admin/v1/account/deactivate";
    /// POST [`super::AccountRef`] -> [`super::AccountInfo`].
    pub const ACCOUNT_ACTIVATE: &str = "/admin/v1/account/activate";
    /// POST [`super::AccountRef`] -> [`super::AccountDeleted`].
    pub const ACCOUNT_DELETE: &str = "/admin/v1/account/delete";
    /// POST [`super::ResetPasswordRequest`] -> [`super::AccountInfo`].
    pub const ACCOUNT_RESET_PASSWORD: &str = "/admin/v1/account/reset-password";
    /// POST [`super::TakedownRequest`] -> [`super::AccountInfo`].
    pub const ACCOUNT_TAKEDOWN: &str = "/admin/v1/account/takedown";
    /// POST [`super::AccountRef`] -> [`super::AccountInfo`].
    pub const ACCOUNT_UNTAKEDOWN: &str = "/admin/v1/account/untakedown";
    /// GET `?id=` -> [`super::DidShowResponse`].
    pub const DID_SHOW: &str = "/admin/v1/did/show";
    /// POST [`super::AccountRef`] -> [`super::RotateSigningKeyResponse`].
    pub const DID_ROTATE_SIGNING_KEY: &str = "/admin/v1/did/rotate-signing-key";
    /// GET `?id=` -> [`super::ExportManifest`] (what the export holds, without bytes).
    pub const EXPORT_MANIFEST: &str = "/admin/v1/export/manifest";
    /// GET `?id=` -> the repository as a CAR v1 stream ([`super::CAR_MEDIA_TYPE`]).
    pub const EXPORT_REPO: &str = "/admin/v1/export/repo";
    /// GET `?id=&cid=` -> one blob's bytes.
    pub const EXPORT_BLOB: &str = "/admin/v1/export/blob";
    /// POST [`super::ImportStartRequest`] -> [`super::ImportStartResponse`].
    pub const IMPORT_START: &str = "/admin/v1/import/start";
    /// POST [`super::ImportIdentityRequest`] -> [`super::ImportIdentityResponse`]: submit
    /// the user-signed PLC update that moves the DID here.
    pub const IMPORT_IDENTITY: &str = "/admin/v1/import/identity";
    /// POST `?did=` with a CAR body -> [`super::ImportRepoResponse`].
    pub const IMPORT_REPO: &str = "/admin/v1/import/repo";
    /// POST `?did=&cid=&mime_type=` with the blob's bytes -> [`super::ImportBlobResponse`].
    pub const IMPORT_BLOB: &str = "/admin/v1/import/blob";
    /// POST [`super::ImportFinishRequest`] -> [`super::ImportFinishResponse`].
    pub const IMPORT_FINISH: &str = "/admin/v1/import/finish";
    /// GET `?id=` -> [`super::OAuthListResponse`].
    pub const OAUTH_LIST: &str = "/admin/v1/oauth/list";
    /// POST [`super::OAuthRevokeRequest`] -> [`super::OAuthRevokeResponse`].
    pub const OAUTH_REVOKE: &str = "/admin/v1/oauth/revoke";
}

/// Every error answer: the same shape as an XRPC error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable name (`Forbidden`, `NotFound`, `InvalidRequest`, ...).
    pub error: String,
    /// A sentence for a person.
    pub message: String,
}

/// What the peer of the socket may do, decided from its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// root or pdsd's own user: everything.
    ReadWrite,
    /// A member of the socket's group: GET paths only.
    ReadOnly,
}

// ---------------------------------------------------------------------------------------
// status

/// `GET /admin/v1/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusResponse {
    /// The daemon's package version.
    pub version: String,
    /// When the daemon started (RFC 3339).
    pub started_at: String,
    /// Seconds since start.
    pub uptime_secs: u64,
    /// Development mode.
    pub dev: bool,
    /// Where it listens.
    pub listen: ListenInfo,
    /// Number of hosted accounts (all states).
    pub accounts: u64,
    /// Of those, how many are active (neither deactivated nor taken down).
    pub active_accounts: u64,
    /// Bytes on disk.
    pub storage: StorageInfo,
    /// The PLC directory in use.
    pub plc_directory: String,
    /// The relays told about this server, and what each last answered to requestCrawl.
    pub relays: Vec<RelayStatus>,
    /// The firehose's latest sequence number (0 before the first event).
    pub firehose_seq: i64,
    /// What the caller may do on this socket.
    pub access: Access,
}

/// The addresses of a running daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenInfo {
    /// The HTTP/XRPC listener, e.g. `http://127.0.0.1:2583`.
    pub http: String,
    /// The public URL clients and DID documents use.
    pub public_url: String,
    /// The admin socket's path.
    pub admin_socket: String,
    /// The built-in PLC directory (`--dev` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin_plc: Option<String>,
}

/// Storage used, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageInfo {
    /// The database files (main file, WAL and shared memory).
    pub database_bytes: u64,
    /// Blobs, as recorded (each blob counted once).
    pub blob_bytes: u64,
    /// Number of distinct blobs.
    pub blobs: u64,
}

/// One relay and its last requestCrawl.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayStatus {
    /// As configured (hostname or URL).
    pub relay: String,
    /// When requestCrawl was last sent (RFC 3339), if ever.
    #[serde(default)]
    pub last_try_at: Option<String>,
    /// When it last succeeded, if ever.
    #[serde(default)]
    pub last_ok_at: Option<String>,
    /// What it answered (HTTP status and short text, or the connection error).
    #[serde(default)]
    pub last_status: Option<String>,
}

// ---------------------------------------------------------------------------------------
// invites

/// `POST /admin/v1/invite/create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteCreateRequest {
    /// How many accounts each code may create (at least 1).
    pub uses: u32,
    /// How many codes to make (default 1).
    #[serde(default = "one")]
    pub count: u32,
    /// The DID the codes are attributed to (default: the server itself, `admin`).
    #[serde(default)]
    pub for_account: Option<String>,
}

fn one() -> u32 {
    1
}

/// The codes made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteCreateResponse {
    pub codes: Vec<String>,
    pub uses: u32,
}

// ---------------------------------------------------------------------------------------
// accounts

/// A password in transit: Debug redacts it and the memory is wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(Zeroizing<String>);

impl Serialize for Password {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Password {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Password::new)
    }
}

impl Password {
    pub fn new(s: String) -> Self {
        Password(Zeroizing::new(s))
    }
    /// The password itself (for hashing; never log it).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// `POST /admin/v1/account/create`: the daemon runs the DID ceremony.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountCreateRequest {
    pub handle: String,
    pub email: String,
    pub password: Password,
    /// The user's rotation key (`did:key:...`), placed first in rotationKeys.
    #[serde(default)]
    pub recovery_key: Option<String>,
}

/// The account made, and the PLC genesis operation that was submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountCreateResponse {
    pub did: String,
    pub handle: String,
    /// The signed PLC operation, as submitted to the directory.
    pub plc_operation: serde_json::Value,
}

/// Names one account: a handle or a DID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRef {
    pub id: String,
}

/// The state of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccountStatus {
    Active,
    Deactivated,
    Takendown,
}

/// One account, as `account list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub did: String,
    #[serde(default)]
    pub handle: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    pub status: AccountStatus,
    pub created_at: String,
    #[serde(default)]
    pub deactivated_at: Option<String>,
    #[serde(default)]
    pub takedown_ref: Option<String>,
    pub tier: String,
    /// The repository's latest revision, if it has a commit.
    #[serde(default)]
    pub repo_rev: Option<String>,
    /// The latest commit's CID.
    #[serde(default)]
    pub repo_commit: Option<String>,
    /// Number of records.
    #[serde(default)]
    pub records: u64,
    /// Number of blobs and their bytes.
    #[serde(default)]
    pub blobs: u64,
    #[serde(default)]
    pub blob_bytes: u64,
}

/// `GET /admin/v1/account/list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountListResponse {
    pub accounts: Vec<AccountInfo>,
}

/// `POST /admin/v1/account/delete`: what went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountDeleted {
    pub did: String,
}

/// `POST /admin/v1/account/reset-password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetPasswordRequest {
    pub id: String,
    pub password: Password,
}

/// `POST /admin/v1/account/takedown`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TakedownRequest {
    pub id: String,
    /// A reference for the moderation record (default: generated).
    #[serde(default)]
    pub reference: Option<String>,
}

// ---------------------------------------------------------------------------------------
// identity

/// Whose a key in a DID document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyOwner {
    /// The user's own rotation key (first in rotationKeys, not held by the relay).
    User,
    /// A key the relay holds (its rotation key or this account's signing key).
    Relay,
    /// An enrolled device's key.
    Device,
    /// Not known to this daemon (e.g. another PDS's key).
    Unknown,
}

/// One key of a DID, with its role and whose it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DidKeyInfo {
    /// `did:key:...`
    pub key: String,
    /// `rotation` (with its priority in `index`) or `signing`.
    pub role: String,
    /// Position in rotationKeys (0 = highest priority); absent for the signing key.
    #[serde(default)]
    pub index: Option<u32>,
    pub owner: KeyOwner,
}

/// `GET /admin/v1/did/show`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DidShowResponse {
    pub did: String,
    #[serde(default)]
    pub handle: Option<String>,
    /// The DID document as the directory serves it.
    pub document: serde_json::Value,
    /// The directory's audit log (every operation, oldest first).
    pub audit_log: serde_json::Value,
    /// Every key, labelled.
    pub keys: Vec<DidKeyInfo>,
}

/// `POST /admin/v1/did/rotate-signing-key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RotateSigningKeyResponse {
    pub did: String,
    /// The new signing key (`did:key:...`).
    pub signing_key: String,
    /// The PLC operation that was submitted.
    pub plc_operation: serde_json::Value,
}

// ---------------------------------------------------------------------------------------
// export / import

/// One blob of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobEntry {
    pub cid: String,
    pub mime_type: String,
    pub size: u64,
}

/// What an export holds; written as `manifest.json` in the export folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportManifest {
    pub did: String,
    #[serde(default)]
    pub handle: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// The account's signing key (`did:key`) that the commit is signed with, so the
    /// export can be verified without asking the PLC directory.
    #[serde(default)]
    pub signing_key: Option<String>,
    /// The latest commit's CID and revision at the time of the manifest.
    pub commit: String,
    pub rev: String,
    /// The MST root CID (the commit's `data`).
    pub data: String,
    pub blobs: Vec<BlobEntry>,
}

/// `POST /admin/v1/import/start`: create (or prepare to migrate) the account, deactivated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportStartRequest {
    pub did: String,
    #[serde(default)]
    pub handle: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// The user's rotation key (`did:key`) that will sign the move, when the DID does not
    /// name this server yet. The daemon refuses a key that is not in the DID's current
    /// rotationKeys before it creates anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_key: Option<String>,
    /// A password for the account on this server (created accounts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Password>,
    /// Without `rotation_key`: the DID's current host will sign the move with its own
    /// rotation key (its `com.atproto.identity.signPlcOperation`), so the update keeps the
    /// DID's other rotation keys and swaps the old host's (the last) for this server's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub old_host_signs: bool,
}

/// The account is ready to receive the repository and blobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportStartResponse {
    pub did: String,
    /// Whether the account was created (false: it existed and is being migrated over).
    pub created: bool,
    /// The handle the account has here.
    #[serde(default)]
    pub handle: Option<String>,
    /// The account's signing key on this server (`did:key`).
    #[serde(default)]
    pub signing_key: Option<String>,
    /// Present when the DID does not name this server yet: the PLC update for the user's
    /// rotation key to sign and send to [`paths::IMPORT_IDENTITY`].
    #[serde(default)]
    pub plc_update: Option<PlcUpdate>,
}

/// An unsigned PLC update and the operation it follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlcUpdate {
    /// The unsigned operation (the JSON form of a signed one, without `sig`).
    pub operation: serde_json::Value,
    /// The DID's latest operation (signed, as the PLC directory serves it).
    pub prev: serde_json::Value,
}

/// `POST /admin/v1/import/identity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportIdentityRequest {
    pub did: String,
    /// The signed PLC operation.
    pub operation: serde_json::Value,
}

/// The update was accepted by the PLC directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportIdentityResponse {
    pub did: String,
    /// The operation as submitted.
    pub plc_operation: serde_json::Value,
}

/// `POST /admin/v1/import/repo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRepoResponse {
    pub did: String,
    pub commit: String,
    pub rev: String,
    pub data: String,
    pub records: u64,
}

/// `POST /admin/v1/import/blob`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportBlobResponse {
    pub cid: String,
    pub size: u64,
}

/// `POST /admin/v1/import/finish`: verify everything, then activate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportFinishRequest {
    pub did: String,
}

/// The imported account, verified and active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportFinishResponse {
    pub did: String,
    pub commit: String,
    pub data: String,
    pub records: u64,
    pub blobs: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_is_under_the_versioned_prefix() {
        let all = [
            paths::STATUS,
            paths::INVITE_CREATE,
            paths::ACCOUNT_CREATE,
            paths::ACCOUNT_LIST,
            paths::ACCOUNT_SHOW,
            paths::ACCOUNT_DEACTIVATE,
            paths::ACCOUNT_ACTIVATE,
            paths::ACCOUNT_DELETE,
            paths::ACCOUNT_RESET_PASSWORD,
            paths::ACCOUNT_TAKEDOWN,
            paths::ACCOUNT_UNTAKEDOWN,
            paths::DID_SHOW,
            paths::DID_ROTATE_SIGNING_KEY,
            paths::EXPORT_MANIFEST,
            paths::EXPORT_REPO,
            paths::EXPORT_BLOB,
            paths::IMPORT_START,
            paths::IMPORT_IDENTITY,
            paths::IMPORT_REPO,
            paths::IMPORT_BLOB,
            paths::IMPORT_FINISH,
        ];
        let prefix = format!("/admin/{API_VERSION}/");
        assert_eq!(paths::PREFIX, prefix.trim_end_matches('/'));
        let mut seen = std::collections::HashSet::new();
        for p in all {
            assert!(p.starts_with(&prefix), "{p}");
            assert!(seen.insert(p), "duplicate path {p}");
        }
    }

    #[test]
    fn password_debug_is_redacted_and_serializes_plainly() {
        let p = Password::new("hunter22".into());
        assert!(!format!("{p:?}").contains("hunter22"));
        let req = ResetPasswordRequest {
            id: "alice.test".into(),
            password: p,
        };
        assert!(!format!("{req:?}").contains("hunter22"));
        let json = serde_json::to_value(&req).expect("serialize");
        assert_eq!(json["password"], "hunter22");
        let back: ResetPasswordRequest = serde_json::from_value(json).expect("deserialize");
        assert_eq!(back, req);
    }

    #[test]
    fn invite_request_defaults_count_to_one() {
        let r: InviteCreateRequest = serde_json::from_str(r#"{"uses":3}"#).expect("parse");
        assert_eq!(r.count, 1);
        assert_eq!(r.for_account, None);
    }

    #[test]
    fn enums_use_kebab_case_on_the_wire() {
        let s = serde_json::to_string(&Access::ReadOnly).expect("serialize");
        assert_eq!(s, "\"read-only\"");
        let s = serde_json::to_string(&KeyOwner::Relay).expect("serialize");
        assert_eq!(s, "\"relay\"");
    }
}

// ---------------------------------------------------------------------------------------
// oauth

/// One third-party app an account authorized with OAuth, with its live sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthApp {
    /// The app's `client_id` (the URL of its client metadata document).
    pub client_id: String,
    /// The name the app gives itself in its metadata, if any.
    #[serde(default)]
    pub client_name: Option<String>,
    /// The scopes the account approved.
    pub scope: String,
    /// When the account first approved this app (RFC 3339).
    pub authorized_at: String,
    /// Last approval or token refresh (RFC 3339).
    pub last_used_at: String,
    /// Its live sessions (one per sign-in on a device).
    pub sessions: Vec<OAuthSession>,
}

/// One live OAuth session of an app. Its id names it for `revoke`; it grants nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthSession {
    /// The id `pdsctl oauth revoke` accepts.
    pub token_id: String,
    pub scope: String,
    pub created_at: String,
    pub refreshed_at: String,
    /// When its current refresh token expires (RFC 3339).
    pub expires_at: String,
}

/// [`paths::OAUTH_LIST`]: the apps an account has authorized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthListResponse {
    pub did: String,
    /// None while the account has no valid handle.
    #[serde(default)]
    pub handle: Option<String>,
    pub apps: Vec<OAuthApp>,
}

/// [`paths::OAUTH_REVOKE`]: end an app's access (every session of a `client_id`) or
/// one session (a `token_id` from [`OAuthListResponse`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthRevokeRequest {
    /// The account: handle or DID.
    pub id: String,
    /// A `client_id` or a session's `token_id`.
    pub target: String,
}

/// What [`paths::OAUTH_REVOKE`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthRevokeResponse {
    pub did: String,
    pub target: String,
    /// How many sessions ended.
    pub revoked: usize,
}
