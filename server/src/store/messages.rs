//! Stored messages and conversation history.

use super::json_column;
use super::sql::{Arg, Db, Row};
use super::DbResult;
use crate::args;
use chinwag_protocol::model::{Category, Message, ReceiverType};

const COLUMNS: &str = "id, muid, sender, receiver_type, receiver, conversation_id, category, type, \
     text, data, attachments, metadata, parent_id, quoted_id, sent_at, edited_at, deleted_at, deleted_by, mentions, \
     reply_count, last_reply_at";

fn from_row(r: &Row<'_, '_>) -> DbResult<Message> {
    let receiver_type: String = r.get(3)?;
    let category: String = r.get(6)?;
    let data: Option<String> = r.get(9)?;
    let attachments: Option<String> = r.get(10)?;
    let mentions: Option<String> = r.get(18)?;
    Ok(Message {
        id: r.get(0)?,
        muid: r.get(1)?,
        sender: r.get(2)?,
        receiver_type: ReceiverType::parse(&receiver_type).unwrap_or(ReceiverType::User),
        receiver: r.get(4)?,
        conversation_id: r.get(5)?,
        category: Category::parse(&category).unwrap_or_default(),
        kind: r.get(7)?,
        text: r.get(8)?,
        data: data.and_then(|d| serde_json::from_str(&d).ok()),
        attachments: attachments
            .and_then(|a| serde_json::from_str(&a).ok())
            .unwrap_or_default(),
        metadata: json_column(r.get(11)?),
        parent_id: r.get(12)?,
        quoted_id: r.get(13)?,
        sent_at: r.get(14)?,
        edited_at: r.get(15)?,
        deleted_at: r.get(16)?,
        deleted_by: r.get(17)?,
        mentioned_users: mentions
            .and_then(|m| serde_json::from_str(&m).ok())
            .unwrap_or_default(),
        mentions_me: false,
        reply_count: r.get(19)?,
        last_reply_at: r.get(20)?,
    })
}

pub fn get(conn: &Db, id: i64) -> DbResult<Option<Message>> {
    conn.opt(
        &format!("SELECT {COLUMNS} FROM messages WHERE id = ?1"),
        args![id],
        from_row,
    )
}

/// The message a sender already stored under this muid, with the sender's sequence number.
pub fn by_muid(conn: &Db, sender: &str, muid: &str) -> DbResult<Option<(Message, u64)>> {
    conn.opt(
        &format!("SELECT {COLUMNS}, sender_seq FROM messages WHERE sender = ?1 AND muid = ?2"),
        args![sender, muid],
        |r| Ok((from_row(r)?, r.get(21)?)),
    )
}

/// Stores a new message (its `id` is ignored) with the sender's own sequence number for it, and
/// returns the assigned id.
pub fn insert(conn: &Db, m: &Message, sender_seq: u64) -> DbResult<i64> {
    conn.insert_id(
        "INSERT INTO messages (muid, sender, receiver_type, receiver, conversation_id, category, type,
             text, data, attachments, metadata, parent_id, quoted_id, sent_at, sender_seq, mentions)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        args![
            &m.muid,
            &m.sender,
            m.receiver_type.as_str(),
            &m.receiver,
            &m.conversation_id,
            m.category.as_str(),
            &m.kind,
            &m.text,
            &m.data.as_ref().map(|d| d.to_string()),
            &attachments_column(m),
            &m.metadata.to_string(),
            m.parent_id,
            m.quoted_id,
            m.sent_at,
            sender_seq,
            &mentions_column(m)
        ],
    )
}

fn mentions_column(m: &Message) -> Option<String> {
    if m.mentioned_users.is_empty() {
        None
    } else {
        serde_json::to_string(&m.mentioned_users).ok()
    }
}

fn attachments_column(m: &Message) -> Option<String> {
    if m.attachments.is_empty() {
        None
    } else {
        serde_json::to_string(&m.attachments).ok()
    }
}

/// Writes the editable fields and the edit or delete marks of an existing message.
pub fn update(conn: &Db, m: &Message) -> DbResult<()> {
    conn.execute(
        "UPDATE messages SET text = ?2, data = ?3, attachments = ?4, metadata = ?5,
             edited_at = ?6, deleted_at = ?7, deleted_by = ?8 WHERE id = ?1",
        args![
            m.id,
            &m.text,
            &m.data.as_ref().map(|d| d.to_string()),
            &attachments_column(m),
            &m.metadata.to_string(),
            m.edited_at,
            m.deleted_at,
            &m.deleted_by
        ],
    )?;
    Ok(())
}

