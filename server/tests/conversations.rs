//! Conversations against the real server: the list with last message and unread counts, kept
//! current by sends and receipts; two devices agreeing on the badge; totals; paging and
//! filters; deleting a conversation for oneself; bad input.
mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

async fn get(server: &TestServer, token: &str, path: &str) -> (u16, Value) {
    let r = server.user(token, Method::GET, path).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn ok(server: &TestServer, token: &str, path: &str) -> Value {
    let (status, body) = get(server, token, path).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// The conversation with `with` in a list answer.
fn find<'a>(list: &'a Value, with: &str) -> &'a Value {
    list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["with"] == with)
        .unwrap_or_else(|| panic!("no conversation with {with} in {list}"))
}

/// The next `conversation_updated` of the conversation with `with` (earlier ones of others are
/// skipped).
async fn updated_with(ws: &mut Ws, with: &str) -> Value {
    loop {
        let u = ws.expect_event("conversation_updated").await;
        if u["data"]["with"] == with {
            return u;
        }
    }
}

/// Sequence numbers on a socket only grow.
fn assert_increasing(seqs: &[u64]) {
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}

#[tokio::test]
async fn sends_and_reads_keep_the_list_and_both_devices_current() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let carol = server.user_token("carol").await;
    server.group(&carol, "club", &["alice", "bob"]).await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut c, _) = server.connect(&carol).await;
    let (mut phone, _) = server.connect(&bob).await;
    let (mut laptop, _) = server.connect(&bob).await;

    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        ids.push(a.send_text("user", "bob", text).await["data"]["id"].clone());
    }
    c.send_text("group", "club", "hello club").await;
    let last_group = c.send_text("group", "club", "anyone?").await["data"]["id"].clone();

    let list = ok(&server, &bob, "/v1/conversations").await;
    assert_eq!(list["conversations"].as_array().unwrap().len(), 2);
    // Newest first: the group's message came last.
    assert_eq!(list["conversations"][0]["with"], "club");
    assert_eq!(list["conversations"][0]["conversation_type"], "group");
    assert_eq!(list["conversations"][0]["group"]["guid"], "club");
    assert_eq!(list["conversations"][0]["last_message"]["id"], last_group);
    assert_eq!(list["conversations"][0]["unread_count"], 2);
    let with_alice = find(&list, "alice");
    assert_eq!(with_alice["conversation_id"], "user:alice:bob");
    assert_eq!(with_alice["user"]["uid"], "alice");
    assert_eq!(with_alice["last_message"]["text"], "three");
    assert_eq!(with_alice["unread_count"], 3);
    assert_eq!(with_alice["last_read_message_id"], 0);
    assert!(list.get("next_before").is_none(), "one page: {list}");
    assert_eq!(
        ok(&server, &bob, "/v1/conversations/unread").await,
        json!({"total": 5, "users": {"alice": 3}, "groups": {"club": 2}})
    );
    // The sender's own messages are never unread for her.
    let theirs = ok(&server, &alice, "/v1/conversations/user/bob").await;
    assert_eq!(theirs["unread_count"], 0);
    assert_eq!(theirs["last_message"]["text"], "three");

    // Read on the phone up to the second message: both devices hear the new badge.
    let ack = phone
        .request(json!({"type": "receipt", "kind": "read", "message_id": ids[1]}))
        .await;
    assert_eq!(ack["result"]["event"], "receipt", "{ack}");
    let receipt_seq = ack["result"]["seq"].as_u64().unwrap();
    for device in [&mut phone, &mut laptop] {
        let u = device.expect_event("conversation_updated").await;
        // After the receipt in the user's sequence, as every socket receives them.
        assert_increasing(&[receipt_seq, u["seq"].as_u64().unwrap()]);
        assert_eq!(u["data"]["with"], "alice");
        assert_eq!(u["data"]["unread_count"], 1);
        assert_eq!(u["data"]["last_read_message_id"], ids[1]);
        assert_eq!(u["data"]["last_delivered_message_id"], ids[1]);
    }
    let one = ok(&server, &bob, "/v1/conversations/user/alice").await;
    assert_eq!(one["unread_count"], 1);
    assert_eq!(
        ok(&server, &bob, "/v1/conversations/unread").await["total"],
        3
    );
    // Reading an older message again changes nothing: no event, same count.
    let ack = laptop
        .request(json!({"type": "receipt", "kind": "read", "message_id": ids[0]}))
        .await;
    assert_eq!(ack["type"], "ack");
    // Delivered up to the last one moves only the delivered mark.
    laptop
        .request(json!({"type": "receipt", "kind": "delivered", "message_id": ids[2]}))
        .await;
    let u = phone.expect_event("conversation_updated").await;
    assert_eq!(u["data"]["last_delivered_message_id"], ids[2]);
    assert_eq!(u["data"]["last_read_message_id"], ids[1], "{u}");
    assert_eq!(u["data"]["unread_count"], 1);

    // Only unread, only groups, only users.
    let unread = ok(&server, &bob, "/v1/conversations?unread_only=true").await;
    assert_eq!(unread["conversations"].as_array().unwrap().len(), 2);
    // Without `req` (as the SDK sends receipts): both devices still hear the new badge.
    phone
        .send(json!({"type": "receipt", "kind": "read", "message_id": last_group}))
        .await;
    for device in [&mut phone, &mut laptop] {
        let u = updated_with(device, "club").await;
        assert_eq!(u["data"]["unread_count"], 0);
    }
    let unread = ok(&server, &bob, "/v1/conversations?unread_only=true").await;
    assert_eq!(unread["conversations"].as_array().unwrap().len(), 1);
    assert_eq!(unread["conversations"][0]["with"], "alice");
    let groups = ok(&server, &bob, "/v1/conversations?type=group").await;
    assert_eq!(groups["conversations"].as_array().unwrap().len(), 1);
    assert_eq!(groups["conversations"][0]["unread_count"], 0);
    let users = ok(&server, &bob, "/v1/conversations?type=user").await;
    assert_eq!(users["conversations"][0]["with"], "alice");
    assert_eq!(
        ok(&server, &bob, "/v1/conversations/unread").await,
        json!({"total": 1, "users": {"alice": 1}, "groups": {}})
    );
}

