//! WebSocket behaviour against the real server: admission, delivery rules, resume and gaps,
//! typing, receipts, edits and presence.
mod common;

use chinwag_protocol::close;
use common::*;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn bad_tokens_and_parameters_are_refused_with_distinct_close_codes() {
    let server = TestServer::start().await;
    let token = server.user_token("alice").await;
    let cases: Vec<(Option<&str>, String, u16)> = vec![
        (Some("not-a-token"), String::new(), close::TOKEN_INVALID),
        (None, String::new(), close::TOKEN_INVALID),
        (Some(&token), "v=2".into(), close::PROTOCOL_UNSUPPORTED),
        (Some(&token), "app_id=other-app".into(), close::APP_MISMATCH),
        (Some(&token), "last_seq=abc".into(), close::BAD_REQUEST),
        (Some(&token), "presence=everyone".into(), close::BAD_REQUEST),
    ];
    for (tok, query, code) in cases {
        let mut ws = Ws::open(&server.ws_url, tok, &query).await;
        assert_eq!(ws.expect_close().await, Some(code), "query {query:?}");
    }
    // The token also works as a query parameter (browsers cannot set headers).
    let mut ws = Ws::open(&server.ws_url, None, &format!("token={token}")).await;
    assert_eq!(ws.next_frame().await["type"], "accept");
}

#[tokio::test]
async fn revoked_and_deactivated_users_are_closed_and_refused() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let (mut ws, _) = server.connect(&alice).await;
    let r = server
        .user(&alice, Method::POST, "/v1/logout")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(ws.expect_close().await, Some(close::TOKEN_INVALID));
    let mut again = Ws::open(&server.ws_url, Some(&alice), "").await;
    assert_eq!(again.expect_close().await, Some(close::TOKEN_INVALID));

    let fresh = server.login("alice").await;
    let (mut ws, _) = server.connect(&fresh).await;
    let r = server
        .admin(Method::DELETE, "/v1/users/alice/tokens")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(ws.expect_close().await, Some(close::TOKEN_INVALID));

    let bob = server.user_token("bob").await;
    let (mut ws, _) = server.connect(&bob).await;
    let r = server
        .admin(Method::POST, "/v1/users/bob/deactivate")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(ws.expect_close().await, Some(close::USER_DEACTIVATED));
    let mut again = Ws::open(&server.ws_url, Some(&bob), "").await;
    assert_eq!(again.expect_close().await, Some(close::USER_DEACTIVATED));
}

#[tokio::test]
async fn own_message_reaches_other_sockets_but_is_not_echoed() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let (mut phone, _) = server.connect(&alice).await;
    phone.replay().await;
    let (mut laptop, _) = server.connect(&alice).await;
    laptop.replay().await;
    let (mut b, _) = server.connect(&bob).await;
    b.replay().await;

    let sent = phone.send_text("user", "bob", "from my phone").await;
    // The next thing the phone sees is the answer to this ping, not an echo of its message.
    let pong = phone.request(json!({"type": "ping"})).await;
    assert_eq!(pong["type"], "ack");
    let on_laptop = laptop.expect_event("message").await;
    assert_eq!(on_laptop["data"]["id"], sent["data"]["id"]);
    assert_eq!(
        on_laptop["seq"], sent["seq"],
        "both sockets share alice's sequence"
    );
    let on_bob = b.expect_event("message").await;
    assert_eq!(on_bob["data"]["text"], "from my phone");
    let next = phone.request(json!({"type": "ping"})).await;
    assert_eq!(
        next["type"], "ack",
        "no message event was queued for the phone"
    );
}

#[tokio::test]
async fn forged_sender_is_ignored() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    server.create_user("carol").await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut b, _) = server.connect(&bob).await;
    b.replay().await;
    let ack = a
        .request(json!({"type": "send", "message": {
            "receiver_type": "user", "receiver": "bob", "text": "trust me", "sender": "carol"
        }}))
        .await;
    assert_eq!(ack["result"]["data"]["sender"], "alice");
    let got = b.expect_event("message").await;
    assert_eq!(got["data"]["sender"], "alice");
    // A sender at frame level is not part of the protocol at all.
    let err = a
        .request(json!({"type": "send", "sender": "carol", "message": {
            "receiver_type": "user", "receiver": "bob", "text": "x"
        }}))
        .await;
    assert_eq!(err["type"], "error");
    assert_eq!(err["code"], "MALFORMED_FRAME");
}

