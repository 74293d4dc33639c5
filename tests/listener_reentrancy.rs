//! Regression tests for the client's lock discipline (docs/behaviour.md, section 8): a
//! callback may add and remove listeners and free the client while another thread is removing
//! that very listener or freeing the client. Both used to deadlock: the client held its lock
//! while waiting for the running callback, which then needed the same lock. No server needed:
//! a failed login produces the events.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use chinwag::{Client, Event, InitOptions, ListenerKind, Settings};

fn client() -> Arc<Client> {
    // Port 9 (discard) on loopback: the login fails at once with a network error.
    Arc::new(
        Client::init(
            "chinwag-app",
            Settings::new("http://127.0.0.1:9"),
            InitOptions::default(),
        )
        .unwrap(),
    )
}

/// Runs `f` on a thread; fails the test if it does not return within 20 s.
fn within_deadline(what: &str, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("deadlock: {what} did not return"));
}

/// Blocks the listener's callback until released, then lets it call back into the client.
fn blocking_listener(
    me: Arc<Mutex<Weak<Client>>>,
    entered: mpsc::Sender<()>,
    release: mpsc::Receiver<()>,
    then: impl Fn(&Client) + Send + 'static,
) -> Box<dyn chinwag::Listener> {
    Box::new(move |e: &Event| {
        if matches!(e, Event::LoginFailure(_)) {
            let _ = entered.send(());
            let _ = release.recv_timeout(Duration::from_secs(5));
            if let Some(c) = me.lock().unwrap().upgrade() {
                then(&c);
            }
        }
    })
}

#[test]
fn removing_a_listener_whose_callback_adds_a_listener() {
    let c = client();
    let me = Arc::new(Mutex::new(Arc::downgrade(&c)));
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let listener = blocking_listener(me, entered_tx, release_rx, |c| {
        c.add_listener(ListenerKind::Log, "from-callback", Box::new(|_: &Event| {}))
            .unwrap();
        c.remove_listener(ListenerKind::Log, "from-callback");
    });
    c.add_listener(ListenerKind::Login, "x", listener).unwrap();
    c.login("alice", "key", None).unwrap();
    entered.recv_timeout(Duration::from_secs(20)).unwrap();
    let remover = c.clone();
    within_deadline("remove_listener", move || {
        // Waits for the running callback, which needs the client meanwhile.
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let _ = release.send(());
        });
        assert!(remover.remove_listener(ListenerKind::Login, "x"));
        releaser.join().unwrap();
    });
}

#[test]
fn closing_while_a_callback_adds_a_listener() {
    let c = client();
    let me = Arc::new(Mutex::new(Arc::downgrade(&c)));
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let listener = blocking_listener(me, entered_tx, release_rx, |c| {
        // The client is closing: refused, not a deadlock.
        assert!(c
            .add_listener(ListenerKind::Log, "late", Box::new(|_: &Event| {}))
            .is_err());
    });
    c.add_listener(ListenerKind::Login, "x", listener).unwrap();
    c.login("alice", "key", None).unwrap();
    entered.recv_timeout(Duration::from_secs(20)).unwrap();
    let closer = c.clone();
    within_deadline("close", move || {
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let _ = release.send(());
        });
        closer.close();
        releaser.join().unwrap();
    });
}
