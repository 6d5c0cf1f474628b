//! com.atproto.sync.subscribeRepos: the firehose over WebSocket. Each event is one
//! binary message; the hub (crate::firehose) decides what to send and when a consumer is
//! too slow. This handler owns only the socket: its buffer sizes, ignoring what the
//! consumer sends, and closing (after an error frame, when the consumer leaves, and
//! with "going away" when the server shuts down). Closing never waits on a consumer for
//! longer than the hub's error grace.

use crate::context::AppState;
use crate::firehose::hub::{ERROR_GRACE, End, FrameSink};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Params;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::response::Response;
use bytes::Bytes;
use futures::SinkExt;
use futures::stream::{SplitSink, StreamExt};
use serde::Deserialize;

/// Consumers send nothing but control frames; a small read buffer per connection is
/// enough, and keeps a thousand subscribers cheap.
const READ_BUFFER: usize = 4 * 1024;
/// Frames are gathered up to this size before the socket is written (a flush writes
/// whatever is gathered).
const WRITE_BUFFER: usize = 64 * 1024;

#[derive(Debug, Deserialize)]
pub struct P {
    cursor: Option<i64>,
}

struct WsSink(SplitSink<WebSocket, Message>);

impl FrameSink for WsSink {
    async fn feed(&mut self, frame: Bytes) -> bool {
        self.0.feed(Message::Binary(frame)).await.is_ok()
    }
    async fn flush(&mut self) -> bool {
        self.0.flush().await.is_ok()
    }
}

pub async fn handler(
    State(state): State<AppState>,
    Params(p): Params<P>,
    ws: WebSocketUpgrade,
) -> Result<Response, XrpcError> {
    if let Some(c) = p.cursor
        && c < 0
    {
        return Err(XrpcError::invalid("cursor must not be negative"));
    }
    Ok(ws
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| serve(state, p.cursor, socket)))
}

async fn serve(state: AppState, cursor: Option<i64>, socket: WebSocket) {
    let (tx, mut rx) = socket.split();
    let mut sink = WsSink(tx);
    let hub = state.firehose.clone();
    let shutdown = state.shutdown.clone();
    // Consumers never send anything we need; reading keeps pings answered and notices a close.
    let reader = async move { while let Some(Ok(_)) = rx.next().await {} };
    let end = tokio::select! {
        end = hub.serve(cursor, &mut sink) => end,
        _ = reader => End::Gone,
        _ = shutdown.cancelled() => End::Closed,
    };
    let close = match end {
        End::Gone => None,
        End::Closed => Some(CloseFrame {
            code: close_code::AWAY,
            reason: "server shutting down".into(),
        }),
        End::Failed => Some(CloseFrame {
            code: close_code::ERROR,
            reason: "internal error".into(),
        }),
        End::FutureCursor | End::TooSlow => Some(CloseFrame {
            code: close_code::POLICY,
            reason: if end == End::TooSlow {
                "ConsumerTooSlow".into()
            } else {
                "FutureCursor".into()
            },
        }),
    };
    if end != End::Gone {
        // A consumer that stopped reading cannot hold the task: the socket is dropped
        // (closing the TCP connection) once the grace is over.
        let _ = tokio::time::timeout(ERROR_GRACE, async {
            let _ = sink.0.send(Message::Close(close)).await;
            let _ = sink.0.close().await;
        })
        .await;
    }
}
