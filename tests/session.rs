//! Setup, login and the saved session (behaviour.md sections 1 and 2), logout, callbacks and
//! threads (section 8), and bad input (section 9).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chinwag::protocol::model::ReceiverType;
use chinwag::store::FileStore;
use chinwag::{
    Client, ConnectionState as S, ErrorCode, Event, InitOptions, ListenerKind, LogLevel, Reason,
    Settings,
};
use common::proxy::Proxy;
use common::*;

const QUIET: Duration = Duration::from_millis(600);

fn with_dir(mut s: Settings, dir: &std::path::Path, auto: bool) -> Settings {
    s.data_dir = Some(dir.to_path_buf());
    s.auto_connect = auto;
    s
}

fn session_file(dir: &std::path::Path) -> std::path::PathBuf {
    dir.join(FileStore::FILE_NAME)
}

/// Init with a log recorder attached from the start.
fn init_logged(app_id: &str, settings: Settings) -> (Client, Recorder) {
    let rec = Recorder::default();
    let client = Client::init(
        app_id,
        settings,
        InitOptions {
            log: Some(rec.listener()),
            ..Default::default()
        },
    )
    .unwrap();
    rec.attach(&client);
    (client, rec)
}

#[test]
fn auto_mode_restores_the_session_and_reconnects_without_login() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let dir = tempfile::tempdir().unwrap();
    let (bob, rb) = new_client(&server, server.settings());
    login_connected(&bob, &rb, "bob");
    {
        let (alice, ra) = new_client(&server, with_dir(server.settings(), dir.path(), true));
        login_connected(&alice, &ra, "alice");
        for n in 0..10 {
            send(&bob, "alice", &format!("m{n}"));
        }
        ra.wait_count("10 messages", 10, is_message);
    }
    // Sent while no client of alice's runs.
    for n in 10..15 {
        send(&bob, "alice", &format!("m{n}"))
            .recv_timeout(WAIT)
            .unwrap()
            .unwrap();
    }

    let (alice, ra) = new_client(&server, with_dir(server.settings(), dir.path(), true));
    assert_eq!(
        alice.logged_in_user().map(|u| u.uid).as_deref(),
        Some("alice"),
        "restored at init, with no network call"
    );
    // It connects by itself (init starts at once, so its first state events may come before
    // the recorder is attached): the missed messages arrive and the state says so.
    ra.wait_count("the 5 missed", 5, is_message);
    assert_eq!(alice.connection_state(), S::Connected);
    assert!(!ra
        .events()
        .iter()
        .any(|e| matches!(e, Event::LoginSuccess(_) | Event::LoginFailure(_))));
    assert!(ra
        .changes()
        .iter()
        .all(|c| matches!(c.current, S::Connecting | S::Connected)));
    // Only what the first client had not delivered, once each.
    let last = ra.index_of_nth(5, is_message).unwrap();
    ra.expect_none(
        last + 1,
        "a message already delivered before",
        QUIET,
        is_message,
    );
    let want: Vec<String> = (10..15).map(|n| format!("m{n}")).collect();
    assert_eq!(texts(&ra.messages()), want);
}

