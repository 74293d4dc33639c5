//! Size, depth and quota limits on what a user can make the server store (issue 16: findings 2,
//! 3, 4, 7, 11, 12, 13), against the real server.
mod common;

use chinwag_protocol::limits::{MAX_JSON_BYTES, MAX_JSON_DEPTH, MAX_MESSAGE_BYTES, MAX_TEXT_BYTES};
use common::*;
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

async fn exchange(rb: RequestBuilder) -> (u16, Value) {
    let r = rb.send().await.expect("request sent");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body read");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn post_message(server: &TestServer, token: &str, body: Value) -> (u16, Value) {
    exchange(server.user(token, Method::POST, "/v1/messages").json(&body)).await
}

async fn history(server: &TestServer, token: &str, with: &str) -> Vec<Value> {
    let (s, v) = exchange(server.user(
        token,
        Method::GET,
        &format!("/v1/messages?receiver_type=user&receiver={with}&limit=100"),
    ))
    .await;
    assert_eq!(s, 200, "{v}");
    v["messages"].as_array().cloned().unwrap_or_default()
}

fn nested(depth: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..depth {
        v = json!([v]);
    }
    v
}

fn attachment(i: usize) -> Value {
    json!({"url": format!("https://files.example/{i}.png"), "name": format!("{i}.png"), "mime_type": "image/png", "size": 1000})
}

#[tokio::test]
async fn attachments_are_bounded_in_count_and_field_size() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    server.create_user("bob").await;
    let msg = |attachments: Vec<Value>| json!({"receiver_type": "user", "receiver": "bob", "type": "image", "attachments": attachments});
    // The probe's shape: hundreds of attachments in one message.
    let (s, v) = post_message(&server, &alice, msg((0..190).map(attachment).collect())).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("INVALID_ARGUMENT")),
        "{v}"
    );
    assert!(
        v["message"].as_str().unwrap_or("").contains("at most 10"),
        "{v}"
    );

    let mut long_url = attachment(0);
    long_url["url"] = json!(format!("https://x.example/{}", "a".repeat(3000)));
    let mut long_name = attachment(0);
    long_name["name"] = json!("n".repeat(256));
    let mut long_mime = attachment(0);
    long_mime["mime_type"] = json!("m".repeat(256));
    for (what, a) in [("url", long_url), ("name", long_name), ("mime", long_mime)] {
        let (s, v) = post_message(&server, &alice, msg(vec![a])).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (400, Some("INVALID_ARGUMENT")),
            "{what}: {v}"
        );
    }
    assert!(history(&server, &alice, "bob").await.is_empty());

    let (s, v) = post_message(&server, &alice, msg((0..10).map(attachment).collect())).await;
    assert_eq!(s, 201, "ten attachments are fine: {v}");
}

/// A message of about `total` serialized bytes, every field within its own limit: a text of
/// control characters (each serializes as `\u0001`, the worst expansion a text can have), data,
/// ten attachments, and metadata padding for the rest.
fn message_of_size(receiver: &str, total: usize) -> Value {
    let text = "\u{1}".repeat(MAX_TEXT_BYTES);
    let data = json!("d".repeat(MAX_JSON_BYTES - 2));
    let attachments: Vec<Value> = (0..10)
        .map(|i| json!({"url": format!("https://f.example/{i}/{}", "u".repeat(2000))}))
        .collect();
    let sized = json!({"text": text, "data": data, "attachments": attachments});
    // What the stored message holds besides those fields (ids, stamps, names), about.
    let fixed = 300;
    let pad = total - serde_json::to_vec(&sized).unwrap().len() - fixed;
    assert!(pad < MAX_JSON_BYTES, "the padding fits the metadata limit");
    json!({"receiver_type": "user", "receiver": receiver, "category": "custom", "type": "blob",
           "text": sized["text"], "data": sized["data"], "attachments": sized["attachments"],
           "metadata": {"p": "m".repeat(pad)}})
}

