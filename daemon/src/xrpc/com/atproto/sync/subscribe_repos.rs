//! com.atproto.sync.subscribeRepos: the firehose over WebSocket. This handler owns the
//! connection: the upgrade handshake, writing what the hub hands it (complete WebSocket
//! messages, shared by all subscribers, see crate::firehose::wire), answering the
//! consumer's pings, and closing (after an error frame, when the consumer closes, and
//! with "going away" when the server shuts down). What to send and when a consumer is
//! too slow is the hub's business. Closing never waits on a consumer for longer than the
//! hub's error grace; then the socket is dropped.

use crate::context::AppState;
use crate::firehose::hub::{ERROR_GRACE, End, FrameSink};
use crate::firehose::wire::{self, ClientFrame};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Params;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use std::io::IoSlice;
use std::sync::Arc;
use tokio::io::{AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::Mutex;

/// Largest frame a consumer may send (they have nothing to say but pings and close).
const MAX_CLIENT_FRAME: u64 = 64 * 1024;

#[derive(Debug, Deserialize)]
pub struct P {
    cursor: Option<i64>,
}

type Io = TokioIo<hyper::upgrade::Upgraded>;

/// The write half, shared by the hub's writes and the pong/close answers of the reader
/// (each write is a whole message, so they never interleave inside one).
#[derive(Clone)]
struct Writer(Arc<Mutex<Out<WriteHalf<Io>>>>);

struct Out<W> {
    w: W,
    /// The unsent tail of a message whose write was abandoned (the hub gave up on a
    /// blocked write, or the server is shutting down): it goes first on the next write,
    /// so an error or close frame never lands inside a half-sent event.
    tail: Vec<u8>,
}

impl Writer {
    fn new(w: WriteHalf<Io>) -> Self {
        Writer(Arc::new(Mutex::new(Out {
            w,
            tail: Vec::new(),
        })))
    }

    async fn send(&self, chunks: &[&[u8]]) -> bool {
        let mut out = self.0.lock().await;
        out.send(chunks).await.is_ok()
    }

    async fn shutdown(&self) {
        let _ = self.0.lock().await.w.shutdown().await;
    }
}

impl<W: AsyncWrite + Unpin> Out<W> {
    async fn send(&mut self, chunks: &[&[u8]]) -> std::io::Result<()> {
        let tail = std::mem::take(&mut self.tail);
        let mut all: Vec<&[u8]> = Vec::with_capacity(chunks.len() + 1);
        if !tail.is_empty() {
            all.push(&tail);
        }
        all.extend(chunks.iter().copied().filter(|c| !c.is_empty()));
        let mut at = Unfinished {
            chunks: &all,
            first_is_tail: !tail.is_empty(),
            i: 0,
            off: 0,
            done: false,
            keep: &mut self.tail,
        };
        write_all_vectored(&mut self.w, &mut at).await
    }
}

struct WsSink(Writer);

impl FrameSink for WsSink {
    async fn write(&mut self, chunks: &[&[u8]]) -> bool {
        self.0.send(chunks).await
    }
}

/// How far a write got; if it is dropped before the end (the write was cancelled), the
/// rest of the message it was in the middle of is kept for the next write.
struct Unfinished<'a> {
    /// Each chunk starts at a message boundary, except a first chunk that is a tail.
    chunks: &'a [&'a [u8]],
    first_is_tail: bool,
    i: usize,
    off: usize,
    done: bool,
    keep: &'a mut Vec<u8>,
}

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if self.done || (self.off == 0 && !(self.i == 0 && self.first_is_tail)) {
            return;
        }
        let Some(chunk) = self.chunks.get(self.i) else {
            return;
        };
        let end = if self.i == 0 && self.first_is_tail {
            chunk.len()
        } else {
            wire::end_of_message_at(chunk, self.off)
        };
        if let Some(rest) = chunk.get(self.off..end) {
            self.keep.extend_from_slice(rest);
        }
    }
}

/// Write every chunk, in order, with as few system calls as the socket allows.
async fn write_all_vectored<W: AsyncWrite + Unpin>(
    w: &mut W,
    at: &mut Unfinished<'_>,
) -> std::io::Result<()> {
    let chunks = at.chunks;
    while at.i < chunks.len() {
        let first = chunks
            .get(at.i)
            .map_or(&[][..], |c| c.get(at.off..).unwrap_or_default());
        let mut slices = Vec::with_capacity((chunks.len() - at.i).min(64));
        slices.push(IoSlice::new(first));
        slices.extend(
            chunks
                .iter()
                .skip(at.i + 1)
                .take(63)
                .map(|c| IoSlice::new(c)),
        );
        let mut n = w.write_vectored(&slices).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        // Advance past what was written.
        while n > 0 {
            let Some(c) = chunks.get(at.i) else { break };
            let left = c.len() - at.off;
            if n >= left {
                n -= left;
                at.i += 1;
                at.off = 0;
            } else {
                at.off += n;
                n = 0;
            }
        }
    }
    at.done = true;
    w.flush().await
}

