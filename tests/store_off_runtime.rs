//! The session store never runs on the SDK runtime (issue 11): a slow store of some clients
//! does not hold up another client's heartbeat or messages, a store may read its own client,
//! and the resume position written off the runtime survives a kill -9 of the app (a replay
//! brings back what was not saved; nothing is skipped).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use chinwag::protocol::model::User;
use chinwag::{
    Client, ConnectionState, Event, InitOptions, ListenerKind, SavedSession, SessionStore,
};
use common::*;

/// A store whose saves block for `delay` once armed, telling `entered` when one starts.
struct SlowStore {
    armed: Arc<AtomicBool>,
    delay: Duration,
    entered: Mutex<mpsc::Sender<()>>,
    session: Mutex<Option<SavedSession>>,
}

impl SessionStore for SlowStore {
    fn load(&self) -> chinwag::Result<Option<SavedSession>> {
        Ok(None)
    }

    fn save(&self, session: &SavedSession, _durable: bool) -> chinwag::Result<()> {
        if self.armed.load(Ordering::SeqCst) {
            let _ = self.entered.lock().unwrap().send(());
            // The slow keychain this stands for: blocking is the point.
            std::thread::sleep(self.delay);
        }
        *self.session.lock().unwrap() = Some(session.clone());
        Ok(())
    }

    fn clear(&self) -> chinwag::Result<()> {
        *self.session.lock().unwrap() = None;
        Ok(())
    }
}

/// Three clients (more than the runtime has workers) log in through a store that takes 3 s per
/// save; while all three saves block, another client of the same process keeps a heartbeat
/// bound of 0.5 s without a drop and gets a message within it.
#[test]
fn slow_store_saves_do_not_delay_another_clients_heartbeat_or_messages() {
    let mut config = Server::config();
    config.ping_interval = Duration::from_millis(200);
    let server = Server::with(config);
    for uid in ["slow1", "slow2", "slow3", "bob", "carol"] {
        server.create_user(uid);
    }
    let mut fast_settings = server.settings();
    fast_settings.timings.heartbeat_grace = Duration::from_millis(300);
    let (bob, bob_rec) = new_client(&server, fast_settings);
    login_connected(&bob, &bob_rec, "bob");
    let (carol, carol_rec) = new_client(&server, server.settings());
    login_connected(&carol, &carol_rec, "carol");

    let armed = Arc::new(AtomicBool::new(true));
    let (entered_tx, entered_rx) = mpsc::channel();
    let slow: Vec<(Client, mpsc::Receiver<chinwag::Result<User>>)> = (1..=3)
        .map(|i| {
            let store = SlowStore {
                armed: armed.clone(),
                delay: Duration::from_secs(3),
                entered: Mutex::new(entered_tx.clone()),
                session: Mutex::new(None),
            };
            let options = InitOptions {
                store: Some(Box::new(store)),
                ..InitOptions::default()
            };
            let client = Client::init(APP_ID, server.settings(), options).unwrap();
            let (done, rx) = completion();
            client
                .login(&format!("slow{i}"), AUTH_KEY, Some(done))
                .unwrap();
            (client, rx)
        })
        .collect();
    for _ in 0..3 {
        entered_rx
            .recv_timeout(WAIT)
            .expect("each slow login reaches its store");
    }
    let blocked_at = Instant::now();
    let mark = bob_rec.len();

    let sent = Instant::now();
    let done = send(&carol, "bob", "while the stores block");
    bob_rec.wait_from(
        mark,
        "the message, while three stores block",
        |e| matches!(e, Event::Message(m) if m.text.as_deref() == Some("while the stores block")),
    );
    let delivered_in = sent.elapsed();
    done.recv_timeout(WAIT).unwrap().unwrap();
    // Hold on past the heartbeat bound (0.2 s pings + 0.3 s grace) while the saves still block:
    // a stalled runtime would find bob's socket silent and drop it.
    let (_tx, never) = mpsc::channel::<()>();
    let _ = never.recv_timeout(Duration::from_millis(1200));
    let still_blocked = blocked_at.elapsed() < Duration::from_secs(3);
    assert!(
        delivered_in < Duration::from_millis(500),
        "delivery took {delivered_in:?} while the stores blocked"
    );
    assert!(
        still_blocked,
        "the window must fall inside the 3 s saves (machine too slow to tell)"
    );
    assert_eq!(bob.connection_state(), ConnectionState::Connected);
    let changes = bob_rec.changes_from(mark);
    assert!(
        changes.is_empty(),
        "bob's connection changed while the stores blocked: {changes:?}"
    );

    armed.store(false, Ordering::SeqCst);
    for (client, rx) in &slow {
        let user = rx.recv_timeout(WAIT).unwrap().unwrap();
        assert_eq!(client.logged_in_user().map(|u| u.uid), Some(user.uid));
    }
}

