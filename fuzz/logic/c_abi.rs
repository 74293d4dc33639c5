//! Target `c_abi`: the C ABI's entry points called as a C app would, with what the input
//! gives: any bytes as strings (invalid UTF-8, interior NULs, empty), any `struct_size`, any
//! enum value, any lengths within the buffers handed over. Run by cargo-fuzz under
//! AddressSanitizer (its default), so a read or write out of bounds is a finding.
//!
//! Checks: no call panics (`CHINWAG_RESULT_PANIC`) or answers `INTERNAL`; every failure has a
//! known result name and leaves a non-empty last-error message; strings handed over are
//! freed with `chinwag_string_free` without complaint; the client frees promptly.
//!
//! Input: a settings block (struct_size, modes, timings), then operations, one byte each,
//! taking their arguments from the bytes that follow (strings end at a 0xFF byte).

use std::ffi::{c_char, CStr, CString};
use std::ptr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use chinwag::ffi::chinwag_client;
use chinwag::ffi::client::*;
use chinwag::ffi::errors::*;
use chinwag::ffi::requests::*;
use chinwag::ffi::types::*;

use super::lab::{Lab, AUTH_KEY};

static LAB: OnceLock<Lab> = OnceLock::new();

/// Reads the input front to back; past its end every read gives zeros or empty strings.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
    fn i64(&mut self) -> i64 {
        (u64::from(self.u32()) | (u64::from(self.u32()) << 32)) as i64
    }
    /// Bytes up to a 0xFF (or the end), made NUL-terminated (an interior NUL cuts it short,
    /// as it would in C).
    fn string(&mut self) -> CString {
        let end = self
            .0
            .iter()
            .position(|b| *b == 0xFF)
            .unwrap_or(self.0.len());
        let (s, rest) = self.0.split_at(end);
        self.0 = rest.get(1..).unwrap_or(&[]);
        let cut = s.iter().position(|b| *b == 0).unwrap_or(s.len());
        CString::new(&s[..cut]).expect("no interior NUL after the cut")
    }
    /// A string, or NULL when the next byte says so.
    fn opt_string(&mut self, keep: &mut Vec<CString>) -> *const c_char {
        if self.byte().is_multiple_of(8) {
            return ptr::null();
        }
        keep.push(self.string());
        keep.last().map_or(ptr::null(), |s| s.as_ptr())
    }
}