/// The `Sec-WebSocket-Key` of a valid upgrade request (RFC 6455 §4.2.1).
fn websocket_key(h: &HeaderMap) -> Result<Vec<u8>, XrpcError> {
    let has_token = |name: header::HeaderName, token: &str| {
        h.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    if !has_token(header::UPGRADE, "websocket") || !has_token(header::CONNECTION, "upgrade") {
        return Err(XrpcError::new(
            StatusCode::UPGRADE_REQUIRED,
            "InvalidRequest",
            "subscribeRepos is a WebSocket stream: upgrade the connection",
        ));
    }
    if h.get(header::SEC_WEBSOCKET_VERSION).map(|v| v.as_bytes()) != Some(b"13") {
        return Err(XrpcError::invalid(
            "unsupported Sec-WebSocket-Version (13 is)",
        ));
    }
    h.get(header::SEC_WEBSOCKET_KEY)
        .map(|k| k.as_bytes().to_vec())
        .filter(|k| !k.is_empty())
        .ok_or_else(|| XrpcError::invalid("missing Sec-WebSocket-Key"))
}

pub async fn handler(
    State(state): State<AppState>,
    Params(p): Params<P>,
    mut req: Request,
) -> Result<Response, XrpcError> {
    if let Some(c) = p.cursor
        && c < 0
    {
        return Err(XrpcError::invalid("cursor must not be negative"));
    }
    let key = websocket_key(req.headers())?;
    let on_upgrade = req
        .extensions_mut()
        .remove::<hyper::upgrade::OnUpgrade>()
        .ok_or_else(|| XrpcError::internal("the connection cannot be upgraded"))?;
    let accept = HeaderValue::from_str(&wire::accept_key(&key)).map_err(XrpcError::internal)?;
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => serve(state, p.cursor, TokioIo::new(upgraded)).await,
            Err(e) => tracing::debug!(error = %e, "firehose upgrade failed"),
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .body(Body::empty())
        .map_err(XrpcError::internal)
}

/// Read what the consumer sends: answer pings, and end on close or on a protocol error
/// (answering with a close frame where one is due).
async fn read_loop(mut r: ReadHalf<Io>, w: Writer) {
    loop {
        match wire::read_frame(&mut r, MAX_CLIENT_FRAME).await {
            Ok(ClientFrame::Ping(p)) => {
                if !w.send(&[&wire::pong(&p)]).await {
                    return;
                }
            }
            Ok(ClientFrame::Pong | ClientFrame::Data) => {}
            Ok(ClientFrame::Close(_)) => {
                w.send(&[&wire::close(wire::CLOSE_NORMAL, "")]).await;
                return;
            }
            Err(e) => {
                if let Some(code) = e.close_code() {
                    w.send(&[&wire::close(code, &e.to_string())]).await;
                }
                return;
            }
        }
    }
}

async fn serve(state: AppState, cursor: Option<i64>, io: Io) {
    // Declared first, dropped last: counts until the socket is gone.
    let _open = state.firehose.connection();
    let (r, w) = tokio::io::split(io);
    let writer = Writer::new(w);
    let mut sink = WsSink(writer.clone());
    let hub = state.firehose.clone();
    let shutdown = state.shutdown.clone();
    let end = tokio::select! {
        end = hub.serve(cursor, &mut sink) => end,
        _ = read_loop(r, writer.clone()) => End::Gone,
        _ = shutdown.cancelled() => End::Closed,
    };
    let close = match end {
        End::Gone => None,
        End::Closed => Some(wire::close(wire::CLOSE_GOING_AWAY, "server shutting down")),
        End::Failed => Some(wire::close(wire::CLOSE_INTERNAL, "internal error")),
        End::TooSlow => Some(wire::close(wire::CLOSE_POLICY, "ConsumerTooSlow")),
        End::FutureCursor => Some(wire::close(wire::CLOSE_POLICY, "FutureCursor")),
    };
    // A consumer that stopped reading cannot hold the task: after the grace the socket is
    // dropped, which closes the TCP connection.
    let _ = tokio::time::timeout(ERROR_GRACE, async {
        if let Some(c) = close {
            writer.send(&[&c]).await;
        }
        writer.shutdown().await;
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn an_abandoned_write_is_finished_to_a_message_boundary_before_the_next() {
        let (client, server) = tokio::io::duplex(1024);
        let mut out = Out {
            w: server,
            tail: Vec::new(),
        };
        let mut events = Vec::new();
        for n in 0..4u8 {
            wire::push_binary(&mut events, &vec![n; 3000]);
        }
        // Nobody reads: the write blocks inside the first event and is given up.
        let cut =
            tokio::time::timeout(std::time::Duration::from_millis(50), out.send(&[&events])).await;
        assert!(cut.is_err(), "the write should have blocked");
        assert!(!out.tail.is_empty() && out.tail.len() < 3004);
        // The close frame goes after the rest of that event only.
        let reader = tokio::spawn(async move {
            let mut c = client;
            let mut got = Vec::new();
            c.read_to_end(&mut got).await.map(|_| got)
        });
        out.send(&[&wire::close(wire::CLOSE_POLICY, "ConsumerTooSlow")])
            .await
            .expect("send");
        out.w.shutdown().await.expect("shutdown");
        drop(out);
        let got = reader.await.expect("task").expect("read");
        let msgs = wire::payloads(&got);
        assert_eq!(msgs.len(), 2, "one whole event, then close");
        assert_eq!(msgs[0], (2, vec![0u8; 3000]));
        assert_eq!(msgs[1].0, 8);
        assert_eq!(&msgs[1].1[..2], &wire::CLOSE_POLICY.to_be_bytes());
    }
}
