//! Listeners (docs/behaviour.md, sections 6 and 8): structs of optional callbacks, registered
//! under a caller-chosen string id with a `user_data` pointer and an optional `user_data_free`.
//!
//! Rules for every `chinwag_client_add_*_listener` function:
//! - The listener struct is copied: it need not outlive the call. Set `struct_size` to its
//!   `sizeof`; zero-initialise it; any callback may be NULL (that event is then ignored).
//! - Adding an id that the same listener family already has replaces that listener (the old
//!   one's `user_data_free` runs before the call returns). Ids are per family.
//! - On success the SDK owns `user_data` until `user_data_free` (if not NULL) runs, exactly
//!   once: when the listener is removed or replaced, or when the client is freed. On failure
//!   nothing is registered and neither the callbacks nor `user_data_free` ever run.
//! - Callbacks run on the client's dispatcher thread, one at a time, in event order; they may
//!   call any function of this API (including adding or removing listeners and freeing the
//!   client). Payloads are valid only during the callback.
//!
//! Rules for every `chinwag_client_remove_*_listener` function:
//! - Called outside a callback of this client: when it returns, the listener is not running and
//!   never runs again, and its `user_data_free` has run (on the calling thread).
//! - Called from inside a callback of this client (including the listener's own): the listener
//!   receives no further events; it is released (`user_data_free` runs on the dispatcher
//!   thread) right after the running callback returns, or at once if it is not the running one.

use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chinwag_protocol::model::{Category, GroupAction, ReceiptKind, UserStatus};

use crate::client::Client;
use crate::dispatch::Listener;
use crate::error::{Error, ErrorCode, Result};
use crate::event::{CallEventKind, Event, ListenerKind};
use crate::ffi::errors::chinwag_result;
use crate::ffi::handles::chinwag_client;
use crate::ffi::macros::Versioned;
use crate::ffi::types::*;
use crate::state::ConnectionState;

// ----- callback types ----------------------------------------------------------------------------

/// Releases a `user_data` the SDK owned; runs exactly once: on the thread that removed or
/// replaced the listener (outside a callback), else on the client's dispatcher thread (removal
/// from inside a callback, or the client being freed; before `chinwag_client_free` returns
/// when that is called outside a callback).
pub type chinwag_user_data_free_cb = Option<unsafe extern "C" fn(user_data: *mut c_void)>;
/// An event without payload (logout success).
pub type chinwag_notice_cb = Option<unsafe extern "C" fn(user_data: *mut c_void)>;
/// A connection state change.
pub type chinwag_state_change_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, change: *const chinwag_state_change)>;
/// An error event.
pub type chinwag_error_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, error: *const chinwag_error)>;
/// A user event (login success).
pub type chinwag_user_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, user: *const chinwag_user)>;
/// A message event.
pub type chinwag_message_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, message: *const chinwag_message)>;
/// A typing indicator event.
pub type chinwag_typing_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, typing: *const chinwag_typing)>;
/// A receipt event.
pub type chinwag_receipt_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, receipt: *const chinwag_receipt)>;
/// A transient message event.
pub type chinwag_transient_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, transient: *const chinwag_transient)>;
/// A gap notice.
pub type chinwag_gap_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, gap: *const chinwag_gap)>;
/// A presence event.
pub type chinwag_presence_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, presence: *const chinwag_presence)>;
/// A group membership event.
pub type chinwag_group_member_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, event: *const chinwag_group_member_event)>;
/// A call event.
pub type chinwag_call_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, call: *const chinwag_call)>;
/// A feature throttle change.
pub type chinwag_feature_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, change: *const chinwag_feature_change)>;
/// A log record.
pub type chinwag_log_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, record: *const chinwag_log_record)>;

// ----- user data ---------------------------------------------------------------------------------

/// An app pointer the SDK owns while registered: `free` runs once when the last holder drops,
/// unless the registration failed (`disarm`).
pub(crate) struct UserData {
    ptr: *mut c_void,
    free: chinwag_user_data_free_cb,
    armed: AtomicBool,
}

// SAFETY: the pointer is only handed back to the app's own callbacks; the API contract (module
// doc of `ffi`) makes the app responsible for `user_data` being usable from the SDK's threads.
unsafe impl Send for UserData {}
// SAFETY: as for Send; the SDK itself never reads or writes through the pointer.
unsafe impl Sync for UserData {}

impl UserData {
    pub(crate) fn new(ptr: *mut c_void, free: chinwag_user_data_free_cb) -> Arc<UserData> {
        Arc::new(UserData {
            ptr,
            free,
            armed: AtomicBool::new(true),
        })
    }

    pub(crate) fn ptr(&self) -> *mut c_void {
        self.ptr
    }

