//! Bodies of the REST API (all JSON). Paths are listed in `docs/protocol.md`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::frames::{EventFrame, Feature};
use crate::model::{Call, Group, GroupMember, GroupType, Message, Scope, User};

/// Header carrying the app's API key (server-to-server calls).
pub const API_KEY_HEADER: &str = "x-api-key";
/// Optional header naming the app id the client expects; a mismatch fails with `APP_MISMATCH`.
pub const APP_ID_HEADER: &str = "x-chinwag-app";

/// `POST /v1/login`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub uid: String,
    pub auth_key: String,
}

/// Answer of `POST /v1/login` and `POST /v1/users/{uid}/tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    pub token: String,
    pub app_id: String,
    pub user: User,
    /// The user's newest event sequence when the token was issued: a client that connects
    /// later resumes from it, so nothing sent in between is lost (absent from older servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<u64>,
}

/// Answer of `GET /v1/me/position`: the caller's newest event sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Position {
    pub last_seq: u64,
}

/// `POST /v1/users`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"uid": "dave", "name": "Dave"})))]
pub struct CreateUser {
    pub uid: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// `PATCH /v1/users/{uid}`: absent fields are left as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Alice A."})))]
pub struct UpdateUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// Query of `GET /v1/users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ListUsersQuery {
    /// Case-insensitive substring of uid or name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// `online` or `offline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Cursor: return users whose uid sorts after this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// Answer of `GET /v1/users` and `GET /v1/users/{uid}/friends`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserList {
    pub users: Vec<User>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// `POST /v1/users/{uid}/friends`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"uids": ["bob"]})))]
pub struct FriendsRequest {
    pub uids: Vec<String>,
}

/// `GET /v1/users/{uid}/friend_requests`: asks waiting for an answer. A user accepts one by
/// asking back (`POST /v1/users/{uid}/friends`), declines or cancels with
/// `DELETE /v1/users/{uid}/friends/{other}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FriendRequests {
    /// Users who asked this user.
    pub incoming: Vec<User>,
    /// Users this user asked.
    pub outgoing: Vec<User>,
}

/// `POST /v1/me/blocked`: users to block (the answer is the complete blocked list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"uids": ["carol"]})))]
pub struct BlockUsers {
    pub uids: Vec<String>,
}

/// `POST /v1/groups`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"guid": "g2", "name": "Team", "type": "public"})))]
pub struct CreateGroup {
    pub guid: String,
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: GroupType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// Query of `GET /v1/groups`: `joined=true` lists the caller's groups, otherwise public groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ListGroupsQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joined: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupList {
    pub groups: Vec<Group>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberList {
    pub members: Vec<GroupMember>,
}

/// One user to add to a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberToAdd {
    pub uid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

/// `POST /v1/groups/{guid}/members`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"members": [{"uid": "carol"}]})))]
pub struct AddMembers {
    pub members: Vec<MemberToAdd>,
}

/// `POST /v1/groups/{guid}/kick`, `/ban`, `/unban`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"uid": "bob"})))]
pub struct MemberAction {
    pub uid: String,
}

/// `PUT /v1/groups/{guid}/members/{uid}/scope`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"scope": "moderator"})))]
pub struct ChangeScope {
    pub scope: Scope,
}

/// Query of `GET /v1/messages`: one conversation's history, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct HistoryQuery {
    /// `user` or `group`.
    pub receiver_type: String,
    /// The other user's uid, or the guid.
    pub receiver: String,
    /// Messages with an id lower than this (fetch previous). Without either cursor: the newest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
    /// Messages with an id higher than this (fetch next).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `message` or `custom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Message type, e.g. `text` or `image`.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub kind: Option<String>,
}

/// Query of `GET /v1/messages/{id}/thread`: the replies to one message, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ThreadQuery {
    /// Replies with an id lower than this (fetch previous). Without either cursor: the newest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
    /// Replies with an id higher than this (fetch next).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `message` or `custom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Message type, e.g. `text` or `image`.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageList {
    pub messages: Vec<Message>,
    /// True when more messages exist beyond this page in the direction asked.
    pub has_more: bool,
}

/// `PATCH /v1/messages/{id}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"text": "hello again"})))]
pub struct EditMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// Answer of `POST /v1/messages`, `PATCH` and `DELETE /v1/messages/{id}`: the event as stored
/// for the caller (its `seq` is the caller's).
pub type EventResult = EventFrame;

/// `POST /v1/admin/throttle`: switch a feature off for every user for a while.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"feature": "typing", "duration_ms": 1000})))]
pub struct ThrottleRequest {
    pub feature: Feature,
    pub duration_ms: u64,
}

/// `GET /v1/calls/{session_id}`
pub type CallResult = Call;

/// `GET /v1/health`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: String,
    pub version: String,
    pub app_id: String,
    pub protocol: u32,
}
