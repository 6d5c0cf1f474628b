//! The embedded SQLite store: one database file in WAL mode, one writer thread that
//! commits in groups, and a small pool of reader connections.
//!
//! Every change goes through [`Db::write`]: jobs queue up for the writer thread, which
//! runs as many as are waiting inside ONE transaction (each in its own savepoint, so
//! a failing job rolls back alone) and commits it. The commit writes the group's pages
//! to the WAL without waiting for the disk; the syncer thread then syncs the WAL and
//! only then answers the callers, while the writer already runs the next group. An
//! acknowledged write is therefore on disk, one sync pays for every group committed
//! since the last one, and the writer never waits for the disk. Work that must follow a
//! durable commit (publishing firehose events) is queued with [`WriteTx::after_commit`].
//! Reads run on blocking threads with pooled connections and never wait for writers.
//! WAL checkpoints run on their own thread (PASSIVE, every 250 ms while writes come
//! in), never inside a writer's commit, so a checkpoint's copy and fsync do not land
//! on one unlucky write. Past 16 MiB of log (and at most every 4 s, once its copying
//! has caught up, or past 1 GiB) the checkpointer takes the write lock between two of
//! the writer's groups, copies the last frames, waits briefly for the readers of the
//! moment and has the log start over, so the WAL stays bounded even under a load that
//! never pauses. Starting over rewrites the file in place, never shortening it under
//! load: writing into pages the file already has costs the kernel far less than growing
//! it again, and cutting a large file short took the next commit 80-300 ms. Once writes
//! have paused for a while, the checkpointer copies everything back and empties the
//! file (TRUNCATE), so the disk gets the space back.
//! This module knows nothing about what the tables mean; see the sibling modules.

use super::schema;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How many queued jobs one transaction takes at most.
const MAX_GROUP: usize = 256;
/// Reader connections kept open, and the most reads that run at once: a read waits for
/// one of them rather than opening a connection (which loads the schema and prepares
/// every statement again).
const READERS: usize = 8;
/// Prepared statements kept per connection. The write path alone uses more than
/// rusqlite's default of 16; an evicted statement is parsed and planned again.
const STATEMENT_CACHE: usize = 256;
/// When the checkpointer copies the WAL back and starts it over.
#[derive(Debug, Clone, Copy)]
struct Checkpointing {
    /// How often it copies committed frames back while writes keep coming.
    busy_every: Duration,
    /// How often it looks while nothing new was written.
    idle_every: Duration,
    /// WAL frames (pages) past which it starts the log over.
    restart_frames: i64,
    /// The least time between two restarts. Each holds the writer for its last copy
    /// and the database file's sync (measured 1-15 ms, up to 50 ms when the copying had
    /// not caught up, under createRecord at 32 in flight), so they are kept apart: under
    /// that load the WAL reaches 1-1.5 GB in between. Measured under that load
    /// (`pdsbench`, alternated runs): every 2 s, 3,716-3,774 writes/s, p99 18.3-20.0
    /// ms; every 4 s, 3,717-3,868 writes/s, p99 17.5-18.2 ms.
    restart_every: Duration,
    /// WAL frames past which it starts the log over even if the writes outran its
    /// copying (the writer then waits for a longer copy).
    hard_limit_frames: i64,
    /// How long writes must have paused before it empties a WAL file longer than
    /// `trim_above_bytes`.
    trim_after_quiet: Duration,
    trim_above_bytes: u64,
}

const CHECKPOINTING: Checkpointing = Checkpointing {
    busy_every: Duration::from_millis(250),
    idle_every: Duration::from_secs(1),
    // 16 MiB of 4 KiB pages.
    restart_frames: 4096,
    restart_every: Duration::from_secs(4),
    // 1 GiB.
    hard_limit_frames: 262_144,
    trim_after_quiet: Duration::from_secs(2),
    // 64 MiB.
    trim_above_bytes: 64 << 20,
};
/// How long a restart waits for readers of older snapshots (while the writer waits for
/// it): long readers (a getRepo export) make it give up and try again later.
const RESTART_WAIT: Duration = Duration::from_millis(50);
/// How often it looks again meanwhile (SQLite's own busy handler sleeps 1, 2, 5, 10 ms…,
/// and the writer would wait through each sleep).
const RESTART_POLL: Duration = Duration::from_micros(100);
/// Frames that may still be left to copy when the checkpointer takes the write lock to
/// start the WAL over: while more than this came in during a pass, it copies again.
const RESTART_LEFTOVER: i64 = 256;
/// Passes of copying before a restart, at most.
const MAX_PASSES: u32 = 6;
/// The longest the writer waits for a restart, and a restart for a group to end.
const GATE_WAIT: Duration = Duration::from_millis(100);

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database writer has stopped")]
    WriterGone,
    #[error("database task failed: {0}")]
    Task(String),
    #[error("cannot open database {path}: {message}")]
    Open { path: PathBuf, message: String },
}

