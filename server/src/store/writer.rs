//! The one writer: a thread that owns the write connection and commits in groups.
//!
//! Requests arrive on a bounded channel. The thread blocks for the first, takes whatever else is
//! already queued (up to a count and a byte bound), runs each in its own savepoint inside one
//! transaction, commits once (one fsync under `synchronous=FULL`), and only then finishes them in
//! queue order. No timer: at low load a batch is one request and the latency is one commit; under
//! load batches grow by themselves.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chinwag_protocol::{ApiError, ErrorCode};
use rusqlite::Connection;
use tokio::sync::mpsc;

use super::sql::Db;
use super::DbError;

/// Requests waiting for the writer before senders have to wait.
pub const QUEUE: usize = 4096;
/// Most requests in one transaction.
const MAX_BATCH: usize = 512;
/// Most request bytes (as estimated by each job) in one transaction.
const MAX_BATCH_BYTES: usize = 8 << 20;

/// One durable request.
pub trait Job: Send {
    /// Runs inside the batch's transaction, in a savepoint of its own: an error rolls back this
    /// job's changes only.
    fn run(&mut self, conn: &Db) -> Result<(), ApiError>;
    /// Called on the writer thread after the batch committed (with the job's own result) or
    /// failed to commit (with that error), in queue order. This is where events are handed to
    /// the sockets, so their order is commit order.
    fn finish(self: Box<Self>, outcome: Result<(), ApiError>);
    /// A rough size in bytes, for the batch bound.
    fn weight(&self) -> usize {
        256
    }
}

/// Work that needs the connection outside any transaction (a WAL checkpoint).
pub type Raw = Box<dyn FnOnce(&mut Db) + Send>;

pub enum Request {
    Job(Box<dyn Job>),
    Raw(Raw),
}

/// How the writer runs, beyond its connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tuning {
    /// Test hook: how long every commit is held back (a slow disk, on purpose).
    pub commit_delay: Option<Duration>,
    /// Checkpoints on a thread of their own instead of inside the writer's commits. Pays under
    /// `synchronous=NORMAL`, where commits do not fsync; under `FULL` a concurrent
    /// checkpoint's fsyncs queue with the commits' own and cost more than they save (measured:
    /// 64 in flight, 6-13k msgs/s against 18-22k with SQLite's own checkpoints).
    pub background_checkpoints: bool,
    /// WAL frames beyond which the writer restarts the WAL (0: [`WAL_RESTART_FRAMES`]); tests
    /// set a small one.
    pub wal_restart_frames: u32,
}

/// WAL frames (pages) beyond which the writer restarts the WAL between two batches: 64 MiB
/// of 4 KiB pages. The background checkpoints are PASSIVE and never block the writer, but
/// under steady writes one rarely copies the whole WAL before the next commit appends to it,
/// and SQLite only starts the WAL over after a checkpoint that copied all of it: without this
/// the WAL (and its index, mapped into the server's memory) grew for as long as writes came
/// (2.5 GB in four minutes of `make soak`).
pub const WAL_RESTART_FRAMES: u32 = 16_384;

/// Commits between two nudges to the checkpointer. A commit of one message writes about 8
/// pages, so at low load this is about SQLite's own default of a checkpoint per 1,000-2,000
/// pages; under load commits grow and the WAL with them (tens of MiB), which costs readers
/// little and keeps the checkpoints' copying and fsyncs off the busiest seconds.
const COMMITS_PER_CHECKPOINT: u32 = 256;

