//! Argument validation before use (the C ABI rules, src/ffi/mod.rs). Each macro evaluates to the checked value
//! or returns the matching error from the enclosing `boundary!(result: ...)` body.

/// A required NUL-terminated UTF-8 string argument as `&str`: NULL gives `NULL_ARGUMENT`,
/// invalid UTF-8 gives `INVALID_UTF8`.
macro_rules! try_str {
    ($ptr:ident) => {{
        // SAFETY: the API contract (module doc of `ffi`) makes every non-NULL string argument
        // a valid NUL-terminated string for the duration of the call; `str_arg` checks NULL.
        unsafe { $crate::ffi::macros::str_arg(stringify!($ptr), $ptr) }?
    }};
}

/// An optional string argument: NULL gives `None`, otherwise as [`try_str!`].
macro_rules! try_opt_str {
    ($ptr:ident) => {{
        if $ptr.is_null() {
            None
        } else {
            Some(try_str!($ptr))
        }
    }};
}

/// A versioned struct argument (first field `struct_size`), copied: NULL gives
/// `NULL_ARGUMENT`, a `struct_size` smaller than this version's gives `INVALID_ARGUMENT`.
macro_rules! try_versioned {
    ($ptr:ident) => {{
        // SAFETY: the API contract makes a non-NULL versioned struct pointer valid for reads of
        // `struct_size` bytes for the duration of the call; NULL is checked by `versioned_arg`.
        unsafe { $crate::ffi::macros::versioned_arg(stringify!($ptr), $ptr) }?
    }};
}

/// A client handle: NULL gives `NULL_ARGUMENT`; a handle that is not live (freed, or never
/// returned by `chinwag_client_init`) gives `CLIENT_FREED`. Never dereferences the pointer.
macro_rules! try_client {
    ($ptr:ident) => {{
        $crate::ffi::handles::get($ptr)?
    }};
}

/// A required out-parameter: NULL gives `NULL_ARGUMENT`.
macro_rules! try_out {
    ($ptr:ident) => {{
        if $ptr.is_null() {
            return Err($crate::ffi::macros::null_argument(stringify!($ptr)));
        }
        $ptr
    }};
}

use std::ffi::{c_char, CStr};

use crate::error::{Error, ErrorCode, Result};

pub(crate) fn null_argument(name: &str) -> Error {
    Error::new(
        ErrorCode::NullArgument,
        format!("`{name}` must not be NULL"),
    )
}

/// See [`try_str!`].
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn str_arg<'a>(name: &str, ptr: *const c_char) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(null_argument(name));
    }
    // SAFETY: not NULL, and NUL-terminated and alive for 'a by this function's contract.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|e| {
        Error::new(
            ErrorCode::InvalidUtf8,
            format!(
                "`{name}` is not valid UTF-8 (bad byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

/// A `#[repr(C)]` struct whose first field is `struct_size: usize`, for which every bit pattern
/// of every field is valid (integers, raw pointers, optional function pointers; no `bool`s or
/// enums), so that a zeroed or partly copied value is a valid one.
///
/// # Safety
/// Implement only for types that satisfy the above.
pub(crate) unsafe trait Versioned: Copy {
    /// The size of the struct's first published version, the smallest `struct_size` accepted.
    /// Fields appended later are zero (their default) when an older app passes a smaller
    /// struct: when appending, pin this to the old size.
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
}

/// See [`try_versioned!`].
///
/// # Safety
/// `ptr` is NULL or valid for reads of the `struct_size` bytes it announces in its first field.
pub(crate) unsafe fn versioned_arg<T: Versioned>(name: &str, ptr: *const T) -> Result<T> {
    if ptr.is_null() {
        return Err(null_argument(name));
    }
    // SAFETY: a non-NULL `ptr` starts with a readable `size_t struct_size` (contract); C gives
    // no alignment guarantee we rely on, hence the unaligned read.
    let size = unsafe { ptr.cast::<usize>().read_unaligned() };
    let ours = std::mem::size_of::<T>();
    // Between an older version's size and ours, only sizes that end on a field boundary (a
    // multiple of the alignment: every appended field is pointer-sized) are a real version;
    // anything else would copy part of a field.
    if size < T::MIN_SIZE || (size < ours && size % std::mem::align_of::<T>() != 0) {
        return Err(Error::invalid(format!(
            "`{name}->struct_size` is {size}; set it to sizeof the struct ({ours} in this version)"
        )));
    }
    // An older, smaller struct leaves our newer fields zero (their defaults); a larger one from
    // a newer header keeps its extra fields unread.
    let n = size.min(ours);
    let mut value = std::mem::MaybeUninit::<T>::zeroed();
    // SAFETY: `ptr` is readable for `size >= n` bytes; the destination is a distinct local of
    // `ours >= n` bytes.
    unsafe { std::ptr::copy_nonoverlapping(ptr.cast::<u8>(), value.as_mut_ptr().cast::<u8>(), n) };
    // SAFETY: every byte is initialised (copied or zeroed), and by `Versioned` any bit pattern,
    // zero included, is valid.
    Ok(unsafe { value.assume_init() })
}
