//! Read-only payloads handed to callbacks, and the numeric enums of the API.
//!
//! Every payload is borrowed: it and every string it points to are valid only until the
//! callback returns (copy what you keep). Strings are NUL-terminated UTF-8; a field documented
//! as nullable is NULL when absent. Every model payload has a `json` field with the whole object
//! as JSON (the protocol's field names), which carries the fields without a C member too.
//! Times are milliseconds since the Unix epoch; 0 means absent.

use std::ffi::{c_char, CString};

use chinwag_protocol::frames::{Feature, Gap, TransientMessage, TypingIndicator};
use chinwag_protocol::model::{
    Call, GroupAction, GroupMemberEvent, Message, Presence, Receipt, ReceiptKind, ReceiverType,
    User, UserStatus,
};
use serde_json::json;

use crate::error::Error;
use crate::ffi::errors::{chinwag_result, static_name};
use crate::state::{ConnectionState, Reason, StateChange};

// ----- enums (plain `uint32_t` values: C may pass any number, so inputs are checked) --------

/// A connection state (docs/behaviour.md, section 3). `CHINWAG_CONNECTION_STATE_*`.
pub type chinwag_connection_state = u32;
/// No socket and no attempt planned: initially, after disconnect or logout.
pub const CHINWAG_CONNECTION_STATE_DISCONNECTED: chinwag_connection_state = 0;
/// An attempt runs: TCP, TLS, WebSocket upgrade and the server's accept of the session.
pub const CHINWAG_CONNECTION_STATE_CONNECTING: chinwag_connection_state = 1;
/// The server accepted the session; events flow.
pub const CHINWAG_CONNECTION_STATE_CONNECTED: chinwag_connection_state = 2;
/// The connection was lost; a retry is scheduled (`retry_in_ms`).
pub const CHINWAG_CONNECTION_STATE_RECONNECTING: chinwag_connection_state = 3;
/// Lost for too long: queued sends failed; retries continue slowly.
pub const CHINWAG_CONNECTION_STATE_SUSPENDED: chinwag_connection_state = 4;
/// Terminal until login or connect: token rejected, user deactivated, protocol mismatch.
pub const CHINWAG_CONNECTION_STATE_FAILED: chinwag_connection_state = 5;

/// Why the connection state changed. `CHINWAG_STATE_REASON_*`; `chinwag_state_reason_name`
/// names them.
pub type chinwag_state_reason = u32;
/// The app called connect (or login in auto mode, or init restored a session).
pub const CHINWAG_STATE_REASON_CONNECT_REQUESTED: chinwag_state_reason = 0;
/// The app called disconnect.
pub const CHINWAG_STATE_REASON_DISCONNECT_REQUESTED: chinwag_state_reason = 1;
/// The app logged out.
pub const CHINWAG_STATE_REASON_LOGGED_OUT: chinwag_state_reason = 2;
/// The server accepted the session.
pub const CHINWAG_STATE_REASON_ACCEPTED: chinwag_state_reason = 3;
/// The attempt failed (network, TLS, timeout, a refusal that allows retries).
pub const CHINWAG_STATE_REASON_ATTEMPT_FAILED: chinwag_state_reason = 4;
/// An established connection dropped.
pub const CHINWAG_STATE_REASON_CONNECTION_LOST: chinwag_state_reason = 5;
/// The retry timer fired.
pub const CHINWAG_STATE_REASON_RETRY_TIMER: chinwag_state_reason = 6;
/// Lost for longer than the suspend bound.
pub const CHINWAG_STATE_REASON_SUSPEND_TIMEOUT: chinwag_state_reason = 7;
/// The token was rejected or revoked.
pub const CHINWAG_STATE_REASON_AUTH_REJECTED: chinwag_state_reason = 8;
/// The user was deactivated.
pub const CHINWAG_STATE_REASON_USER_DEACTIVATED: chinwag_state_reason = 9;
/// The server speaks another protocol version or serves another app.
pub const CHINWAG_STATE_REASON_PROTOCOL_MISMATCH: chinwag_state_reason = 10;
/// The app reported the network down or up.
pub const CHINWAG_STATE_REASON_NETWORK_CHANGED: chinwag_state_reason = 11;
/// The app went to the background or came back.
pub const CHINWAG_STATE_REASON_APP_STATE: chinwag_state_reason = 12;
/// The server is shutting down or restarting.
pub const CHINWAG_STATE_REASON_SERVER_RESTART: chinwag_state_reason = 13;
/// Not a change: the first event of a connection listener added after init, with the state
/// it starts from (`previous == current`); every later event is a change from it.
pub const CHINWAG_STATE_REASON_LISTENER_ADDED: chinwag_state_reason = 14;