/// The write context a job receives: the writer's connection, inside a transaction.
pub struct WriteTx<'a> {
    conn: &'a Connection,
    after_commit: &'a mut Vec<AfterCommit>,
    /// State the writer thread keeps between jobs (caches of decoded blocks and keys).
    pub cache: &'a mut WriterCache,
}

impl std::fmt::Debug for WriteTx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTx").finish_non_exhaustive()
    }
}

impl<'a> WriteTx<'a> {
    /// The connection (inside the open transaction).
    pub fn conn(&self) -> &'a Connection {
        self.conn
    }

    /// Run `f` once the transaction has committed and is on disk (never if this job or
    /// the commit fails).
    pub fn after_commit(&mut self, f: impl FnOnce() + Send + 'static) {
        self.after_commit.push(Box::new(f));
    }
}

/// Caches owned by the writer thread. Entries are only hints: anything missing is read
/// from the database, and a rolled-back job clears what it may have touched.
#[derive(Default)]
pub struct WriterCache {
    /// Values keyed by a name chosen by the caller (e.g. "key:<did>").
    entries: std::collections::HashMap<String, Box<dyn std::any::Any + Send>>,
}

impl std::fmt::Debug for WriterCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WriterCache({} entries)", self.entries.len())
    }
}

impl WriterCache {
    /// A cached value of type `T`, if present.
    pub fn get<T: 'static>(&self, key: &str) -> Option<&T> {
        self.entries.get(key).and_then(|b| b.downcast_ref::<T>())
    }
    /// Cache a value.
    pub fn put<T: Send + 'static>(&mut self, key: impl Into<String>, value: T) {
        self.entries.insert(key.into(), Box::new(value));
    }
    /// Forget a value.
    pub fn remove(&mut self, key: &str) {
        self.entries.remove(key);
    }
    /// Forget everything (after a failed commit).
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

type Completion = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn FnOnce(&mut WriteTx<'_>) -> (bool, Completion) + Send>;
type AfterCommit = Box<dyn FnOnce() + Send>;

/// A committed group waiting for the WAL to reach the disk: what to run, then whom to
/// answer, once it has.
struct Committed {
    after: Vec<AfterCommit>,
    completions: Vec<Completion>,
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Db({})", self.inner.path.display())
    }
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Option<mpsc::Sender<Job>>>,
    readers: Mutex<Vec<Connection>>,
    /// One permit per pooled reader (see [`READERS`]).
    read_permits: Arc<tokio::sync::Semaphore>,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Ends once the writer has stopped and every committed group was answered.
    syncer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Dropping the sender stops the checkpointer.
    checkpoint_stop: Mutex<Option<mpsc::Sender<()>>>,
    checkpoint_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Shared by the writer and the checkpointer; kept here for its counter.
    #[cfg(test)]
    gate: Arc<WriteGate>,
    /// Set by the syncer when a sync failed; kept here to fail one on purpose.
    #[cfg(test)]
    sync_failed: Arc<AtomicBool>,
}

/// Keep prepared statements, and make sure a kept statement is really reused.
///
/// By default SQLite lets some plans depend on the values bound to a statement (a join
/// on `record` and `repo_block` is one): such a statement is marked to be compiled
/// again whenever its bindings are cleared, which the statement cache does each time it
/// takes one back. Every cached `get_record` was parsed and planned again on each call
/// (a fifth of pdsd's CPU under a getRecord load). With the query planner stability
/// guarantee, plans never depend on bound values (nothing here benefits from that), and
/// a cached statement is compiled once per connection.
fn cache_statements(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

/// What every connection gets: the busy timeout, the statement cache, temporary tables
/// in memory, and a small page cache (see [`configure`]).
fn tune(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    cache_statements(conn)?;
    conn.execute_batch("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -4000;")
}

/// Settings of the writer and the checkpointer. The writer's page cache is kept small
/// (4 MB): at every commit SQLite walks its whole cache to drop pages past the end of
/// the file, which with 32 MB took a fifth of the writer's time; the pages it needs
/// again come back from the OS cache. Both sync with `FULL`; the writer is switched to
/// `NORMAL` once set up, its commits being synced by the syncer thread (see
/// [`sync_loop`]). A checkpoint syncs the WAL before it copies anything back. No
/// `journal_size_limit`: with one, the first commit after each restart cuts the file
/// short while every write waits (see [`checkpoint_loop`] for when it is emptied).
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    tune(conn)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA journal_size_limit = -1;",
    )
}

