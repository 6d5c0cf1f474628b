//! The embedded SQLite store: one database file in WAL mode, one writer thread that
//! commits in groups, and a small pool of reader connections.
//!
//! Every change goes through [`Db::write`]: jobs queue up for the writer thread, which
//! runs as many as are waiting inside ONE transaction (each in its own savepoint, so
//! a failing job rolls back alone), commits with `synchronous=FULL`, and only then
//! answers the callers. An acknowledged write is therefore on disk, and one fsync
//! pays for a whole group of concurrent writes. Work that must follow a successful
//! commit (publishing firehose events) is queued with [`WriteTx::after_commit`].
//! Reads run on blocking threads with pooled connections and never wait for writers.
//! WAL checkpoints run on their own thread (PASSIVE, about once a second), never inside a
//! writer's commit, so a checkpoint's copy and fsync do not land on one unlucky write;
//! past 16 MiB of log it takes the write lock, waits briefly for the readers of the
//! moment and starts the log over, so the WAL stays bounded under a steady load of
//! writes and reads (under a load that never pauses it grows until the load eases).
//! Starting over rewrites the file in place (trimmed back to 64 MiB if it grew past
//! that): writing into pages the file already has costs the kernel far less than
//! growing it again from nothing, which a truncation every second made it do.
//! This module knows nothing about what the tables mean; see the sibling modules.

use super::schema;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
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
/// WAL frames (pages) past which the checkpointer starts the log over: 16 MiB of 4 KiB
/// pages.
const WAL_RESTART_FRAMES: i64 = 4096;
/// How long the checkpointer waits for the write lock, or for readers of older snapshots,
/// to start the WAL over. Under a load that never pauses it rarely gets the lock, and
/// the log grows until the load eases; with a long wait it did get it after seconds of
/// backlog, and copying that stalled every write for over a second.
const RESTART_WAIT: std::time::Duration = std::time::Duration::from_millis(50);
/// How often the checkpointer copies the WAL back into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

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
    after_commit: &'a mut Vec<Box<dyn FnOnce() + Send>>,
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

    /// Run `f` after the transaction commits (never if this job or the commit fails).
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
    /// Dropping the sender stops the checkpointer.
    checkpoint_stop: Mutex<Option<mpsc::Sender<()>>>,
    checkpoint_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
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
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    cache_statements(conn)?;
    conn.execute_batch("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -4000;")
}

/// Settings of the writer and the checkpointer. The writer's page cache is kept small
/// (4 MB): at every commit SQLite walks its whole cache to drop pages past the end of
/// the file, which with 32 MB took a fifth of the writer's time; the pages it needs
/// again come back from the OS cache.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    tune(conn)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA journal_size_limit = 67108864;",
    )
}

impl Db {
    /// Open (creating if needed) the database at `path`, run migrations, and start the writer.
    pub fn open(path: &Path) -> Result<Db, DbError> {
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
            .execute_batch("PRAGMA wal_autocheckpoint = 0;")
            .map_err(|e| open_err(e.to_string()))?;
        let checkpointer = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| open_err(e.to_string()))?;
        configure(&checkpointer).map_err(|e| open_err(e.to_string()))?;
        // Starting the log over holds the write lock while it copies what is left and
        // waits for older readers, and every write waits with it: it may only wait
        // briefly for either (see `checkpoint_loop`).
        checkpointer
            .busy_timeout(RESTART_WAIT)
            .map_err(|e| open_err(e.to_string()))?;
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let checkpoint_handle = std::thread::Builder::new()
            .name("pdsd-db-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpointer, stop_rx))
            .map_err(|e| open_err(e.to_string()))?;
        let (tx, rx) = mpsc::channel::<Job>();
        let handle = std::thread::Builder::new()
            .name("pdsd-db-writer".into())
            .spawn(move || writer_loop(writer, rx))
            .map_err(|e| open_err(e.to_string()))?;
        Ok(Db {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer: Mutex::new(Some(tx)),
                readers: Mutex::new(Vec::new()),
                read_permits: Arc::new(tokio::sync::Semaphore::new(READERS)),
                writer_thread: Mutex::new(Some(handle)),
                checkpoint_stop: Mutex::new(Some(stop_tx)),
                checkpoint_thread: Mutex::new(Some(checkpoint_handle)),
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
        if let Ok(mut r) = self.inner.readers.lock() {
            r.clear();
        }
    }
}

/// Copy committed WAL frames into the database file now and then, without blocking the
/// writer (PASSIVE); past [`WAL_RESTART_FRAMES`], take the write lock, copy what came
/// in meanwhile, wait for the readers of the moment and start the log over from its
/// beginning, in place (RESTART), so it stays bounded. Each wait is at most
/// [`RESTART_WAIT`]; a restart that cannot happen now is tried again next time.
fn checkpoint_loop(conn: Connection, stop: mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        // (busy, frames in the WAL, frames copied back)
        let passive = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        });
        match passive {
            // Under steady writes and reads the log is never fully copied back at the
            // moment a writer could start it over, so it would grow without end (and
            // every read would search a larger WAL index). Past the limit, wait for the
            // readers of the moment (short transactions) and start the log over.
            Ok((_, frames, _)) if frames > WAL_RESTART_FRAMES => {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "WAL restart failed; will retry");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; will retry"),
        }
    }
}

fn writer_loop(conn: Connection, rx: mpsc::Receiver<Job>) {
    let mut cache = WriterCache::default();
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        run_group(&conn, &mut cache, jobs);
    }
    // Leave the WAL checkpointed so the file is self-contained at rest.
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
}

/// Run a parameterless statement through the statement cache.
fn cached(conn: &Connection, sql: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute([])
}

fn run_group(conn: &Connection, cache: &mut WriterCache, jobs: Vec<Job>) {
    let mut completions: Vec<Completion> = Vec::with_capacity(jobs.len());
    let mut after: Vec<Box<dyn FnOnce() + Send>> = Vec::new();
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let msg = e.to_string();
        tracing::error!(error = %msg, "cannot begin a write transaction");
        // Dropping the jobs drops their answer channels: every caller gets an error.
        drop(jobs);
        return;
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
        Ok(()) => {
            for f in after {
                f();
            }
            for c in completions {
                c(Ok(()));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "commit failed; the group was rolled back");
            let _ = conn.execute_batch("ROLLBACK");
            cache.clear();
            let msg = e.to_string();
            for c in completions {
                c(Err(msg.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
