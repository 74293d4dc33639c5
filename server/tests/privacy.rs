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

/// The server's defaults (presence: friends only), not the harness's everything-enabled config.
fn default_config() -> chinwag_server::Config {
    chinwag_server::Config::local(AUTH_KEY, API_KEY)
}

async fn befriend(server: &TestServer, token: &str, uid: &str, other: &str) -> Value {
    let (s, v) = exchange(
        server
            .user(token, Method::POST, &format!("/v1/users/{uid}/friends"))
            .json(&json!({"uids": [other]})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    v
}

fn uids(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|u| u["uid"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn befriending_takes_both_sides_and_presence_follows_only_friendships() {
    let server = TestServer::with(default_config()).await;
    let alice = server.user_token("alice").await;
    let mallory = server.user_token("mallory").await;
    let carol = server.user_token("carol").await;

    // The probe: mallory befriends alice unilaterally, then watches her presence.
    let list = befriend(&server, &mallory, "mallory", "alice").await;
    assert_eq!(uids(&list, "users"), Vec::<String>::new(), "only an ask");
    let (s, reqs) =
        exchange(server.user(&alice, Method::GET, "/v1/users/alice/friend_requests")).await;
    assert_eq!(s, 200);
    assert_eq!(uids(&reqs, "incoming"), ["mallory"]);
    let (_, mine) =
        exchange(server.user(&mallory, Method::GET, "/v1/users/mallory/friend_requests")).await;
    assert_eq!(uids(&mine, "outgoing"), ["alice"]);
    // Nobody else reads someone's asks.
    let (s, _) =
        exchange(server.user(&mallory, Method::GET, "/v1/users/alice/friend_requests")).await;
    assert_eq!(s, 403);

    // carol and alice are friends the other way: carol asks, alice asks back.
    befriend(&server, &carol, "carol", "alice").await;
    let list = befriend(&server, &alice, "alice", "carol").await;
    assert_eq!(uids(&list, "users"), ["carol"]);

    let (mut c, _) = server.connect_with(&carol, "presence=friends").await;
    c.replay().await;
    let (mut a, _) = server.connect(&alice).await;
    a.replay().await;
    let seen = c.expect("presence").await;
    assert_eq!(
        (seen["uid"].as_str(), seen["status"].as_str()),
        (Some("alice"), Some("online"))
    );
    // mallory's snapshot, taken while alice is online, does not show her.
    let (mut m2, _) = server.connect_with(&mallory, "presence=friends").await;
    let snapshot = loop {
        let f = m2.next_frame().await;
        if f["type"] == "presence_snapshot" {
            break f;
        }
    };
    assert_eq!(snapshot["users"], json!([]), "{snapshot}");

    // alice declines; the backend can still make friends directly.
    let (s, _) =
        exchange(server.user(&alice, Method::DELETE, "/v1/users/alice/friends/mallory")).await;
    assert_eq!(s, 204);
    let (_, reqs) =
        exchange(server.user(&alice, Method::GET, "/v1/users/alice/friend_requests")).await;
    assert_eq!(uids(&reqs, "incoming"), Vec::<String>::new());
    let (s, v) = exchange(
        server
            .admin(Method::POST, "/v1/users/mallory/friends")
            .json(&json!({"uids": ["alice"]})),
    )
    .await;
    assert_eq!((s, uids(&v, "users")), (200, vec!["alice".to_string()]));
}

#[tokio::test]
async fn presence_modes_beyond_friends_are_off_by_default() {
    let server = TestServer::with(default_config()).await;
    let mallory = server.user_token("mallory").await;
    for mode in ["all_users", "roles:default"] {
        let mut ws = Ws::open(&server.ws_url, Some(&mallory), &format!("presence={mode}")).await;
        assert_eq!(
            ws.expect_close().await,
            Some(chinwag_protocol::close::BAD_REQUEST),
            "{mode}"
        );
    }
    let (_ws, accept) = server.connect_with(&mallory, "presence=friends").await;
    assert_eq!(accept["type"], "accept");
    // An operator can open them.
    let mut cfg = default_config();
    cfg.presence_modes = chinwag_server::PresenceModes::parse("friends,all_users").unwrap();
    let open = TestServer::with(cfg).await;
    let t = open.user_token("x").await;
    let (_ws, accept) = open.connect_with(&t, "presence=all_users").await;
    assert_eq!(accept["type"], "accept");
}

#[tokio::test]
async fn user_lists_show_status_and_last_activity_only_to_friends() {
    let server = TestServer::with(default_config()).await;
    let alice = server.user_token("alice").await;
    let mallory = server.user_token("mallory").await;
    let carol = server.user_token("carol").await;
    let (s, _) = exchange(
        server
            .admin(Method::POST, "/v1/users/carol/friends")
            .json(&json!({"uids": ["alice"]})),
    )
    .await;
    assert_eq!(s, 200);
    // alice comes and goes, so she has a last activity; then stays online.
    let (a, _) = server.connect(&alice).await;
    a.close().await;
    let mut tries = 0;
    loop {
        let (_, v) = exchange(server.admin(Method::GET, "/v1/users/alice")).await;
        if v["last_active_at"].is_i64() {
            break;
        }
        tries += 1;
        assert!(tries < 200, "last_active_at never set: {v}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (_a, _) = server.connect(&alice).await;

    // The probe: anyone listed who is online, with their last activity.
    let online = |token: &str| server.user(token, Method::GET, "/v1/users?status=online");
    let (_, v) = exchange(online(&mallory)).await;
    assert!(!uids(&v, "users").contains(&"alice".to_string()), "{v}");
    let (_, v) = exchange(server.user(&mallory, Method::GET, "/v1/users")).await;
    let listed = v["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["uid"] == "alice")
        .cloned()
        .unwrap();
    assert_eq!(listed["status"], "offline");
    assert!(
        listed.get("last_active_at").is_none_or(Value::is_null),
        "{listed}"
    );
    let (_, one) = exchange(server.user(&mallory, Method::GET, "/v1/users/alice")).await;
    assert_eq!(one["status"], "offline");
    assert!(
        one.get("last_active_at").is_none_or(Value::is_null),
        "{one}"
    );

    // A friend and the backend see it.
    let (_, v) = exchange(online(&carol)).await;
    assert!(uids(&v, "users").contains(&"alice".to_string()), "{v}");
    let (_, one) = exchange(server.user(&carol, Method::GET, "/v1/users/alice")).await;
    assert_eq!(one["status"], "online");
    assert!(one["last_active_at"].is_i64(), "{one}");
    let (_, v) = exchange(server.admin(Method::GET, "/v1/users?status=online")).await;
    assert!(uids(&v, "users").contains(&"alice".to_string()), "{v}");
}