/// Whom a message, typing indicator or transient message is for. `CHINWAG_RECEIVER_TYPE_*`.
pub type chinwag_receiver_type = u32;
/// A user (the receiver is a uid).
pub const CHINWAG_RECEIVER_TYPE_USER: chinwag_receiver_type = 0;
/// A group (the receiver is a guid).
pub const CHINWAG_RECEIVER_TYPE_GROUP: chinwag_receiver_type = 1;

/// Online status of a user. `CHINWAG_USER_STATUS_*`.
pub type chinwag_user_status = u32;
/// No socket of the user is open.
pub const CHINWAG_USER_STATUS_OFFLINE: chinwag_user_status = 0;
/// At least one socket of the user is open.
pub const CHINWAG_USER_STATUS_ONLINE: chinwag_user_status = 1;

/// What a receipt reports. `CHINWAG_RECEIPT_KIND_*`.
pub type chinwag_receipt_kind = u32;
/// Everything up to the message was delivered.
pub const CHINWAG_RECEIPT_KIND_DELIVERED: chinwag_receipt_kind = 0;
/// Everything up to the message was read.
pub const CHINWAG_RECEIPT_KIND_READ: chinwag_receipt_kind = 1;

/// What happened to a group member. `CHINWAG_GROUP_ACTION_*`.
pub type chinwag_group_action = u32;
/// The member joined.
pub const CHINWAG_GROUP_ACTION_JOINED: chinwag_group_action = 0;
/// The member left.
pub const CHINWAG_GROUP_ACTION_LEFT: chinwag_group_action = 1;
/// The member was kicked.
pub const CHINWAG_GROUP_ACTION_KICKED: chinwag_group_action = 2;
/// The member was banned.
pub const CHINWAG_GROUP_ACTION_BANNED: chinwag_group_action = 3;
/// The member was unbanned.
pub const CHINWAG_GROUP_ACTION_UNBANNED: chinwag_group_action = 4;
/// The member's scope changed.
pub const CHINWAG_GROUP_ACTION_SCOPE_CHANGED: chinwag_group_action = 5;
/// The member was added by an admin.
pub const CHINWAG_GROUP_ACTION_ADDED: chinwag_group_action = 6;

/// Severity of a log record. `CHINWAG_LOG_LEVEL_*`.
pub type chinwag_log_level = u32;
/// Something failed.
pub const CHINWAG_LOG_LEVEL_ERROR: chinwag_log_level = 1;
/// Something unexpected that the SDK handled.
pub const CHINWAG_LOG_LEVEL_WARN: chinwag_log_level = 2;
/// Notable progress.
pub const CHINWAG_LOG_LEVEL_INFO: chinwag_log_level = 3;
/// Details for debugging.
pub const CHINWAG_LOG_LEVEL_DEBUG: chinwag_log_level = 4;

// ----- payloads ----------------------------------------------------------------------------------

/// An error: of a completion, or reported by a listener.
#[repr(C)]
pub struct chinwag_error {
    /// The `CHINWAG_RESULT_*` code.
    pub code: chinwag_result,
    /// The code's name, e.g. `"NOT_CONNECTED"`.
    pub name: *const c_char,
    /// A readable message.
    pub message: *const c_char,
    /// `{"code":..,"name":..,"message":..}`.
    pub json: *const c_char,
}

/// One connection state change; never `previous == current`.
#[repr(C)]
pub struct chinwag_state_change {
    /// The state before (`CHINWAG_CONNECTION_STATE_*`).
    pub previous: chinwag_connection_state,
    /// The state now (`CHINWAG_CONNECTION_STATE_*`).
    pub current: chinwag_connection_state,
    /// Why (`CHINWAG_STATE_REASON_*`).
    pub reason: chinwag_state_reason,
    /// A readable explanation.
    pub message: *const c_char,
    /// In RECONNECTING and SUSPENDED: milliseconds until the next attempt; otherwise -1.
    pub retry_in_ms: i64,
    /// The change as JSON, states and reason by name.
    pub json: *const c_char,
}

/// A user.
#[repr(C)]
pub struct chinwag_user {
    pub uid: *const c_char,
    pub name: *const c_char,
    /// Avatar URL; nullable.
    pub avatar: *const c_char,
    /// Role (`"default"` unless set).
    pub role: *const c_char,
    /// `CHINWAG_USER_STATUS_*`.
    pub status: chinwag_user_status,
    /// Last activity; 0 if unknown.
    pub last_active_at: i64,
    pub deactivated: bool,
    /// The user as JSON (with `metadata`).
    pub json: *const c_char,
}

