//! Staying connected (behaviour.md section 4) under faults injected by the proxy: heartbeat
//! bound, backoff bounds and jitter, the attempt timeout, auth failures without retries,
//! platform hints, a server restart, and hostile server frames.

mod common;

use std::time::{Duration, Instant};

use chinwag::{
    ConnectionState as S, ErrorCode, Event, ListenerKind, LogLevel, Reason, Settings, StateChange,
    Timings,
};
use common::proxy::{ws_close_frame, ws_text_frame, Proxy};
use common::*;

const QUIET: Duration = Duration::from_millis(600);

fn manual(mut s: Settings) -> Settings {
    s.auto_connect = false;
    s
}

#[test]
fn heartbeat_silence_leaves_connected_within_the_bound_and_recovers() {
    let mut cfg = Server::config();
    cfg.ping_interval = Duration::from_millis(200);
    cfg.heartbeat_grace = Duration::from_secs(1);
    let server = Server::with(cfg);
    server.create_user("alice");
    let proxy = Proxy::start(&server.url);
    let mut s = server.settings_via(&proxy.url());
    s.timings.heartbeat_grace = Duration::from_millis(1000);
    s.timings.connect_timeout = Duration::from_secs(2);
    let bound = Duration::from_millis(200 + 1000);
    let (alice, rec) = new_client(&server, s);
    login_connected(&alice, &rec, "alice");

    // The server's pings keep an idle socket alive well past the bound.
    rec.expect_none(
        0,
        "a drop while pings flow",
        Duration::from_millis(1500),
        |e| is_state(e, S::Reconnecting),
    );

    let mark = rec.len();
    let silenced = Instant::now();
    proxy.blackhole();
    let (i, r) = rec.wait_state(mark, S::Reconnecting);
    let left = rec.timed()[i].0 - silenced;
    assert_eq!(r.previous, S::Connected);
    assert_eq!(r.reason, Reason::ConnectionLost);
    // The last ping came at most one interval (200 ms) before the blackhole.
    assert!(
        left >= Duration::from_millis(800),
        "dropped after {left:?}, before the bound"
    );
    // Far below the 30 s default: the advertised interval and the grace are what count.
    assert!(
        left <= bound + Duration::from_millis(1500),
        "dropped after {left:?}; bound {bound:?}"
    );

    proxy.heal();
    rec.wait_state(i, S::Connected);
    rec.assert_state_chain();
}

/// Checks every RECONNECTING/SUSPENDED delay against the backoff of section 4, replaying the
/// attempt counter from the events: a drop of an established connection waits
/// U(0, first_retry_max); failed attempt n waits base + U(0, min(cap, base * 2^n)); connect()
/// resets the counter. Returns the number of counter resets seen after >= 4 failures.
fn check_backoff(changes: &[StateChange], t: &Timings) -> usize {
    let ms = |d: Duration| d.as_millis() as u64;
    let mut n: u32 = 0;
    let mut resets_after_growth = 0;
    for c in changes {
        match (c.current, c.reason) {
            (S::Connecting, Reason::ConnectRequested | Reason::NetworkChanged) => {
                if n >= 4 {
                    resets_after_growth += 1;
                }
                n = 0;
            }
            (S::Reconnecting, _) => {
                let retry = c.retry_in_ms.expect("RECONNECTING names its retry");
                if c.previous == S::Connected {
                    assert!(
                        retry <= ms(t.first_retry_max),
                        "first retry after a drop: {c:?}"
                    );
                } else {
                    n += 1;
                    let span = (t.backoff_base * 2u32.pow(n.min(20))).min(t.backoff_cap);
                    assert!(
                        retry >= ms(t.backoff_base) && retry <= ms(t.backoff_base + span),
                        "attempt {n}: {c:?} outside [{:?}, {:?}]",
                        t.backoff_base,
                        t.backoff_base + span
                    );
                }
            }
            _ => {}
        }
    }
    resets_after_growth
}

