//! Mentions against the real server: `<@uid:UID>` parsed into `mentioned_users` (existing users
//! only, each once, bounded), `mentions_me` on reads, and the unread-mentions count of each
//! conversation kept with its unread count and cleared by a read.
mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

async fn get(server: &TestServer, token: &str, path: &str) -> Value {
    let r = server.user(token, Method::GET, path).send().await.unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

async fn conversation(server: &TestServer, token: &str, kind: &str, with: &str) -> Value {
    get(server, token, &format!("/v1/conversations/{kind}/{with}")).await
}

#[tokio::test]
async fn mentions_are_parsed_flagged_and_counted_until_read() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let carol = server.user_token("carol").await;
    server.group(&alice, "club", &["bob", "carol"]).await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut b, _) = server.connect(&bob).await;

    // Existing users, each once, in order; a user that does not exist and a malformed id stay
    // plain text; the sender's own mention never counts for the sender.
    let sent = a
        .send_text(
            "group",
            "club",
            "<@uid:carol> <@uid:bob> <@uid:ghost> <@uid:a b> <@uid:bob> <@uid:alice>",
        )
        .await;
    assert_eq!(
        sent["data"]["mentioned_users"],
        json!(["carol", "bob", "alice"])
    );
    let event = b.expect_event("message").await;
    assert_eq!(
        event["data"]["mentioned_users"],
        sent["data"]["mentioned_users"]
    );
    // One event body serves every recipient: the flag is the reader's to work out.
    assert!(event["data"].get("mentions_me").is_none(), "{event}");
    let first = sent["data"]["id"].as_i64().unwrap();

    a.send_text("group", "club", "no mention here").await;
    let second = a.send_text("group", "club", "again <@uid:bob>").await["data"]["id"]
        .as_i64()
        .unwrap();
    b.send_text("group", "club", "thanks <@uid:alice>").await;

    let club = conversation(&server, &bob, "group", "club").await;
    assert_eq!(club["unread_count"], 3, "{club}");
    assert_eq!(club["unread_mentions_count"], 2, "{club}");
    let club_alice = conversation(&server, &alice, "group", "club").await;
    assert_eq!(club_alice["unread_count"], 1, "{club_alice}");
    assert_eq!(club_alice["unread_mentions_count"], 1, "{club_alice}");
    assert_eq!(club_alice["last_message"]["mentions_me"], true);
    let club_carol = conversation(&server, &carol, "group", "club").await;
    assert_eq!(club_carol["unread_mentions_count"], 1, "{club_carol}");

    // Reads say whether the reader is mentioned.
    let history = get(
        &server,
        &bob,
        "/v1/messages?receiver_type=group&receiver=club",
    )
    .await;
    let flags: Vec<bool> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mentions_me"] == true)
        .collect();
    assert_eq!(flags, [true, false, true, false]);
    let one = get(&server, &carol, &format!("/v1/messages/{first}")).await;
    assert_eq!(one["mentions_me"], true);
    let other = get(&server, &carol, &format!("/v1/messages/{second}")).await;
    assert!(other.get("mentions_me").is_none(), "{other}");

    // Reading up to the first mention leaves the second; reading everything clears both.
    let ack = b
        .request(json!({"type": "receipt", "kind": "read", "message_id": first}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let club = conversation(&server, &bob, "group", "club").await;
    assert_eq!(
        (
            club["unread_count"].clone(),
            club["unread_mentions_count"].clone()
        ),
        (json!(2), json!(1)),
        "{club}"
    );
    let update = loop {
        let u = b.expect_event("conversation_updated").await;
        if u["data"]["with"] == "club" {
            break u;
        }
    };
    assert_eq!(update["data"]["unread_mentions_count"], 1, "{update}");
    let ack = b
        .request(json!({"type": "receipt", "kind": "read", "message_id": second}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let club = conversation(&server, &bob, "group", "club").await;
    assert_eq!(club["unread_mentions_count"], 0, "{club}");
    assert_eq!(club["unread_count"], 0, "{club}");
}

#[tokio::test]
async fn direct_mentions_count_and_deleting_the_conversation_clears_them() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let (mut a, _) = server.connect(&alice).await;
    for _ in 0..3 {
        a.send_text("user", "bob", "hey <@uid:bob>, see <@uid:alice>")
            .await;
    }
    let conv = conversation(&server, &bob, "user", "alice").await;
    assert_eq!(conv["unread_count"], 3);
    assert_eq!(conv["unread_mentions_count"], 3);
    assert_eq!(conv["last_message"]["mentions_me"], true);
    let mine = conversation(&server, &alice, "user", "bob").await;
    assert_eq!(
        mine["unread_mentions_count"], 0,
        "own messages never count: {mine}"
    );

    let r = server
        .user(&bob, Method::DELETE, "/v1/conversations/user/alice")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    a.send_text("user", "bob", "plain").await;
    let conv = conversation(&server, &bob, "user", "alice").await;
    assert_eq!(conv["unread_count"], 1, "{conv}");
    assert_eq!(conv["unread_mentions_count"], 0, "{conv}");
}

#[tokio::test]
async fn too_many_mentions_are_refused_and_an_edit_keeps_the_mentions() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    server.create_user("bob").await;
    let (mut a, _) = server.connect(&alice).await;

    let limit = chinwag_protocol::mentions::MAX_MENTIONS;
    let text: String = (0..=limit).map(|i| format!("<@uid:u{i}> ")).collect();
    let refused = a
        .request(json!({"type": "send", "message": {
            "receiver_type": "user", "receiver": "bob", "text": text}}))
        .await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["code"], "INVALID_ARGUMENT");
    let message = refused["message"].as_str().unwrap();
    assert!(message.contains("at most 32 users"), "{message}");
    // Exactly the bound passes (none of these users exist: nobody is mentioned).
    let text: String = (0..limit).map(|i| format!("<@uid:u{i}> ")).collect();
    let sent = a.send_text("user", "bob", &text).await;
    assert!(sent["data"].get("mentioned_users").is_none(), "{sent}");

    // REST sends parse the same way; an edit leaves the mentions as sent.
    let r = server
        .user(&alice, Method::POST, "/v1/messages")
        .json(&json!({"receiver_type": "user", "receiver": "bob", "text": "<@uid:bob>"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let sent: Value = r.json().await.unwrap();
    let m = &sent["data"];
    assert_eq!(m["mentioned_users"], json!(["bob"]), "{sent}");
    let r = server
        .user(&alice, Method::PATCH, &format!("/v1/messages/{}", m["id"]))
        .json(&json!({"text": "never mind"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let edited: Value = r.json().await.unwrap();
    assert_eq!(
        edited["data"]["mentioned_users"],
        json!(["bob"]),
        "{edited}"
    );
}
