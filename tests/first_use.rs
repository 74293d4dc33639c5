//! First use as the hosted SDKs' apps know it (issue 19): creating users from the SDK, the
//! logged-in user, listeners added right after init on a restored session, and the position
//! recorded at login (behaviour.md sections 2, 5 and 6).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chinwag::protocol::model::ReceiverType;
use chinwag::protocol::rest::CreateUser;
use chinwag::{Client, ConnectionState as S, ErrorCode, Event, InitOptions, ListenerKind, Reason};
use common::*;
use serde_json::json;

fn new_user(uid: &str) -> CreateUser {
    CreateUser {
        uid: uid.into(),
        name: format!("{uid} the tester"),
        avatar: None,
        role: None,
        metadata: None,
    }
}

#[test]
fn create_user_then_login_and_its_errors() {
    let server = Server::start();
    let (client, _rec) = new_client(&server, server.settings());

    let (done, rx) = completion();
    client
        .create_user(new_user("newbie"), AUTH_KEY, Some(done))
        .unwrap();
    let user = rx.recv_timeout(WAIT).unwrap().unwrap();
    assert_eq!(
        (user.uid.as_str(), user.name.as_str()),
        ("newbie", "newbie the tester")
    );

    // Exists already: its own code, so an app can fall back to login.
    let (done, rx) = completion();
    client
        .create_user(new_user("newbie"), AUTH_KEY, Some(done))
        .unwrap();
    let err = rx.recv_timeout(WAIT).unwrap().unwrap_err();
    assert_eq!(err.code, ErrorCode::UserExists, "{err}");

    // Wrong key.
    let (done, rx) = completion();
    client
        .create_user(new_user("other"), "wrong-key", Some(done))
        .unwrap();
    let err = rx.recv_timeout(WAIT).unwrap().unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthFailed, "{err}");

    // Bad uid, empty name, empty key: at once, nothing sent.
    for (user, key) in [
        (new_user("has space"), AUTH_KEY),
        (new_user(""), AUTH_KEY),
        (new_user(&"x".repeat(101)), AUTH_KEY),
        (
            CreateUser {
                name: " ".into(),
                ..new_user("blank")
            },
            AUTH_KEY,
        ),
        (new_user("nokey"), ""),
    ] {
        let uid = user.uid.clone();
        assert_eq!(
            client.create_user(user, key, None).unwrap_err().code,
            ErrorCode::InvalidArgument,
            "{uid:?}"
        );
    }

    // The created user logs in; the logged-in user is the created one.
    login(&client, "newbie");
    let me = client.logged_in_user().unwrap();
    assert_eq!(me.uid, "newbie");
    assert_eq!(me.name, "newbie the tester");
}

/// Manual mode: a message sent between login and the first connect() arrives once, after
/// CONNECTED, like everything missed after a disconnect.
#[test]
fn manual_mode_first_connect_resumes_from_the_login_position() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let bob_token = server.mint_token("bob");
    let say = |text: &str| {
        let (s, v) = server.rest_as(
            &bob_token,
            reqwest::Method::POST,
            "/v1/messages",
            Some(json!({"receiver_type": "user", "receiver": "alice", "text": text})),
        );
        assert_eq!(s, 201, "{v}");
    };
    // Older history that a fresh login must not replay.
    say("before login");

    let mut settings = server.settings();
    settings.auto_connect = false;
    let (alice, ra) = new_client(&server, settings);
    login(&alice, "alice");
    say("between login and connect");
    assert_eq!(alice.connection_state(), S::Disconnected);
    alice.connect().unwrap();
    let (connected, _) = ra.wait_state(0, S::Connected);
    ra.wait("the message sent before connect", |e| {
        matches!(e, Event::Message(m) if m.text.as_deref() == Some("between login and connect"))
    });
    say("live");
    ra.wait(
        "the live message",
        |e| matches!(e, Event::Message(m) if m.text.as_deref() == Some("live")),
    );
    assert_eq!(
        texts(&ra.messages()),
        ["between login and connect", "live"],
        "once each, nothing from before the login"
    );
    let first_message = ra.index_of_nth(1, is_message).unwrap();
    assert!(first_message > connected, "after CONNECTED");

    // A later disconnect/connect replays nothing twice.
    alice.disconnect();
    ra.wait_state(0, S::Disconnected);
    let from = ra.len();
    alice.connect().unwrap();
    ra.wait_state(from, S::Connected);
    ra.expect_none(
        from,
        "no message replayed twice",
        Duration::from_millis(300),
        is_message,
    );
    assert_eq!(ra.messages().len(), 2);
}

/// Login with a token records the position too.
#[test]
fn token_login_records_the_position_too() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let (bob, rb) = new_client(&server, server.settings());
    login_connected(&bob, &rb, "bob");
    send(&bob, "alice", "old")
        .recv_timeout(WAIT)
        .unwrap()
        .unwrap();

    let mut settings = server.settings();
    settings.auto_connect = false;
    let (alice, ra) = new_client(&server, settings);
    let (done, rx) = completion();
    alice
        .login_with_token(&server.mint_token("alice"), Some(done))
        .unwrap();
    rx.recv_timeout(WAIT).unwrap().unwrap();
    send(&bob, "alice", "new")
        .recv_timeout(WAIT)
        .unwrap()
        .unwrap();
    alice.connect().unwrap();
    ra.wait("the new message", is_message);
    ra.expect_none(
        0,
        "nothing else",
        Duration::from_millis(300),
        |e| matches!(e, Event::Message(m) if m.text.as_deref() != Some("new")),
    );
    assert_eq!(texts(&ra.messages()), ["new"]);
}

