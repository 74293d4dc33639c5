//! Call signalling (docs/behaviour.md, section 6): initiate, accept, reject, cancel, end, and
//! the active call. One call per client at a time; the media does not pass through Chinwag.
//!
//! The operations are socket requests: they need a CONNECTED client and are never queued.
//! Synchronous errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT`, `NOT_LOGGED_IN`,
//! `NOT_CONNECTED`, `CALL_IN_PROGRESS` (another call is active), `CLIENT_FREED`. When a function
//! returns `CHINWAG_RESULT_OK`, the optional completion `done` is called exactly once with
//! `user_data` and the call's new state, or an error: `FORBIDDEN` (not your call: only the
//! callee accepts or rejects, only the caller cancels), `SERVER_REJECTED` (the call's state does
//! not allow it, e.g. ending a call nobody answered; the message names `CALL_STATE`),
//! `NOT_FOUND` (no such call), `NETWORK` (the socket dropped before the answer), `CANCELLED`. The other side hears the change through its call listener; the caller
//! hears it only through `done`. Thread-safe; callable from any callback.

use std::ffi::{c_char, c_void};

use chinwag_protocol::model::CallType;

use crate::error::{Error, Result};
use crate::ffi::completions::{chinwag_call_done_cb, completion, receiver_type};
use crate::ffi::copies::owned_call;
use crate::ffi::errors::{chinwag_result, owned_string};
use crate::ffi::handles::chinwag_client;
use crate::ffi::types::{self, chinwag_call, chinwag_receiver_type};

/// Audio or video. `CHINWAG_CALL_TYPE_*`.
pub type chinwag_call_type = u32;
/// An audio call.
pub const CHINWAG_CALL_TYPE_AUDIO: chinwag_call_type = 0;
/// A video call.
pub const CHINWAG_CALL_TYPE_VIDEO: chinwag_call_type = 1;

fn call_type(t: chinwag_call_type) -> Result<CallType> {
    match t {
        CHINWAG_CALL_TYPE_AUDIO => Ok(CallType::Audio),
        CHINWAG_CALL_TYPE_VIDEO => Ok(CallType::Video),
        other => Err(Error::invalid(format!(
            "call_type {other} is not a CHINWAG_CALL_TYPE_*"
        ))),
    }
}

/// Calls a user or a group (`receiver_type`, `receiver`). The receiver's clients hear
/// `on_incoming_call_received`; `done` gets the call in status `"initiated"`. Then the caller's
/// call listener hears it accepted, rejected (or busy), or cancelled as unanswered after the
/// server's timeout (45 s by default).
///
/// The call is the client's active call as soon as this returns (`chinwag_client_active_call`;
/// another call at once gets `CALL_IN_PROGRESS`, even before the server answered); a call the
/// server refuses (`FORBIDDEN`, `NOT_FOUND` in `done`) leaves no active call behind.
///
/// `out_session_id`: optional; receives the call's session id at once (free with
/// `chinwag_string_free`).
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_initiate_call(
    client: *const chinwag_client,
    receiver_type: chinwag_receiver_type,
    receiver: *const c_char,
    call_type: chinwag_call_type,
    done: chinwag_call_done_cb,
    user_data: *mut c_void,
    out_session_id: *mut *mut c_char,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let receiver_type = self::receiver_type(receiver_type)?;
        let receiver = try_str!(receiver);
        let call_type = self::call_type(call_type)?;
        let session_id = client.initiate_call(
            receiver_type,
            receiver,
            call_type,
            completion(done, user_data, types::call),
        )?;
        if !out_session_id.is_null() {
            // SAFETY: not NULL, and valid for a pointer write (contract).
            unsafe { *out_session_id = owned_string(&session_id) };
        }
        Ok(())
    })
}

/// Accepts incoming call `session_id`: the caller hears `on_outgoing_call_accepted`; `done`
/// gets the call in status `"ongoing"`. `FORBIDDEN` when the call is not for this user.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_accept_call(
    client: *const chinwag_client,
    session_id: *const c_char,
    done: chinwag_call_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let session_id = try_str!(session_id);
        client.accept_call(session_id, completion(done, user_data, types::call))
    })
}

/// Rejects incoming call `session_id`, as `"busy"` when `busy` is true, else `"rejected"`: the
/// caller hears `on_outgoing_call_rejected`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_reject_call(
    client: *const chinwag_client,
    session_id: *const c_char,
    busy: bool,
    done: chinwag_call_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let session_id = try_str!(session_id);
        client.reject_call(session_id, busy, completion(done, user_data, types::call))
    })
}

/// Cancels outgoing call `session_id` before it is answered: the receivers hear
/// `on_incoming_call_cancelled`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_cancel_call(
    client: *const chinwag_client,
    session_id: *const c_char,
    done: chinwag_call_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let session_id = try_str!(session_id);
        client.cancel_call(session_id, completion(done, user_data, types::call))
    })
}

/// Ends ongoing call `session_id` (either side): the other side hears `on_call_ended`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_end_call(
    client: *const chinwag_client,
    session_id: *const c_char,
    done: chinwag_call_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let session_id = try_str!(session_id);
        client.end_call(session_id, completion(done, user_data, types::call))
    })
}

/// The call this client is in: one it started (ringing or ongoing) or accepted. An incoming
/// call that is only ringing is not active until accepted (the app may be offered several).
/// A copy the caller owns: `*out_call`
/// receives it (free with `chinwag_call_free`), or NULL when there is none. Errors:
/// `NULL_ARGUMENT`, `CLIENT_FREED`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_active_call(
    client: *const chinwag_client,
    out_call: *mut *mut chinwag_call,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let out_call = try_out!(out_call);
        let call = client.active_call().map_or(std::ptr::null_mut(), |c| owned_call(&c));
        // SAFETY: `out_call` is not NULL (checked) and valid for a pointer write (contract).
        unsafe { *out_call = call };
        Ok(())
    })
}