#[tokio::test]
async fn group_messages_reach_members_only_and_outsiders_cannot_post_or_read() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let carol = server.user_token("carol").await;
    let dave = server.user_token("dave").await;
    server.group(&alice, "team", &["bob", "carol"]).await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut b, _) = server.connect(&bob).await;
    let (mut c, _) = server.connect(&carol).await;
    let (mut d, _) = server.connect(&dave).await;
    for ws in [&mut a, &mut b, &mut c, &mut d] {
        ws.replay().await;
    }
    let sent = a.send_text("group", "team", "hello team").await;
    assert_eq!(sent["data"]["conversation_id"], "group:team");
    for ws in [&mut b, &mut c] {
        let got = ws.expect_event("message").await;
        assert_eq!(got["data"]["id"], sent["data"]["id"]);
        assert_eq!(got["data"]["receiver_type"], "group");
    }
    let err = d
        .request(json!({"type": "send", "message": {"receiver_type": "group", "receiver": "team", "text": "let me in"}}))
        .await;
    assert_eq!(err["code"], "NOT_A_MEMBER");
    let err = d
        .request(json!({"type": "typing_start", "receiver_type": "group", "receiver": "team"}))
        .await;
    assert_eq!(err["code"], "NOT_A_MEMBER");
    let err = d
        .request(json!({"type": "receipt", "kind": "read", "message_id": sent["data"]["id"]}))
        .await;
    assert_eq!(err["code"], "NOT_A_MEMBER");
    let r = server
        .user(
            &dave,
            Method::GET,
            "/v1/messages?receiver_type=group&receiver=team",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "NOT_A_MEMBER");
    // Nothing reached dave.
    assert_eq!(d.request(json!({"type": "ping"})).await["type"], "ack");
}

#[tokio::test]
async fn same_muid_twice_stores_once_and_answers_the_same() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut b, _) = server.connect(&bob).await;
    b.replay().await;
    let frame = json!({"type": "send", "message": {"muid": "m-1", "receiver_type": "user", "receiver": "bob", "text": "once"}});
    let first = a.request(frame.clone()).await;
    let second = a.request(frame).await;
    assert_eq!(first["type"], "ack");
    assert_eq!(
        first["result"], second["result"],
        "a repeat is answered with the stored message"
    );
    a.send_text("user", "bob", "marker").await;
    let got = b.expect_event("message").await;
    assert_eq!(got["data"]["muid"], "m-1");
    let next = b.expect_event("message").await;
    assert_eq!(
        next["data"]["text"], "marker",
        "the repeat was not delivered again"
    );
    let history: Value = server
        .user(
            &bob,
            Method::GET,
            "/v1/messages?receiver_type=user&receiver=alice",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["once", "marker"]);
}

