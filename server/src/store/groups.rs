//! Groups, their members and their bans.

use chinwag_protocol::model::{Group, GroupType, Scope};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use super::json_column;
use super::sql::{Db, Row};
use super::DbResult;
use crate::args;

const COLUMNS: &str = "g.guid, g.name, g.type, g.description, g.metadata, g.owner, g.created_at, \
     (SELECT COUNT(*) FROM group_members m WHERE m.guid = g.guid)";

fn from_row(r: &Row<'_, '_>) -> DbResult<Group> {
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

pub fn get(conn: &Db, guid: &str) -> DbResult<Option<Group>> {
    conn.opt(
        &format!("SELECT {COLUMNS} FROM groups g WHERE g.guid = ?1"),
        args![guid],
        from_row,
    )
}

/// A group's type, if it exists: what a membership check needs, without counting its members
/// (which [`get`] does, and which a send to a large group would pay for every message).
pub fn kind(conn: &Db, guid: &str) -> DbResult<Option<GroupType>> {
    let kind: Option<String> = conn.opt(
        "SELECT type FROM groups WHERE guid = ?1",
        args![guid],
        |r| r.get(0),
    )?;
    Ok(kind.map(|k| GroupType::parse(&k).unwrap_or_default()))
}

/// Inserts a group; `false` when the guid is taken.
pub fn insert(conn: &Db, group: &Group) -> DbResult<bool> {
    let n = conn.execute(
        "INSERT INTO groups (guid, name, type, description, metadata, owner, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
        args![
            &group.guid,
            &group.name,
            group.kind.as_str(),
            &group.description,
            &group.metadata.to_string(),
            &group.owner,
            group.created_at
        ],
    )?;
    Ok(n == 1)
}

/// Groups the user belongs to (`joined`) or public groups, in guid order after `after`.
pub fn list(
    conn: &Db,
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
        "g.type = 'public' AND CAST(?1 AS TEXT) IS NOT NULL"
    };
    conn.all(
        &format!(
            "SELECT {COLUMNS} FROM groups g
         WHERE {filter} AND g.guid > ?2 AND (CAST(?3 AS TEXT) IS NULL OR g.name LIKE ?3 ESCAPE '\\' OR g.guid LIKE ?3 ESCAPE '\\')
         ORDER BY g.guid LIMIT ?4"
        ),
        args![uid, after.unwrap_or(""), pattern.as_deref(), limit],
        from_row,
    )
}

/// Every group of any type, for the operator (`GET /v1/admin/groups`), in guid order.
pub fn list_all(
    conn: &Db,
    search: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> DbResult<Vec<Group>> {
    let pattern = search.map(super::contains_pattern);
    conn.all(
        &format!(
            "SELECT {COLUMNS} FROM groups g
         WHERE g.guid > ?1 AND (CAST(?2 AS TEXT) IS NULL OR g.name LIKE ?2 ESCAPE '\\' OR g.guid LIKE ?2 ESCAPE '\\')
         ORDER BY g.guid LIMIT ?3"
        ),
        args![after.unwrap_or(""), pattern.as_deref(), limit],
        from_row,
    )
}

pub fn scope_of(conn: &Db, guid: &str, uid: &str) -> DbResult<Option<Scope>> {
    let scope: Option<String> = conn.opt(
        "SELECT scope FROM group_members WHERE guid = ?1 AND uid = ?2",
        args![guid, uid],
        |r| r.get(0),
    )?;
    Ok(scope.and_then(|s| Scope::parse(&s)))
}

pub fn is_banned(conn: &Db, guid: &str, uid: &str) -> DbResult<bool> {
    conn.exists(
        "SELECT 1 FROM group_bans WHERE guid = ?1 AND uid = ?2",
        args![guid, uid],
    )
}

/// Members with their scope and join time, in uid order.
pub fn members(conn: &Db, guid: &str) -> DbResult<Vec<(String, Scope, i64)>> {
    conn.all(
        "SELECT uid, scope, joined_at FROM group_members WHERE guid = ?1 ORDER BY uid",
        args![guid],
        |r| {
            let scope: String = r.get(1)?;
            Ok((
                r.get(0)?,
                Scope::parse(&scope).unwrap_or(Scope::Participant),
                r.get(2)?,
            ))
        },
    )
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

pub fn member_uids(conn: &Db, guid: &str) -> DbResult<Vec<String>> {
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

fn query_member_uids(conn: &Db, guid: &str) -> DbResult<Vec<String>> {
    conn.all(
        "SELECT uid FROM group_members WHERE guid = ?1",
        args![guid],
        |r| r.get(0),
    )
}

pub fn add_member(conn: &Db, guid: &str, uid: &str, scope: Scope, at: i64) -> DbResult<()> {
    forget_members_of(guid);
    // Before the member row: a rejoin starts with everything read (see `joined`).
    let conversation = chinwag_protocol::model::group_conversation_id(guid);
    super::conversations::joined(conn, uid, guid, &conversation, at, false)?;
    conn.execute(
        "INSERT INTO group_members (guid, uid, scope, joined_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (guid, uid) DO UPDATE SET scope = excluded.scope, joined_at = excluded.joined_at",
        args![guid, uid, scope.as_str(), at],
    )?;
    Ok(())
}

pub fn remove_member(conn: &Db, guid: &str, uid: &str) -> DbResult<()> {
    forget_members_of(guid);
    conn.execute(
        "DELETE FROM group_members WHERE guid = ?1 AND uid = ?2",
        args![guid, uid],
    )?;
    Ok(())
}

pub fn set_scope(conn: &Db, guid: &str, uid: &str, scope: Scope) -> DbResult<()> {
    conn.execute(
        "UPDATE group_members SET scope = ?3 WHERE guid = ?1 AND uid = ?2",
        args![guid, uid, scope.as_str()],
    )?;
    Ok(())
}

pub fn ban(conn: &Db, guid: &str, uid: &str, by: &str, at: i64) -> DbResult<()> {
    conn.execute(
        "INSERT INTO group_bans (guid, uid, banned_by, banned_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (guid, uid) DO UPDATE SET banned_by = excluded.banned_by,
             banned_at = excluded.banned_at",
        args![guid, uid, by, at],
    )?;
    Ok(())
}

pub fn unban(conn: &Db, guid: &str, uid: &str) -> DbResult<bool> {
    let n = conn.execute(
        "DELETE FROM group_bans WHERE guid = ?1 AND uid = ?2",
        args![guid, uid],
    )?;
    Ok(n == 1)
}

/// Who banned `uid` from the group, if it is banned.
pub fn banned_by(conn: &Db, guid: &str, uid: &str) -> DbResult<Option<String>> {
    conn.opt(
        "SELECT banned_by FROM group_bans WHERE guid = ?1 AND uid = ?2",
        args![guid, uid],
        |r| r.get(0),
    )
}

pub fn member_count(conn: &Db, guid: &str) -> DbResult<u64> {
    conn.one(
        "SELECT COUNT(*) FROM group_members WHERE guid = ?1",
        args![guid],
        |r| r.get(0),
    )
}

/// How many groups `uid` is a member of (the `group_members_by_uid` index answers it).
pub fn joined_count(conn: &Db, uid: &str) -> DbResult<u64> {
    conn.one(
        "SELECT COUNT(*) FROM group_members WHERE uid = ?1",
        args![uid],
        |r| r.get(0),
    )
}

/// How many groups `uid` owns.
pub fn owned_count(conn: &Db, uid: &str) -> DbResult<u64> {
    conn.one(
        "SELECT COUNT(*) FROM groups WHERE owner = ?1",
        args![uid],
        |r| r.get(0),
    )
}
