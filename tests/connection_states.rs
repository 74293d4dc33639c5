//! The connect()/disconnect() table of behaviour.md section 3, row by row, asserting the exact
//! sequence of state events; plus "CONNECTED only after the server's accept", one socket for
//! many connect() calls, calls from inside callbacks, and the app-state hint.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use chinwag::protocol::model::{PresenceSubscription, UserStatus};
use chinwag::{Client, ConnectionState as S, ErrorCode, Event, ListenerKind, Reason};
use common::proxy::Proxy;
use common::*;

/// A negative check waits this long for something that must not happen.
const QUIET: Duration = Duration::from_millis(600);

fn manual(mut s: chinwag::Settings) -> chinwag::Settings {
    s.auto_connect = false;
    s
}

/// Logs in without connecting (manual mode).
fn logged_in_manual(server: &Server, url: &str, uid: &str) -> (Client, Recorder) {
    let (c, r) = new_client(server, manual(server.settings_via(url)));
    login(&c, uid);
    (c, r)
}

#[test]
fn disconnected_connect_attempts_now_and_disconnect_is_a_noop() {
    let server = Server::start();
    server.create_user("alice");
    let (alice, rec) = logged_in_manual(&server, &server.url.clone(), "alice");
    assert_eq!(alice.connection_state(), S::Disconnected);
    rec.expect_none(0, "a state event in manual mode", QUIET, |e| {
        matches!(e, Event::State(_))
    });

    // DISCONNECTED x disconnect(): no-op. Commands are handled in order, so a DISCONNECTED
    // event (or anything else) from it would come before the CONNECTING below.
    alice.disconnect();
    alice.connect().unwrap();
    let (_, c) = rec.wait_state(0, S::Connected);
    assert_eq!(c.reason, Reason::Accepted);
    let changes = rec.changes();
    assert_eq!(rec.states(), [S::Connecting, S::Connected], "{changes:#?}");
    assert_eq!(changes[0].reason, Reason::ConnectRequested);
    assert_eq!(changes[0].previous, S::Disconnected);
    assert_eq!(alice.connection_state(), S::Connected);
    rec.assert_state_chain();
}

#[test]
fn connect_without_a_session_fails_not_logged_in() {
    let server = Server::start();
    let (client, rec) = new_client(&server, server.settings());
    let err = client.connect().unwrap_err();
    assert_eq!(err.code, ErrorCode::NotLoggedIn);
    assert_eq!(client.connection_state(), S::Disconnected);
    client.disconnect();
    rec.expect_none(0, "a state event without a session", QUIET, |e| {
        matches!(e, Event::State(_))
    });
}

#[test]
fn connecting_connect_is_a_noop_and_connected_needs_the_accept() {
    let server = Server::start();
    server.create_user("alice");
    let proxy = Proxy::start(&server.url);
    let (alice, rec) = logged_in_manual(&server, &proxy.url(), "alice");

    // The socket opens (101 arrives) but the server's accept frame is held back.
    proxy.hold_after_upgrade(true);
    alice.connect().unwrap();
    rec.wait_state(0, S::Connecting);
    proxy.wait_upgrades_held(1);
    rec.expect_none(0, "CONNECTED before the server's accept", QUIET, |e| {
        is_state(e, S::Connected)
    });
    assert_eq!(alice.connection_state(), S::Connecting);

    // CONNECTING x connect(): no-op, no second socket.
    for _ in 0..5 {
        alice.connect().unwrap();
    }
    proxy.heal();
    rec.wait_state(0, S::Connected);
    rec.expect_none(
        0,
        "a second attempt",
        QUIET,
        |e| matches!(e, Event::State(s) if s.current != S::Connected && s.current != S::Connecting),
    );
    assert_eq!(rec.states(), [S::Connecting, S::Connected]);
    assert_eq!(
        proxy.upgrades(),
        1,
        "connect() while CONNECTING opened a socket"
    );
    rec.assert_state_chain();
}

#[test]
fn connecting_disconnect_aborts_the_attempt() {
    let server = Server::start();
    server.create_user("alice");
    let proxy = Proxy::start(&server.url);
    let (alice, rec) = logged_in_manual(&server, &proxy.url(), "alice");
    let before = proxy.accepted();

    proxy.blackhole();
    alice.connect().unwrap();
    rec.wait_state(0, S::Connecting);
    proxy.wait_accepted(before + 1);
    let attempt = proxy.newest();
    alice.disconnect();
    let (i, d) = rec.wait_state(0, S::Disconnected);
    assert_eq!(d.previous, S::Connecting);
    assert_eq!(d.reason, Reason::DisconnectRequested);
    assert_eq!(alice.connection_state(), S::Disconnected);

    // The aborted attempt is gone for good: letting its bytes through changes nothing.
    proxy.heal();
    proxy.wait_gone(attempt);
    rec.expect_none(i + 1, "a state event after the abort", QUIET, |e| {
        matches!(e, Event::State(_))
    });

    alice.connect().unwrap();
    rec.wait_state(i + 1, S::Connected);
    assert_eq!(
        rec.states(),
        [S::Connecting, S::Disconnected, S::Connecting, S::Connected]
    );
    rec.assert_state_chain();
}

