//! SQLite storage: one connection behind a mutex, versioned migrations, and one module per table
//! family. All functions here are blocking; async code reaches them through [`Store::run`].

pub mod calls;
pub mod events;
pub mod friends;
pub mod groups;
pub mod messages;
pub mod tokens;
pub mod users;

use std::sync::{Arc, Mutex, MutexGuard};

use chinwag_protocol::{ApiError, ErrorCode};
use rusqlite::Connection;

use crate::config::DbLocation;

/// Schema versions, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_initial.sql"),
    include_str!("migrations/003_ids_quotas_friend_requests.sql"),
];

/// The database. Cloning shares the same connection.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

/// A storage failure. Callers see it as an internal error; the detail goes to the log.
#[derive(Debug)]
pub struct DbError(pub rusqlite::Error);

pub type DbResult<T> = Result<T, DbError>;

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError(e)
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        tracing::error!(error = %e.0, "database error");
        ApiError::new(ErrorCode::Internal, "database error")
    }
}

impl Store {
    /// Opens (creating if needed) and migrates the database.
    pub fn open(location: &DbLocation, sync_full: bool) -> Result<Store, String> {
        let conn = match location {
            DbLocation::Memory => Connection::open_in_memory(),
            DbLocation::File(path) => Connection::open(path),
        }
        .map_err(|e| format!("cannot open database: {e}"))?;
        let sync = if sync_full { "FULL" } else { "NORMAL" };
        conn.execute_batch(&format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA foreign_keys=ON; \
             PRAGMA busy_timeout=5000;"
        ))
        .map_err(|e| format!("cannot configure database: {e}"))?;
        migrate(&conn).map_err(|e| format!("database migration failed: {e}"))?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Locks the connection on the current (blocking) thread.
    pub fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back on
        // drop), so a poisoned lock is still safe to use.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` with the connection on tokio's blocking pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, ApiError> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&mut store.lock()))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "storage task failed");
                ApiError::new(ErrorCode::Internal, "storage task failed")
            })?
    }

    /// Moves the WAL into the main file, so a copy of the file alone is complete.
    pub fn checkpoint(&self) {
        if let Err(e) = self
            .lock()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        {
            tracing::warn!(error = %e, "checkpoint failed");
        }
    }
}

fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let done: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        conn.execute_batch(&format!(
            "BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;",
            i + 1
        ))?;
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
