//! Result codes, their names, and the calling thread's last error message (the C ABI rules, src/ffi/mod.rs).

use std::any::Any;
use std::cell::RefCell;
use std::ffi::{c_char, CStr};

use crate::error::{Error, ErrorCode, Result};

/// The outcome of a fallible call: 0 (`CHINWAG_RESULT_OK`) or one of the `CHINWAG_RESULT_*`
/// codes. Codes are grouped by family (hundreds digit: 1 arguments, 2 client state, 3 network,
/// 4 the server said no, 5 send queue, 9 this library) and never reused.
pub type chinwag_result = u32;

/// Success.
pub const CHINWAG_RESULT_OK: chinwag_result = 0;
/// A required pointer argument was NULL.
pub const CHINWAG_RESULT_NULL_ARGUMENT: chinwag_result = 100;
/// A string argument was not valid UTF-8.
pub const CHINWAG_RESULT_INVALID_UTF8: chinwag_result = 101;
/// An argument was out of range, empty or malformed (the message says which).
pub const CHINWAG_RESULT_INVALID_ARGUMENT: chinwag_result = 102;
/// A message text was longer than 64 KiB of UTF-8.
pub const CHINWAG_RESULT_TEXT_TOO_LONG: chinwag_result = 103;
/// The call needs a logged-in user.
pub const CHINWAG_RESULT_NOT_LOGGED_IN: chinwag_result = 200;
/// Another login of this client is still running.
pub const CHINWAG_RESULT_LOGIN_IN_PROGRESS: chinwag_result = 201;
/// The call needs a CONNECTED client (typing, receipts and transient messages are not queued).
pub const CHINWAG_RESULT_NOT_CONNECTED: chinwag_result = 202;
/// The user logged out (queued sends fail with it).
pub const CHINWAG_RESULT_LOGGED_OUT: chinwag_result = 203;
/// The client handle is not live: it was freed (or never created).
pub const CHINWAG_RESULT_CLIENT_FREED: chinwag_result = 204;
/// The call cannot run from inside a callback of this client.
pub const CHINWAG_RESULT_REENTRANT_CALL: chinwag_result = 205;
/// The operation was cancelled (its client was freed, or its work dropped unfinished).
pub const CHINWAG_RESULT_CANCELLED: chinwag_result = 206;
/// A listener with this id already exists.
pub const CHINWAG_RESULT_LISTENER_EXISTS: chinwag_result = 207;
/// Another call of this client is still active.
pub const CHINWAG_RESULT_CALL_IN_PROGRESS: chinwag_result = 208;
/// A network failure (connection refused, reset, DNS).
pub const CHINWAG_RESULT_NETWORK: chinwag_result = 300;
/// The operation timed out.
pub const CHINWAG_RESULT_TIMEOUT: chinwag_result = 301;
/// TLS failed (certificate, handshake).
pub const CHINWAG_RESULT_TLS: chinwag_result = 302;
/// The server spoke an unexpected protocol.
pub const CHINWAG_RESULT_PROTOCOL: chinwag_result = 303;
/// The server rejected the credentials.
pub const CHINWAG_RESULT_AUTH_FAILED: chinwag_result = 400;
/// The session's token was rejected or revoked: log in again.
pub const CHINWAG_RESULT_SESSION_EXPIRED: chinwag_result = 401;
/// The user is deactivated.
pub const CHINWAG_RESULT_USER_DEACTIVATED: chinwag_result = 402;
/// The server serves another app id.
pub const CHINWAG_RESULT_APP_MISMATCH: chinwag_result = 403;
/// The server rate-limited the call.
pub const CHINWAG_RESULT_RATE_LIMITED: chinwag_result = 404;
/// The feature is throttled by the server for now.
pub const CHINWAG_RESULT_FEATURE_THROTTLED: chinwag_result = 405;
/// The user may not do this.
pub const CHINWAG_RESULT_FORBIDDEN: chinwag_result = 406;
/// The target (user, group, message, listener id) does not exist.
pub const CHINWAG_RESULT_NOT_FOUND: chinwag_result = 407;
/// The server rejected the request for another reason (the message has its code).
pub const CHINWAG_RESULT_SERVER_REJECTED: chinwag_result = 408;
/// A user with this uid exists already (`chinwag_client_create_user`).
pub const CHINWAG_RESULT_USER_EXISTS: chinwag_result = 409;
/// The send queue is full.
pub const CHINWAG_RESULT_QUEUE_FULL: chinwag_result = 500;
/// A queued send expired: the connection was lost for too long.
pub const CHINWAG_RESULT_QUEUE_EXPIRED: chinwag_result = 501;
/// A queued send failed because `chinwag_client_disconnect` was called.
pub const CHINWAG_RESULT_DISCONNECTED: chinwag_result = 502;
/// The session store failed (file system, or the app's store callbacks).
pub const CHINWAG_RESULT_STORAGE: chinwag_result = 900;
/// An internal error of this library.
pub const CHINWAG_RESULT_INTERNAL: chinwag_result = 901;
/// A panic inside this library was caught at the API boundary.
pub const CHINWAG_RESULT_PANIC: chinwag_result = 902;

