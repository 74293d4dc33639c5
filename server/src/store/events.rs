//! The per-user event log behind resume. An event's body (its JSON) is stored once in
//! `event_bodies`; each recipient gets a row with its own next sequence number that refers to it.

use super::now_ms;
use super::sql::Db;
use super::DbResult;
use crate::args;

/// Stores an event body (`{"event": ..., "data": ...}`) that `refs` log rows will refer to, and
/// returns its id.
pub fn insert_body(conn: &Db, payload: &str, refs: usize) -> DbResult<i64> {
    conn.insert_id(
        "INSERT INTO event_bodies (payload, refs) VALUES (?1, ?2)",
        args![payload, refs],
    )
}

/// Appends a stored body to a user's log, returning its sequence number there.
pub fn append(conn: &Db, uid: &str, body_id: i64, at: i64) -> DbResult<u64> {
    let seq = super::users::next_seq(conn, uid)?;
    append_at(conn, uid, seq, body_id, at)?;
    Ok(seq)
}

/// Appends a stored body to a user's log under a number already taken with
/// `users::next_seq`.
pub fn append_at(conn: &Db, uid: &str, seq: u64, body_id: i64, at: i64) -> DbResult<()> {
    conn.execute(
        "INSERT INTO events (uid, seq, body_id, created_at) VALUES (?1, ?2, ?3, ?4)",
        args![uid, seq, body_id, at],
    )?;
    Ok(())
}

/// A user's events with a sequence number in `(after, up_to]`, in order, as their stored JSON
/// bodies (not parsed: they go to the socket as they are): at most `limit` rows, and no more once
/// `max_bytes` are reached (always at least one row).
pub fn range(
    conn: &Db,
    uid: &str,
    after: u64,
    up_to: u64,
    limit: usize,
    max_bytes: usize,
) -> DbResult<Vec<(u64, String)>> {
    let mut out = Vec::new();
    let mut bytes = 0;
    conn.each(
        "SELECT e.seq, COALESCE(b.payload, e.payload) FROM events e
         LEFT JOIN event_bodies b ON b.id = e.body_id
         WHERE e.uid = ?1 AND e.seq > ?2 AND e.seq <= ?3 ORDER BY e.seq LIMIT ?4",
        args![uid, after, up_to, limit],
        |r| {
            match (r.get::<u64>(0)?, r.get::<Option<String>>(1)?) {
                (seq, Some(payload)) => {
                    bytes += payload.len();
                    out.push((seq, payload));
                }
                (seq, None) => tracing::error!(uid, seq, "stored event without a body skipped"),
            }
            Ok(bytes < max_bytes)
        },
    )?;
    Ok(out)
}

/// How many of a user's events lie in `(after, up_to]`.
pub fn count(conn: &Db, uid: &str, after: u64, up_to: u64) -> DbResult<u64> {
    conn.one(
        "SELECT COUNT(*) FROM events WHERE uid = ?1 AND seq > ?2 AND seq <= ?3",
        args![uid, after, up_to],
        |r| r.get(0),
    )
}

/// Deletes at most `max_rows` events that can no longer be replayed (all but each user's newest
/// `keep`, and none younger than `min_age_ms`, so a replay that is streaming cannot lose rows it
/// announced), then bodies no row refers to any more. Returns how many events went; the caller
/// repeats while that is `max_rows`, so the writer is never held for long.
pub fn prune(conn: &Db, keep: u64, min_age_ms: i64, max_rows: usize) -> DbResult<usize> {
    let before = now_ms() - min_age_ms;
    let bodies: Vec<Option<i64>> = conn.all(
        "DELETE FROM events WHERE (uid, seq) IN (SELECT e.uid, e.seq FROM events e
         WHERE e.created_at < ?2
           AND e.seq <= (SELECT u.last_seq FROM users u WHERE u.uid = e.uid) - ?1
         LIMIT ?3) RETURNING body_id",
        args![keep, before, max_rows],
        |r| r.get(0),
    )?;
    let deleted = bodies.len();
    let mut released: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
    for id in bodies.into_iter().flatten() {
        *released.entry(id).or_default() += 1;
    }
    for (id, n) in released {
        conn.execute(
            "UPDATE event_bodies SET refs = refs - ?2 WHERE id = ?1",
            args![id, n],
        )?;
        conn.execute(
            "DELETE FROM event_bodies WHERE id = ?1 AND refs <= 0",
            args![id],
        )?;
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    use rusqlite::Connection;

    fn db() -> Db {
        let conn = Connection::open_in_memory().expect("open");
        crate::store::migrate(&conn).expect("migrate");
        for uid in ["a", "b"] {
            conn.execute(
                "INSERT INTO users (uid, name, created_at) VALUES (?1, ?1, 0)",
                [uid],
            )
            .expect("user");
        }
        Db::Sqlite(conn)
    }

    fn bodies(conn: &Db) -> Vec<(i64, i64)> {
        conn.all("SELECT id, refs FROM event_bodies ORDER BY id", &[], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("bodies")
    }

    #[test]
    fn a_body_is_stored_once_and_dropped_with_its_last_row() {
        let conn = db();
        // Three events for both users, written an hour ago.
        for i in 0..3 {
            let body =
                insert_body(&conn, &format!(r#"{{"event":"x","data":{i}}}"#), 2).expect("body");
            for uid in ["a", "b"] {
                append(&conn, uid, body, now_ms() - 2 * 3_600_000).expect("append");
            }
        }
        assert_eq!(bodies(&conn), vec![(1, 2), (2, 2), (3, 2)]);
        let replay = range(&conn, "a", 0, 3, 10, 1 << 20).expect("range");
        assert_eq!(replay.len(), 3);
        assert_eq!(replay[1], (2, r#"{"event":"x","data":1}"#.to_string()));

        // Keep each user's newest one: the two older bodies lose both rows and go.
        assert_eq!(prune(&conn, 1, 3_600_000, 100).expect("prune"), 4);
        assert_eq!(bodies(&conn), vec![(3, 2)]);
        assert_eq!(
            range(&conn, "b", 0, 3, 10, 1 << 20).expect("range").len(),
            1
        );
        // Young rows are kept whatever the window says.
        let body = insert_body(&conn, "{}", 1).expect("body");
        append(&conn, "a", body, now_ms()).expect("append");
        assert_eq!(prune(&conn, 0, 3_600_000, 100).expect("prune"), 2);
        assert_eq!(bodies(&conn), vec![(4, 1)]);
    }

    #[test]
    fn a_chunk_stops_at_its_byte_bound_but_never_empty() {
        let conn = db();
        for _ in 0..5 {
            let body =
                insert_body(&conn, &format!(r#"{{"p":"{}"}}"#, "x".repeat(100)), 1).expect("body");
            append(&conn, "a", body, now_ms()).expect("append");
        }
        assert_eq!(range(&conn, "a", 0, 5, 10, 250).expect("range").len(), 3);
        assert_eq!(range(&conn, "a", 0, 5, 10, 1).expect("range").len(), 1);
        assert_eq!(
            range(&conn, "a", 2, 4, 10, 1 << 20).expect("range").len(),
            2
        );
        assert_eq!(count(&conn, "a", 1, 5).expect("count"), 4);
    }
}