/// Starts the writer thread (and, for SQLite, its checkpointer). They end when every sender is
/// dropped. `path` is the SQLite file.
pub fn spawn(conn: Db, path: &Path, tuning: Tuning) -> Result<mpsc::Sender<Request>, String> {
    // With background checkpoints (copying the WAL into the database file, with an fsync of
    // their own) a thread of their own runs them, so the writer never pays for one inside a
    // commit; without, SQLite's own (every 1,000 pages, inside a commit) stay.
    let (nudge, nudged) = std::sync::mpsc::sync_channel::<()>(1);
    // Set by the checkpointer when the WAL is longer than the limit; the writer restarts it.
    let wal_too_long = Arc::new(AtomicBool::new(false));
    let restart_frames = match tuning.wal_restart_frames {
        0 => WAL_RESTART_FRAMES,
        n => n,
    };
    if let (true, Some(sqlite)) = (tuning.background_checkpoints, conn.sqlite()) {
        sqlite
            .execute_batch("PRAGMA wal_autocheckpoint=0;")
            .map_err(|e| format!("cannot configure database: {e}"))?;
        let checkpointer =
            Connection::open(path).map_err(|e| format!("cannot open database: {e}"))?;
        checkpointer
            .execute_batch("PRAGMA busy_timeout=5000;")
            .map_err(|e| format!("cannot configure database: {e}"))?;
        let too_long = wal_too_long.clone();
        std::thread::Builder::new()
            .name("chinwag-checkpoint".into())
            .spawn(move || {
                while nudged.recv().is_ok() {
                    // (busy, frames in the WAL, frames copied into the database file)
                    match checkpointer.query_row("PRAGMA wal_checkpoint(PASSIVE);", [], |r| {
                        r.get::<_, i64>(1)
                    }) {
                        Ok(frames) if frames > i64::from(restart_frames) => {
                            too_long.store(true, Ordering::Relaxed)
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
                    }
                }
            })
            .map_err(|e| format!("cannot start the checkpointer: {e}"))?;
    }
    let (tx, rx) = mpsc::channel(QUEUE);
    std::thread::Builder::new()
        .name("chinwag-writer".into())
        .spawn(move || {
            // The caches stand for what is committed only where this writer is the only one:
            // a PostgreSQL database may have other nodes writing.
            if !conn.is_postgres() {
                super::groups::enable_member_cache();
                super::seqs::enable();
            }
            Writer {
                conn,
                rx,
                tuning,
                nudge,
                commits: 0,
                wal_too_long,
            }
            .run()
        })
        .map_err(|e| format!("cannot start the database writer: {e}"))?;
    Ok(tx)
}

struct Writer {
    conn: Db,
    rx: mpsc::Receiver<Request>,
    tuning: Tuning,
    nudge: std::sync::mpsc::SyncSender<()>,
    commits: u32,
    wal_too_long: Arc<AtomicBool>,
}

impl Writer {
    fn run(mut self) {
        let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
        let mut next: Option<Request> = None;
        loop {
            let first = match next.take() {
                Some(r) => r,
                None => match self.rx.blocking_recv() {
                    Some(r) => r,
                    None => return,
                },
            };
            let first = match first {
                Request::Raw(f) => {
                    f(&mut self.conn);
                    continue;
                }
                Request::Job(j) => j,
            };
            let mut bytes = first.weight();
            batch.push(first);
            while batch.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
                match self.rx.try_recv() {
                    Ok(Request::Job(j)) => {
                        bytes += j.weight();
                        batch.push(j);
                    }
                    // A raw request waits until this batch is done, keeping queue order.
                    Ok(raw) => {
                        next = Some(raw);
                        break;
                    }
                    Err(_) => break,
                }
            }
            self.commit_batch(&mut batch);
            if self.wal_too_long.swap(false, Ordering::Relaxed) {
                self.restart_wal();
            }
        }
    }

    /// Copies what is left of the WAL into the database file so that the next commit writes
    /// from the WAL's start (RESTART: the file keeps its blocks, which the next commits overwrite
    /// in the page cache; a TRUNCATE made every later commit allocate and zero new ones), between two
    /// batches (no transaction open). It waits (busy timeout) for readers still on the WAL;
    /// the checkpointer copied most of it already, so this is short. Busy: the next nudge
    /// asks again.
    fn restart_wal(&mut self) {
        let Some(sqlite) = self.conn.sqlite() else {
            return;
        };
        let started = std::time::Instant::now();
        match sqlite.query_row("PRAGMA wal_checkpoint(RESTART);", [], |r| {
            r.get::<_, i64>(0)
        }) {
            Ok(busy) => tracing::debug!(
                busy = busy != 0,
                took_ms = started.elapsed().as_millis() as u64,
                "WAL restarted"
            ),
            Err(e) => tracing::warn!(error = %e, "WAL restart failed"),
        }
    }

    fn commit_batch(&mut self, batch: &mut Vec<Box<dyn Job>>) {
        tracing::trace!(jobs = batch.len(), "batch started");
        let started = std::time::Instant::now();
        let results = match self.run_batch(batch) {
            Ok(results) => {
                crate::metrics::get().commit(batch.len(), started.elapsed());
                results
            }
            Err(e) => {
                tracing::error!(error = %e.0, jobs = batch.len(), "batch commit failed");
                let _ = self.conn.control("ROLLBACK");
                super::groups::forget_cached_members();
                super::seqs::forget();
                let err = ApiError::new(ErrorCode::Internal, "database error");
                batch.iter().map(|_| Err(err.clone())).collect()
            }
        };
        for (job, result) in batch.drain(..).zip(results) {
            job.finish(result);
        }
        tracing::trace!("batch handed to the sockets");
    }

    fn run_batch(
        &mut self,
        batch: &mut [Box<dyn Job>],
    ) -> Result<Vec<Result<(), ApiError>>, DbError> {
        // A PostgreSQL connection the server closed (a restart) is opened again; until that
        // works every batch fails, and none is acknowledged.
        self.conn.revive()?;
        self.conn.control(if self.conn.is_postgres() {
            "BEGIN"
        } else {
            "BEGIN IMMEDIATE"
        })?;
        let mut results = Vec::with_capacity(batch.len());
        for job in batch.iter_mut() {
            self.conn.control("SAVEPOINT job")?;
            super::seqs::job_started();
            let conn = &self.conn;
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| job.run(conn)))
                .unwrap_or_else(|_| {
                    tracing::error!("a storage job panicked; its changes are rolled back");
                    Err(ApiError::new(ErrorCode::Internal, "storage job failed"))
                });
            if result.is_err() {
                self.conn.control("ROLLBACK TO job")?;
                // The caches may reflect the rolled-back changes.
                super::groups::forget_cached_members();
                super::seqs::job_failed();
            }
            self.conn.control("RELEASE job")?;
            results.push(result);
        }
        super::seqs::flush(&self.conn)?;
        tracing::trace!("batch ran");
        if let Some(delay) = self.tuning.commit_delay {
            std::thread::sleep(delay);
        }
        self.conn.control("COMMIT")?;
        tracing::trace!("batch committed");
        super::seqs::batch_committed();
        self.commits += 1;
        if self.commits.is_multiple_of(COMMITS_PER_CHECKPOINT) {
            // Full: a checkpoint is already pending, which is as good.
            let _ = self.nudge.try_send(());
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    /// Takes `uid`'s next sequence number, then fails if `fail`.
    struct Seq {
        uid: &'static str,
        fail: bool,
        got: Option<u64>,
        reply: Option<oneshot::Sender<Result<u64, ApiError>>>,
    }

    impl Job for Seq {
        fn run(&mut self, conn: &Db) -> Result<(), ApiError> {
            self.got = Some(super::super::users::next_seq(conn, self.uid)?);
            if self.fail {
                return Err(ApiError::new(ErrorCode::InvalidArgument, "refused"));
            }
            Ok(())
        }

        fn finish(mut self: Box<Self>, outcome: Result<(), ApiError>) {
            let result = outcome.map(|()| self.got.unwrap_or(0));
            if let Some(reply) = self.reply.take() {
                let _ = reply.send(result);
            }
        }
    }

    #[test]
    fn a_failed_job_gives_back_its_sequence_numbers_and_the_batch_commits_the_rest() {
        let dir = std::env::temp_dir().join(format!("chinwag-writer-test-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("w.sqlite3");
        let _ = std::fs::remove_file(&path);
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch("PRAGMA journal_mode=WAL;").expect("wal");
        super::super::migrate(&conn).expect("migrate");
        conn.execute(
            "INSERT INTO users (uid, name, created_at) VALUES ('a', 'a', 0)",
            [],
        )
        .expect("user");
        // A slow commit, so that all five jobs queue behind the first and share a batch.
        let tuning = Tuning {
            commit_delay: Some(Duration::from_millis(50)),
            background_checkpoints: true,
            wal_restart_frames: 0,
        };
        let tx = spawn(Db::Sqlite(conn), &path, tuning).expect("writer");
        let mut answers = Vec::new();
        for (uid, fail) in [
            ("a", false),
            ("a", true),
            ("a", false),
            ("nobody", false),
            ("a", false),
        ] {
            let (reply, answer) = oneshot::channel();
            let job = Seq {
                uid,
                fail,
                got: None,
                reply: Some(reply),
            };
            tx.blocking_send(Request::Job(Box::new(job)))
                .expect("queued");
            answers.push(answer);
        }
        let got: Vec<Result<u64, ApiError>> = answers
            .into_iter()
            .map(|a| a.blocking_recv().expect("answered"))
            .collect();
        assert_eq!(got[0].as_ref().ok(), Some(&1));
        assert_eq!(
            got[1].as_ref().err().map(|e| e.code),
            Some(ErrorCode::InvalidArgument)
        );
        // The failed job's number is handed out again.
        assert_eq!(got[2].as_ref().ok(), Some(&2));
        assert!(got[3].is_err(), "an unknown user has no sequence");
        assert_eq!(got[4].as_ref().ok(), Some(&3));
        drop(tx);
        let check = Connection::open(&path).expect("reopen");
        let last: u64 = check
            .query_row("SELECT last_seq FROM users WHERE uid = 'a'", [], |r| {
                r.get(0)
            })
            .expect("last_seq");
        assert_eq!(last, 3, "written once per batch, before its commit");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
