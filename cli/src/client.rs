//! The typed client of pdsd's admin socket: one method per admin verb, HTTP/1 over a
//! Unix socket (hyper), JSON in and out, and errors that tell a person what to do (most
//! of all, when pdsd is not running).
//!
//! Every pdsctl command goes through this client; pdsctl never opens the database or
//! pdsd's files. It warns once on stderr when the daemon's version differs from its own.
//! It knows the wire types from `pds::admin` and nothing about how commands print.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use pds::admin::{self, ErrorBody, VERSION_HEADER, paths};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::ErrorKind;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::UnixStream;

/// pdsctl's own version, sent in [`VERSION_HEADER`] and compared with the daemon's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What went wrong talking to pdsd.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "pdsd is not running (no socket at {0}). Start it with `pdsd --dev` or \
         `systemctl start pdsd`, or point pdsctl at its socket with --socket"
    )]
    NotRunning(PathBuf),
    #[error(
        "pdsd is not running (nothing answers on {0}; the socket was left behind). Start it \
         with `pdsd --dev` or `systemctl start pdsd`"
    )]
    Stale(PathBuf),
    #[error(
        "permission denied on {0}: run pdsctl as root or as pdsd's user, or join the socket's \
         group for read-only commands"
    )]
    PermissionDenied(PathBuf),
    #[error("cannot connect to pdsd at {path}: {source}")]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    /// pdsd answered with an error.
    #[error("{message}")]
    Api {
        status: u16,
        error: String,
        message: String,
    },
    #[error("talking to pdsd failed: {0}")]
    Protocol(String),
}

impl ClientError {
    /// A stable name for `--json` output.
    pub fn name(&self) -> &str {
        match self {
            ClientError::NotRunning(_) | ClientError::Stale(_) => "NotRunning",
            ClientError::PermissionDenied(_) => "PermissionDenied",
            ClientError::Connect { .. } => "ConnectFailed",
            ClientError::Api { error, .. } => error,
            ClientError::Protocol(_) => "ProtocolError",
        }
    }
}

/// A request body: JSON, raw bytes, or nothing.
type ReqBody = BoxBody<Bytes, std::convert::Infallible>;

/// The admin API of one pdsd.
#[derive(Debug)]
pub struct Client {
    socket: PathBuf,
    warned: AtomicBool,
}

impl Client {
    /// A client for the socket at `socket` (nothing is opened until the first call).
    pub fn new(socket: PathBuf) -> Self {
        Client {
            socket,
            warned: AtomicBool::new(false),
        }
    }

    // -- one method per verb -------------------------------------------------------------

    pub async fn status(&self) -> Result<admin::StatusResponse, ClientError> {
        self.get_json(paths::STATUS, &[]).await
    }

    pub async fn invite_create(
        &self,
        req: &admin::InviteCreateRequest,
    ) -> Result<admin::InviteCreateResponse, ClientError> {
        self.post_json(paths::INVITE_CREATE, req).await
    }

    pub async fn account_create(
        &self,
        req: &admin::AccountCreateRequest,
    ) -> Result<admin::AccountCreateResponse, ClientError> {
        self.post_json(paths::ACCOUNT_CREATE, req).await
    }

    pub async fn account_list(&self) -> Result<admin::AccountListResponse, ClientError> {
        self.get_json(paths::ACCOUNT_LIST, &[]).await
    }

    pub async fn account_show(&self, id: &str) -> Result<admin::AccountInfo, ClientError> {
        self.get_json(paths::ACCOUNT_SHOW, &[("id", id)]).await
    }

    /// POST `{"id": ...}` to one of the account-state paths (deactivate, activate,
    /// untakedown), answered with the account afterwards.
    pub async fn account_action(
        &self,
        path: &'static str,
        id: &str,
    ) -> Result<admin::AccountInfo, ClientError> {
        self.post_json(path, &admin::AccountRef { id: id.into() })
            .await
    }

    pub async fn account_delete(&self, id: &str) -> Result<admin::AccountDeleted, ClientError> {
        self.post_json(paths::ACCOUNT_DELETE, &admin::AccountRef { id: id.into() })
            .await
    }

    pub async fn account_reset_password(
        &self,
        req: &admin::ResetPasswordRequest,
    ) -> Result<admin::AccountInfo, ClientError> {
        self.post_json(paths::ACCOUNT_RESET_PASSWORD, req).await
    }

    pub async fn account_takedown(
        &self,
        req: &admin::TakedownRequest,
    ) -> Result<admin::AccountInfo, ClientError> {
        self.post_json(paths::ACCOUNT_TAKEDOWN, req).await
    }

