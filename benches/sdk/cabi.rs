//! The C-ABI variants of the latency and throughput scenarios. The bench calls the exported
//! `chinwag_*` functions exactly as a C app does: a zero-initialised `chinwag_settings` with
//! `struct_size` set, listener structs of `extern "C"` callbacks with a `user_data` pointer to
//! a Rust struct (released by the SDK through `user_data_free`), completions whose `user_data`
//! is taken back in the completion itself, payloads read through the C structs and strings
//! through `CStr`. The functions are linked from the same crate (the rlib) rather than loaded
//! from `libchinwag.so`; the code they run is the same.
//!
//! No callback here panics (a panic cannot unwind out of an `extern "C"` function): each one
//! records what it saw, and the bench thread checks it.

use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use chinwag::ffi::client::{
    chinwag_client_free, chinwag_client_init, chinwag_client_login, chinwag_client_send_text,
    chinwag_settings,
};
use chinwag::ffi::errors::{
    chinwag_last_error_message, chinwag_result, chinwag_result_name, CHINWAG_RESULT_OK,
};
use chinwag::ffi::groups::{chinwag_client_add_group_members, chinwag_client_create_group};
use chinwag::ffi::listeners::{
    chinwag_client_add_connection_listener, chinwag_client_add_message_listener,
    chinwag_client_remove_connection_listener, chinwag_connection_listener,
    chinwag_message_listener,
};
use chinwag::ffi::payloads::{chinwag_group, chinwag_member_list, CHINWAG_GROUP_TYPE_PUBLIC};
use chinwag::ffi::types::{
    chinwag_error, chinwag_message, chinwag_state_change, CHINWAG_CONNECTION_STATE_CONNECTED,
    CHINWAG_RECEIVER_TYPE_GROUP, CHINWAG_RECEIVER_TYPE_USER,
};

use super::{Sends, AUTH, WAIT};

/// Panics with the calling thread's last error unless `rc` is `CHINWAG_RESULT_OK`.
fn check(rc: chinwag_result, what: &str) {
    if rc == CHINWAG_RESULT_OK {
        return;
    }
    let mut buf = [0 as c_char; 512];
    // SAFETY: `buf` is writable for `buf.len()` bytes; `written` may be NULL.
    unsafe { chinwag_last_error_message(buf.as_mut_ptr(), buf.len(), std::ptr::null_mut()) };
    // SAFETY: `chinwag_last_error_message` NUL-terminated `buf` within its length (it starts
    // zeroed, so it is terminated even if the call failed).
    let message = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy();
    // SAFETY: `chinwag_result_name` returns a static NUL-terminated string, never NULL.
    let name = unsafe { CStr::from_ptr(chinwag_result_name(rc)) }.to_string_lossy();
    panic!("{what}: {name} ({rc}): {message}");
}

/// A `chinwag_error` (completion or event) as text.
///
/// # Safety
/// `error` is NULL or valid for the duration of the call (a callback's borrowed payload).
unsafe fn error_text(error: *const chinwag_error) -> String {
    // SAFETY: NULL or valid (this function's contract); its strings are never NULL.
    match unsafe { error.as_ref() } {
        None => "unknown error".into(),
        // SAFETY: `name` and `message` are NUL-terminated strings valid with `error`.
        Some(e) => unsafe {
            format!(
                "{}: {}",
                CStr::from_ptr(e.name).to_string_lossy(),
                CStr::from_ptr(e.message).to_string_lossy()
            )
        },
    }
}

/// `user_data_free` of a `Box<T>` handed to the SDK with `Box::into_raw`.
///
/// # Safety
/// `user_data` comes from `Box::into_raw(Box<T>)` and is released only here (the SDK calls
/// `user_data_free` exactly once).
unsafe extern "C" fn free_box<T>(user_data: *mut c_void) {
    // SAFETY: this function's contract.
    drop(unsafe { Box::from_raw(user_data.cast::<T>()) });
}