#[test]
fn connected_connect_is_a_noop_and_disconnect_closes_the_socket() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let proxy = Proxy::start(&server.url);
    // Bob watches alice's presence: her going offline shows the server saw the socket close.
    let mut bs = server.settings();
    bs.presence = PresenceSubscription::AllUsers;
    let (bob, rb) = new_client(&server, bs);
    login_connected(&bob, &rb, "bob");

    let (alice, rec) = new_client(&server, server.settings_via(&proxy.url()));
    login_connected(&alice, &rec, "alice");
    rb.wait(
        "alice online",
        |e| matches!(e, Event::Presence(p) if p.uid == "alice" && p.status == UserStatus::Online),
    );

    for _ in 0..5 {
        alice.connect().unwrap();
    }
    let mark = rec.len();
    alice.disconnect();
    let (_, d) = rec.wait_state(mark, S::Disconnected);
    assert_eq!(d.previous, S::Connected);
    assert_eq!(d.reason, Reason::DisconnectRequested);
    // Well before any heartbeat bound (20 s + 10 s here): the socket was closed, not dropped.
    let offline = rb.wait_for(
        0,
        "alice offline",
        Duration::from_secs(5),
        |e| matches!(e, Event::Presence(p) if p.uid == "alice" && p.status == UserStatus::Offline),
    );
    assert!(
        offline.is_some(),
        "the server never saw alice's socket close"
    );
    rec.expect_none(0, "a reconnect after disconnect()", QUIET, |e| {
        is_state(e, S::Reconnecting)
    });
    assert_eq!(rec.states(), [S::Connecting, S::Connected, S::Disconnected]);
    assert_eq!(
        proxy.upgrades(),
        1,
        "connect() while CONNECTED opened a socket"
    );
    rec.assert_state_chain();
}

#[test]
fn reconnecting_connect_attempts_now_with_a_fresh_backoff() {
    let server = Server::start();
    server.create_user("alice");
    let proxy = Proxy::start(&server.url);
    let mut s = manual(server.settings_via(&proxy.url()));
    // Retries far away: any attempt below comes from connect(), not from the timer.
    s.timings.backoff_base = Duration::from_secs(30);
    let (alice, rec) = new_client(&server, s);
    login(&alice, "alice");

    proxy.refuse(true);
    alice.connect().unwrap();
    let (i, r) = rec.wait_state(0, S::Reconnecting);
    assert_eq!(r.reason, Reason::AttemptFailed);
    assert!(r.retry_in_ms.unwrap() >= 30_000, "{r:?}");

    proxy.refuse(false);
    alice.connect().unwrap();
    let (j, c) = rec.wait_state(i, S::Connecting);
    assert_eq!(c.reason, Reason::ConnectRequested);
    assert_eq!(c.previous, S::Reconnecting);
    rec.wait_state(j, S::Connected);
    assert_eq!(
        rec.states(),
        [S::Connecting, S::Reconnecting, S::Connecting, S::Connected]
    );
    rec.assert_state_chain();
}

#[test]
fn reconnecting_disconnect_cancels_the_timer() {
    let server = Server::start();
    server.create_user("alice");
    let proxy = Proxy::start(&server.url);
    let mut s = manual(server.settings_via(&proxy.url()));
    s.timings.backoff_base = Duration::from_millis(1000);
    s.timings.backoff_cap = Duration::from_millis(1);
    let (alice, rec) = new_client(&server, s);
    login(&alice, "alice");

    proxy.refuse(true);
    alice.connect().unwrap();
    let (i, r) = rec.wait_state(0, S::Reconnecting);
    let retry = r.retry_in_ms.unwrap();
    assert!((1000..=1001).contains(&retry), "{r:?}");
    let refused = proxy.refused();
    alice.disconnect();
    let (j, d) = rec.wait_state(i, S::Disconnected);
    assert_eq!(d.previous, S::Reconnecting);
    assert_eq!(d.reason, Reason::DisconnectRequested);
    // Well past the retry time: the timer was cancelled.
    rec.expect_none(
        j + 1,
        "an attempt after disconnect()",
        Duration::from_millis(1500),
        |e| matches!(e, Event::State(_)),
    );
    assert_eq!(proxy.refused(), refused, "a connection was attempted");
    assert_eq!(
        rec.states(),
        [S::Connecting, S::Reconnecting, S::Disconnected]
    );
    rec.assert_state_chain();
}