#[test]
fn retry_delays_follow_the_backoff_and_connect_resets_the_counter() {
    let server = Server::start();
    server.create_user("alice");
    let proxy = Proxy::start(&server.url);
    let mut s = server.settings_via(&proxy.url());
    s.timings.first_retry_max = Duration::from_millis(50);
    s.timings.backoff_base = Duration::from_millis(20);
    s.timings.backoff_cap = Duration::from_secs(2);
    let timings = s.timings.clone();
    let (alice, rec) = new_client(&server, s);
    login_connected(&alice, &rec, "alice");

    proxy.refuse(true);
    let start = Instant::now();
    proxy.reset();
    // Each round: let the counter grow to >= 4 failures, then connect() from RECONNECTING.
    // A connect() that lands while an attempt already runs is a no-op (that round does not
    // count); one that lands in RECONNECTING shows as CONNECTING with CONNECT_REQUESTED.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut from = 0;
    while check_backoff(&rec.changes(), &timings) < 3 {
        assert!(Instant::now() < deadline, "{:#?}", rec.changes());
        let mut failures = 0;
        let mut i = from;
        while failures < 4 {
            let (j, r) = rec.wait_state(i, S::Reconnecting);
            if r.previous == S::Connecting {
                failures += 1;
            }
            i = j + 1;
        }
        alice.connect().unwrap();
        // Wait until the attempt after this connect() (or the timer's, if connect() came
        // too late to matter) has failed too.
        let (j, _) = rec.wait_state(i, S::Connecting);
        let (j, _) = rec.wait_state(j, S::Reconnecting);
        from = j + 1;
    }
    check_backoff(&rec.changes(), &timings);

    // A failure that happens at once still waits its delay before the next attempt: the
    // waits run one after another, so the last timer attempt comes after all of them.
    let timed: Vec<_> = rec
        .timed()
        .into_iter()
        .filter_map(|(t, e)| match e {
            Event::State(s) => Some((t, s)),
            _ => None,
        })
        .collect();
    let (mut promised, mut last_timer_attempt) = (Duration::ZERO, None);
    for w in timed.windows(2) {
        let ((_, a), (t1, b)) = (&w[0], &w[1]);
        if a.current == S::Reconnecting && b.reason == Reason::RetryTimer {
            promised += Duration::from_millis(a.retry_in_ms.unwrap());
            last_timer_attempt = Some(*t1);
        }
    }
    let waited = last_timer_attempt.expect("timer attempts") - start;
    assert!(
        waited >= promised,
        "{waited:?} for {promised:?} of promised delays"
    );
    rec.assert_state_chain();

    proxy.refuse(false);
    alice.connect().unwrap();
    rec.wait_from(from, "CONNECTED again", |e| is_state(e, S::Connected));
}

#[test]
fn clients_failing_together_retry_at_different_times() {
    let server = Server::start();
    server.create_user("alice");
    let proxy = Proxy::start(&server.url);
    let mut s = manual(server.settings_via(&proxy.url()));
    s.timings.backoff_base = Duration::from_millis(20);
    s.timings.backoff_cap = Duration::from_millis(400);
    let (a, ra) = new_client(&server, s.clone());
    let (b, rb) = new_client(&server, s);
    login(&a, "alice");
    login(&b, "alice");
    proxy.refuse(true);
    a.connect().unwrap();
    b.connect().unwrap();
    let delays = |r: &Recorder| -> Vec<u64> {
        r.wait_count("5 failed attempts", 5, |e| is_state(e, S::Reconnecting));
        r.changes()
            .iter()
            .filter(|c| c.current == S::Reconnecting)
            .take(5)
            .map(|c| c.retry_in_ms.unwrap())
            .collect()
    };
    let (da, db) = (delays(&ra), delays(&rb));
    assert_ne!(da, db, "two clients retried in lockstep: no jitter");
    for d in da.iter().chain(&db) {
        assert!((20..=420).contains(d), "{da:?} {db:?}");
    }
}

#[test]
fn an_attempt_without_the_accept_times_out() {
    let server = Server::start();
    server.create_user("alice");
    let proxy = Proxy::start(&server.url);
    // The SDK's REST calls share the attempt timeout: log in with the default one, then
    // restore the session into a client with a short attempt timeout.
    let store = RecordingStore::default();
    let with_store = |s: Settings| {
        let c = chinwag::Client::init(
            APP_ID,
            s,
            chinwag::InitOptions {
                store: Some(store.boxed()),
                ..Default::default()
            },
        )
        .unwrap();
        let r = Recorder::default();
        r.attach(&c);
        (c, r)
    };
    {
        let (first, _) = with_store(manual(server.settings_via(&proxy.url())));
        login(&first, "alice");
    }
    let mut s = manual(server.settings_via(&proxy.url()));
    s.timings.connect_timeout = Duration::from_millis(400);
    let (alice, rec) = with_store(s);
    assert!(alice.logged_in_user().is_some());

    proxy.hold_after_upgrade(true);
    let start = Instant::now();
    alice.connect().unwrap();
    let (i, _) = rec.wait_state(0, S::Connecting);
    let (j, r) = rec.wait_state(i, S::Reconnecting);
    assert_eq!(r.previous, S::Connecting);
    assert_eq!(r.reason, Reason::AttemptFailed);
    let took = rec.timed()[j].0 - start;
    assert!(
        took >= Duration::from_millis(400) && took <= Duration::from_secs(4),
        "{took:?}"
    );
    assert!(proxy.upgrades() >= 1, "the socket itself had opened");
    proxy.heal();
    rec.wait_state(j, S::Connected);
    rec.assert_state_chain();
}