#[tokio::test]
async fn a_message_above_the_stored_size_limit_is_refused_and_never_stored() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;

    // Every field within its own limit, the whole above the stored-message limit.
    let (s, v) = post_message(
        &server,
        &alice,
        message_of_size("bob", MAX_MESSAGE_BYTES + 8 * 1024),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (413, Some("MESSAGE_TOO_LARGE")),
        "{v}"
    );
    assert!(history(&server, &bob, "alice").await.is_empty());
    let (mut b, _) = server.connect_with(&bob, "last_seq=0").await;
    assert!(b.replay().await.is_empty(), "nothing was stored for bob");

    // Just under the limit is stored and delivered live in one frame.
    let (s, v) = post_message(
        &server,
        &alice,
        message_of_size("bob", MAX_MESSAGE_BYTES - 2 * 1024),
    )
    .await;
    assert_eq!(s, 201, "{}", v["message"]);
    let size = serde_json::to_vec(&v["data"]).unwrap().len();
    assert!(
        size > MAX_MESSAGE_BYTES - 8 * 1024 && size <= MAX_MESSAGE_BYTES,
        "{size}"
    );
    let live = b.expect_event("message").await;
    assert_eq!(live["data"]["id"], v["data"]["id"]);

    // An edit cannot grow it past the limit either; the stored copy is unchanged.
    let id = v["data"]["id"].as_i64().unwrap();
    let (s, e) = exchange(
        server
            .user(&alice, Method::PATCH, &format!("/v1/messages/{id}"))
            .json(&json!({"metadata": {"p": "m".repeat(MAX_JSON_BYTES - 20)}})),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (413, Some("MESSAGE_TOO_LARGE")),
        "{e}"
    );
    let stored = history(&server, &bob, "alice").await;
    assert_eq!(stored.len(), 1);
    assert!(stored[0]["edited_at"].is_null());
}

#[tokio::test]
async fn json_nested_beyond_the_depth_limit_is_refused_and_at_the_limit_is_replayed() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let custom = |data: Value| json!({"receiver_type": "user", "receiver": "bob", "category": "custom", "type": "deep", "data": data});
    // The probe: 126 levels are still parseable, but the stored event carrying them is not.
    let (s, v) = post_message(&server, &alice, custom(nested(126))).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("INVALID_ARGUMENT")),
        "{v}"
    );
    let (s, v) = post_message(
        &server,
        &alice,
        json!({"receiver_type": "user", "receiver": "bob", "text": "hi", "metadata": {"m": nested(MAX_JSON_DEPTH)}}),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("INVALID_ARGUMENT")),
        "metadata too: {v}"
    );
    // Over a socket the answer is an error frame.
    let (mut a, _) = server.connect(&alice).await;
    a.replay().await;
    let err = a
        .request(json!({"type": "send", "message": custom(nested(MAX_JSON_DEPTH + 1))}))
        .await;
    assert_eq!(
        (err["type"].as_str(), err["code"].as_str()),
        (Some("error"), Some("INVALID_ARGUMENT")),
        "{err}"
    );
    assert!(history(&server, &bob, "alice").await.is_empty());

    let (s, v) = post_message(&server, &alice, custom(nested(MAX_JSON_DEPTH))).await;
    assert_eq!(s, 201, "{v}");
    let (mut b, _) = server.connect_with(&bob, "last_seq=0").await;
    let replayed = b.replay().await;
    assert_eq!(
        replayed.len(),
        1,
        "the stored event is readable and replayed"
    );
    assert_eq!(replayed[0]["data"]["data"], nested(MAX_JSON_DEPTH));
}

#[tokio::test]
async fn profile_and_group_fields_are_bounded() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let big = "x".repeat(1_900_000);
    for (what, body) in [
        (
            "avatar",
            json!({"avatar": format!("https://a.example/{big}")}),
        ),
        ("metadata", json!({"metadata": {"bio": "b".repeat(9000)}})),
        ("name", json!({"name": "n".repeat(201)})),
    ] {
        let (s, v) = exchange(
            server
                .user(&alice, Method::PATCH, "/v1/users/alice")
                .json(&body),
        )
        .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (400, Some("INVALID_ARGUMENT")),
            "{what}: {v}"
        );
    }
    let (s, v) = exchange(
        server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({"guid": "g1", "name": "G", "description": big})),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("INVALID_ARGUMENT")),
        "{v}"
    );
    let (s, v) = exchange(
        server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({"guid": "g1", "name": "G", "description": "d".repeat(4096)})),
    )
    .await;
    assert_eq!(s, 201, "a description at the limit is fine: {v}");
}