/// A stored message (text, media or custom).
#[repr(C)]
pub struct chinwag_message {
    /// Server-assigned id, increasing in store order.
    pub id: i64,
    /// The sender's client message id.
    pub muid: *const c_char,
    pub sender: *const c_char,
    /// `CHINWAG_RECEIVER_TYPE_*`.
    pub receiver_type: chinwag_receiver_type,
    /// A uid or a guid.
    pub receiver: *const c_char,
    pub conversation_id: *const c_char,
    /// `"message"` (text and media) or `"custom"`.
    pub category: *const c_char,
    /// `"text"`, a media type (`"image"`, `"video"`, `"audio"`, `"file"`) or a custom type.
    pub message_type: *const c_char,
    /// The text; nullable (media and custom messages, deleted messages).
    pub text: *const c_char,
    /// Custom data as JSON; nullable.
    pub data_json: *const c_char,
    /// Parent message id of a thread reply; 0 if none.
    pub parent_id: i64,
    pub sent_at: i64,
    /// 0 unless edited.
    pub edited_at: i64,
    /// 0 unless deleted.
    pub deleted_at: i64,
    /// The whole message as JSON (attachments, metadata, quoted id, ...).
    pub json: *const c_char,
}

/// "`by` received (or read) everything up to `message_id` in this conversation."
#[repr(C)]
pub struct chinwag_receipt {
    /// `CHINWAG_RECEIPT_KIND_*`.
    pub kind: chinwag_receipt_kind,
    /// Who received or read.
    pub by: *const c_char,
    pub message_id: i64,
    /// The sender of `message_id`.
    pub message_sender: *const c_char,
    pub conversation_id: *const c_char,
    /// `CHINWAG_RECEIVER_TYPE_*` of `message_id`.
    pub receiver_type: chinwag_receiver_type,
    pub receiver: *const c_char,
    pub at: i64,
    pub json: *const c_char,
}

/// A user's presence.
#[repr(C)]
pub struct chinwag_presence {
    pub uid: *const c_char,
    /// `CHINWAG_USER_STATUS_*`.
    pub status: chinwag_user_status,
    /// 0 if unknown.
    pub last_active_at: i64,
    pub json: *const c_char,
}

/// A typing indicator of another user.
#[repr(C)]
pub struct chinwag_typing {
    pub sender: *const c_char,
    /// `CHINWAG_RECEIVER_TYPE_*`.
    pub receiver_type: chinwag_receiver_type,
    pub receiver: *const c_char,
    /// The sender's metadata as JSON; nullable.
    pub metadata_json: *const c_char,
    pub json: *const c_char,
}

/// A transient (never stored) message.
#[repr(C)]
pub struct chinwag_transient {
    pub sender: *const c_char,
    /// `CHINWAG_RECEIVER_TYPE_*`.
    pub receiver_type: chinwag_receiver_type,
    pub receiver: *const c_char,
    /// The app's data as JSON.
    pub data_json: *const c_char,
    pub json: *const c_char,
}

/// Events `from_seq..=to_seq` were missed and will not be replayed: fetch history.
#[repr(C)]
pub struct chinwag_gap {
    pub from_seq: u64,
    pub to_seq: u64,
    pub json: *const c_char,
}

/// A change to a group's membership.
#[repr(C)]
pub struct chinwag_group_member_event {
    /// `CHINWAG_GROUP_ACTION_*`.
    pub action: chinwag_group_action,
    pub guid: *const c_char,
    pub group_name: *const c_char,
    /// The member affected.
    pub member: *const c_char,
    /// Who did it.
    pub by: *const c_char,
    /// Scope after the change (`"participant"`, `"moderator"`, `"admin"`); nullable.
    pub scope: *const c_char,
    /// Scope before a scope change; nullable.
    pub old_scope: *const c_char,
    pub at: i64,
    pub json: *const c_char,
}

