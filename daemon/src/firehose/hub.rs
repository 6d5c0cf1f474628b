//! Live fan-out, replay from the database, and the backfill window.
//!
//! Frames are encoded once by the sequencer. Right after their transaction commits, the
//! database writer frames each as a WebSocket message, ready to send (see `wire`), and
//! puts it into one bounded broadcast ring shared by every subscriber. A subscriber
//! writes the events it has not sent yet straight from the shared buffers to its socket,
//! with one vectored write for everything that is waiting: per subscriber, a burst of
//! commits costs one reference count per event and one system call, and no copy or
//! re-framing.
//!
//! A subscriber with a cursor subscribes to the ring first, then replays committed events
//! from `repo_seq`, then continues with the ring, skipping what it already sent: no gap
//! and no duplicate. A live subscriber that falls more than `subscriber_buffer` events
//! behind the head is dropped with `ConsumerTooSlow`, even while its socket is blocked
//! (a watch on the head wakes it); a replaying subscriber whose socket accepts nothing
//! for [`STALL_TIMEOUT`] is dropped the same way. Writers never wait for subscribers.
//!
//! The backfill window is kept by [`Firehose::prune`]: rows older than the window are
//! deleted in small transactions, and `pruned_through` (the highest seq no longer kept)
//! is raised *before* they go, so a replay that finds `cursor < pruned_through` knows it
//! missed events and says so with `#info OutdatedCursor` before resuming at the oldest
//! kept event. This module does not encode events (see `events`) nor decide what is
//! sequenced (see `sequencer` and the services), and owns no socket (see [`FrameSink`]).

use super::{events, wire};
use crate::config::FirehoseConfig;
use crate::store::{Db, DbError};
use rusqlite::{OptionalExtension, params};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// One committed event in the ring, framed for the wire.
#[derive(Debug)]
pub struct Framed {
    seq: i64,
    /// Its complete WebSocket message.
    wire: Vec<u8>,
}

/// Where a subscription writes: `write` sends the chunks in order, whole, and says
/// `false` when the consumer is gone. Chunks are complete WebSocket messages.
pub trait FrameSink: Send {
    fn write(&mut self, chunks: &[&[u8]]) -> impl std::future::Future<Output = bool> + Send;
}

/// Why a subscription ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The consumer closed the connection or a write failed.
    Gone,
    /// The cursor was ahead of the stream; an error frame was sent.
    FutureCursor,
    /// The consumer fell too far behind; an error frame was sent (if it could be).
    TooSlow,
    /// The hub is shutting down.
    Closed,
    /// Reading the database failed.
    Failed,
}

/// A replaying subscriber whose socket takes nothing for this long is dropped.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an error frame may take to leave before the connection is dropped anyway.
pub const ERROR_GRACE: Duration = Duration::from_secs(5);
/// Rows read from the database per replay query...
const REPLAY_BATCH: i64 = 500;
/// ... and at most about this many bytes.
const REPLAY_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// A live subscriber writes at most about this much at once.
const MAX_WRITE_BYTES: usize = 4 * 1024 * 1024;
/// Database catch-ups a replaying subscriber may need before it counts as too slow.
const MAX_CATCH_UPS: u32 = 8;
/// Rows deleted per pruning transaction (writers wait for at most one such batch).
const PRUNE_CHUNK: i64 = 5_000;

/// The firehose hub; cheap to clone.
#[derive(Clone)]
pub struct Firehose {
    inner: Arc<Inner>,
}

struct Inner {
    tx: broadcast::Sender<Arc<Framed>>,
    /// The newest seq in the ring, watched by subscribers blocked in a write.
    head: watch::Sender<i64>,
    /// Set once, by the first event published since start (requestCrawl waits for it).
    first_write: watch::Sender<bool>,
    db: Db,
    backfill: chrono::Duration,
    buffer: usize,
    last_seq: AtomicI64,
    pruned_through: AtomicI64,
    /// Open subscriber connections (see [`Firehose::connection`]).
    connections: watch::Sender<usize>,
}

