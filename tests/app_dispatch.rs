//! App-driven dispatch (docs/behaviour.md, section 8, last point): with
//! `DispatchMode::App` no dispatcher thread runs; a descriptor is readable while events wait and
//! `Client::dispatch` runs the callbacks on the calling thread, with every guarantee of the
//! thread mode. Real server; the test thread is the app's event loop (poll(2) on the
//! descriptor with a timeout, then dispatch); nothing sleeps to synchronise.
#![cfg(unix)]

mod common;

use std::os::fd::RawFd;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, Weak};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use chinwag::protocol::model::{Message, ReceiverType, User};
use chinwag::{
    Client, ConnectionState as S, DispatchMode, ErrorCode, Event, InitOptions, ListenerKind,
    SavedSession, SessionStore, Settings,
};
use common::proxy::Proxy;
use common::*;

/// How long "nothing happens" is watched for.
const QUIET: Duration = Duration::from_millis(300);

fn app(mut s: Settings) -> Settings {
    s.dispatch = DispatchMode::App;
    s
}

/// An app-mode client with a recorder, shared so callbacks can reach it.
fn app_client(settings: Settings) -> (Arc<Client>, Recorder, RawFd) {
    let client = Client::init(APP_ID, app(settings), InitOptions::default()).unwrap();
    let rec = Recorder::default();
    rec.attach(&client);
    let fd = client.dispatch_fd().expect("app mode has a descriptor");
    (Arc::new(client), rec, fd)
}

/// poll(2): whether `fd` is readable within `within`.
fn readable(fd: RawFd, within: Duration) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = within.as_millis().min(i32::MAX as u128) as i32;
    loop {
        // SAFETY: one valid pollfd, alive for the call.
        let n = unsafe { libc::poll(&mut p, 1, ms) };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        assert!(n >= 0, "poll: {}", std::io::Error::last_os_error());
        return n == 1 && p.revents & libc::POLLIN != 0;
    }
}

/// The app's event loop: waits for the descriptor and dispatches up to `max` at a time
/// (checking the limit) until `done()` holds. Fails after `WAIT`.
fn pump_with(client: &Client, max: usize, what: &str, mut done: impl FnMut() -> bool) {
    let fd = client.dispatch_fd().expect("app mode");
    let deadline = Instant::now() + WAIT;
    while !done() {
        let now = Instant::now();
        assert!(now < deadline, "timed out waiting for {what}");
        if readable(fd, deadline - now) {
            let ran = client.dispatch(max).unwrap();
            assert!(max == 0 || ran <= max, "ran {ran} with max {max}");
        }
    }
}

fn pump(client: &Client, what: &str, done: impl FnMut() -> bool) {
    pump_with(client, 0, what, done)
}

/// Dispatches until a matching event at index >= `from` was recorded.
fn pump_event(
    client: &Client,
    rec: &Recorder,
    from: usize,
    what: &str,
    pred: impl Fn(&Event) -> bool,
) -> usize {
    let mut found = None;
    pump(client, what, || {
        found = rec.wait_for(from, what, Duration::ZERO, &pred);
        found.is_some()
    });
    found.map(|(i, _)| i).unwrap_or_default()
}

/// Dispatches until nothing waits.
fn drain(client: &Client, fd: RawFd) {
    while readable(fd, Duration::ZERO) {
        client.dispatch(0).unwrap();
    }
}

/// Dispatches until the completion behind `rx` arrived; returns it.
fn pump_completion<T>(client: &Client, what: &str, rx: &mpsc::Receiver<T>) -> T {
    let mut got = None;
    pump(client, what, || {
        if got.is_none() {
            got = rx.try_recv().ok();
        }
        got.is_some()
    });
    got.unwrap_or_else(|| unreachable!())
}

/// Logs in, dispatching until the login completed and (auto mode) CONNECTED was delivered.
fn login_app(client: &Client, rec: &Recorder, uid: &str, auto: bool) {
    let (done, rx) = completion::<User>();
    client.login(uid, AUTH_KEY, Some(done)).unwrap();
    pump_completion(client, "login", &rx).unwrap();
    if auto {
        pump_event(client, rec, 0, "CONNECTED", |e| is_state(e, S::Connected));
    }
}