    /// The registration failed: the app keeps ownership, `free` never runs.
    pub(crate) fn disarm(&self) {
        self.armed.store(false, Ordering::SeqCst);
    }
}

impl Drop for UserData {
    fn drop(&mut self) {
        if let (true, Some(free)) = (self.armed.load(Ordering::SeqCst), self.free) {
            // SAFETY: `free` is the app's `user_data_free` for this pointer; this is the one
            // time it runs (the last holder is gone).
            unsafe { free(self.ptr) };
        }
    }
}

/// Runs `callback`'s registration; on failure the app keeps `user_data` (see [`UserData`]).
pub(crate) fn registered<T>(user_data: &UserData, result: Result<T>) -> Result<T> {
    if result.is_err() {
        user_data.disarm();
    }
    result
}

/// Calls a C callback with a payload, building the payload only if the callback is set.
pub(crate) fn emit<T>(
    callback: Option<unsafe extern "C" fn(*mut c_void, *const T)>,
    user_data: *mut c_void,
    payload: impl FnOnce() -> Payload<T>,
) {
    if let Some(f) = callback {
        let p = payload();
        // SAFETY: `f` is the app's callback for this payload type; the payload and its strings
        // live until after it returns (the borrowing rule of the header).
        unsafe { f(user_data, p.as_ptr()) };
    }
}

// ----- listener structs --------------------------------------------------------------------------

/// Connection listener (docs/behaviour.md, section 3). Versioned: set `struct_size`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct chinwag_connection_listener {
    /// `sizeof(chinwag_connection_listener)`.
    pub struct_size: usize,
    /// Every state change (before the specific callback below).
    pub on_state_changed: chinwag_state_change_cb,
    /// The state became CONNECTING.
    pub on_connecting: chinwag_state_change_cb,
    /// The state became CONNECTED: the server accepted the session.
    pub on_connected: chinwag_state_change_cb,
    /// The state became DISCONNECTED, RECONNECTING (see `retry_in_ms`) or SUSPENDED.
    pub on_disconnected: chinwag_state_change_cb,
    /// The reason for FAILED, or an error that left the state unchanged.
    pub on_connection_error: chinwag_error_cb,
    /// The server throttled a feature (its calls fail with `FEATURE_THROTTLED`).
    pub on_feature_throttled: chinwag_feature_cb,
    /// The server lifted a throttle.
    pub on_feature_unthrottled: chinwag_feature_cb,
}

/// Login listener (docs/behaviour.md, section 2). Versioned: set `struct_size`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct chinwag_login_listener {
    /// `sizeof(chinwag_login_listener)`.
    pub struct_size: usize,
    pub on_login_success: chinwag_user_cb,
    pub on_login_failure: chinwag_error_cb,
    pub on_logout_success: chinwag_notice_cb,
    /// Logout failed to tell the server; the local session was purged all the same.
    pub on_logout_failure: chinwag_error_cb,
    /// The server rejected or revoked the token: log in again.
    pub on_session_expired: chinwag_error_cb,
}

/// Message listener (docs/behaviour.md, section 6). Versioned: set `struct_size`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct chinwag_message_listener {
    /// `sizeof(chinwag_message_listener)`.
    pub struct_size: usize,
    /// A text message (category `"message"`, type `"text"`) arrived.
    pub on_text_message_received: chinwag_message_cb,
    /// A media message (category `"message"`, another type) arrived.
    pub on_media_message_received: chinwag_message_cb,
    /// A custom message (category `"custom"`) arrived.
    pub on_custom_message_received: chinwag_message_cb,
    pub on_message_edited: chinwag_message_cb,
    pub on_message_deleted: chinwag_message_cb,
    pub on_typing_started: chinwag_typing_cb,
    /// A typing indicator ended (also when it timed out or the connection dropped).
    pub on_typing_ended: chinwag_typing_cb,
    /// Messages up to `message_id` were delivered.
    pub on_messages_delivered: chinwag_receipt_cb,
    /// Messages up to `message_id` were read.
    pub on_messages_read: chinwag_receipt_cb,
    pub on_transient_message_received: chinwag_transient_cb,
    /// Events were missed and will not be replayed: fetch history.
    pub on_gap: chinwag_gap_cb,
    /// The user's view of a conversation changed on one of their devices: read or delivered
    /// up to a message (new unread count), or deleted (`deleted`). Appended in 0.x: an app
    /// built against an older header passes the smaller struct and never hears it.
    pub on_conversation_updated: crate::ffi::conversations::chinwag_conversation_cb,
}