/// Counts one open subscriber connection until dropped.
#[derive(Debug)]
pub struct Connection {
    count: watch::Sender<usize>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.count.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl std::fmt::Debug for Firehose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Firehose(last_seq={}, pruned_through={}, subscribers={})",
            self.latest_seq(),
            self.pruned_through(),
            self.subscribers()
        )
    }
}

impl Firehose {
    /// A hub over the database's `repo_seq`.
    pub fn new(db: Db, cfg: &FirehoseConfig) -> Self {
        let buffer = cfg.subscriber_buffer.clamp(16, 1 << 20);
        // The ring holds one entry per event: the last `buffer` events.
        let (tx, _) = broadcast::channel(buffer);
        Firehose {
            inner: Arc::new(Inner {
                tx,
                head: watch::Sender::new(0),
                first_write: watch::Sender::new(false),
                db,
                backfill: chrono::Duration::hours(cfg.backfill_hours.min(24 * 365 * 10) as i64),
                buffer,
                last_seq: AtomicI64::new(0),
                pruned_through: AtomicI64::new(0),
                connections: watch::Sender::new(0),
            }),
        }
    }

    /// Read the stream position from the database (once, at start-up): the last seq ever
    /// handed out (kept by SQLite's AUTOINCREMENT even when every row was pruned), and
    /// the highest seq that is no longer kept.
    pub async fn load(&self) -> Result<(), DbError> {
        let (last, oldest): (i64, Option<i64>) = self
            .inner
            .db
            .read(|c| {
                let ever: Option<i64> = c
                    .query_row(
                        "SELECT seq FROM sqlite_sequence WHERE name = 'repo_seq'",
                        [],
                        |r| r.get(0),
                    )
                    .optional()?;
                let (max, min): (Option<i64>, Option<i64>) =
                    c.query_row("SELECT MAX(seq), MIN(seq) FROM repo_seq", [], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?;
                Ok::<_, DbError>((ever.unwrap_or(0).max(max.unwrap_or(0)), min))
            })
            .await?;
        self.inner.last_seq.fetch_max(last, Ordering::SeqCst);
        self.inner.head.send_if_modified(|h| {
            let moved = last > *h;
            *h = (*h).max(last);
            moved
        });
        let pruned = match oldest {
            Some(o) => o - 1,
            None => last,
        };
        self.inner
            .pruned_through
            .fetch_max(pruned, Ordering::SeqCst);
        Ok(())
    }

    /// The newest committed sequence number (0 when nothing was ever sequenced).
    pub fn latest_seq(&self) -> i64 {
        self.inner.last_seq.load(Ordering::SeqCst)
    }

    /// The highest seq that can no longer be replayed (0 when nothing was pruned).
    pub fn pruned_through(&self) -> i64 {
        self.inner.pruned_through.load(Ordering::SeqCst)
    }

    /// How many subscribers are reading the ring.
    pub fn subscribers(&self) -> usize {
        self.inner.tx.receiver_count()
    }

    /// Count a subscriber connection for as long as the guard lives (its socket included),
    /// so that shutdown can wait for the close frames to leave.
    pub fn connection(&self) -> Connection {
        self.inner.connections.send_modify(|n| *n += 1);
        Connection {
            count: self.inner.connections.clone(),
        }
    }

    /// Wait (at most `limit`) until no subscriber connection is open.
    pub async fn all_closed(&self, limit: Duration) -> bool {
        let mut rx = self.inner.connections.subscribe();
        tokio::time::timeout(limit, rx.wait_for(|n| *n == 0))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Becomes `true` once anything was sequenced since start.
    pub fn first_write(&self) -> watch::Receiver<bool> {
        self.inner.first_write.subscribe()
    }

    /// Called after a commit, in seq order (from the database writer): put the frame,
    /// framed for the wire, into the ring at once. Never blocks on subscribers (a
    /// broadcast send only wakes those waiting), and no task stands between the commit
    /// and the ring: under load, a publisher task would wait its turn behind the
    /// subscribers it feeds, delaying every event by about one round of fan-out.
    pub fn publish(&self, seq: i64, frame: Vec<u8>) {
        self.inner.last_seq.fetch_max(seq, Ordering::SeqCst);
        let mut framed = Framed {
            seq,
            wire: Vec::with_capacity(frame.len() + 10),
        };
        wire::push_binary(&mut framed.wire, &frame);
        // No receivers is fine: the frames are in the database for later replays.
        let _ = self.inner.tx.send(Arc::new(framed));
        self.inner.head.send_if_modified(|h| {
            let moved = seq > *h;
            *h = (*h).max(seq);
            moved
        });
        if !*self.inner.first_write.borrow() {
            self.inner.first_write.send_replace(true);
        }
    }

    /// Serve one subscriber until it leaves, falls behind, or the hub closes. Error
    /// frames (FutureCursor, ConsumerTooSlow) are sent here; closing is the caller's.
    pub async fn serve<S: FrameSink>(&self, cursor: Option<i64>, sink: &mut S) -> End {
        // Subscribe before reading the database so that nothing committed in between is
        // missed; what the ring repeats is skipped by seq.
        let mut rx = self.inner.tx.subscribe();
        let mut head = self.inner.head.subscribe();
        let mut sent = match cursor {
            None => self.latest_seq(),
            Some(c) if c > self.latest_seq() => {
                let f = events::error_frame("FutureCursor", Some("Cursor in the future."));
                send_error(sink, &f).await;
                return End::FutureCursor;
            }
            Some(c) => match self.replay_range(c, sink).await {
                Ok(last) => last,
                Err(end) => return end,
            },
        };
        let mut catch_ups = if cursor.is_some() { MAX_CATCH_UPS } else { 0 };
        let limit = self.inner.buffer as i64;
        let mut waiting: Vec<Arc<Framed>> = Vec::new();
        loop {
            waiting.clear();
            let mut lagged = false;
            match rx.recv().await {
                Ok(f) => waiting.push(f),
                Err(broadcast::error::RecvError::Lagged(_)) => lagged = true,
                Err(broadcast::error::RecvError::Closed) => return End::Closed,
            }
            // Take whatever else is already waiting, so a burst is written at once.
            let mut bytes: usize = waiting.iter().map(|f| f.wire.len()).sum();
            while !lagged && bytes < MAX_WRITE_BYTES {
                match rx.try_recv() {
                    Ok(f) => {
                        bytes += f.wire.len();
                        waiting.push(f);
                    }
                    Err(broadcast::error::TryRecvError::Lagged(_)) => lagged = true,
                    Err(_) => break,
                }
            }
            let last = waiting.iter().map(|f| f.seq).max().unwrap_or(0);
            if last > sent {
                let chunks: Vec<&[u8]> = waiting
                    .iter()
                    .filter(|f| f.seq > sent)
                    .map(|f| f.wire.as_slice())
                    .collect();
                let written = tokio::select! {
                    biased;
                    ok = sink.write(&chunks) => ok,
                    _ = lagging(&mut head, sent, limit) => false,
                };
                if !written {
                    // Either the consumer is gone or it fell behind while blocked.
                    return if self.latest_seq() - sent > limit {
                        self.too_slow(sink).await
                    } else {
                        End::Gone
                    };
                }
                sent = last;
            }
            if lagged {
                // The ring moved past this subscriber. One that just replayed history may
                // catch up from the database (it is only behind by what arrived during
                // its replay); a live one is too slow.
                if catch_ups == 0 {
                    return self.too_slow(sink).await;
                }
                catch_ups -= 1;
                rx = self.inner.tx.subscribe();
                sent = match self.replay_range(sent, sink).await {
                    Ok(last) => last,
                    Err(end) => return end,
                };
            }
        }
    }

    async fn too_slow<S: FrameSink>(&self, sink: &mut S) -> End {
        let f = events::error_frame(
            "ConsumerTooSlow",
            Some("Stream consumer too slow; reconnect with a cursor."),
        );
        send_error(sink, &f).await;
        End::TooSlow
    }

    /// Send every kept event after `after`, announcing with `#info OutdatedCursor` when
    /// some of them were pruned; returns the last seq sent (or skipped as pruned).
    async fn replay_range<S: FrameSink>(&self, mut after: i64, sink: &mut S) -> Result<i64, End> {
        loop {
            let mut batch = match self.replay_batch(after).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "firehose replay failed");
                    return Err(End::Failed);
                }
            };
            // Read the watermark after the rows: pruning raises it before deleting, so a
            // deletion that this read could have missed is visible here.
            let pruned = self.pruned_through();
            let exhausted = batch.is_empty();
            if pruned > after {
                let info = events::InfoEvent {
                    name: "OutdatedCursor".into(),
                    message: Some(
                        "Requested cursor exceeded limit. Possibly missing events".into(),
                    ),
                };
                let frame = events::frame("#info", &info).map_err(|_| End::Failed)?;
                self.write_replayed(sink, &wire::binary(&frame)).await?;
                batch.retain(|(seq, _)| *seq > pruned);
                after = pruned;
            }
            if exhausted {
                return Ok(after);
            }
            if let Some(last) = batch.last().map(|f| f.0) {
                let mut out = Vec::with_capacity(batch.iter().map(|f| f.1.len() + 10).sum());
                for (_, frame) in &batch {
                    wire::push_binary(&mut out, frame);
                }
                self.write_replayed(sink, &out).await?;
                after = last;
            }
        }
    }

    /// Write replayed messages; a socket that takes nothing for [`STALL_TIMEOUT`] ends the
    /// stream with `ConsumerTooSlow`.
    async fn write_replayed<S: FrameSink>(&self, sink: &mut S, bytes: &[u8]) -> Result<(), End> {
        match tokio::time::timeout(STALL_TIMEOUT, sink.write(&[bytes])).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(End::Gone),
            Err(_) => Err(self.too_slow(sink).await),
        }
    }

    async fn replay_batch(&self, after: i64) -> Result<Vec<(i64, Vec<u8>)>, DbError> {
        // Only what was published: an event committed a moment ago may not be on disk
        // yet (see `store::sqlite`); it reaches the subscriber live once it is.
        let published = self.latest_seq();
        self.inner
            .db
            .read(move |c| {
                let mut st = c.prepare_cached(
                    "SELECT seq, event FROM repo_seq WHERE seq > ?1 AND seq <= ?3
                     ORDER BY seq LIMIT ?2",
                )?;
                let rows = st.query_map(params![after, REPLAY_BATCH, published], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
                })?;
                // Bounded by bytes too: one replaying subscriber holds at most one batch.
                let mut out = Vec::new();
                let mut bytes = 0usize;
                for row in rows {
                    let f = row?;
                    bytes += f.1.len();
                    out.push(f);
                    if bytes >= REPLAY_BATCH_BYTES {
                        break;
                    }
                }
                Ok(out)
            })
            .await
    }

    /// Delete events older than the backfill window; returns how many rows went.
    pub async fn prune(&self) -> Result<u64, DbError> {
        let cutoff = (chrono::Utc::now() - self.inner.backfill)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let bound: Option<i64> = self
            .inner
            .db
            .read(move |c| {
                c.query_row(
                    "SELECT MAX(seq) FROM repo_seq WHERE sequenced_at <= ?1",
                    [cutoff],
                    |r| r.get(0),
                )
                .map_err(DbError::from)
            })
            .await?;
        let Some(bound) = bound else { return Ok(0) };
        // Announce first: a replay that reads after this point treats everything up to
        // `bound` as gone, even if some rows are still there for a moment.
        self.inner.pruned_through.fetch_max(bound, Ordering::SeqCst);
        let mut total = 0u64;
        loop {
            let n = self
                .inner
                .db
                .write(move |tx| {
                    tx.conn()
                        .execute(
                            "DELETE FROM repo_seq WHERE seq IN \
                             (SELECT seq FROM repo_seq WHERE seq <= ?1 ORDER BY seq LIMIT ?2)",
                            params![bound, PRUNE_CHUNK],
                        )
                        .map_err(DbError::from)
                })
                .await?;
            total += n as u64;
            if (n as i64) < PRUNE_CHUNK {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }

    /// Prune every `every` (the first time after one interval), until `shutdown`.
    pub async fn run_pruner(self, every: Duration, shutdown: tokio_util::sync::CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            match self.prune().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    rows = n,
                    pruned_through = self.pruned_through(),
                    "pruned firehose events older than the backfill window"
                ),
                Err(e) => tracing::warn!(error = %e, "cannot prune the firehose"),
            }
        }
    }
}