thread_local! {
    static LAST_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Records `e` as the calling thread's last error and returns its code.
pub(crate) fn record(e: &Error) -> chinwag_result {
    LAST_ERROR.with(|l| *l.borrow_mut() = Some(e.message.clone()));
    e.code as chinwag_result
}

pub(crate) fn record_panic(payload: Box<dyn Any + Send>) {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    // Dropping a panic payload can itself panic; keep it from unwinding out of here.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(payload)));
    record(&Error::new(
        ErrorCode::Panic,
        format!("a panic was caught at the C boundary: {what}"),
    ));
}

/// The end of every `boundary!(result: ...)`.
pub(crate) fn finish(outcome: std::thread::Result<Result<()>>) -> chinwag_result {
    match outcome {
        Ok(Ok(())) => CHINWAG_RESULT_OK,
        Ok(Err(e)) => record(&e),
        Err(payload) => {
            record_panic(payload);
            CHINWAG_RESULT_PANIC
        }
    }
}

/// The name of a result code, e.g. `"NOT_LOGGED_IN"` for `CHINWAG_RESULT_NOT_LOGGED_IN`, as a
/// static NUL-terminated string; `"UNKNOWN"` for a number that is no code.
///
/// Never NULL; the string lives as long as the library and must not be freed. Thread-safe.
#[no_mangle]
pub extern "C" fn chinwag_result_name(result: chinwag_result) -> *const c_char {
    boundary!(value(c"UNKNOWN".as_ptr()): {
        ErrorCode::from_u32(result)
            .map(|c| static_name(c.name()))
            .unwrap_or(c"UNKNOWN".as_ptr())
    })
}

/// A static NUL-terminated copy of a static name (names are ASCII without NUL).
pub(crate) fn static_name(name: &'static str) -> *const c_char {
    use once_cell::sync::Lazy;
    use std::collections::HashMap;
    use std::ffi::CString;
    use std::sync::Mutex;
    static NAMES: Lazy<Mutex<HashMap<&'static str, &'static CStr>>> =
        Lazy::new(|| Mutex::new(HashMap::new()));
    let mut names = NAMES.lock().unwrap_or_else(|p| p.into_inner());
    let c: &'static CStr = names.entry(name).or_insert_with(|| {
        let owned = CString::new(name).unwrap_or_default();
        Box::leak(owned.into_boxed_c_str())
    });
    c.as_ptr()
}

/// Copies the message of the calling thread's last failed call into `buf`.
///
/// Every function that returns a code other than `CHINWAG_RESULT_OK` (and `chinwag_client_free`
/// given an unknown handle) records a readable message for the thread that called it; it stays
/// until the next failure on that thread. No failure yet: the empty string. The message of
/// asynchronous work never comes this way: it is in its completion or event.
///
/// - `buf`: where to write; receives a NUL-terminated UTF-8 string of at most `len` bytes
///   including the NUL (a longer message is cut at a character boundary). Not NULL.
/// - `len`: the size of `buf`; at least 1.
/// - `written`: optional (may be NULL); receives the number of bytes written, without the NUL.
///
/// Returns `CHINWAG_RESULT_OK`, `CHINWAG_RESULT_NULL_ARGUMENT` (`buf`) or
/// `CHINWAG_RESULT_INVALID_ARGUMENT` (`len` 0). Does not itself change the last error.
/// Thread-safe (each thread has its own last error).
#[no_mangle]
pub unsafe extern "C" fn chinwag_last_error_message(
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> chinwag_result {
    boundary!(value(CHINWAG_RESULT_PANIC): {
        if buf.is_null() {
            return CHINWAG_RESULT_NULL_ARGUMENT;
        }
        if len == 0 {
            return CHINWAG_RESULT_INVALID_ARGUMENT;
        }
        let message = LAST_ERROR.with(|l| l.borrow().clone()).unwrap_or_default();
        let mut n = message.len().min(len - 1);
        while !message.is_char_boundary(n) {
            n -= 1;
        }
        // SAFETY: `buf` is not NULL and valid for writes of `len > n` bytes (contract); the
        // source is a distinct Rust string of at least `n` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(message.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
        if !written.is_null() {
            // SAFETY: a non-NULL `written` is valid for a write of a `size_t` (contract).
            unsafe { *written = n };
        }
        CHINWAG_RESULT_OK
    })
}

/// Frees a string this library handed over to own (`char **out` parameters). NULL: no-op.
///
/// `string` must come from this library and not be freed twice; never pass strings that were
/// borrowed in a callback. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn chinwag_string_free(string: *mut c_char) {
    boundary!(value(()): {
        if !string.is_null() {
            // SAFETY: the contract makes a non-NULL `string` one this library produced with
            // `CString::into_raw` and has not been freed yet.
            drop(unsafe { std::ffi::CString::from_raw(string) });
        }
    })
}

