//! Upgrading a database written before issue 20 (SQLite's migrations 004/005, PostgreSQL's
//! 002/003), on whichever store the suite runs on: every conversation with history is listed,
//! with its last message and nothing unread, and blocking works on the upgraded schema. And one
//! written before group conversations kept one head row per group (SQLite 006, PostgreSQL 004):
//! each member's unread count and deleted state carry over.
mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

/// History written by a server of the schema before conversations: alice and bob wrote to each
/// other, alice to herself, bob to the group g1 (alice and bob are its members); carol wrote to
/// a uid that has no user row.
const OLD_HISTORY: &str = "
    INSERT INTO users (uid, name, created_at) VALUES ('alice', 'A', 1), ('bob', 'B', 1),
        ('carol', 'C', 1);
    INSERT INTO groups (guid, name, type, owner, created_at) VALUES ('g1', 'G', 'public', 'alice', 1);
    INSERT INTO group_members (guid, uid, scope, joined_at) VALUES ('g1', 'alice', 'admin', 1),
        ('g1', 'bob', 'participant', 1);
    INSERT INTO messages (muid, sender, receiver_type, receiver, conversation_id, category, type,
        text, sent_at) VALUES
        ('m1', 'alice', 'user', 'bob', 'user:alice:bob', 'message', 'text', 'one', 10),
        ('m2', 'bob', 'user', 'alice', 'user:alice:bob', 'message', 'text', 'two', 20),
        ('m3', 'alice', 'user', 'alice', 'user:alice:alice', 'message', 'text', 'three', 30),
        ('m4', 'bob', 'group', 'g1', 'group:g1', 'message', 'text', 'four', 40),
        ('m5', 'carol', 'user', 'ghost', 'user:carol:ghost', 'message', 'text', 'five', 50);";

/// A database at the schema before issue 20, holding [`OLD_HISTORY`]; the guard keeps a
/// SQLite file's directory alive.
fn old_database() -> (chinwag_server::DbLocation, Option<tempfile::TempDir>) {
    database_at(
        &[
            include_str!("../src/store/migrations/001_initial.sql"),
            include_str!("../src/store/migrations/002_event_bodies.sql"),
            include_str!("../src/store/migrations/003_ids_quotas_friend_requests.sql"),
        ],
        &[include_str!(
            "../src/store/migrations/postgres/001_initial.sql"
        )],
        OLD_HISTORY,
    )
}