#[test]
fn a_client_freed_mid_burst_and_recreated_delivers_each_message_once() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let dir = tempfile::tempdir().unwrap();
    let (bob, rb) = new_client(&server, server.settings());
    login_connected(&bob, &rb, "bob");
    let (first, r1) = new_client(&server, with_dir(server.settings(), dir.path(), true));
    // A slow app: a backlog of events waits in the dispatcher when the client is freed.
    first
        .add_listener(
            ListenerKind::Message,
            "slow",
            Box::new(|_: &Event| std::thread::sleep(Duration::from_millis(2))),
        )
        .unwrap();
    login_connected(&first, &r1, "alice");

    let sends: Vec<_> = (0..300)
        .map(|n| send(&bob, "alice", &format!("m{n}")))
        .collect();
    r1.wait_count("some of the burst", 30, is_message);
    drop(first);
    let seen_first = r1.messages().len();
    for rx in sends {
        rx.recv_timeout(WAIT).unwrap().unwrap();
    }

    let (second, r2) = new_client(&server, with_dir(server.settings(), dir.path(), true));
    assert_eq!(
        second.logged_in_user().map(|u| u.uid).as_deref(),
        Some("alice")
    );
    let rest = 300 - seen_first;
    if rest > 0 {
        r2.wait_count("the rest of the burst", rest, is_message);
    }
    let last = r2.index_of_nth(rest, is_message).map_or(0, |i| i + 1);
    r2.expect_none(last, "a message too many", QUIET, is_message);
    let mut all = texts(&r1.messages());
    all.extend(texts(&r2.messages()));
    let want: Vec<String> = (0..300).map(|n| format!("m{n}")).collect();
    assert_eq!(all, want, "first client saw {seen_first}");
}

#[test]
fn manual_mode_restores_the_user_and_waits_for_connect() {
    let server = Server::start();
    server.create_user("alice");
    let dir = tempfile::tempdir().unwrap();
    {
        let (alice, ra) = new_client(&server, with_dir(server.settings(), dir.path(), true));
        login_connected(&alice, &ra, "alice");
    }
    let (alice, ra) = new_client(&server, with_dir(server.settings(), dir.path(), false));
    assert_eq!(
        alice.logged_in_user().map(|u| u.uid).as_deref(),
        Some("alice")
    );
    ra.expect_none(0, "a state event before connect()", QUIET, |e| {
        matches!(e, Event::State(_))
    });
    assert_eq!(alice.connection_state(), S::Disconnected);
    alice.connect().unwrap();
    ra.wait_state(0, S::Connected);
    assert_eq!(ra.states(), [S::Connecting, S::Connected]);
}

#[test]
fn a_session_saved_for_another_app_is_discarded() {
    let server = Server::start();
    server.create_user("alice");
    let dir = tempfile::tempdir().unwrap();
    {
        let (alice, ra) = new_client(&server, with_dir(server.settings(), dir.path(), true));
        login_connected(&alice, &ra, "alice");
    }
    assert!(session_file(dir.path()).exists());

    let (other, rec) = init_logged("other-app", with_dir(server.settings(), dir.path(), true));
    assert!(other.logged_in_user().is_none());
    rec.wait("a log record about the discarded session", |e| {
        matches!(e, Event::Log { message, .. } if message.contains("other-app") || message.contains("chinwag-app"))
    });
    assert!(
        !session_file(dir.path()).exists(),
        "the foreign session is removed"
    );
    assert_eq!(other.connect().unwrap_err().code, ErrorCode::NotLoggedIn);
    rec.expect_none(0, "a connection attempt", QUIET, |e| {
        matches!(e, Event::State(_))
    });
}

#[test]
fn a_corrupt_session_file_is_moved_aside_and_reported() {
    let server = Server::start();
    server.create_user("alice");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(session_file(dir.path()), b"\x00{garbage\xff").unwrap();

    let (client, rec) = init_logged(APP_ID, with_dir(server.settings(), dir.path(), true));
    assert!(client.logged_in_user().is_none(), "treated as logged out");
    rec.wait("an error log about the session file", |e| {
        matches!(e, Event::Log { level: LogLevel::Error | LogLevel::Warn, message, .. } if message.contains("moved aside"))
    });
    assert!(!session_file(dir.path()).exists());
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("corrupt"))
        .collect();
    assert_eq!(aside.len(), 1, "moved aside, not deleted");
    assert_eq!(
        std::fs::read(aside[0].path()).unwrap(),
        b"\x00{garbage\xff".to_vec()
    );
    assert_eq!(client.connect().unwrap_err().code, ErrorCode::NotLoggedIn);
    rec.expect_none(0, "a connection attempt", QUIET, |e| {
        matches!(e, Event::State(_))
    });

    // A login afterwards works and saves a readable session.
    login_connected(&client, &rec, "alice");
    let saved: chinwag::SavedSession =
        serde_json::from_slice(&std::fs::read(session_file(dir.path())).unwrap()).unwrap();
    assert_eq!(saved.user.uid, "alice");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(session_file(dir.path()))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the token is private");
}

