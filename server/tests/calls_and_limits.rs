//! Call signalling, throttling and malformed input against the real server.
mod common;

use std::time::Duration;

use chinwag_protocol::close;
use common::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn call_is_rung_accepted_and_ended_and_outsiders_cannot_touch_it() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let carol = server.user_token("carol").await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut b, _) = server.connect(&bob).await;
    let (mut c, _) = server.connect(&carol).await;
    b.replay().await;
    let ack = a
        .request(json!({"type": "call_initiate", "session_id": "call-1", "call_type": "video", "receiver_type": "user", "receiver": "bob"}))
        .await;
    assert_eq!(ack["result"]["event"], "call_initiated");
    let ring = b.expect_event("call_initiated").await;
    assert_eq!(ring["data"]["initiator"], "alice");
    assert_eq!(ring["data"]["call_type"], "video");
    assert_eq!(ring["data"]["status"], "initiated");

    let steal = c
        .request(json!({"type": "call_accept", "session_id": "call-1"}))
        .await;
    assert_eq!(steal["code"], "FORBIDDEN");
    let own = a
        .request(json!({"type": "call_accept", "session_id": "call-1"}))
        .await;
    assert_eq!(
        own["code"], "FORBIDDEN",
        "the caller cannot accept its own call"
    );
    let unknown = b
        .request(json!({"type": "call_accept", "session_id": "nope"}))
        .await;
    assert_eq!(unknown["code"], "CALL_NOT_FOUND");

    let accepted = b
        .request(json!({"type": "call_accept", "session_id": "call-1"}))
        .await;
    assert_eq!(accepted["result"]["data"]["status"], "ongoing");
    assert_eq!(a.expect_event("call_accepted").await["data"]["by"], "bob");
    let twice = b
        .request(json!({"type": "call_accept", "session_id": "call-1"}))
        .await;
    assert_eq!(twice["code"], "CALL_STATE");
    let cancel_late = a
        .request(json!({"type": "call_cancel", "session_id": "call-1"}))
        .await;
    assert_eq!(cancel_late["code"], "CALL_STATE");

    a.request(json!({"type": "call_end", "session_id": "call-1"}))
        .await;
    let ended = b.expect_event("call_ended").await;
    assert_eq!(ended["data"]["status"], "ended");
    assert!(ended["data"]["ended_at"].is_i64());
    let r = server
        .user(&carol, Method::GET, "/v1/calls/call-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "a stranger cannot read the call");

    // Busy.
    a.request(json!({"type": "call_initiate", "session_id": "call-2", "call_type": "audio", "receiver_type": "user", "receiver": "bob"})).await;
    b.expect_event("call_initiated").await;
    b.request(json!({"type": "call_reject", "session_id": "call-2", "status": "busy"}))
        .await;
    let rejected = a.expect_event("call_rejected").await;
    assert_eq!(rejected["data"]["status"], "busy");
}

#[tokio::test]
async fn unanswered_calls_are_cancelled_by_the_server() {
    let mut cfg = config();
    cfg.call_timeout = Duration::from_millis(200);
    let server = TestServer::with(cfg).await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut b, _) = server.connect(&bob).await;
    a.request(json!({"type": "call_initiate", "session_id": "ring", "call_type": "audio", "receiver_type": "user", "receiver": "bob"})).await;
    b.expect_event("call_initiated").await;
    let b_cancel = b.expect_event("call_cancelled").await;
    assert_eq!(b_cancel["data"]["status"], "unanswered");
    let a_cancel = a.expect_event("call_cancelled").await;
    assert_eq!(a_cancel["data"]["status"], "unanswered");
    let late = b
        .request(json!({"type": "call_accept", "session_id": "ring"}))
        .await;
    assert_eq!(late["code"], "CALL_STATE");
}

#[tokio::test]
async fn group_call_rings_every_member() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let carol = server.user_token("carol").await;
    server.group(&alice, "crew", &["bob", "carol"]).await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut b, _) = server.connect(&bob).await;
    let (mut c, _) = server.connect(&carol).await;
    a.request(json!({"type": "call_initiate", "call_type": "audio", "receiver_type": "group", "receiver": "crew"})).await;
    let sid = b.expect_event("call_initiated").await["data"]["session_id"].clone();
    assert_eq!(
        c.expect_event("call_initiated").await["data"]["session_id"],
        sid
    );
    c.request(json!({"type": "call_accept", "session_id": sid}))
        .await;
    assert_eq!(a.expect_event("call_accepted").await["data"]["by"], "carol");
    assert_eq!(b.expect_event("call_accepted").await["data"]["by"], "carol");
}