/// Resolves once the head is more than `limit` events past `pos`.
async fn lagging(head: &mut watch::Receiver<i64>, pos: i64, limit: i64) {
    if head.wait_for(|h| h - pos > limit).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Send an error frame and give it [`ERROR_GRACE`] to leave.
async fn send_error<S: FrameSink>(sink: &mut S, frame: &[u8]) {
    let framed = wire::binary(frame);
    let _ = tokio::time::timeout(ERROR_GRACE, sink.write(&[&framed])).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firehose::sequencer::{self, Pending};
    use std::sync::Mutex;

    /// Keeps every message written, as payloads.
    #[derive(Clone, Default)]
    struct VecSink {
        flushed: Arc<Mutex<Vec<Vec<u8>>>>,
    }

    impl FrameSink for VecSink {
        async fn write(&mut self, chunks: &[&[u8]]) -> bool {
            let mut got = self.flushed.lock().expect("lock");
            for c in chunks {
                for (op, payload) in wire::payloads(c) {
                    assert_eq!(op, 2, "binary messages only");
                    got.push(payload);
                }
            }
            true
        }
    }

    /// Takes `accept` writes, then blocks forever (a consumer that stopped reading).
    struct StalledSink {
        accept: usize,
        taken: usize,
    }

    impl FrameSink for StalledSink {
        async fn write(&mut self, _chunks: &[&[u8]]) -> bool {
            if self.taken >= self.accept {
                std::future::pending::<()>().await;
            }
            self.taken += 1;
            true
        }
    }

    /// The header and body of a frame (the header is the shortest prefix that decodes).
    fn split(frame: &[u8]) -> (pds::data::Value, pds::data::Value) {
        for n in 1..frame.len().min(64) {
            if let Ok(h) = pds::data::cbor::decode_value(&frame[..n]) {
                let b = pds::data::cbor::decode_value(&frame[n..]).expect("body");
                return (h, b);
            }
        }
        panic!("no header")
    }

    fn get<'a>(v: &'a pds::data::Value, k: &str) -> Option<&'a pds::data::Value> {
        match v {
            pds::data::Value::Map(m) => m.get(k),
            _ => None,
        }
    }

    fn seq_of(frame: &[u8]) -> Option<i64> {
        match get(&split(frame).1, "seq") {
            Some(pds::data::Value::Integer(i)) => i64::try_from(*i).ok(),
            _ => None,
        }
    }

    fn hub(dir: &tempfile::TempDir, backfill_hours: u64, buffer: usize) -> Firehose {
        let db = Db::open(&dir.path().join("t.sqlite")).expect("db");
        Firehose::new(
            db,
            &FirehoseConfig {
                backfill_hours,
                relays: vec![],
                subscriber_buffer: buffer,
            },
        )
    }

    /// Sequence one #identity event through the real sequencer (durable, then published).
    async fn append(h: &Firehose, n: usize) -> i64 {
        let hub = h.clone();
        h.inner
            .db
            .write(move |tx| {
                sequencer::append(
                    tx,
                    &hub,
                    Pending::Identity {
                        did: format!("did:plc:test{n}"),
                        handle: None,
                    },
                )
            })
            .await
            .expect("append")
    }

    async fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !f() {
            assert!(std::time::Instant::now() < deadline, "timed out: {what}");
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replay_joins_the_live_tail_without_gap_or_duplicate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let h = hub(&dir, 72, 16);
        h.load().await.expect("load");
        const N: usize = 400;
        let writer = {
            let h = h.clone();
            tokio::spawn(async move {
                for n in 0..N {
                    append(&h, n).await;
                }
            })
        };
        // Join mid-stream from cursor 0 (replay), and one more live-only.
        wait_for("some history", || h.latest_seq() >= 50).await;
        let replayer = VecSink::default();
        let live = VecSink::default();
        let (r, l) = (replayer.flushed.clone(), live.flushed.clone());
        let t1 = {
            let (h, mut s) = (h.clone(), replayer);
            tokio::spawn(async move { h.serve(Some(0), &mut s).await })
        };
        let live_from = h.latest_seq();
        let t2 = {
            let (h, mut s) = (h.clone(), live);
            tokio::spawn(async move { h.serve(None, &mut s).await })
        };
        writer.await.expect("writer");
        let n = N as i64;
        wait_for("the replayer to catch up", || {
            r.lock().expect("lock").len() >= N
        })
        .await;
        let seqs: Vec<i64> = r
            .lock()
            .expect("lock")
            .iter()
            .map(|f| seq_of(f).expect("seq"))
            .collect();
        assert_eq!(seqs, (1..=n).collect::<Vec<_>>());
        wait_for("the live one to reach the end", || {
            l.lock()
                .expect("lock")
                .last()
                .is_some_and(|f| seq_of(f) == Some(n))
        })
        .await;
        let seqs: Vec<i64> = l
            .lock()
            .expect("lock")
            .iter()
            .map(|f| seq_of(f).expect("seq"))
            .collect();
        // Live-only: a gap-free run ending at the head, starting no earlier than it joined.
        assert!(seqs[0] > live_from, "{} vs {live_from}", seqs[0]);
        for w in seqs.windows(2) {
            assert_eq!(w[1], w[0] + 1);
        }
        t1.abort();
        t2.abort();
    }

    /// A replay serves only published events: one committed but not yet published
    /// (not yet on disk) reaches the subscriber live, once it is published.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_replay_stops_at_what_was_published() {
        let dir = tempfile::tempdir().expect("tempdir");
        let h = hub(&dir, 72, 16);
        h.load().await.expect("load");
        append(&h, 0).await;
        // Event 2 is in the database, as between a commit and its sync.
        let frame = h
            .inner
            .db
            .write(|tx| -> Result<Vec<u8>, DbError> {
                let frame: Vec<u8> =
                    tx.conn()
                        .query_row("SELECT event FROM repo_seq WHERE seq = 1", [], |r| r.get(0))?;
                tx.conn().execute(
                    "INSERT INTO repo_seq (seq, did, event_type, event, sequenced_at)
                     VALUES (2, 'did:plc:test1', '#identity', ?1, 'now')",
                    [&frame],
                )?;
                Ok(frame)
            })
            .await
            .expect("unpublished");
        let sink = VecSink::default();
        let got = sink.flushed.clone();
        let task = {
            let (h, mut s) = (h.clone(), sink);
            tokio::spawn(async move { h.serve(Some(0), &mut s).await })
        };
        wait_for("the replay", || !got.lock().expect("lock").is_empty()).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            got.lock().expect("lock").len(),
            1,
            "an unpublished event was replayed"
        );
        h.publish(2, frame);
        wait_for("the published event", || {
            got.lock().expect("lock").len() == 2
        })
        .await;
        task.abort();
    }

    #[tokio::test]
    async fn a_future_cursor_gets_an_error_frame() {
        let dir = tempfile::tempdir().expect("tempdir");
        let h = hub(&dir, 72, 16);
        h.load().await.expect("load");
        append(&h, 0).await;
        let mut s = VecSink::default();
        assert_eq!(h.serve(Some(2), &mut s).await, End::FutureCursor);
        let frames = s.flushed.lock().expect("lock").clone();
        assert_eq!(frames.len(), 1);
        let (head, body) = split(&frames[0]);
        assert_eq!(get(&head, "op"), Some(&pds::data::Value::Integer(-1)));
        assert!(get(&head, "t").is_none());
        assert_eq!(
            get(&body, "error"),
            Some(&pds::data::Value::String("FutureCursor".into()))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_live_subscriber_is_dropped_and_the_others_keep_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let h = hub(&dir, 72, 16);
        let healthy = VecSink::default();
        let got = healthy.flushed.clone();
        let stalled = {
            let h = h.clone();
            tokio::spawn(async move {
                let mut s = StalledSink {
                    accept: 3,
                    taken: 0,
                };
                h.serve(None, &mut s).await
            })
        };
        let ok = {
            let (h, mut s) = (h.clone(), healthy);
            tokio::spawn(async move { h.serve(None, &mut s).await })
        };
        wait_for("both subscribed", || h.subscribers() == 2).await;
        for seq in 1..=200i64 {
            let body = events::InfoEvent {
                name: format!("n{seq}"),
                message: None,
            };
            h.publish(seq, events::frame("#info", &body).expect("frame"));
            tokio::task::yield_now().await;
        }
        // Dropped while blocked, after its error frame's grace.
        assert_eq!(stalled.await.expect("task"), End::TooSlow);
        wait_for("the healthy one", || got.lock().expect("lock").len() == 200).await;
        assert_eq!(h.subscribers(), 1);
        ok.abort();
    }

    #[tokio::test]
    async fn pruned_events_give_outdated_cursor_then_what_is_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let h = hub(&dir, 0, 16);
        h.load().await.expect("load");
        for n in 0..10 {
            append(&h, n).await;
        }
        // A window of zero: everything sequenced so far goes.
        assert_eq!(h.prune().await.expect("prune"), 10);
        assert_eq!(h.pruned_through(), 10);
        append(&h, 10).await;
        // A cursor inside what was pruned: #info, then the kept event 11, then live.
        let mut s = VecSink::default();
        let flushed = s.flushed.clone();
        let task = {
            let h = h.clone();
            tokio::spawn(async move { h.serve(Some(3), &mut s).await })
        };
        wait_for("replay", || flushed.lock().expect("lock").len() >= 2).await;
        append(&h, 11).await;
        wait_for("live", || flushed.lock().expect("lock").len() >= 3).await;
        let frames = flushed.lock().expect("lock").clone();
        let (head, body) = split(&frames[0]);
        assert_eq!(
            get(&head, "t"),
            Some(&pds::data::Value::String("#info".into()))
        );
        assert_eq!(
            get(&body, "name"),
            Some(&pds::data::Value::String("OutdatedCursor".into()))
        );
        assert_eq!(seq_of(&frames[1]), Some(11));
        assert_eq!(seq_of(&frames[2]), Some(12));
        task.abort();
        // After a restart the watermark comes back from the table, and the head from
        // SQLite's sequence even when no row is left.
        assert_eq!(h.prune().await.expect("prune"), 2);
        let again = Firehose::new(
            h.inner.db.clone(),
            &FirehoseConfig {
                backfill_hours: 0,
                relays: vec![],
                subscriber_buffer: 16,
            },
        );
        again.load().await.expect("load");
        assert_eq!(again.latest_seq(), 12);
        assert_eq!(again.pruned_through(), 12);
    }
}
