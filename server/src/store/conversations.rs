//! Conversations per participant (migrations 004 and 006): one row per (user, conversation),
//! kept current in the transaction that stores each message, so lists and badges never count
//! messages. A direct conversation's rows are updated by each message; a group's message updates
//! only the group's head (last message, message count), and each member's row keeps how many of
//! those it has seen, so a message costs the same for 3 members or 1,000. One function per
//! operation, plain SQL.

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
    pub last_read_id: i64,
    pub last_delivered_id: i64,
    pub updated_at: i64,
    pub hidden: bool,
}

const COLUMNS: &str = "conversation_id, conversation_type, with_id, last_message_id, \
     unread_count, last_read_id, last_delivered_id, updated_at, hidden";

/// Rows as the user sees them (`COLUMNS`, from `conversations c`): a group row takes its last
/// message and recency from the head, counts as unread what the head counted beyond what the
/// member saw, and is hidden while the head has nothing newer than `hidden_upto`.
const EFFECTIVE: &str = "SELECT c.conversation_id, c.conversation_type, c.with_id,
     CASE WHEN c.conversation_type = 'group' THEN COALESCE(h.last_message_id, 0)
         ELSE c.last_message_id END AS last_message_id,
     CASE WHEN c.conversation_type != 'group' THEN c.unread_count
         WHEN COALESCE(h.message_count, 0) > c.seen_count THEN h.message_count - c.seen_count
         ELSE 0 END AS unread_count,
     c.last_read_id, c.last_delivered_id,
     CASE WHEN h.updated_at > c.updated_at THEN h.updated_at ELSE c.updated_at END AS updated_at,
     CASE WHEN c.conversation_type != 'group' THEN c.hidden
         WHEN h.last_message_id IS NULL OR h.last_message_id <= c.hidden_upto THEN 1
         ELSE 0 END AS hidden
     FROM conversations c LEFT JOIN conversation_heads h
         ON c.conversation_type = 'group' AND h.conversation_id = c.conversation_id";

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
    })
}

/// A new direct message reached `uid`: it becomes the last message, counts as unread unless
/// `uid` sent it, and un-hides a conversation the user deleted.
#[allow(clippy::too_many_arguments)]
pub fn on_message(
    conn: &Db,
    uid: &str,
    conversation_id: &str,
    conversation_type: ReceiverType,
    with_id: &str,
    message_id: i64,
    unread: bool,
    at: i64,
) -> DbResult<()> {
    // The existing row's columns are named with the table (PostgreSQL wants them qualified
    // next to `excluded`; SQLite accepts it).
    conn.execute(
        "INSERT INTO conversations (uid, conversation_id, conversation_type, with_id,
             last_message_id, unread_count, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (uid, conversation_id) DO UPDATE SET
             last_message_id = excluded.last_message_id,
             unread_count = conversations.unread_count + excluded.unread_count,
             updated_at = excluded.updated_at,
             hidden = 0",
        args![
            uid,
            conversation_id,
            conversation_type.as_str(),
            with_id,
            message_id,
            unread,
            at
        ],
    )?;
    Ok(())
}

/// A new group message: the group's head moves (its members' rows are not touched).
pub fn on_group_message(
    conn: &Db,
    conversation_id: &str,
    message_id: i64,
    at: i64,
) -> DbResult<()> {
    conn.execute(
        "INSERT INTO conversation_heads (conversation_id, last_message_id, message_count, updated_at)
         VALUES (?1, ?2, 1, ?3)
         ON CONFLICT (conversation_id) DO UPDATE SET
             last_message_id = excluded.last_message_id,
             message_count = conversation_heads.message_count + 1,
             updated_at = excluded.updated_at",
        args![conversation_id, message_id, at],
    )?;
    Ok(())
}

/// A group message `uid` has seen as it was stored (its own, or from a user it blocked): not
/// unread for `uid`. False when `uid` has no row there.
pub fn seen_one(conn: &Db, uid: &str, conversation_id: &str) -> DbResult<bool> {
    let n = conn.execute(
        "UPDATE conversations SET seen_count = seen_count + 1
         WHERE uid = ?1 AND conversation_id = ?2",
        args![uid, conversation_id],
    )?;
    Ok(n > 0)
}

