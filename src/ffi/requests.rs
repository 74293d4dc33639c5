//! Paged requests (docs/behaviour.md, section 6): a conversation's history, fetched backwards
//! and forwards from a cursor (what an app uses to fill the hole after a gap notice), and the
//! user list with filters. A request object remembers where it stopped; create it once per
//! list on screen and fetch pages with it.
//!
//! Request handles are opaque, created by `chinwag_*_request_new` and released by
//! `chinwag_*_request_free` (NULL: no-op). A freed or unknown handle is refused with
//! `INVALID_ARGUMENT`. A request may be used from any thread and by several fetches at once;
//! each fetch continues from the cursor as it stands when the fetch is made.

use std::collections::HashMap;
use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use once_cell::sync::Lazy;

use crate::api::conversations::ConversationsRequest;
use crate::api::requests::{MessagesRequest, UserFilters, UsersRequest};
use crate::error::{Error, Result};
use crate::ffi::completions::{
    chinwag_message_page_done_cb, chinwag_user_page_done_cb, completion, receiver_type,
};
use crate::ffi::conversations::{
    chinwag_conversation_filter, chinwag_conversation_page_done_cb, conversation_page,
    CHINWAG_CONVERSATION_FILTER_ALL, CHINWAG_CONVERSATION_FILTER_GROUP,
    CHINWAG_CONVERSATION_FILTER_USER,
};
use crate::ffi::copies::hidden;
use crate::ffi::errors::chinwag_result;
use crate::ffi::groups::page_limit;
use crate::ffi::handles::chinwag_client;
use crate::ffi::macros::Versioned;
use crate::ffi::payloads;
use crate::ffi::types::chinwag_receiver_type;

/// A conversation's history request: opaque.
pub struct chinwag_messages_request {
    /// Makes each allocation non-empty (so addresses are distinct); never read by C.
    _serial: u64,
}

/// A user list request: opaque.
pub struct chinwag_users_request {
    /// As in `chinwag_messages_request`.
    _serial: u64,
}

/// Options of `chinwag_messages_request_new`. Versioned: zero-initialise, set `struct_size`;
/// zero / NULL fields mean "no filter" or the default.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct chinwag_messages_request_options {
    /// `sizeof(chinwag_messages_request_options)`.
    pub struct_size: usize,
    /// Messages per page, 1-100; 0 means 30.
    pub limit: u32,
    /// Only this category: `"message"` or `"custom"`; NULL for all.
    pub category: *const c_char,
    /// Only this type (`"text"`, `"image"`, a custom type, ...); NULL for all.
    pub message_type: *const c_char,
    /// Start paging around this message id: previous pages end below it, next pages start
    /// above it (e.g. the last message the app has, after a gap notice). 0: previous pages
    /// start from the newest message, next pages from the oldest.
    pub from_message_id: i64,
}

// SAFETY: `#[repr(C)]`, `struct_size: usize` first, then integers and raw pointers only.
unsafe impl Versioned for chinwag_messages_request_options {}

/// Options of `chinwag_users_request_new`. Versioned: zero-initialise, set `struct_size`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct chinwag_users_request_options {
    /// `sizeof(chinwag_users_request_options)`.
    pub struct_size: usize,
    /// Users per page, 1-100; 0 means 30.
    pub limit: u32,
    /// Only users whose uid or name contains this; NULL for all.
    pub search: *const c_char,
    /// Only `"online"` or `"offline"` users; NULL for all.
    pub status: *const c_char,
    /// Only users with this role; NULL for all.
    pub role: *const c_char,
}

// SAFETY: as for `chinwag_messages_request_options`.
unsafe impl Versioned for chinwag_users_request_options {}

/// A conversation list request: opaque.
pub struct chinwag_conversations_request {
    /// As in `chinwag_messages_request`.
    _serial: u64,
}

/// Options of `chinwag_conversations_request_new`. Versioned: zero-initialise, set
/// `struct_size`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct chinwag_conversations_request_options {
    /// `sizeof(chinwag_conversations_request_options)`.
    pub struct_size: usize,
    /// Conversations per page, 1-100; 0 means 30.
    pub limit: u32,
    /// `CHINWAG_CONVERSATION_FILTER_*` (0: all).
    pub filter: chinwag_conversation_filter,
    /// Nonzero: only conversations with unread messages.
    pub unread_only: u32,
}

// SAFETY: `#[repr(C)]`, `struct_size: usize` first, then integers only.
unsafe impl Versioned for chinwag_conversations_request_options {}

/// Live request handles by (hidden) address, so that a handle never freed shows up as a leak
/// (see `copies::hidden`). The FFI never reads through a handle.
struct Registry<T>(Lazy<Mutex<HashMap<usize, T>>>);

impl<T: Clone> Registry<T> {
    const fn new() -> Self {
        Registry(Lazy::new(|| Mutex::new(HashMap::new())))
    }