#[test]
fn logout_fails_queued_sends_and_purges_the_session() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(&server.url);
    let (alice, ra) = new_client(
        &server,
        with_dir(server.settings_via(&proxy.url()), dir.path(), true),
    );
    login_connected(&alice, &ra, "alice");
    let saved: chinwag::SavedSession =
        serde_json::from_slice(&std::fs::read(session_file(dir.path())).unwrap()).unwrap();

    // Reconnecting, with the new socket stuck before the accept: sends wait in the queue.
    proxy.hold_after_upgrade(true);
    proxy.reset();
    proxy.wait_upgrades_held(1);
    assert_eq!(alice.connection_state(), S::Connecting);
    let queued: Vec<_> = (0..3)
        .map(|n| send(&alice, "bob", &format!("q{n}")))
        .collect();

    let (done, rx) = completion();
    alice.logout(Some(done)).unwrap();
    for q in queued {
        let err = q.recv_timeout(WAIT).unwrap().unwrap_err();
        assert_eq!(err.code, ErrorCode::LoggedOut, "{err}");
    }
    rx.recv_timeout(WAIT).unwrap().unwrap();
    ra.wait("logout success", |e| matches!(e, Event::LogoutSuccess));
    let (d, s) = ra.wait_state(0, S::Disconnected);
    assert_eq!(s.reason, Reason::LoggedOut);
    assert!(alice.logged_in_user().is_none());
    assert!(
        !session_file(dir.path()).exists(),
        "the saved session is purged"
    );
    // The server revoked the token.
    let (status, _) = server.rest_as(&saved.token, reqwest::Method::GET, "/v1/me", None);
    assert_eq!(status, 401);
    proxy.heal();
    ra.expect_none(d + 1, "a connection attempt after logout", QUIET, |e| {
        matches!(e, Event::State(_))
    });
    assert_eq!(alice.connect().unwrap_err().code, ErrorCode::NotLoggedIn);
    assert_eq!(
        alice
            .send_text(ReceiverType::User, "bob", "after logout", None)
            .unwrap_err()
            .code,
        ErrorCode::NotLoggedIn
    );
    assert!(history_has_none(&server));
}

fn history_has_none(server: &Server) -> bool {
    server.history("alice", "bob").is_empty()
}

#[test]
fn logout_without_the_server_still_purges_locally() {
    let server = Server::start();
    server.create_user("alice");
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(&server.url);
    let s = with_dir(server.settings_via(&proxy.url()), dir.path(), true);
    let (alice, ra) = new_client(&server, s);
    login_connected(&alice, &ra, "alice");

    proxy.refuse(true);
    proxy.reset();
    let (done, rx) = completion();
    alice.logout(Some(done)).unwrap();
    assert!(rx.recv_timeout(WAIT).unwrap().is_err());
    ra.wait("logout failure", |e| matches!(e, Event::LogoutFailure(_)));
    assert!(alice.logged_in_user().is_none());
    assert!(!session_file(dir.path()).exists());
    let (d, _) = ra.wait_state(0, S::Disconnected);
    ra.expect_none(d + 1, "a connection attempt after logout", QUIET, |e| {
        matches!(e, Event::State(_))
    });
}