#[test]
fn a_revoked_token_fails_without_retrying() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let (alice, rec) = new_client(&server, server.settings());
    login_connected(&alice, &rec, "alice");

    server.revoke_tokens("alice");
    let (i, f) = rec.wait_state(0, S::Failed);
    assert_eq!(f.previous, S::Connected);
    assert_eq!(f.reason, Reason::AuthRejected);
    assert!(f.retry_in_ms.is_none());
    rec.wait(
        "on_connection_error",
        |e| matches!(e, Event::ConnectionError(err) if err.code == ErrorCode::SessionExpired),
    );
    rec.wait("the session-expired notice", |e| {
        matches!(e, Event::SessionExpired(_))
    });
    // With 20-200 ms backoff a retry loop would show many attempts in this time.
    rec.expect_none(
        i + 1,
        "a retry after the token was revoked",
        Duration::from_secs(1),
        |e| matches!(e, Event::State(_)),
    );
    assert_eq!(alice.connection_state(), S::Failed);
    assert_eq!(
        alice.logged_in_user().map(|u| u.uid).as_deref(),
        Some("alice"),
        "the session is kept until the app logs out or in"
    );
    let err = send(&alice, "bob", "hi")
        .recv_timeout(WAIT)
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotConnected);

    // connect() tries once more and fails the same way, again without a loop.
    alice.connect().unwrap();
    let (j, _) = rec.wait_state(i, S::Connecting);
    let (j, f) = rec.wait_state(j, S::Failed);
    assert_eq!(f.reason, Reason::AuthRejected);
    rec.expect_none(j + 1, "a retry", QUIET, |e| matches!(e, Event::State(_)));
    assert_eq!(
        rec.states(),
        [
            S::Connecting,
            S::Connected,
            S::Failed,
            S::Connecting,
            S::Failed
        ]
    );
    rec.assert_state_chain();
}

#[test]
fn network_down_drops_now_and_reconnects() {
    let server = Server::start();
    server.create_user("alice");
    let mut s = server.settings();
    s.timings.hint_coalesce = Duration::from_secs(5);
    let (alice, rec) = new_client(&server, s);
    login_connected(&alice, &rec, "alice");

    alice.network_changed(false);
    let (i, r) = rec.wait_state(0, S::Reconnecting);
    assert_eq!(r.previous, S::Connected);
    assert_eq!(r.reason, Reason::NetworkChanged);
    let (i, _) = rec.wait_state(i, S::Connected);
    // The same hint again within the coalescing window counts once.
    alice.network_changed(false);
    rec.expect_none(i, "a second drop for a coalesced hint", QUIET, |e| {
        is_state(e, S::Reconnecting)
    });
    rec.assert_state_chain();
}

#[test]
fn network_up_probes_a_connected_socket() {
    let server = Server::start();
    server.create_user("alice");
    let proxy = Proxy::start(&server.url);
    let mut s = server.settings_via(&proxy.url());
    s.timings.probe_timeout = Duration::from_millis(300);
    s.timings.hint_coalesce = Duration::ZERO;
    s.timings.connect_timeout = Duration::from_secs(2);
    let (alice, rec) = new_client(&server, s);
    login_connected(&alice, &rec, "alice");

    // A healthy socket answers the probe: nothing happens.
    alice.network_changed(true);
    rec.expect_none(
        0,
        "a drop after an answered probe",
        Duration::from_millis(900),
        |e| is_state(e, S::Reconnecting),
    );

    // A dead one does not: dropped after the probe timeout, long before the heartbeat bound
    // (20 s + 10 s here).
    let mark = rec.len();
    proxy.blackhole();
    let probed = Instant::now();
    alice.network_changed(true);
    let (i, r) = rec.wait_state(mark, S::Reconnecting);
    assert_eq!(r.reason, Reason::NetworkChanged);
    let took = rec.timed()[i].0 - probed;
    assert!(
        took >= Duration::from_millis(250) && took <= Duration::from_secs(2),
        "{took:?}"
    );
    proxy.heal();
    rec.wait_state(i, S::Connected);
    rec.assert_state_chain();
}

