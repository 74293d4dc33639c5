//! The per-user event log behind resume: each durable event is stored once per recipient with
//! that recipient's next sequence number.

use chinwag_protocol::{Event, EventFrame};
use rusqlite::{params, Connection};

use super::now_ms;
use super::{DbError, DbResult};

/// Appends an event to a user's log, returning it with its sequence number.
pub fn append(conn: &Connection, uid: &str, event: Event) -> DbResult<EventFrame> {
    let seq = super::users::next_seq(conn, uid)?;
    let payload = serde_json::to_string(&event)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    conn.prepare_cached(
        "INSERT INTO events (uid, seq, payload, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![uid, seq, payload, now_ms()])?;
    Ok(EventFrame { seq, event })
}

/// A user's events with a sequence number in `(after, up_to]`, in order.
pub fn range(conn: &Connection, uid: &str, after: u64, up_to: u64) -> DbResult<Vec<EventFrame>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, payload FROM events WHERE uid = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![uid, after, up_to], |r| {
        Ok((r.get::<_, u64>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, payload) = row?;
        match serde_json::from_str::<Event>(&payload) {
            Ok(event) => out.push(EventFrame { seq, event }),
            Err(e) => tracing::error!(uid, seq, error = %e, "unreadable stored event skipped"),
        }
    }
    Ok(out)
}

/// Deletes events that can no longer be replayed: all but each user's newest `keep`.
pub fn prune(conn: &Connection, keep: u64) -> DbResult<usize> {
    conn.execute(
        "DELETE FROM events WHERE seq <= (SELECT u.last_seq FROM users u WHERE u.uid = events.uid) - ?1",
        [keep],
    )
    .map_err(DbError)
}