/// Waits for SUSPENDED reached from a failed attempt: its retry timer is the suspended cadence
/// (SUSPENDED entered by the suspend timer keeps the retry that was already planned).
fn wait_suspended_after_attempt(rec: &Recorder, from: usize) -> (usize, chinwag::StateChange) {
    let (i, e) = rec.wait_from(from, "SUSPENDED after a failed attempt", |e| {
        matches!(e, Event::State(s) if s.current == S::Suspended && s.previous == S::Connecting)
    });
    match e {
        Event::State(s) => (i, s),
        _ => unreachable!(),
    }
}

#[test]
fn suspended_fails_queued_sends_and_obeys_connect_and_disconnect() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let proxy = Proxy::start(&server.url);
    let mut s = server.settings_via(&proxy.url());
    s.timings.backoff_base = Duration::from_millis(60);
    s.timings.backoff_cap = Duration::from_millis(60);
    s.timings.suspend_after = Duration::from_millis(300);
    s.timings.suspended_retry_min = Duration::from_secs(60);
    s.timings.suspended_retry_max = Duration::from_secs(90);
    let (alice, rec) = new_client(&server, s);
    login_connected(&alice, &rec, "alice");

    proxy.refuse(true);
    proxy.reset();
    let (i, r) = rec.wait_state(0, S::Reconnecting);
    assert_eq!(r.reason, Reason::ConnectionLost);
    let queued = send(&alice, "bob", "waits in the queue");
    let (_, first) = rec.wait_state(i, S::Suspended);
    let err = queued.recv_timeout(WAIT).unwrap().unwrap_err();
    assert_eq!(err.code, ErrorCode::QueueExpired, "{err} {first:?}");
    let (i, sus) = wait_suspended_after_attempt(&rec, i);
    let retry = sus.retry_in_ms.unwrap();
    assert!((60_000..=90_000).contains(&retry), "{sus:?}");
    // While suspended, sends fail at once instead of waiting.
    let err = send(&alice, "bob", "no queue now")
        .recv_timeout(WAIT)
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotConnected, "{err}");

    // SUSPENDED x connect(): attempt now.
    proxy.refuse(false);
    alice.connect().unwrap();
    let (j, c) = rec.wait_state(i, S::Connecting);
    assert_eq!(c.previous, S::Suspended);
    assert_eq!(c.reason, Reason::ConnectRequested);
    let (j, _) = rec.wait_state(j, S::Connected);

    // Again to SUSPENDED, then SUSPENDED x disconnect(): DISCONNECTED, no more attempts.
    proxy.refuse(true);
    proxy.reset();
    let (k, _) = wait_suspended_after_attempt(&rec, j);
    alice.disconnect();
    let (k, d) = rec.wait_state(k, S::Disconnected);
    assert_eq!(d.previous, S::Suspended);
    assert_eq!(d.reason, Reason::DisconnectRequested);
    rec.expect_none(k + 1, "an attempt after disconnect()", QUIET, |e| {
        matches!(e, Event::State(_))
    });
    for c in rec.changes() {
        if c.current == S::Suspended && c.previous == S::Connecting {
            assert!((60_000..=90_000).contains(&c.retry_in_ms.unwrap()), "{c:?}");
        }
    }
    rec.assert_state_chain();
}

#[test]
fn failed_connect_clears_the_error_and_disconnect_is_a_noop() {
    let server = Server::start();
    server.create_user("alice");
    let (alice, rec) = new_client(&server, server.settings());
    login_connected(&alice, &rec, "alice");

    let (s, v) = server.rest(reqwest::Method::POST, "/v1/users/alice/deactivate", None);
    assert_eq!(s, 200, "{v}");
    let (i, f) = rec.wait_state(0, S::Failed);
    assert_eq!(f.reason, Reason::UserDeactivated);
    rec.wait(
        "the connection error",
        |e| matches!(e, Event::ConnectionError(err) if err.code == ErrorCode::UserDeactivated),
    );
    rec.wait("the session-expired notice", |e| {
        matches!(e, Event::SessionExpired(_))
    });

    // FAILED x disconnect(): no-op (a DISCONNECTED event would precede the next CONNECTING).
    alice.disconnect();
    // FAILED x connect(): attempt now; still refused, and never CONNECTED without an accept.
    alice.connect().unwrap();
    let (j, c) = rec.wait_state(i, S::Connecting);
    assert_eq!(c.previous, S::Failed);
    assert_eq!(c.reason, Reason::ConnectRequested);
    let (j, _) = rec.wait_state(j, S::Failed);

    let (s, v) = server.rest(reqwest::Method::POST, "/v1/users/alice/activate", None);
    assert_eq!(s, 200, "{v}");
    alice.connect().unwrap();
    rec.wait_state(j, S::Connected);
    assert_eq!(
        rec.states(),
        [
            S::Connecting,
            S::Connected,
            S::Failed,
            S::Connecting,
            S::Failed,
            S::Connecting,
            S::Connected
        ]
    );
    rec.assert_state_chain();
}

