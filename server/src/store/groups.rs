//! Groups, their members and their bans.

use chinwag_protocol::model::{Group, GroupType, Scope};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::json_column;
use super::{DbError, DbResult};

const COLUMNS: &str = "g.guid, g.name, g.type, g.description, g.metadata, g.owner, g.created_at, \
     (SELECT COUNT(*) FROM group_members m WHERE m.guid = g.guid)";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Group> {
    let kind: String = r.get(2)?;
    Ok(Group {
        guid: r.get(0)?,
        name: r.get(1)?,
        kind: GroupType::parse(&kind).unwrap_or_default(),
        description: r.get(3)?,
        metadata: json_column(r.get(4)?),
        owner: r.get(5)?,
        created_at: r.get(6)?,
        members_count: r.get(7)?,
        scope: None,
    })
}

pub fn get(conn: &Connection, guid: &str) -> DbResult<Option<Group>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM groups g WHERE g.guid = ?1"))?
        .query_row([guid], from_row)
        .optional()
        .map_err(DbError)
}

/// A group's type, if it exists: what a membership check needs, without counting its members
/// (which [`get`] does, and which a send to a large group would pay for every message).
pub fn kind(conn: &Connection, guid: &str) -> DbResult<Option<GroupType>> {
    let kind: Option<String> = conn
        .prepare_cached("SELECT type FROM groups WHERE guid = ?1")?
        .query_row([guid], |r| r.get(0))
        .optional()?;
    Ok(kind.map(|k| GroupType::parse(&k).unwrap_or_default()))
}

/// Inserts a group; `false` when the guid is taken.
pub fn insert(conn: &Connection, group: &Group) -> DbResult<bool> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO groups (guid, name, type, description, metadata, owner, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            group.guid,
            group.name,
            group.kind.as_str(),
            group.description,
            group.metadata.to_string(),
            group.owner,
            group.created_at
        ],
    )?;
    Ok(n == 1)
}

