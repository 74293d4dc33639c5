//! Completions of asynchronous calls (the C ABI rules, src/ffi/mod.rs) and the argument conversions every
//! operation shares. A completion is called exactly once, on the dispatcher thread (or the
//! thread that dispatches, in app-driven dispatch): with the result, an error, or `CANCELLED`
//! when the client is freed first. Its payloads are valid only during the call.

use std::ffi::c_void;

use chinwag_protocol::model::ReceiverType;

use crate::completion::Callback;
use crate::error::{Error, Result};
use crate::ffi::payloads::{
    chinwag_group, chinwag_group_member, chinwag_group_page, chinwag_member_list,
    chinwag_message_page, chinwag_user_page,
};
use crate::ffi::types::{self, chinwag_call, chinwag_error, chinwag_message, chinwag_user};

// ----- completion types --------------------------------------------------------------------------

/// Completion without a value (logout, leave a group, kick, ...): exactly one call; `error` is
/// NULL on success, else valid only during the call.
pub type chinwag_done_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, error: *const chinwag_error)>;
/// Completion of `chinwag_client_logout` (a `chinwag_done_cb`); the local session is purged
/// either way.
pub type chinwag_logout_cb = chinwag_done_cb;
/// Completion with a user (`chinwag_client_login`, `chinwag_client_login_with_token`,
/// `chinwag_client_get_user`): exactly one call. On success `error` is NULL and `user` set; on
/// failure (including `CANCELLED` when the client is freed first) `user` is NULL. Both are
/// valid only during the call.
pub type chinwag_user_done_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        error: *const chinwag_error,
        user: *const chinwag_user,
    ),
>;
/// Completion of a login (a `chinwag_user_done_cb`).
pub type chinwag_login_cb = chinwag_user_done_cb;
/// Completion with a message (sends, edits, deletes): exactly one call. On success `error` is
/// NULL and `message` the stored message; on failure `message` is NULL and `error` says why
/// (`QUEUE_FULL`, `QUEUE_EXPIRED`, `DISCONNECTED`, `LOGGED_OUT`, `CANCELLED`, `FORBIDDEN`, a
/// server refusal, ...). Both are valid only during the call.
pub type chinwag_send_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        error: *const chinwag_error,
        message: *const chinwag_message,
    ),
>;
/// Completion with a group; as `chinwag_user_done_cb`.
pub type chinwag_group_done_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        error: *const chinwag_error,
        group: *const chinwag_group,
    ),
>;
/// Completion with a page of groups; as `chinwag_user_done_cb`.
pub type chinwag_group_page_done_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        error: *const chinwag_error,
        page: *const chinwag_group_page,
    ),
>;
/// Completion with one group member; as `chinwag_user_done_cb`.
pub type chinwag_member_done_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        error: *const chinwag_error,
        member: *const chinwag_group_member,
    ),
>;
/// Completion with a list of group members; as `chinwag_user_done_cb`.
pub type chinwag_member_list_done_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        error: *const chinwag_error,
        list: *const chinwag_member_list,
    ),
>;
/// Completion with a page of messages; as `chinwag_user_done_cb`.
pub type chinwag_message_page_done_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        error: *const chinwag_error,
        page: *const chinwag_message_page,
    ),
>;
/// Completion with a page (or list) of users; as `chinwag_user_done_cb`.
pub type chinwag_user_page_done_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        error: *const chinwag_error,
        page: *const chinwag_user_page,
    ),
>;
/// Completion of a call operation with the call's new state; as `chinwag_user_done_cb`.
pub type chinwag_call_done_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        error: *const chinwag_error,
        call: *const chinwag_call,
    ),
>;

// ----- bridging ----------------------------------------------------------------------------------

/// The app's `user_data` for a completion, moved to the thread that runs it.
pub(crate) struct Context(*mut c_void);

// SAFETY: the pointer is only handed back to the app's completion; the API contract makes the
// app responsible for it being usable on the dispatcher thread.
unsafe impl Send for Context {}

impl Context {
    pub(crate) fn ptr(&self) -> *mut c_void {
        self.0
    }
}

/// A core completion that calls a C completion `done(user_data, error, value)`.
pub(crate) fn completion<T: 'static, P: 'static>(
    done: Option<unsafe extern "C" fn(*mut c_void, *const chinwag_error, *const P)>,
    user_data: *mut c_void,
    payload: fn(&T) -> types::Payload<P>,
) -> Option<Callback<T>> {
    let done = done?;
    let context = Context(user_data);
    Some(Box::new(move |result: Result<T>| match result {
        Ok(value) => {
            let p = payload(&value);
            // SAFETY: the app's completion of this signature with its own pointer; the payload
            // lives until it returns.
            unsafe { done(context.ptr(), std::ptr::null(), p.as_ptr()) }
        }
        Err(e) => {
            let p = types::error(&e);
            // SAFETY: as above, with the error payload.
            unsafe { done(context.ptr(), p.as_ptr(), std::ptr::null()) }
        }
    }))
}

/// A core completion without a value that calls `done(user_data, error)`.
pub(crate) fn done_completion<T: 'static>(
    done: chinwag_done_cb,
    user_data: *mut c_void,
) -> Option<Callback<T>> {
    let done = done?;
    let context = Context(user_data);
    Some(Box::new(move |result: Result<T>| match result {
        // SAFETY: the app's completion with its own pointer.
        Ok(_) => unsafe { done(context.ptr(), std::ptr::null()) },
        Err(e) => {
            let p = types::error(&e);
            // SAFETY: the app's completion with its own pointer; the error payload lives until
            // it returns.
            unsafe { done(context.ptr(), p.as_ptr()) }
        }
    }))
}

// ----- shared argument conversions ---------------------------------------------------------------

pub(crate) fn receiver_type(t: types::chinwag_receiver_type) -> Result<ReceiverType> {
    match t {
        types::CHINWAG_RECEIVER_TYPE_USER => Ok(ReceiverType::User),
        types::CHINWAG_RECEIVER_TYPE_GROUP => Ok(ReceiverType::Group),
        other => Err(Error::invalid(format!(
            "receiver_type {other} is not a CHINWAG_RECEIVER_TYPE_*"
        ))),
    }
}

pub(crate) fn json_arg(name: &str, text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text)
        .map_err(|e| Error::invalid(format!("`{name}` is not valid JSON: {e}")))
}

/// A positive message id, or `INVALID_ARGUMENT` naming the argument.
pub(crate) fn message_id(name: &str, id: i64) -> Result<i64> {
    if id > 0 {
        Ok(id)
    } else {
        Err(Error::invalid(format!(
            "`{name}` must be a positive message id, not {id}"
        )))
    }
}
