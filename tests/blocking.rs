//! Blocking through the Rust API against the real server: the blocked user's message is
//! refused and never delivered, the flag in user lists, the blocked list, unblocking.
mod common;

use chinwag::protocol::model::{ReceiverType, User};
use chinwag::{ErrorCode, Event, UserFilters, UsersRequest};
use common::*;

fn from(e: &Event, sender: &str) -> bool {
    matches!(e, Event::Message(m) if m.sender == sender)
}

#[test]
fn a_blocked_users_message_is_refused_and_never_delivered() {
    let server = Server::start();
    for u in ["alice", "bob", "carol"] {
        server.create_user(u);
    }
    let (alice, ra) = connected(&server, "alice");
    let (bob, _rb) = connected(&server, "bob");
    let (carol, _rc) = connected(&server, "carol");

    let (done, rx) = completion();
    alice.block_user("bob", Some(done)).unwrap();
    let blocked: Vec<User> = ok(rx);
    assert_eq!(blocked.len(), 1);
    assert!(blocked[0].uid == "bob" && blocked[0].blocked_by_me);

    let refused = send(&bob, "alice", "can you hear me?")
        .recv_timeout(WAIT)
        .unwrap()
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Forbidden);
    assert!(refused.message.contains("BLOCKED"), "{}", refused.message);
    assert!(
        refused.message.contains("has blocked you"),
        "{}",
        refused.message
    );
    // Typing is refused at the server too; the error arrives as a log, never as an event.
    bob.start_typing(ReceiverType::User, "alice").unwrap();
    // Carol's message is the barrier: nothing of bob's came before it.
    let mark = ra.len();
    ok(send(&carol, "alice", "after bob"));
    let (at, _) = ra.wait_from(mark, "carol's message", |e| from(e, "carol"));
    assert!(
        !ra.events()[mark..at]
            .iter()
            .any(|e| from(e, "bob") || matches!(e, Event::TypingStarted(t) if t.sender == "bob")),
        "alice heard bob"
    );
    assert!(
        server.history("alice", "bob").is_empty(),
        "nothing was stored"
    );

    // Flagged in alice's user list, and the blocked list.
    let (done, rx) = completion();
    let request = UsersRequest::new(UserFilters {
        search: Some("bob".into()),
        ..Default::default()
    });
    alice.fetch_users(&request, Some(done)).unwrap();
    let page = ok(rx);
    assert!(page.items.iter().any(|u| u.uid == "bob" && u.blocked_by_me));
    let (done, rx) = completion();
    alice.blocked_users(Some(done)).unwrap();
    assert_eq!(
        ok(rx).iter().map(|u| u.uid.as_str()).collect::<Vec<_>>(),
        ["bob"]
    );

    // Unblocked: bob reaches alice.
    let (done, rx) = completion();
    alice.unblock_user("bob", Some(done)).unwrap();
    ok(rx);
    ok(send(&bob, "alice", "back"));
    ra.wait("bob's message", |e| from(e, "bob"));
    let (done, rx) = completion();
    alice.blocked_users(Some(done)).unwrap();
    assert!(ok(rx).is_empty());

    // Bad input fails at the call.
    assert_eq!(
        alice.block_user("", None).unwrap_err().code,
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        alice.unblock_user("no spaces", None).unwrap_err().code,
        ErrorCode::InvalidArgument
    );
}
