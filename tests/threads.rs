//! Threads through the Rust API against the real server: replies give the parent a reply
//! count and last reply time, `ThreadUpdated` follows each reply, and a thread request pages the
//! replies like a history.
mod common;

use chinwag::protocol::model::{Message, NewMessage, ReceiverType};
use chinwag::{ErrorCode, Event, MessagesRequest, Page};
use common::*;

fn reply(client: &chinwag::Client, to: &str, parent: i64, text: &str) -> Message {
    let (done, rx) = completion();
    let m = NewMessage {
        parent_id: Some(parent),
        ..NewMessage::text(ReceiverType::User, to, text)
    };
    client.send_message(m, Some(done)).unwrap();
    ok(rx)
}

#[test]
fn replies_count_on_the_parent_and_the_thread_pages() {
    let server = Server::start();
    for u in ["alice", "bob"] {
        server.create_user(u);
    }
    let (alice, _) = connected(&server, "alice");
    let (bob, bob_rec) = connected(&server, "bob");

    let parent: Message = ok(send(&alice, "bob", "question"));
    let replies: Vec<Message> = (0..3)
        .map(|i| reply(&alice, "bob", parent.id, &format!("r{i}")))
        .collect();
    assert!(replies.iter().all(|r| r.parent_id == Some(parent.id)));
    let updated = bob_rec.wait(
        "the thread at three replies",
        |e| matches!(e, Event::ThreadUpdated(m) if m.id == parent.id && m.reply_count == 3),
    );
    let Event::ThreadUpdated(updated) = updated else {
        unreachable!()
    };
    assert_eq!(updated.last_reply_at, Some(replies[2].sent_at));

    // The newest two replies, then the one before them.
    let request = MessagesRequest::thread(parent.id)
        .unwrap()
        .limit(2)
        .unwrap();
    let (done, rx) = completion();
    bob.fetch_previous(&request, Some(done)).unwrap();
    let page: Page<Message> = ok(rx);
    let got: Vec<i64> = page.items.iter().map(|m| m.id).collect();
    assert_eq!(got, [replies[1].id, replies[2].id]);
    assert!(page.has_more);
    let (done, rx) = completion();
    bob.fetch_previous(&request, Some(done)).unwrap();
    let page: Page<Message> = ok(rx);
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].id, replies[0].id);
    assert!(!page.has_more);

    // The parent read back carries the count.
    let history = server.history("bob", "alice");
    let read = history.iter().find(|m| m.id == parent.id).unwrap();
    assert_eq!(
        (read.reply_count, read.last_reply_at),
        (3, Some(replies[2].sent_at))
    );

    // An unknown parent: the request is made, the server refuses the fetch.
    let request = MessagesRequest::thread(i64::MAX).unwrap();
    let (done, rx) = completion();
    bob.fetch_previous(&request, Some(done)).unwrap();
    let err = rx.recv_timeout(WAIT).unwrap().unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound, "{err}");
    assert!(MessagesRequest::thread(0).is_err());
}
