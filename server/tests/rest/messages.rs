//! Messages: send, size limits, history, get, edit, delete.

use crate::common::*;
use crate::support::*;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn send_message_over_rest() {
    let server = TestServer::start().await;
    let [alice, bob]: [String; 2] = users(&server, &["alice", "bob"]).await.try_into().unwrap();
    let (mut ws, _) = server.connect(&bob).await;

    let sent = ok(
        server
            .user(&alice, Method::POST, "/v1/messages")
            .json(&json!({
                "muid": "m-1", "receiver_type": "user", "receiver": "bob", "text": "hello",
                "metadata": {"x": 1}
            })),
        201,
    )
    .await;
    assert_eq!(sent["event"], "message");
    let seq = sent["seq"].as_u64().unwrap();
    assert!(seq >= 1, "{sent}");
    let m = &sent["data"];
    assert!(m["id"].as_i64().unwrap() > 0);
    assert_eq!(m["muid"], "m-1");
    assert_eq!(m["sender"], "alice");
    assert_eq!(m["receiver_type"], "user");
    assert_eq!(m["receiver"], "bob");
    assert_eq!(m["conversation_id"], "user:alice:bob");
    assert_eq!(m["category"], "message");
    assert_eq!(m["type"], "text");
    assert_eq!(m["text"], "hello");
    assert_eq!(m["metadata"], json!({"x": 1}));
    assert!(m["sent_at"].as_i64().unwrap() > 0);

    // Delivered live to the receiver.
    let got = ws.expect_event("message").await;
    assert_eq!(got["data"]["id"], m["id"]);
    assert_eq!(got["data"]["text"], "hello");

    // The same muid again is the same message, stored once.
    let again = ok(
        server
            .user(&alice, Method::POST, "/v1/messages")
            .json(&json!({
                "muid": "m-1", "receiver_type": "user", "receiver": "bob", "text": "hello"
            })),
        201,
    )
    .await;
    assert_eq!(again, sent);
    let history = ok(
        server.user(
            &bob,
            Method::GET,
            "/v1/messages?receiver_type=user&receiver=alice",
        ),
        200,
    )
    .await;
    assert_eq!(message_ids(&history), [m["id"].as_i64().unwrap()]);

    // Media and custom messages, and replies.
    let image = send_image(&server, &alice).await;
    assert_eq!(image["data"]["attachments"][0]["url"], "https://x/cat.png");
    let custom = ok(
        server
            .user(&alice, Method::POST, "/v1/messages")
            .json(&json!({
                "receiver_type": "user", "receiver": "bob", "category": "custom", "type": "poll",
                "data": {"q": "?"}, "parent_id": m["id"]
            })),
        201,
    )
    .await;
    assert_eq!(custom["data"]["category"], "custom");
    assert_eq!(custom["data"]["data"], json!({"q": "?"}));
    assert_eq!(custom["data"]["parent_id"], m["id"]);
    assert!(custom["seq"].as_u64().unwrap() > seq);
}

async fn send_image(server: &TestServer, token: &str) -> Value {
    ok(
        server
            .user(token, Method::POST, "/v1/messages")
            .json(&json!({
                "receiver_type": "user", "receiver": "bob", "type": "image",
                "attachments": [{"url": "https://x/cat.png", "mime_type": "image/png"}]
            })),
        201,
    )
    .await
}

