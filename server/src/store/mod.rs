//! Storage, on SQLite (the default: one file) or PostgreSQL (several nodes): one writer thread
//! that commits in groups (`writer`), a small pool of read-only connections for everything that
//! only reads, versioned migrations, and one module per table family, written once over both
//! engines ([`sql::Db`]). The functions in the table modules are blocking; async code reaches
//! them through [`Store::run`] (writes) and [`Store::read`] (reads).

pub mod blocks;
pub mod calls;
pub mod conversations;
pub mod events;
pub mod friends;
pub mod groups;
pub mod mentions;
pub mod messages;
pub mod nodes;
pub mod postgres;
pub mod seqs;
pub mod sql;
pub mod tokens;
pub mod users;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chinwag_protocol::{ApiError, ErrorCode};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::config::{DbLocation, Durability};
pub use sql::Db;
pub use writer::Job;
use writer::Request;

/// Schema versions, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_initial.sql"),
    include_str!("migrations/002_event_bodies.sql"),
    include_str!("migrations/003_ids_quotas_friend_requests.sql"),
    include_str!("migrations/004_conversations.sql"),
    include_str!("migrations/005_blocks.sql"),
    include_str!("migrations/006_conversation_heads.sql"),
    include_str!("migrations/007_mentions.sql"),
    include_str!("migrations/008_threads.sql"),
];

/// The schema version this binary writes (`PRAGMA user_version` after every migration).
pub(crate) const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Why a database written by a newer release is refused (by the server and by `backup`).
pub(crate) fn newer_schema_message(found: usize) -> String {
    format!(
        "the database has schema version {found}, newer than this chinwag-server {} knows \
         ({SCHEMA_VERSION}): it was written by a newer release. Run that release (or newer), or \
         restore a backup taken before the upgrade",
        env!("CARGO_PKG_VERSION")
    )
}

/// Read-only connections open at once: reads never wait for the writer, and a flood of reads
/// cannot open a connection each.
const READERS: usize = 4;

/// A read connection idle longer than this is checked (PostgreSQL: one round trip) before use.
const IDLE_CHECK_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Prepared statements kept per connection: every statement the server runs fits.
const STATEMENT_CACHE: usize = 128;

/// The database. Cloning shares the writer and the readers.
#[derive(Clone)]
pub struct Store {
    writer: mpsc::Sender<Request>,
    readers: Arc<Readers>,
    full: Arc<FullQueue>,
}

/// Jobs waiting for room in the writer's queue, and the order they get it in.
#[derive(Default)]
struct FullQueue {
    waiting: AtomicUsize,
    turn: tokio::sync::Mutex<()>,
}

/// Counts one job as waiting for room until it is queued or dropped.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Readers {
    source: Source,
    /// Connections not in use, with when they were given back.
    idle: Mutex<Vec<(Db, std::time::Instant)>>,
    permits: Semaphore,
    /// Removes the file of a `DbLocation::Memory` database when the last handle goes.
    _scratch: Option<Scratch>,
}

/// A database file that lives only as long as the server (`DbLocation::Memory`): a real file, so
/// the writer and the readers share it like any other.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Where read connections come from.
enum Source {
    Sqlite(PathBuf),
    Postgres(Box<::postgres::Config>),
}

/// A storage failure. Callers see it as an internal error; the detail goes to the log.
#[derive(Debug)]
pub struct DbError(pub String);

pub type DbResult<T> = Result<T, DbError>;

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError(e.to_string())
    }
}