    pub async fn did_show(&self, id: &str) -> Result<admin::DidShowResponse, ClientError> {
        self.get_json(paths::DID_SHOW, &[("id", id)]).await
    }

    pub async fn did_rotate_signing_key(
        &self,
        id: &str,
    ) -> Result<admin::RotateSigningKeyResponse, ClientError> {
        self.post_json(
            paths::DID_ROTATE_SIGNING_KEY,
            &admin::AccountRef { id: id.into() },
        )
        .await
    }

    pub async fn oauth_list(&self, id: &str) -> Result<admin::OAuthListResponse, ClientError> {
        self.get_json(paths::OAUTH_LIST, &[("id", id)]).await
    }

    pub async fn oauth_revoke(
        &self,
        req: &admin::OAuthRevokeRequest,
    ) -> Result<admin::OAuthRevokeResponse, ClientError> {
        self.post_json(paths::OAUTH_REVOKE, req).await
    }

    pub async fn export_manifest(&self, id: &str) -> Result<admin::ExportManifest, ClientError> {
        self.get_json(paths::EXPORT_MANIFEST, &[("id", id)]).await
    }

    /// The repository as a CAR stream.
    pub async fn export_repo(&self, id: &str) -> Result<Response<Incoming>, ClientError> {
        self.get_stream(paths::EXPORT_REPO, &[("id", id)]).await
    }

    /// One blob's bytes, as a stream.
    pub async fn export_blob(
        &self,
        id: &str,
        cid: &str,
    ) -> Result<Response<Incoming>, ClientError> {
        self.get_stream(paths::EXPORT_BLOB, &[("id", id), ("cid", cid)])
            .await
    }

    pub async fn import_start(
        &self,
        req: &admin::ImportStartRequest,
    ) -> Result<admin::ImportStartResponse, ClientError> {
        self.post_json(paths::IMPORT_START, req).await
    }

    pub async fn import_identity(
        &self,
        req: &admin::ImportIdentityRequest,
    ) -> Result<admin::ImportIdentityResponse, ClientError> {
        self.post_json(paths::IMPORT_IDENTITY, req).await
    }

    pub async fn import_repo(
        &self,
        did: &str,
        car: Bytes,
    ) -> Result<admin::ImportRepoResponse, ClientError> {
        let uri = with_query(paths::IMPORT_REPO, &[("did", did)]);
        let res = self
            .send(Method::POST, &uri, Some(admin::CAR_MEDIA_TYPE), body(car))
            .await?;
        read_json(res).await
    }

    pub async fn import_blob(
        &self,
        did: &str,
        entry: &admin::BlobEntry,
        bytes: Bytes,
    ) -> Result<admin::ImportBlobResponse, ClientError> {
        let uri = with_query(
            paths::IMPORT_BLOB,
            &[
                ("did", did),
                ("cid", &entry.cid),
                ("mime_type", &entry.mime_type),
            ],
        );
        let res = self
            .send(
                Method::POST,
                &uri,
                Some("application/octet-stream"),
                body(bytes),
            )
            .await?;
        read_json(res).await
    }

    pub async fn import_finish(
        &self,
        did: &str,
    ) -> Result<admin::ImportFinishResponse, ClientError> {
        self.post_json(
            paths::IMPORT_FINISH,
            &admin::ImportFinishRequest { did: did.into() },
        )
        .await
    }

    // -- plumbing ------------------------------------------------------------------------

    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ClientError> {
        let res = self
            .send(
                Method::GET,
                &with_query(path, query),
                None,
                body(Bytes::new()),
            )
            .await?;
        read_json(res).await
    }