/// Groups the user belongs to (`joined`) or public groups, in guid order after `after`.
pub fn list(
    conn: &Connection,
    uid: &str,
    joined: bool,
    search: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> DbResult<Vec<Group>> {
    let pattern = search.map(super::contains_pattern);
    let filter = if joined {
        "g.guid IN (SELECT guid FROM group_members WHERE uid = ?1)"
    } else {
        "g.type = 'public' AND ?1 IS NOT NULL"
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM groups g
         WHERE {filter} AND g.guid > ?2 AND (?3 IS NULL OR g.name LIKE ?3 ESCAPE '\\' OR g.guid LIKE ?3 ESCAPE '\\')
         ORDER BY g.guid LIMIT ?4"
    ))?;
    let rows = stmt.query_map(params![uid, after.unwrap_or(""), pattern, limit], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every group of any type, for the operator (`GET /v1/admin/groups`), in guid order.
pub fn list_all(
    conn: &Connection,
    search: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> DbResult<Vec<Group>> {
    let pattern = search.map(super::contains_pattern);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM groups g
         WHERE g.guid > ?1 AND (?2 IS NULL OR g.name LIKE ?2 ESCAPE '\\' OR g.guid LIKE ?2 ESCAPE '\\')
         ORDER BY g.guid LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![after.unwrap_or(""), pattern, limit], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn scope_of(conn: &Connection, guid: &str, uid: &str) -> DbResult<Option<Scope>> {
    let scope: Option<String> = conn
        .prepare_cached("SELECT scope FROM group_members WHERE guid = ?1 AND uid = ?2")?
        .query_row(params![guid, uid], |r| r.get(0))
        .optional()?;
    Ok(scope.and_then(|s| Scope::parse(&s)))
}

pub fn is_banned(conn: &Connection, guid: &str, uid: &str) -> DbResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM group_bans WHERE guid = ?1 AND uid = ?2")?
        .query_row(params![guid, uid], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Members with their scope and join time, in uid order.
pub fn members(conn: &Connection, guid: &str) -> DbResult<Vec<(String, Scope, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT uid, scope, joined_at FROM group_members WHERE guid = ?1 ORDER BY uid",
    )?;
    let rows = stmt.query_map([guid], |r| {
        let scope: String = r.get(1)?;
        Ok((
            r.get(0)?,
            Scope::parse(&scope).unwrap_or(Scope::Participant),
            r.get(2)?,
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

thread_local! {
    /// Member lists for fan-out, kept only on the writer thread: every membership change runs
    /// there and drops its group's entry, and a rolled-back job or batch drops them all, so the
    /// cache never disagrees with what is committed (or about to be, in this transaction).
    static MEMBERS: RefCell<Option<HashMap<String, Arc<[String]>>>> = const { RefCell::new(None) };
}

/// Turns the member cache on for the calling thread (the writer).
pub fn enable_member_cache() {
    MEMBERS.with(|m| *m.borrow_mut() = Some(HashMap::new()));
}

/// Empties the member cache (after a rollback).
pub fn forget_cached_members() {
    MEMBERS.with(|m| {
        if let Some(cache) = m.borrow_mut().as_mut() {
            cache.clear();
        }
    });
}

fn forget_members_of(guid: &str) {
    MEMBERS.with(|m| {
        if let Some(cache) = m.borrow_mut().as_mut() {
            cache.remove(guid);
        }
    });
}

pub fn member_uids(conn: &Connection, guid: &str) -> DbResult<Vec<String>> {
    let cached = MEMBERS.with(|m| m.borrow().as_ref().map(|c| c.get(guid).cloned()));
    match cached {
        Some(Some(list)) => return Ok(list.to_vec()),
        // Not the writer: no cache.
        None => return query_member_uids(conn, guid),
        Some(None) => {}
    }
    let list: Arc<[String]> = query_member_uids(conn, guid)?.into();
    MEMBERS.with(|m| {
        if let Some(cache) = m.borrow_mut().as_mut() {
            cache.insert(guid.to_string(), list.clone());
        }
    });
    Ok(list.to_vec())
}

fn query_member_uids(conn: &Connection, guid: &str) -> DbResult<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT uid FROM group_members WHERE guid = ?1")?;
    let rows = stmt.query_map([guid], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn add_member(conn: &Connection, guid: &str, uid: &str, scope: Scope, at: i64) -> DbResult<()> {
    forget_members_of(guid);
    conn.execute(
        "INSERT OR REPLACE INTO group_members (guid, uid, scope, joined_at) VALUES (?1, ?2, ?3, ?4)",
        params![guid, uid, scope.as_str(), at],
    )?;
    Ok(())
}

pub fn remove_member(conn: &Connection, guid: &str, uid: &str) -> DbResult<()> {
    forget_members_of(guid);
    conn.execute(
        "DELETE FROM group_members WHERE guid = ?1 AND uid = ?2",
        params![guid, uid],
    )?;
    Ok(())
}

pub fn set_scope(conn: &Connection, guid: &str, uid: &str, scope: Scope) -> DbResult<()> {
    conn.execute(
        "UPDATE group_members SET scope = ?3 WHERE guid = ?1 AND uid = ?2",
        params![guid, uid, scope.as_str()],
    )?;
    Ok(())
}

pub fn ban(conn: &Connection, guid: &str, uid: &str, by: &str, at: i64) -> DbResult<()> {
    conn.execute(
        "INSERT OR REPLACE INTO group_bans (guid, uid, banned_by, banned_at) VALUES (?1, ?2, ?3, ?4)",
        params![guid, uid, by, at],
    )?;
    Ok(())
}

pub fn unban(conn: &Connection, guid: &str, uid: &str) -> DbResult<bool> {
    let n = conn.execute(
        "DELETE FROM group_bans WHERE guid = ?1 AND uid = ?2",
        params![guid, uid],
    )?;
    Ok(n == 1)
}

/// Who banned `uid` from the group, if it is banned.
pub fn banned_by(conn: &Connection, guid: &str, uid: &str) -> DbResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT banned_by FROM group_bans WHERE guid = ?1 AND uid = ?2",
            params![guid, uid],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn member_count(conn: &Connection, guid: &str) -> DbResult<u64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM group_members WHERE guid = ?1",
        [guid],
        |r| r.get(0),
    )?)
}

/// How many groups `uid` is a member of (the `group_members_by_uid` index answers it).
pub fn joined_count(conn: &Connection, uid: &str) -> DbResult<u64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM group_members WHERE uid = ?1",
        [uid],
        |r| r.get(0),
    )?)
}

/// How many groups `uid` owns.
pub fn owned_count(conn: &Connection, uid: &str) -> DbResult<u64> {
    Ok(
        conn.query_row("SELECT COUNT(*) FROM groups WHERE owner = ?1", [uid], |r| {
            r.get(0)
        })?,
    )
}
