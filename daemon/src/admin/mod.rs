//! The admin API: HTTP/1 over a Unix socket, for pdsctl. Owns the socket's life (create
//! its folder, refuse to steal a live socket, remove a stale one, mode 0660, remove it at
//! shutdown), the one path -> handler table, the permission check taken from the peer's
//! credentials, and the version header on every answer.
//!
//! Permissions: root or pdsd's own user may do everything; a member of the socket file's
//! group may only read (GET); anyone else is refused with 403. The socket's mode (0660)
//! is only a second fence: every request is checked against the peer's credentials
//! anyway, so the instant between bind and chmod grants nothing.
//!
//! Handlers live one file per pdsctl verb and call the same services the XRPC handlers
//! call; they never hold business logic of their own. Errors become answers through
//! [`crate::xrpc::error::XrpcError`], the one error table of the daemon.

pub mod account;
pub mod did;
pub mod export;
pub mod import;
pub mod invite;
pub mod oauth;
pub mod status;

use crate::context::AppState;
use crate::xrpc::error::XrpcError;
use axum::Router;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::IncomingStream;
use pds::admin::{Access, VERSION_HEADER, paths};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::UnixListener;
use tokio_util::sync::CancellationToken;

/// The socket file's mode: owner and group may connect.
pub const SOCKET_MODE: u32 = 0o660;

/// Why the admin socket could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error("cannot create the folder of the admin socket {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "another pdsd is already serving the admin socket {0}; stop it first, or give this one \
         its own with --socket"
    )]
    InUse(PathBuf),
    #[error(
        "{0} exists and is not a socket; refusing to replace it (remove it or choose --socket)"
    )]
    NotASocket(PathBuf),
    #[error("cannot remove the stale admin socket {path}: {source}")]
    Stale {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on the admin socket {path}: {source}")]
    Bind {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot set the mode of the admin socket {path}: {source}")]
    Mode {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Who may do what, fixed when the socket is made.
#[derive(Debug, Clone)]
pub struct Policy {
    /// pdsd's own (effective) user: the owner of the socket it just created.
    pub owner_uid: u32,
    /// The socket file's group when it was made; re-read per connection, so a later
    /// `chgrp` of the socket takes effect without a restart.
    pub socket_gid: u32,
    /// The socket's path (re-read for its group).
    pub path: PathBuf,
}

impl Policy {
    fn current_gid(&self) -> u32 {
        std::fs::metadata(&self.path)
            .map(|m| m.gid())
            .unwrap_or(self.socket_gid)
    }
}

/// The peer's credentials as the kernel reported them when it connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cred {
    pub uid: u32,
    pub gid: u32,
    pub pid: Option<i32>,
}

/// Connection info for the router: the peer's credentials, if the kernel gave them.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub Option<Cred>);

impl Connected<IncomingStream<'_, UnixListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, UnixListener>) -> Self {
        Peer(stream.io().peer_cred().ok().map(|c| Cred {
            uid: c.uid(),
            gid: c.gid(),
            pid: c.pid(),
        }))
    }
}

/// Decide what a peer may do. `groups` are the peer's supplementary groups (empty when
/// unknown). Pure, so it is tested without sockets or other users.
pub fn decide(peer: &Cred, owner_uid: u32, socket_gid: u32, groups: &[u32]) -> Option<Access> {
    if peer.uid == 0 || peer.uid == owner_uid {
        Some(Access::ReadWrite)
    } else if peer.gid == socket_gid || groups.contains(&socket_gid) {
        Some(Access::ReadOnly)
    } else {
        None
    }
}

/// The supplementary groups of process `pid`, from `/proc/<pid>/status` (Linux). Empty
/// where there is no /proc: then only the peer's primary group counts. A pid can be reused
/// after its process exits, but the peer is still connected while we look, so it is alive.
pub fn supplementary_groups(pid: i32) -> Vec<u32> {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return Vec::new();
    };
    parse_groups(&text)
}

