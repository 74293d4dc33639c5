//! The client: settings, init and free, login and logout, connection control, sending, typing,
//! receipts, transient messages and platform hints.

use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;

use chinwag_protocol::model::{NewMessage, PresenceSubscription, ReceiptKind, User};

use crate::client::{Client, InitOptions};
use crate::error::{Error, Result};
use crate::ffi::completions::{
    chinwag_login_cb, chinwag_logout_cb, chinwag_send_cb, completion, done_completion, json_arg,
    receiver_type,
};
use crate::ffi::errors::{chinwag_result, owned_string};
use crate::ffi::handles::{self, chinwag_client};
use crate::ffi::listeners::{
    chinwag_initial_listener, chinwag_log_cb, chinwag_user_data_free_cb, initial_listener,
    log_listener, UserData,
};
use crate::ffi::macros::Versioned;
use crate::ffi::store::{chinwag_session_store, CStore};
use crate::ffi::types::{self, chinwag_connection_state, chinwag_receiver_type};
use crate::settings::{Settings, Timings};

// ----- settings ----------------------------------------------------------------------------------

/// How the client connects. `CHINWAG_CONNECT_MODE_*`.
pub type chinwag_connect_mode = u32;
/// Login connects, init with a saved session reconnects, drops come back by themselves
/// (`auto_connect` of docs/behaviour.md, the default).
pub const CHINWAG_CONNECT_MODE_AUTO: chinwag_connect_mode = 0;
/// Nothing connects until `chinwag_client_connect`; after it, the SDK keeps the connection up
/// until `chinwag_client_disconnect`, logout or FAILED.
pub const CHINWAG_CONNECT_MODE_MANUAL: chinwag_connect_mode = 1;

/// Whose presence the client receives. `CHINWAG_PRESENCE_*`.
pub type chinwag_presence_mode = u32;
/// No presence events (the default).
pub const CHINWAG_PRESENCE_NONE: chinwag_presence_mode = 0;
/// Every user of the app.
pub const CHINWAG_PRESENCE_ALL_USERS: chinwag_presence_mode = 1;
/// Users with one of the roles in `presence_roles`.
pub const CHINWAG_PRESENCE_ROLES: chinwag_presence_mode = 2;
/// The user's friends.
pub const CHINWAG_PRESENCE_FRIENDS: chinwag_presence_mode = 3;

/// A platform network hint. `CHINWAG_NETWORK_*`.
pub type chinwag_network = u32;
/// The network went down: drop the socket now.
pub const CHINWAG_NETWORK_DOWN: chinwag_network = 0;
/// The network is back: attempt now, or probe a connected socket.
pub const CHINWAG_NETWORK_UP: chinwag_network = 1;

/// A platform app-state hint. `CHINWAG_APP_STATE_*`.
pub type chinwag_app_state = u32;
/// The app came to the foreground: attempt now.
pub const CHINWAG_APP_STATE_FOREGROUND: chinwag_app_state = 0;
/// The app went to the background: close after the grace period.
pub const CHINWAG_APP_STATE_BACKGROUND: chinwag_app_state = 1;