/// A call's signalling state.
#[repr(C)]
pub struct chinwag_call {
    pub session_id: *const c_char,
    pub initiator: *const c_char,
    /// `CHINWAG_RECEIVER_TYPE_*`.
    pub receiver_type: chinwag_receiver_type,
    pub receiver: *const c_char,
    /// `"audio"` or `"video"`.
    pub call_type: *const c_char,
    /// `"initiated"`, `"ongoing"`, `"rejected"`, `"busy"`, `"cancelled"`, `"unanswered"` or
    /// `"ended"`.
    pub status: *const c_char,
    /// Who caused the latest status change.
    pub by: *const c_char,
    pub initiated_at: i64,
    /// 0 unless joined.
    pub joined_at: i64,
    /// 0 unless ended.
    pub ended_at: i64,
    pub json: *const c_char,
}

/// The server throttled a feature, or lifted its throttle.
#[repr(C)]
pub struct chinwag_feature_change {
    /// `"typing"`, `"receipts"` or `"transient"`.
    pub feature: *const c_char,
    /// How long the throttle lasts; 0 when lifted.
    pub duration_ms: u64,
    pub json: *const c_char,
}

/// A log record of the SDK.
#[repr(C)]
pub struct chinwag_log_record {
    /// `CHINWAG_LOG_LEVEL_*`.
    pub level: chinwag_log_level,
    /// Where it comes from, e.g. `"chinwag::connection"`.
    pub target: *const c_char,
    pub message: *const c_char,
}

// ----- conversions -------------------------------------------------------------------------------

/// A `CString`; interior NULs (never in ids and JSON) become U+FFFD.
pub(crate) fn cstring(s: &str) -> CString {
    CString::new(s)
        .unwrap_or_else(|_| CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default())
}

/// Owns the strings a payload points to. A `CString`'s bytes live on the heap, so moving it
/// (into the vector, or the payload around) keeps the pointers valid.
/// Arrays of payload structs (pages and lists) live here too: a boxed slice's items stay put.
#[derive(Default)]
pub(crate) struct Strings {
    strings: Vec<CString>,
    arrays: Vec<Box<dyn std::any::Any>>,
}

impl Strings {
    pub(crate) fn add(&mut self, s: &str) -> *const c_char {
        let c = cstring(s);
        let p = c.as_ptr();
        self.strings.push(c);
        p
    }

    pub(crate) fn opt(&mut self, s: Option<&str>) -> *const c_char {
        s.map_or(std::ptr::null(), |s| self.add(s))
    }

    pub(crate) fn json<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> *const c_char {
        self.add(&serde_json::to_string(value).unwrap_or_else(|_| "null".into()))
    }

    /// Keeps `items` and returns a pointer to the first (NULL when empty) and the count.
    pub(crate) fn array<T: 'static>(&mut self, items: Vec<T>) -> (*const T, usize) {
        if items.is_empty() {
            return (std::ptr::null(), 0);
        }
        let items: Box<[T]> = items.into_boxed_slice();
        let p = items.as_ptr();
        let len = items.len();
        self.arrays.push(Box::new(items));
        (p, len)
    }
}

/// A payload with the strings it borrows from; lives for one callback, or until freed when it
/// is an app's copy (`#[repr(C)]`: the value comes first, so a pointer to it is a pointer to
/// the whole payload).
#[repr(C)]
pub(crate) struct Payload<T> {
    value: T,
    _strings: Strings,
}

impl<T> Payload<T> {
    pub(crate) fn as_ptr(&self) -> *const T {
        &self.value
    }
}

pub(crate) fn build<T>(f: impl FnOnce(&mut Strings) -> T) -> Payload<T> {
    let mut strings = Strings::default();
    let value = f(&mut strings);
    Payload {
        value,
        _strings: strings,
    }
}

pub(crate) fn receiver_type(t: ReceiverType) -> chinwag_receiver_type {
    match t {
        ReceiverType::User => CHINWAG_RECEIVER_TYPE_USER,
        ReceiverType::Group => CHINWAG_RECEIVER_TYPE_GROUP,
    }
}

fn user_status(s: UserStatus) -> chinwag_user_status {
    match s {
        UserStatus::Online => CHINWAG_USER_STATUS_ONLINE,
        UserStatus::Offline => CHINWAG_USER_STATUS_OFFLINE,
    }
}

pub(crate) fn error(e: &Error) -> Payload<chinwag_error> {
    build(|s| chinwag_error {
        code: e.code as chinwag_result,
        name: static_name(e.code.name()),
        message: s.add(&e.message),
        json: s.json(&json!({"code": e.code as u32, "name": e.code.name(), "message": e.message})),
    })
}