    fn map(&self) -> MutexGuard<'_, HashMap<usize, T>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new handle for `value`.
    fn insert<H>(&self, handle: H, value: T) -> *mut H {
        let handle = Box::into_raw(Box::new(handle));
        self.map().insert(hidden(handle as usize), value);
        handle
    }

    /// Frees a live handle of this registry; anything else only records `INVALID_ARGUMENT`.
    /// NULL: no-op. Each registry holds handles of one type `H`.
    fn release<H>(&self, handle: *mut H, function: &str) {
        if handle.is_null() {
            return;
        }
        if self.map().remove(&hidden(handle as usize)).is_some() {
            // SAFETY: the handle was live, so `insert::<H>` made it with `Box::into_raw`; it
            // just left the registry under the lock, so it is freed once.
            drop(unsafe { Box::from_raw(handle) });
        } else {
            crate::ffi::errors::record(&Error::invalid(format!(
                "{function}: not a live request (freed twice?)"
            )));
        }
    }

    fn get(&self, handle: usize, name: &str) -> Result<T> {
        if handle == 0 {
            return Err(crate::ffi::macros::null_argument(name));
        }
        self.map().get(&hidden(handle)).cloned().ok_or_else(|| {
            Error::invalid(format!(
                "`{name}` is not a live request: freed or never created"
            ))
        })
    }
}

static SERIAL: AtomicU64 = AtomicU64::new(1);
static MESSAGES: Registry<MessagesRequest> = Registry::new();
static USERS: Registry<UsersRequest> = Registry::new();
static CONVERSATIONS: Registry<ConversationsRequest> = Registry::new();

fn opt_filter(name: &str, value: Option<&str>) -> Result<Option<String>> {
    match value {
        Some("") => Err(Error::invalid(format!(
            "`{name}` is empty: use NULL for no filter"
        ))),
        other => Ok(other.map(String::from)),
    }
}

/// Creates a history request for the conversation with a user (`CHINWAG_RECEIVER_TYPE_USER`,
/// `receiver` a uid) or of a group (`_GROUP`, a guid). `options` is optional (NULL: 30 per
/// page, no filters) and copied. `*out` receives the handle on success; free it with
/// `chinwag_messages_request_free`. Errors: `NULL_ARGUMENT`, `INVALID_UTF8`,
/// `INVALID_ARGUMENT` (bad receiver, limit, category, empty filter, negative message id).
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn chinwag_messages_request_new(
    receiver_type: chinwag_receiver_type,
    receiver: *const c_char,
    options: *const chinwag_messages_request_options,
    out: *mut *mut chinwag_messages_request,
) -> chinwag_result {
    boundary!(result: {
        let receiver_type = self::receiver_type(receiver_type)?;
        let receiver = try_str!(receiver);
        let out = try_out!(out);
        let mut request = MessagesRequest::new(receiver_type, receiver)?;
        if !options.is_null() {
            let o = try_versioned!(options);
            request = request.limit(page_limit(o.limit)?)?;
            let category = o.category;
            if let Some(c) = opt_filter("category", try_opt_str!(category))? {
                if c != "message" && c != "custom" {
                    return Err(Error::invalid(format!(
                        "category {c:?} is neither \"message\" nor \"custom\""
                    )));
                }
                request = request.category(&c);
            }
            let message_type = o.message_type;
            if let Some(t) = opt_filter("message_type", try_opt_str!(message_type))? {
                request = request.kind(&t);
            }
            match o.from_message_id {
                0 => {}
                id if id > 0 => request = request.from_message(id),
                id => return Err(Error::invalid(format!("from_message_id {id} is negative"))),
            }
        }
        let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
        let handle = MESSAGES.insert(chinwag_messages_request { _serial: serial }, request);
        // SAFETY: `out` is not NULL (checked) and valid for a pointer write (contract).
        unsafe { *out = handle };
        Ok(())
    })
}

/// Frees a history request. NULL: no-op. Fetches already made still complete. A handle that is
/// not live only records `INVALID_ARGUMENT` as the last error. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn chinwag_messages_request_free(request: *mut chinwag_messages_request) {
    boundary!(value(()): {
        MESSAGES.release(request, "chinwag_messages_request_free")
    })
}

/// Fetches the page of older messages: the newest page on the first call (or the page below
/// `from_message_id`), then further back on each call. `done` gets the page, oldest first;
/// `has_more` says whether older ones remain. Errors: `NULL_ARGUMENT`, `INVALID_ARGUMENT` (not
/// a live request), `NOT_LOGGED_IN`, `CLIENT_FREED`; in `done`: `FORBIDDEN` (a group the user
/// is not in), `NETWORK`, `TIMEOUT`, `CANCELLED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_fetch_previous(
    client: *const chinwag_client,
    request: *const chinwag_messages_request,
    done: chinwag_message_page_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let request = MESSAGES.get(request as usize, "request")?;
        client.fetch_previous(&request, completion(done, user_data, payloads::message_page))
    })
}

