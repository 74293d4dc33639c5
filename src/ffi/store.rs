//! App-supplied session stores (docs/behaviour.md, section 2): load/save/clear callbacks that
//! keep the saved session where the app wants it (e.g. the platform's keychain), instead of the
//! file in `data_dir`.

use std::cell::Cell;
use std::ffi::{c_char, c_void};
use std::sync::Arc;

use crate::error::{Error, ErrorCode, Result};
use crate::ffi::errors::{chinwag_result, CHINWAG_RESULT_OK};
use crate::ffi::listeners::{chinwag_user_data_free_cb, UserData};
use crate::ffi::macros::Versioned;
use crate::ffi::types::cstring;
use crate::store::{SavedSession, SessionStore};

/// The answer slot of a `load` callback: opaque; valid only during that callback, on its
/// thread. Filled with `chinwag_store_reply_set`.
pub struct chinwag_store_reply {
    session_json: Option<String>,
}

/// Loads the saved session: call `chinwag_store_reply_set(reply, json)` with the JSON that
/// `save` was last given, or nothing when there is none; then return `CHINWAG_RESULT_OK`.
/// Any other result is reported through the log and treated as "logged out".
pub type chinwag_store_load_cb = Option<
    unsafe extern "C" fn(user_data: *mut c_void, reply: *mut chinwag_store_reply) -> chinwag_result,
>;
/// Saves the session: `session_json` (borrowed for the call) holds the user, the token and the
/// resume position; keep it secret. `durable` is true when the user or token changed (login):
/// make it survive a crash before returning; position updates pass false. Return
/// `CHINWAG_RESULT_OK`, or any other code to report a failure (the login fails with it; a
/// failed position update is reported through the log). It may block (a keychain prompt): it
/// runs on an SDK worker of its own, so it delays no other client and no callback. Position
/// updates come when the position moved, at most about once a second while events flow, and
/// when a socket ends or the client is freed; several asked for while one runs become one.
pub type chinwag_store_save_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        session_json: *const c_char,
        durable: bool,
    ) -> chinwag_result,
>;
/// Forgets the session (logout). Return `CHINWAG_RESULT_OK`, or any other code on failure.
pub type chinwag_store_clear_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void) -> chinwag_result>;

/// A session store supplied by the app (`chinwag_settings.session_store`). Versioned: set
/// `struct_size`. Copied by `chinwag_client_init`.
///
/// The callbacks run on the thread that calls `chinwag_client_init` (the first `load`) and on
/// the SDK's own threads afterwards (never on its network runtime, never on the dispatcher
/// thread), never two at once for one client. `chinwag_client_free` waits (at most 5 s) for
/// the last save to return, unless called from a callback. `user_data_free` (may be NULL) runs
/// exactly once after the client's last use of the store, which may be shortly after
/// `chinwag_client_free` returns, on an SDK thread; never if `chinwag_client_init` fails.
///
/// Re-entrancy: `save` and `clear` may call these read-only functions of their own client:
/// `chinwag_client_logged_in_user` and `chinwag_client_get_logged_in_user` (during a login's
/// save they already answer the new user), `chinwag_client_connection_status`, `chinwag_client_active_call` and
/// `chinwag_client_dispatch_fd`; the SDK holds no lock of the client while the store runs.
/// They must not call `chinwag_client_free`, `chinwag_client_login*` or
/// `chinwag_client_logout` of that client. `load` runs inside `chinwag_client_init`, before
/// the handle exists.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct chinwag_session_store {
    /// `sizeof(chinwag_session_store)`.
    pub struct_size: usize,
    /// Required.
    pub load: chinwag_store_load_cb,
    /// Required.
    pub save: chinwag_store_save_cb,
    /// Required.
    pub clear: chinwag_store_clear_cb,
    /// Passed to the three callbacks.
    pub user_data: *mut c_void,
    pub user_data_free: chinwag_user_data_free_cb,
}

// SAFETY: `#[repr(C)]`, `struct_size: usize` first, then optional function pointers and a raw
// pointer: every bit pattern is valid.
unsafe impl Versioned for chinwag_session_store {}

thread_local! {
    /// The reply of the `load` running on this thread, if any: the only one that may be set.
    static CURRENT_REPLY: Cell<*mut chinwag_store_reply> = const { Cell::new(std::ptr::null_mut()) };
}

/// Clears [`CURRENT_REPLY`] however `load` ends.
struct ReplyScope;

