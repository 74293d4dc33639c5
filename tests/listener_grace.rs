//! The listener grace (settings `listener_grace`): after an init that restores a session, a
//! real-time event of a kind nobody listens to yet is held (with what follows it) until a
//! listener of its kind comes or the grace ends; after a fresh init nothing is held.

mod common;

use std::time::Duration;

use chinwag::protocol::model::GroupType;
use chinwag::{Client, Event, InitOptions, ListenerKind};
use common::*;

/// Long enough that an event held by it would make the waits below time out.
const LONG_GRACE: Duration = Duration::from_secs(60);

/// Bob adds alice to a group (a group event: a kind alice does not listen to), then writes to
/// her; returns once both are stored.
fn group_event_then_message(server: &Server, text: &str) -> Client {
    let (bob, rb) = new_client(server, server.settings());
    login_connected(&bob, &rb, "bob");
    let (done, rx) = completion();
    bob.create_group("grace", "Grace", GroupType::Private, Some(done))
        .unwrap();
    rx.recv_timeout(WAIT).unwrap().unwrap();
    let (done, rx) = completion();
    bob.add_members("grace", &[("alice", None)], Some(done))
        .unwrap();
    rx.recv_timeout(WAIT).unwrap().unwrap();
    send(&bob, "alice", text)
        .recv_timeout(WAIT)
        .unwrap()
        .unwrap();
    bob
}

fn is_text(e: &Event, text: &str) -> bool {
    matches!(e, Event::Message(m) if m.text.as_deref() == Some(text))
}

/// Records only messages and state changes: no group listener.
fn messages_only(client: &Client) -> Recorder {
    let rec = Recorder::default();
    for kind in [ListenerKind::Connection, ListenerKind::Message] {
        client.add_listener(kind, "rec", rec.listener()).unwrap();
    }
    rec
}

#[test]
fn a_fresh_init_holds_nothing_for_listeners_that_never_come() {
    let server = Server::start();
    for u in ["alice", "bob"] {
        server.create_user(u);
    }
    let mut s = server.settings();
    s.timings.listener_grace = LONG_GRACE;
    let alice = Client::init(APP_ID, s, InitOptions::default()).unwrap();
    let rec = messages_only(&alice);
    login_connected(&alice, &rec, "alice");
    let _bob = group_event_then_message(&server, "after the group event");
    // Held, the group event would keep the message back for 60 s and this wait would fail.
    rec.wait("the message after the group event", |e| {
        is_text(e, "after the group event")
    });
}

#[test]
fn a_restored_session_holds_an_unlistened_kind_until_its_listener_comes() {
    let server = Server::start();
    for u in ["alice", "bob"] {
        server.create_user(u);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut s = server.settings();
    s.data_dir = Some(dir.path().to_path_buf());
    s.timings.listener_grace = LONG_GRACE;
    {
        let first = Client::init(APP_ID, s.clone(), InitOptions::default()).unwrap();
        let rec = messages_only(&first);
        login_connected(&first, &rec, "alice");
    }
    // Restored: connects by itself, and the grace holds the group event and the message.
    let alice = Client::init(APP_ID, s, InitOptions::default()).unwrap();
    let rec = messages_only(&alice);
    rec.wait_state(0, chinwag::ConnectionState::Connected);
    let _bob = group_event_then_message(&server, "held behind the group event");
    // The message is stored and sent; it waits behind the group event nobody listens to yet.
    let j = rec.len();
    rec.expect_none(
        j,
        "the message before a group listener",
        Duration::from_millis(500),
        |e| matches!(e, Event::Message(_)),
    );
    // A group listener comes: the group event goes to it, then the message follows.
    let groups = Recorder::default();
    alice
        .add_listener(ListenerKind::Group, "groups", groups.listener())
        .unwrap();
    groups.wait("the held group event", |e| {
        matches!(e, Event::GroupMember(_))
    });
    rec.wait("the message after it", |e| {
        is_text(e, "held behind the group event")
    });
}