impl Db {
    /// Open (creating if needed) the database at `path`, run migrations, and start the writer.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        Db::open_with(path, CHECKPOINTING)
    }

    fn open_with(path: &Path, checkpointing: Checkpointing) -> Result<Db, DbError> {
        let open_err = |message: String| DbError::Open {
            path: path.to_path_buf(),
            message,
        };
        let mut writer = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| open_err(e.to_string()))?;
        configure(&writer).map_err(|e| open_err(e.to_string()))?;
        schema::migrate(&mut writer).map_err(|e| open_err(e.to_string()))?;
        // Checkpoints belong to the checkpointer thread, not to whichever commit crosses
        // the threshold.
        writer
            .execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA synchronous = NORMAL;")
            .map_err(|e| open_err(e.to_string()))?;
        let mut checkpointer = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| open_err(e.to_string()))?;
        configure(&checkpointer).map_err(|e| open_err(e.to_string()))?;
        // Starting the log over holds the write lock while it copies what is left and
        // waits for older readers, and every write waits with it: it waits for readers
        // briefly, looking often.
        checkpointer
            .busy_handler(Some(|tries: i32| {
                let tries = u32::try_from(tries).unwrap_or(u32::MAX);
                if RESTART_POLL.saturating_mul(tries) >= RESTART_WAIT {
                    return false;
                }
                std::thread::sleep(RESTART_POLL);
                true
            }))
            .map_err(|e| open_err(e.to_string()))?;
        let gate = Arc::new(WriteGate::default());
        let wal = wal_path(path);
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let checkpoint_handle = std::thread::Builder::new()
            .name("pdsd-db-checkpoint".into())
            .spawn({
                let (gate, wal) = (gate.clone(), wal.clone());
                move || checkpoint_loop(checkpointer, &wal, &gate, checkpointing, &stop_rx)
            })
            .map_err(|e| open_err(e.to_string()))?;
        let (to_sync, committed) = mpsc::channel::<Committed>();
        let sync_failed = Arc::new(AtomicBool::new(false));
        let syncer = std::thread::Builder::new()
            .name("pdsd-db-sync".into())
            .spawn({
                let failed = sync_failed.clone();
                move || sync_loop(&wal, &committed, &failed)
            })
            .map_err(|e| open_err(e.to_string()))?;
        let (tx, rx) = mpsc::channel::<Job>();
        let handle = std::thread::Builder::new()
            .name("pdsd-db-writer".into())
            .spawn({
                let gate = gate.clone();
                let sync_failed = sync_failed.clone();
                move || writer_loop(writer, &gate, rx, &to_sync, &sync_failed)
            })
            .map_err(|e| open_err(e.to_string()))?;
        Ok(Db {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer: Mutex::new(Some(tx)),
                readers: Mutex::new(Vec::new()),
                read_permits: Arc::new(tokio::sync::Semaphore::new(READERS)),
                writer_thread: Mutex::new(Some(handle)),
                syncer_thread: Mutex::new(Some(syncer)),
                checkpoint_stop: Mutex::new(Some(stop_tx)),
                checkpoint_thread: Mutex::new(Some(checkpoint_handle)),
                #[cfg(test)]
                gate,
                #[cfg(test)]
                sync_failed,
            }),
        })
    }

    /// Run `f` in the writer's transaction; resolves once the transaction has committed.
    ///
    /// `E` must be able to carry a database failure, so that a failed commit reaches the caller.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut WriteTx<'_>) -> Result<T, E> + Send + 'static,
    {
        self.enqueue(f)?.await
    }

    /// Queue `f` for the writer now (jobs run in the order they were queued) and return
    /// the answer to wait for, as [`Db::write`] would.
    pub fn enqueue<T, E, F>(
        &self,
        f: F,
    ) -> Result<impl std::future::Future<Output = Result<T, E>> + Send + use<T, E, F>, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut WriteTx<'_>) -> Result<T, E> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |wtx: &mut WriteTx<'_>| {
            let result = f(wtx);
            let ok = result.is_ok();
            let completion: Completion = Box::new(move |commit: Result<(), String>| {
                let out = match (commit, result) {
                    (Ok(()), r) => r,
                    (Err(_), Err(e)) => Err(e),
                    (Err(msg), Ok(_)) => {
                        Err(E::from(DbError::Task(format!("commit failed: {msg}"))))
                    }
                };
                let _ = tx.send(out);
            });
            (ok, completion)
        });
        {
            let guard = self
                .inner
                .writer
                .lock()
                .map_err(|_| E::from(DbError::WriterGone))?;
            let sender = guard.as_ref().ok_or_else(|| E::from(DbError::WriterGone))?;
            sender.send(job).map_err(|_| E::from(DbError::WriterGone))?;
        }
        Ok(async move { rx.await.map_err(|_| E::from(DbError::WriterGone))? })
    }

    /// Run `f` with a reader connection on a blocking thread.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        let permit = self
            .inner
            .read_permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| E::from(DbError::Task(e.to_string())))?;
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let out = db.read_blocking(f);
            drop(permit);
            out
        })
        .await
        .map_err(|e| E::from(DbError::Task(e.to_string())))?
    }

    /// Run `f` with a reader connection on the current thread (for blocking contexts).
    pub fn read_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        E: From<DbError>,
        F: FnOnce(&Connection) -> Result<T, E>,
    {
        let conn = self.take_reader().map_err(E::from)?;
        let out = f(&conn);
        if let Ok(mut pool) = self.inner.readers.lock()
            && pool.len() < READERS
        {
            pool.push(conn);
        }
        out
    }

    fn take_reader(&self) -> Result<Connection, DbError> {
        if let Some(c) = self.inner.readers.lock().ok().and_then(|mut p| p.pop()) {
            return Ok(c);
        }
        let conn = Connection::open_with_flags(
            &self.inner.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        tune(&conn)?;
        Ok(conn)
    }

    /// How many times the WAL was started over since the database was opened.
    #[cfg(test)]
    fn wal_restarts(&self) -> u64 {
        self.inner.gate.restarts.load(Ordering::Relaxed)
    }

    /// Stop the writer after the queued jobs ran, and wait for it.
    pub fn close(&self) {
        if let Ok(mut s) = self.inner.checkpoint_stop.lock() {
            s.take();
        }
        if let Some(h) = self
            .inner
            .checkpoint_thread
            .lock()
            .ok()
            .and_then(|mut t| t.take())
        {
            let _ = h.join();
        }
        if let Ok(mut w) = self.inner.writer.lock() {
            w.take();
        }
        if let Some(h) = self
            .inner
            .writer_thread
            .lock()
            .ok()
            .and_then(|mut t| t.take())
        {
            let _ = h.join();
        }
        if let Some(h) = self
            .inner
            .syncer_thread
            .lock()
            .ok()
            .and_then(|mut t| t.take())
        {
            let _ = h.join();
        }
        if let Ok(mut r) = self.inner.readers.lock() {
            r.clear();
        }
    }
}

