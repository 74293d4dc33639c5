//! The C ABI (`include/chinwag.h`, generated from this module's doc comments by `build.rs`).
//!
//! A thin layer: every exported function validates its arguments, converts them to the core's
//! Rust types, calls the core and converts the answer back. It has no logic of its own. The
//! conventions hold everywhere (the header opens with them):
//!
//! - Every symbol starts with `chinwag_`; the client is the opaque `chinwag_client`.
//! - Fallible functions return a `chinwag_result` (0 = `CHINWAG_RESULT_OK`); the message of the
//!   calling thread's last failure is copied out by `chinwag_last_error_message`. Out-parameters
//!   are written only on success. Errors of asynchronous work arrive in its completion or event.
//! - Every body runs inside [`boundary!`], which catches panics (`CHINWAG_RESULT_PANIC`, or
//!   NULL / 0 / nothing for functions without a result).
//! - Pointers: every pointer argument is either NULL (checked: `CHINWAG_RESULT_NULL_ARGUMENT`
//!   unless documented as optional) or valid for the documented access for the duration of the
//!   call. Input strings are NUL-terminated UTF-8 (`CHINWAG_RESULT_INVALID_UTF8` otherwise).
//!   Versioned structs start with `struct_size`, which must be set to their `sizeof`.
//! - Data handed to a callback is borrowed for the duration of that callback only. Strings the
//!   API hands over to own are freed with `chinwag_string_free`.
//! - Callbacks run on the client's dispatcher thread, one at a time, in event order; a callback
//!   may call any function of this API. `user_data` pointers are passed to that thread as they
//!   are: the app makes them safe to use there. With `CHINWAG_DISPATCH_MODE_APP` the app's
//!   thread calling `chinwag_client_dispatch` takes that role (see `dispatch`).
//! - All functions are thread-safe.

#![allow(unsafe_code)]
#![allow(non_camel_case_types)]
// The exported functions are `unsafe extern "C"`: their safety contract is the pointer rule of
// the module documentation above, repeated per argument in each item's doc.
#![allow(clippy::missing_safety_doc)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

#[macro_use]
mod macros;

pub mod calls;
pub mod client;
pub mod completions;
pub mod conversations;
pub mod copies;
pub mod dispatch;
pub mod errors;
pub mod groups;
mod handles;
pub mod listeners;
pub mod messages;
pub mod payloads;
pub mod requests;
pub mod store;
pub mod types;
pub mod users;

/// The opaque client handle, named for Rust callers of the C ABI (the fuzz target `c_abi`).
pub use handles::chinwag_client;

use std::ffi::c_char;

/// Version of the C ABI. Bumped on every incompatible change; bindings check it at load.
pub const CHINWAG_ABI_VERSION: u32 = 1;

/// The library version, `MAJOR.MINOR.PATCH`, as a static NUL-terminated string.
///
/// Never NULL; the string lives as long as the library is loaded and must not be freed.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn chinwag_version() -> *const c_char {
    boundary!(value(c"0.0.0".as_ptr()): {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    })
}

/// The ABI version this library implements (`CHINWAG_ABI_VERSION`). Thread-safe.
#[no_mangle]
pub extern "C" fn chinwag_abi_version() -> u32 {
    boundary!(value(CHINWAG_ABI_VERSION): { CHINWAG_ABI_VERSION })
}

#[cfg(test)]
mod tests;