impl From<::postgres::Error> for DbError {
    fn from(e: ::postgres::Error) -> Self {
        // The server's own message (with its SQLSTATE) says more than the client's summary.
        match e.as_db_error() {
            Some(db) => DbError(format!("{}: {}", db.code().code(), db.message())),
            // "error connecting to server" says why only in its source.
            None => {
                let mut text = e.to_string();
                let mut cause = std::error::Error::source(&e);
                while let Some(c) = cause {
                    text.push_str(&format!(": {c}"));
                    cause = c.source();
                }
                DbError(text)
            }
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        tracing::error!(error = %e.0, "database error");
        ApiError::new(ErrorCode::Internal, "database error")
    }
}

fn storage_gone() -> ApiError {
    ApiError::new(ErrorCode::Internal, "storage is shutting down")
}

impl Store {
    /// Opens (creating if needed) and migrates the database, and starts its writer.
    pub fn open(
        location: &DbLocation,
        durability: Durability,
        tuning: writer::Tuning,
    ) -> Result<Store, String> {
        if let DbLocation::Postgres(url) = location {
            let (db, config) = postgres::open(url)?;
            let writer = writer::spawn(db, Path::new(""), tuning)?;
            return Ok(Store {
                writer,
                readers: Arc::new(Readers {
                    source: Source::Postgres(Box::new(config)),
                    idle: Mutex::new(Vec::new()),
                    permits: Semaphore::new(READERS),
                    _scratch: None,
                }),
                full: Arc::default(),
            });
        }
        let (path, scratch, sync) = match location {
            DbLocation::Memory => {
                let path = std::env::temp_dir().join(format!(
                    "chinwag-{}-{}.sqlite3",
                    std::process::id(),
                    &tokens::generate()[..16]
                ));
                // Nothing to keep across a crash: no fsync at all.
                (path.clone(), Some(Scratch(path)), "OFF")
            }
            DbLocation::File(path) => (path.clone(), None, durability.synchronous()),
            DbLocation::Postgres(_) => unreachable!("opened above"),
        };
        let conn = Connection::open(&path).map_err(|e| format!("cannot open database: {e}"))?;
        conn.execute_batch(&format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA foreign_keys=ON; \
             PRAGMA busy_timeout=5000;"
        ))
        .map_err(|e| format!("cannot configure database: {e}"))?;
        migrate(&conn)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let writer = writer::spawn(Db::Sqlite(conn), &path, tuning)?;
        Ok(Store {
            writer,
            readers: Arc::new(Readers {
                source: Source::Sqlite(path),
                idle: Mutex::new(Vec::new()),
                permits: Semaphore::new(READERS),
                _scratch: scratch,
            }),
            full: Arc::default(),
        })
    }

    /// Queues a job for the writer; waits while the writer's queue is full. Jobs reach the
    /// writer in the order `submit` was first polled, also while the queue is full.
    pub async fn submit(&self, job: Box<dyn Job>) -> Result<(), ApiError> {
        let full = &self.full;
        // The common case queues without an await point, so a session that polls a request
        // once has queued it before it reads the next one. Not while others wait for room:
        // this job would overtake them.
        let request = if full.waiting.load(Ordering::SeqCst) == 0 {
            match self.writer.try_send(Request::Job(job)) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::TrySendError::Full(request)) => request,
                Err(mpsc::error::TrySendError::Closed(_)) => return Err(storage_gone()),
            }
        } else {
            Request::Job(job)
        };
        // Waiting for room, one at a time in arrival order (a fair lock): woken senders of a
        // bounded channel are not polled in the order they began to wait, so without it a
        // socket's requests would be stored, and answered, out of order.
        full.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&full.waiting);
        let _turn = full.turn.lock().await;
        self.writer.send(request).await.map_err(|_| storage_gone())
    }

    /// Runs `f` on the writer, inside a transaction (in a savepoint of its own: an error rolls
    /// back only what `f` did), and returns its value once the transaction committed.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> Result<T, ApiError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.submit(Box::new(FnJob {
            f: Some(f),
            value: None,
            reply: Some(tx),
        }))
        .await?;
        rx.await.map_err(|_| storage_gone())?
    }

    /// Runs a read-only `f` on one of the read connections, off the writer. It sees what was
    /// committed when it started.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> Result<T, ApiError> + Send + 'static,
    {
        let readers = self.readers.clone();
        let _permit = readers
            .permits
            .acquire()
            .await
            .map_err(|_| storage_gone())?;
        let readers2 = readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = match readers2.take() {
                Ok(c) => c,
                Err(e) => return Err(ApiError::from(e)),
            };
            let result = f(&conn);
            readers2.give_back(conn);
            result
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "read task failed");
            ApiError::new(ErrorCode::Internal, "storage task failed")
        })?
    }

    /// Moves the WAL into the main file, so a copy of the file alone is complete. Waits for the
    /// writer to finish what was queued before.
    pub async fn checkpoint(&self) {
        let (tx, rx) = oneshot::channel();
        let raw: writer::Raw = Box::new(move |conn: &mut Db| {
            if let Some(Err(e)) = conn
                .sqlite()
                .map(|c| c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);"))
            {
                tracing::warn!(error = %e, "checkpoint failed");
            }
            let _ = tx.send(());
        });
        if self.writer.send(Request::Raw(raw)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

impl Drop for Readers {
    fn drop(&mut self) {
        // A PostgreSQL client owns a small runtime of its own, which must not be dropped on a
        // thread that runs async code (the last `Store` handle may go there).
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|p| p.into_inner()));
        if idle.iter().any(|(db, _)| db.is_postgres()) {
            let _ = std::thread::Builder::new()
                .name("chinwag-pg-close".into())
                .spawn(move || drop(idle));
        }
    }
}