/// Copy committed WAL frames into the database file now and then, without blocking the
/// writer (PASSIVE). Past `restart_frames` (and not sooner than `restart_every` after
/// the last time), copy again what came in meanwhile until little is left, then take
/// the write lock between two of the writer's groups (see [`WriteGate`]), copy the
/// rest, wait briefly for the readers of the moment and let the next write start the
/// log over from its beginning, in place (RESTART), so it stays bounded. A restart
/// that cannot happen now is tried again next time. Once no write came for
/// `trim_after_quiet`, empty a WAL file longer than `trim_above_bytes` (TRUNCATE).
fn checkpoint_loop(
    conn: Connection,
    wal: &Path,
    gate: &WriteGate,
    every: Checkpointing,
    stop: &mpsc::Receiver<()>,
) {
    // (busy, frames in the WAL, frames copied back)
    let passive = |conn: &Connection| {
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
    };
    let mut last_restart = Instant::now();
    // The WAL's length when it was last seen, and when a restart last succeeded (it
    // takes effect at the next write; until then there is nothing to do again).
    let mut seen = 0;
    let mut restarted_at = None;
    let mut wait = every.idle_every;
    let mut quiet_since = Instant::now();
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(wait) {
        let frames = match passive(&conn) {
            Ok((_, frames, _)) => frames,
            Err(e) => {
                tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
                continue;
            }
        };
        if frames == seen {
            wait = every.idle_every;
        } else {
            wait = every.busy_every;
            quiet_since = Instant::now();
        }
        seen = frames;
        if quiet_since.elapsed() >= every.trim_after_quiet
            && std::fs::metadata(wal).is_ok_and(|m| m.len() > every.trim_above_bytes)
        {
            match checkpoint_between_groups(&conn, gate, "TRUNCATE") {
                Ok((0, _)) => {
                    seen = 0;
                    restarted_at = None;
                    last_restart = Instant::now();
                }
                // Readers of older snapshots were still there: next time.
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "WAL truncation failed; will retry"),
            }
            continue;
        }
        if frames <= every.restart_frames
            || restarted_at == Some(frames)
            || last_restart.elapsed() < every.restart_every
        {
            continue;
        }
        // Under steady writes the log is never all copied back at a moment when the
        // writer could start it over, so it would grow without end: every read would
        // search a larger WAL index, and the file would keep taking new blocks.
        let mut last = frames;
        // If the writes outran every pass, the writer would wait for a long copy: not
        // now, unless the log is past its hard limit.
        let mut caught_up = false;
        for _ in 1..MAX_PASSES {
            match passive(&conn) {
                Ok((_, now, _)) if now - last <= RESTART_LEFTOVER => {
                    caught_up = true;
                    break;
                }
                Ok((_, now, _)) => last = now,
                Err(e) => {
                    tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
                    break;
                }
            }
        }
        if !caught_up && last <= every.hard_limit_frames {
            continue;
        }
        let restart = checkpoint_between_groups(&conn, gate, "RESTART");
        last_restart = Instant::now();
        match restart {
            Ok((0, frames)) => {
                restarted_at = Some(frames);
                gate.restarts.fetch_add(1, Ordering::Relaxed);
            }
            // Readers of older snapshots were still there: next time.
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL restart failed; will retry"),
        }
    }
}