#[test]
fn network_up_while_reconnecting_attempts_now() {
    let server = Server::start();
    server.create_user("alice");
    let proxy = Proxy::start(&server.url);
    let mut s = manual(server.settings_via(&proxy.url()));
    s.timings.backoff_base = Duration::from_secs(30);
    let (alice, rec) = new_client(&server, s);
    login(&alice, "alice");
    proxy.refuse(true);
    alice.connect().unwrap();
    let (i, r) = rec.wait_state(0, S::Reconnecting);
    assert!(r.retry_in_ms.unwrap() >= 30_000);
    proxy.refuse(false);
    alice.network_changed(true);
    let (i, c) = rec.wait_state(i, S::Connecting);
    assert_eq!(c.reason, Reason::NetworkChanged);
    rec.wait_state(i, S::Connected);
    rec.assert_state_chain();
}

#[test]
fn server_restart_reconnects_by_itself_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::with_db_in(dir.path(), Server::config());
    let mut config = server.config.clone();
    config.listen = server.addr();
    server.create_user("alice");
    server.create_user("bob");
    let (alice, ra) = new_client(&server, server.settings());
    let (bob, rb) = new_client(&server, server.settings());
    login_connected(&alice, &ra, "alice");
    login_connected(&bob, &rb, "bob");

    let before: Vec<_> = (0..30)
        .map(|n| send(&bob, "alice", &format!("m{n}")))
        .collect();
    for rx in before {
        rx.recv_timeout(WAIT).unwrap().unwrap();
    }
    let mark = ra.len();
    server.stop();
    let (i, r) = ra.wait_state(mark, S::Reconnecting);
    assert_eq!(r.reason, Reason::ServerRestart);
    // Sent while the server is down: they wait in bob's queue.
    let during: Vec<_> = (30..50)
        .map(|n| send(&bob, "alice", &format!("m{n}")))
        .collect();
    server.restart_on(config);
    for rx in during {
        rx.recv_timeout(WAIT).unwrap().unwrap();
    }
    ra.wait_state(i, S::Connected);
    ra.wait_count("50 messages", 50, is_message);
    let last = ra.index_of_nth(50, is_message).unwrap();
    ra.expect_none(last + 1, "a 51st message", QUIET, is_message);
    let expected: Vec<String> = (0..50).map(|n| format!("m{n}")).collect();
    assert_eq!(texts(&ra.messages()), expected);
    assert_eq!(texts(&server.history("alice", "bob")), expected);
    ra.assert_state_chain();
    rb.assert_state_chain();
}

#[test]
fn a_malformed_server_frame_is_logged_and_answered_by_reconnecting() {
    let server = Server::start();
    server.create_user("alice");
    let proxy = Proxy::start(&server.url);
    let (alice, rec) = new_client(&server, server.settings_via(&proxy.url()));
    alice
        .add_listener(ListenerKind::Log, "rec", rec.listener())
        .unwrap();
    login_connected(&alice, &rec, "alice");

    let mark = rec.len();
    assert_eq!(
        proxy.inject_down(&ws_text_frame("{\"type\":\"no such frame\"")),
        1
    );
    rec.wait_from(mark, "a log record about the frame", |e| {
        matches!(
            e,
            Event::Log {
                level: LogLevel::Warn | LogLevel::Error,
                ..
            }
        )
    });
    let (i, r) = rec.wait_state(mark, S::Reconnecting);
    assert_eq!(r.previous, S::Connected);
    let (i, _) = rec.wait_state(i, S::Connected);

    // Bytes that are not even a WebSocket frame: the same, no crash.
    assert_eq!(proxy.inject_down(&[0xff; 16]), 1);
    let (i, _) = rec.wait_state(i, S::Reconnecting);
    rec.wait_state(i, S::Connected);
    // Still usable.
    server.create_user("bob");
    send(&alice, "bob", "still here")
        .recv_timeout(WAIT)
        .unwrap()
        .unwrap();
    rec.assert_state_chain();
}

