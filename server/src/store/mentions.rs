//! Mention rows (migration 007): one per (mentioned user, message), written in the message's
//! transaction, so that mark-read recounts a conversation's unread mentions from an index range.

use super::sql::Db;
use super::DbResult;
use crate::args;

/// Records that `message_id` of `conversation_id` mentions `uid`.
pub fn insert(conn: &Db, uid: &str, conversation_id: &str, message_id: i64) -> DbResult<()> {
    conn.execute(
        "INSERT INTO mentions (uid, conversation_id, message_id) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
        args![uid, conversation_id, message_id],
    )?;
    Ok(())
}
