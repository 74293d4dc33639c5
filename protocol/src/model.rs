//! The chat data model: users, messages, receipts, groups and calls, as they travel on the wire.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Millis;

fn empty_object() -> Value {
    Value::Object(Default::default())
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Online status of a user, as seen by the server (any socket open = online).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Online,
    Offline,
}

/// A user of the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub uid: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// Free-form role used by the `roles` presence subscription; `"default"` unless set.
    pub role: String,
    #[serde(default = "empty_object")]
    pub metadata: Value,
    pub status: UserStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub last_active_at: Option<Millis>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub deactivated: bool,
    /// Set in answers to a user who blocked this one (user lists, conversations).
    #[serde(default, skip_serializing_if = "is_false")]
    pub blocked_by_me: bool,
}

/// Whom a message, typing indicator, transient message or call is addressed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReceiverType {
    User,
    Group,
}

impl ReceiverType {
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiverType::User => "user",
            ReceiverType::Group => "group",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(ReceiverType::User),
            "group" => Some(ReceiverType::Group),
            _ => None,
        }
    }
}

/// The conversation id of a one-to-one conversation: both uids, sorted, after `user:`.
pub fn user_conversation_id(a: &str, b: &str) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    format!("user:{lo}:{hi}")
}

/// The conversation id of a group conversation.
pub fn group_conversation_id(guid: &str) -> String {
    format!("group:{guid}")
}

/// Message category: a standard message (text or media) or a custom one with app-defined data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Category {
    #[default]
    Message,
    Custom,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Message => "message",
            Category::Custom => "custom",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "message" => Some(Category::Message),
            "custom" => Some(Category::Custom),
            _ => None,
        }
    }
}

/// Standard message types of the `message` category.
pub const TEXT_TYPES: &[&str] = &["text"];
/// Media types of the `message` category; they need at least one attachment.
pub const MEDIA_TYPES: &[&str] = &["image", "video", "audio", "file"];

/// A media file referenced by URL (the server stores the reference, not the file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A message the client asks the server to store and deliver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"receiver_type": "user", "receiver": "bob", "text": "hello"})))]
pub struct NewMessage {
    /// Client-chosen id; the server stores each (sender, muid) once and answers a repeat with the
    /// stored message. The server generates one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muid: Option<String>,
    pub receiver_type: ReceiverType,
    pub receiver: String,
    #[serde(default)]
    pub category: Category,
    /// `text`, a media type, or for `custom` any app-defined type.
    #[serde(rename = "type", default = "default_type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Custom messages: the app's JSON payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Id of the thread's parent message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<i64>,
    /// Id of a quoted message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoted_id: Option<i64>,
}

fn default_type() -> String {
    "text".into()
}

impl NewMessage {
    /// A plain text message.
    pub fn text(receiver_type: ReceiverType, receiver: &str, text: &str) -> Self {
        NewMessage {
            muid: None,
            receiver_type,
            receiver: receiver.into(),
            category: Category::Message,
            kind: "text".into(),
            text: Some(text.into()),
            data: None,
            attachments: Vec::new(),
            metadata: None,
            parent_id: None,
            quoted_id: None,
        }
    }

    /// A media message (`kind` one of [`MEDIA_TYPES`]) with one attachment by URL and an
    /// optional caption.
    pub fn media(
        receiver_type: ReceiverType,
        receiver: &str,
        kind: &str,
        attachment: Attachment,
        caption: Option<&str>,
    ) -> Self {
        NewMessage {
            kind: kind.into(),
            text: caption.map(String::from),
            attachments: vec![attachment],
            ..NewMessage::text(receiver_type, receiver, "")
        }
    }