impl Drop for ReplyScope {
    fn drop(&mut self) {
        CURRENT_REPLY.with(|c| c.set(std::ptr::null_mut()));
    }
}

pub(crate) struct CStore {
    load: chinwag_store_load_cb,
    save: chinwag_store_save_cb,
    clear: chinwag_store_clear_cb,
    user_data: Arc<UserData>,
}

impl CStore {
    /// Checks the callbacks; `user_data` is owned from here on (see [`UserData`]).
    pub(crate) fn new(table: chinwag_session_store) -> Result<CStore> {
        if table.load.is_none() || table.save.is_none() || table.clear.is_none() {
            return Err(Error::new(
                ErrorCode::NullArgument,
                "session_store: load, save and clear must all be set",
            ));
        }
        Ok(CStore {
            load: table.load,
            save: table.save,
            clear: table.clear,
            user_data: UserData::new(table.user_data, table.user_data_free),
        })
    }

    pub(crate) fn user_data(&self) -> Arc<UserData> {
        self.user_data.clone()
    }
}

fn failed(what: &str, code: chinwag_result) -> Error {
    let name = ErrorCode::from_u32(code).map_or("UNKNOWN", |c| c.name());
    Error::new(
        ErrorCode::Storage,
        format!("the app's session store failed to {what} ({name}, {code})"),
    )
}

impl SessionStore for CStore {
    fn load(&self) -> Result<Option<SavedSession>> {
        let Some(load) = self.load else {
            return Ok(None);
        };
        let mut reply = chinwag_store_reply { session_json: None };
        let code = {
            let _scope = ReplyScope;
            let ptr: *mut chinwag_store_reply = &mut reply;
            CURRENT_REPLY.with(|c| c.set(ptr));
            // SAFETY: the app's load callback with its own pointer; `reply` outlives the call
            // and is only written through `chinwag_store_reply_set` on this thread meanwhile.
            unsafe { load(self.user_data.ptr(), ptr) }
        };
        if code != CHINWAG_RESULT_OK {
            return Err(failed("load", code));
        }
        match reply.session_json {
            None => Ok(None),
            Some(json) => serde_json::from_str(&json).map(Some).map_err(|e| {
                Error::new(
                    ErrorCode::Storage,
                    format!("the app's session store returned an unreadable session: {e}"),
                )
            }),
        }
    }

    fn save(&self, session: &SavedSession, durable: bool) -> Result<()> {
        let Some(save) = self.save else {
            return Ok(());
        };
        let json = serde_json::to_string(session).map_err(|e| {
            Error::new(
                ErrorCode::Internal,
                format!("cannot encode the session: {e}"),
            )
        })?;
        let json = cstring(&json);
        // SAFETY: the app's save callback with its own pointer and a string that lives until
        // it returns.
        let code = unsafe { save(self.user_data.ptr(), json.as_ptr(), durable) };
        if code == CHINWAG_RESULT_OK {
            Ok(())
        } else {
            Err(failed("save", code))
        }
    }

    fn clear(&self) -> Result<()> {
        let Some(clear) = self.clear else {
            return Ok(());
        };
        // SAFETY: the app's clear callback with its own pointer.
        let code = unsafe { clear(self.user_data.ptr()) };
        if code == CHINWAG_RESULT_OK {
            Ok(())
        } else {
            Err(failed("clear", code))
        }
    }
}

/// Answers a `load` callback with the saved session's JSON (copied).
///
/// - `reply`: the pointer the running `load` callback got; only valid during it, on its thread
///   (anything else gives `INVALID_ARGUMENT`).
/// - `session_json`: the JSON `save` was given, NUL-terminated UTF-8; borrowed for the call.
///
/// Errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT`. Calling it again replaces the
/// answer.
#[no_mangle]
pub unsafe extern "C" fn chinwag_store_reply_set(
    reply: *mut chinwag_store_reply,
    session_json: *const c_char,
) -> chinwag_result {
    boundary!(result: {
        if reply.is_null() {
            return Err(crate::ffi::macros::null_argument("reply"));
        }
        let json = try_str!(session_json);
        if CURRENT_REPLY.with(|c| c.get()) != reply {
            return Err(Error::invalid(
                "`reply` is not the reply of a load callback running on this thread",
            ));
        }
        // SAFETY: `reply` is the live reply of the load running on this thread (checked just
        // above), and nothing else accesses it until that callback returns.
        unsafe { (*reply).session_json = Some(json.to_string()) };
        Ok(())
    })
}