fn parse_groups(status: &str) -> Vec<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Groups:"))
        .map(|rest| {
            rest.split_whitespace()
                .filter_map(|g| g.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The admin socket, bound and ready to serve.
#[derive(Debug)]
pub struct AdminSocket {
    listener: UnixListener,
    policy: Policy,
    /// (device, inode) of the file we made, so shutdown removes only our own socket.
    identity: (u64, u64),
}

impl AdminSocket {
    /// Create the socket at `path`: make its folder, remove a stale socket (one that
    /// nothing answers on), bind, and set mode 0660.
    pub fn bind(path: &Path) -> Result<AdminSocket, SocketError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| SocketError::Folder {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        remove_stale(path)?;
        let listener = UnixListener::bind(path).map_err(|source| SocketError::Bind {
            path: path.to_path_buf(),
            source,
        })?;
        let mode_err = |source| SocketError::Mode {
            path: path.to_path_buf(),
            source,
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(SOCKET_MODE))
            .map_err(mode_err)?;
        let meta = std::fs::metadata(path).map_err(mode_err)?;
        Ok(AdminSocket {
            listener,
            policy: Policy {
                owner_uid: meta.uid(),
                socket_gid: meta.gid(),
                path: path.to_path_buf(),
            },
            identity: (meta.dev(), meta.ino()),
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.policy.path
    }

    /// Serve the admin API until `shutdown`, then remove the socket file (if it is still ours).
    pub async fn serve(self, state: AppState, shutdown: CancellationToken) {
        let AdminSocket {
            listener,
            policy,
            identity,
        } = self;
        let path = policy.path.clone();
        let app = router(state, Arc::new(policy));
        if let Err(e) = axum::serve(listener, app.into_make_service_with_connect_info::<Peer>())
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
        {
            tracing::error!(error = %e, "admin socket server failed");
        }
        if let Ok(meta) = std::fs::symlink_metadata(&path)
            && (meta.dev(), meta.ino()) == identity
        {
            let _ = std::fs::remove_file(&path);
        }
    }
}

fn remove_stale(path: &Path) -> Result<(), SocketError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(_) => return Ok(()),
    };
    if !meta.file_type().is_socket() {
        return Err(SocketError::NotASocket(path.to_path_buf()));
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(SocketError::InUse(path.to_path_buf())),
        Err(_) => std::fs::remove_file(path).map_err(|source| SocketError::Stale {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The one path -> handler table of the admin API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(paths::STATUS, get(status::status))
        .route(paths::INVITE_CREATE, post(invite::create))
        .route(paths::ACCOUNT_CREATE, post(account::create))
        .route(paths::ACCOUNT_LIST, get(account::list))
        .route(paths::ACCOUNT_SHOW, get(account::show))
        .route(paths::ACCOUNT_DEACTIVATE, post(account::deactivate))
        .route(paths::ACCOUNT_ACTIVATE, post(account::activate))
        .route(paths::ACCOUNT_DELETE, post(account::delete))
        .route(paths::ACCOUNT_RESET_PASSWORD, post(account::reset_password))
        .route(paths::ACCOUNT_TAKEDOWN, post(account::takedown))
        .route(paths::ACCOUNT_UNTAKEDOWN, post(account::untakedown))
        .route(paths::DID_SHOW, get(did::show))
        .route(paths::DID_ROTATE_SIGNING_KEY, post(did::rotate_signing_key))
        .route(paths::EXPORT_MANIFEST, get(export::manifest))
        .route(paths::EXPORT_REPO, get(export::repo))
        .route(paths::EXPORT_BLOB, get(export::blob))
        .route(paths::IMPORT_START, post(import::start))
        .route(paths::IMPORT_IDENTITY, post(import::identity))
        .route(paths::IMPORT_REPO, post(import::repo))
        .route(paths::IMPORT_BLOB, post(import::blob))
        .route(paths::OAUTH_LIST, get(oauth::list))
        .route(paths::OAUTH_REVOKE, post(oauth::revoke))
        .route(paths::IMPORT_FINISH, post(import::finish))
}

/// The admin router with its fences: permission check, then the version header on every
/// answer (refusals included).
pub fn router(state: AppState, policy: Arc<Policy>) -> Router {
    routes()
        .fallback(unknown_path)
        .layer(middleware::from_fn_with_state(policy, authorize))
        .layer(middleware::map_response(version_header))
        .with_state(state)
}

async fn unknown_path(req: Request) -> XrpcError {
    XrpcError::not_found(format!(
        "no admin endpoint {} {} (this pdsd {} serves {}/...); is pdsctl newer than pdsd?",
        req.method(),
        req.uri().path(),
        env!("CARGO_PKG_VERSION"),
        paths::PREFIX
    ))
}

async fn version_header(mut res: Response) -> Response {
    res.headers_mut().insert(
        VERSION_HEADER,
        HeaderValue::from_static(env!("CARGO_PKG_VERSION")),
    );
    res
}

/// Check the peer against the policy; put its [`Access`] into the request's extensions.
async fn authorize(
    State(policy): State<Arc<Policy>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(cred) = peer.0 else {
        return XrpcError::forbidden(
            "the admin socket could not read the caller's credentials; access refused",
        )
        .into_response();
    };
    let socket_gid = policy.current_gid();
    let groups = match cred.pid {
        Some(pid) if cred.gid != socket_gid && cred.uid != 0 && cred.uid != policy.owner_uid => {
            tokio::task::spawn_blocking(move || supplementary_groups(pid))
                .await
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let access = match decide(&cred, policy.owner_uid, socket_gid, &groups) {
        Some(a) => a,
        None => {
            tracing::warn!(uid = cred.uid, pid = ?cred.pid, "admin socket: refused a caller");
            return XrpcError::forbidden(format!(
                "uid {} may not use the pdsd admin socket: run pdsctl as root or as pdsd's user \
                 (uid {}), or join the socket's group (gid {}) for read-only access",
                cred.uid, policy.owner_uid, socket_gid
            ))
            .into_response();
        }
    };
    if access == Access::ReadOnly && !matches!(*req.method(), Method::GET | Method::HEAD) {
        return XrpcError::forbidden(format!(
            "uid {} may only read through the admin socket (it is in the socket's group, gid \
             {}); run this as root or as pdsd's user (uid {}) to change things",
            cred.uid, socket_gid, policy.owner_uid
        ))
        .into_response();
    }
    if let Some(v) = req.headers().get(VERSION_HEADER)
        && v.as_bytes() != env!("CARGO_PKG_VERSION").as_bytes()
    {
        tracing::debug!(client = ?v, "admin socket: pdsctl of another version");
    }
    req.extensions_mut().insert(access);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: u32 = 1000;
    const GROUP: u32 = 1500;

    fn cred(uid: u32, gid: u32) -> Cred {
        Cred {
            uid,
            gid,
            pid: None,
        }
    }

    #[test]
    fn root_and_the_owner_may_change_things() {
        assert_eq!(
            decide(&cred(0, 0), OWNER, GROUP, &[]),
            Some(Access::ReadWrite)
        );
        assert_eq!(
            decide(&cred(OWNER, 7), OWNER, GROUP, &[]),
            Some(Access::ReadWrite)
        );
    }

    #[test]
    fn group_members_may_only_read() {
        assert_eq!(
            decide(&cred(2000, GROUP), OWNER, GROUP, &[]),
            Some(Access::ReadOnly)
        );
        assert_eq!(
            decide(&cred(2000, 2000), OWNER, GROUP, &[10, GROUP]),
            Some(Access::ReadOnly)
        );
    }

    #[test]
    fn everyone_else_is_refused() {
        assert_eq!(decide(&cred(2000, 2000), OWNER, GROUP, &[10, 11]), None);
        assert_eq!(decide(&cred(65534, 65534), OWNER, GROUP, &[]), None);
    }

    #[test]
    fn groups_line_of_proc_status_is_parsed() {
        let status =
            "Name:\tbash\nUid:\t1000\t1000\t1000\t1000\nGroups:\t4 24 27 1500 \nNgid:\t0\n";
        assert_eq!(parse_groups(status), vec![4, 24, 27, 1500]);
        assert_eq!(parse_groups("Groups:\n"), Vec::<u32>::new());
        assert_eq!(parse_groups("Name: x\n"), Vec::<u32>::new());
    }

    #[test]
    fn own_process_groups_are_readable() {
        // Our own pid is alive; on Linux its Groups: line exists (possibly empty).
        let pid = std::process::id() as i32;
        let from_proc = supplementary_groups(pid);
        if Path::new("/proc/self/status").exists() {
            let text = std::fs::read_to_string("/proc/self/status").expect("read");
            assert_eq!(from_proc, parse_groups(&text));
        }
    }

    #[tokio::test]
    async fn bind_sets_mode_refuses_live_sockets_and_replaces_stale_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub").join("admin.sock");
        let sock = AdminSocket::bind(&path).expect("bind");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, SOCKET_MODE);
        // A second daemon must not steal a live socket.
        match AdminSocket::bind(&path) {
            Err(SocketError::InUse(p)) => assert_eq!(p, path),
            other => panic!("expected InUse, got {other:?}"),
        }
        // Once the first is gone (without cleaning up), the leftover file is stale.
        drop(sock);
        assert!(path.exists());
        let again = AdminSocket::bind(&path).expect("rebind over a stale socket");
        assert_eq!(again.path(), path);
        // A regular file is never removed.
        let file = dir.path().join("not-a-socket");
        std::fs::write(&file, b"keep me").expect("write");
        assert!(matches!(
            AdminSocket::bind(&file),
            Err(SocketError::NotASocket(_))
        ));
        assert_eq!(std::fs::read(&file).expect("read"), b"keep me");
    }
}
