//! App-driven dispatch (docs/behaviour.md, section 8): instead of the
//! client's own dispatcher thread, the app polls a file descriptor and runs the callbacks on
//! its own thread with `chinwag_client_dispatch` (an event loop's `add_reader`, `poll`, ...).

use std::ffi::c_int;

use crate::error::{Error, Result};
use crate::ffi::errors::chinwag_result;
use crate::ffi::handles::chinwag_client;
use crate::settings::DispatchMode;

/// Who runs a client's callbacks (`chinwag_settings.dispatch_mode`). `CHINWAG_DISPATCH_MODE_*`.
pub type chinwag_dispatch_mode = u32;
/// A dispatcher thread of the client's own runs every callback (the default).
pub const CHINWAG_DISPATCH_MODE_THREAD: chinwag_dispatch_mode = 0;
/// The app drives delivery: no dispatcher thread is started. `chinwag_client_dispatch_fd` gives
/// a descriptor that is readable while events or completions wait, and
/// `chinwag_client_dispatch` runs them on the calling thread. In this mode "the dispatcher
/// thread" in this header means the thread inside `chinwag_client_dispatch` (or inside
/// `chinwag_client_free`, which runs the last completions): every guarantee stated for it holds
/// (one callback at a time, event order, no SDK lock held during callbacks, removal and free
/// from inside a callback deferred until it returns, completions exactly once).
pub const CHINWAG_DISPATCH_MODE_APP: chinwag_dispatch_mode = 1;

/// Converts `chinwag_settings.dispatch_mode`.
pub(crate) fn dispatch_mode(mode: chinwag_dispatch_mode) -> Result<DispatchMode> {
    match mode {
        CHINWAG_DISPATCH_MODE_THREAD => Ok(DispatchMode::Thread),
        CHINWAG_DISPATCH_MODE_APP => Ok(DispatchMode::App),
        other => Err(Error::invalid(format!(
            "dispatch_mode {other} is not a CHINWAG_DISPATCH_MODE_*"
        ))),
    }
}

/// The file descriptor of a client in `CHINWAG_DISPATCH_MODE_APP`, written to `*out_fd`: it is
/// readable exactly while events or completions wait for `chinwag_client_dispatch`
/// (level-triggered: it stays readable until a dispatch call has run everything that waited).
///
/// Watch it for reading only (`poll`/`select`/epoll/kqueue, asyncio's `loop.add_reader`) and
/// never read, write or close it: the client owns it. It stays open, with the same number,
/// until the client is freed: `chinwag_client_free` closes it before it returns (called outside
/// a callback); a free from inside a callback leaves that to the `chinwag_client_dispatch` call
/// running the callback, before it returns. Remove it from the poller first. Close-on-exec.
///
/// Errors: `NULL_ARGUMENT`, `CLIENT_FREED`, `INVALID_ARGUMENT` (the client is in
/// `CHINWAG_DISPATCH_MODE_THREAD`, or the platform has no such descriptor). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_dispatch_fd(
    client: *const chinwag_client,
    out_fd: *mut c_int,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let out_fd = try_out!(out_fd);
        if client.dispatch_mode() != DispatchMode::App {
            return Err(Error::invalid(
                "the client is not in app dispatch mode: set dispatch_mode to \
                 CHINWAG_DISPATCH_MODE_APP in chinwag_settings",
            ));
        }
        #[cfg(unix)]
        let fd = client.dispatch_fd();
        #[cfg(not(unix))]
        let fd: Option<c_int> = None;
        let fd = fd.ok_or_else(|| {
            Error::invalid("this platform has no dispatch descriptor: call chinwag_client_dispatch on your own schedule")
        })?;
        // SAFETY: `out_fd` is not NULL (checked) and valid for a write (contract).
        unsafe { *out_fd = fd };
        Ok(())
    })
}

/// Runs waiting events and completions of a client in `CHINWAG_DISPATCH_MODE_APP` on the
/// calling thread, in order, one at a time, then returns. Call it when the descriptor of
/// `chinwag_client_dispatch_fd` is readable (calling it when nothing waits is harmless).
///
/// - `max_items`: run at most this many; 0 runs every item waiting when the call starts (items
///   arriving meanwhile wait for the next call, so the call always ends). With items left over,
///   the descriptor stays readable.
/// - `out_ran`: optional; receives the number of items taken from the queue (an event dropped
///   because `chinwag_client_disconnect` was called after it arrived counts too).
///
/// Callbacks may call any function of this API except this one on the same client
/// (`REENTRANT_CALL`): removing listeners, disconnecting and freeing the client included. A
/// free from inside a callback is finished by this call after the callback returns: later
/// events are dropped, the remaining completions run (`CANCELLED` if unfinished), listeners
/// are released and the descriptor is closed before this returns `CHINWAG_RESULT_OK`; the
/// handle is invalid afterwards.
///
/// Threads: any thread, but one at a time per client: a call from another thread while one
/// runs waits until it returns. Errors: `NULL_ARGUMENT`, `CLIENT_FREED`, `INVALID_ARGUMENT`
/// (the client is in `CHINWAG_DISPATCH_MODE_THREAD`), `REENTRANT_CALL` (called from inside a
/// callback of this client).
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_dispatch(
    client: *const chinwag_client,
    max_items: usize,
    out_ran: *mut usize,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let ran = client.dispatch(max_items)?;
        if !out_ran.is_null() {
            // SAFETY: not NULL, and valid for a write when not NULL (contract).
            unsafe { *out_ran = ran };
        }
        Ok(())
    })
}

#[cfg(all(test, unix))]
mod tests {
    use std::sync::mpsc;

