//! Result codes, their names, and the calling thread's last error message (the C ABI rules, src/ffi/mod.rs).

use std::any::Any;
use std::cell::RefCell;
use std::ffi::{c_char, CStr};

use crate::error::{Error, ErrorCode, Result};

/// The outcome of a fallible call: 0 (`CHINWAG_RESULT_OK`) or one of the `CHINWAG_RESULT_*`
/// codes. Codes are grouped by family (hundreds digit: 1 arguments, 2 client state, 3 network,
/// 4 the server said no, 5 send queue, 9 this library) and never reused.
pub type chinwag_result = u32;

// The `CHINWAG_RESULT_*` constants, written by build.rs from the table of src/error.rs (the
// header gets the same, with their documentation).
include!(concat!(env!("OUT_DIR"), "/result_codes.rs"));

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