/// User (presence) listener; only users covered by the presence subscription. Versioned.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct chinwag_user_listener {
    /// `sizeof(chinwag_user_listener)`.
    pub struct_size: usize,
    pub on_user_online: chinwag_presence_cb,
    pub on_user_offline: chinwag_presence_cb,
}

/// Group listener: membership changes of the user's groups. Versioned.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct chinwag_group_listener {
    /// `sizeof(chinwag_group_listener)`.
    pub struct_size: usize,
    pub on_member_joined: chinwag_group_member_cb,
    pub on_member_left: chinwag_group_member_cb,
    pub on_member_kicked: chinwag_group_member_cb,
    pub on_member_banned: chinwag_group_member_cb,
    pub on_member_unbanned: chinwag_group_member_cb,
    pub on_member_scope_changed: chinwag_group_member_cb,
    pub on_member_added: chinwag_group_member_cb,
}

/// Call listener. Versioned.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct chinwag_call_listener {
    /// `sizeof(chinwag_call_listener)`.
    pub struct_size: usize,
    /// A call to this user (or started by their other device) was initiated.
    pub on_incoming_call_received: chinwag_call_cb,
    pub on_outgoing_call_accepted: chinwag_call_cb,
    /// Rejected or busy (see `status`).
    pub on_outgoing_call_rejected: chinwag_call_cb,
    /// Cancelled by the caller or unanswered (see `status`).
    pub on_incoming_call_cancelled: chinwag_call_cb,
    pub on_call_ended: chinwag_call_cb,
}

/// Log listener: the SDK's log records. Versioned.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct chinwag_log_listener {
    /// `sizeof(chinwag_log_listener)`.
    pub struct_size: usize,
    pub on_log: chinwag_log_cb,
}

// SAFETY: (all seven) `#[repr(C)]`, `struct_size: usize` first, then only optional function
// pointers, for which every bit pattern (zero included) is a valid value.
unsafe impl Versioned for chinwag_connection_listener {}
// SAFETY: see above.
unsafe impl Versioned for chinwag_login_listener {}
// SAFETY: see above.
unsafe impl Versioned for chinwag_message_listener {
    // The first version ended with `on_gap`.
    const MIN_SIZE: usize = std::mem::offset_of!(chinwag_message_listener, on_conversation_updated);
}
// SAFETY: see above.
unsafe impl Versioned for chinwag_user_listener {}
// SAFETY: see above.
unsafe impl Versioned for chinwag_group_listener {}
// SAFETY: see above.
unsafe impl Versioned for chinwag_call_listener {}
// SAFETY: see above.
unsafe impl Versioned for chinwag_log_listener {}

/// Routes the events of one family to the struct's callbacks.
trait Table: Versioned + Send + 'static {
    const KIND: ListenerKind;
    fn on_event(&self, ud: *mut c_void, event: &Event);
}

impl Table for chinwag_connection_listener {
    const KIND: ListenerKind = ListenerKind::Connection;
    fn on_event(&self, ud: *mut c_void, event: &Event) {
        match event {
            Event::State(c) => {
                let specific = match c.current {
                    ConnectionState::Connecting => self.on_connecting,
                    ConnectionState::Connected => self.on_connected,
                    ConnectionState::Disconnected
                    | ConnectionState::Reconnecting
                    | ConnectionState::Suspended => self.on_disconnected,
                    ConnectionState::Failed => None,
                };
                if self.on_state_changed.is_some() || specific.is_some() {
                    let p = state_change(c);
                    emit(self.on_state_changed, ud, || state_change(c));
                    emit(specific, ud, || p);
                }
            }
            Event::ConnectionError(e) => emit(self.on_connection_error, ud, || error(e)),
            Event::FeatureThrottled {
                feature,
                duration_ms,
            } => emit(self.on_feature_throttled, ud, || {
                feature_change(*feature, *duration_ms)
            }),
            Event::FeatureUnthrottled { feature } => emit(self.on_feature_unthrottled, ud, || {
                feature_change(*feature, 0)
            }),
            _ => {}
        }
    }
}

impl Table for chinwag_login_listener {
    const KIND: ListenerKind = ListenerKind::Login;
    fn on_event(&self, ud: *mut c_void, event: &Event) {
        match event {
            Event::LoginSuccess(u) => emit(self.on_login_success, ud, || user(u)),
            Event::LoginFailure(e) => emit(self.on_login_failure, ud, || error(e)),
            Event::LogoutSuccess => {
                if let Some(f) = self.on_logout_success {
                    // SAFETY: the app's callback of this signature, given its own pointer.
                    unsafe { f(ud) };
                }
            }
            Event::LogoutFailure(e) => emit(self.on_logout_failure, ud, || error(e)),
            Event::SessionExpired(e) => emit(self.on_session_expired, ud, || error(e)),
            _ => {}
        }
    }
}

