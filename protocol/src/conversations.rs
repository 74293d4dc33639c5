//! Conversations: one per user pair and per group, as each participant sees it (last message,
//! unread count, read position). The server keeps them current in the transaction that stores
//! each message, so a list or a badge never recounts messages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Group, Message, ReceiverType, User};
use crate::Millis;

fn is_false(b: &bool) -> bool {
    !*b
}

/// One conversation as its participant `uid` sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Conversation {
    /// `user:A:B` or `group:GUID` (as on every message).
    pub conversation_id: String,
    pub conversation_type: ReceiverType,
    /// The other user's uid, or the guid.
    pub with: String,
    /// The other user (one-to-one conversations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The group (group conversations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Group>,
    /// The newest message (absent only if it can no longer be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<Message>,
    /// Messages from others after `last_read_message_id`.
    pub unread_count: u64,
    /// Of those, the ones that mention this user (`<@uid:UID>`).
    #[serde(default)]
    pub unread_mentions_count: u64,
    /// Everything up to this id was read (0: nothing yet).
    pub last_read_message_id: i64,
    /// Everything up to this id was delivered (0: nothing yet).
    pub last_delivered_message_id: i64,
    /// When the conversation last changed for this user (a message, a read, a delete).
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub updated_at: Millis,
    /// Set in a `conversation_updated` event when the user deleted the conversation (it stays
    /// hidden until a new message arrives); never set in lists.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
}

/// Query of `GET /v1/conversations`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ConversationsQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor: conversations whose last message id is lower than this (`next_before` of the
    /// previous page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
    /// `user` or `group`.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub kind: Option<String>,
    /// Only conversations with unread messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread_only: Option<bool>,
}

/// Answer of `GET /v1/conversations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationList {
    pub conversations: Vec<Conversation>,
    /// Pass as `before` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

/// Answer of `GET /v1/conversations/unread`: unread messages overall, per user and per group
/// (only conversations with unread messages are listed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnreadCounts {
    pub total: u64,
    #[serde(default)]
    pub users: BTreeMap<String, u64>,
    #[serde(default)]
    pub groups: BTreeMap<String, u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conversation_shape() {
        let c = Conversation {
            conversation_id: "user:a:b".into(),
            conversation_type: ReceiverType::User,
            with: "b".into(),
            user: None,
            group: None,
            last_message: None,
            unread_count: 2,
            unread_mentions_count: 1,
            last_read_message_id: 5,
            last_delivered_message_id: 7,
            updated_at: 9,
            deleted: false,
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(
            v,
            json!({"conversation_id": "user:a:b", "conversation_type": "user", "with": "b",
                   "unread_count": 2, "unread_mentions_count": 1, "last_read_message_id": 5,
                   "last_delivered_message_id": 7, "updated_at": 9})
        );
        assert_eq!(serde_json::from_value::<Conversation>(v).unwrap(), c);
    }
}