    /// A custom message: an app-defined type with JSON data.
    pub fn custom(receiver_type: ReceiverType, receiver: &str, kind: &str, data: Value) -> Self {
        NewMessage {
            category: Category::Custom,
            kind: kind.into(),
            text: None,
            data: Some(data),
            ..NewMessage::text(receiver_type, receiver, "")
        }
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    /// Server-assigned id, increasing in store order across the server.
    pub id: i64,
    pub muid: String,
    pub sender: String,
    pub receiver_type: ReceiverType,
    pub receiver: String,
    pub conversation_id: String,
    pub category: Category,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    #[serde(default = "empty_object")]
    pub metadata: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoted_id: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub sent_at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub edited_at: Option<Millis>,
    /// Set on a soft-deleted message, whose text, data and attachments are then empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub deleted_at: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_by: Option<String>,
    /// Users named by `<@uid:UID>` in the text as sent (existing users only, distinct, in order
    /// of first appearance; at most `mentions::MAX_MENTIONS`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentioned_users: Vec<String>,
    /// The reader is in `mentioned_users`: set by the server in answers to a request (history,
    /// one message, conversations) and by the SDK on events (one event body serves every
    /// recipient, so the server leaves it unset there).
    #[serde(default, skip_serializing_if = "is_false")]
    pub mentions_me: bool,
    /// How many replies name this message as their `parent_id` (kept in each reply's
    /// transaction; on every read of the message).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reply_count: u64,
    /// When the latest of those replies was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reply_at: Option<Millis>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Message {
    /// Sets [`Message::mentions_me`] for the reader `uid`.
    pub fn for_reader(mut self, uid: &str) -> Self {
        self.mentions_me = self.mentioned_users.iter().any(|u| u == uid);
        self
    }
}

/// Receipt kinds. A receipt covers every message of the conversation up to its message id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    Delivered,
    Read,
}

impl ReceiptKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptKind::Delivered => "delivered",
            ReceiptKind::Read => "read",
        }
    }
}

/// "`by` has received (or read) everything up to `message_id` in this conversation."
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Receipt {
    pub kind: ReceiptKind,
    /// The user who received or read.
    pub by: String,
    pub message_id: i64,
    /// Sender of `message_id`.
    pub message_sender: String,
    pub conversation_id: String,
    pub receiver_type: ReceiverType,
    /// Receiver of `message_id` (a uid or a guid).
    pub receiver: String,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub at: Millis,
}

/// Who may join a group without being added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GroupType {
    #[default]
    Public,
    Private,
}

impl GroupType {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupType::Public => "public",
            GroupType::Private => "private",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "public" => Some(GroupType::Public),
            "private" => Some(GroupType::Private),
            _ => None,
        }
    }
}

/// A member's scope in a group. Admins add, kick, ban, unban and change scopes; moderators kick,
/// ban and unban participants; the owner is an admin nobody can kick, ban or demote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Participant,
    Moderator,
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Participant => "participant",
            Scope::Moderator => "moderator",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "participant" => Some(Scope::Participant),
            "moderator" => Some(Scope::Moderator),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }
}

/// A group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    pub guid: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: GroupType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default = "empty_object")]
    pub metadata: Value,
    pub owner: String,
    pub members_count: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub created_at: Millis,
    /// The caller's scope, when the caller is a member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupMember {
    pub user: User,
    pub scope: Scope,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub joined_at: Millis,
}

/// What happened to a group member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GroupAction {
    Joined,
    Left,
    Kicked,
    Banned,
    Unbanned,
    ScopeChanged,
    Added,
}

/// A change to a group's membership, delivered to every member and to the affected user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupMemberEvent {
    pub action: GroupAction,
    pub guid: String,
    pub group_name: String,
    /// The member affected.
    pub member: String,
    /// Who did it (the member itself for joined and left).
    pub by: String,
    /// The member's scope after the change (joined, added, scope changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// The member's scope before a scope change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_scope: Option<Scope>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub at: Millis,
    /// Set when one request added several members (action `added`): all of them, each with its
    /// scope; `member` and `scope` repeat the first. One event per batch keeps a large add
    /// linear in the group's size. The SDK hands each entry to the app as its own event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<AddedMember>,
}

/// One member of a batched `added` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddedMember {
    pub uid: String,
    pub scope: Scope,
}

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CallType {
    Audio,
    Video,
}

