//! Mentions: `<@uid:UID>` in a message's text, parsed when the message is stored. The message
//! carries the mentioned users; each mentioned recipient gets a mention row and, in its
//! conversation row, an unread mention (both in the message's transaction).

use chinwag_protocol::mentions::{parse_mentions, MAX_MENTIONS};
use chinwag_protocol::model::Message;
use chinwag_protocol::ApiError;

use super::invalid;
use crate::store::{self, Db};

/// The distinct uids `text` mentions, refused beyond the bound (checked before the writer).
pub fn parse_bounded(text: Option<&str>) -> Result<Vec<String>, ApiError> {
    let found = text.map(parse_mentions).unwrap_or_default();
    if found.len() > MAX_MENTIONS {
        return Err(invalid(format!(
            "a message mentions at most {MAX_MENTIONS} users; this one mentions {}",
            found.len()
        )));
    }
    Ok(found)
}

/// Keeps the users that exist (a mention of anyone else stays plain text).
pub fn existing(conn: &Db, uids: Vec<String>) -> Result<Vec<String>, ApiError> {
    let mut kept = Vec::with_capacity(uids.len());
    for uid in uids {
        if store::users::exists(conn, &uid)? {
            kept.push(uid);
        }
    }
    Ok(kept)
}

/// Whether a stored message counts as an unread mention for `uid`.
pub fn counts_for(m: &Message, uid: &str) -> bool {
    uid != m.sender && m.mentioned_users.iter().any(|u| u == uid)
}

/// One mention row per mentioned recipient other than the sender (a row outside the
/// conversation would count once its user joined).
pub fn record(conn: &Db, m: &Message, recipients: &[String]) -> Result<(), ApiError> {
    for uid in recipients.iter().filter(|u| counts_for(m, u)) {
        store::mentions::insert(conn, uid, &m.conversation_id, m.id)?;
    }
    Ok(())
}
