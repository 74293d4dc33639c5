//! Nothing lost, nothing twice (behaviour.md section 5) and the disconnect() promise of
//! section 3, over real sockets with faults from the proxy.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chinwag::protocol::frames::Feature;
use chinwag::protocol::model::{PresenceSubscription, ReceiverType, UserStatus};
use chinwag::{Client, ConnectionState as S, ErrorCode, Event, InitOptions, ListenerKind};
use chinwag_server::FeatureLimit;
use common::proxy::Proxy;
use common::*;

const QUIET: Duration = Duration::from_millis(600);

fn expected(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|n| format!("{prefix}{n}")).collect()
}

/// Every message once, in order, and none after the last.
fn assert_exactly(rec: &Recorder, want: &[String]) {
    rec.wait_count("all messages", want.len(), is_message);
    let last = rec.index_of_nth(want.len(), is_message).unwrap();
    rec.expect_none(last + 1, "a message too many", QUIET, is_message);
    let got = rec.messages();
    assert_eq!(texts(&got), want);
    assert!(
        got.windows(2).all(|w| w[0].id < w[1].id),
        "ids not increasing"
    );
}

#[test]
fn resume_across_resets_delivers_each_message_once_in_order() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let proxy = Proxy::start(&server.url);
    let (alice, ra) = new_client(&server, server.settings_via(&proxy.url()));
    let (bob, rb) = new_client(&server, server.settings());
    login_connected(&alice, &ra, "alice");
    login_connected(&bob, &rb, "bob");

    for round in 0..5 {
        ra.wait_count("alice connected", round + 1, |e| is_state(e, S::Connected));
        let sends: Vec<_> = (0..40)
            .map(|k| {
                if k == 20 {
                    assert!(proxy.reset() >= 1);
                }
                send(&bob, "alice", &format!("m{}", round * 40 + k))
            })
            .collect();
        for rx in sends {
            rx.recv_timeout(WAIT).unwrap().unwrap();
        }
    }
    assert_exactly(&ra, &expected("m", 0..200));
    let drops = ra
        .changes()
        .iter()
        .filter(|c| c.current == S::Reconnecting && c.previous == S::Connected)
        .count();
    assert!(drops >= 5, "only {drops} drops");
    ra.assert_state_chain();
}

#[test]
fn lost_acks_are_resent_with_the_same_muid_and_stored_once() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let proxy = Proxy::start(&server.url);
    let (alice, ra) = new_client(&server, server.settings_via(&proxy.url()));
    let (bob, rb) = new_client(&server, server.settings());
    login_connected(&alice, &ra, "alice");
    login_connected(&bob, &rb, "bob");

    // Sends reach the server; its acks do not come back.
    proxy.blackhole_down();
    let mark = ra.len();
    let sent: Vec<(String, _)> = (0..20)
        .map(|n| {
            let (done, rx) = completion();
            let muid = alice
                .send_text(ReceiverType::User, "bob", &format!("a{n}"), Some(done))
                .unwrap();
            (muid, rx)
        })
        .collect();
    rb.wait_count("bob gets the 20", 20, is_message);
    for (_, rx) in &sent {
        assert_eq!(rx.try_recv().unwrap_err(), TryRecvError::Empty);
    }
    // The socket dies with the acks (the heartbeat would do it too; tested on its own); the
    // next socket resends what was not acked, with the same muids.
    proxy.reset();
    proxy.heal();
    let (i, _) = ra.wait_state(mark, S::Reconnecting);
    ra.wait_state(i, S::Connected);

    let mut ids = Vec::new();
    for (n, (muid, rx)) in sent.iter().enumerate() {
        let m = rx.recv_timeout(WAIT).unwrap().unwrap();
        assert_eq!(&m.muid, muid);
        assert_eq!(m.text.as_deref(), Some(format!("a{n}").as_str()));
        ids.push(m.id);
        // Exactly one completion: the callback ran and was consumed.
        assert_eq!(
            rx.recv_timeout(WAIT).unwrap_err(),
            RecvTimeoutError::Disconnected
        );
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "order kept: {ids:?}");

    let history = server.history("alice", "bob");
    assert_eq!(texts(&history), expected("a", 0..20));
    let muids: Vec<&String> = history.iter().map(|m| &m.muid).collect();
    let want: Vec<&String> = sent.iter().map(|(m, _)| m).collect();
    assert_eq!(muids, want, "each muid stored once, in order");
    assert_exactly(&rb, &expected("a", 0..20));
    // The replay that answered the lost acks is not echoed to the sender.
    let echoes = ra
        .events()
        .into_iter()
        .filter(|e| matches!(e, chinwag::Event::Message(_)))
        .count();
    assert_eq!(
        echoes, 0,
        "own messages are not echoed to the sending client"
    );
    ra.assert_state_chain();
}