#[tokio::test]
async fn resume_delivers_exactly_the_missed_events_in_order() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut b, _) = server.connect(&bob).await;
    b.replay().await;
    a.send_text("user", "bob", "seen live").await;
    let live = b.expect_event("message").await;
    let last_seq = live["seq"].as_u64().unwrap();
    b.close().await;

    let mut expected = Vec::new();
    for i in 0..5 {
        let text = format!("missed {i}");
        a.send_text("user", "bob", &text).await;
        expected.push(text);
    }
    let (mut b, accept) = server
        .connect_with(&bob, &format!("last_seq={last_seq}"))
        .await;
    assert_eq!(accept["resume"]["status"], "complete");
    assert_eq!(accept["resume"]["replay_count"], 5);
    assert_eq!(accept["resume"]["after_seq"], last_seq);
    let replayed = b.replay().await;
    let texts: Vec<String> = replayed
        .iter()
        .map(|f| f["data"]["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(texts, expected);
    let seqs: Vec<u64> = replayed
        .iter()
        .map(|f| f["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (last_seq + 1..=last_seq + 5).collect::<Vec<_>>());
    a.send_text("user", "bob", "live again").await;
    let next = b.expect_event("message").await;
    assert_eq!(next["data"]["text"], "live again");
    assert_eq!(next["seq"].as_u64().unwrap(), last_seq + 6);
}

#[tokio::test]
async fn missing_more_than_the_replay_limit_reports_a_gap() {
    let mut cfg = config();
    cfg.replay_limit = 3;
    let server = TestServer::with(cfg).await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let (mut a, _) = server.connect(&alice).await;
    for i in 1..=5 {
        a.send_text("user", "bob", &format!("m{i}")).await;
    }
    let (mut b, accept) = server.connect_with(&bob, "last_seq=0").await;
    let resume = &accept["resume"];
    assert_eq!(resume["status"], "gap");
    assert_eq!(resume["gap"], json!({"from_seq": 1, "to_seq": 2}));
    assert_eq!(resume["replay_count"], 3);
    let texts: Vec<Value> = b
        .replay()
        .await
        .iter()
        .map(|f| f["data"]["text"].clone())
        .collect();
    assert_eq!(texts, [json!("m3"), json!("m4"), json!("m5")]);
}

#[tokio::test]
async fn typing_is_relayed_but_never_stored_or_replayed() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut b, accept) = server.connect(&bob).await;
    b.replay().await;
    let start_seq = accept["resume"]["last_seq"].as_u64().unwrap();
    a.send(json!({"type": "typing_start", "receiver_type": "user", "receiver": "bob", "metadata": {"field": "body"}})).await;
    let t = b.expect("typing_started").await;
    assert_eq!(t["sender"], "alice");
    assert_eq!(t["metadata"]["field"], "body");
    a.send(json!({"type": "typing_end", "receiver_type": "user", "receiver": "bob"}))
        .await;
    assert_eq!(b.expect("typing_ended").await["sender"], "alice");
    b.close().await;
    assert_eq!(
        a.request(json!({"type": "typing_start", "receiver_type": "user", "receiver": "bob"}))
            .await["type"],
        "ack"
    );
    let (mut b, accept) = server
        .connect_with(&bob, &format!("last_seq={start_seq}"))
        .await;
    assert_eq!(accept["resume"]["replay_count"], 0);
    assert!(b.replay().await.is_empty());
    let history: Value = server
        .user(
            &bob,
            Method::GET,
            "/v1/messages?receiver_type=user&receiver=alice",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(history["messages"], json!([]));
}

#[tokio::test]
async fn receipts_edits_deletes_and_transients_reach_the_right_people() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut b, _) = server.connect(&bob).await;
    b.replay().await;
    let sent = a.send_text("user", "bob", "read me").await;
    let id = sent["data"]["id"].clone();
    b.expect_event("message").await;

    let ack = b
        .request(json!({"type": "receipt", "kind": "read", "message_id": id}))
        .await;
    assert_eq!(ack["result"]["event"], "receipt");
    let r = a.expect_event("receipt").await;
    assert_eq!(r["data"]["kind"], "read");
    assert_eq!(r["data"]["by"], "bob");
    assert_eq!(r["data"]["message_id"], id);
    let own = a
        .request(json!({"type": "receipt", "kind": "read", "message_id": id}))
        .await;
    assert_eq!(
        own["code"], "INVALID_ARGUMENT",
        "a receipt for one's own message"
    );

    let edit = a
        .request(json!({"type": "edit", "message_id": id, "text": "read me, edited"}))
        .await;
    assert_eq!(edit["result"]["event"], "message_edited");
    let e = b.expect_event("message_edited").await;
    assert_eq!(e["data"]["text"], "read me, edited");
    assert!(e["data"]["edited_at"].is_i64());
    let not_yours = b
        .request(json!({"type": "edit", "message_id": id, "text": "hijack"}))
        .await;
    assert_eq!(not_yours["code"], "FORBIDDEN");

    let del = a.request(json!({"type": "delete", "message_id": id})).await;
    assert_eq!(del["result"]["event"], "message_deleted");
    let d = b.expect_event("message_deleted").await;
    assert!(d["data"].get("text").is_none());
    assert_eq!(d["data"]["deleted_by"], "alice");
    let again = a
        .request(json!({"type": "edit", "message_id": id, "text": "undead"}))
        .await;
    assert_eq!(again["code"], "MESSAGE_DELETED");

    a.send(json!({"type": "transient", "receiver_type": "user", "receiver": "bob", "data": {"reaction": "wave"}})).await;
    let t = b.expect("transient").await;
    assert_eq!(t["data"]["reaction"], "wave");
    assert_eq!(t["sender"], "alice");
}