/// Settings of `chinwag_client_init`. Versioned: zero-initialise it, set `struct_size` to
/// `sizeof(chinwag_settings)` and `server_url`; every zero field means its default. Copied by
/// `chinwag_client_init` (strings included): it need not outlive the call.
///
/// Timings are in milliseconds; 0 means the default of docs/behaviour.md (so 1 is the
/// smallest value that can be set). Each is checked against its bounds (`INVALID_ARGUMENT`
/// names the field).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct chinwag_settings {
    /// `sizeof(chinwag_settings)`.
    pub struct_size: usize,
    /// `http://host:port` or `https://host:port`; the WebSocket URL derives from it. Required.
    pub server_url: *const c_char,
    /// `CHINWAG_CONNECT_MODE_AUTO` (default) or `CHINWAG_CONNECT_MODE_MANUAL`.
    pub connect_mode: chinwag_connect_mode,
    /// `CHINWAG_PRESENCE_*`; default none.
    pub presence: chinwag_presence_mode,
    /// With `CHINWAG_PRESENCE_ROLES`: comma-separated roles, e.g. `"admin,staff"`; else NULL.
    pub presence_roles: *const c_char,
    /// Directory of the saved-session file (created, mode 0700). NULL: keep the session in
    /// memory only. Ignored when `session_store` is set.
    pub data_dir: *const c_char,
    /// Extra trusted CA certificates, PEM, on top of the system's; NULL for none.
    pub extra_ca_pem: *const u8,
    /// Length of `extra_ca_pem` in bytes.
    pub extra_ca_pem_len: usize,
    /// Whole connect attempt, including the server's accept. Default 10000.
    pub connect_timeout_ms: u32,
    /// First retry after an established connection drops: U(0, this). Default 1000.
    pub first_retry_max_ms: u32,
    /// Later attempt n waits base + U(0, min(cap, base * 2^n)). Default 500.
    pub backoff_base_ms: u32,
    /// Default 29500.
    pub backoff_cap_ms: u32,
    /// The attempt counter resets after this long CONNECTED. Default 10000.
    pub stable_after_ms: u32,
    /// Lost for longer than this: SUSPENDED. Default 120000.
    pub suspend_after_ms: u32,
    /// Retry interval while SUSPENDED: U(min, max). Default 15000.
    pub suspended_retry_min_ms: u32,
    /// Default 30000.
    pub suspended_retry_max_ms: u32,
    /// Added to the server's ping interval to bound silence on a socket. Default 10000.
    pub heartbeat_grace_ms: u32,
    /// A remote typing indicator without refresh ends after this. Default 10000.
    pub typing_timeout_ms: u32,
    /// A probe after a network-up hint must be answered within this. Default 5000.
    pub probe_timeout_ms: u32,
    /// Going to the background closes the socket after this. Default 30000.
    pub background_grace_ms: u32,
    /// Identical platform hints within this window count once. Default 1000.
    pub hint_coalesce_ms: u32,
    /// Sends that may wait while (re)connecting. 0: the default, 1000.
    pub queue_capacity: u32,
    /// Optional: receives the SDK's log records from init on, on the dispatcher thread.
    pub log: chinwag_log_cb,
    /// Passed to `log`.
    pub log_user_data: *mut c_void,
    /// Optional; used only with `log`: runs exactly once when the client is freed (never if
    /// init fails).
    pub log_user_data_free: chinwag_user_data_free_cb,
    /// Optional: the app's own session store (copied); NULL: the file in `data_dir`, or memory.
    pub session_store: *const chinwag_session_store,
    /// Optional: listeners registered before anything can happen (see
    /// `chinwag_initial_listener`): an array of `listeners_len` pointers; NULL when 0.
    pub listeners: *const *const chinwag_initial_listener,
    /// Number of pointers in `listeners`.
    pub listeners_len: usize,
    /// `CHINWAG_DISPATCH_MODE_THREAD` (default: the client's own thread runs the callbacks) or
    /// `CHINWAG_DISPATCH_MODE_APP` (the app runs them with `chinwag_client_dispatch`).
    pub dispatch_mode: crate::ffi::dispatch::chinwag_dispatch_mode,
    /// After an init that restores a saved session in auto mode, a real-time event (message,
    /// user, group, call) of a kind that has no listener yet waits this long at most for one,
    /// so listeners added right after init miss nothing of that session. A fresh init (no saved
    /// session) does not wait. 0: the default, 1000.
    pub listener_grace_ms: u32,
}

// SAFETY: `#[repr(C)]`, `struct_size: usize` first, then only integers, raw pointers and
// optional function pointers: every bit pattern is valid.
unsafe impl Versioned for chinwag_settings {
    /// Apps built before `dispatch_mode` was appended pass the smaller struct (thread mode).
    const MIN_SIZE: usize = std::mem::offset_of!(chinwag_settings, dispatch_mode);
}

fn ms(value: u32, default: Duration) -> Duration {
    if value == 0 {
        default
    } else {
        Duration::from_millis(u64::from(value))
    }
}

