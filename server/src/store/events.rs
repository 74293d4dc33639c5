//! The per-user event log behind resume. An event's body (its JSON) is stored once in
//! `event_bodies`; each recipient gets a row with its own next sequence number that refers to it.

use rusqlite::{params, Connection};

use super::now_ms;
use super::{DbError, DbResult};

/// Stores an event body (`{"event": ..., "data": ...}`) and returns its id.
pub fn insert_body(conn: &Connection, payload: &str) -> DbResult<i64> {
    conn.prepare_cached("INSERT INTO event_bodies (payload) VALUES (?1)")?
        .execute([payload])?;
    Ok(conn.last_insert_rowid())
}

/// Appends a stored body to a user's log, returning its sequence number there.
pub fn append(conn: &Connection, uid: &str, body_id: i64, at: i64) -> DbResult<u64> {
    let seq = super::users::next_seq(conn, uid)?;
    conn.prepare_cached(
        "INSERT INTO events (uid, seq, body_id, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![uid, seq, body_id, at])?;
    Ok(seq)
}

/// A user's events with a sequence number in `(after, up_to]`, in order, as their stored JSON
/// bodies (not parsed: they go to the socket as they are): at most `limit` rows, and no more once
/// `max_bytes` are reached (always at least one row).
pub fn range(
    conn: &Connection,
    uid: &str,
    after: u64,
    up_to: u64,
    limit: usize,
    max_bytes: usize,
) -> DbResult<Vec<(u64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.seq, COALESCE(b.payload, e.payload) FROM events e
         LEFT JOIN event_bodies b ON b.id = e.body_id
         WHERE e.uid = ?1 AND e.seq > ?2 AND e.seq <= ?3 ORDER BY e.seq LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![uid, after, up_to, limit as i64], |r| {
        Ok((r.get::<_, u64>(0)?, r.get::<_, Option<String>>(1)?))
    })?;
    let mut out = Vec::new();
    let mut bytes = 0;
    for row in rows {
        match row? {
            (seq, Some(payload)) => {
                bytes += payload.len();
                out.push((seq, payload));
            }
            (seq, None) => tracing::error!(uid, seq, "stored event without a body skipped"),
        }
        if bytes >= max_bytes {
            break;
        }
    }
    Ok(out)
}

/// How many of a user's events lie in `(after, up_to]`.
pub fn count(conn: &Connection, uid: &str, after: u64, up_to: u64) -> DbResult<u64> {
    conn.prepare_cached("SELECT COUNT(*) FROM events WHERE uid = ?1 AND seq > ?2 AND seq <= ?3")?
        .query_row(params![uid, after, up_to], |r| r.get(0))
        .map_err(DbError)
}

/// Deletes at most `max_rows` events that can no longer be replayed (all but each user's newest
/// `keep`, and none younger than `min_age_ms`, so a replay that is streaming cannot lose rows it
/// announced), then bodies no row refers to any more. Returns how many events went; the caller
/// repeats while that is `max_rows`, so the writer is never held for long.
pub fn prune(conn: &Connection, keep: u64, min_age_ms: i64, max_rows: usize) -> DbResult<usize> {
    let before = now_ms() - min_age_ms;
    let mut stmt = conn.prepare_cached(
        "DELETE FROM events WHERE (uid, seq) IN (SELECT e.uid, e.seq FROM events e
         WHERE e.created_at < ?2
           AND e.seq <= (SELECT u.last_seq FROM users u WHERE u.uid = e.uid) - ?1
         LIMIT ?3) RETURNING body_id",
    )?;
    let bodies = stmt
        .query_map(params![keep, before, max_rows as i64], |r| {
            r.get::<_, Option<i64>>(0)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let deleted = bodies.len();
    let mut orphan = conn.prepare_cached(
        "DELETE FROM event_bodies WHERE id = ?1
         AND NOT EXISTS (SELECT 1 FROM events WHERE body_id = ?1)",
    )?;
    let mut seen = std::collections::HashSet::new();
    for id in bodies.into_iter().flatten() {
        if seen.insert(id) {
            orphan.execute([id])?;
        }
    }
    Ok(deleted)
}