#[test]
fn a_full_queue_fails_the_new_send_at_once_and_keeps_order() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let proxy = Proxy::start(&server.url);
    let mut s = server.settings_via(&proxy.url());
    s.auto_connect = false;
    s.queue_capacity = 3;
    let (alice, ra) = new_client(&server, s);
    let (bob, rb) = new_client(&server, server.settings());
    login(&alice, "alice");
    login_connected(&bob, &rb, "bob");

    proxy.blackhole();
    alice.connect().unwrap();
    ra.wait_state(0, S::Connecting);
    let queued: Vec<_> = (0..3)
        .map(|n| send(&alice, "bob", &format!("q{n}")))
        .collect();
    let err = send(&alice, "bob", "one too many")
        .recv_timeout(WAIT)
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::QueueFull, "{err}");
    for rx in &queued {
        assert_eq!(rx.try_recv().unwrap_err(), TryRecvError::Empty);
    }
    assert_eq!(alice.connection_state(), S::Connecting);

    proxy.heal();
    let ids: Vec<i64> = queued
        .iter()
        .map(|rx| rx.recv_timeout(WAIT).unwrap().unwrap().id)
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_exactly(&rb, &expected("q", 0..3));
}

#[test]
fn disconnect_inside_a_message_callback_stops_delivery_and_connect_replays_the_rest() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let (alice, ra) = new_client(&server, server.settings());
    let (bob, rb) = new_client(&server, server.settings());
    login_connected(&alice, &ra, "alice");
    login_connected(&bob, &rb, "bob");

    let alice = Arc::new(alice);
    let weak = Arc::downgrade(&alice);
    let seen = Arc::new(AtomicUsize::new(0));
    let (n, rec) = (seen.clone(), ra.clone());
    alice
        .add_listener(
            ListenerKind::Message,
            "stopper",
            Box::new(move |e: &Event| {
                if is_message(e) && n.fetch_add(1, Ordering::SeqCst) + 1 == 50 {
                    if let Some(me) = weak.upgrade() {
                        me.disconnect();
                        rec.mark("disconnect() returned");
                    }
                }
            }),
        )
        .unwrap();

    let sends: Vec<_> = (0..200)
        .map(|n| send(&bob, "alice", &format!("m{n}")))
        .collect();
    for rx in sends {
        rx.recv_timeout(WAIT).unwrap().unwrap();
    }
    let (d, _) = ra.wait_state(0, S::Disconnected);
    let marker = ra
        .wait_from(0, "the marker", |e| {
            matches!(e, Event::Log { target: "test", .. })
        })
        .0;
    ra.expect_none(
        marker + 1,
        "a message callback after disconnect()",
        QUIET,
        is_message,
    );
    assert!(
        d > marker,
        "DISCONNECTED is still delivered after the marker"
    );
    assert_eq!(ra.messages().len(), 50);

    alice.connect().unwrap();
    ra.wait_state(d, S::Connected);
    assert_exactly(&ra, &expected("m", 0..200));
    ra.assert_state_chain();
}

/// A listener that blocks at the `at`-th message until the test opens the gate (a slow app).
fn gate(client: &Client, at: usize) -> std::sync::mpsc::Sender<()> {
    let (open, wait) = std::sync::mpsc::channel::<()>();
    let wait = Mutex::new(wait);
    let n = AtomicUsize::new(0);
    client
        .add_listener(
            ListenerKind::Message,
            "gate",
            Box::new(move |e: &Event| {
                if is_message(e) && n.fetch_add(1, Ordering::SeqCst) + 1 == at {
                    let _ = wait.lock().unwrap().recv_timeout(WAIT);
                }
            }),
        )
        .unwrap();
    open
}

