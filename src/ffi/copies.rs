//! Copies of callback payloads that the app keeps beyond the callback (data
//! handed to a callback is borrowed). `chinwag_<payload>_copy` makes an owned deep copy, with
//! the same layout and every string inside, from a payload the SDK handed out (it is rebuilt
//! from the payload's `json` field); `chinwag_<payload>_free` releases it.
//!
//! Copies are tracked by address and type, so freeing a pointer that is not a live copy of that
//! type (a borrowed payload, a copy freed twice, a copy of another type) is refused: nothing is
//! freed and `INVALID_ARGUMENT` becomes the thread's last error. `free(NULL)` is a no-op. The
//! registry keeps the addresses hidden (see [`hidden`]), so a copy that is never freed shows up
//! as a leak in valgrind and LeakSanitizer.
//! Copies may be read and freed on any thread.

use std::any::TypeId;
use std::collections::HashMap;
use std::ffi::{c_char, CStr};
use std::sync::{Mutex, MutexGuard};

use chinwag_protocol::model::{Call, Group, GroupMember, GroupMemberEvent, Message, Receipt, User};
use once_cell::sync::Lazy;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::ffi::errors::{chinwag_result, record};
use crate::ffi::payloads::{self, chinwag_group, chinwag_group_member};
use crate::ffi::types::{
    self, chinwag_call, chinwag_group_member_event, chinwag_message, chinwag_receipt, chinwag_user,
    Payload,
};

/// Live copies by (hidden) address.
static COPIES: Lazy<Mutex<HashMap<usize, TypeId>>> = Lazy::new(|| Mutex::new(HashMap::new()));

/// The key under which a registry of this library keeps an address it handed out: the address
/// with its bits flipped by a fixed pattern, so that the registry holds no pointer to the
/// allocation. A copy or handle the app forgets to free is then reported as lost by leak
/// checkers (valgrind, LeakSanitizer) instead of staying reachable through the registry.
pub(crate) fn hidden(addr: usize) -> usize {
    addr ^ (usize::MAX / 0xff * 0x5a)
}

fn copies() -> MutexGuard<'static, HashMap<usize, TypeId>> {
    COPIES.lock().unwrap_or_else(|p| p.into_inner())
}

/// Hands a payload over to the app; the returned pointer is both the value and the payload
/// (`Payload` is `#[repr(C)]` with the value first).
fn keep<T: 'static>(payload: Payload<T>) -> *mut T {
    let ptr = Box::into_raw(Box::new(payload));
    copies().insert(hidden(ptr as usize), TypeId::of::<T>());
    ptr.cast()
}

pub(crate) fn owned_call(call: &Call) -> *mut chinwag_call {
    keep(types::call(call))
}

pub(crate) fn owned_user(user: &User) -> *mut chinwag_user {
    keep(types::user(user))
}

/// # Safety
/// `src` is NULL or valid for reads of a `T` whose `json` field (read by `json_of`) is NULL or
/// a NUL-terminated string, for the duration of the call.
unsafe fn copy<T: 'static, M: DeserializeOwned>(
    src: *const T,
    out: *mut *mut T,
    json_of: fn(&T) -> *const c_char,
    payload: fn(&M) -> Payload<T>,
) -> Result<()> {
    if src.is_null() {
        return Err(crate::ffi::macros::null_argument("src"));
    }
    let out = try_out!(out);
    // SAFETY: not NULL, and readable for the call (this function's contract).
    let json = json_of(unsafe { &*src });
    if json.is_null() {
        return Err(Error::invalid(
            "`src->json` is NULL: not a payload of this library",
        ));
    }
    // SAFETY: a non-NULL `json` field is a NUL-terminated string (this function's contract).
    let text = unsafe { CStr::from_ptr(json) }.to_string_lossy();
    let model: M = serde_json::from_str(&text)
        .map_err(|e| Error::invalid(format!("`src->json` does not describe this payload: {e}")))?;
    // SAFETY: `out` is not NULL (checked) and valid for a pointer write (contract).
    unsafe { *out = keep(payload(&model)) };
    Ok(())
}

/// # Safety
/// `copy` is NULL or any pointer (only live copies of `T` are dereferenced).
unsafe fn release<T: 'static>(copy: *mut T, name: &str) {
    if copy.is_null() {
        return;
    }
    let live = {
        let mut map = copies();
        let key = hidden(copy as usize);
        match map.get(&key) {
            Some(t) if *t == TypeId::of::<T>() => map.remove(&key).is_some(),
            _ => false,
        }
    };
    if live {
        // SAFETY: the address was registered by `keep::<T>` from `Box::into_raw` of a
        // `Payload<T>` and just left the registry under its lock, so this runs once.
        drop(unsafe { Box::from_raw(copy.cast::<Payload<T>>()) });
    } else {
        record(&Error::invalid(format!(
            "{name}: the pointer is not a live copy of this type (borrowed, freed twice, or \
             another type); nothing was freed"
        )));
    }
}