/// A checkpoint in `mode` (RESTART or TRUNCATE: both hold the write lock) between two
/// of the writer's groups: (busy, frames in the WAL).
fn checkpoint_between_groups(
    conn: &Connection,
    gate: &WriteGate,
    mode: &str,
) -> rusqlite::Result<(i64, i64)> {
    gate.between_groups(|| {
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    })
}

/// Hands the write lock to the checkpointer between two of the writer's groups.
///
/// The writer starts its next group as soon as the last one committed, so under a
/// steady load the lock is free only for an instant and a checkpointer polling for it
/// practically never gets it: the WAL grew by gigabytes during a long createRecord
/// load, and every write paid for it (a deeper WAL index to search, new file blocks).
/// Here the checkpointer says it wants the lock; the writer, before its next group,
/// waits until the checkpointer is done; the checkpointer waits for the group in
/// progress to end. Each waits at most [`GATE_WAIT`].
#[derive(Debug, Default)]
struct WriteGate {
    state: Mutex<GateState>,
    changed: Condvar,
    /// Restarts that went through.
    restarts: AtomicU64,
}

#[derive(Debug, Default)]
struct GateState {
    /// The checkpointer wants the lock, or has it.
    wanted: bool,
    /// The writer is inside a group.
    writing: bool,
}

impl WriteGate {
    /// Wait on `changed` while `until` is false, at most [`GATE_WAIT`].
    fn wait_for<'a>(
        &self,
        mut s: std::sync::MutexGuard<'a, GateState>,
        until: impl Fn(&GateState) -> bool,
    ) -> Option<std::sync::MutexGuard<'a, GateState>> {
        let deadline = Instant::now() + GATE_WAIT;
        while !until(&s) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            s = self.changed.wait_timeout(s, left).ok()?.0;
        }
        Some(s)
    }

    /// The writer, before a group: wait while the checkpointer has the lock.
    fn enter(&self) {
        let Ok(s) = self.state.lock() else { return };
        if let Some(mut s) = self.wait_for(s, |s| !s.wanted) {
            s.writing = true;
        }
    }

    /// The writer, after a group.
    fn leave(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.writing = false;
            if s.wanted {
                self.changed.notify_all();
            }
        }
    }

    /// The checkpointer: run `f` between two groups (or while the writer is idle).
    fn between_groups<T>(&self, f: impl FnOnce() -> T) -> T {
        if let Ok(mut s) = self.state.lock() {
            s.wanted = true;
            drop(self.wait_for(s, |s| !s.writing));
        }
        let out = f();
        if let Ok(mut s) = self.state.lock() {
            s.wanted = false;
            self.changed.notify_all();
        }
        out
    }
}

fn writer_loop(
    conn: Connection,
    gate: &WriteGate,
    rx: mpsc::Receiver<Job>,
    to_sync: &mpsc::Sender<Committed>,
    sync_failed: &AtomicBool,
) {
    let mut cache = WriterCache::default();
    while let Ok(first) = rx.recv() {
        if sync_failed.load(Ordering::SeqCst) {
            // What was committed may not be on disk, and nothing says what is: stop
            // writing (every queued and later write is answered with an error).
            tracing::error!("the database writer stopped after a failed sync; restart pdsd");
            break;
        }
        gate.enter();
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let committed = run_group(&conn, &mut cache, jobs);
        gate.leave();
        if let Some(c) = committed
            && let Err(mpsc::SendError(c)) = to_sync.send(c)
        {
            // The syncer is gone (it cannot be while the writer runs): never answer
            // a write as durable without a sync.
            for done in c.completions {
                done(Err("the database syncer has stopped".into()));
            }
        }
    }
    // Leave the WAL checkpointed so the file is self-contained at rest.
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
}

/// Run a parameterless statement through the statement cache.
fn cached(conn: &Connection, sql: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute([])
}

