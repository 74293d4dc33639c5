//! Per-user sequence numbers on the writer thread: handed out from memory and written to
//! `users.last_seq` once per user per batch, just before the batch commits, instead of one
//! `UPDATE` per recipient per event. A job that fails has its numbers taken back; a batch that
//! fails to commit empties the cache, so memory never runs ahead of what is committed.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use super::sql::Db;
use super::DbResult;
use crate::args;

/// Users whose position is kept between batches; beyond it the cache starts over.
const MAX_CACHED: usize = 100_000;

#[derive(Default)]
struct Seqs {
    /// Newest number handed out per user (committed, or written before this batch commits).
    last: HashMap<String, u64>,
    /// Users whose number changed in this batch.
    dirty: HashSet<String>,
    /// The current job's first change to each user: uid -> (number before the job, was dirty).
    /// Sets and maps, not lists: a fan-out to 1,000 members touches 1,000 users in one job.
    undo: HashMap<String, (Option<u64>, bool)>,
}

thread_local! {
    static SEQS: RefCell<Option<Seqs>> = const { RefCell::new(None) };
}

/// Turns the cache on for the calling thread (the writer). Elsewhere `users::next_seq` writes
/// through at once.
pub fn enable() {
    SEQS.with(|s| *s.borrow_mut() = Some(Seqs::default()));
}

/// The next number for `uid`, or `None` when the cache is off on this thread.
pub(super) fn next(conn: &Db, uid: &str) -> Option<DbResult<u64>> {
    SEQS.with(|s| {
        let mut guard = s.borrow_mut();
        let seqs = guard.as_mut()?;
        let current = match seqs.last.get(uid) {
            Some(n) => *n,
            None => match load(conn, uid) {
                Ok(n) => n,
                Err(e) => return Some(Err(e)),
            },
        };
        if !seqs.undo.contains_key(uid) {
            let before = seqs.last.get(uid).copied();
            let was_dirty = seqs.dirty.contains(uid);
            seqs.undo.insert(uid.to_string(), (before, was_dirty));
        }
        if !seqs.dirty.contains(uid) {
            seqs.dirty.insert(uid.to_string());
        }
        // In place when known: a fan-out calls this once per recipient.
        match seqs.last.get_mut(uid) {
            Some(n) => *n = current + 1,
            None => {
                seqs.last.insert(uid.to_string(), current + 1);
            }
        }
        Some(Ok(current + 1))
    })
}

fn load(conn: &Db, uid: &str) -> DbResult<u64> {
    super::users::last_seq(conn, uid)
}

/// A job starts: its changes can be taken back from here.
pub fn job_started() {
    with(|s| s.undo.clear());
}

/// The job failed and its savepoint was rolled back: take back its numbers.
pub fn job_failed() {
    with(|s| {
        for (uid, (before, was_dirty)) in s.undo.drain() {
            match before {
                Some(n) => {
                    s.last.insert(uid.clone(), n);
                }
                None => {
                    s.last.remove(&uid);
                }
            }
            if !was_dirty {
                s.dirty.remove(&uid);
            }
        }
    });
}

/// Writes this batch's numbers into `users`; runs inside the batch, before its commit.
pub fn flush(conn: &Db) -> DbResult<()> {
    let dirty = SEQS.with(|s| {
        s.borrow_mut()
            .as_mut()
            .map(|s| {
                let out: Vec<(String, u64)> = s
                    .dirty
                    .drain()
                    .filter_map(|u| s.last.get(&u).map(|n| (u, *n)))
                    .collect();
                out
            })
            .unwrap_or_default()
    });
    for (uid, n) in dirty {
        conn.execute(
            "UPDATE users SET last_seq = ?2 WHERE uid = ?1",
            args![&uid, n],
        )?;
    }
    Ok(())
}

/// The batch committed: bound the cache.
pub fn batch_committed() {
    with(|s| {
        if s.last.len() > MAX_CACHED {
            s.last.clear();
        }
    });
}

/// The batch did not commit: forget everything.
pub fn forget() {
    with(|s| *s = Seqs::default());
}

fn with(f: impl FnOnce(&mut Seqs)) {
    SEQS.with(|s| {
        if let Some(seqs) = s.borrow_mut().as_mut() {
            f(seqs)
        }
    })
}