/// `uid` joins a group (or has a row made for it): everything so far counts as read, and the
/// row stays hidden until the next message unless `visible`. An existing row is reset only if
/// `uid` is not a member yet (a rejoin), so call this before adding the member.
pub fn joined(
    conn: &Db,
    uid: &str,
    guid: &str,
    conversation_id: &str,
    at: i64,
    visible: bool,
) -> DbResult<()> {
    // `WHERE 1 = 1` keeps SQLite from reading ON CONFLICT as a join constraint.
    conn.execute(
        "INSERT INTO conversations (uid, conversation_id, conversation_type, with_id,
             last_message_id, unread_count, last_read_id, last_delivered_id, updated_at, hidden,
             seen_count, hidden_upto)
         SELECT ?1, ?2, 'group', ?3, 0, 0, COALESCE(h.last_message_id, 0),
             COALESCE(h.last_message_id, 0), CAST(?4 AS BIGINT), 0, COALESCE(h.message_count, 0),
             CASE WHEN CAST(?5 AS BIGINT) = 1 THEN 0 ELSE COALESCE(h.last_message_id, 0) END
         FROM (SELECT 1 AS one) o LEFT JOIN conversation_heads h ON h.conversation_id = ?2
         WHERE 1 = 1
         ON CONFLICT (uid, conversation_id) DO UPDATE SET
             unread_count = 0,
             last_read_id = excluded.last_read_id,
             last_delivered_id = excluded.last_delivered_id,
             updated_at = excluded.updated_at,
             hidden = 0,
             seen_count = excluded.seen_count,
             hidden_upto = excluded.hidden_upto
         WHERE NOT EXISTS (SELECT 1 FROM group_members gm
             WHERE gm.guid = ?3 AND gm.uid = ?1)",
        args![uid, conversation_id, guid, at, visible],
    )?;
    Ok(())
}

/// `uid` read everything up to `message_id`: the unread count becomes the messages from others
/// after it (an index range of the conversation). False when the row was already read that far.
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
             updated_at = ?4
         WHERE uid = ?1 AND conversation_id = ?2 AND last_read_id < ?3",
        args![uid, conversation_id, message_id, at],
    )?;
    if n > 0 {
        // A group row's count is the head's: what is not unread now counts as seen.
        conn.execute(
            "UPDATE conversations SET seen_count = COALESCE((SELECT h.message_count
                 FROM conversation_heads h WHERE h.conversation_id = ?2), 0) - unread_count
             WHERE uid = ?1 AND conversation_id = ?2 AND conversation_type = 'group'",
            args![uid, conversation_id],
        )?;
    }
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
    let Some(row) = get(conn, uid, conversation_id)?.filter(|r| !r.hidden) else {
        return Ok(false);
    };
    // Read up to the last message the user sees (a group's comes from its head).
    let n = conn.execute(
        "UPDATE conversations SET hidden = 1, unread_count = 0,
             last_read_id = CASE WHEN last_read_id > ?3 THEN last_read_id ELSE ?3 END,
             last_delivered_id = CASE WHEN last_delivered_id > ?3 THEN last_delivered_id
                 ELSE ?3 END,
             hidden_upto = ?3,
             seen_count = COALESCE((SELECT h.message_count FROM conversation_heads h
                 WHERE h.conversation_id = ?2), 0),
             updated_at = ?4
         WHERE uid = ?1 AND conversation_id = ?2",
        args![uid, conversation_id, row.last_message_id, at],
    )?;
    Ok(n > 0)
}

/// One row, hidden or not.
pub fn get(conn: &Db, uid: &str, conversation_id: &str) -> DbResult<Option<ConversationRow>> {
    conn.opt(
        &format!("{EFFECTIVE} WHERE c.uid = ?1 AND c.conversation_id = ?2"),
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
            "SELECT {COLUMNS} FROM ({EFFECTIVE} WHERE c.uid = ?1 AND {STILL_MEMBER}) v
             WHERE v.last_message_id < ?2 AND v.hidden = 0
               AND (CAST(?3 AS TEXT) IS NULL OR v.conversation_type = CAST(?3 AS TEXT))
               AND (CAST(?4 AS BIGINT) = 0 OR v.unread_count > 0)
             ORDER BY v.last_message_id DESC LIMIT ?5"
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
            "SELECT v.conversation_type, v.with_id, v.unread_count
             FROM ({EFFECTIVE} WHERE c.uid = ?1 AND {STILL_MEMBER}) v
             WHERE v.unread_count > 0 AND v.hidden = 0"
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
