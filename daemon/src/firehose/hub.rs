//! Live fan-out and replay.
//!
//! Frames are published after their transaction commits into a bounded broadcast ring;
//! each subscriber reads the ring at its own pace. A subscriber with a cursor first
//! subscribes to the ring, then replays committed events from the database, then
//! continues with the ring, skipping what it already sent: no gap and no duplicate. A
//! subscriber that falls more than the ring's size behind gets `ConsumerTooSlow` and is
//! closed; writers never wait.

use super::events;
use crate::config::FirehoseConfig;
use crate::store::{Db, DbError};
use bytes::Bytes;
use rusqlite::params;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tokio::sync::broadcast;

/// One sequenced frame.
#[derive(Debug, Clone)]
pub struct Frame {
    pub seq: i64,
    pub bytes: Bytes,
}

/// Where a subscription writes; `false` from `send` means the consumer is gone.
pub trait FrameSink: Send {
    fn send(&mut self, frame: Bytes) -> impl std::future::Future<Output = bool> + Send;
}

/// The firehose hub; cheap to clone.
#[derive(Clone)]
pub struct Firehose {
    inner: Arc<Inner>,
}

struct Inner {
    tx: broadcast::Sender<Frame>,
    db: Db,
    backfill: chrono::Duration,
    last_seq: AtomicI64,
    loaded: std::sync::OnceLock<()>,
}

impl std::fmt::Debug for Firehose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Firehose(last_seq={})", self.latest_seq())
    }
}

const REPLAY_BATCH: i64 = 500;

impl Firehose {
    /// A hub over the database's `repo_seq`.
    pub fn new(db: Db, cfg: &FirehoseConfig) -> Self {
        let (tx, _) = broadcast::channel(cfg.subscriber_buffer.max(16));
        Firehose {
            inner: Arc::new(Inner {
                tx,
                db,
                backfill: chrono::Duration::hours(cfg.backfill_hours.min(24 * 365) as i64),
                last_seq: AtomicI64::new(0),
                loaded: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Read the last sequence number from the database (once, at start-up).
    pub async fn load(&self) -> Result<(), DbError> {
        let last: i64 = self
            .inner
            .db
            .read(|c| {
                c.query_row("SELECT COALESCE(MAX(seq), 0) FROM repo_seq", [], |r| {
                    r.get(0)
                })
                .map_err(DbError::from)
            })
            .await?;
        self.inner.last_seq.fetch_max(last, Ordering::SeqCst);
        let _ = self.inner.loaded.set(());
        Ok(())
    }

    /// The newest committed sequence number (0 when nothing was ever sequenced).
    pub fn latest_seq(&self) -> i64 {
        self.inner.last_seq.load(Ordering::SeqCst)
    }

    /// Called after a commit: hand the frame to live subscribers.
    pub fn publish(&self, seq: i64, frame: Vec<u8>) {
        self.inner.last_seq.fetch_max(seq, Ordering::SeqCst);
        // No receivers is fine: the frame is in the database for later replays.
        let _ = self.inner.tx.send(Frame {
            seq,
            bytes: Bytes::from(frame),
        });
    }

    async fn replay_batch(&self, after: i64, not_before: String) -> Result<Vec<Frame>, DbError> {
        self.inner
            .db
            .read(move |c| {
                let mut st = c.prepare_cached(
                    "SELECT seq, event FROM repo_seq WHERE seq > ?1 AND sequenced_at >= ?2 \
                     ORDER BY seq LIMIT ?3",
                )?;
                let rows = st.query_map(params![after, not_before, REPLAY_BATCH], |r| {
                    Ok(Frame {
                        seq: r.get(0)?,
                        bytes: Bytes::from(r.get::<_, Vec<u8>>(1)?),
                    })
                })?;
                rows.collect::<Result<Vec<_>, _>>().map_err(DbError::from)
            })
            .await
    }

    async fn oldest_in_window(&self, not_before: String) -> Result<Option<i64>, DbError> {
        self.inner
            .db
            .read(move |c| {
                c.query_row(
                    "SELECT MIN(seq) FROM repo_seq WHERE sequenced_at >= ?1",
                    [not_before],
                    |r| r.get::<_, Option<i64>>(0),
                )
                .map_err(DbError::from)
            })
            .await
    }

    fn window_start(&self) -> String {
        (chrono::Utc::now() - self.inner.backfill)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    /// Serve one subscriber until it goes away or falls behind.
    pub async fn serve<S: FrameSink>(&self, cursor: Option<i64>, sink: &mut S) {
        let mut rx = self.inner.tx.subscribe();
        // A subscriber that just replayed history may find the ring moved on meanwhile;
        // it may catch up from the database a few times before it counts as too slow.
        let mut catch_ups = if cursor.is_some() { 3 } else { 0 };
        let mut sent = match cursor {
            None => self.latest_seq(),
            Some(c) => {
                if c > self.latest_seq() {
                    let f = events::error_frame("FutureCursor", Some("Cursor in the future."));
                    sink.send(Bytes::from(f)).await;
                    return;
                }
                match self.replay(c, sink).await {
                    Some(last) => last,
                    None => return,
                }
            }
        };
        loop {
            match rx.recv().await {
                Ok(frame) => {
                    if frame.seq <= sent {
                        continue;
                    }
                    if !sink.send(frame.bytes).await {
                        return;
                    }
                    sent = frame.seq;
                }
                Err(broadcast::error::RecvError::Lagged(_)) if catch_ups > 0 => {
                    catch_ups -= 1;
                    rx = rx.resubscribe();
                    match self.replay_range(sent, self.window_start(), sink).await {
                        Some(last) => sent = last,
                        None => return,
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let f = events::error_frame(
                        "ConsumerTooSlow",
                        Some("Stream consumer too slow; reconnect with a cursor."),
                    );
                    sink.send(Bytes::from(f)).await;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    /// Replay committed events after `cursor`; returns the last seq sent, or None if the
    /// consumer left or the database failed.
    async fn replay<S: FrameSink>(&self, cursor: i64, sink: &mut S) -> Option<i64> {
        let not_before = self.window_start();
        let mut after = cursor;
        if let Ok(Some(oldest)) = self.oldest_in_window(not_before.clone()).await
            && cursor + 1 < oldest
            && cursor > 0
        {
            let info = events::InfoEvent {
                name: "OutdatedCursor".into(),
                message: Some("Requested cursor exceeded limit. Possibly missing events".into()),
            };
            if let Ok(f) = events::frame("#info", &info)
                && !sink.send(Bytes::from(f)).await
            {
                return None;
            }
            after = oldest - 1;
        }
        self.replay_range(after, not_before, sink).await
    }

    /// Send every committed event after `after` (within the window); returns the last seq sent.
    async fn replay_range<S: FrameSink>(
        &self,
        mut after: i64,
        not_before: String,
        sink: &mut S,
    ) -> Option<i64> {
        loop {
            let batch = match self.replay_batch(after, not_before.clone()).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "firehose replay failed");
                    return None;
                }
            };
            if batch.is_empty() {
                return Some(after);
            }
            for frame in batch {
                if !sink.send(frame.bytes).await {
                    return None;
                }
                after = frame.seq;
            }
        }
    }
}