impl Table for chinwag_message_listener {
    const KIND: ListenerKind = ListenerKind::Message;
    fn on_event(&self, ud: *mut c_void, event: &Event) {
        match event {
            Event::Message(m) => {
                let cb = match (m.category, m.kind.as_str()) {
                    (Category::Custom, _) => self.on_custom_message_received,
                    (Category::Message, "text") => self.on_text_message_received,
                    (Category::Message, _) => self.on_media_message_received,
                };
                emit(cb, ud, || message(m));
            }
            Event::MessageEdited(m) => emit(self.on_message_edited, ud, || message(m)),
            Event::MessageDeleted(m) => emit(self.on_message_deleted, ud, || message(m)),
            Event::TypingStarted(t) => emit(self.on_typing_started, ud, || typing(t)),
            Event::TypingEnded(t) => emit(self.on_typing_ended, ud, || typing(t)),
            Event::Receipt(r) => {
                let cb = match r.kind {
                    ReceiptKind::Delivered => self.on_messages_delivered,
                    ReceiptKind::Read => self.on_messages_read,
                };
                emit(cb, ud, || receipt(r));
            }
            Event::Transient(t) => emit(self.on_transient_message_received, ud, || transient(t)),
            Event::Gap(g) => emit(self.on_gap, ud, || gap(g)),
            Event::ConversationUpdated(c) => emit(self.on_conversation_updated, ud, || {
                crate::ffi::conversations::conversation(c)
            }),
            _ => {}
        }
    }
}

impl Table for chinwag_user_listener {
    const KIND: ListenerKind = ListenerKind::User;
    fn on_event(&self, ud: *mut c_void, event: &Event) {
        if let Event::Presence(p) = event {
            let cb = match p.status {
                UserStatus::Online => self.on_user_online,
                UserStatus::Offline => self.on_user_offline,
            };
            emit(cb, ud, || presence(p));
        }
    }
}

impl Table for chinwag_group_listener {
    const KIND: ListenerKind = ListenerKind::Group;
    fn on_event(&self, ud: *mut c_void, event: &Event) {
        if let Event::GroupMember(g) = event {
            let cb = match g.action {
                GroupAction::Joined => self.on_member_joined,
                GroupAction::Left => self.on_member_left,
                GroupAction::Kicked => self.on_member_kicked,
                GroupAction::Banned => self.on_member_banned,
                GroupAction::Unbanned => self.on_member_unbanned,
                GroupAction::ScopeChanged => self.on_member_scope_changed,
                GroupAction::Added => self.on_member_added,
            };
            emit(cb, ud, || group_member(g));
        }
    }
}

impl Table for chinwag_call_listener {
    const KIND: ListenerKind = ListenerKind::Call;
    fn on_event(&self, ud: *mut c_void, event: &Event) {
        if let Event::Call { kind, call: c } = event {
            let cb = match kind {
                CallEventKind::Initiated => self.on_incoming_call_received,
                CallEventKind::Accepted => self.on_outgoing_call_accepted,
                CallEventKind::Rejected => self.on_outgoing_call_rejected,
                CallEventKind::Cancelled => self.on_incoming_call_cancelled,
                CallEventKind::Ended => self.on_call_ended,
            };
            emit(cb, ud, || call(c));
        }
    }
}

impl Table for chinwag_log_listener {
    const KIND: ListenerKind = ListenerKind::Log;
    fn on_event(&self, ud: *mut c_void, event: &Event) {
        if let Event::Log {
            level,
            target,
            message,
        } = event
        {
            emit(self.on_log, ud, || log_record(*level, target, message));
        }
    }
}

/// A C listener: its callbacks and the `user_data` they get.
struct CListener<T> {
    table: T,
    user_data: Arc<UserData>,
}

impl<T: Table> Listener for CListener<T> {
    fn on_event(&mut self, event: &Event) {
        self.table.on_event(self.user_data.ptr(), event);
    }
}

/// A log listener from the settings' `log` callback (registered by `chinwag_client_init`).
pub(crate) fn log_listener(on_log: chinwag_log_cb, user_data: Arc<UserData>) -> Box<dyn Listener> {
    Box::new(CListener {
        table: chinwag_log_listener {
            struct_size: std::mem::size_of::<chinwag_log_listener>(),
            on_log,
        },
        user_data,
    })
}