/// # Safety
/// The pointers inside `s` follow the API contract (NULL or valid for the call).
unsafe fn settings(s: &chinwag_settings) -> Result<Settings> {
    let server_url = s.server_url;
    let server_url = try_str!(server_url);
    let mut settings = Settings::new(server_url);
    settings.auto_connect = match s.connect_mode {
        CHINWAG_CONNECT_MODE_AUTO => true,
        CHINWAG_CONNECT_MODE_MANUAL => false,
        other => {
            return Err(Error::invalid(format!(
                "connect_mode {other} is not a CHINWAG_CONNECT_MODE_*"
            )))
        }
    };
    let roles = s.presence_roles;
    let roles = try_opt_str!(roles);
    settings.presence = match (s.presence, roles) {
        (CHINWAG_PRESENCE_NONE, None) => PresenceSubscription::None,
        (CHINWAG_PRESENCE_ALL_USERS, None) => PresenceSubscription::AllUsers,
        (CHINWAG_PRESENCE_FRIENDS, None) => PresenceSubscription::Friends,
        (CHINWAG_PRESENCE_ROLES, Some(roles)) => {
            PresenceSubscription::parse(&format!("roles:{roles}")).map_err(Error::invalid)?
        }
        (CHINWAG_PRESENCE_ROLES, None) => {
            return Err(Error::invalid(
                "presence CHINWAG_PRESENCE_ROLES needs presence_roles",
            ))
        }
        (mode @ 0..=3, Some(_)) => {
            return Err(Error::invalid(format!(
                "presence_roles is only for CHINWAG_PRESENCE_ROLES, not presence {mode}"
            )))
        }
        (other, _) => {
            return Err(Error::invalid(format!(
                "presence {other} is not a CHINWAG_PRESENCE_*"
            )))
        }
    };
    let data_dir = s.data_dir;
    settings.data_dir = try_opt_str!(data_dir).map(std::path::PathBuf::from);
    if s.extra_ca_pem_len > 0 {
        let pem = s.extra_ca_pem;
        if pem.is_null() {
            return Err(crate::ffi::macros::null_argument("extra_ca_pem"));
        }
        // SAFETY: a non-NULL `extra_ca_pem` is readable for `extra_ca_pem_len` bytes for the
        // duration of the call (contract); the bytes are copied at once.
        settings.extra_ca_pem =
            unsafe { std::slice::from_raw_parts(pem, s.extra_ca_pem_len) }.to_vec();
    }
    let d = Timings::default();
    settings.timings = Timings {
        connect_timeout: ms(s.connect_timeout_ms, d.connect_timeout),
        first_retry_max: ms(s.first_retry_max_ms, d.first_retry_max),
        backoff_base: ms(s.backoff_base_ms, d.backoff_base),
        backoff_cap: ms(s.backoff_cap_ms, d.backoff_cap),
        stable_after: ms(s.stable_after_ms, d.stable_after),
        suspend_after: ms(s.suspend_after_ms, d.suspend_after),
        suspended_retry_min: ms(s.suspended_retry_min_ms, d.suspended_retry_min),
        suspended_retry_max: ms(s.suspended_retry_max_ms, d.suspended_retry_max),
        heartbeat_grace: ms(s.heartbeat_grace_ms, d.heartbeat_grace),
        typing_timeout: ms(s.typing_timeout_ms, d.typing_timeout),
        probe_timeout: ms(s.probe_timeout_ms, d.probe_timeout),
        background_grace: ms(s.background_grace_ms, d.background_grace),
        hint_coalesce: ms(s.hint_coalesce_ms, d.hint_coalesce),
        listener_grace: ms(s.listener_grace_ms, d.listener_grace),
    };
    if s.queue_capacity != 0 {
        settings.queue_capacity = s.queue_capacity as usize;
    }
    settings.dispatch = crate::ffi::dispatch::dispatch_mode(s.dispatch_mode)?;
    Ok(settings)
}

// ----- init and free -----------------------------------------------------------------------------