#[test]
fn disconnect_from_another_thread_while_a_callback_runs() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let (alice, ra) = new_client(&server, server.settings());
    let (bob, rb) = new_client(&server, server.settings());
    login_connected(&alice, &ra, "alice");
    login_connected(&bob, &rb, "bob");
    let open = gate(&alice, 20);

    let sends: Vec<_> = (0..100)
        .map(|n| send(&bob, "alice", &format!("m{n}")))
        .collect();
    for rx in sends {
        rx.recv_timeout(WAIT).unwrap().unwrap();
    }
    ra.wait_count("20 messages", 20, is_message);
    // Message 20's callbacks are running (the gate holds them); 21-100 are queued behind.
    alice.disconnect();
    let marker = ra.mark("disconnect() returned");
    open.send(()).unwrap();
    let (d, _) = ra.wait_state(0, S::Disconnected);
    ra.expect_none(
        marker + 1,
        "a message callback after disconnect()",
        QUIET,
        is_message,
    );
    assert_eq!(ra.messages().len(), 20);

    alice.connect().unwrap();
    ra.wait_state(d, S::Connected);
    assert_exactly(&ra, &expected("m", 0..100));
}

#[test]
fn disconnect_with_a_backlog_and_own_acks_loses_nothing() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let store = RecordingStore::default();
    let alice = Client::init(
        APP_ID,
        server.settings(),
        InitOptions {
            store: Some(store.boxed()),
            ..Default::default()
        },
    )
    .unwrap();
    let ra = Recorder::default();
    ra.attach(&alice);
    let (bob, rb) = new_client(&server, server.settings());
    login_connected(&alice, &ra, "alice");
    login_connected(&bob, &rb, "bob");
    let base = store.session().unwrap().last_seq.unwrap_or(0);
    let open = gate(&alice, 1);

    // Bob's 50 messages reach alice's client; the app is still busy with the first.
    let sends: Vec<_> = (0..50)
        .map(|n| send(&bob, "alice", &format!("b{n}")))
        .collect();
    for rx in sends {
        rx.recv_timeout(WAIT).unwrap().unwrap();
    }
    ra.wait_count("the first message", 1, is_message);
    // Alice's own send is acked with a later sequence than all 50.
    let own = send(&alice, "bob", "mine");
    rb.wait("bob gets alice's message", is_message);

    // What the app has seen is message 1; a saved position past it would lose 2..50 if the
    // app died now.
    let ahead = store.wait_save(QUIET, |p| p.unwrap_or(0) > base + 1);
    assert!(
        !ahead,
        "resume position saved ahead of what the app has seen: {:?} (base {base})",
        store.saved_positions()
    );

    alice.disconnect();
    let marker = ra.mark("disconnect() returned");
    open.send(()).unwrap();
    own.recv_timeout(WAIT).unwrap().unwrap();
    let (d, _) = ra.wait_state(0, S::Disconnected);
    ra.expect_none(
        marker + 1,
        "a message callback after disconnect()",
        QUIET,
        is_message,
    );

    alice.connect().unwrap();
    ra.wait_state(d, S::Connected);
    // Every one of bob's messages exactly once, and alice's own message is not echoed.
    assert_exactly(&ra, &expected("b", 0..50));
    assert!(ra.messages().iter().all(|m| m.sender == "bob"));
}