/// Listener families, for `chinwag_initial_listener`. `CHINWAG_LISTENER_KIND_*`.
pub type chinwag_listener_kind = u32;
/// `listener` points to a `chinwag_connection_listener`.
pub const CHINWAG_LISTENER_KIND_CONNECTION: chinwag_listener_kind = 0;
/// `listener` points to a `chinwag_login_listener`.
pub const CHINWAG_LISTENER_KIND_LOGIN: chinwag_listener_kind = 1;
/// `listener` points to a `chinwag_message_listener`.
pub const CHINWAG_LISTENER_KIND_MESSAGE: chinwag_listener_kind = 2;
/// `listener` points to a `chinwag_user_listener`.
pub const CHINWAG_LISTENER_KIND_USER: chinwag_listener_kind = 3;
/// `listener` points to a `chinwag_group_listener`.
pub const CHINWAG_LISTENER_KIND_GROUP: chinwag_listener_kind = 4;
/// `listener` points to a `chinwag_call_listener`.
pub const CHINWAG_LISTENER_KIND_CALL: chinwag_listener_kind = 5;
/// `listener` points to a `chinwag_log_listener`.
pub const CHINWAG_LISTENER_KIND_LOG: chinwag_listener_kind = 6;

/// A listener that `chinwag_client_init` registers before the client can emit anything
/// (`chinwag_settings.listeners`), so that an app restoring a session in auto mode hears its
/// first CONNECTING and CONNECTED and the events replayed right after. Versioned: set
/// `struct_size`. Copied by init, like the struct `listener` points to.
///
/// It is then an ordinary listener of that family with that id: removed with the matching
/// `chinwag_client_remove_*_listener`, replaced by adding the same id; `user_data_free` (may be
/// NULL) runs exactly once when it is removed or replaced or the client is freed, never if
/// init fails.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct chinwag_initial_listener {
    /// `sizeof(chinwag_initial_listener)`.
    pub struct_size: usize,
    /// `CHINWAG_LISTENER_KIND_*`: which struct `listener` points to.
    pub kind: chinwag_listener_kind,
    /// The listener's id, non-empty UTF-8.
    pub id: *const c_char,
    /// The family's listener struct, e.g. a `const chinwag_connection_listener *`.
    pub listener: *const c_void,
    /// Passed to every callback.
    pub user_data: *mut c_void,
    pub user_data_free: chinwag_user_data_free_cb,
}

// SAFETY: `#[repr(C)]`, `struct_size: usize` first, then an integer, raw pointers and an
// optional function pointer: every bit pattern is valid.
unsafe impl Versioned for chinwag_initial_listener {}

/// # Safety
/// `listener` is NULL or valid for reads of its `struct_size` bytes for the call.
unsafe fn table_of<T: Table>(
    listener: *const T,
    user_data: &Arc<UserData>,
) -> Result<Box<dyn Listener>> {
    let table = try_versioned!(listener);
    Ok(Box::new(CListener {
        table,
        user_data: user_data.clone(),
    }))
}

/// The family struct behind an initial listener's `listener` pointer.
///
/// # Safety
/// `listener` points to the struct that `kind` names, readable for its `struct_size`.
unsafe fn table_for(
    kind: ListenerKind,
    listener: *const c_void,
    user_data: &Arc<UserData>,
) -> Result<Box<dyn Listener>> {
    // SAFETY: by this function's contract the cast names the struct `listener` points to.
    unsafe {
        match kind {
            ListenerKind::Connection => {
                table_of(listener.cast::<chinwag_connection_listener>(), user_data)
            }
            ListenerKind::Login => table_of(listener.cast::<chinwag_login_listener>(), user_data),
            ListenerKind::Message => {
                table_of(listener.cast::<chinwag_message_listener>(), user_data)
            }
            ListenerKind::User => table_of(listener.cast::<chinwag_user_listener>(), user_data),
            ListenerKind::Group => table_of(listener.cast::<chinwag_group_listener>(), user_data),
            ListenerKind::Call => table_of(listener.cast::<chinwag_call_listener>(), user_data),
            ListenerKind::Log => table_of(listener.cast::<chinwag_log_listener>(), user_data),
        }
    }
}

/// One converted `chinwag_settings.listeners` element, for `InitOptions::listeners`.
pub(crate) struct Initial {
    pub kind: ListenerKind,
    pub id: String,
    pub listener: Box<dyn Listener>,
    /// Armed: disarm it if init fails.
    pub user_data: Arc<UserData>,
}