impl CallType {
    pub fn as_str(self) -> &'static str {
        match self {
            CallType::Audio => "audio",
            CallType::Video => "video",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "audio" => Some(CallType::Audio),
            "video" => Some(CallType::Video),
            _ => None,
        }
    }
}

/// Life of a call: `initiated`, then `ongoing` (accepted) and `ended`, or one of `rejected`,
/// `busy`, `cancelled` (by the caller) and `unanswered` (cancelled by the server's timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    Initiated,
    Ongoing,
    Rejected,
    Busy,
    Cancelled,
    Unanswered,
    Ended,
}

impl CallStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Initiated => "initiated",
            CallStatus::Ongoing => "ongoing",
            CallStatus::Rejected => "rejected",
            CallStatus::Busy => "busy",
            CallStatus::Cancelled => "cancelled",
            CallStatus::Unanswered => "unanswered",
            CallStatus::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "initiated" => CallStatus::Initiated,
            "ongoing" => CallStatus::Ongoing,
            "rejected" => CallStatus::Rejected,
            "busy" => CallStatus::Busy,
            "cancelled" => CallStatus::Cancelled,
            "unanswered" => CallStatus::Unanswered,
            "ended" => CallStatus::Ended,
            _ => return None,
        })
    }
}

/// How a callee declines a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RejectStatus {
    Rejected,
    Busy,
}

/// A call's signalling state (the media itself does not pass through Chinwag).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Call {
    pub session_id: String,
    pub initiator: String,
    pub receiver_type: ReceiverType,
    pub receiver: String,
    pub call_type: CallType,
    pub status: CallStatus,
    /// Who caused the latest status change (the server's timeout: the initiator).
    pub by: String,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub initiated_at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub joined_at: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub ended_at: Option<Millis>,
    #[serde(default = "empty_object")]
    pub metadata: Value,
}

/// A user's presence, as pushed to subscribers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Presence {
    pub uid: String,
    pub status: UserStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub last_active_at: Option<Millis>,
}

/// Which users' presence a socket receives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PresenceSubscription {
    #[default]
    None,
    AllUsers,
    Roles(Vec<String>),
    Friends,
}

impl PresenceSubscription {
    /// Parses the `presence` query parameter: `none`, `all_users`, `friends` or
    /// `roles:ROLE1,ROLE2`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "" | "none" => Ok(PresenceSubscription::None),
            "all_users" => Ok(PresenceSubscription::AllUsers),
            "friends" => Ok(PresenceSubscription::Friends),
            other => match other.strip_prefix("roles:") {
                Some(list) => {
                    let roles: Vec<String> = list
                        .split(',')
                        .filter(|r| !r.is_empty())
                        .map(String::from)
                        .collect();
                    if roles.is_empty() {
                        return Err("roles: needs at least one role".into());
                    }
                    for r in &roles {
                        crate::limits::check_id("role", r)?;
                    }
                    Ok(PresenceSubscription::Roles(roles))
                }
                None => Err(format!(
                    "unknown presence subscription {other:?}; use none, all_users, friends or roles:A,B"
                )),
            },
        }
    }

    /// The query-parameter form, inverse of [`PresenceSubscription::parse`].
    pub fn to_param(&self) -> String {
        match self {
            PresenceSubscription::None => "none".into(),
            PresenceSubscription::AllUsers => "all_users".into(),
            PresenceSubscription::Friends => "friends".into(),
            PresenceSubscription::Roles(r) => format!("roles:{}", r.join(",")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_ids_are_symmetric() {
        assert_eq!(
            user_conversation_id("bob", "alice"),
            user_conversation_id("alice", "bob")
        );
        assert_eq!(user_conversation_id("alice", "bob"), "user:alice:bob");
    }

    #[test]
    fn presence_subscription_round_trip() {
        for s in ["none", "all_users", "friends", "roles:admin,mod"] {
            assert_eq!(PresenceSubscription::parse(s).unwrap().to_param(), s);
        }
        assert!(PresenceSubscription::parse("roles:").is_err());
        assert!(PresenceSubscription::parse("everyone").is_err());
    }
}