/// Creates a client for app `app_id` and writes its handle to `*out`.
///
/// - `app_id`: the app this client belongs to (ASCII letters, digits, `-_.@`), e.g.
///   `"chinwag-app"`. `settings`: see `chinwag_settings`; copied.
/// - `out`: receives the new handle on success (untouched on failure); free it with
///   `chinwag_client_free`.
///
/// With a saved session of this app (in `data_dir` or the app's store) the client is logged in
/// at once, without a network call, and in auto mode starts connecting. Listeners added right
/// after this returns miss nothing of it: a connection listener first hears the current state
/// (reason `CHINWAG_STATE_REASON_LISTENER_ADDED`, `previous == current`) and then every change
/// after it, none missed, none twice; and, when a saved session was restored in auto mode, for
/// `settings->listener_grace_ms` (1 s by default) after init a real-time event (message, user, group, call) of a kind that has no listener yet
/// is held, with the real-time events after it, until a listener of its kind is added (then it
/// goes to that listener) or the grace ends (then it goes to whoever listens). Listeners in
/// `settings->listeners` hear everything from the start (no first state event). A saved
/// session of another app is discarded; an unreadable one is moved aside and reported via `log`.
///
/// Errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (bad URL, id, timing or
/// `struct_size`; the message names it), `STORAGE` (data directory), `INTERNAL`. On failure
/// no `user_data_free` of the settings (log, store, listeners) runs. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_init(
    app_id: *const c_char,
    settings: *const chinwag_settings,
    out: *mut *mut chinwag_client,
) -> chinwag_result {
    boundary!(result: {
        let app_id = try_str!(app_id);
        let raw = try_versioned!(settings);
        let out = try_out!(out);
        // SAFETY: the settings' pointers follow the API contract, as `settings` needs.
        let settings = unsafe { self::settings(&raw) }?;
        // Every app pointer taken over on the way; if anything fails, none is released.
        let mut owned: Vec<Arc<UserData>> = Vec::new();
        let build = || -> Result<Client> {
            let mut options = InitOptions::default();
            let session_store = raw.session_store;
            if !session_store.is_null() {
                let store = CStore::new(try_versioned!(session_store))?;
                owned.push(store.user_data());
                options.store = Some(Box::new(store));
            }
            if raw.log.is_some() {
                let user_data = UserData::new(raw.log_user_data, raw.log_user_data_free);
                owned.push(user_data.clone());
                options.log = Some(log_listener(raw.log, user_data));
            }
            if raw.listeners_len > 0 {
                let listeners = raw.listeners;
                if listeners.is_null() {
                    return Err(crate::ffi::macros::null_argument("listeners"));
                }
                // SAFETY: a non-NULL `listeners` holds `listeners_len` readable pointers for
                // the duration of the call (contract); they are copied at once.
                let specs = unsafe { std::slice::from_raw_parts(listeners, raw.listeners_len) };
                for spec in specs.iter().copied() {
                    // SAFETY: each element is NULL or a valid `chinwag_initial_listener`
                    // (contract).
                    let initial = unsafe { initial_listener(spec) }?;
                    owned.push(initial.user_data);
                    options.listeners.push((initial.kind, initial.id, initial.listener));
                }
            }
            Client::init(app_id, settings, options)
        };
        let result = build();
        if result.is_err() {
            // Nothing was registered: the app keeps its pointers.
            owned.iter().for_each(|user_data| user_data.disarm());
        }
        let client = result?;
        // SAFETY: `out` is not NULL (checked) and valid for a write of a pointer (contract).
        unsafe { *out = handles::insert(client) };
        Ok(())
    })
}

/// Frees a client: closes its connection, resolves every unfinished completion with
/// `CANCELLED`, releases every listener (their `user_data_free` run) and invalidates the handle.
/// NULL: no-op.
///
/// Outside a callback of this client, all of that has happened when this returns (it waits at
/// most a few seconds for the connection task) and no callback of the client runs afterwards;
/// callbacks that run meanwhile may still use the handle. From inside a callback of this client
/// it returns at once and the same work is done on the dispatcher thread right after the
/// running callback returns; no later callback of the client runs. Either way the handle is
/// invalid once this returns: later calls with it fail with `CLIENT_FREED` (detected unless a
/// newer client happens to get the same address), and a second free only records
/// `CLIENT_FREED` as the last error. A session store's `user_data_free` may run shortly after
/// this returns (see `chinwag_session_store`). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_free(client: *mut chinwag_client) {
    boundary!(value(()): {
        if client.is_null() {
            return;
        }
        // Closed while the handle is still live, so callbacks running meanwhile can still use
        // it; unregistered once nothing of the client runs any more.
        let closed = handles::get(client).map(|c| c.close());
        if closed.is_err() || handles::remove(client).is_none() {
            crate::ffi::errors::record(&Error::new(
                crate::ErrorCode::ClientFreed,
                "chinwag_client_free: the handle is not live (freed twice?)",
            ));
        }
    })
}

// ----- login and session -------------------------------------------------------------------------

