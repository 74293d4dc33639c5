//! Threads against the real server: replies give their parent a reply count and last reply
//! time (on every read of the parent), `thread_updated` follows each reply's event, the thread's
//! replies page like a history, and nobody outside the conversation reads a thread.
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

async fn reply(ws: &mut Ws, receiver_type: &str, receiver: &str, parent: i64, text: &str) -> Value {
    let ack = ws
        .request(json!({"type": "send", "message": {
            "receiver_type": receiver_type, "receiver": receiver, "text": text, "parent_id": parent}}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    ack["result"]["data"].clone()
}

fn ids(list: &Value) -> Vec<i64> {
    list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn replies_count_on_the_parent_and_each_is_followed_by_thread_updated() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    server.group(&alice, "club", &["bob"]).await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut b, _) = server.connect(&bob).await;

    let parent = a.send_text("group", "club", "lunch?").await["data"].clone();
    let pid = parent["id"].as_i64().unwrap();
    assert!(parent.get("reply_count").is_none(), "{parent}");
    let mut replies = Vec::new();
    for (n, text) in ["yes", "at noon", "where?"].iter().enumerate() {
        let r = reply(&mut b, "group", "club", pid, text).await;
        // alice hears the reply, then the parent with its new count, in that order.
        let got = a.expect_event("message").await;
        assert_eq!(got["data"]["id"], r["id"]);
        // The next event (presence and other ephemeral frames are not events).
        let next = loop {
            let f = a.next_frame().await;
            if f["type"] == "event" {
                break f;
            }
        };
        assert_eq!(next["event"], "thread_updated", "{next}");
        assert_eq!(next["seq"].as_u64(), got["seq"].as_u64().map(|s| s + 1));
        assert_eq!(next["data"]["id"], pid);
        assert_eq!(next["data"]["reply_count"], n as u64 + 1);
        assert_eq!(next["data"]["last_reply_at"], r["sent_at"]);
        replies.push(r);
    }
    // The replier hears it too.
    let own = loop {
        let e = b.expect_event("thread_updated").await;
        if e["data"]["reply_count"] == 3 {
            break e;
        }
    };
    assert_eq!(own["data"]["id"], pid);

    // Every read of the parent carries the count.
    let one = ok(&server, &bob, &format!("/v1/messages/{pid}")).await;
    assert_eq!(one["reply_count"], 3);
    assert_eq!(one["last_reply_at"], replies[2]["sent_at"]);
    let history = ok(
        &server,
        &alice,
        "/v1/messages?receiver_type=group&receiver=club",
    )
    .await;
    let first = &history["messages"][0];
    assert_eq!(
        (first["id"].as_i64(), first["reply_count"].as_u64()),
        (Some(pid), Some(3))
    );
    // A reply's own edit or delete leaves the count as it is.
    let r = server
        .user(
            &bob,
            Method::DELETE,
            &format!("/v1/messages/{}", replies[0]["id"]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        ok(&server, &bob, &format!("/v1/messages/{pid}")).await["reply_count"],
        3
    );
}

#[tokio::test]
async fn a_thread_pages_like_a_history_and_only_its_conversation_reads_it() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let carol = server.user_token("carol").await;
    let (mut a, _) = server.connect(&alice).await;
    let pid = a.send_text("user", "bob", "question").await["data"]["id"]
        .as_i64()
        .unwrap();
    let mut want = Vec::new();
    for i in 0..5 {
        want.push(
            reply(&mut a, "user", "bob", pid, &format!("r{i}")).await["id"]
                .as_i64()
                .unwrap(),
        );
        // Messages outside the thread are not in it.
        a.send_text("user", "bob", "aside").await;
    }

    let newest = ok(&server, &bob, &format!("/v1/messages/{pid}/thread?limit=2")).await;
    assert_eq!(ids(&newest), want[3..]);
    assert_eq!(newest["has_more"], true);
    let older = ok(
        &server,
        &bob,
        &format!("/v1/messages/{pid}/thread?limit=10&before={}", want[3]),
    )
    .await;
    assert_eq!(ids(&older), want[..3]);
    assert_eq!(older["has_more"], false);
    let forward = ok(
        &server,
        &alice,
        &format!("/v1/messages/{pid}/thread?limit=2&after={}", want[0]),
    )
    .await;
    assert_eq!(ids(&forward), want[1..3]);
    assert_eq!(forward["has_more"], true);
    let filtered = ok(
        &server,
        &bob,
        &format!("/v1/messages/{pid}/thread?type=image"),
    )
    .await;
    assert_eq!(ids(&filtered), Vec::<i64>::new());

    // Outside the conversation the parent does not exist.
    let (status, body) = get(&server, &carol, &format!("/v1/messages/{pid}/thread")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("MESSAGE_NOT_FOUND")),
        "{body}"
    );
    let (status, body) = get(&server, &bob, "/v1/messages/999999/thread").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("MESSAGE_NOT_FOUND")),
        "{body}"
    );
    for bad in [
        "abc/thread",
        "0/thread",
        &format!("{pid}/thread?limit=0"),
        &format!("{pid}/thread?before=-1"),
        &format!("{pid}/thread?category=x"),
    ] {
        let (status, body) = get(&server, &bob, &format!("/v1/messages/{bad}")).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("INVALID_ARGUMENT")),
            "{bad}: {body}"
        );
    }
    // A reply must name a message of its own conversation.
    let (mut c, _) = server.connect(&carol).await;
    let refused = c
        .request(json!({"type": "send", "message": {
            "receiver_type": "user", "receiver": "alice", "text": "me too", "parent_id": pid}}))
        .await;
    assert_eq!(refused["code"], "INVALID_ARGUMENT", "{refused}");
    assert_eq!(
        ok(&server, &alice, &format!("/v1/messages/{pid}")).await["reply_count"],
        5
    );
}