/// Converts one `chinwag_settings.listeners` element.
///
/// # Safety
/// `spec` and the pointers in it follow the API contract (NULL or valid for the call).
pub(crate) unsafe fn initial_listener(spec: *const chinwag_initial_listener) -> Result<Initial> {
    let listeners = spec;
    let spec = try_versioned!(listeners);
    let id = spec.id;
    let id = try_str!(id).to_string();
    let kind = match spec.kind {
        CHINWAG_LISTENER_KIND_CONNECTION => ListenerKind::Connection,
        CHINWAG_LISTENER_KIND_LOGIN => ListenerKind::Login,
        CHINWAG_LISTENER_KIND_MESSAGE => ListenerKind::Message,
        CHINWAG_LISTENER_KIND_USER => ListenerKind::User,
        CHINWAG_LISTENER_KIND_GROUP => ListenerKind::Group,
        CHINWAG_LISTENER_KIND_CALL => ListenerKind::Call,
        CHINWAG_LISTENER_KIND_LOG => ListenerKind::Log,
        other => {
            return Err(Error::invalid(format!(
                "listeners[i]->kind {other} is not a CHINWAG_LISTENER_KIND_*"
            )))
        }
    };
    let listener = spec.listener;
    if listener.is_null() {
        return Err(crate::ffi::macros::null_argument("listeners[i]->listener"));
    }
    let user_data = UserData::new(spec.user_data, spec.user_data_free);
    // SAFETY: `listener` is not NULL and, by the contract, points to the struct `kind` names.
    let listener = unsafe { table_for(kind, listener, &user_data) };
    let listener = registered(&user_data, listener)?;
    Ok(Initial {
        kind,
        id,
        listener,
        user_data,
    })
}

/// # Safety
/// The pointers follow the API contract (NULL or valid for the call).
unsafe fn add<T: Table>(
    client: *const chinwag_client,
    id: *const c_char,
    listener: *const T,
    user_data: *mut c_void,
    user_data_free: chinwag_user_data_free_cb,
) -> Result<()> {
    let client = try_client!(client);
    let id = try_str!(id);
    let table = try_versioned!(listener);
    let user_data = UserData::new(user_data, user_data_free);
    let listener = Box::new(CListener {
        table,
        user_data: user_data.clone(),
    });
    registered(&user_data, client.add_listener(T::KIND, id, listener))
}

/// # Safety
/// The pointers follow the API contract (NULL or valid for the call).
unsafe fn remove(
    kind: ListenerKind,
    client: *const chinwag_client,
    id: *const c_char,
) -> Result<()> {
    let client: Arc<Client> = try_client!(client);
    let id = try_str!(id);
    if id.is_empty() {
        return Err(Error::invalid("listener id must not be empty"));
    }
    if client.remove_listener(kind, id) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::NotFound,
            format!("no {kind:?} listener with id {id:?} is registered"),
        ))
    }
}

/// Adds (or replaces) the connection listener `id` of `client`.
///
/// - `client`: a live client. `id`: the caller's name for the listener, non-empty UTF-8.
/// - `listener`: the callbacks, copied during the call (NULL callbacks are skipped).
/// - `user_data`: passed to every callback; may be NULL. `user_data_free`: may be NULL; runs
///   exactly once when the listener is removed or replaced or the client is freed, and never
///   if this call fails.
///
/// The callbacks run on the client's dispatcher thread, one at a time, in event order, and may
/// call any function of this API (this one, remove, free included); their payloads are valid
/// only until they return.
///
/// Its first event is the current state: `on_state_changed` and the state's own callback
/// (`on_connecting`, `on_connected` or `on_disconnected`; none for FAILED) with `previous ==
/// current` and reason `CHINWAG_STATE_REASON_LISTENER_ADDED`, the state the client's other
/// connection listeners last heard. Every later state event is a change from the one before
/// it: none is missed, none comes twice.
///
/// Errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (empty id, `struct_size` too
/// small), `CLIENT_FREED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_add_connection_listener(
    client: *const chinwag_client,
    id: *const c_char,
    listener: *const chinwag_connection_listener,
    user_data: *mut c_void,
    user_data_free: chinwag_user_data_free_cb,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: this function's pointers follow the API contract, which is what `add` needs.
        unsafe { add(client, id, listener, user_data, user_data_free) }
    })
}

/// Removes the connection listener `id` of `client`.
///
/// Outside a callback of this client: when this returns, the listener is not running and never
/// runs again, and its `user_data_free` has run on this thread. Inside one (its own included):
/// it gets no further events and is released right after the running callback returns.
///
/// Errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (empty id), `NOT_FOUND` (no
/// such id), `CLIENT_FREED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_remove_connection_listener(
    client: *const chinwag_client,
    id: *const c_char,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: this function's pointers follow the API contract, which is what `remove` needs.
        unsafe { remove(ListenerKind::Connection, client, id) }
    })
}