#[tokio::test]
async fn display_names_and_ids_follow_the_unicode_and_grammar_rules() {
    let server = TestServer::start().await;
    let create = |uid: &str, name: &str| {
        server
            .admin(Method::POST, "/v1/users")
            .json(&json!({"uid": uid, "name": name}))
    };
    for name in [
        "nul\0byte",
        "invoice\u{202E}fdp.exe",
        "a\u{2066}b",
        "\u{200B}\u{200C}\u{200D}",
        "\u{FEFF}",
        " \u{2060} ",
    ] {
        let (s, v) = exchange(create("ok1", name)).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (400, Some("INVALID_ARGUMENT")),
            "{name:?}: {v}"
        );
    }
    for uid in [".", "..", "_", "-", ".alice", "_x"] {
        let (s, v) = exchange(create(uid, "Name")).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (400, Some("INVALID_ARGUMENT")),
            "{uid:?}: {v}"
        );
    }
    let (s, _) = exchange(create("alice", "Zoë \u{1F680} שלום")).await;
    assert_eq!(s, 201);
    // Ids are unique regardless of case.
    let (s, v) = exchange(create("ALICE", "Impostor")).await;
    assert_eq!((s, v["code"].as_str()), (409, Some("USER_EXISTS")), "{v}");
    let token = server.login("alice").await;
    server.group(&token, "Team", &[]).await;
    let (s, v) = exchange(
        server
            .user(&token, Method::POST, "/v1/groups")
            .json(&json!({"guid": "team", "name": "Other"})),
    )
    .await;
    assert_eq!((s, v["code"].as_str()), (409, Some("GROUP_EXISTS")), "{v}");
}

async fn create_users(server: &TestServer, prefix: &str, n: usize) -> Vec<String> {
    let uids: Vec<String> = (0..n).map(|i| format!("{prefix}{i:04}")).collect();
    for chunk in uids.chunks(50) {
        let creates = chunk.iter().map(|u| {
            server
                .admin(Method::POST, "/v1/users")
                .json(&json!({"uid": u, "name": u}))
                .send()
        });
        for r in futures_util::future::join_all(creates).await {
            assert_eq!(r.expect("create sent").status(), 201);
        }
    }
    uids
}

fn event_rows(db: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open the server's database");
    conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .expect("count events")
}

fn members_body(uids: &[String]) -> Value {
    json!({"members": uids.iter().map(|u| json!({"uid": u})).collect::<Vec<_>>()})
}

