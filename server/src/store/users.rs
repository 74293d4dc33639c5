//! The `users` table. Status is not stored: the hub knows who is online, so rows come back
//! `offline` and the service layer fills in the live status.

use chinwag_protocol::model::{User, UserStatus};

use super::sql::{Db, Row};
use super::DbResult;
use super::{json_column, now_ms};
use crate::args;

const COLUMNS: &str = "uid, name, avatar, role, metadata, last_active_at, deactivated";

fn from_row(r: &Row<'_, '_>) -> DbResult<User> {
    Ok(User {
        uid: r.get(0)?,
        name: r.get(1)?,
        avatar: r.get(2)?,
        role: r.get(3)?,
        metadata: json_column(r.get(4)?),
        status: UserStatus::Offline,
        last_active_at: r.get(5)?,
        deactivated: r.get::<i64>(6)? != 0,
        blocked_by_me: false,
    })
}

pub fn get(conn: &Db, uid: &str) -> DbResult<Option<User>> {
    conn.opt(
        &format!("SELECT {COLUMNS} FROM users WHERE uid = ?1"),
        args![uid],
        from_row,
    )
}

pub fn exists(conn: &Db, uid: &str) -> DbResult<bool> {
    conn.exists("SELECT 1 FROM users WHERE uid = ?1", args![uid])
}

/// Inserts a user; `false` when the uid is taken (in any ASCII case).
pub fn insert(conn: &Db, user: &User) -> DbResult<bool> {
    let n = conn.execute(
        "INSERT INTO users (uid, name, avatar, role, metadata, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        args![
            &user.uid,
            &user.name,
            &user.avatar,
            &user.role,
            &user.metadata.to_string(),
            now_ms()
        ],
    )?;
    Ok(n == 1)
}

pub fn update(conn: &Db, user: &User) -> DbResult<()> {
    conn.execute(
        "UPDATE users SET name = ?2, avatar = ?3, role = ?4, metadata = ?5 WHERE uid = ?1",
        args![
            &user.uid,
            &user.name,
            &user.avatar,
            &user.role,
            &user.metadata.to_string()
        ],
    )?;
    Ok(())
}

pub fn set_deactivated(conn: &Db, uid: &str, deactivated: bool) -> DbResult<()> {
    conn.execute(
        "UPDATE users SET deactivated = ?2 WHERE uid = ?1",
        args![uid, deactivated],
    )?;
    Ok(())
}

pub fn touch_last_active(conn: &Db, uid: &str, at: i64) -> DbResult<()> {
    conn.execute(
        "UPDATE users SET last_active_at = ?2 WHERE uid = ?1",
        args![uid, at],
    )?;
    Ok(())
}

/// Users whose uid sorts after `after`, matching the optional search and role, in uid order.
/// Reads at most `scan` rows; the caller filters by live status.
pub fn list(
    conn: &Db,
    search: Option<&str>,
    role: Option<&str>,
    after: Option<&str>,
    scan: u32,
) -> DbResult<Vec<User>> {
    let pattern = search.map(super::contains_pattern);
    conn.all(
        &format!(
            "SELECT {COLUMNS} FROM users
         WHERE uid > ?1
           AND (CAST(?2 AS TEXT) IS NULL OR uid LIKE ?2 ESCAPE '\\' OR name LIKE ?2 ESCAPE '\\')
           AND (CAST(?3 AS TEXT) IS NULL OR role = ?3)
         ORDER BY uid LIMIT ?4"
        ),
        args![after.unwrap_or(""), pattern.as_deref(), role, scan],
        from_row,
    )
}

/// Hands out the user's next event sequence number. On the SQLite writer it comes from the
/// writer's cache (`seqs`); elsewhere, and always on PostgreSQL, the user's row is updated in
/// the caller's transaction, which locks it until the commit: for each user, commit order is
/// sequence order whichever node writes.
pub fn next_seq(conn: &Db, uid: &str) -> DbResult<u64> {
    if let Some(n) = super::seqs::next(conn, uid) {
        return n;
    }
    conn.one(
        "UPDATE users SET last_seq = last_seq + 1 WHERE uid = ?1 RETURNING last_seq",
        args![uid],
        |r| r.get(0),
    )
}

pub fn last_seq(conn: &Db, uid: &str) -> DbResult<u64> {
    conn.one(
        "SELECT last_seq FROM users WHERE uid = ?1",
        args![uid],
        |r| r.get(0),
    )
}