#[test]
fn a_gap_notice_comes_after_connected_and_before_the_replay() {
    let mut cfg = Server::config();
    cfg.replay_limit = 5;
    let server = Server::with(cfg);
    server.create_user("alice");
    server.create_user("bob");
    let mut s = server.settings();
    s.auto_connect = false;
    let (alice, ra) = new_client(&server, s);
    let (bob, rb) = new_client(&server, server.settings());
    login(&alice, "alice");
    alice.connect().unwrap();
    ra.wait_state(0, S::Connected);
    login_connected(&bob, &rb, "bob");
    alice.disconnect();
    let (d, _) = ra.wait_state(0, S::Disconnected);

    let sends: Vec<_> = (0..12)
        .map(|n| send(&bob, "alice", &format!("m{n}")))
        .collect();
    for rx in sends {
        rx.recv_timeout(WAIT).unwrap().unwrap();
    }
    alice.connect().unwrap();
    ra.wait_count("the replay", 5, is_message);
    let events = ra.events();
    let pos = |p: &dyn Fn(&Event) -> bool| events.iter().skip(d).position(p).map(|i| i + d);
    let connected = pos(&|e| is_state(e, S::Connected)).unwrap();
    let gap = pos(&|e| matches!(e, Event::Gap(_))).expect("a gap notice");
    let first = pos(&|e| is_message(e)).unwrap();
    assert!(
        connected < gap && gap < first,
        "order must be CONNECTED ({connected}), gap ({gap}), replay ({first}): {events:#?}"
    );
    let Event::Gap(g) = &events[gap] else {
        unreachable!()
    };
    assert_eq!((g.from_seq, g.to_seq), (1, 7));
    assert_eq!(
        events.iter().filter(|e| matches!(e, Event::Gap(_))).count(),
        1
    );
    assert_exactly(&ra, &expected("m", 7..12));
}

#[test]
fn remote_typing_ends_when_the_connection_drops() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let proxy = Proxy::start(&server.url);
    let mut s = server.settings_via(&proxy.url());
    s.timings.typing_timeout = Duration::from_secs(60);
    let (alice, ra) = new_client(&server, s);
    let (bob, rb) = new_client(&server, server.settings());
    login_connected(&alice, &ra, "alice");
    login_connected(&bob, &rb, "bob");

    bob.start_typing(ReceiverType::User, "alice").unwrap();
    let (i, _) = ra.wait_from(
        0,
        "bob typing",
        |e| matches!(e, Event::TypingStarted(t) if t.sender == "bob"),
    );
    proxy.reset();
    let (j, _) = ra.wait_from(
        i,
        "bob's typing ended",
        |e| matches!(e, Event::TypingEnded(t) if t.sender == "bob" && t.receiver == "alice"),
    );
    let (c, _) = ra.wait_state(i, S::Connected);
    assert!(
        j < c,
        "ended when the connection dropped, before it was back"
    );
    ra.expect_none(j + 1, "a second typing ended", QUIET, |e| {
        matches!(e, Event::TypingEnded(_))
    });
}

#[test]
fn remote_typing_expires_without_a_refresh() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let mut s = server.settings();
    s.timings.typing_timeout = Duration::from_millis(300);
    let (alice, ra) = new_client(&server, s);
    let (bob, rb) = new_client(&server, server.settings());
    login_connected(&alice, &ra, "alice");
    login_connected(&bob, &rb, "bob");

    let start = std::time::Instant::now();
    bob.start_typing(ReceiverType::User, "alice").unwrap();
    let (i, _) = ra.wait_from(
        0,
        "bob typing",
        |e| matches!(e, Event::TypingStarted(t) if t.sender == "bob"),
    );
    let (j, _) = ra.wait_from(
        i,
        "bob's typing expired",
        |e| matches!(e, Event::TypingEnded(t) if t.sender == "bob"),
    );
    let timed = ra.timed();
    assert!(timed[j].0 - start >= Duration::from_millis(300));
    let took = timed[j].0 - timed[i].0;
    assert!(took <= Duration::from_millis(1500), "{took:?}");
    assert_eq!(alice.connection_state(), S::Connected);
}