#[tokio::test]
async fn adding_many_members_is_linear_and_lets_other_requests_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.sqlite3");
    let mut cfg = config();
    cfg.db = chinwag_server::DbLocation::File(db.clone());
    cfg.durability = chinwag_server::Durability::Process;
    let server = TestServer::with(cfg).await;
    let owner = server.user_token("owner").await;
    let watcher = server.user_token("watcher").await;
    let bob = server.user_token("bob").await;
    server.group(&owner, "big", &["watcher"]).await;
    let uids = create_users(&server, "m", 700).await;

    // 300 members in one request: one announcement per member per chunk of 100, not one per
    // added member per member (the probe saw 501,500 rows for 1,000).
    let before = event_rows(&db);
    let (s, v) = exchange(
        server
            .user(&owner, Method::POST, "/v1/groups/big/members")
            .json(&members_body(&uids[..300])),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["members"].as_array().map(Vec::len), Some(302));
    let written = event_rows(&db) - before;
    assert!(
        written <= 2 * 302 + 10,
        "{written} event rows for adding 300 members"
    );

    // The watcher hears each added member, batched per chunk.
    let (mut w, _) = server.connect_with(&watcher, "last_seq=0").await;
    let replay = w.replay().await;
    let added: usize = replay
        .iter()
        .filter(|f| f["event"] == "group_member" && f["data"]["action"] == "added")
        .map(|f| f["data"]["added"].as_array().map_or(1, Vec::len))
        .sum();
    assert_eq!(added, 1 + 300, "watcher itself, then the 300");

    // The rest in one request, while bob writes: bob's message reaches the watcher between the
    // chunks' announcements, not after all of them.
    let (mut b, _) = server.connect(&bob).await;
    b.replay().await;
    let rest = members_body(&uids[300..]);
    let add = server
        .user(&owner, Method::POST, "/v1/groups/big/members")
        .json(&rest)
        .send();
    let add = tokio::spawn(add);
    let first = w.expect_event("group_member").await;
    let req = b.req();
    b.send(json!({"type": "send", "req": req, "message": {
        "receiver_type": "user", "receiver": "watcher", "text": "still here"}}))
        .await;
    let mut announcements_after_bob = 0;
    let mut saw_bob = false;
    let mut announced = first["data"]["added"].as_array().map_or(1, Vec::len);
    while announced < uids.len() - 300 {
        let f = w.next_frame().await;
        if f["type"] != "event" {
            continue;
        }
        if f["event"] == "message" && f["data"]["sender"] == "bob" {
            saw_bob = true;
        } else if f["event"] == "group_member" {
            announced += f["data"]["added"].as_array().map_or(1, Vec::len);
            if saw_bob {
                announcements_after_bob += 1;
            }
        }
    }
    let r = add.await.unwrap().expect("add answered");
    assert_eq!(r.status(), 200);
    assert!(
        saw_bob && announcements_after_bob > 0,
        "bob's message waited for the whole add (seen: {saw_bob})"
    );
}

#[tokio::test]
async fn group_and_membership_quotas_hold() {
    let mut cfg = config();
    cfg.max_groups_owned = 3;
    cfg.max_group_members = 4;
    cfg.max_groups_joined = 5;
    let server = TestServer::with(cfg).await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let uids = create_users(&server, "u", 6).await;
    for g in ["g1", "g2", "g3"] {
        server.group(&alice, g, &[]).await;
    }
    let create = |guid: &str| {
        server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({"guid": guid, "name": "G", "type": "public"}))
    };
    let (s, v) = exchange(create("g4")).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("QUOTA_EXCEEDED")),
        "owned: {v}"
    );

    // Members per group: the owner and three more; a fourth is refused whole, by add or join.
    let (s, v) = exchange(
        server
            .user(&alice, Method::POST, "/v1/groups/g1/members")
            .json(&members_body(&uids[..4])),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("QUOTA_EXCEEDED")),
        "members: {v}"
    );
    let (s, v) = exchange(
        server
            .user(&alice, Method::POST, "/v1/groups/g1/members")
            .json(&members_body(&uids[..3])),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = exchange(server.user(&bob, Method::POST, "/v1/groups/g1/join")).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("QUOTA_EXCEEDED")),
        "join: {v}"
    );

    // Groups joined per user: bob owns two and is added to three, then no more.
    let bob_groups = ["b1", "b2"];
    for g in bob_groups {
        server.group(&bob, g, &[]).await;
    }
    for g in ["g2", "g3"] {
        let (s, v) = exchange(
            server
                .user(&alice, Method::POST, &format!("/v1/groups/{g}/members"))
                .json(&json!({"members": [{"uid": "bob"}]})),
        )
        .await;
        assert_eq!(s, 200, "{v}");
    }
    let other = server.login(&uids[5]).await;
    server.group(&other, "x1", &["bob"]).await;
    let (s, v) = exchange(
        server
            .user(&bob, Method::POST, "/v1/groups")
            .json(&json!({"guid": "b3", "name": "B"})),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("QUOTA_EXCEEDED")),
        "joined: {v}"
    );
}