/// Fetches the page of newer messages after the newest one fetched so far (after
/// `from_message_id` at first; from the oldest message without it). As
/// `chinwag_client_fetch_previous`; `has_more` says whether newer ones remain.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_fetch_next(
    client: *const chinwag_client,
    request: *const chinwag_messages_request,
    done: chinwag_message_page_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let request = MESSAGES.get(request as usize, "request")?;
        client.fetch_next(&request, completion(done, user_data, payloads::message_page))
    })
}

/// Creates a user list request. `options` is optional (NULL: 30 per page, no filters) and
/// copied. `*out` receives the handle; free it with `chinwag_users_request_free`. Errors:
/// `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (limit, status, empty filter).
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn chinwag_users_request_new(
    options: *const chinwag_users_request_options,
    out: *mut *mut chinwag_users_request,
) -> chinwag_result {
    boundary!(result: {
        let out = try_out!(out);
        let mut filters = UserFilters::default();
        if !options.is_null() {
            let o = try_versioned!(options);
            filters.limit = Some(page_limit(o.limit)?);
            let (search, status, role) = (o.search, o.status, o.role);
            filters.search = opt_filter("search", try_opt_str!(search))?;
            filters.status = opt_filter("status", try_opt_str!(status))?;
            if let Some(s) = &filters.status {
                if s != "online" && s != "offline" {
                    return Err(Error::invalid(format!(
                        "status {s:?} is neither \"online\" nor \"offline\""
                    )));
                }
            }
            filters.role = opt_filter("role", try_opt_str!(role))?;
        }
        let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
        let handle = USERS.insert(chinwag_users_request { _serial: serial }, UsersRequest::new(filters));
        // SAFETY: `out` is not NULL (checked) and valid for a pointer write (contract).
        unsafe { *out = handle };
        Ok(())
    })
}

/// Frees a user list request; as `chinwag_messages_request_free`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_users_request_free(request: *mut chinwag_users_request) {
    boundary!(value(()): {
        USERS.release(request, "chinwag_users_request_free")
    })
}

/// Fetches the next page of users (ordered by uid); once the list is exhausted, empty pages
/// with `has_more` false. As `chinwag_client_fetch_previous` otherwise.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_fetch_users(
    client: *const chinwag_client,
    request: *const chinwag_users_request,
    done: chinwag_user_page_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let request = USERS.get(request as usize, "request")?;
        client.fetch_users(&request, completion(done, user_data, payloads::user_page))
    })
}

/// Creates a conversation list request (newest last message first). `options` is optional
/// (NULL: 30 per page, all conversations) and copied. `*out` receives the handle; free it with
/// `chinwag_conversations_request_free`. Errors: `NULL_ARGUMENT`, `INVALID_ARGUMENT` (limit,
/// filter). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn chinwag_conversations_request_new(
    options: *const chinwag_conversations_request_options,
    out: *mut *mut chinwag_conversations_request,
) -> chinwag_result {
    boundary!(result: {
        let out = try_out!(out);
        let mut request = ConversationsRequest::new();
        if !options.is_null() {
            let o = try_versioned!(options);
            request = request.limit(page_limit(o.limit)?)?;
            request = match o.filter {
                CHINWAG_CONVERSATION_FILTER_ALL => request,
                CHINWAG_CONVERSATION_FILTER_USER => {
                    request.conversation_type(chinwag_protocol::model::ReceiverType::User)
                }
                CHINWAG_CONVERSATION_FILTER_GROUP => {
                    request.conversation_type(chinwag_protocol::model::ReceiverType::Group)
                }
                other => {
                    return Err(Error::invalid(format!(
                        "filter {other} is not a CHINWAG_CONVERSATION_FILTER_*"
                    )))
                }
            };
            request = request.unread_only(o.unread_only != 0);
        }
        let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
        let handle = CONVERSATIONS.insert(chinwag_conversations_request { _serial: serial }, request);
        // SAFETY: `out` is not NULL (checked) and valid for a pointer write (contract).
        unsafe { *out = handle };
        Ok(())
    })
}

/// Frees a conversation list request; as `chinwag_messages_request_free`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_conversations_request_free(
    request: *mut chinwag_conversations_request,
) {
    boundary!(value(()): {
        CONVERSATIONS.release(request, "chinwag_conversations_request_free")
    })
}

/// Fetches the next page of conversations, newest last message first, each with the other
/// user or the group, the last message and the unread count; once the list is exhausted,
/// empty pages with `has_more` false. As `chinwag_client_fetch_previous` otherwise.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_fetch_conversations(
    client: *const chinwag_client,
    request: *const chinwag_conversations_request,
    done: chinwag_conversation_page_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let request = CONVERSATIONS.get(request as usize, "request")?;
        client.fetch_conversations(&request, completion(done, user_data, conversation_page))
    })
}
