//! Friendship, always mutual; it drives the `friends` presence subscription.

use super::DbResult;
use rusqlite::{params, Connection, OptionalExtension};

pub fn add(conn: &Connection, a: &str, b: &str) -> DbResult<()> {
    let mut stmt =
        conn.prepare_cached("INSERT OR IGNORE INTO friends (uid, friend) VALUES (?1, ?2)")?;
    stmt.execute(params![a, b])?;
    stmt.execute(params![b, a])?;
    Ok(())
}

pub fn remove(conn: &Connection, a: &str, b: &str) -> DbResult<()> {
    conn.execute(
        "DELETE FROM friends WHERE (uid = ?1 AND friend = ?2) OR (uid = ?2 AND friend = ?1)",
        params![a, b],
    )?;
    Ok(())
}

pub fn list(conn: &Connection, uid: &str) -> DbResult<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT friend FROM friends WHERE uid = ?1 ORDER BY friend")?;
    let rows = stmt.query_map([uid], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn are_friends(conn: &Connection, a: &str, b: &str) -> DbResult<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM friends WHERE uid = ?1 AND friend = ?2",
            params![a, b],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

pub fn has_request(conn: &Connection, from: &str, to: &str) -> DbResult<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM friend_requests WHERE from_uid = ?1 AND to_uid = ?2",
            params![from, to],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

pub fn request(conn: &Connection, from: &str, to: &str, at: i64) -> DbResult<()> {
    conn.execute(
        "INSERT OR IGNORE INTO friend_requests (from_uid, to_uid, created_at) VALUES (?1, ?2, ?3)",
        params![from, to, at],
    )?;
    Ok(())
}

/// Drops pending requests in both directions; true when there was one.
pub fn drop_requests(conn: &Connection, a: &str, b: &str) -> DbResult<bool> {
    let n = conn.execute(
        "DELETE FROM friend_requests
         WHERE (from_uid = ?1 AND to_uid = ?2) OR (from_uid = ?2 AND to_uid = ?1)",
        params![a, b],
    )?;
    Ok(n > 0)
}

/// Pending requests to `uid` (incoming) and from `uid` (outgoing), in uid order.
pub fn requests(conn: &Connection, uid: &str) -> DbResult<(Vec<String>, Vec<String>)> {
    let mut incoming = conn.prepare_cached(
        "SELECT from_uid FROM friend_requests WHERE to_uid = ?1 ORDER BY from_uid",
    )?;
    let inc = incoming
        .query_map([uid], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut outgoing = conn
        .prepare_cached("SELECT to_uid FROM friend_requests WHERE from_uid = ?1 ORDER BY to_uid")?;
    let out = outgoing
        .query_map([uid], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok((inc, out))
}