#[tokio::test]
async fn pages_newest_first_with_a_cursor() {
    let server = TestServer::start().await;
    let me = server.user_token("me").await;
    let mut senders = Vec::new();
    for i in 0..5 {
        let uid = format!("u{i}");
        let token = server.user_token(&uid).await;
        senders.push((uid, token));
    }
    for (uid, token) in &senders {
        let r = server
            .user(token, Method::POST, "/v1/messages")
            .json(
                &json!({"receiver_type": "user", "receiver": "me", "text": format!("from {uid}")}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let mut seen = Vec::new();
    let mut path = "/v1/conversations?limit=2".to_string();
    loop {
        let page = ok(&server, &me, &path).await;
        for c in page["conversations"].as_array().unwrap() {
            seen.push(c["with"].as_str().unwrap().to_string());
        }
        match page["next_before"].as_i64() {
            Some(b) => path = format!("/v1/conversations?limit=2&before={b}"),
            None => break,
        }
    }
    assert_eq!(seen, ["u4", "u3", "u2", "u1", "u0"]);
}

#[tokio::test]
async fn deleting_a_conversation_hides_it_for_me_until_a_new_message() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut b, _) = server.connect(&bob).await;
    a.send_text("user", "bob", "first").await;
    a.send_text("user", "bob", "second").await;

    let r = server
        .user(&bob, Method::DELETE, "/v1/conversations/user/alice")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let u = b.expect_event("conversation_updated").await;
    assert_eq!(u["data"]["deleted"], true);
    assert_eq!(u["data"]["unread_count"], 0);
    let list = ok(&server, &bob, "/v1/conversations").await;
    assert_eq!(list["conversations"], json!([]));
    assert_eq!(
        ok(&server, &bob, "/v1/conversations/unread").await["total"],
        0
    );
    let (status, body) = get(&server, &bob, "/v1/conversations/user/alice").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("NOT_FOUND")));
    // Only for bob: alice still has it.
    let hers = ok(&server, &alice, "/v1/conversations").await;
    assert_eq!(find(&hers, "bob")["last_message"]["text"], "second");
    // Deleting again succeeds and changes nothing.
    let r = server
        .user(&bob, Method::DELETE, "/v1/conversations/user/alice")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    a.send_text("user", "bob", "third").await;
    let list = ok(&server, &bob, "/v1/conversations").await;
    let back = find(&list, "alice");
    assert_eq!(back["last_message"]["text"], "third");
    assert_eq!(back["unread_count"], 1, "only what came after the delete");
}