/// A database with the first `sqlite` (or, on PostgreSQL, `postgres`) migrations applied, then
/// `history`.
fn database_at(
    sqlite: &[&str],
    postgres: &[&'static str],
    history: &'static str,
) -> (chinwag_server::DbLocation, Option<tempfile::TempDir>) {
    if let Some(url) = test_postgres_database() {
        // The blocking client must not run on the test's async thread.
        let u = url.clone();
        let migrations = postgres.to_vec();
        std::thread::spawn(move || {
            let mut client = postgres::Client::connect(&u, postgres::NoTls).expect("connect");
            for sql in &migrations {
                client.batch_execute(sql).expect("old schema");
            }
            client
                .batch_execute(&format!(
                    "CREATE TABLE schema_version (version BIGINT NOT NULL);
                     INSERT INTO schema_version (version) VALUES ({});",
                    migrations.len()
                ))
                .expect("schema version");
            client.batch_execute(history).expect("old history");
        })
        .join()
        .expect("PostgreSQL set-up");
        return (chinwag_server::DbLocation::Postgres(url), None);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("old.sqlite3");
    let conn = rusqlite::Connection::open(&path).expect("open");
    for sql in sqlite {
        conn.execute_batch(sql).expect("old schema");
    }
    conn.execute_batch(&format!("PRAGMA user_version = {};", sqlite.len()))
        .expect("old version");
    conn.execute_batch(history).expect("old history");
    (chinwag_server::DbLocation::File(path), Some(dir))
}

async fn get(server: &TestServer, token: &str, path: &str) -> Value {
    let r = server.user(token, Method::GET, path).send().await.unwrap();
    let status = r.status().as_u16();
    let body = r.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// (with, last message text, unread, last read id == last message id) of each listed
/// conversation, newest first.
fn summary(list: &Value) -> Vec<(String, String, u64, bool)> {
    list["conversations"]
        .as_array()
        .expect("conversations")
        .iter()
        .map(|c| {
            let last = c["last_message"]["id"].as_i64().expect("last message id");
            (
                c["with"].as_str().expect("with").to_string(),
                c["last_message"]["text"].as_str().unwrap_or("").to_string(),
                c["unread_count"].as_u64().expect("unread"),
                c["last_read_message_id"].as_i64() == Some(last),
            )
        })
        .collect()
}

#[tokio::test]
async fn history_from_before_conversations_is_listed_read_after_the_upgrade() {
    let (location, _dir) = old_database();
    let mut cfg = config();
    cfg.db = location;
    let server = TestServer::with(cfg).await;
    let alice = server.login("alice").await;
    let bob = server.login("bob").await;
    let carol = server.login("carol").await;

    let row = |with: &str, text: &str| (with.to_string(), text.to_string(), 0, true);
    assert_eq!(
        summary(&get(&server, &alice, "/v1/conversations").await),
        vec![row("g1", "four"), row("alice", "three"), row("bob", "two")]
    );
    assert_eq!(
        summary(&get(&server, &bob, "/v1/conversations").await),
        vec![row("g1", "four"), row("alice", "two")]
    );
    assert_eq!(
        summary(&get(&server, &carol, "/v1/conversations").await),
        vec![row("ghost", "five")]
    );
    let unread = get(&server, &alice, "/v1/conversations/unread").await;
    assert_eq!(unread["total"], 0, "{unread}");

    // The upgraded schema keeps working: a new message counts as unread, and blocking (the
    // other table of issue 20) refuses a direct message.
    let (mut b, _) = server.connect(&bob).await;
    b.send_text("user", "alice", "after").await;
    let list = get(&server, &alice, "/v1/conversations").await;
    assert_eq!(
        summary(&list)[0],
        ("bob".to_string(), "after".to_string(), 1, false)
    );
    let r = server
        .user(&alice, Method::POST, "/v1/me/blocked")
        .json(&json!({"uids": ["bob"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let refused = b
        .request(json!({"type": "send", "message": {
            "receiver_type": "user", "receiver": "alice", "text": "blocked"}}))
        .await;
    assert_eq!(refused["code"], "BLOCKED", "{refused}");
}

/// History at the schema before conversation heads: group g1 (alice, bob, dave, erin) with
/// three messages (alice's, then two of bob's: ids 1-3 in a new database); alice has read her
/// own (2 unread), bob all of them, dave deleted the conversation for himself, erin joined after
/// them (no row yet).
const BEFORE_HEADS: &str = "
    INSERT INTO users (uid, name, created_at) VALUES ('alice', 'A', 1), ('bob', 'B', 1),
        ('dave', 'D', 1), ('erin', 'E', 1);
    INSERT INTO groups (guid, name, type, owner, created_at) VALUES ('g1', 'G', 'public', 'alice', 1);
    INSERT INTO group_members (guid, uid, scope, joined_at) VALUES ('g1', 'alice', 'admin', 1),
        ('g1', 'bob', 'participant', 1), ('g1', 'dave', 'participant', 1),
        ('g1', 'erin', 'participant', 50);
    INSERT INTO messages (muid, sender, receiver_type, receiver, conversation_id, category,
        type, text, sent_at) VALUES
        ('m1', 'alice', 'group', 'g1', 'group:g1', 'message', 'text', 'one', 10),
        ('m2', 'bob', 'group', 'g1', 'group:g1', 'message', 'text', 'two', 20),
        ('m3', 'bob', 'group', 'g1', 'group:g1', 'message', 'text', 'three', 30);
    INSERT INTO conversations (uid, conversation_id, conversation_type, with_id, last_message_id,
        unread_count, last_read_id, last_delivered_id, updated_at, hidden) VALUES
        ('alice', 'group:g1', 'group', 'g1', 3, 2, 1, 1, 30, 0),
        ('bob', 'group:g1', 'group', 'g1', 3, 0, 3, 3, 30, 0),
        ('dave', 'group:g1', 'group', 'g1', 3, 0, 3, 3, 40, 1);";

/// The unread count of g1 for `token`'s user, and whether g1 is listed.
async fn g1(server: &TestServer, token: &str) -> (u64, bool) {
    let unread = get(server, token, "/v1/conversations/unread").await;
    let listed = get(server, token, "/v1/conversations").await["conversations"]
        .as_array()
        .expect("conversations")
        .iter()
        .any(|c| c["with"] == "g1");
    (unread["groups"]["g1"].as_u64().unwrap_or(0), listed)
}

#[tokio::test]
async fn group_unread_counts_and_deletes_carry_over_to_conversation_heads() {
    let (location, _dir) = database_at(
        &[
            include_str!("../src/store/migrations/001_initial.sql"),
            include_str!("../src/store/migrations/002_event_bodies.sql"),
            include_str!("../src/store/migrations/003_ids_quotas_friend_requests.sql"),
            include_str!("../src/store/migrations/004_conversations.sql"),
            include_str!("../src/store/migrations/005_blocks.sql"),
        ],
        &[
            include_str!("../src/store/migrations/postgres/001_initial.sql"),
            include_str!("../src/store/migrations/postgres/002_conversations.sql"),
            include_str!("../src/store/migrations/postgres/003_blocks.sql"),
        ],
        BEFORE_HEADS,
    );
    let mut cfg = config();
    cfg.db = location;
    let server = TestServer::with(cfg).await;
    let [alice, bob, dave, erin] = [
        server.login("alice").await,
        server.login("bob").await,
        server.login("dave").await,
        server.login("erin").await,
    ];
    assert_eq!(g1(&server, &alice).await, (2, true));
    assert_eq!(g1(&server, &bob).await, (0, true));
    assert_eq!(g1(&server, &dave).await, (0, false), "deleted for dave");
    assert_eq!(
        g1(&server, &erin).await,
        (0, false),
        "nothing since erin joined"
    );

    // A new message from bob: unread for the others, listed again for dave and erin.
    let (mut b, _) = server.connect(&bob).await;
    let last = b.send_text("group", "g1", "four").await["data"]["id"].clone();
    assert_eq!(g1(&server, &alice).await, (3, true));
    assert_eq!(g1(&server, &bob).await, (0, true), "bob's own message");
    assert_eq!(g1(&server, &dave).await, (1, true));
    assert_eq!(g1(&server, &erin).await, (1, true));

    // Reading up to it clears alice's count; the others keep theirs.
    let (mut a, _) = server.connect(&alice).await;
    a.send(json!({"type": "receipt", "kind": "read", "message_id": last}))
        .await;
    a.expect_event("conversation_updated").await;
    assert_eq!(g1(&server, &alice).await, (0, true));
    assert_eq!(g1(&server, &dave).await, (1, true));
}