#[test]
fn a_second_login_while_one_runs_fails_login_in_progress() {
    let server = Server::start();
    server.create_user("alice");
    let token = server.mint_token("alice");
    let proxy = Proxy::start(&server.url);
    let (alice, ra) = new_client(&server, server.settings_via(&proxy.url()));

    // The first login's HTTP request is held by the proxy: it is certainly still running.
    proxy.blackhole();
    let (done, rx) = completion();
    alice.login("alice", AUTH_KEY, Some(done)).unwrap();
    proxy.wait_accepted(1);
    assert_eq!(
        alice.login("alice", AUTH_KEY, None).unwrap_err().code,
        ErrorCode::LoginInProgress
    );
    assert_eq!(
        alice.login_with_token(&token, None).unwrap_err().code,
        ErrorCode::LoginInProgress
    );
    proxy.heal();
    assert_eq!(rx.recv_timeout(WAIT).unwrap().unwrap().uid, "alice");
    ra.wait("login success", |e| matches!(e, Event::LoginSuccess(_)));
    ra.wait_state(0, S::Connected);
    // Finished: logging in again is allowed.
    let (done, rx) = completion();
    alice.login_with_token(&token, Some(done)).unwrap();
    assert_eq!(rx.recv_timeout(WAIT).unwrap().unwrap().uid, "alice");
    ra.wait_count("connected after the second login", 2, |e| {
        is_state(e, S::Connected)
    });
    ra.assert_state_chain();
}

#[test]
fn login_failures_are_reported_and_leave_no_session() {
    let server = Server::start();
    server.create_user("alice");
    let (client, rec) = new_client(&server, server.settings());
    let (done, rx) = completion();
    client.login("alice", "wrong-key", Some(done)).unwrap();
    let err = rx.recv_timeout(WAIT).unwrap().unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthFailed, "{err}");
    rec.wait("login failure", |e| matches!(e, Event::LoginFailure(_)));
    let (done, rx) = completion();
    client.login("nobody", AUTH_KEY, Some(done)).unwrap();
    assert!(rx.recv_timeout(WAIT).unwrap().is_err());
    let (done, rx) = completion();
    client
        .login_with_token(&"0".repeat(64), Some(done))
        .unwrap();
    let err = rx.recv_timeout(WAIT).unwrap().unwrap_err();
    assert_eq!(err.code, ErrorCode::SessionExpired, "{err}");
    assert!(client.logged_in_user().is_none());
    assert_eq!(client.connect().unwrap_err().code, ErrorCode::NotLoggedIn);
    rec.expect_none(0, "a connection attempt", QUIET, |e| {
        matches!(e, Event::State(_))
    });
}

#[test]
fn bad_input_gets_specific_errors() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");

    for url in [
        "",
        "ftp://x",
        "http://",
        "127.0.0.1:80",
        "http://host/path",
        "not a url",
    ] {
        let err = Client::init(APP_ID, Settings::new(url), InitOptions::default())
            .err()
            .unwrap_or_else(|| panic!("init accepted server URL {url:?}"));
        assert_eq!(err.code, ErrorCode::InvalidArgument, "{url:?}: {err}");
    }
    for app in ["", "a:b", "app id"] {
        let err = Client::init(app, server.settings(), InitOptions::default())
            .err()
            .unwrap_or_else(|| panic!("init accepted app id {app:?}"));
        assert_eq!(err.code, ErrorCode::InvalidArgument, "{app:?}: {err}");
    }
    let mut s = server.settings();
    s.queue_capacity = 0;
    assert_eq!(
        Client::init(APP_ID, s, InitOptions::default())
            .err()
            .unwrap()
            .code,
        ErrorCode::InvalidArgument
    );

    let (alice, ra) = new_client(&server, server.settings());
    for uid in ["", "a:b", "é"] {
        assert_eq!(
            alice.login(uid, AUTH_KEY, None).unwrap_err().code,
            ErrorCode::InvalidArgument,
            "{uid:?}"
        );
    }
    assert_eq!(
        alice.login("alice", "", None).unwrap_err().code,
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        alice.login_with_token("", None).unwrap_err().code,
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        alice
            .add_listener(ListenerKind::Message, "", Box::new(|_: &Event| {}))
            .unwrap_err()
            .code,
        ErrorCode::InvalidArgument
    );
    login_connected(&alice, &ra, "alice");

    let max = "x".repeat(64 * 1024);
    let too_long = "x".repeat(64 * 1024 + 1);
    assert_eq!(
        alice
            .send_text(ReceiverType::User, "bob", &too_long, None)
            .unwrap_err()
            .code,
        ErrorCode::TextTooLong
    );
    for (to, text) in [("", "hi"), ("a b", "hi"), ("bob", "")] {
        assert_eq!(
            alice
                .send_text(ReceiverType::User, to, text, None)
                .unwrap_err()
                .code,
            ErrorCode::InvalidArgument,
            "{to:?} {text:?}"
        );
    }
    assert_eq!(
        alice.start_typing(ReceiverType::User, "").unwrap_err().code,
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        alice
            .mark(chinwag::protocol::model::ReceiptKind::Read, 0)
            .unwrap_err()
            .code,
        ErrorCode::InvalidArgument
    );
    // Exactly 64 KiB is allowed, end to end.
    let stored = send(&alice, "bob", &max)
        .recv_timeout(WAIT)
        .unwrap()
        .unwrap();
    assert_eq!(stored.text.map(|t| t.len()), Some(64 * 1024));
    // A receiver the server does not know: a specific error from the server, not a hang.
    let err = send(&alice, "nobody", "hi")
        .recv_timeout(WAIT)
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound, "{err}");
    assert_eq!(alice.connection_state(), S::Connected);
}

