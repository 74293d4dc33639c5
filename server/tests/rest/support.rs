//! What every REST test file uses: one request and its JSON answer, asserted successes and
//! failures, requests without or with bad credentials, users, and list readers.

use crate::common::*;
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

/// Sends a request; returns the status and the JSON body (`Null` when the body is empty).
pub(crate) async fn exchange(rb: RequestBuilder) -> (u16, Value) {
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("non-JSON body {text:?}: {e}"))
    };
    (status, body)
}

/// Asserts a success with this status and returns the body.
pub(crate) async fn ok(rb: RequestBuilder, status: u16) -> Value {
    let (s, body) = exchange(rb).await;
    assert_eq!(s, status, "unexpected answer: {body}");
    body
}

/// Asserts a failure with this status and error code and returns the body.
pub(crate) async fn fails(rb: RequestBuilder, status: u16, code: &str) -> Value {
    let (s, body) = exchange(rb).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (status, Some(code)),
        "unexpected answer: {body}"
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "error without a message: {body}"
    );
    body
}

/// A request without credentials.
pub(crate) fn anon(server: &TestServer, method: Method, path: &str) -> RequestBuilder {
    server.http.request(method, format!("{}{path}", server.url))
}

/// A request with a wrong API key.
pub(crate) fn bad_key(server: &TestServer, method: Method, path: &str) -> RequestBuilder {
    anon(server, method, path).header("x-api-key", "not-the-api-key")
}

/// Creates users `uids` and returns a token for each, in order.
pub(crate) async fn users(server: &TestServer, uids: &[&str]) -> Vec<String> {
    let mut tokens = Vec::new();
    for uid in uids {
        tokens.push(server.user_token(uid).await);
    }
    tokens
}

/// Sends a text message over REST and returns the sender's event.
pub(crate) async fn send_text(
    server: &TestServer,
    token: &str,
    receiver_type: &str,
    receiver: &str,
    text: &str,
) -> Value {
    ok(
        server
            .user(token, Method::POST, "/v1/messages")
            .json(&json!({
                "receiver_type": receiver_type, "receiver": receiver, "text": text
            })),
        201,
    )
    .await
}

pub(crate) fn ids(list: &Value, key: &str, field: &str) -> Vec<String> {
    list[key]
        .as_array()
        .unwrap_or_else(|| panic!("no array {key:?} in {list}"))
        .iter()
        .map(|v| {
            let f = &v[field];
            f.as_str()
                .map(String::from)
                .unwrap_or_else(|| f.to_string())
        })
        .collect()
}

pub(crate) fn uids(list: &Value) -> Vec<String> {
    ids(list, "users", "uid")
}

pub(crate) fn guids(list: &Value) -> Vec<String> {
    ids(list, "groups", "guid")
}

pub(crate) fn message_ids(list: &Value) -> Vec<i64> {
    list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

pub(crate) fn member_scopes(list: &Value) -> Vec<(String, String)> {
    list["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user"]["uid"].as_str().unwrap().to_string(),
                m["scope"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub(crate) fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}