/// The `user_data` a listener was registered with.
///
/// # Safety
/// `user_data` is the `Box<T>` pointer registered with the running listener: the SDK keeps it
/// alive until `user_data_free` runs, which is after the listener's last callback.
unsafe fn context<'a, T>(user_data: *mut c_void) -> &'a T {
    // SAFETY: this function's contract.
    unsafe { &*user_data.cast::<T>() }
}

/// A `chinwag_client *` as a C app holds it: opaque, only passed back to the API. Dropping it
/// calls `chinwag_client_free` (outside any callback: every callback and completion of the
/// client has run when that returns).
pub struct CClient(*mut c_void);

impl CClient {
    /// `chinwag_client_init` with the settings the Rust variants use (queue of 100,000).
    pub fn init(url: &str) -> CClient {
        let url = CString::new(url).expect("url");
        // SAFETY: `chinwag_settings` holds only integers, raw pointers and optional function
        // pointers, so all-zero is a valid value, and the header's rule is "zero-initialise
        // it: every zero field means its default" (fields added later stay at their default).
        let mut settings: chinwag_settings = unsafe { std::mem::zeroed() };
        settings.struct_size = std::mem::size_of::<chinwag_settings>();
        settings.server_url = url.as_ptr();
        settings.queue_capacity = 100_000;
        let mut out = std::ptr::null_mut();
        // SAFETY: the app id and the settings (with `url`) are valid for the call, which
        // copies them; `out` is valid for a pointer write.
        let rc = unsafe { chinwag_client_init(c"chinwag-app".as_ptr(), &settings, &mut out) };
        check(rc, "chinwag_client_init");
        CClient(out.cast())
    }

    /// The handle, typed as the function taking it expects.
    fn ptr<T>(&self) -> *const T {
        self.0.cast_const().cast()
    }
}

impl Drop for CClient {
    fn drop(&mut self) {
        // SAFETY: a live handle from `chinwag_client_init`, freed exactly once, here, from the
        // bench thread (never from one of its callbacks).
        unsafe { chinwag_client_free(self.0.cast()) };
    }
}

/// Registers `user_data` with a message listener whose only callback is
/// `on_text_message_received`.
fn add_text_listener<T>(
    client: &CClient,
    id: &CStr,
    on_text: unsafe extern "C" fn(*mut c_void, *const chinwag_message),
    user_data: Box<T>,
) {
    // SAFETY: `struct_size` first, then only optional function pointers: all-zero is valid and
    // means "no callback" for every event but the one set below.
    let mut listener: chinwag_message_listener = unsafe { std::mem::zeroed() };
    listener.struct_size = std::mem::size_of::<chinwag_message_listener>();
    listener.on_text_message_received = Some(on_text);
    let user_data = Box::into_raw(user_data);
    // SAFETY: a live handle, a NUL-terminated id and a listener struct valid for the call
    // (copied); on success the SDK owns `user_data` until `free_box::<T>` runs.
    let rc = unsafe {
        chinwag_client_add_message_listener(
            client.ptr(),
            id.as_ptr(),
            &listener,
            user_data.cast(),
            Some(free_box::<T>),
        )
    };
    check(rc, "chinwag_client_add_message_listener");
}

// ----- login -> CONNECTED ---------------------------------------------------------------------

struct Connected(mpsc::Sender<Instant>);

unsafe extern "C" fn on_connected(user_data: *mut c_void, change: *const chinwag_state_change) {
    let at = Instant::now();
    // SAFETY: `user_data` is this listener's `Connected`; `change` is valid during the callback.
    let (signal, change) = unsafe { (context::<Connected>(user_data), &*change) };
    if change.current == CHINWAG_CONNECTION_STATE_CONNECTED {
        let _ = signal.0.send(at);
    }
}