    async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        req: &B,
    ) -> Result<T, ClientError> {
        let json = serde_json::to_vec(req)
            .map_err(|e| ClientError::Protocol(format!("cannot encode the request: {e}")))?;
        let res = self
            .send(
                Method::POST,
                path,
                Some("application/json"),
                body(Bytes::from(json)),
            )
            .await?;
        read_json(res).await
    }

    async fn get_stream(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Response<Incoming>, ClientError> {
        let res = self
            .send(
                Method::GET,
                &with_query(path, query),
                None,
                body(Bytes::new()),
            )
            .await?;
        if res.status().is_success() {
            Ok(res)
        } else {
            Err(error_of(res).await)
        }
    }

    async fn connect(&self) -> Result<UnixStream, ClientError> {
        UnixStream::connect(&self.socket).await.map_err(|e| {
            let path = self.socket.clone();
            match e.kind() {
                ErrorKind::NotFound => ClientError::NotRunning(path),
                ErrorKind::ConnectionRefused => ClientError::Stale(path),
                ErrorKind::PermissionDenied => ClientError::PermissionDenied(path),
                _ => ClientError::Connect { path, source: e },
            }
        })
    }

    async fn send(
        &self,
        method: Method,
        uri: &str,
        content_type: Option<&str>,
        body: ReqBody,
    ) -> Result<Response<Incoming>, ClientError> {
        let stream = self.connect().await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        tokio::spawn(async move {
            // The connection ends when the response body is read; errors surface there.
            let _ = conn.await;
        });
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(HOST, "pdsd")
            .header(VERSION_HEADER, VERSION);
        if let Some(ct) = content_type {
            req = req.header(CONTENT_TYPE, ct);
        }
        let req = req
            .body(body)
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        let res = sender
            .send_request(req)
            .await
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        self.check_version(&res);
        Ok(res)
    }

    fn check_version(&self, res: &Response<Incoming>) {
        let theirs = res
            .headers()
            .get(VERSION_HEADER)
            .and_then(|v| v.to_str().ok());
        if let Some(warning) = version_warning(theirs)
            && !self.warned.swap(true, Ordering::Relaxed)
        {
            eprintln!("pdsctl: warning: {warning}");
        }
    }
}

/// The warning to show for the daemon's version header, if any.
pub fn version_warning(theirs: Option<&str>) -> Option<String> {
    match theirs {
        Some(v) if v == VERSION => None,
        Some(v) => Some(format!(
            "pdsctl {VERSION} is talking to pdsd {v}; upgrade both together (commands may \
             fail or miss fields)"
        )),
        None => Some(format!(
            "the daemon did not say its version ({VERSION_HEADER} header missing); is the \
             socket really pdsd's?"
        )),
    }
}

fn body(bytes: Bytes) -> ReqBody {
    Full::new(bytes).boxed()
}

async fn read_json<T: DeserializeOwned>(res: Response<Incoming>) -> Result<T, ClientError> {
    if !res.status().is_success() {
        return Err(error_of(res).await);
    }
    let bytes = collect(res).await?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ClientError::Protocol(format!("unexpected answer from pdsd: {e}")))
}

async fn collect(res: Response<Incoming>) -> Result<Bytes, ClientError> {
    res.into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .map_err(|e| ClientError::Protocol(e.to_string()))
}

/// Turn an error answer into [`ClientError::Api`], keeping pdsd's own message.
async fn error_of(res: Response<Incoming>) -> ClientError {
    let status = res.status();
    let bytes = match collect(res).await {
        Ok(b) => b,
        Err(e) => return e,
    };
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(b) => ClientError::Api {
            status: status.as_u16(),
            error: b.error,
            message: b.message,
        },
        Err(_) => ClientError::Api {
            status: status.as_u16(),
            error: status
                .canonical_reason()
                .unwrap_or("Error")
                .replace(' ', ""),
            message: format!(
                "pdsd answered {status}: {}",
                String::from_utf8_lossy(&bytes).trim()
            ),
        },
    }
}

/// `path?k=v&...`, values percent-encoded (everything but RFC 3986 unreserved characters).
fn with_query(path: &str, query: &[(&str, &str)]) -> String {
    let mut out = path.to_string();
    for (i, (k, v)) in query.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        for b in v.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            with_query("/p", &[("id", "did:plc:ab c"), ("cid", "bafy")]),
            "/p?id=did%3Aplc%3Aab%20c&cid=bafy"
        );
        assert_eq!(with_query("/p", &[]), "/p");
    }

    #[test]
    fn version_warning_only_on_mismatch_or_absence() {
        assert_eq!(version_warning(Some(VERSION)), None);
        let w = version_warning(Some("99.0.0")).expect("warn");
        assert!(w.contains("99.0.0") && w.contains(VERSION), "{w}");
        assert!(version_warning(None).is_some());
    }

    #[tokio::test]
    async fn missing_socket_says_how_to_start_pdsd() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pdsd.sock");
        let err = Client::new(path.clone())
            .status()
            .await
            .expect_err("no daemon");
        assert!(matches!(&err, ClientError::NotRunning(p) if p == &path));
        let msg = err.to_string();
        assert!(msg.contains("pdsd is not running"), "{msg}");
        assert!(
            msg.contains("pdsd --dev") && msg.contains("systemctl start pdsd"),
            "{msg}"
        );
    }

    #[tokio::test]
    async fn stale_socket_is_reported_as_not_running() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pdsd.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).expect("bind"));
        let err = Client::new(path).status().await.expect_err("no daemon");
        assert!(matches!(err, ClientError::Stale(_)), "{err:?}");
        assert_eq!(err.name(), "NotRunning");
    }
}