/// Logs in with the server's development auth key: authenticates over HTTP, saves the session
/// (user + token + the user's position at this moment, atomically), then connects in auto mode.
/// The first connect resumes from that position (manual mode included): nothing sent to the
/// user between login and connect is lost.
///
/// - `uid`: the user id; `auth_key`: the server's auth key. Both non-empty UTF-8, borrowed.
/// - `done`: optional completion, called exactly once with `user_data` if this returns
///   `CHINWAG_RESULT_OK`, never otherwise. The login listeners hear the outcome too.
///
/// Errors (synchronous): `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (empty or malformed
/// uid, empty key), `LOGIN_IN_PROGRESS`, `CLIENT_FREED`. Asynchronous (in `done`):
/// `AUTH_FAILED`, `NOT_FOUND`, `NETWORK`, `TIMEOUT`, `STORAGE`, `CANCELLED`, ...
/// Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_login(
    client: *const chinwag_client,
    uid: *const c_char,
    auth_key: *const c_char,
    done: chinwag_login_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let uid = try_str!(uid);
        let auth_key = try_str!(auth_key);
        client.login(uid, auth_key, completion(done, user_data, types::user))
    })
}

/// Logs in with a token minted by the app's backend (production). As `chinwag_client_login`
/// otherwise; `token` is 1-4096 bytes of UTF-8 (`INVALID_ARGUMENT` otherwise).
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_login_with_token(
    client: *const chinwag_client,
    token: *const c_char,
    done: chinwag_login_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let token = try_str!(token);
        client.login_with_token(token, completion(done, user_data, types::user))
    })
}

/// Logs out: closes the socket, fails queued sends with `LOGGED_OUT`, tells the server (which
/// revokes the token) and always purges the local session.
///
/// `done`: optional completion, called exactly once with `user_data` if this returns
/// `CHINWAG_RESULT_OK` (error NULL on success; `NOT_LOGGED_IN` when nobody was logged in,
/// network errors when the server could not be told). The login listeners hear it too.
/// Errors (synchronous): `NULL_ARGUMENT`, `CLIENT_FREED`, `INTERNAL`. Thread-safe; callable
/// from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_logout(
    client: *const chinwag_client,
    done: chinwag_logout_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let done = done_completion(done, user_data);
        client.logout(done)
    })
}

/// The logged-in user, from the saved session (no network), as JSON.
///
/// `out_json`: receives a new string with the user as JSON (`uid`, `name`, `role`, ...) on
/// success; free it with `chinwag_string_free`. `chinwag_client_get_logged_in_user` gives the
/// same user as a typed `chinwag_user`. Errors: `NULL_ARGUMENT`, `NOT_LOGGED_IN`,
/// `CLIENT_FREED`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_logged_in_user(
    client: *const chinwag_client,
    out_json: *mut *mut c_char,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let out_json = try_out!(out_json);
        let user: User = client.logged_in_user().ok_or_else(|| {
            Error::new(crate::ErrorCode::NotLoggedIn, "no user is logged in")
        })?;
        let json = serde_json::to_string(&user)
            .map_err(|e| Error::new(crate::ErrorCode::Internal, e.to_string()))?;
        // SAFETY: `out_json` is not NULL (checked) and valid for a pointer write (contract).
        unsafe { *out_json = owned_string(&json) };
        Ok(())
    })
}

// ----- connection --------------------------------------------------------------------------------

/// The current connection state (`CHINWAG_CONNECTION_STATE_*`), written to `*out_state`.
/// Errors: `NULL_ARGUMENT`, `CLIENT_FREED`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_connection_status(
    client: *const chinwag_client,
    out_state: *mut chinwag_connection_state,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let out_state = try_out!(out_state);
        // SAFETY: `out_state` is not NULL (checked) and valid for a write (contract).
        unsafe { *out_state = client.connection_state() as chinwag_connection_state };
        Ok(())
    })
}

/// Connects with the saved session and keeps the connection up (reconnecting on drops) until
/// disconnect, logout or FAILED. Non-blocking: progress arrives as state events. No-op while
/// CONNECTING or CONNECTED; from RECONNECTING, SUSPENDED or FAILED it tries at once with a
/// fresh backoff. Every connect resumes from the position saved with the session, the first
/// one after a login included (login records the user's position): in manual mode a message
/// sent to the user between login and this call arrives once, as an event, after CONNECTED.
/// Errors: `NOT_LOGGED_IN` (nobody logged in: call login first), `NULL_ARGUMENT`,
/// `CLIENT_FREED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_connect(client: *const chinwag_client) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        client.connect()
    })
}

