//! Routing, health, malformed requests and credentials: every route's answer without, with bad
//! and with the wrong kind of credentials.

use crate::common::{self, *};
use crate::support::*;
use reqwest::{Method, RequestBuilder};
use serde_json::json;

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
