mod common;

// The REST API end to end: every endpoint's success path and its error paths, asserting the
// HTTP status and the `code` of the JSON error body.

use common::*;
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Sends a request; returns the status and the JSON body (`Null` when the body is empty).
async fn exchange(rb: RequestBuilder) -> (u16, Value) {
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
async fn ok(rb: RequestBuilder, status: u16) -> Value {
    let (s, body) = exchange(rb).await;
    assert_eq!(s, status, "unexpected answer: {body}");
    body
}

/// Asserts a failure with this status and error code and returns the body.
async fn fails(rb: RequestBuilder, status: u16, code: &str) -> Value {
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
fn anon(server: &TestServer, method: Method, path: &str) -> RequestBuilder {
    server.http.request(method, format!("{}{path}", server.url))
}

/// A request with a wrong API key.
fn bad_key(server: &TestServer, method: Method, path: &str) -> RequestBuilder {
    anon(server, method, path).header("x-api-key", "not-the-api-key")
}

/// Creates users `uids` and returns a token for each, in order.
async fn users(server: &TestServer, uids: &[&str]) -> Vec<String> {
    let mut tokens = Vec::new();
    for uid in uids {
        tokens.push(server.user_token(uid).await);
    }
    tokens
}

/// Sends a text message over REST and returns the sender's event.
async fn send_text(
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

fn ids(list: &Value, key: &str, field: &str) -> Vec<String> {
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

fn uids(list: &Value) -> Vec<String> {
    ids(list, "users", "uid")
}

fn guids(list: &Value) -> Vec<String> {
    ids(list, "groups", "guid")
}

fn message_ids(list: &Value) -> Vec<i64> {
    list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

fn member_scopes(list: &Value) -> Vec<(String, String)> {
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

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Routing, health and malformed requests
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn health_answers_without_credentials() {
    let server = TestServer::start().await;
    let h = ok(anon(&server, Method::GET, "/v1/health"), 200).await;
    assert_eq!(h["status"], "ok");
    assert_eq!(h["app_id"], "chinwag-app");
    assert_eq!(h["protocol"], chinwag_protocol::PROTOCOL_VERSION);
    assert!(h["version"].as_str().is_some_and(|v| !v.is_empty()));
}

#[tokio::test]
async fn unknown_paths_are_not_found() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    fails(anon(&server, Method::GET, "/v1/nope"), 404, "NOT_FOUND").await;
    fails(anon(&server, Method::GET, "/"), 404, "NOT_FOUND").await;
    fails(anon(&server, Method::GET, "/v2/health"), 404, "NOT_FOUND").await;
    fails(
        server.user(&alice, Method::POST, "/v1/users/alice/nope"),
        404,
        "NOT_FOUND",
    )
    .await;
    fails(
        server.admin(Method::GET, "/v1/groups/g1/members/alice"),
        404,
        "NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn wrong_methods_are_method_not_allowed() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    fails(
        anon(&server, Method::DELETE, "/v1/health"),
        405,
        "METHOD_NOT_ALLOWED",
    )
    .await;
    fails(
        anon(&server, Method::GET, "/v1/login"),
        405,
        "METHOD_NOT_ALLOWED",
    )
    .await;
    fails(
        server.user(&alice, Method::GET, "/v1/logout"),
        405,
        "METHOD_NOT_ALLOWED",
    )
    .await;
    fails(
        server.admin(Method::DELETE, "/v1/users/alice"),
        405,
        "METHOD_NOT_ALLOWED",
    )
    .await;
    fails(
        server.user(&alice, Method::PUT, "/v1/messages"),
        405,
        "METHOD_NOT_ALLOWED",
    )
    .await;
    fails(
        server.user(&alice, Method::GET, "/v1/groups/g1/join"),
        405,
        "METHOD_NOT_ALLOWED",
    )
    .await;
    fails(
        server.user(&alice, Method::POST, "/v1/groups/g1/members/alice/scope"),
        405,
        "METHOD_NOT_ALLOWED",
    )
    .await;
    fails(
        server.admin(Method::GET, "/v1/admin/throttle"),
        405,
        "METHOD_NOT_ALLOWED",
    )
    .await;
}

#[tokio::test]
async fn malformed_bodies_and_queries_are_bad_requests() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let json_body = |rb: RequestBuilder, raw: &'static str| {
        rb.header("content-type", "application/json").body(raw)
    };
    // Not JSON at all.
    fails(
        json_body(anon(&server, Method::POST, "/v1/login"), "{not json"),
        400,
        "BAD_REQUEST",
    )
    .await;
    // Valid JSON, missing a required field.
    fails(
        server
            .admin(Method::POST, "/v1/users")
            .json(&json!({"uid": "bob"})),
        400,
        "BAD_REQUEST",
    )
    .await;
    // A field of the wrong type.
    fails(
        server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({"guid": 7, "name": "x"})),
        400,
        "BAD_REQUEST",
    )
    .await;
    // An unknown enum value.
    fails(
        server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({"guid": "g", "name": "x", "type": "secret"})),
        400,
        "BAD_REQUEST",
    )
    .await;
    // No content type.
    fails(
        server
            .user(&alice, Method::POST, "/v1/messages")
            .body(r#"{"receiver_type":"user","receiver":"bob","text":"hi"}"#),
        400,
        "BAD_REQUEST",
    )
    .await;
    // An empty body.
    fails(
        json_body(server.user(&alice, Method::PATCH, "/v1/users/alice"), ""),
        400,
        "BAD_REQUEST",
    )
    .await;
    // Query parameters of the wrong type, or missing.
    fails(
        server.user(&alice, Method::GET, "/v1/users?limit=many"),
        400,
        "BAD_REQUEST",
    )
    .await;
    fails(
        server.user(&alice, Method::GET, "/v1/groups?joined=maybe"),
        400,
        "BAD_REQUEST",
    )
    .await;
    fails(
        server.user(&alice, Method::GET, "/v1/messages?receiver=bob"),
        400,
        "BAD_REQUEST",
    )
    .await;
    fails(
        server.user(
            &alice,
            Method::GET,
            "/v1/messages?receiver_type=user&receiver=bob&before=x",
        ),
        400,
        "BAD_REQUEST",
    )
    .await;
    // Nothing above changed anything.
    let me = ok(server.user(&alice, Method::GET, "/v1/me"), 200).await;
    assert_eq!(me["name"], "User alice");
}

// ---------------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------------

/// Endpoints that act as a user: a token is required, the API key alone is not enough.
const USER_ONLY: &[(&str, &str)] = &[
    ("POST", "/v1/logout"),
    ("GET", "/v1/me"),
    ("POST", "/v1/groups"),
    ("GET", "/v1/groups"),
    ("GET", "/v1/groups/g1"),
    ("POST", "/v1/groups/g1/join"),
    ("POST", "/v1/groups/g1/leave"),
    ("GET", "/v1/groups/g1/members"),
    ("POST", "/v1/groups/g1/members"),
    ("POST", "/v1/groups/g1/kick"),
    ("POST", "/v1/groups/g1/ban"),
    ("POST", "/v1/groups/g1/unban"),
    ("PUT", "/v1/groups/g1/members/bob/scope"),
    ("GET", "/v1/messages?receiver_type=user&receiver=bob"),
    ("POST", "/v1/messages"),
    ("GET", "/v1/messages/1"),
    ("PATCH", "/v1/messages/1"),
    ("DELETE", "/v1/messages/1"),
    ("GET", "/v1/calls/c1"),
];

/// Endpoints for the app's backend only.
const ADMIN_ONLY: &[(&str, &str)] = &[
    ("POST", "/v1/users/bob/tokens"),
    ("DELETE", "/v1/users/bob/tokens"),
    ("POST", "/v1/users/bob/deactivate"),
    ("POST", "/v1/users/bob/activate"),
    ("POST", "/v1/admin/throttle"),
];

/// Endpoints open to a user (for itself) or the backend.
const USER_OR_ADMIN: &[(&str, &str)] = &[
    ("GET", "/v1/users"),
    ("GET", "/v1/users/alice"),
    ("PATCH", "/v1/users/alice"),
    ("GET", "/v1/users/alice/friends"),
    ("POST", "/v1/users/alice/friends"),
    ("DELETE", "/v1/users/alice/friends/bob"),
];

fn method(m: &str) -> Method {
    Method::from_bytes(m.as_bytes()).unwrap()
}

/// A body that would be acceptable, so only the credentials can fail.
fn plausible_body(rb: RequestBuilder, m: &str) -> RequestBuilder {
    if matches!(m, "GET" | "DELETE") {
        rb
    } else {
        rb.json(&json!({}))
    }
}

#[tokio::test]
async fn user_endpoints_reject_missing_bad_and_admin_credentials() {
    // Many wrong tokens from one address on purpose: lift the limit on failed checks.
    let mut cfg = common::config();
    cfg.auth_failures_per_minute = 10_000;
    let server = TestServer::with(cfg).await;
    server.create_user("alice").await;
    for (m, path) in USER_ONLY {
        let ctx = format!("{m} {path}");
        let (s, b) = exchange(plausible_body(anon(&server, method(m), path), m)).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (401, Some("UNAUTHORIZED")),
            "{ctx}: {b}"
        );
        let (s, b) = exchange(plausible_body(
            server.user("not-a-token", method(m), path),
            m,
        ))
        .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (401, Some("INVALID_TOKEN")),
            "{ctx}: {b}"
        );
        let (s, b) = exchange(plausible_body(server.admin(method(m), path), m)).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (401, Some("UNAUTHORIZED")),
            "{ctx}: {b}"
        );
        let (s, b) = exchange(plausible_body(bad_key(&server, method(m), path), m)).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (401, Some("INVALID_API_KEY")),
            "{ctx}: {b}"
        );
        let (s, b) = exchange(plausible_body(
            anon(&server, method(m), path).header("authorization", "Basic YWxpY2U6eA=="),
            m,
        ))
        .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (401, Some("UNAUTHORIZED")),
            "{ctx}: {b}"
        );
    }
}