/// Run a group of jobs in one transaction and commit it; the committed group waits for
/// the syncer (`None` if nothing committed: every caller was answered already).
fn run_group(conn: &Connection, cache: &mut WriterCache, jobs: Vec<Job>) -> Option<Committed> {
    let mut completions: Vec<Completion> = Vec::with_capacity(jobs.len());
    let mut after: Vec<AfterCommit> = Vec::new();
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let msg = e.to_string();
        tracing::error!(error = %msg, "cannot begin a write transaction");
        // Dropping the jobs drops their answer channels: every caller gets an error.
        drop(jobs);
        return None;
    }
    for job in jobs {
        let mark = after.len();
        if cached(conn, "SAVEPOINT job").is_err() {
            // Dropping the job drops its answer channel: the caller gets an error.
            drop(job);
            continue;
        }
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut wtx = WriteTx {
                conn,
                after_commit: &mut after,
                cache,
            };
            job(&mut wtx)
        }));
        match run {
            Ok((true, done)) => {
                let _ = cached(conn, "RELEASE job");
                completions.push(done);
            }
            Ok((false, done)) => {
                let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
                after.truncate(mark);
                cache.clear();
                completions.push(done);
            }
            Err(_) => {
                tracing::error!("a database write job panicked; it was rolled back");
                let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
                after.truncate(mark);
                cache.clear();
            }
        }
    }
    match conn.execute_batch("COMMIT") {
        Ok(()) => Some(Committed { after, completions }),
        Err(e) => {
            tracing::error!(error = %e, "commit failed; the group was rolled back");
            let _ = conn.execute_batch("ROLLBACK");
            cache.clear();
            let msg = e.to_string();
            for c in completions {
                c(Err(msg.clone()));
            }
            None
        }
    }
}

/// The WAL file of the database at `path`, as SQLite names it.
fn wal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Sync the WAL after the writer's commits, then answer them.
///
/// The writer commits with `synchronous=NORMAL`: its pages are in the WAL file, not yet
/// necessarily on disk. Syncing here, not in the commit, lets the writer run the next
/// group meanwhile (under createRecord at 32 in flight the sync was about a third of
/// its time, the disk's wait included), and one sync covers every group committed
/// since the last. A group is answered (and its firehose events published) only after a
/// sync that began after its commit. Readers may see a group a moment before it is
/// on disk; only a power loss in that moment takes it back, and then it was never
/// acknowledged nor published.
///
/// If a sync fails, nothing can say which pages reached the disk (the kernel may
/// drop them): the groups waiting are answered with an error, and the writer stops.
fn sync_loop(wal: &Path, committed: &mpsc::Receiver<Committed>, failed: &AtomicBool) {
    let mut file: Option<std::fs::File> = None;
    while let Ok(first) = committed.recv() {
        let mut groups = vec![first];
        groups.extend(committed.try_iter());
        let synced = if failed.load(Ordering::SeqCst) {
            Err("an earlier sync of the database failed".to_string())
        } else {
            sync_wal(wal, &mut file).map_err(|e| {
                failed.store(true, Ordering::SeqCst);
                tracing::error!(error = %e, "cannot sync the database's WAL; writes stop");
                format!("cannot sync the database's WAL: {e}")
            })
        };
        for group in groups {
            match &synced {
                Ok(()) => {
                    for f in group.after {
                        f();
                    }
                    for c in group.completions {
                        c(Ok(()));
                    }
                }
                Err(msg) => {
                    for c in group.completions {
                        c(Err(msg.clone()));
                    }
                }
            }
        }
    }
}

/// Sync the WAL file to disk, opening it the first time (the writer has created it by
/// then) and again if it is no longer the file at `wal` (SQLite deletes it only when
/// its last connection closes, which the writer's does not while it runs).
fn sync_wal(wal: &Path, file: &mut Option<std::fs::File>) -> std::io::Result<()> {
    let current = match file.take() {
        Some(f) if same_file(&f, wal)? => f,
        _ => std::fs::File::open(wal)?,
    };
    let out = current.sync_data();
    *file = Some(current);
    out
}