/// `chinwag_client_login` (no completion, as the Rust variant passes none) and the time until
/// the connection listener's `on_connected`.
pub fn login(client: &CClient, uid: &str) -> Duration {
    let (tx, rx) = mpsc::channel();
    // SAFETY: as in `add_text_listener`: all-zero is a valid listener without callbacks.
    let mut listener: chinwag_connection_listener = unsafe { std::mem::zeroed() };
    listener.struct_size = std::mem::size_of::<chinwag_connection_listener>();
    listener.on_connected = Some(on_connected);
    let user_data = Box::into_raw(Box::new(Connected(tx)));
    // SAFETY: a live handle, a NUL-terminated id, a listener struct valid for the call; the
    // SDK owns `user_data` until `free_box::<Connected>` runs.
    let rc = unsafe {
        chinwag_client_add_connection_listener(
            client.ptr(),
            c"bench-login".as_ptr(),
            &listener,
            user_data.cast(),
            Some(free_box::<Connected>),
        )
    };
    check(rc, "chinwag_client_add_connection_listener");
    let uid = CString::new(uid).expect("uid");
    let auth = CString::new(AUTH).expect("auth key");
    let start = Instant::now();
    // SAFETY: a live handle and NUL-terminated strings valid for the call; no completion.
    let rc = unsafe {
        chinwag_client_login(
            client.ptr(),
            uid.as_ptr(),
            auth.as_ptr(),
            None,
            std::ptr::null_mut(),
        )
    };
    check(rc, "chinwag_client_login");
    let at = rx.recv_timeout(WAIT).expect("CONNECTED (C ABI)");
    // SAFETY: a live handle and a NUL-terminated id; called outside any callback, so the
    // listener's `user_data_free` has run when this returns.
    let rc =
        unsafe { chinwag_client_remove_connection_listener(client.ptr(), c"bench-login".as_ptr()) };
    check(rc, "chinwag_client_remove_connection_listener");
    at - start
}

// ----- sends with a completion ----------------------------------------------------------------

/// The `chinwag_send_cb` of the measured sends; `user_data` is the scenario's `Sends`.
unsafe extern "C" fn on_sent(
    user_data: *mut c_void,
    error: *const chinwag_error,
    message: *const chinwag_message,
) {
    // SAFETY: `user_data` is the `Sends` passed with the send; the scenario keeps it alive
    // until after `chinwag_client_free` (which runs every unfinished completion first).
    let sends = unsafe { &*user_data.cast::<Sends>() };
    // SAFETY: on success `message` is valid during the callback, else `error` is.
    let result = unsafe {
        match message.as_ref() {
            Some(m) if error.is_null() => Ok(m.id),
            _ => Err(error_text(error)),
        }
    };
    sends.record(result);
}

/// `chinwag_client_send_text` to a user, completed by `on_sent` into `sends`.
fn send_text(client: &CClient, to: &CStr, text: &str, sends: &Sends) {
    let text = CString::new(text).expect("text");
    // SAFETY: a live handle and NUL-terminated strings valid for the call (copied); `sends`
    // outlives the client, so the completion's `user_data` stays valid; no out_muid.
    let rc = unsafe {
        chinwag_client_send_text(
            client.ptr(),
            CHINWAG_RECEIVER_TYPE_USER,
            to.as_ptr(),
            text.as_ptr(),
            Some(on_sent),
            std::ptr::from_ref(sends).cast_mut().cast(),
            std::ptr::null_mut(),
        )
    };
    check(rc, "chinwag_client_send_text");
}

// ----- round trip -----------------------------------------------------------------------------

/// Bob's echo: his own handle, used from his dispatcher thread, and whom to echo to.
struct Echo {
    bob: *mut c_void,
    to: CString,
}

