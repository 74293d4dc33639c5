//! Friendship, always mutual; it drives the `friends` presence subscription.

use super::sql::Db;
use super::DbResult;
use crate::args;

pub fn add(conn: &Db, a: &str, b: &str) -> DbResult<()> {
    let sql = "INSERT INTO friends (uid, friend) VALUES (?1, ?2) ON CONFLICT DO NOTHING";
    conn.execute(sql, args![a, b])?;
    conn.execute(sql, args![b, a])?;
    Ok(())
}

pub fn remove(conn: &Db, a: &str, b: &str) -> DbResult<()> {
    conn.execute(
        "DELETE FROM friends WHERE (uid = ?1 AND friend = ?2) OR (uid = ?2 AND friend = ?1)",
        args![a, b],
    )?;
    Ok(())
}

pub fn list(conn: &Db, uid: &str) -> DbResult<Vec<String>> {
    conn.all(
        "SELECT friend FROM friends WHERE uid = ?1 ORDER BY friend",
        args![uid],
        |r| r.get(0),
    )
}

pub fn are_friends(conn: &Db, a: &str, b: &str) -> DbResult<bool> {
    conn.exists(
        "SELECT 1 FROM friends WHERE uid = ?1 AND friend = ?2",
        args![a, b],
    )
}

pub fn has_request(conn: &Db, from: &str, to: &str) -> DbResult<bool> {
    conn.exists(
        "SELECT 1 FROM friend_requests WHERE from_uid = ?1 AND to_uid = ?2",
        args![from, to],
    )
}

pub fn request(conn: &Db, from: &str, to: &str, at: i64) -> DbResult<()> {
    conn.execute(
        "INSERT INTO friend_requests (from_uid, to_uid, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
        args![from, to, at],
    )?;
    Ok(())
}

/// Drops pending requests in both directions; true when there was one.
pub fn drop_requests(conn: &Db, a: &str, b: &str) -> DbResult<bool> {
    let n = conn.execute(
        "DELETE FROM friend_requests
         WHERE (from_uid = ?1 AND to_uid = ?2) OR (from_uid = ?2 AND to_uid = ?1)",
        args![a, b],
    )?;
    Ok(n > 0)
}

/// Pending requests to `uid` (incoming) and from `uid` (outgoing), in uid order.
pub fn requests(conn: &Db, uid: &str) -> DbResult<(Vec<String>, Vec<String>)> {
    let inc = conn.all(
        "SELECT from_uid FROM friend_requests WHERE to_uid = ?1 ORDER BY from_uid",
        args![uid],
        |r| r.get(0),
    )?;
    let out = conn.all(
        "SELECT to_uid FROM friend_requests WHERE from_uid = ?1 ORDER BY to_uid",
        args![uid],
        |r| r.get(0),
    )?;
    Ok((inc, out))
}