#[test]
fn callbacks_and_completions_run_on_the_clients_own_thread_in_order() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let alice = Client::init(APP_ID, server.settings(), InitOptions::default()).unwrap();
    let threads = Arc::new(Mutex::new(Vec::new()));
    for kind in [ListenerKind::Connection, ListenerKind::Message] {
        let t = threads.clone();
        alice
            .add_listener(
                kind,
                "thread",
                Box::new(move |_: &Event| {
                    t.lock().unwrap().push(std::thread::current().id());
                }),
            )
            .unwrap();
    }
    // Attached after the thread listeners: when it has seen an event, they have too.
    let ra = Recorder::default();
    ra.attach(&alice);
    let (done, rx) = completion::<chinwag::protocol::model::User>();
    let t = threads.clone();
    alice
        .login(
            "alice",
            AUTH_KEY,
            Some(Box::new(move |r| {
                t.lock().unwrap().push(std::thread::current().id());
                done(r)
            })),
        )
        .unwrap();
    rx.recv_timeout(WAIT).unwrap().unwrap();
    ra.wait_state(0, S::Connected);
    let (bob, rb) = new_client(&server, server.settings());
    login_connected(&bob, &rb, "bob");
    for n in 0..20 {
        send(&bob, "alice", &format!("m{n}"));
    }
    ra.wait_count("20 messages", 20, is_message);
    let ids = threads.lock().unwrap().clone();
    assert!(ids.len() >= 23);
    assert!(
        ids.iter().all(|t| *t == ids[0]),
        "callbacks ran on several threads"
    );
    assert_ne!(ids[0], std::thread::current().id());
    let want: Vec<String> = (0..20).map(|n| format!("m{n}")).collect();
    assert_eq!(texts(&ra.messages()), want);
}

#[test]
fn freeing_the_client_inside_its_own_callback_does_not_deadlock() {
    let server = Server::start();
    server.create_user("alice");
    let mut s = server.settings();
    s.auto_connect = false;
    let (alice, ra) = new_client(&server, s);
    let holder: Arc<Mutex<Option<Client>>> = Arc::new(Mutex::new(None));
    let (freed_tx, freed_rx) = std::sync::mpsc::channel();
    let h = holder.clone();
    alice
        .add_listener(
            ListenerKind::Connection,
            "free-me",
            Box::new(move |e: &Event| {
                if is_state(e, S::Connected) {
                    let client = h.lock().unwrap().take();
                    let freed = client.is_some();
                    drop(client);
                    let _ = freed_tx.send(freed);
                }
            }),
        )
        .unwrap();
    login(&alice, "alice");
    *holder.lock().unwrap() = Some(alice);
    holder.lock().unwrap().as_ref().unwrap().connect().unwrap();
    ra.wait_state(0, S::Connected);
    let freed = freed_rx
        .recv_timeout(WAIT)
        .expect("the callback that freed the client returned");
    assert!(freed, "the client was freed inside its callback");
    assert!(holder.lock().unwrap().is_none());
}