/// Disconnects (no-op when already DISCONNECTED or FAILED). Non-blocking. When it returns, no
/// message, typing, receipt, presence, group or call callback runs until the next connect; the
/// DISCONNECTED state event is still delivered. Queued sends fail with `DISCONNECTED`.
/// Errors: `NULL_ARGUMENT`, `CLIENT_FREED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_disconnect(
    client: *const chinwag_client,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        client.disconnect();
        Ok(())
    })
}

/// Platform hint (`CHINWAG_NETWORK_DOWN` / `_UP`): down drops the socket now; up attempts now,
/// or probes a connected socket. Identical hints within the coalescing window count once.
/// Errors: `INVALID_ARGUMENT` (not a `CHINWAG_NETWORK_*`), `NULL_ARGUMENT`, `CLIENT_FREED`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_network_changed(
    client: *const chinwag_client,
    network: chinwag_network,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let up = match network {
            CHINWAG_NETWORK_DOWN => false,
            CHINWAG_NETWORK_UP => true,
            other => return Err(Error::invalid(format!("network {other} is not a CHINWAG_NETWORK_*"))),
        };
        client.network_changed(up);
        Ok(())
    })
}

/// Platform hint (`CHINWAG_APP_STATE_FOREGROUND` / `_BACKGROUND`): background closes the socket
/// after the grace period; foreground attempts now. Errors: `INVALID_ARGUMENT`,
/// `NULL_ARGUMENT`, `CLIENT_FREED`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_app_state_changed(
    client: *const chinwag_client,
    app_state: chinwag_app_state,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let foreground = match app_state {
            CHINWAG_APP_STATE_FOREGROUND => true,
            CHINWAG_APP_STATE_BACKGROUND => false,
            other => return Err(Error::invalid(format!("app_state {other} is not a CHINWAG_APP_STATE_*"))),
        };
        client.app_state_changed(foreground);
        Ok(())
    })
}

// ----- sending -----------------------------------------------------------------------------------

/// Writes the muid to an optional out-parameter.
///
/// # Safety
/// `out` is NULL or valid for a pointer write.
unsafe fn give_muid(out: *mut *mut c_char, muid: &str) {
    if !out.is_null() {
        // SAFETY: not NULL, and valid for a write by this function's contract.
        unsafe { *out = owned_string(muid) };
    }
}

/// Sends a text message; returns at once.
///
/// - `receiver_type`: `CHINWAG_RECEIVER_TYPE_USER` or `_GROUP`; `receiver`: a uid or guid.
/// - `text`: 1 byte to 64 KiB of UTF-8 (`TEXT_TOO_LONG` beyond).
/// - `done`: optional completion, called exactly once with `user_data` if this returns
///   `CHINWAG_RESULT_OK`, never otherwise: the stored message, or why it failed.
/// - `out_muid`: optional; receives the message's client id (free with `chinwag_string_free`).
///
/// While CONNECTING or RECONNECTING the send waits in the queue; it fails at once when the
/// queue is full. Errors (synchronous): `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT`
/// (bad type, empty or malformed receiver, empty text), `TEXT_TOO_LONG`, `NOT_LOGGED_IN`,
/// `CLIENT_FREED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_send_text(
    client: *const chinwag_client,
    receiver_type: chinwag_receiver_type,
    receiver: *const c_char,
    text: *const c_char,
    done: chinwag_send_cb,
    user_data: *mut c_void,
    out_muid: *mut *mut c_char,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let receiver_type = self::receiver_type(receiver_type)?;
        let receiver = try_str!(receiver);
        let text = try_str!(text);
        let muid = client.send_text(receiver_type, receiver, text, completion(done, user_data, types::message))?;
        // SAFETY: `out_muid` follows the API contract.
        unsafe { give_muid(out_muid, &muid) };
        Ok(())
    })
}

