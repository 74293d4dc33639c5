//! Blocks (migration 005): who blocked whom. One function per operation, plain SQL.

use rusqlite::{params, Connection, OptionalExtension};

use super::DbResult;

/// `uid` blocks `other`; false when it already had.
pub fn add(conn: &Connection, uid: &str, other: &str, at: i64) -> DbResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO blocks (uid, blocked, created_at) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![uid, other, at])?;
    Ok(n > 0)
}

/// `uid` unblocks `other`; false when it had not blocked them.
pub fn remove(conn: &Connection, uid: &str, other: &str) -> DbResult<bool> {
    let n = conn
        .prepare_cached("DELETE FROM blocks WHERE uid = ?1 AND blocked = ?2")?
        .execute(params![uid, other])?;
    Ok(n > 0)
}

/// Whether `uid` blocked `other`.
pub fn has_blocked(conn: &Connection, uid: &str, other: &str) -> DbResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM blocks WHERE uid = ?1 AND blocked = ?2")?
        .query_row(params![uid, other], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The users `uid` blocked, in uid order, after `after`, at most `limit`.
pub fn blocked_by(conn: &Connection, uid: &str, after: &str, limit: u32) -> DbResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT blocked FROM blocks WHERE uid = ?1 AND blocked > ?2 ORDER BY blocked LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![uid, after, limit], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The users who blocked `uid` (whom nothing of `uid`'s reaches).
pub fn blockers_of(conn: &Connection, uid: &str) -> DbResult<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT uid FROM blocks WHERE blocked = ?1")?;
    let rows = stmt.query_map([uid], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
