//! The `users` table. Status is not stored: the hub knows who is online, so rows come back
//! `offline` and the service layer fills in the live status.

use chinwag_protocol::model::{User, UserStatus};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{json_column, now_ms};
use super::{DbError, DbResult};

const COLUMNS: &str = "uid, name, avatar, role, metadata, last_active_at, deactivated";

fn from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        uid: r.get(0)?,
        name: r.get(1)?,
        avatar: r.get(2)?,
        role: r.get(3)?,
        metadata: json_column(r.get(4)?),
        status: UserStatus::Offline,
        last_active_at: r.get(5)?,
        deactivated: r.get::<_, i64>(6)? != 0,
        blocked_by_me: false,
    })
}

pub fn get(conn: &Connection, uid: &str) -> DbResult<Option<User>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE uid = ?1"))?
        .query_row([uid], from_row)
        .optional()
        .map_err(DbError)
}

pub fn exists(conn: &Connection, uid: &str) -> DbResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM users WHERE uid = ?1")?
        .query_row([uid], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Inserts a user; `false` when the uid is taken.
pub fn insert(conn: &Connection, user: &User) -> DbResult<bool> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO users (uid, name, avatar, role, metadata, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            user.uid,
            user.name,
            user.avatar,
            user.role,
            user.metadata.to_string(),
            now_ms()
        ],
    )?;
    Ok(n == 1)
}

pub fn update(conn: &Connection, user: &User) -> DbResult<()> {
    conn.execute(
        "UPDATE users SET name = ?2, avatar = ?3, role = ?4, metadata = ?5 WHERE uid = ?1",
        params![
            user.uid,
            user.name,
            user.avatar,
            user.role,
            user.metadata.to_string()
        ],
    )?;
    Ok(())
}

pub fn set_deactivated(conn: &Connection, uid: &str, deactivated: bool) -> DbResult<()> {
    conn.execute(
        "UPDATE users SET deactivated = ?2 WHERE uid = ?1",
        params![uid, deactivated as i64],
    )?;
    Ok(())
}

pub fn touch_last_active(conn: &Connection, uid: &str, at: i64) -> DbResult<()> {
    conn.execute(
        "UPDATE users SET last_active_at = ?2 WHERE uid = ?1",
        params![uid, at],
    )?;
    Ok(())
}

/// Users whose uid sorts after `after`, matching the optional search and role, in uid order.
/// Reads at most `scan` rows; the caller filters by live status.
pub fn list(
    conn: &Connection,
    search: Option<&str>,
    role: Option<&str>,
    after: Option<&str>,
    scan: u32,
) -> DbResult<Vec<User>> {
    let pattern = search.map(super::contains_pattern);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM users
         WHERE uid > ?1
           AND (?2 IS NULL OR uid LIKE ?2 ESCAPE '\\' OR name LIKE ?2 ESCAPE '\\')
           AND (?3 IS NULL OR role = ?3)
         ORDER BY uid LIMIT ?4"
    ))?;
    let rows = stmt.query_map(params![after.unwrap_or(""), pattern, role, scan], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Hands out the user's next event sequence number.
pub fn next_seq(conn: &Connection, uid: &str) -> DbResult<u64> {
    if let Some(n) = super::seqs::next(conn, uid) {
        return n;
    }
    conn.prepare_cached(
        "UPDATE users SET last_seq = last_seq + 1 WHERE uid = ?1 RETURNING last_seq",
    )?
    .query_row([uid], |r| r.get(0))
    .map_err(DbError)
}

pub fn last_seq(conn: &Connection, uid: &str) -> DbResult<u64> {
    conn.prepare_cached("SELECT last_seq FROM users WHERE uid = ?1")?
        .query_row([uid], |r| r.get(0))
        .map_err(DbError)
}