#[test]
fn a_hundred_concurrent_connects_open_one_socket() {
    let server = Server::start();
    server.create_user("alice");
    let proxy = Proxy::start(&server.url);
    let (alice, rec) = logged_in_manual(&server, &proxy.url(), "alice");
    let alice = Arc::new(alice);
    let barrier = Arc::new(Barrier::new(100));
    let threads: Vec<_> = (0..100)
        .map(|_| {
            let (a, b) = (alice.clone(), barrier.clone());
            std::thread::spawn(move || {
                b.wait();
                a.connect().unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    rec.wait_state(0, S::Connected);
    rec.expect_none(
        0,
        "another state event",
        QUIET,
        |e| matches!(e, Event::State(s) if !matches!(s.current, S::Connecting | S::Connected)),
    );
    assert_eq!(rec.states(), [S::Connecting, S::Connected]);
    assert_eq!(proxy.upgrades(), 1);
    rec.assert_state_chain();
}

#[test]
fn connect_and_disconnect_from_inside_callbacks() {
    let server = Server::start();
    server.create_user("alice");
    let (alice, rec) = new_client(&server, server.settings());
    let alice = Arc::new(alice);
    let weak = Arc::downgrade(&alice);
    let connected = Arc::new(AtomicUsize::new(0));
    let n = connected.clone();
    alice
        .add_listener(
            ListenerKind::Connection,
            "reentrant",
            Box::new(move |e: &Event| {
                let Some(me) = weak.upgrade() else { return };
                assert!(me.in_callback());
                match e {
                    Event::State(s)
                        if s.current == S::Connected && n.fetch_add(1, Ordering::SeqCst) == 0 =>
                    {
                        me.disconnect();
                    }
                    Event::State(s)
                        if s.current == S::Disconnected
                            && s.reason == Reason::DisconnectRequested =>
                    {
                        me.connect().unwrap();
                    }
                    _ => {}
                }
            }),
        )
        .unwrap();
    login(&alice, "alice");
    rec.wait_count("two CONNECTED", 2, |e| is_state(e, S::Connected));
    assert_eq!(
        rec.states(),
        [
            S::Connecting,
            S::Connected,
            S::Disconnected,
            S::Connecting,
            S::Connected
        ]
    );
    rec.assert_state_chain();
}

#[test]
fn background_closes_after_the_grace_and_foreground_reconnects() {
    let server = Server::start();
    server.create_user("alice");
    let mut s = server.settings();
    s.timings.background_grace = Duration::from_millis(200);
    let (alice, rec) = new_client(&server, s);
    login_connected(&alice, &rec, "alice");

    let start = std::time::Instant::now();
    alice.app_state_changed(false);
    let (i, d) = rec.wait_state(0, S::Disconnected);
    assert_eq!(d.reason, Reason::AppState);
    assert!(rec.timed()[i].0 - start >= Duration::from_millis(200));

    alice.app_state_changed(true);
    let (j, c) = rec.wait_state(i, S::Connecting);
    assert_eq!(c.reason, Reason::AppState);
    rec.wait_state(j, S::Connected);
    rec.assert_state_chain();
}

#[test]
fn manual_mode_keeps_the_connection_up_after_connect() {
    let server = Server::start();
    server.create_user("alice");
    let proxy = Proxy::start(&server.url);
    let (alice, rec) = logged_in_manual(&server, &proxy.url(), "alice");
    alice.connect().unwrap();
    let (i, _) = rec.wait_state(0, S::Connected);
    proxy.reset();
    let (j, r) = rec.wait_state(i, S::Reconnecting);
    assert_eq!(r.reason, Reason::ConnectionLost);
    rec.wait_state(j, S::Connected);
    assert_eq!(
        rec.states(),
        [
            S::Connecting,
            S::Connected,
            S::Reconnecting,
            S::Connecting,
            S::Connected
        ]
    );
    rec.assert_state_chain();
}