pub(crate) fn state_change(c: &StateChange) -> Payload<chinwag_state_change> {
    build(|s| chinwag_state_change {
        previous: c.previous as chinwag_connection_state,
        current: c.current as chinwag_connection_state,
        reason: c.reason as chinwag_state_reason,
        message: s.add(&c.message),
        retry_in_ms: c
            .retry_in_ms
            .map_or(-1, |ms| i64::try_from(ms).unwrap_or(i64::MAX)),
        json: s.json(&json!({
            "previous": c.previous.name(),
            "current": c.current.name(),
            "reason": c.reason.name(),
            "message": c.message,
            "retry_in_ms": c.retry_in_ms,
        })),
    })
}

pub(crate) fn user(u: &User) -> Payload<chinwag_user> {
    build(|s| fill_user(s, u))
}

pub(crate) fn fill_user(s: &mut Strings, u: &User) -> chinwag_user {
    chinwag_user {
        uid: s.add(&u.uid),
        name: s.add(&u.name),
        avatar: s.opt(u.avatar.as_deref()),
        role: s.add(&u.role),
        status: user_status(u.status),
        last_active_at: u.last_active_at.unwrap_or(0),
        deactivated: u.deactivated,
        json: s.json(u),
    }
}

pub(crate) fn message(m: &Message) -> Payload<chinwag_message> {
    build(|s| fill_message(s, m))
}

pub(crate) fn fill_message(s: &mut Strings, m: &Message) -> chinwag_message {
    chinwag_message {
        id: m.id,
        muid: s.add(&m.muid),
        sender: s.add(&m.sender),
        receiver_type: receiver_type(m.receiver_type),
        receiver: s.add(&m.receiver),
        conversation_id: s.add(&m.conversation_id),
        category: s.add(m.category.as_str()),
        message_type: s.add(&m.kind),
        text: s.opt(m.text.as_deref()),
        data_json: match &m.data {
            Some(d) => s.json(d),
            None => std::ptr::null(),
        },
        parent_id: m.parent_id.unwrap_or(0),
        sent_at: m.sent_at,
        edited_at: m.edited_at.unwrap_or(0),
        deleted_at: m.deleted_at.unwrap_or(0),
        json: s.json(m),
    }
}

pub(crate) fn receipt(r: &Receipt) -> Payload<chinwag_receipt> {
    build(|s| fill_receipt(s, r))
}

pub(crate) fn fill_receipt(s: &mut Strings, r: &Receipt) -> chinwag_receipt {
    chinwag_receipt {
        kind: match r.kind {
            ReceiptKind::Delivered => CHINWAG_RECEIPT_KIND_DELIVERED,
            ReceiptKind::Read => CHINWAG_RECEIPT_KIND_READ,
        },
        by: s.add(&r.by),
        message_id: r.message_id,
        message_sender: s.add(&r.message_sender),
        conversation_id: s.add(&r.conversation_id),
        receiver_type: receiver_type(r.receiver_type),
        receiver: s.add(&r.receiver),
        at: r.at,
        json: s.json(r),
    }
}

pub(crate) fn presence(p: &Presence) -> Payload<chinwag_presence> {
    build(|s| fill_presence(s, p))
}

pub(crate) fn fill_presence(s: &mut Strings, p: &Presence) -> chinwag_presence {
    chinwag_presence {
        uid: s.add(&p.uid),
        status: user_status(p.status),
        last_active_at: p.last_active_at.unwrap_or(0),
        json: s.json(p),
    }
}

pub(crate) fn typing(t: &TypingIndicator) -> Payload<chinwag_typing> {
    build(|s| chinwag_typing {
        sender: s.add(&t.sender),
        receiver_type: receiver_type(t.receiver_type),
        receiver: s.add(&t.receiver),
        metadata_json: match &t.metadata {
            Some(m) => s.json(m),
            None => std::ptr::null(),
        },
        json: s.json(t),
    })
}

pub(crate) fn transient(t: &TransientMessage) -> Payload<chinwag_transient> {
    build(|s| chinwag_transient {
        sender: s.add(&t.sender),
        receiver_type: receiver_type(t.receiver_type),
        receiver: s.add(&t.receiver),
        data_json: s.json(&t.data),
        json: s.json(t),
    })
}

pub(crate) fn gap(g: &Gap) -> Payload<chinwag_gap> {
    build(|s| chinwag_gap {
        from_seq: g.from_seq,
        to_seq: g.to_seq,
        json: s.json(g),
    })
}

