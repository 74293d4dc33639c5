//! `chinwag-server backup DEST`: a consistent copy of the database while the server runs.
//!
//! The command opens the database file itself, read-only, next to the running server (the same
//! machine, a user that may read the file and its `-wal`/`-shm`). The database is in WAL mode,
//! so a reader sees one committed state and never blocks the writer: the copy is taken with
//! SQLite's online backup API in a single step, one read transaction, and holds exactly what
//! was committed (and so acknowledged) when it began. It is written to `DEST.partial`, checked,
//! synced and renamed, so `DEST` is either complete or absent.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::store;

/// What a finished backup copied.
#[derive(Debug, Clone)]
pub struct BackupReport {
    pub dest: PathBuf,
    pub bytes: u64,
    pub pages: u32,
    pub schema_version: usize,
    pub elapsed: Duration,
}

/// Tries of a step that found the source busy (a checkpoint or recovery in progress).
const BUSY_TRIES: u32 = 200;
const BUSY_PAUSE: Duration = Duration::from_millis(25);

/// Copies the database at `db` to `dest`, which must not exist yet.
pub fn backup(db: &Path, dest: &Path) -> Result<BackupReport, String> {
    let started = Instant::now();
    if dest.exists() {
        return Err(format!(
            "{} exists already; a backup never overwrites a file",
            dest.display()
        ));
    }
    if !db.is_file() {
        return Err(format!("no database at {}", db.display()));
    }
    let source = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("cannot open {} read-only: {e}", db.display()))?;
    source
        .execute_batch("PRAGMA busy_timeout=5000; PRAGMA query_only=ON;")
        .map_err(|e| format!("cannot configure {}: {e}", db.display()))?;
    let schema_version = schema_version(&source, db)?;

    let partial = partial_path(dest);
    let _ = std::fs::remove_file(&partial);
    let result = copy_into(&source, &partial).and_then(|pages| {
        let copy = Connection::open(&partial)
            .map_err(|e| format!("cannot open the copy {}: {e}", partial.display()))?;
        let check: String = copy
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| format!("cannot check the copy: {e}"))?;
        if check != "ok" {
            return Err(format!("the copy failed its check: {check}"));
        }
        drop(copy);
        sync_file(&partial)?;
        Ok(pages)
    });
    let pages = match result {
        Ok(p) => p,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, dest)
        .map_err(|e| format!("cannot rename the copy to {}: {e}", dest.display()))?;
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename itself must survive a power cut too.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    let bytes = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
    Ok(BackupReport {
        dest: dest.to_path_buf(),
        bytes,
        pages,
        schema_version,
        elapsed: started.elapsed(),
    })
}

/// The schema version of a Chinwag database; refuses other files and newer schemas.
fn schema_version(conn: &Connection, db: &Path) -> Result<usize, String> {
    let version: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| format!("{} is not a readable SQLite database: {e}", db.display()))?;
    if version == 0 {
        return Err(format!(
            "{} is not a Chinwag database (schema version 0)",
            db.display()
        ));
    }
    if version > store::SCHEMA_VERSION {
        return Err(store::newer_schema_message(version));
    }
    Ok(version)
}

/// All pages in one step: one read transaction, so the copy is one committed state even while
/// the server writes (a step per chunk would restart whenever another connection commits).
fn copy_into(source: &Connection, partial: &Path) -> Result<u32, String> {
    let mut dest = Connection::open(partial)
        .map_err(|e| format!("cannot create {}: {e}", partial.display()))?;
    let backup = Backup::new(source, &mut dest).map_err(|e| format!("cannot start: {e}"))?;
    for _ in 0..BUSY_TRIES {
        match backup.step(-1).map_err(|e| format!("backup failed: {e}"))? {
            StepResult::Done => {
                return Ok(u32::try_from(backup.progress().pagecount).unwrap_or(0));
            }
            // Busy or locked: a checkpoint or recovery holds a lock for a moment.
            _ => std::thread::sleep(BUSY_PAUSE),
        }
    }
    Err("the database stayed busy; try again".into())
}

fn partial_path(dest: &Path) -> PathBuf {
    let mut p = dest.as_os_str().to_owned();
    p.push(".partial");
    PathBuf::from(p)
}

fn sync_file(path: &Path) -> Result<(), String> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| format!("cannot sync {}: {e}", path.display()))
}