/// The calling thread's last error message.
fn last_error() -> String {
    let mut buf = [0 as c_char; 512];
    let mut written = 0usize;
    // SAFETY: `buf` is writable for its length; `written` is a valid out-parameter.
    let r = unsafe { chinwag_last_error_message(buf.as_mut_ptr(), buf.len(), &mut written) };
    assert_eq!(r, CHINWAG_RESULT_OK);
    // SAFETY: the library wrote a NUL-terminated string into `buf`.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// A result as the contract allows it.
fn judge(call: &str, r: chinwag_result) {
    if r == CHINWAG_RESULT_OK {
        return;
    }
    // SAFETY: `chinwag_result_name` returns a static NUL-terminated string.
    let name = unsafe { CStr::from_ptr(chinwag_result_name(r)) }.to_string_lossy();
    let message = last_error();
    assert_ne!(
        name, "UNKNOWN",
        "{call}: result {r} has no name ({message})"
    );
    assert!(
        r != CHINWAG_RESULT_PANIC && r != CHINWAG_RESULT_INTERNAL,
        "{call}: {name}: {message}"
    );
    assert!(!message.is_empty(), "{call}: {name} without a message");
}

/// Takes a string the library handed over and frees it.
fn take(out: *mut c_char) {
    // SAFETY: NULL or a string this library handed over, freed once.
    unsafe { chinwag_string_free(out) };
}

pub fn check(data: &[u8]) {
    let lab = Lab::get(&LAB);
    let mut input = Bytes(data);
    let mut keep: Vec<CString> = Vec::new();

    let url = if input.byte() % 4 == 0 {
        input.string()
    } else {
        CString::new(format!("http://{}", lab.addr())).expect("a URL")
    };
    // SAFETY: a zeroed `chinwag_settings` is its documented starting point (all defaults).
    let mut settings: chinwag_settings = unsafe { std::mem::zeroed() };
    let size_pick = input.byte();
    settings.struct_size = match size_pick % 4 {
        0 => input.u32() as usize,
        1 => std::mem::size_of::<chinwag_settings>() - (size_pick as usize % 64),
        _ => std::mem::size_of::<chinwag_settings>(),
    };
    settings.server_url = url.as_ptr();
    settings.connect_mode = u32::from(input.byte() % 3);
    settings.presence = u32::from(input.byte() % 6);
    settings.presence_roles = input.opt_string(&mut keep);
    let pem = input.string();
    settings.extra_ca_pem = if pem.as_bytes().is_empty() {
        ptr::null()
    } else {
        pem.as_ptr().cast()
    };
    settings.extra_ca_pem_len = pem.as_bytes().len();
    if input.byte().is_multiple_of(2) {
        // Timings: mostly small (fast retries), sometimes anything.
        let pick = |input: &mut Bytes| match input.byte() % 3 {
            0 => 0,
            1 => u32::from(input.byte()) + 1,
            _ => input.u32(),
        };
        settings.connect_timeout_ms = pick(&mut input);
        settings.first_retry_max_ms = pick(&mut input);
        settings.backoff_base_ms = pick(&mut input);
        settings.backoff_cap_ms = pick(&mut input);
        settings.heartbeat_grace_ms = pick(&mut input);
        settings.queue_capacity = pick(&mut input);
        settings.listener_grace_ms = pick(&mut input);
    }
    settings.dispatch_mode = u32::from(input.byte() % 3);
    let app_id = input.string();

    let mut client: *mut chinwag_client = ptr::null_mut();
    // SAFETY: every pointer in `settings` is NULL or points to live data of the stated length.
    let r = unsafe { chinwag_client_init(app_id.as_ptr(), &settings, &mut client) };
    judge("chinwag_client_init", r);
    if r != CHINWAG_RESULT_OK {
        assert!(client.is_null(), "init failed but wrote its out-parameter");
        return;
    }

    for _ in 0..32 {
        if input.0.is_empty() {
            break;
        }
        operation(client, &mut input, &mut keep);
    }

    let closing = Instant::now();
    // SAFETY: `client` came from init and is freed once.
    unsafe { chinwag_client_free(client) };
    assert!(
        closing.elapsed() < Duration::from_secs(15),
        "freeing the client took {:?}",
        closing.elapsed()
    );
}

fn operation(client: *mut chinwag_client, input: &mut Bytes, keep: &mut Vec<CString>) {
    let op = input.byte() % 16;
    let rtype = match input.byte() % 4 {
        0 => input.u32(),
        n => u32::from(n - 1),
    };
    // Each unsafe block: `client` is live, every string is NUL-terminated and outlives the
    // call, every out-parameter points to a local.
    match op {
        0 => {
            let uid = input.string();
            // Mostly the real key, so that some inputs get a logged-in client.
            let key = if input.byte().is_multiple_of(2) {
                CString::new(AUTH_KEY).expect("a key")
            } else {
                input.string()
            };
            // SAFETY: see above; the completion is optional (NULL).
            let r = unsafe {
                chinwag_client_login(client, uid.as_ptr(), key.as_ptr(), None, ptr::null_mut())
            };
            judge("login", r);
        }
        1 => {
            let token = input.string();
            // SAFETY: see above.
            let r = unsafe {
                chinwag_client_login_with_token(client, token.as_ptr(), None, ptr::null_mut())
            };
            judge("login_with_token", r);
        }
        2 => {
            let (to, text) = (input.opt_string(keep), input.opt_string(keep));
            let mut muid = ptr::null_mut();
            // SAFETY: see above.
            let r = unsafe {
                chinwag_client_send_text(client, rtype, to, text, None, ptr::null_mut(), &mut muid)
            };
            judge("send_text", r);
            take(muid);
        }
        3 => {
            let (to, kind, json) = (input.string(), input.string(), input.opt_string(keep));
            // SAFETY: see above; `out_muid` is optional.
            let r = unsafe {
                chinwag_client_send_custom(
                    client,
                    rtype,
                    to.as_ptr(),
                    kind.as_ptr(),
                    json,
                    None,
                    ptr::null_mut(),
                    ptr::null_mut(),
                )
            };
            judge("send_custom", r);
        }
        4 => {
            let json = input.string();
            let mut muid = ptr::null_mut();
            // SAFETY: see above.
            let r = unsafe {
                chinwag_client_send_message(client, json.as_ptr(), None, ptr::null_mut(), &mut muid)
            };
            judge("send_message", r);
            take(muid);
        }
        5 => {
            let (to, json) = (input.string(), input.string());
            // SAFETY: see above.
            let r =
                unsafe { chinwag_client_send_transient(client, rtype, to.as_ptr(), json.as_ptr()) };
            judge("send_transient", r);
        }
        6 => {
            let to = input.opt_string(keep);
            // SAFETY: see above.
            let r = unsafe { chinwag_client_start_typing(client, rtype, to) };
            judge("start_typing", r);
            // SAFETY: see above.
            let r = unsafe { chinwag_client_end_typing(client, rtype, to) };
            judge("end_typing", r);
        }
        7 => {
            let id = input.i64();
            // SAFETY: see above.
            judge("mark_read", unsafe { chinwag_client_mark_read(client, id) });
            // SAFETY: see above.
            judge("mark_delivered", unsafe {
                chinwag_client_mark_delivered(client, id)
            });
        }
        8 => {
            let receiver = input.opt_string(keep);
            // SAFETY: zeroed options are the documented starting point.
            let mut options: chinwag_messages_request_options = unsafe { std::mem::zeroed() };
            options.struct_size = match input.byte() % 3 {
                0 => input.u32() as usize,
                _ => std::mem::size_of::<chinwag_messages_request_options>(),
            };
            options.limit = input.u32() % 256;
            options.category = input.opt_string(keep);
            options.message_type = input.opt_string(keep);
            options.from_message_id = input.i64();
            let with_options = !input.byte().is_multiple_of(4);
            let mut request = ptr::null_mut();
            // SAFETY: see above; `options` is a local of its full size.
            let r = unsafe {
                chinwag_messages_request_new(
                    rtype,
                    receiver,
                    if with_options { &options } else { ptr::null() },
                    &mut request,
                )
            };
            judge("messages_request_new", r);
            // SAFETY: NULL or a live request, freed once.
            unsafe { chinwag_messages_request_free(request) };
        }
        9 => {
            let mut state = 0;
            // SAFETY: see above.
            judge("connection_status", unsafe {
                chinwag_client_connection_status(client, &mut state)
            });
            let mut json = ptr::null_mut();
            // SAFETY: see above.
            judge("logged_in_user", unsafe {
                chinwag_client_logged_in_user(client, &mut json)
            });
            take(json);
        }
        10 => {
            let (network, app_state) = (input.u32() % 4, input.u32() % 4);
            // SAFETY: see above.
            judge("network_changed", unsafe {
                chinwag_client_network_changed(client, network)
            });
            // SAFETY: see above.
            judge("app_state_changed", unsafe {
                chinwag_client_app_state_changed(client, app_state)
            });
        }
        11 => {
            let mut buf = [0 as c_char; 64];
            let len = input.byte() as usize % (buf.len() + 1);
            let mut written = usize::MAX;
            // SAFETY: `buf` is writable for `len <= its size` bytes.
            let r = unsafe { chinwag_last_error_message(buf.as_mut_ptr(), len, &mut written) };
            if len == 0 {
                assert_eq!(r, CHINWAG_RESULT_INVALID_ARGUMENT);
            } else {
                assert_eq!(r, CHINWAG_RESULT_OK);
                assert!(written < len, "wrote {written} bytes into {len}");
                assert_eq!(
                    buf[written], 0,
                    "the message is NUL-terminated where it says"
                );
            }
        }
        12 => {
            let n = input.u32();
            for name in [
                chinwag_result_name(n),
                chinwag_connection_state_name(n),
                chinwag_state_reason_name(n),
            ] {
                assert!(!name.is_null());
                // SAFETY: each returns a static NUL-terminated string.
                let name = unsafe { CStr::from_ptr(name) };
                assert!(!name.to_bytes().is_empty());
            }
        }
        13 => {
            // SAFETY: see above.
            judge("connect", unsafe { chinwag_client_connect(client) });
        }
        14 => {
            // SAFETY: see above.
            judge("disconnect", unsafe { chinwag_client_disconnect(client) });
        }
        _ => {
            // SAFETY: see above.
            judge("logout", unsafe {
                chinwag_client_logout(client, None, ptr::null_mut())
            });
        }
    }
}