unsafe extern "C" fn echo(user_data: *mut c_void, message: *const chinwag_message) {
    // SAFETY: `user_data` is this listener's `Echo`; `message` is valid during the callback.
    let (echo, message) = unsafe { (context::<Echo>(user_data), &*message) };
    if message.text.is_null() {
        return;
    }
    // SAFETY: Bob's handle is live (it is freed only after its callbacks are over); the text is
    // borrowed for this callback and copied by the call; no completion (as in the Rust
    // variant), no out_muid. Sending from a callback of the same client is allowed.
    unsafe {
        chinwag_client_send_text(
            echo.bob.cast_const().cast(),
            CHINWAG_RECEIVER_TYPE_USER,
            echo.to.as_ptr(),
            message.text,
            None,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
}

struct Texts(mpsc::Sender<(String, Instant)>);

unsafe extern "C" fn collect(user_data: *mut c_void, message: *const chinwag_message) {
    // SAFETY: `user_data` is this listener's `Texts`; `message` is valid during the callback.
    let (texts, message) = unsafe { (context::<Texts>(user_data), &*message) };
    if message.text.is_null() {
        return;
    }
    // SAFETY: a non-NULL `text` is NUL-terminated and valid during the callback.
    let text = unsafe { CStr::from_ptr(message.text) }
        .to_string_lossy()
        .into_owned();
    let _ = texts.0.send((text, Instant::now()));
}

/// A -> server -> B's callback -> server -> A's callback through the C ABI, one at a time
/// (the twin of the Rust variant's `RoundTrip`).
pub struct RoundTrip {
    // Fields drop in order: both clients are freed (every completion run) before `sends`.
    alice: CClient,
    _bob: CClient,
    peer: CString,
    rx: mpsc::Receiver<(String, Instant)>,
    sends: Box<Sends>,
    next: usize,
}

impl RoundTrip {
    /// `a` sends to `b`, whose listener echoes each text back to `a`.
    pub fn new(url: &str, a: &str, b: &str) -> RoundTrip {
        let alice = CClient::init(url);
        let bob = CClient::init(url);
        login(&alice, a);
        login(&bob, b);
        let to = CString::new(a).expect("uid");
        add_text_listener(&bob, c"echo", echo, Box::new(Echo { bob: bob.0, to }));
        let (tx, rx) = mpsc::channel::<(String, Instant)>();
        add_text_listener(&alice, c"rtt", collect, Box::new(Texts(tx)));
        RoundTrip {
            alice,
            _bob: bob,
            peer: CString::new(b).expect("uid"),
            rx,
            sends: Box::default(),
            next: 0,
        }
    }

    pub fn once(&mut self) -> Duration {
        let text = format!("message number {}", self.next);
        self.next += 1;
        let start = Instant::now();
        send_text(&self.alice, &self.peer, &text, &self.sends);
        let (echo, at) = self.rx.recv_timeout(WAIT).expect("echo (C ABI)");
        assert_eq!(echo, text, "echoes arrive in order (C ABI)");
        at - start
    }

    pub fn finish(self) {
        self.sends.expect_all(self.next, "round trip (C ABI)");
    }
}

// ----- one-way throughput ---------------------------------------------------------------------

struct InOrder {
    n: usize,
    next: AtomicUsize,
    first_bad: Mutex<Option<String>>,
    done: mpsc::Sender<Instant>,
}

unsafe extern "C" fn in_order(user_data: *mut c_void, message: *const chinwag_message) {
    // SAFETY: `user_data` is this listener's `Arc<InOrder>`; `message` is valid during the
    // callback.
    let (state, message) = unsafe { (context::<Arc<InOrder>>(user_data), &*message) };
    if message.text.is_null() {
        return;
    }
    // SAFETY: a non-NULL `text` is NUL-terminated and valid during the callback.
    let text = unsafe { CStr::from_ptr(message.text) }.to_string_lossy();
    if !text.starts_with("tp ") {
        return;
    }
    let i = state.next.load(Ordering::SeqCst);
    if text != format!("tp {i}").as_str() {
        if let Ok(mut bad) = state.first_bad.lock() {
            if bad.is_none() {
                *bad = Some(format!("expected \"tp {i}\", got {text:?}"));
                // Wake the bench thread at once instead of letting it time out.
                let _ = state.done.send(Instant::now());
            }
        }
    }
    state.next.store(i + 1, Ordering::SeqCst);
    if i + 1 == state.n {
        let _ = state.done.send(Instant::now());
    }
}

/// A -> B as fast as the queue takes them, every send with a completion; msgs/s until B's
/// callback got the last one, each checked in order.
pub fn throughput(url: &str, n: usize) -> f64 {
    let sends = Sends::default();
    let alice = CClient::init(url);
    let bob = CClient::init(url);
    login(&alice, "alice");
    login(&bob, "bob");
    let (tx, rx) = mpsc::channel::<Instant>();
    let state = Arc::new(InOrder {
        n,
        next: AtomicUsize::new(0),
        first_bad: Mutex::new(None),
        done: tx,
    });
    add_text_listener(&bob, c"count", in_order, Box::new(state.clone()));
    let start = Instant::now();
    for i in 0..n {
        send_text(&alice, c"bob", &format!("tp {i}"), &sends);
    }
    let done = rx
        .recv_timeout(Duration::from_secs(600))
        .expect("all delivered (C ABI)");
    if let Some(bad) = state
        .first_bad
        .lock()
        .map(|b| b.clone())
        .unwrap_or_default()
    {
        panic!("one-way (C ABI): lost, duplicated or reordered: {bad}");
    }
    sends.expect_all(n, "one-way (C ABI)");
    drop((alice, bob));
    n as f64 / (done - start).as_secs_f64()
}

// ----- group fan-out --------------------------------------------------------------------------

/// A completion's outcome, sent to the bench thread: a count, or the error.
struct Reply(mpsc::Sender<Result<usize, String>>);

/// Takes back a completion's `Box<Reply>` and sends it the outcome.
///
/// # Safety
/// `user_data` comes from `Box::into_raw(Box<Reply>)` for this one completion (which runs
/// exactly once); `error` is NULL or valid during the call.
unsafe fn reply(user_data: *mut c_void, error: *const chinwag_error, count: usize) {
    // SAFETY: this function's contract.
    let reply = unsafe { Box::from_raw(user_data.cast::<Reply>()) };
    let outcome = if error.is_null() {
        Ok(count)
    } else {
        // SAFETY: not NULL, so valid during the call (contract).
        Err(unsafe { error_text(error) })
    };
    let _ = reply.0.send(outcome);
}

unsafe extern "C" fn group_created(
    user_data: *mut c_void,
    error: *const chinwag_error,
    group: *const chinwag_group,
) {
    // SAFETY: the completion's own `Box<Reply>`, called once; `error` NULL or valid.
    unsafe { reply(user_data, error, usize::from(!group.is_null())) };
}

unsafe extern "C" fn members_added(
    user_data: *mut c_void,
    error: *const chinwag_error,
    list: *const chinwag_member_list,
) {
    // SAFETY: `list` is NULL or valid during the callback.
    let listed = unsafe { list.as_ref() }.map_or(0, |l| l.len);
    // SAFETY: the completion's own `Box<Reply>`, called once; `error` NULL or valid.
    unsafe { reply(user_data, error, listed) };
}

/// A fresh `Reply` for one completion, and where its outcome arrives.
fn reply_slot() -> (*mut c_void, mpsc::Receiver<Result<usize, String>>) {
    let (tx, rx) = mpsc::channel();
    (Box::into_raw(Box::new(Reply(tx))).cast(), rx)
}

struct GroupCount {
    total: u64,
    delivered: AtomicU64,
    done: mpsc::Sender<Instant>,
}

unsafe extern "C" fn count_group(user_data: *mut c_void, message: *const chinwag_message) {
    // SAFETY: `user_data` is this listener's `Arc<GroupCount>`; `message` is valid during the
    // callback.
    let (count, message) = unsafe { (context::<Arc<GroupCount>>(user_data), &*message) };
    if message.receiver_type == CHINWAG_RECEIVER_TYPE_GROUP
        && count.delivered.fetch_add(1, Ordering::SeqCst) + 1 == count.total
    {
        let _ = count.done.send(Instant::now());
    }
}

/// The group `cfan{members}` created and filled through the C ABI (the users `m{members}-i`
/// exist already: the Rust variant created them), `members` C clients logged in, and
/// `messages` group messages from Alice; deliveries/s until the last member callback.
pub fn fanout(url: &str, members: usize, messages: usize) -> (f64, u64) {
    let guid = CString::new(format!("cfan{members}")).expect("guid");
    let owner = CClient::init(url);
    login(&owner, "alice");
    let (user_data, rx) = reply_slot();
    // SAFETY: a live handle, NUL-terminated strings valid for the call; `user_data` is taken
    // back by `group_created`, which runs exactly once when this returns OK.
    let rc = unsafe {
        chinwag_client_create_group(
            owner.ptr(),
            guid.as_ptr(),
            c"fan-out".as_ptr(),
            CHINWAG_GROUP_TYPE_PUBLIC,
            Some(group_created),
            user_data,
        )
    };
    check(rc, "chinwag_client_create_group");
    rx.recv_timeout(WAIT)
        .expect("group created (C ABI)")
        .expect("create group (C ABI)");
    for chunk in (0..members).collect::<Vec<_>>().chunks(100) {
        let uids: Vec<CString> = chunk
            .iter()
            .map(|i| CString::new(format!("m{members}-{i}")).expect("uid"))
            .collect();
        let ptrs: Vec<*const c_char> = uids.iter().map(|u| u.as_ptr()).collect();
        let (user_data, rx) = reply_slot();
        // SAFETY: a live handle; `ptrs` holds `ptrs.len()` NUL-terminated strings valid for the
        // call; scopes NULL (participants); `user_data` is taken back by `members_added`.
        let rc = unsafe {
            chinwag_client_add_group_members(
                owner.ptr(),
                guid.as_ptr(),
                ptrs.as_ptr(),
                std::ptr::null(),
                ptrs.len(),
                Some(members_added),
                user_data,
            )
        };
        check(rc, "chinwag_client_add_group_members");
        let listed = rx
            .recv_timeout(WAIT)
            .expect("members added (C ABI)")
            .expect("add members (C ABI)");
        // The completion's list is the whole group (the server answers with every member).
        let expected = 1 + chunk.last().map_or(0, |last| last + 1);
        assert_eq!(
            listed, expected,
            "the owner and every member added so far (C ABI)"
        );
    }
    let total = (members * messages) as u64;
    let (tx, rx) = mpsc::channel::<Instant>();
    let count = Arc::new(GroupCount {
        total,
        delivered: AtomicU64::new(0),
        done: tx,
    });
    let mut clients = Vec::with_capacity(members);
    for i in 0..members {
        let c = CClient::init(url);
        add_text_listener(&c, c"fan", count_group, Box::new(count.clone()));
        login(&c, &format!("m{members}-{i}"));
        clients.push(c);
    }
    let start = Instant::now();
    for i in 0..messages {
        let text = CString::new(format!("fan {i}")).expect("text");
        // SAFETY: a live handle and NUL-terminated strings valid for the call; no completion
        // (as in the Rust variant), no out_muid.
        let rc = unsafe {
            chinwag_client_send_text(
                owner.ptr(),
                CHINWAG_RECEIVER_TYPE_GROUP,
                guid.as_ptr(),
                text.as_ptr(),
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        check(rc, "chinwag_client_send_text (group)");
    }
    let end = rx
        .recv_timeout(Duration::from_secs(600))
        .expect("all deliveries (C ABI)");
    let rate = total as f64 / (end - start).as_secs_f64();
    drop(clients);
    drop(owner);
    (rate, total)
}