pub(crate) fn group_action(a: GroupAction) -> chinwag_group_action {
    match a {
        GroupAction::Joined => CHINWAG_GROUP_ACTION_JOINED,
        GroupAction::Left => CHINWAG_GROUP_ACTION_LEFT,
        GroupAction::Kicked => CHINWAG_GROUP_ACTION_KICKED,
        GroupAction::Banned => CHINWAG_GROUP_ACTION_BANNED,
        GroupAction::Unbanned => CHINWAG_GROUP_ACTION_UNBANNED,
        GroupAction::ScopeChanged => CHINWAG_GROUP_ACTION_SCOPE_CHANGED,
        GroupAction::Added => CHINWAG_GROUP_ACTION_ADDED,
    }
}

pub(crate) fn group_member(g: &GroupMemberEvent) -> Payload<chinwag_group_member_event> {
    build(|s| fill_group_member(s, g))
}

pub(crate) fn fill_group_member(
    s: &mut Strings,
    g: &GroupMemberEvent,
) -> chinwag_group_member_event {
    chinwag_group_member_event {
        action: group_action(g.action),
        guid: s.add(&g.guid),
        group_name: s.add(&g.group_name),
        member: s.add(&g.member),
        by: s.add(&g.by),
        scope: s.opt(g.scope.map(|x| x.as_str())),
        old_scope: s.opt(g.old_scope.map(|x| x.as_str())),
        at: g.at,
        json: s.json(g),
    }
}

pub(crate) fn call(c: &Call) -> Payload<chinwag_call> {
    build(|s| fill_call(s, c))
}

pub(crate) fn fill_call(s: &mut Strings, c: &Call) -> chinwag_call {
    chinwag_call {
        session_id: s.add(&c.session_id),
        initiator: s.add(&c.initiator),
        receiver_type: receiver_type(c.receiver_type),
        receiver: s.add(&c.receiver),
        call_type: s.add(c.call_type.as_str()),
        status: s.add(c.status.as_str()),
        by: s.add(&c.by),
        initiated_at: c.initiated_at,
        joined_at: c.joined_at.unwrap_or(0),
        ended_at: c.ended_at.unwrap_or(0),
        json: s.json(c),
    }
}

pub(crate) fn feature_change(
    feature: Feature,
    duration_ms: u64,
) -> Payload<chinwag_feature_change> {
    build(|s| chinwag_feature_change {
        feature: s.add(feature.as_str()),
        duration_ms,
        json: s.json(&json!({"feature": feature, "duration_ms": duration_ms})),
    })
}

pub(crate) fn log_record(
    level: crate::LogLevel,
    target: &str,
    message: &str,
) -> Payload<chinwag_log_record> {
    build(|s| chinwag_log_record {
        level: level as chinwag_log_level,
        target: s.add(target),
        message: s.add(message),
    })
}

/// The name of a connection state, e.g. `"CONNECTED"`, as a static NUL-terminated string;
/// `"UNKNOWN"` for a number that is no state. Never NULL; must not be freed. Thread-safe.
#[no_mangle]
pub extern "C" fn chinwag_connection_state_name(state: chinwag_connection_state) -> *const c_char {
    boundary!(value(c"UNKNOWN".as_ptr()): {
        const ALL: [ConnectionState; 6] = [
            ConnectionState::Disconnected,
            ConnectionState::Connecting,
            ConnectionState::Connected,
            ConnectionState::Reconnecting,
            ConnectionState::Suspended,
            ConnectionState::Failed,
        ];
        ALL.iter()
            .find(|s| **s as u32 == state)
            .map_or(c"UNKNOWN".as_ptr(), |s| static_name(s.name()))
    })
}

/// The name of a state change reason, e.g. `"CONNECTION_LOST"`, as a static NUL-terminated
/// string; `"UNKNOWN"` for a number that is no reason. Never NULL; must not be freed.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn chinwag_state_reason_name(reason: chinwag_state_reason) -> *const c_char {
    boundary!(value(c"UNKNOWN".as_ptr()): {
        const ALL: [Reason; 15] = [
            Reason::ConnectRequested,
            Reason::DisconnectRequested,
            Reason::LoggedOut,
            Reason::Accepted,
            Reason::AttemptFailed,
            Reason::ConnectionLost,
            Reason::RetryTimer,
            Reason::SuspendTimeout,
            Reason::AuthRejected,
            Reason::UserDeactivated,
            Reason::ProtocolMismatch,
            Reason::NetworkChanged,
            Reason::AppState,
            Reason::ServerRestart,
            Reason::ListenerAdded,
        ];
        ALL.iter()
            .find(|r| **r as u32 == reason)
            .map_or(c"UNKNOWN".as_ptr(), |r| static_name(r.name()))
    })
}
