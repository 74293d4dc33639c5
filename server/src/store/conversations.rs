//! Conversations per participant (migration 004): one row per (user, conversation), updated in
//! the transaction that stores each message, so lists and badges never count messages. One
//! function per operation, plain SQL.

use super::sql::{Db, Row};
use super::DbResult;
use crate::args;
use chinwag_protocol::model::ReceiverType;

/// A conversation row as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationRow {
    pub conversation_id: String,
    pub conversation_type: ReceiverType,
    pub with_id: String,
    pub last_message_id: i64,
    pub unread_count: u64,
    pub unread_mentions: u64,
    pub last_read_id: i64,
    pub last_delivered_id: i64,
    pub updated_at: i64,
    pub hidden: bool,
}

const COLUMNS: &str = "conversation_id, conversation_type, with_id, last_message_id, \
     unread_count, last_read_id, last_delivered_id, updated_at, hidden, unread_mentions";

/// Group rows count only while the user is still a member (leaving does not touch the rows).
const STILL_MEMBER: &str = "(c.conversation_type = 'user' OR EXISTS (SELECT 1 FROM group_members \
     gm WHERE gm.guid = c.with_id AND gm.uid = c.uid))";

fn from_row(r: &Row<'_, '_>) -> DbResult<ConversationRow> {
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
        hidden: r.get::<i64>(8)? != 0,
        unread_mentions: r.get(9)?,
    })
}

/// How a new message counts for one recipient.
pub struct Arrival<'a> {
    pub uid: &'a str,
    pub conversation_id: &'a str,
    pub conversation_type: ReceiverType,
    pub with_id: &'a str,
    pub message_id: i64,
    /// Someone else sent it.
    pub unread: bool,
    /// It is unread and mentions `uid`.
    pub mention: bool,
    pub at: i64,
}

/// A new message reached a recipient: it becomes the last message, counts as unread (and as an
/// unread mention) unless the recipient sent it, and un-hides a conversation they deleted.
pub fn on_message(conn: &Db, a: &Arrival<'_>) -> DbResult<()> {
    // The existing row's columns are named with the table (PostgreSQL wants them qualified
    // next to `excluded`; SQLite accepts it).
    conn.execute(
        "INSERT INTO conversations (uid, conversation_id, conversation_type, with_id,
             last_message_id, unread_count, updated_at, unread_mentions)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (uid, conversation_id) DO UPDATE SET
             last_message_id = excluded.last_message_id,
             unread_count = conversations.unread_count + excluded.unread_count,
             unread_mentions = conversations.unread_mentions + excluded.unread_mentions,
             updated_at = excluded.updated_at,
             hidden = 0",
        args![
            a.uid,
            a.conversation_id,
            a.conversation_type.as_str(),
            a.with_id,
            a.message_id,
            a.unread,
            a.at,
            a.unread && a.mention
        ],
    )?;
    Ok(())
}

/// `uid` read everything up to `message_id`: the unread count becomes the messages from others
/// after it (an index range of the conversation), the unread mentions those of `uid`'s mention
/// rows after it. False when the row was already read that far.
pub fn mark_read(
    conn: &Db,
    uid: &str,
    conversation_id: &str,
    message_id: i64,
    at: i64,
) -> DbResult<bool> {
    // CASE rather than two-argument MAX (SQLite) or GREATEST (PostgreSQL): both engines run it.
    let n = conn.execute(
        "UPDATE conversations SET
             last_read_id = ?3,
             last_delivered_id = CASE WHEN last_delivered_id > ?3 THEN last_delivered_id
                 ELSE ?3 END,
             unread_count = (SELECT COUNT(*) FROM messages
                 WHERE conversation_id = ?2 AND id > ?3 AND sender != ?1),
             unread_mentions = (SELECT COUNT(*) FROM mentions
                 WHERE uid = ?1 AND conversation_id = ?2 AND message_id > ?3),
             updated_at = ?4
         WHERE uid = ?1 AND conversation_id = ?2 AND last_read_id < ?3",
        args![uid, conversation_id, message_id, at],
    )?;
    Ok(n > 0)
}

/// `uid` received everything up to `message_id`. False when it was already recorded.
pub fn mark_delivered(
    conn: &Db,
    uid: &str,
    conversation_id: &str,
    message_id: i64,
    at: i64,
) -> DbResult<bool> {
    let n = conn.execute(
        "UPDATE conversations SET last_delivered_id = ?3, updated_at = ?4
         WHERE uid = ?1 AND conversation_id = ?2 AND last_delivered_id < ?3",
        args![uid, conversation_id, message_id, at],
    )?;
    Ok(n > 0)
}

/// Deletes a conversation for `uid`: hidden and read until the next message. False when there
/// is no such visible conversation.
pub fn hide(conn: &Db, uid: &str, conversation_id: &str, at: i64) -> DbResult<bool> {
    let n = conn.execute(
        "UPDATE conversations SET hidden = 1, unread_count = 0, unread_mentions = 0,
             last_read_id = CASE WHEN last_read_id > last_message_id THEN last_read_id
                 ELSE last_message_id END,
             last_delivered_id = CASE WHEN last_delivered_id > last_message_id
                 THEN last_delivered_id ELSE last_message_id END,
             updated_at = ?3
         WHERE uid = ?1 AND conversation_id = ?2 AND hidden = 0",
        args![uid, conversation_id, at],
    )?;
    Ok(n > 0)
}

/// One row, hidden or not.
pub fn get(conn: &Db, uid: &str, conversation_id: &str) -> DbResult<Option<ConversationRow>> {
    conn.opt(
        &format!("SELECT {COLUMNS} FROM conversations WHERE uid = ?1 AND conversation_id = ?2"),
        args![uid, conversation_id],
        from_row,
    )
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
pub fn page(conn: &Db, f: &PageFilter<'_>) -> DbResult<Vec<ConversationRow>> {
    // The optional filters are typed (CAST) so that PostgreSQL knows a parameter that may be NULL.
    conn.all(
        &format!(
            "SELECT {COLUMNS} FROM conversations c
             WHERE c.uid = ?1 AND c.last_message_id < ?2 AND c.hidden = 0
               AND (CAST(?3 AS TEXT) IS NULL OR c.conversation_type = CAST(?3 AS TEXT))
               AND (CAST(?4 AS BIGINT) = 0 OR c.unread_count > 0)
               AND {STILL_MEMBER}
             ORDER BY c.last_message_id DESC LIMIT ?5"
        ),
        args![
            f.uid,
            f.before,
            f.conversation_type.map(ReceiverType::as_str),
            f.unread_only,
            f.limit
        ],
        from_row,
    )
}

/// (type, with, unread count) of every visible conversation of `uid` with unread messages.
pub fn unread(conn: &Db, uid: &str) -> DbResult<Vec<(ReceiverType, String, u64)>> {
    conn.all(
        &format!(
            "SELECT c.conversation_type, c.with_id, c.unread_count FROM conversations c
             WHERE c.uid = ?1 AND c.unread_count > 0 AND c.hidden = 0 AND {STILL_MEMBER}"
        ),
        args![uid],
        |r| {
            let kind: String = r.get(0)?;
            Ok((
                ReceiverType::parse(&kind).unwrap_or(ReceiverType::User),
                r.get(1)?,
                r.get(2)?,
            ))
        },
    )
}
