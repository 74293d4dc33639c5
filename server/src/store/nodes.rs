//! Nodes sharing one PostgreSQL database (issue 12): their heartbeats, and which of them hold a
//! socket of which user.

use super::sql::Db;
use super::DbResult;
use crate::args;

/// Records `node`'s heartbeat; `false` when its row was gone (another node declared it dead
/// and cleaned up its users' presence: the caller restores it).
pub fn beat(conn: &Db, node: &str, at: i64) -> DbResult<bool> {
    let n = conn.execute(
        "UPDATE nodes SET beat_at = ?2 WHERE node = ?1",
        args![node, at],
    )?;
    if n == 0 {
        conn.execute(
            "INSERT INTO nodes (node, beat_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            args![node, at],
        )?;
    }
    Ok(n == 1)
}

/// Nodes other than `me` whose last heartbeat is older than `before`.
pub fn silent(conn: &Db, me: &str, before: i64) -> DbResult<Vec<String>> {
    conn.all(
        "SELECT node FROM nodes WHERE beat_at < ?1 AND node <> ?2",
        args![before, me],
        |r| r.get(0),
    )
}

/// Removes a silent node, if it is still silent and no other node removed it first (the row
/// lock makes one of them win); returns the users it held who are now on no node, with their
/// roles.
pub fn remove_dead(conn: &Db, node: &str, before: i64) -> DbResult<Option<Vec<(String, String)>>> {
    let n = conn.execute(
        "DELETE FROM nodes WHERE node = ?1 AND beat_at < ?2",
        args![node, before],
    )?;
    if n == 0 {
        return Ok(None);
    }
    let held: Vec<String> = conn.all(
        "SELECT uid FROM presence WHERE node = ?1 ORDER BY uid",
        args![node],
        |r| r.get(0),
    )?;
    conn.execute("DELETE FROM presence WHERE node = ?1", args![node])?;
    let mut offline = Vec::new();
    for uid in held {
        if let Some(role) = offline_role(conn, &uid)? {
            offline.push((uid, role));
        }
    }
    Ok(Some(offline))
}

/// The user's role when no node holds a socket of theirs any more.
fn offline_role(conn: &Db, uid: &str) -> DbResult<Option<String>> {
    let left: i64 = conn.one(
        "SELECT COUNT(*) FROM presence WHERE uid = ?1",
        args![uid],
        |r| r.get(0),
    )?;
    if left > 0 {
        return Ok(None);
    }
    conn.opt("SELECT role FROM users WHERE uid = ?1", args![uid], |r| {
        r.get(0)
    })
}

/// `node` holds a socket of `uid` (the user's row is locked first, as in [`release`]).
pub fn hold(conn: &Db, uid: &str, node: &str, at: i64) -> DbResult<()> {
    super::users::touch_last_active(conn, uid, at)?;
    conn.execute(
        "INSERT INTO presence (uid, node) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        args![uid, node],
    )?;
    Ok(())
}

/// `node` no longer holds a socket of `uid`; returns whether no node does. The user's row is
/// locked first (last_active_at is set), so two nodes letting go at once see each other's
/// change and exactly one of them finds the user offline.
pub fn release(conn: &Db, uid: &str, node: &str, at: i64) -> DbResult<bool> {
    super::users::touch_last_active(conn, uid, at)?;
    conn.execute(
        "DELETE FROM presence WHERE uid = ?1 AND node = ?2",
        args![uid, node],
    )?;
    let left: i64 = conn.one(
        "SELECT COUNT(*) FROM presence WHERE uid = ?1",
        args![uid],
        |r| r.get(0),
    )?;
    Ok(left == 0)
}

/// Users with a socket on any node, with their roles (for a presence snapshot).
pub fn online(conn: &Db) -> DbResult<Vec<(String, String)>> {
    conn.all(
        "SELECT DISTINCT p.uid, u.role FROM presence p JOIN users u ON u.uid = p.uid",
        &[],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}