#[tokio::test]
async fn presence_follows_each_subscription_mode() {
    let server = TestServer::start().await;
    let watcher_all = server.user_token("w-all").await;
    let watcher_roles = server.user_token("w-roles").await;
    let watcher_friends = server.user_token("w-friends").await;
    let watcher_none = server.user_token("w-none").await;
    server
        .create_user_with("boss", json!({"role": "admin"}))
        .await;
    let boss = server.login("boss").await;
    let pal = server.user_token("pal").await;
    let r = server
        .admin(Method::POST, "/v1/users/w-friends/friends")
        .json(&json!({"uids": ["pal"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // pal is online before the watchers connect: snapshots must show it where covered.
    let (mut pal_ws, _) = server.connect(&pal).await;
    pal_ws.replay().await;
    let (mut all, _) = server
        .connect_with(&watcher_all, "presence=all_users")
        .await;
    let (mut roles, _) = server
        .connect_with(&watcher_roles, "presence=roles:admin")
        .await;
    let (mut friends, _) = server
        .connect_with(&watcher_friends, "presence=friends")
        .await;
    let (mut none, _) = server.connect_with(&watcher_none, "presence=none").await;
    let uids = |snap: &Value| -> Vec<String> {
        snap["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["uid"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(uids(&all.expect("presence_snapshot").await).contains(&"pal".to_string()));
    assert_eq!(
        uids(&roles.expect("presence_snapshot").await),
        Vec::<String>::new()
    );
    assert_eq!(uids(&friends.expect("presence_snapshot").await), ["pal"]);

    let (boss_ws, _) = server.connect(&boss).await;
    let p = roles.expect("presence").await;
    assert_eq!(
        (p["uid"].as_str(), p["status"].as_str()),
        (Some("boss"), Some("online"))
    );
    let p = all.expect("presence").await;
    assert_eq!(
        p["uid"], "w-roles",
        "all_users sees every connect, in order"
    );
    boss_ws.close().await;
    let p = roles.expect("presence").await;
    assert_eq!(
        (p["uid"].as_str(), p["status"].as_str()),
        (Some("boss"), Some("offline"))
    );

    pal_ws.close().await;
    let p = friends.expect("presence").await;
    assert_eq!(
        (p["uid"].as_str(), p["status"].as_str()),
        (Some("pal"), Some("offline"))
    );

    // The `none` socket got no presence at all: its next frame is the answer to a ping.
    let f = none.next_frame().await;
    assert_eq!(f["type"], "replay_done");
    assert_eq!(none.request(json!({"type": "ping"})).await["type"], "ack");
    let u: Value = server
        .user(&watcher_none, Method::GET, "/v1/users/pal")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(u["status"], "offline");
    assert!(u["last_active_at"].is_i64());
}

#[tokio::test]
async fn a_send_retried_on_a_new_socket_is_acked_with_the_stored_message() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    server.create_user("bob").await;
    let frame = json!({"type": "send", "message": {"muid": "retry-1", "receiver_type": "user", "receiver": "bob", "text": "once"}});
    let (mut first, _) = server.connect(&alice).await;
    let original = first.request(frame.clone()).await;
    first.close().await;
    // The client never saw that ack (say the socket died): it resends on the next socket,
    // whose replay window already covers the original sequence number.
    let (mut second, accept) = server.connect(&alice).await;
    assert!(
        accept["resume"]["last_seq"].as_u64().unwrap()
            >= original["result"]["seq"].as_u64().unwrap()
    );
    let retried = second.request(frame).await;
    assert_eq!(retried["type"], "ack");
    assert_eq!(retried["result"], original["result"]);
}

#[tokio::test]
async fn a_receipt_without_request_id_is_not_acked() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut b, _) = server.connect(&bob).await;
    b.replay().await;
    let sent = a.send_text("user", "bob", "hi").await;
    b.expect_event("message").await;
    b.send(json!({"type": "receipt", "kind": "delivered", "message_id": sent["data"]["id"]}))
        .await;
    let f = b.next_frame().await;
    assert_eq!(
        f["type"], "event",
        "the reader's own copy arrives as an event, not an ack: {f}"
    );
    assert_eq!(f["event"], "receipt");
}