#[test]
fn the_servers_longer_delay_wins() {
    let server = Server::start();
    server.create_user("alice");
    let proxy = Proxy::start(&server.url);
    let (alice, rec) = new_client(&server, server.settings_via(&proxy.url()));
    login_connected(&alice, &rec, "alice");

    // A close code with a delay: 4100, the reason in milliseconds.
    let mark = rec.len();
    let start = Instant::now();
    assert_eq!(proxy.inject_down(&ws_close_frame(4100, "800")), 1);
    let (i, r) = rec.wait_state(mark, S::Reconnecting);
    let retry = r.retry_in_ms.unwrap();
    assert!((800..=850).contains(&retry), "{r:?}");
    let (j, _) = rec.wait_state(i, S::Connecting);
    assert!(rec.timed()[j].0 - start >= Duration::from_millis(800));
    let (j, _) = rec.wait_state(j, S::Connected);

    // HTTP 503 with Retry-After on the upgrade (whole seconds).
    proxy.answer_new(Some(
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .to_vec(),
    ));
    let start = Instant::now();
    proxy.reset();
    let (k, r) = rec.wait_from(j, "a failed attempt", |e| {
        matches!(e, Event::State(s) if s.current == S::Reconnecting && s.previous == S::Connecting)
    });
    let Event::State(r) = r else { unreachable!() };
    let retry = r.retry_in_ms.unwrap();
    assert!((1000..=1060).contains(&retry), "{r:?}");
    proxy.answer_new(None);
    let (l, _) = rec.wait_state(k, S::Connecting);
    assert!(rec.timed()[l].0 - start >= Duration::from_millis(1000));
    rec.wait_state(l, S::Connected);
    rec.assert_state_chain();
}

#[test]
fn the_attempt_counter_resets_after_a_stable_connection() {
    let server = Server::start();
    server.create_user("alice");
    let proxy = Proxy::start(&server.url);
    let mut s = manual(server.settings_via(&proxy.url()));
    s.timings.first_retry_max = Duration::from_millis(50);
    s.timings.backoff_base = Duration::from_millis(20);
    s.timings.backoff_cap = Duration::from_secs(2);
    s.timings.stable_after = Duration::from_millis(300);
    let (alice, rec) = new_client(&server, s);
    login(&alice, "alice");

    proxy.refuse(true);
    alice.connect().unwrap();
    rec.wait_count("5 failed attempts", 5, |e| is_state(e, S::Reconnecting));
    // The retry timer (not connect()) brings it back: the counter stands at 5 or more.
    proxy.refuse(false);
    let (c, _) = rec.wait_state(0, S::Connected);
    // Longer than stable_after connected.
    rec.expect_none(c + 1, "a drop", Duration::from_millis(600), |e| {
        matches!(e, Event::State(_))
    });

    proxy.refuse(true);
    proxy.reset();
    let (i, first) = rec.wait_state(c, S::Reconnecting);
    assert!(first.retry_in_ms.unwrap() <= 50, "{first:?}");
    let mut from = i + 1;
    for (n, max) in [(1, 60u64), (2, 100)] {
        let (j, r) = rec.wait_state(from, S::Reconnecting);
        let retry = r.retry_in_ms.unwrap();
        assert!(
            (20..=max).contains(&retry),
            "attempt {n} after a stable connection: {r:?} (the counter did not reset)"
        );
        from = j + 1;
    }
    proxy.refuse(false);
    rec.wait_state(from, S::Connected);
}

#[test]
fn an_app_mismatch_fails_without_retrying() {
    let server = Server::start();
    server.create_user("alice");
    let token = server.mint_token("alice");
    let (s, v) = server.rest(reqwest::Method::GET, "/v1/users/alice", None);
    assert_eq!(s, 200, "{v}");
    let store = RecordingStore::default();
    chinwag::SessionStore::save(
        &store,
        &chinwag::SavedSession {
            app_id: "other-app".into(),
            user: serde_json::from_value(v).unwrap(),
            token,
            last_seq: None,
        },
        true,
    )
    .unwrap();
    let client = chinwag::Client::init(
        "other-app",
        manual(server.settings()),
        chinwag::InitOptions {
            store: Some(store.boxed()),
            ..Default::default()
        },
    )
    .unwrap();
    let rec = Recorder::default();
    rec.attach(&client);
    assert_eq!(
        client.logged_in_user().map(|u| u.uid).as_deref(),
        Some("alice")
    );
    client.connect().unwrap();
    let (i, f) = rec.wait_state(0, S::Failed);
    assert_eq!(f.reason, Reason::ProtocolMismatch);
    rec.wait(
        "the connection error",
        |e| matches!(e, Event::ConnectionError(err) if err.code == ErrorCode::AppMismatch),
    );
    rec.expect_none(i + 1, "a retry", Duration::from_secs(1), |e| {
        matches!(e, Event::State(_))
    });
    assert!(!rec
        .events()
        .iter()
        .any(|e| matches!(e, Event::SessionExpired(_))));
    assert_eq!(rec.states(), [S::Connecting, S::Failed]);
}