/// Hands a Rust string to C as an owned `char *` (freed with `chinwag_string_free`). Interior
/// NULs (impossible in ids and JSON) are replaced by U+FFFD.
pub(crate) fn owned_string(s: &str) -> *mut c_char {
    crate::ffi::types::cstring(s).into_raw()
}

#[cfg(test)]
pub(crate) fn codes() -> Vec<(chinwag_result, &'static str)> {
    vec![
        (CHINWAG_RESULT_OK, "OK"),
        (CHINWAG_RESULT_NULL_ARGUMENT, "NULL_ARGUMENT"),
        (CHINWAG_RESULT_INVALID_UTF8, "INVALID_UTF8"),
        (CHINWAG_RESULT_INVALID_ARGUMENT, "INVALID_ARGUMENT"),
        (CHINWAG_RESULT_TEXT_TOO_LONG, "TEXT_TOO_LONG"),
        (CHINWAG_RESULT_NOT_LOGGED_IN, "NOT_LOGGED_IN"),
        (CHINWAG_RESULT_LOGIN_IN_PROGRESS, "LOGIN_IN_PROGRESS"),
        (CHINWAG_RESULT_NOT_CONNECTED, "NOT_CONNECTED"),
        (CHINWAG_RESULT_LOGGED_OUT, "LOGGED_OUT"),
        (CHINWAG_RESULT_CLIENT_FREED, "CLIENT_FREED"),
        (CHINWAG_RESULT_REENTRANT_CALL, "REENTRANT_CALL"),
        (CHINWAG_RESULT_CANCELLED, "CANCELLED"),
        (CHINWAG_RESULT_LISTENER_EXISTS, "LISTENER_EXISTS"),
        (CHINWAG_RESULT_CALL_IN_PROGRESS, "CALL_IN_PROGRESS"),
        (CHINWAG_RESULT_NETWORK, "NETWORK"),
        (CHINWAG_RESULT_TIMEOUT, "TIMEOUT"),
        (CHINWAG_RESULT_TLS, "TLS"),
        (CHINWAG_RESULT_PROTOCOL, "PROTOCOL"),
        (CHINWAG_RESULT_AUTH_FAILED, "AUTH_FAILED"),
        (CHINWAG_RESULT_SESSION_EXPIRED, "SESSION_EXPIRED"),
        (CHINWAG_RESULT_USER_DEACTIVATED, "USER_DEACTIVATED"),
        (CHINWAG_RESULT_APP_MISMATCH, "APP_MISMATCH"),
        (CHINWAG_RESULT_RATE_LIMITED, "RATE_LIMITED"),
        (CHINWAG_RESULT_FEATURE_THROTTLED, "FEATURE_THROTTLED"),
        (CHINWAG_RESULT_FORBIDDEN, "FORBIDDEN"),
        (CHINWAG_RESULT_NOT_FOUND, "NOT_FOUND"),
        (CHINWAG_RESULT_SERVER_REJECTED, "SERVER_REJECTED"),
        (CHINWAG_RESULT_USER_EXISTS, "USER_EXISTS"),
        (CHINWAG_RESULT_QUEUE_FULL, "QUEUE_FULL"),
        (CHINWAG_RESULT_QUEUE_EXPIRED, "QUEUE_EXPIRED"),
        (CHINWAG_RESULT_DISCONNECTED, "DISCONNECTED"),
        (CHINWAG_RESULT_STORAGE, "STORAGE"),
        (CHINWAG_RESULT_INTERNAL, "INTERNAL"),
        (CHINWAG_RESULT_PANIC, "PANIC"),
    ]
}
