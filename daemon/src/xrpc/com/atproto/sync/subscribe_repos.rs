//! com.atproto.sync.subscribeRepos: the firehose over WebSocket. Each message is one
//! binary frame; the hub (crate::firehose) decides what to send.

use crate::context::AppState;
use crate::firehose::hub::FrameSink;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Params;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use bytes::Bytes;
use futures::SinkExt;
use futures::stream::{SplitSink, StreamExt};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct P {
    cursor: Option<i64>,
}

struct WsSink(SplitSink<WebSocket, Message>);

impl FrameSink for WsSink {
    async fn send(&mut self, frame: Bytes) -> bool {
        self.0.send(Message::Binary(frame)).await.is_ok()
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
    tokio::select! {
        _ = hub.serve(cursor, &mut sink) => {}
        _ = reader => {}
        _ = shutdown.cancelled() => {}
    }
    let _ = sink.0.close().await;
}