#[tokio::test]
async fn durable_sends_and_call_initiations_are_rate_limited_per_user() {
    let mut cfg = config();
    cfg.send_limit.limit = 20;
    cfg.call_limit.limit = 3;
    let server = TestServer::with(cfg).await;
    let mallory = server.user_token("mallory").await;
    let alice = server.user_token("alice").await;
    let (mut m, _) = server.connect(&mallory).await;
    m.replay().await;
    // The probe's flood, bounded: 30 messages at once; the first 20 are stored.
    let mut codes = Vec::new();
    for i in 0..30 {
        let r = m
            .request(json!({"type": "send", "message": {"receiver_type": "user", "receiver": "alice", "text": format!("spam {i}")}}))
            .await;
        codes.push(r["code"].as_str().unwrap_or("ok").to_string());
        if r["type"] == "error" {
            assert!(
                r["retry_after_ms"]
                    .as_u64()
                    .is_some_and(|ms| ms > 0 && ms <= 10_000),
                "{r}"
            );
        }
    }
    assert_eq!(codes.iter().filter(|c| *c == "ok").count(), 20, "{codes:?}");
    assert!(codes[20..].iter().all(|c| c == "RATE_LIMITED"), "{codes:?}");
    // REST shares the window; edits and deletes count too.
    let (s, v) = post_message(
        &server,
        &mallory,
        json!({"receiver_type": "user", "receiver": "alice", "text": "x"}),
    )
    .await;
    assert_eq!((s, v["code"].as_str()), (429, Some("RATE_LIMITED")), "{v}");
    let (s, _) = exchange(server.user(&mallory, Method::DELETE, "/v1/messages/1")).await;
    assert_eq!(s, 429);
    assert_eq!(history(&server, &alice, "mallory").await.len(), 20);
    // Another user is not affected.
    let (s, _) = post_message(
        &server,
        &alice,
        json!({"receiver_type": "user", "receiver": "mallory", "text": "hi"}),
    )
    .await;
    assert_eq!(s, 201);

    let mut results = Vec::new();
    for i in 0..5 {
        let r = m
            .request(json!({"type": "call_initiate", "session_id": format!("c{i}"), "call_type": "audio", "receiver_type": "user", "receiver": "alice"}))
            .await;
        results.push(r["code"].as_str().unwrap_or("ok").to_string());
    }
    assert_eq!(results, ["ok", "ok", "ok", "RATE_LIMITED", "RATE_LIMITED"]);
}

#[tokio::test]
async fn a_moderator_cannot_lift_a_ban_made_by_the_owner_or_an_admin() {
    let server = TestServer::start().await;
    let owner = server.user_token("owner").await;
    let admin = server.user_token("admin").await;
    let moder = server.user_token("moder").await;
    for u in ["t1", "t2", "t3"] {
        server.create_user(u).await;
    }
    server
        .group(&owner, "g", &["admin", "moder", "t1", "t2", "t3"])
        .await;
    for (who, scope) in [("admin", "admin"), ("moder", "moderator")] {
        let (s, v) = exchange(
            server
                .user(
                    &owner,
                    Method::PUT,
                    &format!("/v1/groups/g/members/{who}/scope"),
                )
                .json(&json!({"scope": scope})),
        )
        .await;
        assert_eq!(s, 200, "{v}");
    }
    let act = |token: &str, action: &str, uid: &str| {
        server
            .user(token, Method::POST, &format!("/v1/groups/g/{action}"))
            .json(&json!({"uid": uid}))
    };
    assert_eq!(exchange(act(&owner, "ban", "t1")).await.0, 204);
    assert_eq!(exchange(act(&admin, "ban", "t2")).await.0, 204);
    assert_eq!(exchange(act(&moder, "ban", "t3")).await.0, 204);

    let (s, v) = exchange(act(&moder, "unban", "t1")).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("FORBIDDEN")),
        "owner's ban: {v}"
    );
    let (s, v) = exchange(act(&moder, "unban", "t2")).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("FORBIDDEN")),
        "admin's ban: {v}"
    );
    let (s, v) = exchange(act(&admin, "unban", "t1")).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("FORBIDDEN")),
        "admin vs owner's ban: {v}"
    );
    // Equal or higher rank lifts it.
    assert_eq!(exchange(act(&moder, "unban", "t3")).await.0, 204);
    assert_eq!(exchange(act(&admin, "unban", "t2")).await.0, 204);
    assert_eq!(exchange(act(&owner, "unban", "t1")).await.0, 204);
}