/// Sends a custom message: app-defined `custom_type` (e.g. `"location"`) and `data_json`, a JSON
/// value (borrowed). Otherwise as `chinwag_client_send_text`; `INVALID_ARGUMENT` when
/// `custom_type` is empty or `data_json` is not JSON.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_send_custom(
    client: *const chinwag_client,
    receiver_type: chinwag_receiver_type,
    receiver: *const c_char,
    custom_type: *const c_char,
    data_json: *const c_char,
    done: chinwag_send_cb,
    user_data: *mut c_void,
    out_muid: *mut *mut c_char,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let receiver_type = self::receiver_type(receiver_type)?;
        let receiver = try_str!(receiver);
        let custom_type = try_str!(custom_type);
        let data_json = try_str!(data_json);
        if custom_type.is_empty() {
            return Err(Error::invalid("custom_type must not be empty"));
        }
        let data = json_arg("data_json", data_json)?;
        let message = NewMessage::custom(receiver_type, receiver, custom_type, data);
        let muid = client.send_message(message, completion(done, user_data, types::message))?;
        // SAFETY: `out_muid` follows the API contract.
        unsafe { give_muid(out_muid, &muid) };
        Ok(())
    })
}

/// Sends any message given as the protocol's JSON message object, e.g. a media message:
/// `{"receiver_type":"user","receiver":"bob","type":"image","attachments":[{"url":"..."}]}`
/// (fields: `muid`, `receiver_type`, `receiver`, `category`, `type`, `text`, `data`,
/// `attachments`, `metadata`, `parent_id`, `quoted_id`). Otherwise as
/// `chinwag_client_send_text`; `INVALID_ARGUMENT` when the JSON does not describe a message.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_send_message(
    client: *const chinwag_client,
    message_json: *const c_char,
    done: chinwag_send_cb,
    user_data: *mut c_void,
    out_muid: *mut *mut c_char,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let message_json = try_str!(message_json);
        let message: NewMessage = serde_json::from_str(message_json)
            .map_err(|e| Error::invalid(format!("`message_json` is not a message: {e}")))?;
        let muid = client.send_message(message, completion(done, user_data, types::message))?;
        // SAFETY: `out_muid` follows the API contract.
        unsafe { give_muid(out_muid, &muid) };
        Ok(())
    })
}

/// Tells `receiver` that the user started typing. Never queued: fails with `NOT_CONNECTED`
/// unless CONNECTED, `FEATURE_THROTTLED` while the server throttles typing. Also
/// `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT`, `CLIENT_FREED`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_start_typing(
    client: *const chinwag_client,
    receiver_type: chinwag_receiver_type,
    receiver: *const c_char,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let receiver_type = self::receiver_type(receiver_type)?;
        let receiver = try_str!(receiver);
        client.start_typing(receiver_type, receiver)
    })
}

/// Tells `receiver` that the user stopped typing. As `chinwag_client_start_typing`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_end_typing(
    client: *const chinwag_client,
    receiver_type: chinwag_receiver_type,
    receiver: *const c_char,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let receiver_type = self::receiver_type(receiver_type)?;
        let receiver = try_str!(receiver);
        client.end_typing(receiver_type, receiver)
    })
}

/// Marks every message of `message_id`'s conversation up to it as delivered. Never queued:
/// `NOT_CONNECTED` unless CONNECTED, `FEATURE_THROTTLED`; `INVALID_ARGUMENT` unless
/// `message_id > 0`; `NULL_ARGUMENT`, `CLIENT_FREED`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_mark_delivered(
    client: *const chinwag_client,
    message_id: i64,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        client.mark(ReceiptKind::Delivered, message_id)
    })
}

/// Marks every message of `message_id`'s conversation up to it as read. As
/// `chinwag_client_mark_delivered`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_mark_read(
    client: *const chinwag_client,
    message_id: i64,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        client.mark(ReceiptKind::Read, message_id)
    })
}

/// Sends a transient message (relayed, never stored): `data_json` is any JSON value
/// (borrowed). Never queued: `NOT_CONNECTED` unless CONNECTED, `FEATURE_THROTTLED`; also
/// `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (bad receiver or JSON),
/// `CLIENT_FREED`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_send_transient(
    client: *const chinwag_client,
    receiver_type: chinwag_receiver_type,
    receiver: *const c_char,
    data_json: *const c_char,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let receiver_type = self::receiver_type(receiver_type)?;
        let receiver = try_str!(receiver);
        let data_json = try_str!(data_json);
        let data = json_arg("data_json", data_json)?;
        client.send_transient(receiver_type, receiver, data)
    })
}