    use super::*;
    use crate::error::ErrorCode;
    use crate::event::{Event, ListenerKind};
    use crate::ffi::client::*;
    use crate::ffi::errors::*;
    use crate::ffi::handles;

    fn settings(url: &std::ffi::CStr, mode: chinwag_dispatch_mode) -> chinwag_settings {
        // SAFETY: all-zero is a valid chinwag_settings (see `Versioned`).
        let mut s: chinwag_settings = unsafe { std::mem::zeroed() };
        s.struct_size = std::mem::size_of::<chinwag_settings>();
        s.server_url = url.as_ptr();
        s.dispatch_mode = mode;
        s
    }

    fn readable(fd: c_int) -> bool {
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd; a zero timeout returns at once.
        let n = unsafe { libc::poll(&mut p, 1, 0) };
        n == 1 && p.revents & libc::POLLIN != 0
    }

    fn log(n: usize) -> crate::dispatch::Item {
        crate::dispatch::Item::Event {
            epoch: 0,
            seq: None,
            event: Event::ConnectionError(Error::new(ErrorCode::Network, n.to_string())),
        }
    }

    #[test]
    fn settings_choose_the_mode_and_the_fd_follows_the_queue() {
        let url = c"http://127.0.0.1:9";
        let mut client: *mut chinwag_client = std::ptr::null_mut();
        let mut fd: c_int = -1;
        let mut ran = 99usize;
        // SAFETY: (this whole test) every pointer passed is NULL, a live local, or a C string
        // literal, as the API contract requires.
        unsafe {
            let bad = settings(url, 2);
            assert_eq!(
                chinwag_client_init(c"app".as_ptr(), &bad, &mut client),
                CHINWAG_RESULT_INVALID_ARGUMENT
            );
            assert!(client.is_null());

            // Thread mode (also what a zeroed field means): no fd, no dispatch.
            let s = settings(url, CHINWAG_DISPATCH_MODE_THREAD);
            assert_eq!(
                chinwag_client_init(c"app".as_ptr(), &s, &mut client),
                CHINWAG_RESULT_OK
            );
            assert_eq!(
                chinwag_client_dispatch_fd(client, &mut fd),
                CHINWAG_RESULT_INVALID_ARGUMENT
            );
            assert_eq!(fd, -1, "out-parameters are written only on success");
            assert_eq!(
                chinwag_client_dispatch(client, 0, &mut ran),
                CHINWAG_RESULT_INVALID_ARGUMENT
            );
            assert_eq!(ran, 99);
            chinwag_client_free(client);

            // An app built before the field existed passes the older, smaller struct.
            let mut old = settings(url, CHINWAG_DISPATCH_MODE_APP);
            old.struct_size = std::mem::offset_of!(chinwag_settings, dispatch_mode);
            assert_eq!(
                chinwag_client_init(c"app".as_ptr(), &old, &mut client),
                CHINWAG_RESULT_OK
            );
            assert_eq!(
                chinwag_client_dispatch_fd(client, &mut fd),
                CHINWAG_RESULT_INVALID_ARGUMENT,
                "the field beyond its struct_size is not read: thread mode"
            );
            chinwag_client_free(client);

            let s = settings(url, CHINWAG_DISPATCH_MODE_APP);
            assert_eq!(
                chinwag_client_init(c"app".as_ptr(), &s, &mut client),
                CHINWAG_RESULT_OK
            );
            assert_eq!(
                chinwag_client_dispatch_fd(client, std::ptr::null_mut()),
                CHINWAG_RESULT_NULL_ARGUMENT
            );
            assert_eq!(
                chinwag_client_dispatch_fd(std::ptr::null(), &mut fd),
                CHINWAG_RESULT_NULL_ARGUMENT
            );
            assert_eq!(
                chinwag_client_dispatch_fd(client, &mut fd),
                CHINWAG_RESULT_OK
            );
            assert!(fd >= 0);
            assert!(!readable(fd));
            assert_eq!(
                chinwag_client_dispatch(client, 0, std::ptr::null_mut()),
                CHINWAG_RESULT_OK
            );

            // Items posted straight into the queue: fully deterministic counts.
            let core = handles::get(client).unwrap();
            let (tx, rx) = mpsc::channel();
            core.add_listener(
                ListenerKind::Connection,
                "r",
                Box::new(move |e: &Event| {
                    if let Event::ConnectionError(err) = e {
                        tx.send(err.message.clone()).unwrap();
                    }
                }),
            )
            .unwrap();
            // Adding it queued its first state event.
            assert!(readable(fd));
            assert_eq!(
                chinwag_client_dispatch(client, 0, &mut ran),
                CHINWAG_RESULT_OK
            );
            assert!(!readable(fd), "drained");
            for n in 0..5 {
                core.inner().dispatch.post(log(n));
            }
            assert!(readable(fd));
            assert_eq!(
                chinwag_client_dispatch(client, 2, &mut ran),
                CHINWAG_RESULT_OK
            );
            assert_eq!(ran, 2);
            assert!(readable(fd), "readable while items remain");
            assert_eq!(
                chinwag_client_dispatch(client, 0, &mut ran),
                CHINWAG_RESULT_OK
            );
            assert_eq!(ran, 3);
            assert!(!readable(fd), "drained");
            let got: Vec<String> = rx.try_iter().collect();
            assert_eq!(got, ["0", "1", "2", "3", "4"]);
            drop(core);

            chinwag_client_free(client);
            assert_eq!(
                chinwag_client_dispatch(client, 0, &mut ran),
                CHINWAG_RESULT_CLIENT_FREED
            );
            assert_eq!(
                chinwag_client_dispatch_fd(client, &mut fd),
                CHINWAG_RESULT_CLIENT_FREED
            );
        }
    }
}