/// Adds (or replaces) the login listener `id` of `client`.
///
/// - `client`: a live client. `id`: the caller's name for the listener, non-empty UTF-8.
/// - `listener`: the callbacks, copied during the call (NULL callbacks are skipped).
/// - `user_data`: passed to every callback; may be NULL. `user_data_free`: may be NULL; runs
///   exactly once when the listener is removed or replaced or the client is freed, and never
///   if this call fails.
///
/// The callbacks run on the client's dispatcher thread, one at a time, in event order, and may
/// call any function of this API (this one, remove, free included); their payloads are valid
/// only until they return.
///
/// Errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (empty id, `struct_size` too
/// small), `CLIENT_FREED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_add_login_listener(
    client: *const chinwag_client,
    id: *const c_char,
    listener: *const chinwag_login_listener,
    user_data: *mut c_void,
    user_data_free: chinwag_user_data_free_cb,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: this function's pointers follow the API contract, which is what `add` needs.
        unsafe { add(client, id, listener, user_data, user_data_free) }
    })
}

/// Removes the login listener `id` of `client`.
///
/// Outside a callback of this client: when this returns, the listener is not running and never
/// runs again, and its `user_data_free` has run on this thread. Inside one (its own included):
/// it gets no further events and is released right after the running callback returns.
///
/// Errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (empty id), `NOT_FOUND` (no
/// such id), `CLIENT_FREED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_remove_login_listener(
    client: *const chinwag_client,
    id: *const c_char,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: this function's pointers follow the API contract, which is what `remove` needs.
        unsafe { remove(ListenerKind::Login, client, id) }
    })
}

/// Adds (or replaces) the message listener `id` of `client`.
///
/// - `client`: a live client. `id`: the caller's name for the listener, non-empty UTF-8.
/// - `listener`: the callbacks, copied during the call (NULL callbacks are skipped).
/// - `user_data`: passed to every callback; may be NULL. `user_data_free`: may be NULL; runs
///   exactly once when the listener is removed or replaced or the client is freed, and never
///   if this call fails.
///
/// The callbacks run on the client's dispatcher thread, one at a time, in event order, and may
/// call any function of this API (this one, remove, free included); their payloads are valid
/// only until they return.
///
/// Errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (empty id, `struct_size` too
/// small), `CLIENT_FREED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_add_message_listener(
    client: *const chinwag_client,
    id: *const c_char,
    listener: *const chinwag_message_listener,
    user_data: *mut c_void,
    user_data_free: chinwag_user_data_free_cb,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: this function's pointers follow the API contract, which is what `add` needs.
        unsafe { add(client, id, listener, user_data, user_data_free) }
    })
}

/// Removes the message listener `id` of `client`.
///
/// Outside a callback of this client: when this returns, the listener is not running and never
/// runs again, and its `user_data_free` has run on this thread. Inside one (its own included):
/// it gets no further events and is released right after the running callback returns.
///
/// Errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (empty id), `NOT_FOUND` (no
/// such id), `CLIENT_FREED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_remove_message_listener(
    client: *const chinwag_client,
    id: *const c_char,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: this function's pointers follow the API contract, which is what `remove` needs.
        unsafe { remove(ListenerKind::Message, client, id) }
    })
}

/// Adds (or replaces) the user (presence) listener `id` of `client`.
///
/// - `client`: a live client. `id`: the caller's name for the listener, non-empty UTF-8.
/// - `listener`: the callbacks, copied during the call (NULL callbacks are skipped).
/// - `user_data`: passed to every callback; may be NULL. `user_data_free`: may be NULL; runs
///   exactly once when the listener is removed or replaced or the client is freed, and never
///   if this call fails.
///
/// The callbacks run on the client's dispatcher thread, one at a time, in event order, and may
/// call any function of this API (this one, remove, free included); their payloads are valid
/// only until they return.
///
/// Errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (empty id, `struct_size` too
/// small), `CLIENT_FREED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_add_user_listener(
    client: *const chinwag_client,
    id: *const c_char,
    listener: *const chinwag_user_listener,
    user_data: *mut c_void,
    user_data_free: chinwag_user_data_free_cb,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: this function's pointers follow the API contract, which is what `add` needs.
        unsafe { add(client, id, listener, user_data, user_data_free) }
    })
}

/// Removes the user (presence) listener `id` of `client`.
///
/// Outside a callback of this client: when this returns, the listener is not running and never
/// runs again, and its `user_data_free` has run on this thread. Inside one (its own included):
/// it gets no further events and is released right after the running callback returns.
///
/// Errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (empty id), `NOT_FOUND` (no
/// such id), `CLIENT_FREED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_remove_user_listener(
    client: *const chinwag_client,
    id: *const c_char,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: this function's pointers follow the API contract, which is what `remove` needs.
        unsafe { remove(ListenerKind::User, client, id) }
    })
}

