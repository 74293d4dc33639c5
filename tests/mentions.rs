//! Mentions through the Rust API against the real server: `<@uid:UID>` parsed into
//! `mentioned_users`, `mentions_me` on events and reads for the reader it names, and the
//! conversation's unread-mentions count cleared by a read.
mod common;

use chinwag::protocol::conversations::Conversation;
use chinwag::protocol::model::{Message, ReceiptKind, ReceiverType};
use chinwag::{Event, MessagesRequest, Page};
use common::*;

fn conversation_with(client: &chinwag::Client, with: &str) -> Conversation {
    let (done, rx) = completion();
    client
        .get_conversation(ReceiverType::User, with, Some(done))
        .unwrap();
    ok(rx)
}

#[test]
fn mentions_are_parsed_flagged_for_the_reader_and_counted_until_read() {
    let server = Server::start();
    for u in ["alice", "bob", "carl"] {
        server.create_user(u);
    }
    let (alice, _) = connected(&server, "alice");
    let (bob, bob_rec) = connected(&server, "bob");

    let first: Message = ok(send(
        &alice,
        "bob",
        "hi <@uid:bob>, ask <@uid:carl> <@uid:nobody>",
    ));
    assert_eq!(first.mentioned_users, ["bob", "carl"]);
    assert!(!first.mentions_me, "alice is not mentioned");
    let second: Message = ok(send(&alice, "bob", "plain"));
    let third: Message = ok(send(&alice, "bob", "<@uid:bob>?"));

    // The event carries the flag for its reader (the SDK sets it from `mentioned_users`).
    let event = bob_rec.wait(
        "the first message",
        |e| matches!(e, Event::Message(m) if m.id == first.id),
    );
    let Event::Message(m) = event else {
        unreachable!()
    };
    assert!(m.mentions_me);
    assert_eq!(m.mentioned_users, ["bob", "carl"]);
    bob_rec.wait(
        "the plain message",
        |e| matches!(e, Event::Message(m) if m.id == second.id && !m.mentions_me),
    );

    let conv = conversation_with(&bob, "alice");
    assert_eq!((conv.unread_count, conv.unread_mentions_count), (3, 2));
    assert!(conv.last_message.as_ref().is_some_and(|m| m.mentions_me));

    // History answers say which messages mention the reader.
    let request = MessagesRequest::new(ReceiverType::User, "alice").unwrap();
    let (done, rx) = completion();
    bob.fetch_previous(&request, Some(done)).unwrap();
    let page: Page<Message> = ok(rx);
    let flags: Vec<bool> = page.items.iter().map(|m| m.mentions_me).collect();
    assert_eq!(flags, [true, false, true]);

    // A read up to the second message leaves one mention; the badge event says so.
    bob.mark(ReceiptKind::Read, second.id).unwrap();
    bob_rec.wait("one unread mention left", |e| {
        matches!(e, Event::ConversationUpdated(c)
            if c.with == "alice" && c.unread_count == 1 && c.unread_mentions_count == 1)
    });
    bob.mark(ReceiptKind::Read, third.id).unwrap();
    bob_rec.wait("no unread mention left", |e| {
        matches!(e, Event::ConversationUpdated(c)
            if c.with == "alice" && c.unread_count == 0 && c.unread_mentions_count == 0)
    });
}

#[test]
fn a_message_with_too_many_mentions_is_refused_with_a_clear_error() {
    let server = Server::start();
    for u in ["alice", "bob"] {
        server.create_user(u);
    }
    let (alice, _) = connected(&server, "alice");
    let limit = chinwag::protocol::mentions::MAX_MENTIONS;
    let text: String = (0..=limit).map(|i| format!("<@uid:u{i}> ")).collect();
    let err = send(&alice, "bob", &text)
        .recv_timeout(WAIT)
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code, chinwag::ErrorCode::InvalidArgument, "{err}");
    assert!(err.message.contains("at most 32 users"), "{err}");
}