/// A store that reads its own client from inside `save` (a keychain wrapper asking who is
/// logged in): no lock of the client is held across the store call, so it completes.
struct ReadingStore {
    client: Arc<Mutex<Option<Weak<Client>>>>,
    seen: Mutex<mpsc::Sender<Option<String>>>,
}

impl SessionStore for ReadingStore {
    fn load(&self) -> chinwag::Result<Option<SavedSession>> {
        Ok(None)
    }

    fn save(&self, _session: &SavedSession, _durable: bool) -> chinwag::Result<()> {
        let client = self.client.lock().unwrap().as_ref().and_then(Weak::upgrade);
        if let Some(c) = client {
            let _ = c.connection_state();
            let uid = c.logged_in_user().map(|u| u.uid);
            let _ = self.seen.lock().unwrap().send(uid);
        }
        Ok(())
    }

    fn clear(&self) -> chinwag::Result<()> {
        Ok(())
    }
}

/// At login and at the position save after a message: the store reads the client that calls
/// it (its user and state) and returns.
#[test]
fn a_store_may_read_its_own_client() {
    let server = Server::start();
    server.create_user("reader");
    server.create_user("writer");
    let slot = Arc::new(Mutex::new(None));
    let (seen_tx, seen_rx) = mpsc::channel();
    let store = ReadingStore {
        client: slot.clone(),
        seen: Mutex::new(seen_tx),
    };
    let options = InitOptions {
        store: Some(Box::new(store)),
        ..InitOptions::default()
    };
    let client = Arc::new(Client::init(APP_ID, server.settings(), options).unwrap());
    *slot.lock().unwrap() = Some(Arc::downgrade(&client));
    let rec = Recorder::default();
    rec.attach(&client);
    login_connected(&client, &rec, "reader");
    assert_eq!(
        seen_rx
            .recv_timeout(WAIT)
            .expect("the store's save returned"),
        Some("reader".to_string()),
        "the save at login sees the user it saves"
    );
    let (writer, writer_rec) = new_client(&server, server.settings());
    login_connected(&writer, &writer_rec, "writer");
    send(&writer, "reader", "move the position")
        .recv_timeout(WAIT)
        .unwrap()
        .unwrap();
    rec.wait("the message", is_message);
    assert_eq!(
        seen_rx
            .recv_timeout(WAIT)
            .expect("the position save's store call returned"),
        Some("reader".to_string())
    );
    assert_eq!(client.connection_state(), ConnectionState::Connected);
}

// ----- kill -9 ---------------------------------------------------------------------------------

const CHILD_URL: &str = "CHINWAG_TEST_KILL_CHILD_URL";
const CHILD_DIR: &str = "CHINWAG_TEST_KILL_CHILD_DIR";

/// The app that gets killed: run by `kill_nine_after_a_callback_loses_nothing` as a child
/// process (`--ignored --exact`); does nothing when run on its own. It restores or logs in
/// `bob` with a data directory, then prints each message text once its callback is done.
#[test]
#[ignore = "a helper process of kill_nine_after_a_callback_loses_nothing"]
fn kill_nine_child() {
    let (Ok(url), Ok(dir)) = (std::env::var(CHILD_URL), std::env::var(CHILD_DIR)) else {
        return;
    };
    let mut settings = chinwag::Settings::new(&url);
    settings.data_dir = Some(dir.into());
    let (tx, rx) = mpsc::channel::<()>();
    let connected = Mutex::new(Some(tx));
    let listeners: Vec<(ListenerKind, String, Box<dyn chinwag::Listener>)> = vec![
        (
            ListenerKind::Message,
            "print".into(),
            Box::new(|e: &Event| {
                if let Event::Message(m) = e {
                    println!("GOT {}", m.text.clone().unwrap_or_default());
                }
            }),
        ),
        (
            ListenerKind::Connection,
            "ready".into(),
            Box::new(move |e: &Event| {
                if is_state(e, ConnectionState::Connected) {
                    if let Some(tx) = connected.lock().unwrap().take() {
                        let _ = tx.send(());
                    }
                }
            }),
        ),
    ];
    let options = InitOptions {
        listeners,
        ..InitOptions::default()
    };
    let client = Client::init(APP_ID, settings, options).unwrap();
    if client.logged_in_user().is_none() {
        client.login("bob", AUTH_KEY, None).unwrap();
    }
    rx.recv_timeout(WAIT).expect("child connected");
    println!("READY");
    // Runs until killed.
    let (_keep, forever) = mpsc::channel::<()>();
    let _ = forever.recv_timeout(Duration::from_secs(120));
}