/// One page of a conversation, oldest first, and whether more lie beyond it.
pub struct HistoryPage {
    pub messages: Vec<Message>,
    pub has_more: bool,
}

impl HistoryPage {
    /// The page as `uid` reads it (`mentions_me` set for `uid`).
    pub fn for_reader(self, uid: &str) -> chinwag_protocol::rest::MessageList {
        chinwag_protocol::rest::MessageList {
            messages: self
                .messages
                .into_iter()
                .map(|m| m.for_reader(uid))
                .collect(),
            has_more: self.has_more,
        }
    }
}

/// About how many bytes a message takes in a JSON answer.
fn approximate_size(m: &Message) -> usize {
    let json = |v: &serde_json::Value| v.to_string().len();
    256 + m.text.as_ref().map_or(0, String::len)
        + m.data.as_ref().map_or(0, json)
        + json(&m.metadata)
        + m.attachments
            .iter()
            .map(|a| serde_json::to_string(a).map_or(0, |s| s.len()))
            .sum::<usize>()
}

pub struct HistoryFilter<'a> {
    pub conversation_id: &'a str,
    pub before: Option<i64>,
    pub after: Option<i64>,
    pub limit: u32,
    /// The page stops once it holds this many bytes (at least one message).
    pub max_bytes: usize,
    pub category: Option<&'a str>,
    pub kind: Option<&'a str>,
}

pub fn history(conn: &Db, f: &HistoryFilter<'_>) -> DbResult<HistoryPage> {
    let order = page_order(f.before, f.after);
    page(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM messages
         WHERE conversation_id = ?1 AND id > ?2 AND id < ?3
           AND (CAST(?4 AS TEXT) IS NULL OR category = ?4) AND (CAST(?5 AS TEXT) IS NULL OR type = ?5)
         ORDER BY id {order} LIMIT ?6"
        ),
        args![
            f.conversation_id,
            f.after.unwrap_or(0),
            f.before.unwrap_or(i64::MAX),
            f.category,
            f.kind,
            f.limit + 1
        ],
        f.limit,
        f.max_bytes,
        order == "ASC",
    )
}

/// One page of the replies to a message, oldest first: [`HistoryFilter`] with the parent's id
/// in place of the conversation's.
pub fn thread(conn: &Db, parent_id: i64, f: &HistoryFilter<'_>) -> DbResult<HistoryPage> {
    let order = page_order(f.before, f.after);
    page(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM messages WHERE parent_id = ?1 AND id > ?2 AND id < ?3
               AND (CAST(?4 AS TEXT) IS NULL OR category = ?4) AND (CAST(?5 AS TEXT) IS NULL OR type = ?5)
             ORDER BY id {order} LIMIT ?6"
        ),
        args![
            parent_id,
            f.after.unwrap_or(0),
            f.before.unwrap_or(i64::MAX),
            f.category,
            f.kind,
            f.limit + 1
        ],
        f.limit,
        f.max_bytes,
        order == "ASC",
    )
}

/// A reply to `parent_id` was stored (in its transaction): one more reply, the latest at `at`.
pub fn add_reply(conn: &Db, parent_id: i64, at: i64) -> DbResult<()> {
    conn.execute(
        "UPDATE messages SET reply_count = reply_count + 1,
             last_reply_at = CASE WHEN last_reply_at > ?2 THEN last_reply_at ELSE ?2 END
         WHERE id = ?1",
        args![parent_id, at],
    )?;
    Ok(())
}

/// `after` pages forward from a cursor; everything else pages backward from `before` (or the
/// newest message).
fn page_order(before: Option<i64>, after: Option<i64>) -> &'static str {
    if after.is_some() && before.is_none() {
        "ASC"
    } else {
        "DESC"
    }
}

/// Runs a page query that selects `limit + 1` rows: oldest first, and whether more lie beyond.
fn page(
    conn: &Db,
    sql: &str,
    args: &[Arg<'_>],
    limit: u32,
    max_bytes: usize,
    forward: bool,
) -> DbResult<HistoryPage> {
    // Rows are read one by one, so a page of large messages stops at its byte bound without
    // loading the rest.
    let mut messages = Vec::new();
    let (mut bytes, mut has_more) = (0, false);
    conn.each(sql, args, |r| {
        let m = from_row(r)?;
        if messages.len() == limit as usize || (!messages.is_empty() && bytes >= max_bytes) {
            has_more = true;
            return Ok(false);
        }
        bytes += approximate_size(&m);
        messages.push(m);
        Ok(true)
    })?;
    if !forward {
        messages.reverse();
    }
    Ok(HistoryPage { messages, has_more })
}
