//! Friendship, always mutual; it drives the `friends` presence subscription.

use super::DbResult;
use rusqlite::{params, Connection};

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
