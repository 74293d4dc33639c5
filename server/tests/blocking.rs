//! Blocking against the real server: a blocked user's messages, typing and calls never reach
//! the blocker (refused with `BLOCKED` in direct conversations, left out in groups), both
//! directions of a direct conversation refused, the flag in user lists and conversations, the
//! blocked list, unblocking, bad input.
mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

async fn call(
    server: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = server.user(token, method, path);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_blocked_user_reaches_the_blocker_in_no_way() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let carol = server.user_token("carol").await;
    server.group(&carol, "club", &["alice", "bob"]).await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut b, _) = server.connect(&bob).await;
    let (mut c, _) = server.connect(&carol).await;
    // Before the block: a conversation alice will see flagged.
    b.send_text("user", "alice", "hi alice").await;
    a.expect_event("message").await;

    let (s, list) = call(
        &server,
        &alice,
        Method::POST,
        "/v1/me/blocked",
        Some(json!({"uids": ["bob"]})),
    )
    .await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["users"][0]["uid"], "bob");
    assert_eq!(list["users"][0]["blocked_by_me"], true);

    // Direct: bob's message, typing and call are refused with BLOCKED, over the socket and REST.
    let refused = b
        .request(json!({"type": "send", "message": {"receiver_type": "user", "receiver": "alice", "text": "hello?"}}))
        .await;
    assert_eq!(refused["code"], "BLOCKED", "{refused}");
    assert!(refused["message"]
        .as_str()
        .unwrap()
        .contains("has blocked you"));
    let (s, body) = call(
        &server,
        &bob,
        Method::POST,
        "/v1/messages",
        Some(json!({"receiver_type": "user", "receiver": "alice", "text": "over REST"})),
    )
    .await;
    assert_eq!((s, body["code"].as_str()), (403, Some("BLOCKED")));
    let typing = b
        .request(json!({"type": "typing_start", "receiver_type": "user", "receiver": "alice"}))
        .await;
    assert_eq!(typing["code"], "BLOCKED");
    let ring = b.request(json!({"type": "call_initiate", "call_type": "audio", "receiver_type": "user", "receiver": "alice"})).await;
    assert_eq!(ring["code"], "BLOCKED");
    // ... and alice cannot write to the user she blocked either.
    let back = a
        .request(json!({"type": "send", "message": {"receiver_type": "user", "receiver": "bob", "text": "hm"}}))
        .await;
    assert_eq!(back["code"], "BLOCKED");
    assert!(back["message"].as_str().unwrap().contains("you blocked"));

    // Group: bob's message, typing and call reach carol, never alice. Carol's message after
    // them is the next thing alice gets.
    let bobs = b.send_text("group", "club", "from bob").await["data"]["id"].clone();
    b.send(json!({"type": "typing_start", "receiver_type": "group", "receiver": "club"}))
        .await;
    let ring = b.request(json!({"type": "call_initiate", "call_type": "video", "receiver_type": "group", "receiver": "club"})).await;
    assert_eq!(ring["type"], "ack", "{ring}");
    assert_eq!(c.expect_event("message").await["data"]["id"], bobs);
    assert_eq!(c.expect("typing_started").await["sender"], "bob");
    c.expect_event("call_initiated").await;
    let carols = c.send_text("group", "club", "from carol").await["data"]["id"].clone();
    loop {
        let f = a.next_frame().await;
        assert!(
            f["type"] != "typing_started" && f["event"] != "call_initiated",
            "alice got {f}"
        );
        if f["event"] == "message" {
            assert_eq!(f["data"]["id"], carols, "alice got bob's group message");
            break;
        }
    }
    // History keeps what was stored; alice's unread count has only carol's message.
    let (_, counts) = call(
        &server,
        &alice,
        Method::GET,
        "/v1/conversations/unread",
        None,
    )
    .await;
    assert_eq!(counts["groups"]["club"], 1, "{counts}");

    // Flagged in user lists and in alice's conversations (for alice only).
    let (_, users) = call(&server, &alice, Method::GET, "/v1/users?search=bob", None).await;
    assert_eq!(users["users"][0]["blocked_by_me"], true);
    let (_, one) = call(&server, &alice, Method::GET, "/v1/users/bob", None).await;
    assert_eq!(one["blocked_by_me"], true);
    let (_, seen_by_carol) = call(&server, &carol, Method::GET, "/v1/users/bob", None).await;
    assert!(
        seen_by_carol.get("blocked_by_me").is_none(),
        "{seen_by_carol}"
    );
    let (_, conv) = call(
        &server,
        &alice,
        Method::GET,
        "/v1/conversations/user/bob",
        None,
    )
    .await;
    assert_eq!(conv["user"]["blocked_by_me"], true);
    let (_, blocked) = call(&server, &alice, Method::GET, "/v1/me/blocked", None).await;
    assert_eq!(blocked["users"].as_array().unwrap().len(), 1);

    // Unblocked: bob reaches alice again.
    let (s, _) = call(&server, &alice, Method::DELETE, "/v1/me/blocked/bob", None).await;
    assert_eq!(s, 204);
    let again = b.send_text("user", "alice", "am I back?").await["data"]["id"].clone();
    loop {
        let f = a.expect_event("message").await;
        if f["data"]["id"] == again {
            break;
        }
    }
    let (_, blocked) = call(&server, &alice, Method::GET, "/v1/me/blocked", None).await;
    assert_eq!(blocked["users"], json!([]));
}

#[tokio::test]
async fn bad_block_requests_get_specific_errors() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    for (body, status, code) in [
        (json!({"uids": []}), 400, "INVALID_ARGUMENT"),
        (json!({"uids": ["alice"]}), 400, "INVALID_ARGUMENT"),
        (json!({"uids": ["nobody"]}), 404, "USER_NOT_FOUND"),
        (json!({"uids": ["bad id"]}), 400, "INVALID_ARGUMENT"),
        (json!({"who": ["x"]}), 400, "BAD_REQUEST"),
    ] {
        let (s, v) = call(
            &server,
            &alice,
            Method::POST,
            "/v1/me/blocked",
            Some(body.clone()),
        )
        .await;
        assert_eq!((s, v["code"].as_str()), (status, Some(code)), "{body}: {v}");
    }
    let (s, v) = call(
        &server,
        &alice,
        Method::DELETE,
        "/v1/me/blocked/nobody",
        None,
    )
    .await;
    assert_eq!((s, v["code"].as_str()), (404, Some("USER_NOT_FOUND")));
}