/// Adds (or replaces) the group listener `id` of `client`.
///
/// - `client`: a live client. `id`: the caller's name for the listener, non-empty UTF-8.
/// - `listener`: the callbacks, copied during the call (NULL callbacks are skipped).
/// - `user_data`: passed to every callback; may be NULL. `user_data_free`: may be NULL; runs
///   exactly once when the listener is removed or replaced or the client is freed, and never
///   if this call fails.
///
/// The callbacks run on the client's dispatcher thread, one at a time, in event order, and may
/// call any function of this API (this one, remove, free included); their payloads are valid
/// only until they return.
///
/// Errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (empty id, `struct_size` too
/// small), `CLIENT_FREED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_add_group_listener(
    client: *const chinwag_client,
    id: *const c_char,
    listener: *const chinwag_group_listener,
    user_data: *mut c_void,
    user_data_free: chinwag_user_data_free_cb,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: this function's pointers follow the API contract, which is what `add` needs.
        unsafe { add(client, id, listener, user_data, user_data_free) }
    })
}

/// Removes the group listener `id` of `client`.
///
/// Outside a callback of this client: when this returns, the listener is not running and never
/// runs again, and its `user_data_free` has run on this thread. Inside one (its own included):
/// it gets no further events and is released right after the running callback returns.
///
/// Errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (empty id), `NOT_FOUND` (no
/// such id), `CLIENT_FREED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_remove_group_listener(
    client: *const chinwag_client,
    id: *const c_char,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: this function's pointers follow the API contract, which is what `remove` needs.
        unsafe { remove(ListenerKind::Group, client, id) }
    })
}

/// Adds (or replaces) the call listener `id` of `client`.
///
/// - `client`: a live client. `id`: the caller's name for the listener, non-empty UTF-8.
/// - `listener`: the callbacks, copied during the call (NULL callbacks are skipped).
/// - `user_data`: passed to every callback; may be NULL. `user_data_free`: may be NULL; runs
///   exactly once when the listener is removed or replaced or the client is freed, and never
///   if this call fails.
///
/// The callbacks run on the client's dispatcher thread, one at a time, in event order, and may
/// call any function of this API (this one, remove, free included); their payloads are valid
/// only until they return.
///
/// Errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (empty id, `struct_size` too
/// small), `CLIENT_FREED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_add_call_listener(
    client: *const chinwag_client,
    id: *const c_char,
    listener: *const chinwag_call_listener,
    user_data: *mut c_void,
    user_data_free: chinwag_user_data_free_cb,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: this function's pointers follow the API contract, which is what `add` needs.
        unsafe { add(client, id, listener, user_data, user_data_free) }
    })
}

/// Removes the call listener `id` of `client`.
///
/// Outside a callback of this client: when this returns, the listener is not running and never
/// runs again, and its `user_data_free` has run on this thread. Inside one (its own included):
/// it gets no further events and is released right after the running callback returns.
///
/// Errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (empty id), `NOT_FOUND` (no
/// such id), `CLIENT_FREED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_remove_call_listener(
    client: *const chinwag_client,
    id: *const c_char,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: this function's pointers follow the API contract, which is what `remove` needs.
        unsafe { remove(ListenerKind::Call, client, id) }
    })
}

/// Adds (or replaces) the log listener `id` of `client`.
///
/// - `client`: a live client. `id`: the caller's name for the listener, non-empty UTF-8.
/// - `listener`: the callbacks, copied during the call (NULL callbacks are skipped).
/// - `user_data`: passed to every callback; may be NULL. `user_data_free`: may be NULL; runs
///   exactly once when the listener is removed or replaced or the client is freed, and never
///   if this call fails.
///
/// The callbacks run on the client's dispatcher thread, one at a time, in event order, and may
/// call any function of this API (this one, remove, free included); their payloads are valid
/// only until they return.
///
/// Errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (empty id, `struct_size` too
/// small), `CLIENT_FREED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_add_log_listener(
    client: *const chinwag_client,
    id: *const c_char,
    listener: *const chinwag_log_listener,
    user_data: *mut c_void,
    user_data_free: chinwag_user_data_free_cb,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: this function's pointers follow the API contract, which is what `add` needs.
        unsafe { add(client, id, listener, user_data, user_data_free) }
    })
}

/// Removes the log listener `id` of `client`.
///
/// Outside a callback of this client: when this returns, the listener is not running and never
/// runs again, and its `user_data_free` has run on this thread. Inside one (its own included):
/// it gets no further events and is released right after the running callback returns.
///
/// Errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (empty id), `NOT_FOUND` (no
/// such id), `CLIENT_FREED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_remove_log_listener(
    client: *const chinwag_client,
    id: *const c_char,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: this function's pointers follow the API contract, which is what `remove` needs.
        unsafe { remove(ListenerKind::Log, client, id) }
    })
}
