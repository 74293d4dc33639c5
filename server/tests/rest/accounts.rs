//! Login, logout, `/me`, users (create, list, get, update, tokens, deactivation) and friends.

use crate::common::{self, *};
use crate::support::*;
use reqwest::Method;
use serde_json::{json, Value};

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
