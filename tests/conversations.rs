//! Conversations through the Rust API against the real server: the list with unread counts,
//! two devices agreeing on the badge after reads on one of them, exact counts after 1,000
//! messages in 20 conversations, paging and filters, deleting a conversation for oneself.
mod common;

use std::collections::BTreeMap;

use chinwag::protocol::conversations::Conversation;
use chinwag::protocol::model::{GroupType, Message, ReceiptKind, ReceiverType};
use chinwag::{Client, ConversationsRequest, ErrorCode, Event, Page};
use common::*;

/// Every conversation of `client`, fetched page by page.
fn all_conversations(client: &Client, request: &ConversationsRequest) -> Vec<Conversation> {
    let mut out = Vec::new();
    loop {
        let (done, rx) = completion();
        client.fetch_conversations(request, Some(done)).unwrap();
        let page: Page<Conversation> = ok(rx);
        out.extend(page.items);
        if !page.has_more {
            return out;
        }
    }
}

fn unread(client: &Client) -> chinwag::protocol::conversations::UnreadCounts {
    let (done, rx) = completion();
    client.unread_counts(Some(done)).unwrap();
    ok(rx)
}

fn updated(e: &Event, with: &str, unread: u64) -> bool {
    matches!(e, Event::ConversationUpdated(c) if c.with == with && c.unread_count == unread)
}

#[test]
fn counts_are_exact_after_1000_messages_in_20_conversations_and_agree_on_two_devices() {
    let server = Server::start();
    let peers = ["p0", "p1", "p2", "p3"];
    for u in ["me"].iter().chain(peers.iter()) {
        server.create_user(u);
    }
    let senders: Vec<(Client, Recorder)> = peers.iter().map(|p| connected(&server, p)).collect();
    let (phone, phone_rec) = connected(&server, "me");
    let (laptop, laptop_rec) = connected(&server, "me");
    // 4 one-to-one conversations (one per peer) and 16 groups with every peer: 20 for "me".
    let groups: Vec<String> = (0..16).map(|i| format!("g{i:02}")).collect();
    for g in &groups {
        let (done, rx) = completion();
        phone
            .create_group(g, &format!("Group {g}"), GroupType::Private, Some(done))
            .unwrap();
        ok(rx);
        let (done, rx) = completion();
        let members: Vec<(&str, Option<_>)> = peers.iter().map(|p| (*p, None)).collect();
        phone.add_members(g, &members, Some(done)).unwrap();
        ok(rx);
    }
    let target = |conv: usize| -> (ReceiverType, String) {
        if conv < peers.len() {
            (ReceiverType::User, "me".to_string())
        } else {
            (ReceiverType::Group, groups[conv - peers.len()].clone())
        }
    };
    let with_of = |conv: usize| -> String {
        if conv < peers.len() {
            peers[conv].to_string()
        } else {
            groups[conv - peers.len()].clone()
        }
    };
    // Message i goes to conversation i % 20: from its peer (one-to-one) or from peer i % 4.
    let mut sent: BTreeMap<String, Vec<Message>> = BTreeMap::new();
    for batch in (0..1000).collect::<Vec<usize>>().chunks(100) {
        let mut waiting = Vec::new();
        for &i in batch {
            let conv = i % 20;
            let sender = if conv < peers.len() { conv } else { i % 4 };
            let (kind, to) = target(conv);
            let (done, rx) = completion();
            senders[sender]
                .0
                .send_text(kind, &to, &format!("m{i}"), Some(done))
                .unwrap();
            waiting.push((with_of(conv), rx));
        }
        for (with, rx) in waiting {
            sent.entry(with).or_default().push(ok(rx));
        }
    }
    let mut expected: BTreeMap<String, u64> = sent.keys().map(|w| (w.clone(), 50)).collect();
    let counts = unread(&phone);
    assert_eq!(counts.total, 1000);
    assert_eq!(counts.users.len() + counts.groups.len(), 20);
    assert!(counts
        .users
        .values()
        .chain(counts.groups.values())
        .all(|n| *n == 50));

    // Reads on the phone: the 30th message with p1, all of g03, the 1st of g10.
    let reads = [("p1", 29usize), ("g03", 49), ("g10", 0)];
    for (with, index) in reads {
        let mut ids: Vec<i64> = sent[with].iter().map(|m| m.id).collect();
        ids.sort_unstable();
        phone.mark(ReceiptKind::Read, ids[index]).unwrap();
        let left = 49 - index as u64;
        expected.insert(with.to_string(), left);
        // Both devices hear the new badge.
        for rec in [&phone_rec, &laptop_rec] {
            rec.wait(&format!("{with} at {left} unread"), |e| {
                updated(e, with, left)
            });
        }
    }
    let want_total: u64 = expected.values().sum();
    assert_eq!(want_total, 1000 - 30 - 50 - 1);
    for device in [&phone, &laptop] {
        let counts = unread(device);
        assert_eq!(counts.total, want_total);
        let mut got = counts.users.clone();
        got.extend(counts.groups.clone());
        got.retain(|_, n| *n > 0);
        let mut want = expected.clone();
        want.retain(|_, n| *n > 0);
        assert_eq!(got, want);
        // The list agrees with the totals, newest last message first, in pages of 7.
        let list = all_conversations(device, &ConversationsRequest::new().limit(7).unwrap());
        assert_eq!(list.len(), 20);
        for c in &list {
            assert_eq!(c.unread_count, expected[&c.with], "{}", c.with);
        }
        let last_ids: Vec<i64> = list
            .iter()
            .map(|c| c.last_message.as_ref().expect("last message").id)
            .collect();
        let mut sorted = last_ids.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(last_ids, sorted, "newest first");
        // The last message of each is the newest one sent there.
        for c in &list {
            let newest = sent[&c.with].iter().map(|m| m.id).max();
            assert_eq!(c.last_message.as_ref().map(|m| m.id), newest);
        }
    }
    // Filters: groups only, unread only.
    let only_groups = all_conversations(
        &laptop,
        &ConversationsRequest::new().conversation_type(ReceiverType::Group),
    );
    assert_eq!(only_groups.len(), 16);
    assert!(only_groups
        .iter()
        .all(|c| c.group.is_some() && c.user.is_none()));
    let only_unread = all_conversations(&laptop, &ConversationsRequest::new().unread_only(true));
    assert_eq!(only_unread.len(), 19, "g03 was read to the end");
}