fn saved_position(dir: &std::path::Path) -> Option<u64> {
    let bytes = std::fs::read(dir.join(chinwag::store::FileStore::FILE_NAME)).ok()?;
    serde_json::from_slice::<SavedSession>(&bytes)
        .ok()?
        .last_seq
}

/// Reads the child's "GOT <text>" lines into `got` until one equals `until` (or EOF).
fn read_until(lines: &mut impl Iterator<Item = String>, got: &mut Vec<String>, until: &str) {
    for line in lines.by_ref() {
        if let Some(text) = line.strip_prefix("GOT ") {
            got.push(text.to_string());
            if text == until {
                return;
            }
        } else if line == until {
            return;
        }
    }
}

/// kill -9 of the app right after a callback: the position saved before (off the runtime,
/// coalesced) is where the next start resumes, so the messages after it come back (at most
/// the last second's again) and none is skipped.
#[test]
fn kill_nine_after_a_callback_loses_nothing() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let dir = tempfile::tempdir().unwrap();
    let (alice, alice_rec) = new_client(&server, server.settings());
    login_connected(&alice, &alice_rec, "alice");

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "kill_nine_child", "--nocapture"])
        .env(CHILD_URL, &server.url)
        .env(CHILD_DIR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (line_tx, line_rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = std::iter::from_fn(|| line_rx.recv_timeout(WAIT).ok());
    let mut got = Vec::new();
    read_until(&mut lines, &mut got, "READY");

    let send_all = |range: std::ops::RangeInclusive<u32>| {
        for i in range {
            send(&alice, "bob", &format!("m{i}"))
                .recv_timeout(WAIT)
                .unwrap()
                .unwrap();
        }
    };
    // First batch, then wait until the child saved a position at or past its last message.
    send_all(1..=10);
    read_until(&mut lines, &mut got, "m10");
    // Bob's per-user sequence of message n is n: these are his only durable events.
    let deadline = Instant::now() + WAIT;
    while saved_position(dir.path()).is_none_or(|p| p < 10) {
        assert!(
            Instant::now() < deadline,
            "the child never saved position 10 (saved: {:?})",
            saved_position(dir.path())
        );
        std::thread::park_timeout(Duration::from_millis(20));
    }
    // Second batch; kill -9 right after the callback of m15 printed.
    send_all(11..=15);
    read_until(&mut lines, &mut got, "m15");
    child.kill().unwrap();
    let _ = child.wait();
    while let Ok(line) = line_rx.recv_timeout(Duration::from_millis(200)) {
        if let Some(text) = line.strip_prefix("GOT ") {
            got.push(text.to_string());
        }
    }
    let expected: Vec<String> = (1..=15).map(|i| format!("m{i}")).collect();
    assert_eq!(
        got, expected,
        "the first run saw every message once, in order"
    );

    // While the app is dead, more arrive; then it starts again from its saved session.
    send_all(16..=20);
    let mut settings = server.settings();
    settings.data_dir = Some(dir.path().to_path_buf());
    let (bob, bob_rec) = new_client(&server, settings);
    assert_eq!(bob.logged_in_user().map(|u| u.uid).as_deref(), Some("bob"));
    bob_rec.wait(
        "m20 after the restart",
        |e| matches!(e, Event::Message(m) if m.text.as_deref() == Some("m20")),
    );
    let again = texts(&bob_rec.messages());
    let first: u32 = again[0][1..].parse().unwrap();
    assert!(
        (11..=16).contains(&first),
        "resumed from the saved position (after m10), not past what the app saw: {again:?}"
    );
    let expected: Vec<String> = (first..=20).map(|i| format!("m{i}")).collect();
    assert_eq!(again, expected, "nothing skipped, in order, once each");
}
