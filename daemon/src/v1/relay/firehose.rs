//! `GET /v1/relay/firehose`: the firehose proxy (a paid-tier feature, `firehose_proxy` in
//! the tier's limits). A WebSocket carrying this account's own events (#commit,
//! #identity, #account, #sync frames exactly as subscribeRepos sends them) from a cursor
//! the relay holds for each device: what was delivered is remembered, so a desktop that
//! slept reconnects and resumes where it stopped, without keeping a cursor itself.
//!
//! Events are read from the durable sequence (`repo_seq`), filtered by account; the loop
//! wakes when the firehose's latest sequence number moves (checked every 250 ms), so no
//! live fan-out is needed and nothing is lost across restarts.

use crate::context::AppState;
use crate::services::{blob, repo};
use crate::store::devices;
use crate::v1::auth::DeviceAuth;
use crate::v1::route::{Auth, Milestone, Response, Route, err, query_param};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Params;
use axum::extract::State;
use axum::extract::ws::{
    Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::http::{Method, StatusCode};
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

const BATCH: u32 = 500;
const POLL: Duration = Duration::from_millis(250);

#[derive(Debug, Deserialize)]
pub struct P {
    cursor: Option<i64>,
}

async fn handler(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Params(p): Params<P>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<axum::response::Response, XrpcError> {
    let account = repo::find_account(&state, &auth.device.did).await?;
    let limits = blob::tier_limits(&state, &account);
    if !limits.firehose_proxy {
        return Err(XrpcError::new(
            StatusCode::FORBIDDEN,
            "TierLimitExceeded",
            format!(
                "the {} tier does not include the firehose proxy; reconnect to com.atproto.sync.subscribeRepos with your own cursor, or change tier",
                account.tier
            ),
        ));
    }
    if let Some(c) = p.cursor
        && c < 0
    {
        return Err(XrpcError::invalid("cursor must not be negative"));
    }
    let ws = ws.map_err(|e| {
        XrpcError::invalid(format!(
            "this endpoint is a WebSocket (send an upgrade request): {e}"
        ))
    })?;
    let start = p
        .cursor
        .or(auth.device.firehose_cursor)
        .unwrap_or_else(|| state.firehose.latest_seq());
    let (device_id, did) = (auth.device.id.clone(), auth.device.did.clone());
    Ok(ws
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| serve(state, device_id, did, start, socket)))
}

async fn serve(state: AppState, device_id: String, did: String, start: i64, socket: WebSocket) {
    let (mut tx, mut rx) = socket.split();
    let mut cursor = start;
    let shutdown = state.shutdown.clone();
    let mut seen_latest = -1;
    loop {
        let (d, after) = (did.clone(), cursor);
        let batch = match state
            .db
            .read(move |c| devices::events_of(c, &d, after, BATCH))
            .await
        {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "firehose proxy read failed");
                break;
            }
        };
        let full = batch.len() as u32 == BATCH;
        let mut sent_any = false;
        for (seq, frame) in batch {
            if tx.send(Message::Binary(frame.into())).await.is_err() {
                return;
            }
            cursor = seq;
            sent_any = true;
        }
        if sent_any {
            let (id, c) = (device_id.clone(), cursor);
            if let Err(e) = state
                .db
                .write(move |t| devices::set_firehose_cursor(t.conn(), &id, c))
                .await
            {
                tracing::warn!(error = %e, "could not save a firehose proxy cursor");
            }
        }
        if full {
            continue;
        }
        // Wait until something new was sequenced (by anyone), the client leaves, or shutdown.
        loop {
            let latest = state.firehose.latest_seq();
            if latest != seen_latest && latest > cursor {
                seen_latest = latest;
                break;
            }
            seen_latest = latest;
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                msg = rx.next() => match msg {
                    Some(Ok(_)) => {}
                    _ => return,
                },
                _ = shutdown.cancelled() => {
                    let _ = tx.close().await;
                    return;
                }
            }
        }
    }
    let _ = tx.close().await;
}

/// `GET /v1/relay/firehose`.
pub fn route() -> Route {
    Route {
        method: Method::GET,
        path: "/v1/relay/firehose",
        milestone: Milestone::V1_0,
        auth: Auth::Device,
        summary: "Firehose proxy: this account's events, resumed from a cursor the relay holds",
        description: "A WebSocket (send an upgrade request) of this account's own firehose frames (#commit, #identity, \
            #account, #sync; the same binary frames as com.atproto.sync.subscribeRepos). The relay remembers, per device, \
            the last sequence number it delivered, so a sleeping desktop resumes where it stopped. The first connection \
            starts at the current end unless `cursor` is given. Only for tiers with firehose_proxy.",
        params: vec![query_param(
            "cursor",
            "start after this sequence number instead of the held cursor",
            json!({ "type": "integer", "minimum": 0 }),
        )],
        request: None,
        responses: vec![Response {
            status: 101,
            description: "Switching to the WebSocket protocol.",
            body: None,
        }],
        errors: vec![
            err(
                403,
                "TierLimitExceeded",
                "the account's tier does not include the firehose proxy",
            ),
            err(
                400,
                "InvalidRequest",
                "not a WebSocket upgrade request, or a negative cursor",
            ),
        ],
        handler: axum::routing::get(handler),
    }
}
