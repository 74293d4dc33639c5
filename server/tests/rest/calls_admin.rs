//! Calls and the backend's admin endpoints.

use crate::common::*;
use crate::support::*;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn get_call_for_participants_only() {
    let server = TestServer::start().await;
    let [alice, bob, carol]: [String; 3] = users(&server, &["alice", "bob", "carol"])
        .await
        .try_into()
        .unwrap();
    fails(
        server.user(&alice, Method::GET, "/v1/calls/nope"),
        404,
        "CALL_NOT_FOUND",
    )
    .await;

    let (mut ws, _) = server.connect(&alice).await;
    let ack = ws
        .request(
            json!({"type": "call_initiate", "session_id": "call-1", "call_type": "video",
                        "receiver_type": "user", "receiver": "bob"}),
        )
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");

    let call = ok(server.user(&alice, Method::GET, "/v1/calls/call-1"), 200).await;
    assert_eq!(call["session_id"], "call-1");
    assert_eq!(call["initiator"], "alice");
    assert_eq!(call["receiver"], "bob");
    assert_eq!(call["call_type"], "video");
    assert_eq!(call["status"], "initiated");
    let seen = ok(server.user(&bob, Method::GET, "/v1/calls/call-1"), 200).await;
    assert_eq!(seen, call);
    // A stranger cannot tell the call exists.
    fails(
        server.user(&carol, Method::GET, "/v1/calls/call-1"),
        404,
        "CALL_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn admin_throttle_switches_a_feature_off() {
    let server = TestServer::start().await;
    let [alice, _bob]: [String; 2] = users(&server, &["alice", "bob"]).await.try_into().unwrap();
    let throttle = |body: Value| server.admin(Method::POST, "/v1/admin/throttle").json(&body);

    for bad in [
        json!({"feature": "typing", "duration_ms": 0}),
        json!({"feature": "typing", "duration_ms": 3_600_001}),
    ] {
        fails(throttle(bad), 400, "INVALID_ARGUMENT").await;
    }
    fails(
        throttle(json!({"feature": "everything", "duration_ms": 1000})),
        400,
        "BAD_REQUEST",
    )
    .await;
    fails(throttle(json!({"feature": "typing"})), 400, "BAD_REQUEST").await;
    fails(
        server
            .user(&alice, Method::POST, "/v1/admin/throttle")
            .json(&json!({"feature": "typing", "duration_ms": 60_000})),
        403,
        "FORBIDDEN",
    )
    .await;

    // Nothing is throttled yet.
    let (mut ws, _) = server.connect(&alice).await;
    let ack = ws
        .request(json!({"type": "typing_start", "receiver_type": "user", "receiver": "bob"}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");

    let r = ok(
        throttle(json!({"feature": "typing", "duration_ms": 60_000})),
        204,
    )
    .await;
    assert_eq!(r, Value::Null);
    let frame = ws.expect("throttled").await;
    assert_eq!(frame["feature"], "typing");
    assert_eq!(frame["duration_ms"], 60_000);
    let answer = ws
        .request(json!({"type": "typing_start", "receiver_type": "user", "receiver": "bob"}))
        .await;
    assert_eq!(answer["type"], "error", "{answer}");
    assert_eq!(answer["code"], "FEATURE_THROTTLED");
    assert!(answer["retry_after_ms"].as_u64().unwrap() <= 60_000);
    // Other features still work.
    let ack = ws
        .request(
            json!({"type": "transient", "receiver_type": "user", "receiver": "bob",
                        "data": {"x": 1}}),
        )
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
}