#[tokio::test]
async fn admin_endpoints_reject_users_and_bad_keys() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    server.create_user("bob").await;
    for (m, path) in ADMIN_ONLY {
        let ctx = format!("{m} {path}");
        let (s, b) = exchange(plausible_body(anon(&server, method(m), path), m)).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (401, Some("UNAUTHORIZED")),
            "{ctx}: {b}"
        );
        let (s, b) = exchange(plausible_body(server.user(&alice, method(m), path), m)).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (403, Some("FORBIDDEN")),
            "{ctx}: {b}"
        );
        let (s, b) = exchange(plausible_body(bad_key(&server, method(m), path), m)).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (401, Some("INVALID_API_KEY")),
            "{ctx}: {b}"
        );
        let (s, b) = exchange(plausible_body(server.user("garbage", method(m), path), m)).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (401, Some("INVALID_TOKEN")),
            "{ctx}: {b}"
        );
    }
    // None of it touched bob.
    let bob = ok(server.admin(Method::GET, "/v1/users/bob"), 200).await;
    assert!(bob.get("deactivated").is_none(), "{bob}");
}

#[tokio::test]
async fn shared_endpoints_reject_missing_and_bad_credentials() {
    let server = TestServer::start().await;
    server.create_user("alice").await;
    server.create_user("bob").await;
    for (m, path) in USER_OR_ADMIN {
        let ctx = format!("{m} {path}");
        let (s, b) = exchange(plausible_body(anon(&server, method(m), path), m)).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (401, Some("UNAUTHORIZED")),
            "{ctx}: {b}"
        );
        let (s, b) = exchange(plausible_body(server.user("nope", method(m), path), m)).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (401, Some("INVALID_TOKEN")),
            "{ctx}: {b}"
        );
        let (s, b) = exchange(plausible_body(bad_key(&server, method(m), path), m)).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (401, Some("INVALID_API_KEY")),
            "{ctx}: {b}"
        );
    }
}