/// A bob in thread mode, logged in and connected, to send to the app-mode client.
fn bob(server: &Server) -> (Client, Recorder) {
    server.create_user("bob");
    let (bob, rb) = new_client(server, server.settings());
    login_connected(&bob, &rb, "bob");
    (bob, rb)
}

fn send_all(from: &Client, to: &str, texts: impl IntoIterator<Item = String>) {
    let pending: Vec<_> = texts.into_iter().map(|t| send(from, to, &t)).collect();
    for rx in pending {
        rx.recv_timeout(WAIT).unwrap().unwrap();
    }
}

fn numbered(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

#[test]
fn callbacks_run_on_the_dispatching_thread_and_the_fd_follows_the_queue() {
    let server = Server::start();
    server.create_user("alice");
    let (bob, _rb) = bob(&server);
    let (alice, ra, fd) = app_client(server.settings());
    assert_eq!(alice.dispatch_mode(), DispatchMode::App);

    // Every callback reports its thread and whether the client knows it is inside one.
    let seen: Arc<Mutex<Vec<(ThreadId, bool)>>> = Arc::default();
    let (weak, log) = (Arc::downgrade(&alice), seen.clone());
    alice
        .add_listener(
            ListenerKind::Message,
            "threads",
            Box::new(move |_: &Event| {
                let inside = weak.upgrade().is_some_and(|c| c.in_callback());
                log.lock()
                    .unwrap()
                    .push((std::thread::current().id(), inside));
            }),
        )
        .unwrap();
    let (done, rx) = completion::<User>();
    let (tx, thread_rx) = mpsc::channel();
    alice
        .login(
            "alice",
            AUTH_KEY,
            Some(Box::new(move |r| {
                tx.send(std::thread::current().id()).unwrap();
                done(r);
            })),
        )
        .unwrap();
    assert!(
        rx.recv_timeout(QUIET).is_err(),
        "no dispatch yet, so no completion yet"
    );
    pump_completion(&alice, "login", &rx).unwrap();
    pump_event(&alice, &ra, 0, "CONNECTED", |e| is_state(e, S::Connected));
    let me = std::thread::current().id();
    assert_eq!(
        thread_rx.try_recv(),
        Ok(me),
        "completion on the dispatching thread"
    );
    drain(&alice, fd);
    assert!(!readable(fd, QUIET), "idle and drained: not readable");

    send_all(&bob, "alice", ["hello".to_string()]);
    assert!(readable(fd, WAIT), "readable once the message waits");
    assert!(ra.messages().is_empty(), "no callback before dispatch");
    assert!(alice.dispatch(0).unwrap() >= 1);
    assert_eq!(texts(&ra.messages()), ["hello"]);
    assert!(!readable(fd, Duration::ZERO), "drained by dispatch");
    assert_eq!(seen.lock().unwrap().clone(), vec![(me, true)]);
    assert!(
        !alice.in_callback(),
        "not inside a callback between dispatches"
    );
    ra.assert_state_chain();
}

#[test]
fn order_is_kept_across_many_messages_with_a_small_max() {
    let server = Server::start();
    server.create_user("alice");
    let (bob, _rb) = bob(&server);
    let (alice, ra, _fd) = app_client(server.settings());
    login_app(&alice, &ra, "alice", true);

    let want = numbered("m", 200);
    let sender = {
        let want = want.clone();
        std::thread::spawn(move || {
            send_all(&bob, "alice", want);
            bob
        })
    };
    pump_with(&alice, 3, "200 messages", || ra.messages().len() >= 200);
    assert_eq!(texts(&ra.messages()), want);
    let bob = sender.join().unwrap();
    drop(bob);
}

/// A session store that reports `clear` (the end of a logout) on a channel, so the test knows
/// what the connection task has queued without dispatching.
#[derive(Clone)]
struct ClearSignal {
    session: Arc<Mutex<Option<SavedSession>>>,
    cleared: Arc<Mutex<mpsc::Sender<()>>>,
}

impl SessionStore for ClearSignal {
    fn load(&self) -> chinwag::Result<Option<SavedSession>> {
        Ok(self.session.lock().unwrap().clone())
    }
    fn save(&self, session: &SavedSession, _durable: bool) -> chinwag::Result<()> {
        *self.session.lock().unwrap() = Some(session.clone());
        Ok(())
    }
    fn clear(&self) -> chinwag::Result<()> {
        *self.session.lock().unwrap() = None;
        let _ = self.cleared.lock().unwrap().send(());
        Ok(())
    }
}

#[test]
fn max_items_is_respected_and_the_fd_stays_readable_while_items_remain() {
    let server = Server::start();
    server.create_user("alice");
    let (cleared_tx, cleared) = mpsc::channel();
    let store = ClearSignal {
        session: Arc::default(),
        cleared: Arc::new(Mutex::new(cleared_tx)),
    };
    let mut s = app(server.settings());
    s.auto_connect = false;
    let options = InitOptions {
        store: Some(Box::new(store)),
        ..InitOptions::default()
    };
    let alice = Client::init(APP_ID, s, options).unwrap();
    let fd = alice.dispatch_fd().unwrap();
    let (done, rx) = completion::<User>();
    alice.login("alice", AUTH_KEY, Some(done)).unwrap();
    pump_completion(&alice, "login", &rx).unwrap();
    drain(&alice, fd);

    // Not connected (manual mode): each send fails at once with NOT_CONNECTED, in order, on
    // the connection task. The logout comes after them in the task's queue and clears the
    // store only after the task handled it, so once `clear` ran all ten failures wait.
    let results: Arc<Mutex<Vec<(usize, ErrorCode)>>> = Arc::default();
    for n in 0..10 {
        let r = results.clone();
        alice
            .send_text(
                ReceiverType::User,
                "bob",
                &format!("s{n}"),
                Some(Box::new(move |res: chinwag::Result<Message>| {
                    r.lock()
                        .unwrap()
                        .push((n, res.err().map_or(ErrorCode::Ok, |e| e.code)));
                })),
            )
            .unwrap();
    }
    let (logout_done, logout_rx) = completion::<()>();
    alice.logout(Some(logout_done)).unwrap();
    cleared.recv_timeout(WAIT).unwrap();

    assert!(readable(fd, Duration::ZERO));
    assert_eq!(alice.dispatch(4).unwrap(), 4);
    assert!(readable(fd, Duration::ZERO), "6 left: still readable");
    assert_eq!(alice.dispatch(4).unwrap(), 4);
    assert!(readable(fd, Duration::ZERO), "2 left: still readable");
    assert_eq!(results.lock().unwrap().len(), 8);
    pump_completion(&alice, "logout", &logout_rx).unwrap();
    drain(&alice, fd);
    assert!(!readable(fd, Duration::ZERO));
    let want: Vec<_> = (0..10).map(|n| (n, ErrorCode::NotConnected)).collect();
    assert_eq!(*results.lock().unwrap(), want, "each once, in order");
}

#[test]
fn dispatch_inside_a_callback_is_refused_with_reentrant_call() {
    let server = Server::start();
    server.create_user("alice");
    let (bob, _rb) = bob(&server);
    let (alice, ra, _fd) = app_client(server.settings());
    login_app(&alice, &ra, "alice", true);

    let (tx, rx) = mpsc::channel();
    let weak = Arc::downgrade(&alice);
    alice
        .add_listener(
            ListenerKind::Message,
            "reenter",
            Box::new(move |_: &Event| {
                if let Some(c) = weak.upgrade() {
                    tx.send(c.dispatch(0).map_err(|e| e.code)).unwrap();
                }
            }),
        )
        .unwrap();
    send_all(&bob, "alice", numbered("r", 2));
    pump(&alice, "2 messages", || ra.messages().len() >= 2);
    let got: Vec<_> = rx.try_iter().collect();
    assert_eq!(got, vec![Err(ErrorCode::ReentrantCall); 2]);
    // Delivery went on normally.
    assert_eq!(texts(&ra.messages()), numbered("r", 2));
}

#[test]
fn after_disconnect_dispatch_runs_no_realtime_callback_but_the_disconnected_event() {
    let server = Server::start();
    server.create_user("alice");
    let (bob, _rb) = bob(&server);
    let mut s = server.settings();
    s.auto_connect = false;
    let (alice, ra, fd) = app_client(s);
    login_app(&alice, &ra, "alice", false);
    alice.connect().unwrap();
    pump_event(&alice, &ra, 0, "CONNECTED", |e| is_state(e, S::Connected));
    drain(&alice, fd);

    send_all(&bob, "alice", numbered("d", 5));
    assert!(readable(fd, WAIT), "a message waits");
    let mark = ra.len();
    alice.disconnect();
    pump_event(&alice, &ra, mark, "DISCONNECTED", |e| {
        is_state(e, S::Disconnected)
    });
    drain(&alice, fd);
    assert!(
        ra.messages().is_empty(),
        "no message callback after disconnect() returned: {:#?}",
        ra.events()
    );
    assert!(!readable(fd, Duration::ZERO));

    // Not lost: the next connect replays them, once, in order.
    let mark = ra.len();
    alice.connect().unwrap();
    pump_event(&alice, &ra, mark, "CONNECTED again", |e| {
        is_state(e, S::Connected)
    });
    pump(&alice, "the 5 replayed", || ra.messages().len() >= 5);
    assert_eq!(texts(&ra.messages()), numbered("d", 5));
    ra.assert_state_chain();
}

/// A listener that reports when it is released.
struct Released(mpsc::Sender<&'static str>);

impl chinwag::Listener for Released {
    fn on_event(&mut self, _: &Event) {}
}

impl Drop for Released {
    fn drop(&mut self) {
        let _ = self.0.send("released");
    }
}

#[test]
fn close_with_completions_pending_runs_each_once_cancelled_on_the_closing_thread() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let proxy = Proxy::start(&server.url);
    let (alice, ra, _) = app_client(server.settings_via(&proxy.url()));
    login_app(&alice, &ra, "alice", true);
    let (released_tx, released) = mpsc::channel();
    alice
        .add_listener(
            ListenerKind::Message,
            "marker",
            Box::new(Released(released_tx)),
        )
        .unwrap();

    // The sends reach nobody and no ack comes back: unresolved at close.
    proxy.blackhole();
    let (tx, rx) = mpsc::channel();
    for n in 0..5 {
        let tx = tx.clone();
        alice
            .send_text(
                ReceiverType::User,
                "bob",
                &format!("c{n}"),
                Some(Box::new(move |r: chinwag::Result<Message>| {
                    tx.send((n, r.err().map(|e| e.code), std::thread::current().id()))
                        .unwrap();
                })),
            )
            .unwrap();
    }
    drop(tx);
    assert!(rx.try_recv().is_err());
    alice.close();
    let me = std::thread::current().id();
    let mut got: Vec<_> = rx.try_iter().collect();
    got.sort_by_key(|(n, _, _)| *n);
    let want: Vec<_> = (0..5)
        .map(|n| (n, Some(ErrorCode::Cancelled), me))
        .collect();
    assert_eq!(
        got, want,
        "each ran once, on this thread, before close returned"
    );
    assert_eq!(released.try_recv(), Ok("released"), "listeners released");
    assert_eq!(alice.dispatch_fd(), None, "descriptor closed");
    assert_eq!(
        alice.dispatch(0).map_err(|e| e.code),
        Err(ErrorCode::ClientFreed)
    );
    assert_eq!(
        rx.recv_timeout(QUIET).map(|_| ()),
        Err(RecvTimeoutError::Disconnected),
        "never again: the callbacks were consumed"
    );
}

#[test]
fn close_inside_a_callback_is_deferred_until_it_returns_and_finished_by_dispatch() {
    let server = Server::start();
    server.create_user("alice");
    let (bob, _rb) = bob(&server);
    let (alice, ra, fd) = app_client(server.settings());
    login_app(&alice, &ra, "alice", true);
    drain(&alice, fd);

    let order: Arc<Mutex<Vec<String>>> = Arc::default();
    let (released_tx, released) = mpsc::channel();
    struct Closer {
        client: Weak<Client>,
        order: Arc<Mutex<Vec<String>>>,
        _released: Released,
    }
    impl chinwag::Listener for Closer {
        fn on_event(&mut self, e: &Event) {
            if !matches!(e, Event::Message(_)) {
                return;
            }
            self.order.lock().unwrap().push("message".into());
            let Some(c) = self.client.upgrade() else {
                return;
            };
            let order = self.order.clone();
            let here = std::thread::current().id();
            // A completion that cannot finish before the close: it must run exactly once,
            // after this callback returns and before the dispatch call does.
            c.send_text(
                ReceiverType::User,
                "bob",
                "late",
                Some(Box::new(move |r: chinwag::Result<Message>| {
                    let same = std::thread::current().id() == here;
                    let outcome = match r {
                        Ok(_) => "ok".to_string(),
                        Err(e) => e.code.name().to_string(),
                    };
                    order
                        .lock()
                        .unwrap()
                        .push(format!("completion {outcome} same-thread={same}"));
                })),
            )
            .unwrap();
            c.close();
            self.order.lock().unwrap().push("close returned".into());
        }
    }
    alice
        .add_listener(
            ListenerKind::Message,
            "closer",
            Box::new(Closer {
                client: Arc::downgrade(&alice),
                order: order.clone(),
                _released: Released(released_tx),
            }),
        )
        .unwrap();

    send_all(&bob, "alice", numbered("x", 3));
    assert!(readable(fd, WAIT));
    let ran = alice.dispatch(0).unwrap();
    assert!(ran >= 1);
    assert_eq!(
        released.try_recv(),
        Ok("released"),
        "released before dispatch returned"
    );
    let order = order.lock().unwrap().clone();
    assert_eq!(order.len(), 3, "{order:?}");
    assert_eq!(order[..2], ["message", "close returned"]);
    assert!(
        order[2] == "completion CANCELLED same-thread=true"
            || order[2] == "completion ok same-thread=true",
        "{order:?}"
    );
    assert_eq!(ra.messages().len(), 1, "nothing delivered after the close");
    assert_eq!(alice.dispatch_fd(), None);
    assert_eq!(
        alice.dispatch(0).map_err(|e| e.code),
        Err(ErrorCode::ClientFreed)
    );
}

#[test]
fn a_dispatch_from_another_thread_waits_for_the_running_one() {
    let server = Server::start();
    server.create_user("alice");
    let (bob, _rb) = bob(&server);
    let (alice, ra, fd) = app_client(server.settings());
    login_app(&alice, &ra, "alice", true);
    drain(&alice, fd);

    let (returned_tx, returned) = mpsc::channel();
    let (outcome_tx, outcome) = mpsc::channel();
    type Other = std::thread::JoinHandle<chinwag::Result<usize>>;
    let other: Arc<Mutex<Option<Other>>> = Arc::default();
    let (weak, slot) = (Arc::downgrade(&alice), other.clone());
    alice
        .add_listener(
            ListenerKind::Message,
            "blocker",
            Box::new(move |_: &Event| {
                let Some(c) = weak.upgrade() else { return };
                let tx = returned_tx.clone();
                *slot.lock().unwrap() = Some(std::thread::spawn(move || {
                    let r = c.dispatch(0);
                    let _ = tx.send(());
                    r
                }));
                // While this callback runs, the other thread's dispatch must not return.
                let early = returned.recv_timeout(QUIET);
                outcome_tx.send(early.is_ok()).unwrap();
            }),
        )
        .unwrap();
    send_all(&bob, "alice", ["one".to_string()]);
    pump(&alice, "the message", || !ra.messages().is_empty());
    assert_eq!(outcome.try_recv(), Ok(false), "the other dispatch waited");
    let handle = other.lock().unwrap().take().unwrap();
    assert!(
        handle.join().unwrap().is_ok(),
        "and ran once it had its turn"
    );
}