/// What one client of the loop below saw through the listeners added after its init.
#[derive(Default)]
struct Seen {
    states: Vec<chinwag::StateChange>,
    texts: Vec<String>,
}

/// Listeners added right after init on a restored session (auto mode), 1,000 times: the
/// connection listener's first event is the state it starts from and every later one follows
/// from it, and the message sent while the app was closed arrives, once, every time.
const ROUNDS: usize = 1000;

#[test]
fn listeners_added_after_init_on_a_restored_session_miss_nothing_1000_times() {
    // One upgrade and one message per round: above the server's default rate limits.
    let mut config = Server::config();
    config.upgrades_per_ip.limit = 100_000;
    config.send_limit.limit = 100_000;
    let server = Server::with(config);
    server.create_user("alice");
    server.create_user("bob");
    let bob_token = server.mint_token("bob");
    let dir = tempfile::tempdir().unwrap();
    let mut settings = server.settings();
    settings.data_dir = Some(dir.path().to_path_buf());
    {
        let (alice, ra) = new_client(&server, settings.clone());
        login_connected(&alice, &ra, "alice");
    }
    let mut greeted_with = std::collections::BTreeMap::<&str, usize>::new();
    for round in 0..ROUNDS {
        let text = format!("while closed {round}");
        let (s, v) = server.rest_as(
            &bob_token,
            reqwest::Method::POST,
            "/v1/messages",
            Some(json!({"receiver_type": "user", "receiver": "alice", "text": text})),
        );
        assert_eq!(s, 201, "{v}");

        let seen = Arc::new((Mutex::new(Seen::default()), std::sync::Condvar::new()));
        let alice = Client::init(APP_ID, settings.clone(), InitOptions::default()).unwrap();
        let s1 = seen.clone();
        alice
            .add_listener(
                ListenerKind::Connection,
                "app",
                Box::new(move |e: &Event| {
                    if let Event::State(c) = e {
                        s1.0.lock().unwrap().states.push(c.clone());
                        s1.1.notify_all();
                    }
                }),
            )
            .unwrap();
        let s2 = seen.clone();
        alice
            .add_listener(
                ListenerKind::Message,
                "app",
                Box::new(move |e: &Event| {
                    if let Event::Message(m) = e {
                        s2.0.lock()
                            .unwrap()
                            .texts
                            .push(m.text.clone().unwrap_or_default());
                        s2.1.notify_all();
                    }
                }),
            )
            .unwrap();
        {
            let (m, c) = &*seen;
            let (guard, timeout) = c
                .wait_timeout_while(m.lock().unwrap(), WAIT, |s| {
                    s.texts.is_empty() || s.states.last().map(|c| c.current) != Some(S::Connected)
                })
                .unwrap();
            assert!(!timeout.timed_out(), "round {round}: {:?}", guard.states);
        }
        // Freed: nothing more can arrive, so what was seen is final.
        drop(alice);
        let seen = seen.0.lock().unwrap();
        assert_eq!(seen.texts, vec![text], "round {round}: once, nothing else");
        let first = &seen.states[0];
        assert_eq!(first.reason, Reason::ListenerAdded, "round {round}");
        assert_eq!(first.previous, first.current, "round {round}");
        *greeted_with.entry(first.current.name()).or_default() += 1;
        let mut last = first.current;
        for c in &seen.states[1..] {
            assert_eq!(c.previous, last, "round {round}: {:?}", seen.states);
            assert_ne!(c.previous, c.current, "round {round}: {:?}", seen.states);
            last = c.current;
        }
    }
    eprintln!("first state of a listener added after init: {greeted_with:?}");
}

/// The connection listener added later (here while CONNECTED) starts from CONNECTED, and the
/// other real-time kinds are not held once their listener exists.
#[test]
fn a_connection_listener_added_later_starts_from_the_current_state() {
    let server = Server::start();
    server.create_user("alice");
    let (alice, ra) = new_client(&server, server.settings());
    login_connected(&alice, &ra, "alice");
    let late = Recorder::default();
    let l = late.clone();
    alice
        .add_listener(
            ListenerKind::Connection,
            "late",
            Box::new(move |e: &Event| l.push(e.clone())),
        )
        .unwrap();
    let first = late.wait("the first event", |e| matches!(e, Event::State(_)));
    match first {
        Event::State(c) => {
            assert_eq!((c.previous, c.current), (S::Connected, S::Connected));
            assert_eq!(c.reason, Reason::ListenerAdded);
        }
        other => panic!("{other:?}"),
    }
    alice.disconnect();
    late.wait("DISCONNECTED", |e| is_state(e, S::Disconnected));
    let changes: Vec<_> = late
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::State(c) => Some((c.previous, c.current)),
            _ => None,
        })
        .collect();
    assert_eq!(
        changes,
        [
            (S::Connected, S::Connected),
            (S::Connected, S::Disconnected)
        ]
    );
    let _ = ReceiverType::User;
}