#[tokio::test]
async fn send_message_errors() {
    let server = TestServer::start().await;
    let [alice, bob]: [String; 2] = users(&server, &["alice", "bob"]).await.try_into().unwrap();
    server.group(&bob, "bobs", &[]).await;
    server.group(&alice, "alices", &[]).await;
    let first = send_text(&server, &alice, "group", "alices", "in the group").await;
    let send = |body: Value| {
        server
            .user(&alice, Method::POST, "/v1/messages")
            .json(&body)
    };

    fails(
        send(json!({"receiver_type": "user", "receiver": "alice", "text": "me"})),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    fails(
        send(json!({"receiver_type": "user", "receiver": "ghost", "text": "x"})),
        404,
        "USER_NOT_FOUND",
    )
    .await;
    fails(
        send(json!({"receiver_type": "group", "receiver": "nowhere", "text": "x"})),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    fails(
        send(json!({"receiver_type": "group", "receiver": "bobs", "text": "x"})),
        403,
        "NOT_A_MEMBER",
    )
    .await;
    for bad in [
        json!({"receiver_type": "user", "receiver": "bob", "text": ""}),
        json!({"receiver_type": "user", "receiver": "bob"}),
        json!({"receiver_type": "user", "receiver": "b:ob", "text": "x"}),
        json!({"receiver_type": "user", "receiver": "bob", "text": "x", "muid": "a b"}),
        json!({"receiver_type": "user", "receiver": "bob", "type": "image"}),
        json!({"receiver_type": "user", "receiver": "bob", "type": "image",
               "attachments": [{"url": " "}]}),
        json!({"receiver_type": "user", "receiver": "bob", "type": "sticker", "text": "x"}),
        json!({"receiver_type": "user", "receiver": "bob", "category": "custom", "type": "poll"}),
        json!({"receiver_type": "user", "receiver": "bob", "text": "x", "metadata": []}),
        // A parent from another conversation.
        json!({"receiver_type": "user", "receiver": "bob", "text": "x",
               "parent_id": first["data"]["id"]}),
        json!({"receiver_type": "user", "receiver": "bob", "text": "x", "quoted_id": 999_999}),
    ] {
        fails(send(bad), 400, "INVALID_ARGUMENT").await;
    }
    fails(
        send(json!({"receiver_type": "channel", "receiver": "bob", "text": "x"})),
        400,
        "BAD_REQUEST",
    )
    .await;
    // Nothing reached bob.
    let history = ok(
        server.user(
            &bob,
            Method::GET,
            "/v1/messages?receiver_type=user&receiver=alice",
        ),
        200,
    )
    .await;
    assert_eq!(message_ids(&history), Vec::<i64>::new());
}

#[tokio::test]
async fn text_is_limited_to_64_kib() {
    let server = TestServer::start().await;
    let [alice, _bob]: [String; 2] = users(&server, &["alice", "bob"]).await.try_into().unwrap();
    let send = |text: String| {
        server
            .user(&alice, Method::POST, "/v1/messages")
            .json(&json!({"receiver_type": "user", "receiver": "bob", "text": text}))
    };
    let limit = chinwag_protocol::limits::MAX_TEXT_BYTES;
    assert_eq!(limit, 65536);
    fails(send("x".repeat(limit + 1)), 400, "TEXT_TOO_LONG").await;
    // Bytes, not characters: 32769 two-byte characters are 65538 bytes.
    fails(send("é".repeat(limit / 2 + 1)), 400, "TEXT_TOO_LONG").await;
    let sent = ok(send("x".repeat(limit)), 201).await;
    assert_eq!(sent["data"]["text"].as_str().unwrap().len(), limit);
    let sent = ok(send("é".repeat(limit / 2)), 201).await;
    let id = sent["data"]["id"].as_i64().unwrap();

    // Captions, custom texts and edits follow the same rule.
    fails(
        server
            .user(&alice, Method::POST, "/v1/messages")
            .json(&json!({
                "receiver_type": "user", "receiver": "bob", "type": "image",
                "attachments": [{"url": "https://x/a.png"}], "text": "x".repeat(limit + 1)
            })),
        400,
        "TEXT_TOO_LONG",
    )
    .await;
    fails(
        server
            .user(&alice, Method::POST, "/v1/messages")
            .json(&json!({
                "receiver_type": "user", "receiver": "bob", "category": "custom", "type": "note",
                "data": {}, "text": "x".repeat(limit + 1)
            })),
        400,
        "TEXT_TOO_LONG",
    )
    .await;
    fails(
        server
            .user(&alice, Method::PATCH, &format!("/v1/messages/{id}"))
            .json(&json!({"text": "y".repeat(limit + 1)})),
        400,
        "TEXT_TOO_LONG",
    )
    .await;
    let m = ok(
        server.user(&alice, Method::GET, &format!("/v1/messages/{id}")),
        200,
    )
    .await;
    assert_eq!(m["text"], "é".repeat(limit / 2));
}

#[tokio::test]
async fn history_pages_oldest_first() {
    let server = TestServer::start().await;
    let [alice, bob, carol]: [String; 3] = users(&server, &["alice", "bob", "carol"])
        .await
        .try_into()
        .unwrap();
    let mut sent = Vec::new();
    for (i, token) in [&alice, &bob, &alice, &bob].into_iter().enumerate() {
        let to = if token == &alice { "bob" } else { "alice" };
        let e = send_text(&server, token, "user", to, &format!("t{i}")).await;
        sent.push(e["data"]["id"].as_i64().unwrap());
    }
    let custom = ok(
        server
            .user(&alice, Method::POST, "/v1/messages")
            .json(&json!({
                "receiver_type": "user", "receiver": "bob", "category": "custom",
                "type": "poll", "data": {"q": 1}
            })),
        201,
    )
    .await;
    sent.push(custom["data"]["id"].as_i64().unwrap());
    // Another conversation of alice's stays out.
    send_text(&server, &alice, "user", "carol", "elsewhere").await;

    let q = |token: &str, query: &str| {
        server.user(
            token,
            Method::GET,
            &format!("/v1/messages?receiver_type=user&{query}"),
        )
    };
    let all = ok(q(&alice, "receiver=bob"), 200).await;
    assert_eq!(message_ids(&all), sent);
    assert_eq!(all["has_more"], false);
    assert_eq!(all["messages"][0]["text"], "t0");
    // Both sides see the same conversation.
    let from_bob = ok(q(&bob, "receiver=alice"), 200).await;
    assert_eq!(from_bob, all);

    // Newest page first, each page oldest-first.
    let newest = ok(q(&alice, "receiver=bob&limit=3"), 200).await;
    assert_eq!(message_ids(&newest), sent[2..]);
    assert_eq!(newest["has_more"], true);
    let older = ok(
        q(&alice, &format!("receiver=bob&limit=3&before={}", sent[2])),
        200,
    )
    .await;
    assert_eq!(message_ids(&older), sent[..2]);
    assert_eq!(older["has_more"], false);
    let older = ok(
        q(&alice, &format!("receiver=bob&limit=1&before={}", sent[2])),
        200,
    )
    .await;
    assert_eq!(message_ids(&older), sent[1..2]);
    assert_eq!(older["has_more"], true);

    // Forward from a cursor.
    let next = ok(
        q(&alice, &format!("receiver=bob&limit=2&after={}", sent[0])),
        200,
    )
    .await;
    assert_eq!(message_ids(&next), sent[1..3]);
    assert_eq!(next["has_more"], true);
    let next = ok(
        q(&alice, &format!("receiver=bob&limit=2&after={}", sent[2])),
        200,
    )
    .await;
    assert_eq!(message_ids(&next), sent[3..]);
    assert_eq!(next["has_more"], false);
    let between = ok(
        q(
            &alice,
            &format!("receiver=bob&after={}&before={}", sent[0], sent[3]),
        ),
        200,
    )
    .await;
    assert_eq!(message_ids(&between), sent[1..3]);

    // Filters.
    let customs = ok(q(&alice, "receiver=bob&category=custom"), 200).await;
    assert_eq!(message_ids(&customs), sent[4..]);
    let texts = ok(q(&alice, "receiver=bob&category=message&type=text"), 200).await;
    assert_eq!(message_ids(&texts), sent[..4]);
    let polls = ok(q(&alice, "receiver=bob&type=poll"), 200).await;
    assert_eq!(message_ids(&polls), sent[4..]);

    // Carol's conversation with alice holds only her message, never alice and bob's.
    let carols = ok(q(&carol, "receiver=alice"), 200).await;
    assert_eq!(carols["messages"].as_array().unwrap().len(), 1);
    assert_eq!(carols["messages"][0]["text"], "elsewhere");
    let carols = ok(q(&carol, "receiver=bob"), 200).await;
    assert_eq!(message_ids(&carols), Vec::<i64>::new());
}

#[tokio::test]
async fn history_errors() {
    let server = TestServer::start().await;
    let [alice, bob]: [String; 2] = users(&server, &["alice", "bob"]).await.try_into().unwrap();
    server.group(&alice, "g", &[]).await;
    send_text(&server, &alice, "group", "g", "members only").await;
    let q = |token: &str, query: &str| {
        server.user(token, Method::GET, &format!("/v1/messages?{query}"))
    };

    let group = ok(q(&alice, "receiver_type=group&receiver=g"), 200).await;
    assert_eq!(group["messages"][0]["text"], "members only");
    fails(
        q(&bob, "receiver_type=group&receiver=g"),
        403,
        "NOT_A_MEMBER",
    )
    .await;
    fails(
        q(&bob, "receiver_type=group&receiver=missing"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    fails(
        q(&bob, "receiver_type=channel&receiver=g"),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    fails(
        q(&bob, "receiver_type=user&receiver=a:b"),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    fails(
        q(&bob, "receiver_type=user&receiver=alice&category=poll"),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    fails(
        q(&bob, "receiver_type=user&receiver=alice&limit=101"),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    fails(
        q(&bob, "receiver_type=user&receiver=alice&limit=0"),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    fails(q(&bob, "receiver_type=user"), 400, "BAD_REQUEST").await;

    // After joining, bob reads the group's history.
    ok(server.user(&bob, Method::POST, "/v1/groups/g/join"), 200).await;
    let group = ok(q(&bob, "receiver_type=group&receiver=g"), 200).await;
    assert_eq!(group["messages"][0]["text"], "members only");
}

#[tokio::test]
async fn get_message_only_for_its_conversation() {
    let server = TestServer::start().await;
    let [alice, bob, carol]: [String; 3] = users(&server, &["alice", "bob", "carol"])
        .await
        .try_into()
        .unwrap();
    server.group(&alice, "g", &["bob"]).await;
    let direct = send_text(&server, &alice, "user", "bob", "private words").await;
    let id = direct["data"]["id"].as_i64().unwrap();
    let group = send_text(&server, &bob, "group", "g", "group words").await;
    let gid = group["data"]["id"].as_i64().unwrap();
    let get =
        |token: &str, id: &str| server.user(token, Method::GET, &format!("/v1/messages/{id}"));

    let m = ok(get(&alice, &id.to_string()), 200).await;
    assert_eq!(m, direct["data"]);
    let m = ok(get(&bob, &id.to_string()), 200).await;
    assert_eq!(m["text"], "private words");
    // Another pair's message looks exactly like a missing one.
    let hidden = fails(get(&carol, &id.to_string()), 404, "MESSAGE_NOT_FOUND").await;
    assert!(!hidden.to_string().contains("private words"));
    fails(get(&carol, "999999"), 404, "MESSAGE_NOT_FOUND").await;

    let m = ok(get(&alice, &gid.to_string()), 200).await;
    assert_eq!(m["text"], "group words");
    fails(get(&carol, &gid.to_string()), 403, "NOT_A_MEMBER").await;

    for bad in ["abc", "0", "-5", "1.5"] {
        fails(get(&alice, bad), 400, "INVALID_ARGUMENT").await;
    }
}

#[tokio::test]
async fn edit_message_only_by_its_sender() {
    let server = TestServer::start().await;
    let [alice, bob, carol]: [String; 3] = users(&server, &["alice", "bob", "carol"])
        .await
        .try_into()
        .unwrap();
    let sent = send_text(&server, &alice, "user", "bob", "first").await;
    let id = sent["data"]["id"].as_i64().unwrap();
    let path = format!("/v1/messages/{id}");
    let (mut ws, _) = server.connect(&bob).await;

    let edited = ok(
        server
            .user(&alice, Method::PATCH, &path)
            .json(&json!({"text": "second", "metadata": {"e": true}})),
        200,
    )
    .await;
    assert_eq!(edited["event"], "message_edited");
    assert!(edited["seq"].as_u64().unwrap() > sent["seq"].as_u64().unwrap());
    assert_eq!(edited["data"]["id"], id);
    assert_eq!(edited["data"]["text"], "second");
    assert_eq!(edited["data"]["metadata"], json!({"e": true}));
    assert!(edited["data"]["edited_at"].as_i64().is_some());
    let got = ws.expect_event("message_edited").await;
    assert_eq!(got["data"]["text"], "second");
    let stored = ok(server.user(&bob, Method::GET, &path), 200).await;
    assert_eq!(stored["text"], "second");

    fails(
        server
            .user(&bob, Method::PATCH, &path)
            .json(&json!({"text": "bob's"})),
        403,
        "FORBIDDEN",
    )
    .await;
    fails(
        server
            .user(&carol, Method::PATCH, &path)
            .json(&json!({"text": "carol's"})),
        404,
        "MESSAGE_NOT_FOUND",
    )
    .await;
    fails(
        server
            .user(&alice, Method::PATCH, "/v1/messages/999999")
            .json(&json!({"text": "x"})),
        404,
        "MESSAGE_NOT_FOUND",
    )
    .await;
    fails(
        server
            .user(&alice, Method::PATCH, "/v1/messages/abc")
            .json(&json!({"text": "x"})),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    for bad in [
        json!({}),
        json!({"text": ""}),
        json!({"metadata": [1]}),
        // Only custom messages have data.
        json!({"data": {"x": 1}}),
    ] {
        fails(
            server.user(&alice, Method::PATCH, &path).json(&bad),
            400,
            "INVALID_ARGUMENT",
        )
        .await;
    }
    let stored = ok(server.user(&alice, Method::GET, &path), 200).await;
    assert_eq!(stored["text"], "second");
    assert_eq!(stored["metadata"], json!({"e": true}));

    // Custom data can be edited.
    let custom = ok(
        server
            .user(&alice, Method::POST, "/v1/messages")
            .json(&json!({
                "receiver_type": "user", "receiver": "bob", "category": "custom",
                "type": "poll", "data": {"v": 1}
            })),
        201,
    )
    .await;
    let cid = custom["data"]["id"].as_i64().unwrap();
    let edited = ok(
        server
            .user(&alice, Method::PATCH, &format!("/v1/messages/{cid}"))
            .json(&json!({"data": {"v": 2}})),
        200,
    )
    .await;
    assert_eq!(edited["data"]["data"], json!({"v": 2}));
}

#[tokio::test]
async fn delete_message_is_soft_and_final() {
    let server = TestServer::start().await;
    let [alice, bob, carol]: [String; 3] = users(&server, &["alice", "bob", "carol"])
        .await
        .try_into()
        .unwrap();
    let sent = send_text(&server, &alice, "user", "bob", "regrettable").await;
    let id = sent["data"]["id"].as_i64().unwrap();
    let path = format!("/v1/messages/{id}");
    let image = send_image(&server, &alice).await;
    let image_path = format!("/v1/messages/{}", image["data"]["id"]);

    // The receiver of a one-to-one message cannot delete it; strangers do not see it.
    fails(server.user(&bob, Method::DELETE, &path), 403, "FORBIDDEN").await;
    fails(
        server.user(&carol, Method::DELETE, &path),
        404,
        "MESSAGE_NOT_FOUND",
    )
    .await;
    fails(
        server.user(&alice, Method::DELETE, "/v1/messages/999999"),
        404,
        "MESSAGE_NOT_FOUND",
    )
    .await;
    fails(
        server.user(&alice, Method::DELETE, "/v1/messages/x"),
        400,
        "INVALID_ARGUMENT",
    )
    .await;

    let (mut ws, _) = server.connect(&bob).await;
    let deleted = ok(server.user(&alice, Method::DELETE, &path), 200).await;
    assert_eq!(deleted["event"], "message_deleted");
    assert_eq!(deleted["data"]["id"], id);
    assert!(deleted["data"].get("text").is_none(), "{deleted}");
    assert_eq!(deleted["data"]["deleted_by"], "alice");
    assert!(deleted["data"]["deleted_at"].as_i64().is_some());
    let got = ws.expect_event("message_deleted").await;
    assert_eq!(got["data"]["id"], id);

    let stored = ok(server.user(&bob, Method::GET, &path), 200).await;
    assert!(stored.get("text").is_none(), "{stored}");
    assert_eq!(stored["deleted_by"], "alice");
    let history = ok(
        server.user(
            &bob,
            Method::GET,
            "/v1/messages?receiver_type=user&receiver=alice",
        ),
        200,
    )
    .await;
    assert!(history["messages"][0].get("text").is_none(), "{history}");
    assert!(history["messages"][0]["deleted_at"].as_i64().is_some());

    fails(
        server.user(&alice, Method::DELETE, &path),
        409,
        "MESSAGE_DELETED",
    )
    .await;
    fails(
        server
            .user(&alice, Method::PATCH, &path)
            .json(&json!({"text": "undo"})),
        409,
        "MESSAGE_DELETED",
    )
    .await;

    // Attachments go too.
    let deleted = ok(server.user(&alice, Method::DELETE, &image_path), 200).await;
    assert!(deleted["data"].get("attachments").is_none(), "{deleted}");
}

#[tokio::test]
async fn group_moderators_delete_others_messages() {
    let server = TestServer::start().await;
    let [alice, bob, carol, dan, erin]: [String; 5] =
        users(&server, &["alice", "bob", "carol", "dan", "erin"])
            .await
            .try_into()
            .unwrap();
    server.group(&alice, "g", &["carol", "dan"]).await;
    ok(
        server
            .user(&alice, Method::POST, "/v1/groups/g/members")
            .json(&json!({"members": [{"uid": "bob", "scope": "moderator"}]})),
        200,
    )
    .await;
    let by_carol = send_text(&server, &carol, "group", "g", "spam").await;
    let path = format!("/v1/messages/{}", by_carol["data"]["id"]);
    let by_alice = send_text(&server, &alice, "group", "g", "rules").await;
    let alice_path = format!("/v1/messages/{}", by_alice["data"]["id"]);

    fails(server.user(&dan, Method::DELETE, &path), 403, "FORBIDDEN").await;
    fails(
        server.user(&erin, Method::DELETE, &path),
        403,
        "NOT_A_MEMBER",
    )
    .await;
    // Only the sender edits, even in a group a moderator runs.
    fails(
        server
            .user(&bob, Method::PATCH, &path)
            .json(&json!({"text": "edited by mod"})),
        403,
        "FORBIDDEN",
    )
    .await;

    let deleted = ok(server.user(&bob, Method::DELETE, &path), 200).await;
    assert_eq!(deleted["data"]["deleted_by"], "bob");
    assert_eq!(deleted["data"]["sender"], "carol");
    assert!(deleted["data"].get("text").is_none());
    let seen = ok(server.user(&dan, Method::GET, &path), 200).await;
    assert_eq!(seen["deleted_by"], "bob");
    // The owner is an admin: also allowed.
    let by_dan = send_text(&server, &dan, "group", "g", "more spam").await;
    ok(
        server.user(
            &alice,
            Method::DELETE,
            &format!("/v1/messages/{}", by_dan["data"]["id"]),
        ),
        200,
    )
    .await;
    // The sender deletes their own group message.
    ok(server.user(&alice, Method::DELETE, &alice_path), 200).await;
}
