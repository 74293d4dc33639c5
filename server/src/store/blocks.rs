//! Blocks (migration 005): who blocked whom. One function per operation, plain SQL.

use super::sql::Db;
use super::DbResult;
use crate::args;

/// `uid` blocks `other`; false when it already had.
pub fn add(conn: &Db, uid: &str, other: &str, at: i64) -> DbResult<bool> {
    let n = conn.execute(
        "INSERT INTO blocks (uid, blocked, created_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        args![uid, other, at],
    )?;
    Ok(n > 0)
}

/// `uid` unblocks `other`; false when it had not blocked them.
pub fn remove(conn: &Db, uid: &str, other: &str) -> DbResult<bool> {
    let n = conn.execute(
        "DELETE FROM blocks WHERE uid = ?1 AND blocked = ?2",
        args![uid, other],
    )?;
    Ok(n > 0)
}

/// Whether `uid` blocked `other`.
pub fn has_blocked(conn: &Db, uid: &str, other: &str) -> DbResult<bool> {
    conn.exists(
        "SELECT 1 FROM blocks WHERE uid = ?1 AND blocked = ?2",
        args![uid, other],
    )
}

/// The users `uid` blocked, in uid order, after `after`, at most `limit`.
pub fn blocked_by(conn: &Db, uid: &str, after: &str, limit: u32) -> DbResult<Vec<String>> {
    conn.all(
        "SELECT blocked FROM blocks WHERE uid = ?1 AND blocked > ?2 ORDER BY blocked LIMIT ?3",
        args![uid, after, limit],
        |r| r.get(0),
    )
}

/// The users who blocked `uid` (whom nothing of `uid`'s reaches).
pub fn blockers_of(conn: &Db, uid: &str) -> DbResult<Vec<String>> {
    conn.all(
        "SELECT uid FROM blocks WHERE blocked = ?1",
        args![uid],
        |r| r.get(0),
    )
}