/// A listener that records its calls, blocks in its first one until the gate opens, and says
/// when it is released.
struct Probe {
    calls: Arc<std::sync::atomic::AtomicUsize>,
    entered: std::sync::mpsc::Sender<()>,
    gate: Mutex<std::sync::mpsc::Receiver<()>>,
    log: std::sync::mpsc::Sender<&'static str>,
}

impl chinwag::Listener for Probe {
    fn on_event(&mut self, e: &Event) {
        if is_message(e) && self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            let _ = self.entered.send(());
            let _ = self.gate.lock().unwrap().recv_timeout(WAIT);
            let _ = self.log.send("callback returned");
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = self.log.send("released");
    }
}

#[test]
fn removing_a_listener_waits_for_its_running_callback_and_releases_it() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let (alice, ra) = new_client(&server, server.settings());
    let (bob, rb) = new_client(&server, server.settings());
    login_connected(&alice, &ra, "alice");
    login_connected(&bob, &rb, "bob");
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (entered_tx, entered) = std::sync::mpsc::channel();
    let (open, gate) = std::sync::mpsc::channel();
    let (log_tx, log) = std::sync::mpsc::channel();
    alice
        .add_listener(
            ListenerKind::Message,
            "probe",
            Box::new(Probe {
                calls: calls.clone(),
                entered: entered_tx,
                gate: Mutex::new(gate),
                log: log_tx.clone(),
            }),
        )
        .unwrap();
    send(&bob, "alice", "first");
    entered.recv_timeout(WAIT).unwrap();

    std::thread::scope(|scope| {
        let remover = scope.spawn(|| {
            let removed = alice.remove_listener(ListenerKind::Message, "probe");
            let _ = log_tx.send("remove returned");
            removed
        });
        // The callback is still running: remove_listener must not have returned.
        assert_eq!(
            log.recv_timeout(QUIET).unwrap_err(),
            std::sync::mpsc::RecvTimeoutError::Timeout
        );
        open.send(()).unwrap();
        assert!(remover.join().unwrap());
    });
    let order: Vec<&str> = log.try_iter().collect();
    assert_eq!(order, ["callback returned", "released", "remove returned"]);

    for n in 0..5 {
        send(&bob, "alice", &format!("after {n}"));
    }
    ra.wait_count("6 messages", 6, is_message);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(!alice.remove_listener(ListenerKind::Message, "probe"));
}

#[test]
fn a_panicking_listener_does_not_stop_delivery() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let alice = Client::init(APP_ID, server.settings(), InitOptions::default()).unwrap();
    alice
        .add_listener(
            ListenerKind::Message,
            "boom",
            Box::new(|e: &Event| {
                if is_message(e) {
                    panic!("a listener bug");
                }
            }),
        )
        .unwrap();
    let ra = Recorder::default();
    ra.attach(&alice);
    let (bob, rb) = new_client(&server, server.settings());
    login_connected(&alice, &ra, "alice");
    login_connected(&bob, &rb, "bob");
    for n in 0..10 {
        send(&bob, "alice", &format!("m{n}"));
    }
    ra.wait_count("10 messages", 10, is_message);
    let want: Vec<String> = (0..10).map(|n| format!("m{n}")).collect();
    assert_eq!(texts(&ra.messages()), want);
    assert_eq!(alice.connection_state(), S::Connected);
    send(&alice, "bob", "still fine")
        .recv_timeout(WAIT)
        .unwrap()
        .unwrap();
}
