//! Conversations per participant (migration 004): one row per (user, conversation), updated in
//! the transaction that stores each message, so lists and badges never count messages. One
//! function per operation, plain SQL.

use chinwag_protocol::model::ReceiverType;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{DbError, DbResult};

/// A conversation row as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationRow {
    pub conversation_id: String,
    pub conversation_type: ReceiverType,
    pub with_id: String,
    pub last_message_id: i64,
    pub unread_count: u64,
    pub last_read_id: i64,
    pub last_delivered_id: i64,
    pub updated_at: i64,
    pub hidden: bool,
}

const COLUMNS: &str = "conversation_id, conversation_type, with_id, last_message_id, \
     unread_count, last_read_id, last_delivered_id, updated_at, hidden";

/// Group rows count only while the user is still a member (leaving does not touch the rows).
const STILL_MEMBER: &str = "(c.conversation_type = 'user' OR EXISTS (SELECT 1 FROM group_members \
     gm WHERE gm.guid = c.with_id AND gm.uid = c.uid))";

fn from_row(r: &Row<'_>) -> rusqlite::Result<ConversationRow> {
    let kind: String = r.get(1)?;
    Ok(ConversationRow {
        conversation_id: r.get(0)?,
        conversation_type: ReceiverType::parse(&kind).unwrap_or(ReceiverType::User),
        with_id: r.get(2)?,
        last_message_id: r.get(3)?,
        unread_count: r.get(4)?,
        last_read_id: r.get(5)?,
        last_delivered_id: r.get(6)?,
        updated_at: r.get(7)?,
        hidden: r.get(8)?,
    })
}

/// A new message reached `uid`: it becomes the last message, counts as unread unless `uid`
/// sent it, and un-hides a conversation the user deleted.
#[allow(clippy::too_many_arguments)]
pub fn on_message(
    conn: &Connection,
    uid: &str,
    conversation_id: &str,
    conversation_type: ReceiverType,
    with_id: &str,
    message_id: i64,
    unread: bool,
    at: i64,
) -> DbResult<()> {
    conn.prepare_cached(
        "INSERT INTO conversations (uid, conversation_id, conversation_type, with_id,
             last_message_id, unread_count, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (uid, conversation_id) DO UPDATE SET
             last_message_id = excluded.last_message_id,
             unread_count = unread_count + excluded.unread_count,
             updated_at = excluded.updated_at,
             hidden = 0",
    )?
    .execute(params![
        uid,
        conversation_id,
        conversation_type.as_str(),
        with_id,
        message_id,
        i64::from(unread),
        at
    ])?;
    Ok(())
}

/// `uid` read everything up to `message_id`: the unread count becomes the messages from others
/// after it (an index range of the conversation). False when the row was already read that far.
pub fn mark_read(
    conn: &Connection,
    uid: &str,
    conversation_id: &str,
    message_id: i64,
    at: i64,
) -> DbResult<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE conversations SET
                 last_read_id = ?3,
                 last_delivered_id = MAX(last_delivered_id, ?3),
                 unread_count = (SELECT COUNT(*) FROM messages
                     WHERE conversation_id = ?2 AND id > ?3 AND sender != ?1),
                 updated_at = ?4
             WHERE uid = ?1 AND conversation_id = ?2 AND last_read_id < ?3",
        )?
        .execute(params![uid, conversation_id, message_id, at])?;
    Ok(n > 0)
}

/// `uid` received everything up to `message_id`. False when it was already recorded.
pub fn mark_delivered(
    conn: &Connection,
    uid: &str,
    conversation_id: &str,
    message_id: i64,
    at: i64,
) -> DbResult<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE conversations SET last_delivered_id = ?3, updated_at = ?4
             WHERE uid = ?1 AND conversation_id = ?2 AND last_delivered_id < ?3",
        )?
        .execute(params![uid, conversation_id, message_id, at])?;
    Ok(n > 0)
}

/// Deletes a conversation for `uid`: hidden and read until the next message. False when there
/// is no such visible conversation.
pub fn hide(conn: &Connection, uid: &str, conversation_id: &str, at: i64) -> DbResult<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE conversations SET hidden = 1, unread_count = 0,
                 last_read_id = MAX(last_read_id, last_message_id),
                 last_delivered_id = MAX(last_delivered_id, last_message_id),
                 updated_at = ?3
             WHERE uid = ?1 AND conversation_id = ?2 AND hidden = 0",
        )?
        .execute(params![uid, conversation_id, at])?;
    Ok(n > 0)
}

/// One row, hidden or not.
pub fn get(
    conn: &Connection,
    uid: &str,
    conversation_id: &str,
) -> DbResult<Option<ConversationRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM conversations WHERE uid = ?1 AND conversation_id = ?2"
    ))?
    .query_row(params![uid, conversation_id], from_row)
    .optional()
    .map_err(DbError)
}

/// Filters of [`page`].
pub struct PageFilter<'a> {
    /// Only rows whose last message id is below this.
    pub before: i64,
    pub limit: u32,
    pub conversation_type: Option<ReceiverType>,
    pub unread_only: bool,
    pub uid: &'a str,
}

/// Visible conversations of a user, newest last message first.
pub fn page(conn: &Connection, f: &PageFilter<'_>) -> DbResult<Vec<ConversationRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM conversations c
         WHERE c.uid = ?1 AND c.last_message_id < ?2 AND c.hidden = 0
           AND (?3 IS NULL OR c.conversation_type = ?3) AND (?4 = 0 OR c.unread_count > 0)
           AND {STILL_MEMBER}
         ORDER BY c.last_message_id DESC LIMIT ?5"
    ))?;
    let rows = stmt.query_map(
        params![
            f.uid,
            f.before,
            f.conversation_type.map(ReceiverType::as_str),
            f.unread_only,
            f.limit
        ],
        from_row,
    )?;
    rows.collect::<rusqlite::Result<_>>().map_err(DbError)
}

/// (type, with, unread count) of every visible conversation of `uid` with unread messages.
pub fn unread(conn: &Connection, uid: &str) -> DbResult<Vec<(ReceiverType, String, u64)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT c.conversation_type, c.with_id, c.unread_count FROM conversations c
         WHERE c.uid = ?1 AND c.unread_count > 0 AND c.hidden = 0 AND {STILL_MEMBER}"
    ))?;
    let rows = stmt.query_map([uid], |r| {
        let kind: String = r.get(0)?;
        Ok((
            ReceiverType::parse(&kind).unwrap_or(ReceiverType::User),
            r.get(1)?,
            r.get(2)?,
        ))
    })?;
    rows.collect::<rusqlite::Result<_>>().map_err(DbError)
}