#[tokio::test]
async fn app_id_header_must_match_the_server() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let wrong = |rb: RequestBuilder| rb.header("x-chinwag-app", "someone-else");
    let right = |rb: RequestBuilder| rb.header("x-chinwag-app", "chinwag-app");

    fails(
        wrong(anon(&server, Method::POST, "/v1/login"))
            .json(&json!({"uid": "alice", "auth_key": AUTH_KEY})),
        400,
        "APP_MISMATCH",
    )
    .await;
    let login = ok(
        right(anon(&server, Method::POST, "/v1/login"))
            .json(&json!({"uid": "alice", "auth_key": AUTH_KEY})),
        200,
    )
    .await;
    assert_eq!(login["app_id"], "chinwag-app");

    fails(
        wrong(server.admin(Method::POST, "/v1/users")).json(&json!({"uid": "bob", "name": "Bob"})),
        400,
        "APP_MISMATCH",
    )
    .await;
    fails(
        wrong(anon(&server, Method::POST, "/v1/users"))
            .header("x-auth-key", AUTH_KEY)
            .json(&json!({"uid": "bob", "name": "Bob"})),
        400,
        "APP_MISMATCH",
    )
    .await;
    // The refused creations did not happen.
    fails(
        server.admin(Method::GET, "/v1/users/bob"),
        404,
        "USER_NOT_FOUND",
    )
    .await;

    fails(
        wrong(server.user(&alice, Method::GET, "/v1/me")),
        400,
        "APP_MISMATCH",
    )
    .await;
    fails(
        wrong(server.admin(Method::GET, "/v1/users")),
        400,
        "APP_MISMATCH",
    )
    .await;
    fails(
        wrong(server.user(&alice, Method::POST, "/v1/groups"))
            .json(&json!({"guid": "g1", "name": "G"})),
        400,
        "APP_MISMATCH",
    )
    .await;
    fails(
        wrong(server.user(
            &alice,
            Method::GET,
            "/v1/messages?receiver_type=user&receiver=bob",
        )),
        400,
        "APP_MISMATCH",
    )
    .await;
    fails(
        wrong(server.admin(Method::POST, "/v1/admin/throttle"))
            .json(&json!({"feature": "typing", "duration_ms": 1000})),
        400,
        "APP_MISMATCH",
    )
    .await;

    let me = ok(right(server.user(&alice, Method::GET, "/v1/me")), 200).await;
    assert_eq!(me["uid"], "alice");
    ok(
        right(server.admin(Method::POST, "/v1/users")).json(&json!({"uid": "bob", "name": "Bob"})),
        201,
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Login, logout, me
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn login_issues_a_working_token() {
    let server = TestServer::start().await;
    server.create_user("alice").await;
    let r = ok(
        anon(&server, Method::POST, "/v1/login")
            .json(&json!({"uid": "alice", "auth_key": AUTH_KEY})),
        200,
    )
    .await;
    assert_eq!(r["app_id"], "chinwag-app");
    assert_eq!(r["user"]["uid"], "alice");
    let token = r["token"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    let me = ok(server.user(token, Method::GET, "/v1/me"), 200).await;
    assert_eq!(me["uid"], "alice");
    assert_eq!(me["name"], "User alice");
    assert_eq!(me["role"], "default");
    assert_eq!(me["status"], "offline");

    // Every login is a new token.
    let other = server.login("alice").await;
    assert_ne!(other, token);
}

#[tokio::test]
async fn login_errors() {
    let server = TestServer::start().await;
    server.create_user("alice").await;
    let login = |body: Value| anon(&server, Method::POST, "/v1/login").json(&body);
    fails(
        login(json!({"uid": "alice", "auth_key": "wrong"})),
        401,
        "INVALID_AUTH_KEY",
    )
    .await;
    fails(
        login(json!({"uid": "alice", "auth_key": ""})),
        401,
        "INVALID_AUTH_KEY",
    )
    .await;
    fails(
        login(json!({"uid": "nobody", "auth_key": AUTH_KEY})),
        404,
        "USER_NOT_FOUND",
    )
    .await;
    fails(
        login(json!({"uid": "a:b", "auth_key": AUTH_KEY})),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    fails(
        login(json!({"uid": "", "auth_key": AUTH_KEY})),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    fails(login(json!({"uid": "alice"})), 400, "BAD_REQUEST").await;
}

#[tokio::test]
async fn failed_logins_are_rate_limited_per_ip() {
    let mut cfg = common::config();
    cfg.auth_failures_per_minute = 3;
    let server = TestServer::with(cfg).await;
    server.create_user("alice").await;
    let login = |key: &str| {
        anon(&server, Method::POST, "/v1/login").json(&json!({"uid": "alice", "auth_key": key}))
    };
    // Successful logins do not count: a busy address that logs in correctly is never locked out.
    for _ in 0..5 {
        ok(login(AUTH_KEY), 200).await;
    }
    for _ in 0..3 {
        fails(login("wrong"), 401, "INVALID_AUTH_KEY").await;
    }

    // Over the limit even the right key is refused, so the answer tells a guesser nothing.
    let r = login(AUTH_KEY).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .expect("Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "RATE_LIMITED");
    let ms = body["retry_after_ms"].as_u64().expect("retry_after_ms");
    assert!(ms <= 60_000, "{body}");
    assert_eq!(retry, ms.div_ceil(1000).max(1));
    fails(login("wrong"), 429, "RATE_LIMITED").await;
}

#[tokio::test]
async fn logout_revokes_only_that_token() {
    let server = TestServer::start().await;
    let first = server.user_token("alice").await;
    let second = server.login("alice").await;
    let r = ok(server.user(&first, Method::POST, "/v1/logout"), 204).await;
    assert_eq!(r, Value::Null);
    fails(
        server.user(&first, Method::GET, "/v1/me"),
        401,
        "INVALID_TOKEN",
    )
    .await;
    fails(
        server.user(&first, Method::POST, "/v1/logout"),
        401,
        "INVALID_TOKEN",
    )
    .await;
    let me = ok(server.user(&second, Method::GET, "/v1/me"), 200).await;
    assert_eq!(me["uid"], "alice");
}

#[tokio::test]
async fn logout_closes_the_tokens_socket() {
    let server = TestServer::start().await;
    let token = server.user_token("alice").await;
    let (mut ws, _) = server.connect(&token).await;
    ok(server.user(&token, Method::POST, "/v1/logout"), 204).await;
    assert_eq!(
        ws.expect_close().await,
        Some(chinwag_protocol::close::TOKEN_INVALID)
    );
}

#[tokio::test]
async fn me_reports_the_live_status() {
    let server = TestServer::start().await;
    let token = server.user_token("alice").await;
    let me = ok(server.user(&token, Method::GET, "/v1/me"), 200).await;
    assert_eq!(me["status"], "offline");
    let (_ws, _) = server.connect(&token).await;
    let me = ok(server.user(&token, Method::GET, "/v1/me"), 200).await;
    assert_eq!(me["status"], "online");
}

// ---------------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_user_with_either_key() {
    let server = TestServer::start().await;
    let u = ok(
        server.admin(Method::POST, "/v1/users").json(&json!({
            "uid": "alice", "name": "Alice", "avatar": "https://x/a.png",
            "role": "staff", "metadata": {"team": "red"}
        })),
        201,
    )
    .await;
    assert_eq!(u["uid"], "alice");
    assert_eq!(u["name"], "Alice");
    assert_eq!(u["avatar"], "https://x/a.png");
    assert_eq!(u["role"], "staff");
    assert_eq!(u["metadata"], json!({"team": "red"}));
    assert_eq!(u["status"], "offline");
    assert!(u.get("deactivated").is_none());

    let u = ok(
        anon(&server, Method::POST, "/v1/users")
            .header("x-auth-key", AUTH_KEY)
            .json(&json!({"uid": "bob", "name": "Bob"})),
        201,
    )
    .await;
    assert_eq!(u["role"], "default");
    assert_eq!(u["metadata"], json!({}));

    // Both are stored.
    let got = ok(server.admin(Method::GET, "/v1/users/alice"), 200).await;
    assert_eq!(got["metadata"]["team"], "red");
    ok(server.admin(Method::GET, "/v1/users/bob"), 200).await;
}

#[tokio::test]
async fn create_user_errors() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let body = json!({"uid": "bob", "name": "Bob"});
    fails(
        anon(&server, Method::POST, "/v1/users").json(&body),
        401,
        "UNAUTHORIZED",
    )
    .await;
    fails(
        server.user(&alice, Method::POST, "/v1/users").json(&body),
        401,
        "UNAUTHORIZED",
    )
    .await;
    fails(
        bad_key(&server, Method::POST, "/v1/users").json(&body),
        401,
        "INVALID_API_KEY",
    )
    .await;
    fails(
        anon(&server, Method::POST, "/v1/users")
            .header("x-auth-key", "wrong")
            .json(&body),
        401,
        "INVALID_AUTH_KEY",
    )
    .await;
    // A wrong API key is not rescued by a right auth key.
    fails(
        bad_key(&server, Method::POST, "/v1/users")
            .header("x-auth-key", AUTH_KEY)
            .json(&body),
        401,
        "INVALID_API_KEY",
    )
    .await;
    fails(
        server.admin(Method::GET, "/v1/users/bob"),
        404,
        "USER_NOT_FOUND",
    )
    .await;

    fails(
        server
            .admin(Method::POST, "/v1/users")
            .json(&json!({"uid": "alice", "name": "Again"})),
        409,
        "USER_EXISTS",
    )
    .await;
    // The existing user is untouched.
    let a = ok(server.admin(Method::GET, "/v1/users/alice"), 200).await;
    assert_eq!(a["name"], "User alice");

    for bad in [
        json!({"uid": "a b", "name": "x"}),
        json!({"uid": "a:b", "name": "x"}),
        json!({"uid": "", "name": "x"}),
        json!({"uid": "x".repeat(101), "name": "x"}),
        json!({"uid": "carol", "name": "   "}),
        json!({"uid": "carol", "name": "n".repeat(201)}),
        json!({"uid": "carol", "name": "Carol", "role": "has space"}),
        json!({"uid": "carol", "name": "Carol", "metadata": [1, 2]}),
        json!({"uid": "carol", "name": "Carol", "metadata": {"big": "x".repeat(70_000)}}),
    ] {
        fails(
            server.admin(Method::POST, "/v1/users").json(&bad),
            400,
            "INVALID_ARGUMENT",
        )
        .await;
    }
    fails(
        server.admin(Method::GET, "/v1/users/carol"),
        404,
        "USER_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn list_users_filters_by_search_role_and_status() {
    let server = TestServer::start().await;
    for (uid, name, role) in [
        ("alice", "Alice Smith", "staff"),
        ("bob", "Bob Jones", "default"),
        ("carol", "Carol Smithers", "staff"),
        ("dave", "Dave", "default"),
        ("under_score", "U", "default"),
    ] {
        server
            .create_user_with(uid, json!({"name": name, "role": role}))
            .await;
    }
    let alice = server.login("alice").await;
    let list = |q: &str| server.user(&alice, Method::GET, &format!("/v1/users{q}"));

    let all = ok(list(""), 200).await;
    assert_eq!(uids(&all), ["alice", "bob", "carol", "dave", "under_score"]);
    assert!(all.get("next_after").is_none(), "{all}");

    // Case-insensitive substring of uid or name.
    assert_eq!(
        uids(&ok(list("?search=SMITH"), 200).await),
        ["alice", "carol"]
    );
    assert_eq!(uids(&ok(list("?search=ob"), 200).await), ["bob"]);
    assert_eq!(uids(&ok(list("?search=jones"), 200).await), ["bob"]);
    // LIKE wildcards in the search are literal.
    assert_eq!(uids(&ok(list("?search=r_s"), 200).await), ["under_score"]);
    assert_eq!(
        uids(&ok(list("?search=%25"), 200).await),
        Vec::<String>::new()
    );
    assert_eq!(
        uids(&ok(list("?search=zzz"), 200).await),
        Vec::<String>::new()
    );

    assert_eq!(
        uids(&ok(list("?role=staff"), 200).await),
        ["alice", "carol"]
    );
    assert_eq!(
        uids(&ok(list("?role=staff&search=ers"), 200).await),
        ["carol"]
    );
    assert_eq!(
        uids(&ok(list("?role=nobody"), 200).await),
        Vec::<String>::new()
    );

    // Status is live: bob and carol connect.
    let bob = server.login("bob").await;
    let carol = server.login("carol").await;
    let (_b, _) = server.connect(&bob).await;
    let (_c, _) = server.connect(&carol).await;
    let online = ok(list("?status=online"), 200).await;
    assert_eq!(uids(&online), ["bob", "carol"]);
    assert!(online["users"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["status"] == "online"));
    assert_eq!(
        uids(&ok(list("?status=offline"), 200).await),
        ["alice", "dave", "under_score"]
    );
    assert_eq!(
        uids(&ok(list("?status=online&role=staff"), 200).await),
        ["carol"]
    );

    // The API key lists too.
    let by_admin = ok(server.admin(Method::GET, "/v1/users?role=staff"), 200).await;
    assert_eq!(uids(&by_admin), ["alice", "carol"]);

    fails(list("?status=away"), 400, "INVALID_ARGUMENT").await;
    fails(list("?limit=101"), 400, "INVALID_ARGUMENT").await;
    fails(list("?limit=0"), 400, "INVALID_ARGUMENT").await;
    assert_eq!(uids(&ok(list("?limit=100"), 200).await).len(), 5);
}

#[tokio::test]
async fn list_users_pages_with_next_after() {
    let server = TestServer::start().await;
    for uid in ["u1", "u2", "u3", "u4", "u5"] {
        server.create_user(uid).await;
    }
    let list = |q: String| server.admin(Method::GET, &format!("/v1/users{q}"));

    let mut seen = Vec::new();
    let mut pages = 0;
    let mut query = "?limit=2".to_string();
    loop {
        let page = ok(list(query.clone()), 200).await;
        pages += 1;
        let got = uids(&page);
        assert!(got.len() <= 2, "{page}");
        seen.extend(got.clone());
        match page["next_after"].as_str() {
            Some(next) => {
                assert_eq!(Some(next), got.last().map(String::as_str));
                query = format!("?limit=2&after={next}");
            }
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(seen, ["u1", "u2", "u3", "u4", "u5"]);
    assert_eq!(pages, 3);

    // A page that ends exactly at the last user is the last page.
    let page = ok(list("?limit=2&after=u3".into()), 200).await;
    assert_eq!(uids(&page), ["u4", "u5"]);
    assert!(page.get("next_after").is_none(), "{page}");
    let page = ok(list("?limit=5".into()), 200).await;
    assert_eq!(uids(&page).len(), 5);
    assert!(page.get("next_after").is_none(), "{page}");

    // Paging while filtering by status.
    let page = ok(list("?status=offline&limit=4".into()), 200).await;
    assert_eq!(uids(&page), ["u1", "u2", "u3", "u4"]);
    assert_eq!(page["next_after"], "u4");
    let page = ok(list("?status=offline&limit=4&after=u4".into()), 200).await;
    assert_eq!(uids(&page), ["u5"]);
    assert!(page.get("next_after").is_none(), "{page}");

    let page = ok(list("?after=u5".into()), 200).await;
    assert_eq!(uids(&page), Vec::<String>::new());
}

#[tokio::test]
async fn get_user_by_self_others_and_backend() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let me = ok(server.user(&alice, Method::GET, "/v1/users/alice"), 200).await;
    assert_eq!(me["uid"], "alice");
    assert_eq!(me["name"], "User alice");
    let by_admin = ok(server.admin(Method::GET, "/v1/users/alice"), 200).await;
    assert_eq!(by_admin, me);
    // Profiles are readable by other users (as in GET /v1/users); only changes are restricted.
    let by_bob = ok(server.user(&bob, Method::GET, "/v1/users/alice"), 200).await;
    assert_eq!(by_bob["uid"], "alice");

    fails(
        server.user(&alice, Method::GET, "/v1/users/nobody"),
        404,
        "USER_NOT_FOUND",
    )
    .await;
    fails(
        server.admin(Method::GET, "/v1/users/nobody"),
        404,
        "USER_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn update_user_by_self_or_backend_only() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;

    let u = ok(
        server
            .user(&alice, Method::PATCH, "/v1/users/alice")
            .json(&json!({"name": "Alice A.", "avatar": "https://x/a.png"})),
        200,
    )
    .await;
    assert_eq!(u["name"], "Alice A.");
    assert_eq!(u["avatar"], "https://x/a.png");
    assert_eq!(u["role"], "default");

    // Absent fields are left alone.
    let u = ok(
        server
            .admin(Method::PATCH, "/v1/users/alice")
            .json(&json!({"role": "vip", "metadata": {"level": 3}})),
        200,
    )
    .await;
    assert_eq!(u["name"], "Alice A.");
    assert_eq!(u["avatar"], "https://x/a.png");
    assert_eq!(u["role"], "vip");
    assert_eq!(u["metadata"], json!({"level": 3}));
    let stored = ok(server.user(&alice, Method::GET, "/v1/me"), 200).await;
    assert_eq!(stored["role"], "vip");
    assert_eq!(stored["metadata"]["level"], 3);

    // Another user may not.
    fails(
        server
            .user(&bob, Method::PATCH, "/v1/users/alice")
            .json(&json!({"name": "Hacked"})),
        403,
        "FORBIDDEN",
    )
    .await;
    fails(
        server
            .user(&bob, Method::PATCH, "/v1/users/nobody")
            .json(&json!({"name": "x"})),
        403,
        "FORBIDDEN",
    )
    .await;
    let stored = ok(server.admin(Method::GET, "/v1/users/alice"), 200).await;
    assert_eq!(stored["name"], "Alice A.");

    fails(
        server
            .admin(Method::PATCH, "/v1/users/nobody")
            .json(&json!({"name": "x"})),
        404,
        "USER_NOT_FOUND",
    )
    .await;
    for bad in [
        json!({"name": ""}),
        json!({"role": "a:b"}),
        json!({"metadata": "text"}),
    ] {
        fails(
            server.admin(Method::PATCH, "/v1/users/alice").json(&bad),
            400,
            "INVALID_ARGUMENT",
        )
        .await;
    }
    // Roles steer presence subscriptions: users cannot pick their own.
    fails(
        server
            .user(&alice, Method::PATCH, "/v1/users/alice")
            .json(&json!({"role": "admin"})),
        403,
        "FORBIDDEN",
    )
    .await;
    let stored = ok(server.admin(Method::GET, "/v1/users/alice"), 200).await;
    assert_eq!(stored["name"], "Alice A.");
    assert_eq!(stored["role"], "vip");
}

#[tokio::test]
async fn mint_and_revoke_tokens() {
    let server = TestServer::start().await;
    let logged_in = server.user_token("alice").await;
    server.create_user("bob").await;

    let minted = ok(server.admin(Method::POST, "/v1/users/alice/tokens"), 201).await;
    assert_eq!(minted["app_id"], "chinwag-app");
    assert_eq!(minted["user"]["uid"], "alice");
    let token = minted["token"].as_str().unwrap().to_string();
    let me = ok(server.user(&token, Method::GET, "/v1/me"), 200).await;
    assert_eq!(me["uid"], "alice");

    fails(
        server.admin(Method::POST, "/v1/users/nobody/tokens"),
        404,
        "USER_NOT_FOUND",
    )
    .await;
    fails(
        server.admin(Method::DELETE, "/v1/users/nobody/tokens"),
        404,
        "USER_NOT_FOUND",
    )
    .await;
    // A user cannot mint or revoke, not even for itself.
    fails(
        server.user(&token, Method::POST, "/v1/users/alice/tokens"),
        403,
        "FORBIDDEN",
    )
    .await;
    fails(
        server.user(&token, Method::DELETE, "/v1/users/alice/tokens"),
        403,
        "FORBIDDEN",
    )
    .await;

    let bob_token = ok(server.admin(Method::POST, "/v1/users/bob/tokens"), 201).await["token"]
        .as_str()
        .unwrap()
        .to_string();

    let r = ok(server.admin(Method::DELETE, "/v1/users/alice/tokens"), 200).await;
    assert_eq!(r, json!({"revoked": 2}));
    for t in [&logged_in, &token] {
        fails(server.user(t, Method::GET, "/v1/me"), 401, "INVALID_TOKEN").await;
    }
    // Only alice's tokens.
    ok(server.user(&bob_token, Method::GET, "/v1/me"), 200).await;
    let r = ok(server.admin(Method::DELETE, "/v1/users/alice/tokens"), 200).await;
    assert_eq!(r, json!({"revoked": 0}));
    // New tokens work again.
    let fresh = server.login("alice").await;
    ok(server.user(&fresh, Method::GET, "/v1/me"), 200).await;
}

#[tokio::test]
async fn deactivate_and_activate_users() {
    let server = TestServer::start().await;
    let token = server.user_token("alice").await;
    server.create_user("bob").await;

    let u = ok(
        server.admin(Method::POST, "/v1/users/alice/deactivate"),
        200,
    )
    .await;
    assert_eq!(u["uid"], "alice");
    assert_eq!(u["deactivated"], true);

    fails(
        anon(&server, Method::POST, "/v1/login")
            .json(&json!({"uid": "alice", "auth_key": AUTH_KEY})),
        403,
        "USER_DEACTIVATED",
    )
    .await;
    fails(
        server.user(&token, Method::GET, "/v1/me"),
        403,
        "USER_DEACTIVATED",
    )
    .await;
    fails(
        server.admin(Method::POST, "/v1/users/alice/tokens"),
        403,
        "USER_DEACTIVATED",
    )
    .await;
    // The backend still sees the user, marked.
    let seen = ok(server.admin(Method::GET, "/v1/users/alice"), 200).await;
    assert_eq!(seen["deactivated"], true);
    // Others are unaffected.
    server.login("bob").await;

    fails(
        server.admin(Method::POST, "/v1/users/nobody/deactivate"),
        404,
        "USER_NOT_FOUND",
    )
    .await;
    fails(
        server.admin(Method::POST, "/v1/users/nobody/activate"),
        404,
        "USER_NOT_FOUND",
    )
    .await;

    let u = ok(server.admin(Method::POST, "/v1/users/alice/activate"), 200).await;
    assert!(u.get("deactivated").is_none(), "{u}");
    let fresh = server.login("alice").await;
    let me = ok(server.user(&fresh, Method::GET, "/v1/me"), 200).await;
    assert_eq!(me["uid"], "alice");
}

#[tokio::test]
async fn deactivation_closes_the_users_sockets() {
    let server = TestServer::start().await;
    let token = server.user_token("alice").await;
    let (mut ws, _) = server.connect(&token).await;
    ok(
        server.admin(Method::POST, "/v1/users/alice/deactivate"),
        200,
    )
    .await;
    assert_eq!(
        ws.expect_close().await,
        Some(chinwag_protocol::close::USER_DEACTIVATED)
    );
}

#[tokio::test]
async fn friends_are_mutual() {
    let server = TestServer::start().await;
    let [alice, bob, carol]: [String; 3] = users(&server, &["alice", "bob", "carol"])
        .await
        .try_into()
        .unwrap();
    server.create_user("dave").await;

    let empty = ok(
        server.user(&alice, Method::GET, "/v1/users/alice/friends"),
        200,
    )
    .await;
    assert_eq!(uids(&empty), Vec::<String>::new());

    // A user only asks (issue 16, finding 10): no friendship until the other asks back.
    let list = ok(
        server
            .user(&alice, Method::POST, "/v1/users/alice/friends")
            .json(&json!({"uids": ["carol", "bob"]})),
        200,
    )
    .await;
    assert_eq!(uids(&list), Vec::<String>::new());
    for (who, token) in [("bob", &bob), ("carol", &carol)] {
        let list = ok(
            server
                .user(token, Method::POST, &format!("/v1/users/{who}/friends"))
                .json(&json!({"uids": ["alice"]})),
            200,
        )
        .await;
        assert_eq!(uids(&list), ["alice"], "{who} accepts by asking back");
    }
    // Adding again is harmless.
    let list = ok(
        server
            .user(&alice, Method::POST, "/v1/users/alice/friends")
            .json(&json!({"uids": ["bob"]})),
        200,
    )
    .await;
    assert_eq!(uids(&list), ["bob", "carol"]);

    // Both directions.
    let of_bob = ok(server.user(&bob, Method::GET, "/v1/users/bob/friends"), 200).await;
    assert_eq!(uids(&of_bob), ["alice"]);
    let of_carol = ok(server.admin(Method::GET, "/v1/users/carol/friends"), 200).await;
    assert_eq!(uids(&of_carol), ["alice"]);

    // The backend adds for anyone.
    let of_dave = ok(
        server
            .admin(Method::POST, "/v1/users/dave/friends")
            .json(&json!({"uids": ["bob"]})),
        200,
    )
    .await;
    assert_eq!(uids(&of_dave), ["bob"]);

    // Only oneself or the backend.
    fails(
        server.user(&bob, Method::GET, "/v1/users/alice/friends"),
        403,
        "FORBIDDEN",
    )
    .await;
    fails(
        server
            .user(&bob, Method::POST, "/v1/users/alice/friends")
            .json(&json!({"uids": ["dave"]})),
        403,
        "FORBIDDEN",
    )
    .await;
    fails(
        server.user(&bob, Method::DELETE, "/v1/users/alice/friends/carol"),
        403,
        "FORBIDDEN",
    )
    .await;

    // Bad requests change nothing, not even the valid part of a list.
    fails(
        server
            .user(&alice, Method::POST, "/v1/users/alice/friends")
            .json(&json!({"uids": []})),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    fails(
        server
            .user(&alice, Method::POST, "/v1/users/alice/friends")
            .json(&json!({"uids": ["alice"]})),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    fails(
        server
            .user(&alice, Method::POST, "/v1/users/alice/friends")
            .json(&json!({"uids": ["bad id"]})),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    fails(
        server
            .user(&alice, Method::POST, "/v1/users/alice/friends")
            .json(&json!({"uids": ["dave", "ghost"]})),
        404,
        "USER_NOT_FOUND",
    )
    .await;
    fails(
        server.admin(Method::GET, "/v1/users/ghost/friends"),
        404,
        "USER_NOT_FOUND",
    )
    .await;
    fails(
        server
            .admin(Method::POST, "/v1/users/ghost/friends")
            .json(&json!({"uids": ["bob"]})),
        404,
        "USER_NOT_FOUND",
    )
    .await;
    fails(
        server.admin(Method::DELETE, "/v1/users/ghost/friends/bob"),
        404,
        "USER_NOT_FOUND",
    )
    .await;
    let list = ok(
        server.user(&alice, Method::GET, "/v1/users/alice/friends"),
        200,
    )
    .await;
    assert_eq!(uids(&list), ["bob", "carol"]);

    // Removing ends the friendship on both sides.
    let r = ok(
        server.user(&carol, Method::DELETE, "/v1/users/carol/friends/alice"),
        204,
    )
    .await;
    assert_eq!(r, Value::Null);
    let list = ok(
        server.user(&alice, Method::GET, "/v1/users/alice/friends"),
        200,
    )
    .await;
    assert_eq!(uids(&list), ["bob"]);
    let list = ok(
        server.user(&carol, Method::GET, "/v1/users/carol/friends"),
        200,
    )
    .await;
    assert_eq!(uids(&list), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// Groups
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_group_and_errors() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let g = ok(
        server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({
                "guid": "g1", "name": "Group One", "type": "private",
                "description": "d", "metadata": {"k": 1}
            })),
        201,
    )
    .await;
    assert_eq!(g["guid"], "g1");
    assert_eq!(g["name"], "Group One");
    assert_eq!(g["type"], "private");
    assert_eq!(g["description"], "d");
    assert_eq!(g["metadata"], json!({"k": 1}));
    assert_eq!(g["owner"], "alice");
    assert_eq!(g["members_count"], 1);
    assert_eq!(g["scope"], "admin");
    assert!(g["created_at"].as_i64().unwrap() > 0);

    let g = ok(
        server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({"guid": "g2", "name": "Two"})),
        201,
    )
    .await;
    assert_eq!(g["type"], "public");

    fails(
        server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({"guid": "g1", "name": "Dup"})),
        409,
        "GROUP_EXISTS",
    )
    .await;
    for bad in [
        json!({"guid": "a b", "name": "x"}),
        json!({"guid": "", "name": "x"}),
        json!({"guid": "g3", "name": ""}),
        json!({"guid": "g3", "name": "x", "metadata": 5}),
    ] {
        fails(
            server.user(&alice, Method::POST, "/v1/groups").json(&bad),
            400,
            "INVALID_ARGUMENT",
        )
        .await;
    }
    fails(
        server.user(&alice, Method::GET, "/v1/groups/g3"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    let g = ok(server.user(&alice, Method::GET, "/v1/groups/g1"), 200).await;
    assert_eq!(g["name"], "Group One");
}

#[tokio::test]
async fn list_groups_joined_versus_public() {
    let server = TestServer::start().await;
    let [alice, bob]: [String; 2] = users(&server, &["alice", "bob"]).await.try_into().unwrap();
    for (guid, name, kind) in [
        ("pub-a", "Apples", "public"),
        ("pub-b", "Bananas", "public"),
        ("priv-c", "Cherries", "private"),
        ("under_x", "Under", "public"),
        ("underyx", "Other", "public"),
    ] {
        ok(
            server
                .user(&alice, Method::POST, "/v1/groups")
                .json(&json!({"guid": guid, "name": name, "type": kind})),
            201,
        )
        .await;
    }
    ok(
        server.user(&bob, Method::POST, "/v1/groups/pub-b/join"),
        200,
    )
    .await;

    // Public listing: every public group, joined or not, never private ones.
    let public = ok(server.user(&bob, Method::GET, "/v1/groups"), 200).await;
    assert_eq!(guids(&public), ["pub-a", "pub-b", "under_x", "underyx"]);
    let scopes: Vec<&Value> = public["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| &g["scope"])
        .collect();
    assert_eq!(
        scopes,
        [
            &Value::Null,
            &json!("participant"),
            &Value::Null,
            &Value::Null
        ]
    );
    let public = ok(
        server.user(&alice, Method::GET, "/v1/groups?joined=false"),
        200,
    )
    .await;
    assert_eq!(guids(&public), ["pub-a", "pub-b", "under_x", "underyx"]);

    // Joined: the caller's groups, private ones included.
    let joined = ok(
        server.user(&alice, Method::GET, "/v1/groups?joined=true"),
        200,
    )
    .await;
    assert_eq!(
        guids(&joined),
        ["priv-c", "pub-a", "pub-b", "under_x", "underyx"]
    );
    assert!(joined["groups"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["scope"] == "admin"));
    let joined = ok(
        server.user(&bob, Method::GET, "/v1/groups?joined=true"),
        200,
    )
    .await;
    assert_eq!(guids(&joined), ["pub-b"]);
    assert_eq!(joined["groups"][0]["members_count"], 2);

    // Search by name or guid.
    let found = ok(
        server.user(&bob, Method::GET, "/v1/groups?search=anan"),
        200,
    )
    .await;
    assert_eq!(guids(&found), ["pub-b"]);
    let found = ok(server.user(&bob, Method::GET, "/v1/groups?search=pub"), 200).await;
    assert_eq!(guids(&found), ["pub-a", "pub-b"]);
    let found = ok(
        server.user(&bob, Method::GET, "/v1/groups?search=cherr"),
        200,
    )
    .await;
    assert_eq!(guids(&found), Vec::<String>::new());
    let found = ok(
        server.user(&alice, Method::GET, "/v1/groups?joined=true&search=cherr"),
        200,
    )
    .await;
    assert_eq!(guids(&found), ["priv-c"]);
    // LIKE wildcards in the search are literal.
    let found = ok(server.user(&bob, Method::GET, "/v1/groups?search=r_x"), 200).await;
    assert_eq!(guids(&found), ["under_x"]);
    let found = ok(server.user(&bob, Method::GET, "/v1/groups?search=%25"), 200).await;
    assert_eq!(guids(&found), Vec::<String>::new());

    fails(
        server.user(&bob, Method::GET, "/v1/groups?limit=101"),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    fails(
        server.user(&bob, Method::GET, "/v1/groups?limit=0"),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
}

#[tokio::test]
async fn list_groups_pages_with_next_after() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    for guid in ["g1", "g2", "g3"] {
        ok(
            server
                .user(&alice, Method::POST, "/v1/groups")
                .json(&json!({"guid": guid, "name": guid})),
            201,
        )
        .await;
    }
    let page = ok(server.user(&alice, Method::GET, "/v1/groups?limit=2"), 200).await;
    assert_eq!(guids(&page), ["g1", "g2"]);
    assert_eq!(page["next_after"], "g2");
    let page = ok(
        server.user(&alice, Method::GET, "/v1/groups?limit=2&after=g2"),
        200,
    )
    .await;
    assert_eq!(guids(&page), ["g3"]);
    assert!(page.get("next_after").is_none(), "{page}");
    // A page that ends exactly at the last group is the last page.
    let page = ok(
        server.user(&alice, Method::GET, "/v1/groups?joined=true&limit=3"),
        200,
    )
    .await;
    assert_eq!(guids(&page), ["g1", "g2", "g3"]);
    assert!(page.get("next_after").is_none(), "{page}");
    let page = ok(
        server.user(&alice, Method::GET, "/v1/groups?limit=1&after=g2"),
        200,
    )
    .await;
    assert_eq!(guids(&page), ["g3"]);
    assert!(page.get("next_after").is_none(), "{page}");
}

#[tokio::test]
async fn get_group_hides_private_groups_from_non_members() {
    let server = TestServer::start().await;
    let [alice, bob, carol]: [String; 3] = users(&server, &["alice", "bob", "carol"])
        .await
        .try_into()
        .unwrap();
    ok(
        server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({"guid": "secret", "name": "S", "type": "private"})),
        201,
    )
    .await;
    server.group(&alice, "open", &[]).await;
    ok(
        server
            .user(&alice, Method::POST, "/v1/groups/secret/members")
            .json(&json!({"members": [{"uid": "bob"}]})),
        200,
    )
    .await;

    let g = ok(server.user(&bob, Method::GET, "/v1/groups/secret"), 200).await;
    assert_eq!(g["scope"], "participant");
    assert_eq!(g["members_count"], 2);
    // A private group is answered like one that does not exist (issue 16, finding 9).
    fails(
        server.user(&carol, Method::GET, "/v1/groups/secret"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    fails(
        server.user(&carol, Method::GET, "/v1/groups/secret/members"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    // Public groups are visible to anyone, without a scope for non-members.
    let g = ok(server.user(&carol, Method::GET, "/v1/groups/open"), 200).await;
    assert_eq!(g["owner"], "alice");
    assert!(g.get("scope").is_none(), "{g}");
    let m = ok(
        server.user(&carol, Method::GET, "/v1/groups/open/members"),
        200,
    )
    .await;
    assert_eq!(member_scopes(&m), pairs(&[("alice", "admin")]));
    fails(
        server.user(&carol, Method::GET, "/v1/groups/missing"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    fails(
        server.user(&carol, Method::GET, "/v1/groups/missing/members"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn join_and_leave_groups() {
    let server = TestServer::start().await;
    let [alice, bob]: [String; 2] = users(&server, &["alice", "bob"]).await.try_into().unwrap();
    server.group(&alice, "open", &[]).await;
    ok(
        server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({"guid": "closed", "name": "C", "type": "private"})),
        201,
    )
    .await;

    let g = ok(server.user(&bob, Method::POST, "/v1/groups/open/join"), 200).await;
    assert_eq!(g["guid"], "open");
    assert_eq!(g["scope"], "participant");
    assert_eq!(g["members_count"], 2);
    fails(
        server.user(&bob, Method::POST, "/v1/groups/open/join"),
        409,
        "ALREADY_MEMBER",
    )
    .await;
    fails(
        server.user(&alice, Method::POST, "/v1/groups/open/join"),
        409,
        "ALREADY_MEMBER",
    )
    .await;
    // A private group is answered like one that does not exist (issue 16, finding 9).
    fails(
        server.user(&bob, Method::POST, "/v1/groups/closed/join"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    fails(
        server.user(&bob, Method::POST, "/v1/groups/missing/join"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    let m = ok(
        server.user(&bob, Method::GET, "/v1/groups/open/members"),
        200,
    )
    .await;
    assert_eq!(
        member_scopes(&m),
        pairs(&[("alice", "admin"), ("bob", "participant")])
    );

    // The owner cannot leave.
    fails(
        server.user(&alice, Method::POST, "/v1/groups/open/leave"),
        403,
        "OWNER_RULE",
    )
    .await;
    let r = ok(
        server.user(&bob, Method::POST, "/v1/groups/open/leave"),
        204,
    )
    .await;
    assert_eq!(r, Value::Null);
    fails(
        server.user(&bob, Method::POST, "/v1/groups/open/leave"),
        403,
        "NOT_A_MEMBER",
    )
    .await;
    fails(
        server.user(&bob, Method::POST, "/v1/groups/closed/leave"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    fails(
        server.user(&bob, Method::POST, "/v1/groups/missing/leave"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    let m = ok(
        server.user(&alice, Method::GET, "/v1/groups/open/members"),
        200,
    )
    .await;
    assert_eq!(member_scopes(&m), pairs(&[("alice", "admin")]));
    let joined = ok(
        server.user(&bob, Method::GET, "/v1/groups?joined=true"),
        200,
    )
    .await;
    assert_eq!(guids(&joined), Vec::<String>::new());
    // Leaving is not a ban: bob can come back.
    ok(server.user(&bob, Method::POST, "/v1/groups/open/join"), 200).await;
}

#[tokio::test]
async fn join_announces_to_members_over_the_socket() {
    let server = TestServer::start().await;
    let [alice, bob]: [String; 2] = users(&server, &["alice", "bob"]).await.try_into().unwrap();
    server.group(&alice, "open", &[]).await;
    let (mut ws, _) = server.connect(&alice).await;
    ok(server.user(&bob, Method::POST, "/v1/groups/open/join"), 200).await;
    let ev = ws.expect_event("group_member").await;
    assert_eq!(ev["data"]["action"], "joined");
    assert_eq!(ev["data"]["member"], "bob");
    assert_eq!(ev["data"]["guid"], "open");
}

#[tokio::test]
async fn add_members_is_for_admins() {
    let server = TestServer::start().await;
    let [alice, bob, carol, _dave, erin]: [String; 5] =
        users(&server, &["alice", "bob", "carol", "dave", "erin"])
            .await
            .try_into()
            .unwrap();
    ok(
        server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({"guid": "g", "name": "G", "type": "private"})),
        201,
    )
    .await;
    let list = ok(
        server
            .user(&alice, Method::POST, "/v1/groups/g/members")
            .json(&json!({"members": [{"uid": "bob"}, {"uid": "carol", "scope": "moderator"}]})),
        200,
    )
    .await;
    assert_eq!(
        member_scopes(&list),
        pairs(&[
            ("alice", "admin"),
            ("bob", "participant"),
            ("carol", "moderator")
        ])
    );
    assert_eq!(list["members"][1]["user"]["name"], "User bob");
    assert!(list["members"][1]["joined_at"].as_i64().unwrap() > 0);

    let add = |token: &str, body: Value| {
        server
            .user(token, Method::POST, "/v1/groups/g/members")
            .json(&body)
    };
    // Participants and moderators cannot add; outsiders are not members.
    fails(
        add(&bob, json!({"members": [{"uid": "dave"}]})),
        403,
        "FORBIDDEN",
    )
    .await;
    fails(
        add(&carol, json!({"members": [{"uid": "dave"}]})),
        403,
        "FORBIDDEN",
    )
    .await;
    // g is private: to a non-member it does not exist (issue 16, finding 9).
    fails(
        add(&erin, json!({"members": [{"uid": "dave"}]})),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    fails(
        add(&alice, json!({"members": [{"uid": "bob"}]})),
        409,
        "ALREADY_MEMBER",
    )
    .await;
    // All or nothing: dave is not added when the list also names a missing user.
    fails(
        add(
            &alice,
            json!({"members": [{"uid": "dave"}, {"uid": "ghost"}]}),
        ),
        404,
        "USER_NOT_FOUND",
    )
    .await;
    fails(
        add(
            &alice,
            json!({"members": [{"uid": "dave"}, {"uid": "dave"}]}),
        ),
        409,
        "ALREADY_MEMBER",
    )
    .await;
    fails(add(&alice, json!({"members": []})), 400, "INVALID_ARGUMENT").await;
    fails(
        add(&alice, json!({"members": [{"uid": "no good"}]})),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    fails(
        add(
            &alice,
            json!({"members": [{"uid": "dave", "scope": "king"}]}),
        ),
        400,
        "BAD_REQUEST",
    )
    .await;
    fails(
        server
            .user(&alice, Method::POST, "/v1/groups/missing/members")
            .json(&json!({"members": [{"uid": "dave"}]})),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    // A banned user must be unbanned first.
    ok(
        server
            .user(&alice, Method::POST, "/v1/groups/g/ban")
            .json(&json!({"uid": "erin"})),
        204,
    )
    .await;
    fails(
        add(&alice, json!({"members": [{"uid": "erin"}]})),
        403,
        "BANNED",
    )
    .await;

    let list = ok(server.user(&bob, Method::GET, "/v1/groups/g/members"), 200).await;
    assert_eq!(
        member_scopes(&list),
        pairs(&[
            ("alice", "admin"),
            ("bob", "participant"),
            ("carol", "moderator")
        ])
    );
    // A member added with the admin scope can add others.
    ok(
        add(
            &alice,
            json!({"members": [{"uid": "dave", "scope": "admin"}]}),
        ),
        200,
    )
    .await;
    let dave = server.login("dave").await;
    fails(
        add(&dave, json!({"members": [{"uid": "erin"}]})),
        403,
        "BANNED",
    )
    .await;
}

/// alice owns `g`; bob is an admin, carol and dan moderators, pete and paula participants.
async fn moderated_group(server: &TestServer) -> [String; 7] {
    let tokens: [String; 7] = users(
        server,
        &["alice", "bob", "carol", "dan", "pete", "paula", "olive"],
    )
    .await
    .try_into()
    .unwrap();
    server.group(&tokens[0], "g", &[]).await;
    ok(
        server
            .user(&tokens[0], Method::POST, "/v1/groups/g/members")
            .json(&json!({"members": [
                {"uid": "bob", "scope": "admin"},
                {"uid": "carol", "scope": "moderator"},
                {"uid": "dan", "scope": "moderator"},
                {"uid": "pete"},
                {"uid": "paula"},
            ]})),
        200,
    )
    .await;
    tokens
}

async fn members_of(server: &TestServer, token: &str, guid: &str) -> Vec<String> {
    let list = ok(
        server.user(token, Method::GET, &format!("/v1/groups/{guid}/members")),
        200,
    )
    .await;
    list["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user"]["uid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn kick_follows_the_scope_rules() {
    let server = TestServer::start().await;
    let [alice, bob, carol, _dan, pete, _paula, olive] = moderated_group(&server).await;
    let kick = |token: &str, uid: &str| {
        server
            .user(token, Method::POST, "/v1/groups/g/kick")
            .json(&json!({"uid": uid}))
    };

    fails(kick(&pete, "paula"), 403, "FORBIDDEN").await;
    fails(kick(&olive, "paula"), 403, "NOT_A_MEMBER").await;
    fails(kick(&carol, "dan"), 403, "FORBIDDEN").await;
    fails(kick(&carol, "bob"), 403, "FORBIDDEN").await;
    fails(kick(&carol, "alice"), 403, "OWNER_RULE").await;
    fails(kick(&bob, "alice"), 403, "OWNER_RULE").await;
    fails(kick(&carol, "carol"), 400, "INVALID_ARGUMENT").await;
    fails(kick(&carol, "olive"), 403, "NOT_A_MEMBER").await;
    fails(kick(&carol, "ghost"), 404, "USER_NOT_FOUND").await;
    fails(kick(&carol, "bad id"), 400, "INVALID_ARGUMENT").await;
    fails(
        server
            .user(&carol, Method::POST, "/v1/groups/missing/kick")
            .json(&json!({"uid": "pete"})),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    assert_eq!(
        members_of(&server, &alice, "g").await,
        ["alice", "bob", "carol", "dan", "paula", "pete"]
    );

    // A moderator kicks a participant; an admin a moderator; the owner an admin.
    let r = ok(kick(&carol, "pete"), 204).await;
    assert_eq!(r, Value::Null);
    ok(kick(&bob, "dan"), 204).await;
    ok(kick(&alice, "bob"), 204).await;
    assert_eq!(
        members_of(&server, &alice, "g").await,
        ["alice", "carol", "paula"]
    );
    // Kicked members lose access but may rejoin a public group.
    fails(
        server
            .user(&pete, Method::POST, "/v1/messages")
            .json(&json!({
                "receiver_type": "group", "receiver": "g", "text": "hi"
            })),
        403,
        "NOT_A_MEMBER",
    )
    .await;
    let g = ok(server.user(&pete, Method::POST, "/v1/groups/g/join"), 200).await;
    assert_eq!(g["scope"], "participant");
}

#[tokio::test]
async fn admins_cannot_kick_admins_but_the_owner_can() {
    let server = TestServer::start().await;
    let [alice, bob, ..] = moderated_group(&server).await;
    ok(
        server
            .user(&alice, Method::PUT, "/v1/groups/g/members/carol/scope")
            .json(&json!({"scope": "admin"})),
        200,
    )
    .await;
    fails(
        server
            .user(&bob, Method::POST, "/v1/groups/g/kick")
            .json(&json!({"uid": "carol"})),
        403,
        "FORBIDDEN",
    )
    .await;
    fails(
        server
            .user(&bob, Method::POST, "/v1/groups/g/ban")
            .json(&json!({"uid": "carol"})),
        403,
        "FORBIDDEN",
    )
    .await;
    ok(
        server
            .user(&alice, Method::POST, "/v1/groups/g/kick")
            .json(&json!({"uid": "carol"})),
        204,
    )
    .await;
    assert!(!members_of(&server, &alice, "g")
        .await
        .contains(&"carol".to_string()));
}

#[tokio::test]
async fn ban_and_unban_follow_the_scope_rules() {
    let server = TestServer::start().await;
    let [alice, bob, carol, dan, pete, paula, olive] = moderated_group(&server).await;
    let act = |token: &str, action: &str, uid: &str| {
        server
            .user(token, Method::POST, &format!("/v1/groups/g/{action}"))
            .json(&json!({"uid": uid}))
    };

    fails(act(&pete, "ban", "paula"), 403, "FORBIDDEN").await;
    fails(act(&olive, "ban", "paula"), 403, "NOT_A_MEMBER").await;
    fails(act(&carol, "ban", "dan"), 403, "FORBIDDEN").await;
    fails(act(&carol, "ban", "bob"), 403, "FORBIDDEN").await;
    fails(act(&carol, "ban", "alice"), 403, "OWNER_RULE").await;
    fails(act(&bob, "ban", "alice"), 403, "OWNER_RULE").await;
    fails(act(&carol, "ban", "carol"), 400, "INVALID_ARGUMENT").await;
    fails(act(&carol, "ban", "ghost"), 404, "USER_NOT_FOUND").await;

    // A moderator bans a participant: out of the group and locked out.
    let r = ok(act(&carol, "ban", "pete"), 204).await;
    assert_eq!(r, Value::Null);
    assert!(!members_of(&server, &alice, "g")
        .await
        .contains(&"pete".to_string()));
    fails(
        server.user(&pete, Method::POST, "/v1/groups/g/join"),
        403,
        "BANNED",
    )
    .await;
    fails(
        server.user(
            &pete,
            Method::GET,
            "/v1/messages?receiver_type=group&receiver=g",
        ),
        403,
        "BANNED",
    )
    .await;
    fails(
        server
            .user(&pete, Method::POST, "/v1/messages")
            .json(&json!({
                "receiver_type": "group", "receiver": "g", "text": "let me in"
            })),
        403,
        "BANNED",
    )
    .await;
    fails(
        server.user(&pete, Method::POST, "/v1/groups/g/leave"),
        403,
        "BANNED",
    )
    .await;
    // Non-members can be banned in advance.
    ok(act(&dan, "ban", "olive"), 204).await;
    fails(
        server.user(&olive, Method::POST, "/v1/groups/g/join"),
        403,
        "BANNED",
    )
    .await;

    // Unban: moderators and up.
    fails(act(&paula, "unban", "pete"), 403, "FORBIDDEN").await;
    fails(act(&carol, "unban", "paula"), 400, "INVALID_ARGUMENT").await;
    fails(act(&carol, "unban", "alice"), 403, "OWNER_RULE").await;
    ok(act(&dan, "unban", "pete"), 204).await;
    fails(act(&dan, "unban", "pete"), 400, "INVALID_ARGUMENT").await;
    // Unbanning does not re-add: pete joins himself.
    assert!(!members_of(&server, &alice, "g")
        .await
        .contains(&"pete".to_string()));
    ok(server.user(&pete, Method::POST, "/v1/groups/g/join"), 200).await;
    ok(act(&bob, "unban", "olive"), 204).await;
    ok(server.user(&olive, Method::POST, "/v1/groups/g/join"), 200).await;
}

#[tokio::test]
async fn change_scope_is_for_admins_and_spares_the_owner() {
    let server = TestServer::start().await;
    let [alice, bob, carol, _dan, pete, _paula, olive] = moderated_group(&server).await;
    let scope = |token: &str, uid: &str, scope: &str| {
        server
            .user(
                token,
                Method::PUT,
                &format!("/v1/groups/g/members/{uid}/scope"),
            )
            .json(&json!({"scope": scope}))
    };

    let m = ok(scope(&alice, "pete", "moderator"), 200).await;
    assert_eq!(m["user"]["uid"], "pete");
    assert_eq!(m["scope"], "moderator");
    assert!(m["joined_at"].as_i64().unwrap() > 0);
    // A non-owner admin may change scopes too.
    let m = ok(scope(&bob, "carol", "participant"), 200).await;
    assert_eq!(m["scope"], "participant");
    let list = ok(
        server.user(&alice, Method::GET, "/v1/groups/g/members"),
        200,
    )
    .await;
    assert_eq!(
        member_scopes(&list),
        pairs(&[
            ("alice", "admin"),
            ("bob", "admin"),
            ("carol", "participant"),
            ("dan", "moderator"),
            ("paula", "participant"),
            ("pete", "moderator"),
        ])
    );

    fails(scope(&pete, "paula", "moderator"), 403, "FORBIDDEN").await;
    fails(scope(&carol, "paula", "moderator"), 403, "FORBIDDEN").await;
    fails(scope(&olive, "paula", "moderator"), 403, "NOT_A_MEMBER").await;
    fails(scope(&bob, "alice", "participant"), 403, "OWNER_RULE").await;
    fails(scope(&alice, "alice", "moderator"), 403, "OWNER_RULE").await;
    fails(scope(&alice, "olive", "moderator"), 403, "NOT_A_MEMBER").await;
    fails(
        scope(&alice, "bad id", "moderator"),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    fails(scope(&alice, "paula", "owner"), 400, "BAD_REQUEST").await;
    fails(
        server
            .user(
                &alice,
                Method::PUT,
                "/v1/groups/missing/members/paula/scope",
            )
            .json(&json!({"scope": "moderator"})),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;

    let g = ok(server.user(&alice, Method::GET, "/v1/groups/g"), 200).await;
    assert_eq!(g["scope"], "admin");
    let g = ok(server.user(&pete, Method::GET, "/v1/groups/g"), 200).await;
    assert_eq!(g["scope"], "moderator");
    // The new scope takes effect: pete (now a moderator) can kick paula.
    ok(
        server
            .user(&pete, Method::POST, "/v1/groups/g/kick")
            .json(&json!({"uid": "paula"})),
        204,
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Calls and admin
// ---------------------------------------------------------------------------------------------

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
