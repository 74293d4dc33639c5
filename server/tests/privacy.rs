//! What one user can learn about others (issue 16: findings 9 and 10), against the real server.
mod common;

use common::*;
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

async fn exchange(rb: RequestBuilder) -> (u16, Value) {
    let r = rb.send().await.expect("request sent");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body read");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The answer with the one id it names replaced, so two answers can be compared whole.
fn shape(v: &Value, id: &str) -> String {
    v.to_string().replace(id, "<id>")
}

#[tokio::test]
async fn a_private_group_is_answered_like_a_missing_one_to_outsiders() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let mallory = server.user_token("mallory").await;
    let (s, _) = exchange(
        server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({"guid": "secret", "name": "Secret plans", "type": "private"})),
    )
    .await;
    assert_eq!(s, 201);
    let (s, sent) = exchange(
        server
            .user(&alice, Method::POST, "/v1/messages")
            .json(&json!({"receiver_type": "group", "receiver": "secret", "text": "psst"})),
    )
    .await;
    assert_eq!(s, 201, "{sent}");
    let id = sent["data"]["id"].as_i64().unwrap();

    // The probe: GET /v1/messages/<id> named the group; now it matches a missing message.
    let (s1, hidden) =
        exchange(server.user(&mallory, Method::GET, &format!("/v1/messages/{id}"))).await;
    let (s2, missing) = exchange(server.user(&mallory, Method::GET, "/v1/messages/999999")).await;
    assert_eq!(s1, s2);
    assert_eq!(shape(&hidden, &id.to_string()), shape(&missing, "999999"));
    assert!(!hidden.to_string().contains("secret"), "{hidden}");
    // Editing, deleting or marking it answers the same.
    for (method, path, body) in [
        (
            Method::PATCH,
            format!("/v1/messages/{id}"),
            json!({"text": "x"}),
        ),
        (Method::DELETE, format!("/v1/messages/{id}"), Value::Null),
    ] {
        let (s, v) = exchange(server.user(&mallory, method, &path).json(&body)).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (404, Some("MESSAGE_NOT_FOUND")),
            "{path}: {v}"
        );
    }

    // Every group endpoint: the private group and a missing one answer alike.
    for (method, suffix, body) in [
        (Method::GET, "", Value::Null),
        (Method::GET, "/members", Value::Null),
        (Method::POST, "/join", Value::Null),
        (Method::POST, "/leave", Value::Null),
        (
            Method::POST,
            "/members",
            json!({"members": [{"uid": "mallory"}]}),
        ),
        (Method::POST, "/kick", json!({"uid": "alice"})),
    ] {
        let (s1, a) = exchange(
            server
                .user(
                    &mallory,
                    method.clone(),
                    &format!("/v1/groups/secret{suffix}"),
                )
                .json(&body),
        )
        .await;
        let (s2, b) = exchange(
            server
                .user(
                    &mallory,
                    method.clone(),
                    &format!("/v1/groups/nosuch{suffix}"),
                )
                .json(&body),
        )
        .await;
        assert_eq!(
            (s1, shape(&a, "secret")),
            (s2, shape(&b, "nosuch")),
            "{method} {suffix}"
        );
        assert_eq!(a["code"], "GROUP_NOT_FOUND");
    }
    let (s, v) = exchange(server.user(
        &mallory,
        Method::GET,
        "/v1/messages?receiver_type=group&receiver=secret",
    ))
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (404, Some("GROUP_NOT_FOUND")),
        "{v}"
    );
    // Listing does not show it either.
    let (_, list) = exchange(server.user(&mallory, Method::GET, "/v1/groups?search=Secret")).await;
    assert_eq!(list["groups"], json!([]), "{list}");
}

#[tokio::test]
async fn a_call_id_held_by_others_is_refused_like_ones_own() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let _bob = server.user_token("bob").await;
    let mallory = server.user_token("mallory").await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut m, _) = server.connect(&mallory).await;
    a.replay().await;
    m.replay().await;
    let call = |sid: &str, to: &str| {
        json!({"type": "call_initiate", "session_id": sid, "call_type": "audio",
               "receiver_type": "user", "receiver": to})
    };
    assert_eq!(a.request(call("theirs", "bob")).await["type"], "ack");
    assert_eq!(m.request(call("mine", "bob")).await["type"], "ack");
    let other = m.request(call("theirs", "alice")).await;
    let own = m.request(call("mine", "alice")).await;
    assert_eq!(other["code"], "INVALID_ARGUMENT", "{other}");
    assert_eq!(
        shape(&other, "theirs").replace(&other["req"].to_string(), "<req>"),
        shape(&own, "mine").replace(&own["req"].to_string(), "<req>")
    );
    assert!(!other.to_string().contains("in use"), "{other}");
}