#[tokio::test]
async fn a_group_left_drops_out_of_the_list_and_the_totals() {
    let server = TestServer::start().await;
    let owner = server.user_token("owner").await;
    let bob = server.user_token("bob").await;
    server.group(&owner, "g", &["bob"]).await;
    let (mut o, _) = server.connect(&owner).await;
    o.send_text("group", "g", "hi all").await;
    assert_eq!(
        ok(&server, &bob, "/v1/conversations/unread").await["groups"]["g"],
        1
    );
    let r = server
        .user(&bob, Method::POST, "/v1/groups/g/leave")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        ok(&server, &bob, "/v1/conversations").await["conversations"],
        json!([])
    );
    assert_eq!(
        ok(&server, &bob, "/v1/conversations/unread").await,
        json!({"total": 0, "users": {}, "groups": {}})
    );
}

/// Bob's unread count in g and whether g is in his list.
async fn bobs_g(server: &TestServer, bob: &str) -> (u64, bool) {
    let unread = ok(server, bob, "/v1/conversations/unread").await;
    let list = ok(server, bob, "/v1/conversations").await;
    let listed = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["with"] == "g");
    (unread["groups"]["g"].as_u64().unwrap_or(0), listed)
}

#[tokio::test]
async fn a_group_deleted_for_me_or_rejoined_starts_over_at_the_next_message() {
    let server = TestServer::start().await;
    let owner = server.user_token("owner").await;
    let bob = server.user_token("bob").await;
    server.group(&owner, "g", &["bob"]).await;
    assert_eq!(bobs_g(&server, &bob).await, (0, false), "nothing said yet");
    let (mut o, _) = server.connect(&owner).await;
    o.send_text("group", "g", "one").await;
    o.send_text("group", "g", "two").await;
    assert_eq!(bobs_g(&server, &bob).await, (2, true));

    let r = server
        .user(&bob, Method::DELETE, "/v1/conversations/group/g")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(bobs_g(&server, &bob).await, (0, false), "deleted for bob");
    let three = o.send_text("group", "g", "three").await["data"]["id"].clone();
    assert_eq!(
        bobs_g(&server, &bob).await,
        (1, true),
        "back with the next message"
    );
    let (status, conv) = get(&server, &bob, "/v1/conversations/group/g").await;
    assert_eq!(status, 200, "{conv}");
    assert_eq!(conv["last_message"]["id"], three);

    // Left, then back: what was said meanwhile is not unread, and the group stays out of the
    // list until its next message.
    let r = server
        .user(&bob, Method::POST, "/v1/groups/g/leave")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    o.send_text("group", "g", "while bob was away").await;
    let r = server
        .user(&bob, Method::POST, "/v1/groups/g/join")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(bobs_g(&server, &bob).await, (0, false));
    o.send_text("group", "g", "welcome back").await;
    assert_eq!(bobs_g(&server, &bob).await, (1, true));
    // The owner's own messages never count for the owner.
    let mine = ok(&server, &owner, "/v1/conversations/unread").await;
    assert_eq!(mine["total"], 0, "{mine}");
}

#[tokio::test]
async fn bad_requests_get_specific_errors() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    server.create_user("bob").await;
    for (path, status, code) in [
        ("/v1/conversations?type=channel", 400, "INVALID_ARGUMENT"),
        ("/v1/conversations?limit=0", 400, "INVALID_ARGUMENT"),
        ("/v1/conversations?limit=101", 400, "INVALID_ARGUMENT"),
        ("/v1/conversations?before=-3", 400, "INVALID_ARGUMENT"),
        ("/v1/conversations?unread_only=maybe", 400, "BAD_REQUEST"),
        ("/v1/conversations/channel/x", 400, "INVALID_ARGUMENT"),
        ("/v1/conversations/user/nobody", 404, "USER_NOT_FOUND"),
        ("/v1/conversations/group/nothere", 404, "GROUP_NOT_FOUND"),
        // Never messaged: no conversation yet.
        ("/v1/conversations/user/bob", 404, "NOT_FOUND"),
    ] {
        let (s, body) = get(&server, &alice, path).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (status, Some(code)),
            "{path}: {body}"
        );
    }
}
