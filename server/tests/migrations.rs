//! Upgrading a database written before issue 20 (SQLite's migrations 004/005, PostgreSQL's
//! 002/003), on whichever store the suite runs on: every conversation with history is listed,
//! with its last message and nothing unread, and blocking works on the upgraded schema.
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
    if let Some(url) = test_postgres_database() {
        // The blocking client must not run on the test's async thread.
        let u = url.clone();
        std::thread::spawn(move || {
            let mut client = postgres::Client::connect(&u, postgres::NoTls).expect("connect");
            client
                .batch_execute(include_str!(
                    "../src/store/migrations/postgres/001_initial.sql"
                ))
                .expect("schema 1");
            client
                .batch_execute(
                    "CREATE TABLE schema_version (version BIGINT NOT NULL);
                     INSERT INTO schema_version (version) VALUES (1);",
                )
                .expect("schema version");
            client.batch_execute(OLD_HISTORY).expect("old history");
        })
        .join()
        .expect("PostgreSQL set-up");
        return (chinwag_server::DbLocation::Postgres(url), None);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("old.sqlite3");
    let conn = rusqlite::Connection::open(&path).expect("open");
    for sql in [
        include_str!("../src/store/migrations/001_initial.sql"),
        include_str!("../src/store/migrations/002_event_bodies.sql"),
        include_str!("../src/store/migrations/003_ids_quotas_friend_requests.sql"),
        "PRAGMA user_version = 3;",
        OLD_HISTORY,
    ] {
        conn.execute_batch(sql).expect("old schema and history");
    }
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