/// An owned copy of a message payload (e.g. one handed to a callback). `*out` receives it on
/// success; free it with `chinwag_message_free`. `src` is borrowed for the call. Errors:
/// `NULL_ARGUMENT`, `INVALID_ARGUMENT` (not a payload of this library). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn chinwag_message_copy(
    src: *const chinwag_message,
    out: *mut *mut chinwag_message,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: `src` follows the API contract (NULL or a payload valid for the call).
        unsafe { copy::<_, Message>(src, out, |p| p.json, types::message) }
    })
}

/// Frees a copy from `chinwag_message_copy`. NULL: no-op. Anything else than a live copy is
/// refused (see the module rules). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn chinwag_message_free(copy: *mut chinwag_message) {
    boundary!(value(()): {
        // SAFETY: only registered copies are dereferenced.
        unsafe { release(copy, "chinwag_message_free") }
    })
}

/// An owned copy of a user payload; as `chinwag_message_copy`, freed with `chinwag_user_free`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_user_copy(
    src: *const chinwag_user,
    out: *mut *mut chinwag_user,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: `src` follows the API contract (NULL or a payload valid for the call).
        unsafe { copy::<_, User>(src, out, |p| p.json, types::user) }
    })
}

/// Frees a copy from `chinwag_user_copy`; as `chinwag_message_free`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_user_free(copy: *mut chinwag_user) {
    boundary!(value(()): {
        // SAFETY: only registered copies are dereferenced.
        unsafe { release(copy, "chinwag_user_free") }
    })
}

/// An owned copy of a group payload; as `chinwag_message_copy`, freed with
/// `chinwag_group_free`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_group_copy(
    src: *const chinwag_group,
    out: *mut *mut chinwag_group,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: `src` follows the API contract (NULL or a payload valid for the call).
        unsafe { copy::<_, Group>(src, out, |p| p.json, payloads::group) }
    })
}

/// Frees a copy from `chinwag_group_copy`; as `chinwag_message_free`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_group_free(copy: *mut chinwag_group) {
    boundary!(value(()): {
        // SAFETY: only registered copies are dereferenced.
        unsafe { release(copy, "chinwag_group_free") }
    })
}

/// An owned copy of a group member payload (e.g. an item of a member list); as
/// `chinwag_message_copy`, freed with `chinwag_group_member_free`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_group_member_copy(
    src: *const chinwag_group_member,
    out: *mut *mut chinwag_group_member,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: `src` follows the API contract (NULL or a payload valid for the call).
        unsafe { copy::<_, GroupMember>(src, out, |p| p.json, payloads::group_member) }
    })
}

/// Frees a copy from `chinwag_group_member_copy`; as `chinwag_message_free`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_group_member_free(copy: *mut chinwag_group_member) {
    boundary!(value(()): {
        // SAFETY: only registered copies are dereferenced.
        unsafe { release(copy, "chinwag_group_member_free") }
    })
}

/// An owned copy of a group membership event; as `chinwag_message_copy`, freed with
/// `chinwag_group_member_event_free`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_group_member_event_copy(
    src: *const chinwag_group_member_event,
    out: *mut *mut chinwag_group_member_event,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: `src` follows the API contract (NULL or a payload valid for the call).
        unsafe { copy::<_, GroupMemberEvent>(src, out, |p| p.json, types::group_member) }
    })
}

/// Frees a copy from `chinwag_group_member_event_copy`; as `chinwag_message_free`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_group_member_event_free(copy: *mut chinwag_group_member_event) {
    boundary!(value(()): {
        // SAFETY: only registered copies are dereferenced.
        unsafe { release(copy, "chinwag_group_member_event_free") }
    })
}

/// An owned copy of a call payload; as `chinwag_message_copy`, freed with `chinwag_call_free`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_call_copy(
    src: *const chinwag_call,
    out: *mut *mut chinwag_call,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: `src` follows the API contract (NULL or a payload valid for the call).
        unsafe { copy::<_, Call>(src, out, |p| p.json, types::call) }
    })
}

/// Frees a copy from `chinwag_call_copy` or `chinwag_client_active_call`; as
/// `chinwag_message_free`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_call_free(copy: *mut chinwag_call) {
    boundary!(value(()): {
        // SAFETY: only registered copies are dereferenced.
        unsafe { release(copy, "chinwag_call_free") }
    })
}

/// An owned copy of a receipt payload; as `chinwag_message_copy`, freed with
/// `chinwag_receipt_free`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_receipt_copy(
    src: *const chinwag_receipt,
    out: *mut *mut chinwag_receipt,
) -> chinwag_result {
    boundary!(result: {
        // SAFETY: `src` follows the API contract (NULL or a payload valid for the call).
        unsafe { copy::<_, Receipt>(src, out, |p| p.json, types::receipt) }
    })
}

/// Frees a copy from `chinwag_receipt_copy`; as `chinwag_message_free`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_receipt_free(copy: *mut chinwag_receipt) {
    boundary!(value(()): {
        // SAFETY: only registered copies are dereferenced.
        unsafe { release(copy, "chinwag_receipt_free") }
    })
}
