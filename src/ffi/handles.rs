//! Live client handles. The C handle is a small allocation whose address is the key of a
//! process-wide registry of live clients; the FFI never reads through it, so a stale or bogus
//! handle is answered with `CLIENT_FREED` instead of a use-after-free (unless the allocator
//! has already handed the same address to a newer client).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use once_cell::sync::Lazy;

use crate::client::Client;
use crate::error::{Error, ErrorCode, Result};

/// A Chinwag client: opaque. Created by `chinwag_client_init`, released by
/// `chinwag_client_free`; every other `chinwag_client_*` function takes it first.
pub struct chinwag_client {
    /// Makes each allocation non-empty (so addresses are distinct); never read by C.
    _serial: u64,
}

static LIVE: Lazy<Mutex<HashMap<usize, Arc<Client>>>> = Lazy::new(|| Mutex::new(HashMap::new()));
static SERIAL: AtomicU64 = AtomicU64::new(1);

fn live() -> MutexGuard<'static, HashMap<usize, Arc<Client>>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Registers a new client and returns its handle.
pub(crate) fn insert(client: Client) -> *mut chinwag_client {
    let handle = Box::into_raw(Box::new(chinwag_client {
        _serial: SERIAL.fetch_add(1, Ordering::Relaxed),
    }));
    live().insert(handle as usize, Arc::new(client));
    handle
}

/// The client behind a live handle. Calls in flight keep it alive until they return.
pub(crate) fn get(handle: *const chinwag_client) -> Result<Arc<Client>> {
    if handle.is_null() {
        return Err(crate::ffi::macros::null_argument("client"));
    }
    live().get(&(handle as usize)).cloned().ok_or_else(|| {
        Error::new(
            ErrorCode::ClientFreed,
            "the client handle is not live: it was freed or never created",
        )
    })
}

/// Unregisters a handle, releasing its allocation; `None` if it was not live.
pub(crate) fn remove(handle: *mut chinwag_client) -> Option<Arc<Client>> {
    let client = live().remove(&(handle as usize))?;
    // SAFETY: the handle was live, so it is the pointer `insert` got from `Box::into_raw`; it
    // just left the registry under the lock, so no other call can free it again.
    drop(unsafe { Box::from_raw(handle) });
    Some(client)
}