/// Whether `f` is still the file at `path`.
#[cfg(unix)]
fn same_file(f: &std::fs::File, path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let (open, named) = (f.metadata()?, std::fs::metadata(path)?);
    Ok(open.dev() == named.dev() && open.ino() == named.ino())
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::File, _: &Path) -> std::io::Result<bool> {
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checkpointer's turn waits for the group in progress to end, and the next
    /// group waits for the checkpointer's turn to end.
    #[test]
    fn the_gate_lets_the_checkpointer_in_between_two_groups() {
        let gate = Arc::new(WriteGate::default());
        let group_over = Arc::new(AtomicBool::new(false));
        gate.enter();
        let checkpointer = std::thread::spawn({
            let (gate, group_over) = (gate.clone(), group_over.clone());
            move || gate.between_groups(|| group_over.load(Ordering::SeqCst))
        });
        std::thread::sleep(Duration::from_millis(10));
        group_over.store(true, Ordering::SeqCst);
        gate.leave();
        assert!(
            checkpointer.join().expect("checkpointer"),
            "the checkpointer went in during a group"
        );

        let (inside, turn_over) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let checkpointer = std::thread::spawn({
            let (gate, inside, turn_over) = (gate.clone(), inside.clone(), turn_over.clone());
            move || {
                gate.between_groups(|| {
                    inside.store(true, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(10));
                    turn_over.store(true, Ordering::SeqCst);
                })
            }
        });
        while !inside.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        gate.enter();
        assert!(
            turn_over.load(Ordering::SeqCst),
            "a group began during the checkpointer's turn"
        );
        gate.leave();
        checkpointer.join().expect("checkpointer");
    }

    /// A database whose checkpointer looks every 20 ms and starts the WAL over past 64
    /// frames (at most every 50 ms), with a table `scratch (k, v)` to write to.
    async fn checkpointing_often(
        path: &Path,
        trim_after_quiet: Duration,
        trim_above_bytes: u64,
    ) -> Db {
        let db = Db::open_with(
            path,
            Checkpointing {
                busy_every: Duration::from_millis(20),
                idle_every: Duration::from_millis(20),
                restart_frames: 64,
                restart_every: Duration::from_millis(50),
                hard_limit_frames: 4096,
                trim_after_quiet,
                trim_above_bytes,
            },
        )
        .expect("open");
        db.write(|tx| -> Result<(), DbError> {
            Ok(tx
                .conn()
                .execute_batch("CREATE TABLE scratch (k INTEGER PRIMARY KEY, v BLOB)")?)
        })
        .await
        .expect("table");
        db
    }

    /// Under writes that never pause (the next group is always queued before the last
    /// commits, and each group holds the write lock for tens of milliseconds), the WAL
    /// is still started over again and again instead of growing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_starts_over_under_writes_that_never_pause() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.sqlite");
        // Never emptied: only restarts keep it bounded.
        let db = checkpointing_often(&path, Duration::from_secs(3600), 0).await;
        let started = Instant::now();
        let mut pending = std::collections::VecDeque::new();
        let mut n = 0i64;
        while db.wal_restarts() < 3 && started.elapsed() < Duration::from_secs(60) {
            while pending.len() < 64 {
                n += 1;
                let k = n % 512;
                pending.push_back(
                    db.enqueue(move |tx| -> Result<(), DbError> {
                        tx.conn().execute(
                            "INSERT OR REPLACE INTO scratch (k, v) VALUES (?1, zeroblob(2000))",
                            [k],
                        )?;
                        // Work inside the transaction, as building a commit is: the
                        // write lock is free only for an instant between groups.
                        std::thread::sleep(Duration::from_micros(500));
                        Ok(())
                    })
                    .expect("queued"),
                );
            }
            if let Some(answer) = pending.pop_front() {
                answer.await.expect("write");
            }
        }
        for answer in pending {
            answer.await.expect("write");
        }
        assert!(
            db.wal_restarts() >= 3,
            "{} restarts in {:?} of writes ({n} jobs)",
            db.wal_restarts(),
            started.elapsed()
        );
        db.close();
    }

    /// A statement taken from the cache again is not compiled again, on reader and
    /// writer connections alike (the join of `get_record` used to be, on every call).
    #[tokio::test]
    async fn cached_statements_are_not_prepared_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(&dir.path().join("t.sqlite")).expect("open");
        const SQL: &str = "SELECT r.cid, b.bytes FROM record r JOIN repo_block b
            ON b.did = r.did AND b.cid = r.cid
            WHERE r.did = ?1 AND r.collection = ?2 AND r.rkey = ?3";
        fn run_thrice(c: &Connection) -> rusqlite::Result<i32> {
            for i in 0..3 {
                let mut st = c.prepare_cached(SQL)?;
                let mut rows =
                    st.query(rusqlite::params!["did:plc:x", "c.o.l", format!("k{i}")])?;
                while rows.next()?.is_some() {}
            }
            Ok(c.prepare_cached(SQL)?
                .get_status(rusqlite::StatementStatus::RePrepare))
        }
        let read = db
            .read(|c| run_thrice(c).map_err(DbError::from))
            .await
            .expect("read");
        assert_eq!(read, 0, "a reader compiled a cached statement again");
        let written = db
            .write(|tx| run_thrice(tx.conn()).map_err(DbError::from))
            .await
            .expect("write");
        assert_eq!(written, 0, "the writer compiled a cached statement again");
        db.close();
    }

    /// A group committed, with its hook and its answer, as the writer hands it over.
    fn committed(log: &Arc<Mutex<Vec<String>>>, name: &str) -> Committed {
        let (hook, answer) = (log.clone(), log.clone());
        let (h, a) = (format!("{name} published"), name.to_string());
        Committed {
            after: vec![Box::new(move || hook.lock().expect("log").push(h))],
            completions: vec![Box::new(move |r: Result<(), String>| {
                answer.lock().expect("log").push(format!(
                    "{a} answered {}",
                    if r.is_ok() { "ok" } else { "error" }
                ))
            })],
        }
    }

    /// Groups are published and answered in the order they committed, once synced; a
    /// failed sync answers every group waiting (and every later one) with an error,
    /// publishes nothing, and tells the writer to stop.
    #[test]
    fn the_syncer_answers_in_order_after_a_sync_and_errors_once_one_fails() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wal = dir.path().join("db-wal");
        std::fs::write(&wal, b"frames").expect("wal");
        let log = Arc::new(Mutex::new(Vec::new()));
        let failed = AtomicBool::new(false);
        let (tx, rx) = mpsc::channel();
        for name in ["one", "two"] {
            tx.send(committed(&log, name)).expect("send");
        }
        drop(tx);
        sync_loop(&wal, &rx, &failed);
        assert!(!failed.load(Ordering::SeqCst));
        assert_eq!(
            *log.lock().expect("log"),
            [
                "one published",
                "one answered ok",
                "two published",
                "two answered ok"
            ]
        );

        // The WAL cannot be synced (here: it is not there).
        log.lock().expect("log").clear();
        let (tx, rx) = mpsc::channel();
        for name in ["three", "four"] {
            tx.send(committed(&log, name)).expect("send");
        }
        drop(tx);
        sync_loop(&dir.path().join("gone-wal"), &rx, &failed);
        assert!(
            failed.load(Ordering::SeqCst),
            "the writer was not told to stop"
        );
        assert_eq!(
            *log.lock().expect("log"),
            ["three answered error", "four answered error"]
        );
    }

    /// After a failed sync the writer takes no more writes: each is answered with an
    /// error, and nothing more is committed.
    #[tokio::test]
    async fn the_writer_stops_after_a_failed_sync() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(&dir.path().join("db.sqlite")).expect("open");
        db.write(|tx| -> Result<(), DbError> {
            tx.conn().execute_batch("CREATE TABLE t (x INTEGER)")?;
            Ok(())
        })
        .await
        .expect("before");
        db.inner.sync_failed.store(true, Ordering::SeqCst);
        let refused = db
            .write(|tx| -> Result<(), DbError> {
                tx.conn().execute_batch("INSERT INTO t VALUES (1)")?;
                Ok(())
            })
            .await;
        assert!(matches!(refused, Err(DbError::WriterGone)), "{refused:?}");
        let rows = db
            .read(|c| -> Result<i64, DbError> {
                Ok(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?)
            })
            .await
            .expect("read");
        assert_eq!(rows, 0);
        db.close();
    }

    /// The WAL file keeps its length while writes come (a restart rewrites it in
    /// place), and is emptied once they pause.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_is_emptied_once_writes_pause() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.sqlite");
        let db = checkpointing_often(&path, Duration::from_millis(300), 256 << 10).await;
        // The writer never cuts the file short itself (with a limit, the first commit
        // after a restart would, while every write waits).
        let limit = db
            .write(|tx| -> Result<i64, DbError> {
                Ok(tx
                    .conn()
                    .query_row("PRAGMA journal_size_limit", [], |r| r.get(0))?)
            })
            .await
            .expect("limit");
        assert_eq!(limit, -1);
        let wal = wal_path(&path);
        let wal_len = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        let mut longest = 0;
        let started = Instant::now();
        let mut n = 0i64;
        // Writes that never pause for long, until the log was started over twice.
        while db.wal_restarts() < 2 && started.elapsed() < Duration::from_secs(60) {
            n += 1;
            db.write(move |tx| -> Result<(), DbError> {
                tx.conn().execute(
                    "INSERT OR REPLACE INTO scratch (k, v) VALUES (?1, zeroblob(8000))",
                    [n % 256],
                )?;
                Ok(())
            })
            .await
            .expect("write");
            let len = wal_len();
            assert!(
                len >= longest,
                "the WAL was cut short under writes: {len} after {longest}"
            );
            longest = longest.max(len);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        assert!(db.wal_restarts() >= 2, "no restarts");
        assert!(longest > 256 << 10, "the WAL stayed short: {longest}");
        let paused = Instant::now();
        while wal_len() > 0 && paused.elapsed() < Duration::from_secs(20) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(wal_len(), 0, "the WAL was not emptied after writes paused");
        // Writes go on as before.
        db.write(|tx| -> Result<(), DbError> {
            tx.conn()
                .execute("INSERT INTO scratch (k, v) VALUES (1000, 'after')", [])?;
            Ok(())
        })
        .await
        .expect("after");
        assert!(wal_len() > 0);
        db.close();
    }
}