#[tokio::test]
async fn typing_over_the_limit_is_throttled_then_lifted() {
    let mut cfg = config();
    cfg.typing_limit = chinwag_server::FeatureLimit {
        limit: 2,
        window: Duration::from_millis(300),
    };
    let server = TestServer::with(cfg).await;
    let alice = server.user_token("alice").await;
    server.create_user("bob").await;
    let (mut a, _) = server.connect(&alice).await;
    a.replay().await;
    let typing = json!({"type": "typing_start", "receiver_type": "user", "receiver": "bob"});
    assert_eq!(a.request(typing.clone()).await["type"], "ack");
    assert_eq!(a.request(typing.clone()).await["type"], "ack");
    let mut third = typing.clone();
    third["req"] = json!("third");
    a.send(third).await;
    // The throttled notice comes first, then the refusal of the call that tripped it.
    let t = a.next_frame().await;
    assert_eq!(
        (t["type"].as_str(), t["feature"].as_str()),
        (Some("throttled"), Some("typing"))
    );
    let refused = a.next_frame().await;
    assert_eq!(
        (refused["code"].as_str(), refused["req"].as_str()),
        (Some("FEATURE_THROTTLED"), Some("third"))
    );
    assert!(refused["retry_after_ms"].as_u64().unwrap() <= 300);
    let u = a.expect("unthrottled").await;
    assert_eq!(u["feature"], "typing");
    assert_eq!(
        a.request(typing).await["type"],
        "ack",
        "typing works again after the window"
    );
    // Durable messages are never throttled.
    for i in 0..10 {
        a.send_text("user", "bob", &format!("m{i}")).await;
    }
}

#[tokio::test]
async fn operator_can_switch_a_feature_off_for_everyone() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut b, _) = server.connect(&bob).await;
    let sent = a.send_text("user", "bob", "hi").await;
    let r = server
        .admin(Method::POST, "/v1/admin/throttle")
        .json(&json!({"feature": "receipts", "duration_ms": 250}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let t = b.expect("throttled").await;
    assert_eq!(
        (t["feature"].as_str(), t["duration_ms"].as_u64()),
        (Some("receipts"), Some(250))
    );
    let refused = b
        .request(json!({"type": "receipt", "kind": "delivered", "message_id": sent["data"]["id"]}))
        .await;
    assert_eq!(refused["code"], "FEATURE_THROTTLED");
    b.expect("unthrottled").await;
    let ok = b
        .request(json!({"type": "receipt", "kind": "delivered", "message_id": sent["data"]["id"]}))
        .await;
    assert_eq!(ok["type"], "ack");
    assert_eq!(a.expect("throttled").await["feature"], "receipts");
}

#[tokio::test]
async fn malformed_frames_get_errors_and_repeated_garbage_closes() {
    let mut cfg = config();
    cfg.max_malformed = 3;
    let server = TestServer::with(cfg).await;
    let alice = server.user_token("alice").await;
    let (mut a, _) = server.connect(&alice).await;
    a.replay().await;
    a.send_raw("{not json").await;
    let e = a.expect("error").await;
    assert_eq!(e["code"], "MALFORMED_FRAME");
    a.send(json!({"type": "teleport", "req": "x1"})).await;
    let e = a.expect("error").await;
    assert_eq!(
        (e["code"].as_str(), e["req"].as_str()),
        (Some("MALFORMED_FRAME"), Some("x1"))
    );
    // A valid frame resets the count.
    assert_eq!(a.request(json!({"type": "ping"})).await["type"], "ack");
    let huge = "x".repeat(chinwag_protocol::limits::MAX_TEXT_BYTES + 1);
    let e = a.request(json!({"type": "send", "message": {"receiver_type": "user", "receiver": "alice2", "text": huge}})).await;
    assert_eq!(e["code"], "TEXT_TOO_LONG");
    for _ in 0..3 {
        a.send_raw("\u{0}garbage").await;
    }
    assert_eq!(a.expect_close().await, Some(close::TOO_MANY_MALFORMED));
}

#[tokio::test]
async fn frames_larger_than_the_limit_drop_the_socket_not_the_server() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let (mut a, _) = server.connect(&alice).await;
    a.replay().await;
    a.send_raw(&"y".repeat(chinwag_protocol::limits::MAX_FRAME_BYTES + 10))
        .await;
    a.expect_close().await;
    let (mut again, _) = server.connect(&alice).await;
    assert_eq!(again.request(json!({"type": "ping"})).await["type"], "ack");
}