#[tokio::test]
async fn a_database_holding_ids_that_differ_only_in_case_still_migrates() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.sqlite3");
    {
        // A database written before migration 003, with the duplicates it now refuses.
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(include_str!("../src/store/migrations/001_initial.sql"))
            .unwrap();
        conn.execute_batch(
            "PRAGMA user_version = 1;
             INSERT INTO users (uid, name, created_at) VALUES ('alice', 'Lower', 0), ('ALICE', 'Upper', 0);",
        )
        .unwrap();
    }
    let mut cfg = config();
    cfg.db = chinwag_server::DbLocation::File(db);
    let server = TestServer::with(cfg).await;
    // Both old rows stay and keep working; only new ids are checked.
    for (uid, name) in [("alice", "Lower"), ("ALICE", "Upper")] {
        let (s, v) = exchange(server.admin(Method::GET, &format!("/v1/users/{uid}"))).await;
        assert_eq!((s, v["name"].as_str()), (200, Some(name)), "{v}");
    }
    let (s, v) = exchange(
        server
            .admin(Method::POST, "/v1/users")
            .json(&json!({"uid": "Alice", "name": "Third"})),
    )
    .await;
    assert_eq!((s, v["code"].as_str()), (409, Some("USER_EXISTS")), "{v}");
}

#[tokio::test]
async fn history_pages_are_bounded_in_bytes_and_page_through_everything() {
    use chinwag_protocol::limits::MAX_PAGE_BYTES;
    let server = TestServer::start().await;
    server.create_user("alice").await;
    server.create_user("bob").await;
    let alice = server.login("alice").await;
    // 20 messages of about 120 KiB each (text and data near their limits): 2.4 MB in all.
    let big_text = "t".repeat(MAX_TEXT_BYTES - 1024);
    let big_data = json!({"blob": "d".repeat(MAX_JSON_BYTES - 1024)});
    let mut sent = Vec::new();
    for i in 0..20 {
        let (s, v) = post_message(
            &server,
            &alice,
            json!({"receiver_type": "user", "receiver": "bob", "category": "custom",
                   "type": "blob", "text": format!("{i}{big_text}"), "data": big_data}),
        )
        .await;
        assert_eq!(s, 201, "{v}");
        sent.push(v["data"]["id"].as_i64().expect("id"));
    }
    // Page backward with limit=100: every page stops near the byte bound, never empty, and the
    // pages together hold every message exactly once, in order.
    let mut seen: Vec<i64> = Vec::new();
    let mut before: Option<i64> = None;
    let mut pages = 0;
    loop {
        let query = match before {
            Some(b) => format!("/v1/messages?receiver_type=user&receiver=bob&limit=100&before={b}"),
            None => "/v1/messages?receiver_type=user&receiver=bob&limit=100".to_string(),
        };
        let r = server
            .user(&alice, Method::GET, &query)
            .send()
            .await
            .expect("history");
        assert_eq!(r.status().as_u16(), 200);
        let body = r.bytes().await.expect("body");
        let v: Value = serde_json::from_slice(&body).expect("json");
        let page: Vec<i64> = v["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["id"].as_i64().expect("id"))
            .collect();
        assert!(
            !page.is_empty(),
            "a page is never empty while messages remain"
        );
        assert!(
            page.len() < 20 && body.len() < MAX_PAGE_BYTES + 200 * 1024,
            "a page of {} messages, {} bytes, ignores the byte bound",
            page.len(),
            body.len()
        );
        pages += 1;
        before = page.first().copied();
        let mut all = page.clone();
        all.extend(seen);
        seen = all;
        if !v["has_more"].as_bool().expect("has_more") {
            break;
        }
        assert!(pages < 20, "paging does not end");
    }
    assert!(pages >= 3, "2.4 MB took only {pages} pages");
    assert_eq!(seen, sent, "every message once, oldest first");
}