#[test]
fn throttled_typing_fails_until_the_server_lifts_it() {
    let mut cfg = Server::config();
    cfg.typing_limit = FeatureLimit {
        limit: 3,
        window: Duration::from_secs(2),
    };
    let server = Server::with(cfg);
    server.create_user("alice");
    server.create_user("bob");
    let (alice, ra) = new_client(&server, server.settings());
    let (bob, rb) = new_client(&server, server.settings());
    login_connected(&alice, &ra, "alice");
    login_connected(&bob, &rb, "bob");

    for _ in 0..10 {
        let _ = alice.start_typing(ReceiverType::User, "bob");
    }
    let (i, _) = ra.wait_from(0, "FeatureThrottled(typing)", |e| {
        matches!(
            e,
            Event::FeatureThrottled {
                feature: Feature::Typing,
                ..
            }
        )
    });
    let err = alice.start_typing(ReceiverType::User, "bob").unwrap_err();
    assert_eq!(err.code, ErrorCode::FeatureThrottled, "{err}");
    let err = alice.end_typing(ReceiverType::User, "bob").unwrap_err();
    assert_eq!(err.code, ErrorCode::FeatureThrottled, "{err}");
    // Durable messages are never throttled.
    send(&alice, "bob", "still sent")
        .recv_timeout(WAIT)
        .unwrap()
        .unwrap();

    ra.wait_from(i, "FeatureUnthrottled(typing)", |e| {
        matches!(
            e,
            Event::FeatureUnthrottled {
                feature: Feature::Typing
            }
        )
    });
    alice.start_typing(ReceiverType::User, "bob").unwrap();
    assert_eq!(alice.connection_state(), S::Connected);
}

#[test]
fn presence_is_sent_again_as_a_snapshot_after_a_reconnect() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let proxy = Proxy::start(&server.url);
    let (bob, rb) = new_client(&server, server.settings());
    login_connected(&bob, &rb, "bob");
    let mut s = server.settings_via(&proxy.url());
    s.presence = PresenceSubscription::AllUsers;
    let (alice, ra) = new_client(&server, s);
    login_connected(&alice, &ra, "alice");
    let bob_online = |e: &Event| matches!(e, Event::Presence(p) if p.uid == "bob" && p.status == UserStatus::Online);
    ra.wait("bob online", bob_online);

    let (c, _) = ra.wait_state(0, S::Connected);
    proxy.reset();
    let (c2, _) = ra.wait_state(c + 1, S::Connected);
    let (p, _) = ra.wait_from(c2, "bob online again", bob_online);
    assert!(p > c2);
}

#[test]
fn typing_and_other_ephemeral_sends_are_never_queued() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let proxy = Proxy::start(&server.url);
    let mut s = server.settings_via(&proxy.url());
    s.auto_connect = false;
    let (alice, ra) = new_client(&server, s);
    login(&alice, "alice");
    for e in [
        alice.start_typing(ReceiverType::User, "bob").unwrap_err(),
        alice
            .send_transient(ReceiverType::User, "bob", serde_json::json!({"x": 1}))
            .unwrap_err(),
        alice
            .mark(chinwag::protocol::model::ReceiptKind::Read, 1)
            .unwrap_err(),
    ] {
        assert_eq!(e.code, ErrorCode::NotConnected, "{e}");
    }
    proxy.blackhole();
    alice.connect().unwrap();
    ra.wait_state(0, S::Connecting);
    let e = alice.start_typing(ReceiverType::User, "bob").unwrap_err();
    assert_eq!(e.code, ErrorCode::NotConnected, "{e}");
}

#[test]
fn disconnect_fails_queued_sends_with_disconnected() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let proxy = Proxy::start(&server.url);
    let mut s = server.settings_via(&proxy.url());
    s.auto_connect = false;
    let (alice, ra) = new_client(&server, s);
    login(&alice, "alice");
    let before = proxy.accepted();
    proxy.blackhole();
    alice.connect().unwrap();
    ra.wait_state(0, S::Connecting);
    proxy.wait_accepted(before + 1);
    let attempt = proxy.newest();
    let queued: Vec<_> = (0..3)
        .map(|n| send(&alice, "bob", &format!("q{n}")))
        .collect();
    alice.disconnect();
    for rx in queued {
        let err = rx.recv_timeout(WAIT).unwrap().unwrap_err();
        assert_eq!(err.code, ErrorCode::Disconnected, "{err}");
    }
    proxy.heal();
    proxy.wait_gone(attempt);
    assert!(server.history("alice", "bob").is_empty());
}