impl Readers {
    fn take(&self) -> DbResult<Db> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        if let Some((c, since)) = idle {
            // A PostgreSQL connection idle for a while, or older than another connection's
            // reconnect, may have lost its server (a restart) without knowing: a round trip
            // makes sure. Otherwise one finds out at its next statement (that read fails, and
            // the connection is reopened the time after).
            if c.is_postgres() && (since.elapsed() > IDLE_CHECK_AFTER || c.may_be_stale()) {
                c.check()?;
            } else {
                c.revive()?;
            }
            return Ok(c);
        }
        match &self.source {
            Source::Sqlite(path) => open_reader(path).map(Db::Sqlite),
            Source::Postgres(config) => Ok(Db::Postgres(Box::new(std::cell::RefCell::new(
                sql::PgConn::connect(config, true)?,
            )))),
        }
    }

    fn give_back(&self, conn: Db) {
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((conn, std::time::Instant::now()));
    }
}

fn open_reader(path: &Path) -> DbResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.execute_batch("PRAGMA busy_timeout=5000; PRAGMA query_only=ON;")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// A closure run by the writer, answering through a channel.
struct FnJob<T, F> {
    f: Option<F>,
    value: Option<T>,
    reply: Option<oneshot::Sender<Result<T, ApiError>>>,
}

impl<T, F> Job for FnJob<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Db) -> Result<T, ApiError> + Send + 'static,
{
    fn run(&mut self, conn: &Db) -> Result<(), ApiError> {
        let f = self
            .f
            .take()
            .ok_or_else(|| ApiError::new(ErrorCode::Internal, "job ran twice"))?;
        self.value = Some(f(conn)?);
        Ok(())
    }

    fn finish(mut self: Box<Self>, outcome: Result<(), ApiError>) {
        let result = outcome.and_then(|()| {
            self.value
                .take()
                .ok_or_else(|| ApiError::new(ErrorCode::Internal, "job left no value"))
        });
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(result);
        }
    }
}

/// Applies the migrations the database lacks; refuses one newer than this binary (an older
/// release must not write a schema it does not know).
pub(crate) fn migrate(conn: &Connection) -> Result<(), String> {
    let failed = |e: rusqlite::Error| format!("database migration failed: {e}");
    let done: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(failed)?;
    if done > SCHEMA_VERSION {
        return Err(newer_schema_message(done));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        conn.execute_batch(&format!(
            "BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;",
            i + 1
        ))
        .map_err(failed)?;
    }
    Ok(())
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Parses a JSON column written by this server; a damaged value reads as `{}`.
pub(crate) fn json_column(text: Option<String>) -> serde_json::Value {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| serde_json::Value::Object(Default::default()))
}

/// A LIKE pattern (for `ESCAPE` with a backslash) matching values that contain `search`
/// literally: its `%`, `_` and backslashes are escaped.
pub(crate) fn contains_pattern(search: &str) -> String {
    let escaped = search
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}