#[test]
fn get_and_delete_a_conversation_and_its_errors() {
    let server = Server::start();
    for u in ["alice", "bob", "carol"] {
        server.create_user(u);
    }
    let (alice, _ra) = connected(&server, "alice");
    let (bob, rb) = connected(&server, "bob");
    for text in ["one", "two"] {
        ok(send(&alice, "bob", text));
    }
    let (done, rx) = completion();
    bob.get_conversation(ReceiverType::User, "alice", Some(done))
        .unwrap();
    let c: Conversation = ok(rx);
    assert_eq!(
        (c.unread_count, c.conversation_id.as_str()),
        (2, "user:alice:bob")
    );
    assert_eq!(c.user.as_ref().map(|u| u.uid.as_str()), Some("alice"));
    assert_eq!(c.last_message.and_then(|m| m.text).as_deref(), Some("two"));

    let (done, rx) = completion();
    bob.delete_conversation(ReceiverType::User, "alice", Some(done))
        .unwrap();
    ok(rx);
    rb.wait(
        "deleted",
        |e| matches!(e, Event::ConversationUpdated(c) if c.deleted && c.with == "alice"),
    );
    assert!(all_conversations(&bob, &ConversationsRequest::new()).is_empty());
    assert_eq!(unread(&bob).total, 0);
    let (done, rx) = completion::<Conversation>();
    bob.get_conversation(ReceiverType::User, "alice", Some(done))
        .unwrap();
    let e = rx.recv_timeout(WAIT).unwrap().unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    ok(send(&alice, "bob", "three"));
    let back = all_conversations(&bob, &ConversationsRequest::new());
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].unread_count, 1);

    // Bad input fails at the call, before any network.
    for bad in ["", "has space"] {
        let e = bob
            .get_conversation(ReceiverType::User, bad, None)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument, "{bad:?}");
        let e = bob
            .delete_conversation(ReceiverType::Group, bad, None)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument, "{bad:?}");
    }
    assert_eq!(
        ConversationsRequest::new().limit(0).unwrap_err().code,
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        ConversationsRequest::new().limit(101).unwrap_err().code,
        ErrorCode::InvalidArgument
    );
    // Unknown user: refused by the server.
    let (done, rx) = completion::<Conversation>();
    bob.get_conversation(ReceiverType::User, "nobody", Some(done))
        .unwrap();
    assert_eq!(
        rx.recv_timeout(WAIT).unwrap().unwrap_err().code,
        ErrorCode::NotFound
    );
    // Logged out: refused at the call.
    let (anon, _r) = new_client(&server, server.settings());
    assert_eq!(
        anon.unread_counts(None).unwrap_err().code,
        ErrorCode::NotLoggedIn
    );
}
