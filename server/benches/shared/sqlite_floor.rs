//! SQLite's own floor for the writer's work, measured in the same run as the server: a bare
//! rusqlite loop that writes the rows the writer writes for a message (the `messages` row with
//! its two indexes, one `event_bodies` row, one `events` row per recipient, each recipient's
//! `conversations` row when `conversations`, each recipient's `last_seq` once per batch), in
//! transactions of `batch` messages, with nothing else around it (no sockets, no JSON, no hub).
//! What a message costs the writer beyond this is the server's.

use std::path::Path;
use std::time::Instant;

use rusqlite::{params, Connection};

/// The tables the writer touches for a message, as the server's migrations create them.
const SCHEMA: &str = "
CREATE TABLE users (uid TEXT PRIMARY KEY, name TEXT NOT NULL, last_seq INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL);
CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, muid TEXT NOT NULL,
    sender TEXT NOT NULL REFERENCES users(uid), receiver_type TEXT NOT NULL,
    receiver TEXT NOT NULL, conversation_id TEXT NOT NULL, category TEXT NOT NULL,
    type TEXT NOT NULL, text TEXT, data TEXT, attachments TEXT,
    metadata TEXT NOT NULL DEFAULT '{}', parent_id INTEGER, quoted_id INTEGER,
    sent_at INTEGER NOT NULL, edited_at INTEGER, deleted_at INTEGER, deleted_by TEXT,
    sender_seq INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX messages_by_muid ON messages(sender, muid);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
CREATE TABLE event_bodies (id INTEGER PRIMARY KEY, payload TEXT NOT NULL, refs INTEGER NOT NULL);
CREATE TABLE events (uid TEXT NOT NULL, seq INTEGER NOT NULL, body_id INTEGER, payload TEXT,
    created_at INTEGER NOT NULL, PRIMARY KEY (uid, seq)) WITHOUT ROWID;
CREATE TABLE conversations (uid TEXT NOT NULL, conversation_id TEXT NOT NULL,
    conversation_type TEXT NOT NULL, with_id TEXT NOT NULL, last_message_id INTEGER NOT NULL,
    unread_count INTEGER NOT NULL DEFAULT 0, last_read_id INTEGER NOT NULL DEFAULT 0,
    last_delivered_id INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL,
    hidden INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (uid, conversation_id)) WITHOUT ROWID;
CREATE TABLE conversation_heads (conversation_id TEXT PRIMARY KEY,
    last_message_id INTEGER NOT NULL, message_count INTEGER NOT NULL,
    updated_at INTEGER NOT NULL) WITHOUT ROWID;
";

/// What one floor run writes per message, beyond the message, its body and its log rows.
#[derive(Clone, Copy)]
pub struct Shape {
    /// A savepoint around each message (as the writer runs each job).
    pub savepoints: bool,
    /// Random muids (as older SDKs sent) instead of growing ones.
    pub random_muids: bool,
    /// Conversation rows as the server keeps them (issue 20): each participant's row of a direct
    /// conversation upserted; for more than two recipients (a group), the group's head row and
    /// the sender's row.
    pub conversations: bool,
}

/// One floor run.
pub struct Floor {
    pub msgs_per_s: f64,
    /// CPU time of the loop's thread per message (from its schedstat), microseconds.
    pub cpu_us_per_msg: f64,
}

/// Nanoseconds the calling thread has spent on a CPU (Linux schedstat), if readable.
pub fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Writes `n` messages of ~60 bytes from one sender to `recipients` users (the sender among
/// them), `batch` per transaction, under `synchronous` (FULL or NORMAL), shaped by `shape`.
pub fn run(
    dir: &Path,
    synchronous: &str,
    n: usize,
    batch: usize,
    recipients: usize,
    shape: Shape,
) -> Floor {
    let Shape {
        savepoints,
        random_muids,
        conversations,
    } = shape;
    let path = dir.join(format!(
        "floor-{synchronous}-{recipients}-{batch}-{savepoints}-{random_muids}-{conversations}.sqlite3"
    ));
    let conn = Connection::open(&path).expect("floor db");
    conn.execute_batch(&format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous}; {SCHEMA}"
    ))
    .expect("floor schema");
    conn.set_prepared_statement_cache_capacity(32);
    let uids: Vec<String> = (0..recipients).map(|i| format!("user-{i}")).collect();
    for uid in &uids {
        conn.execute(
            "INSERT INTO users (uid, name, created_at) VALUES (?1, ?1, 0)",
            [uid],
        )
        .expect("floor user");
    }
    let (sender, receiver) = (&uids[0], uids.get(1).unwrap_or(&uids[0]));
    let body = format!(
        r#"{{"event":"message","data":{{"id":0,"sender":"{sender}","text":"{}"}}}}"#,
        "x".repeat(60)
    );
    let mut seqs = vec![0u64; recipients];
    let cpu_start = thread_cpu_ns();
    let start = Instant::now();
    let mut i = 0;
    while i < n {
        conn.prepare_cached("BEGIN IMMEDIATE")
            .and_then(|mut s| s.execute([]))
            .expect("begin");
        let end = (i + batch).min(n);
        for k in i..end {
            if savepoints {
                conn.prepare_cached("SAVEPOINT job")
                    .and_then(|mut s| s.execute([]))
                    .expect("savepoint");
            }
            let exists: i64 = conn
                .prepare_cached("SELECT 1 FROM users WHERE uid = ?1")
                .and_then(|mut s| s.query_row([receiver], |r| r.get(0)))
                .expect("receiver exists");
            assert_eq!(exists, 1);
            seqs[0] += 1;
            conn.prepare_cached(
                "INSERT INTO messages (muid, sender, receiver_type, receiver, conversation_id,
                     category, type, text, data, attachments, metadata, parent_id, quoted_id,
                     sent_at, sender_seq)
                 VALUES (?1, ?2, 'user', ?3, ?4, 'message', 'text', ?5, NULL, NULL, '{}', NULL,
                     NULL, ?6, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    if random_muids {
                        format!("{:016x}{:016x}", mix(k as u64), mix(!(k as u64)))
                    } else {
                        format!("{k:032x}")
                    },
                    sender,
                    receiver,
                    format!("{sender}_user_{receiver}"),
                    format!("message {k} {}", "x".repeat(48)),
                    k as i64,
                    seqs[0]
                ])
            })
            .expect("floor message");
            let message_id = conn.last_insert_rowid();
            conn.prepare_cached("INSERT INTO event_bodies (payload, refs) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![body, recipients as i64]))
                .expect("floor body");
            let body_id = conn.last_insert_rowid();
            let mut append = conn
                .prepare_cached(
                    "INSERT INTO events (uid, seq, body_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                )
                .expect("floor append");
            for (r, uid) in uids.iter().enumerate() {
                if r > 0 {
                    seqs[r] += 1;
                }
                append
                    .execute(params![uid, seqs[r], body_id, k as i64])
                    .expect("floor event");
            }
            if conversations && recipients > 2 {
                conn.prepare_cached(
                    "INSERT INTO conversation_heads (conversation_id, last_message_id,
                         message_count, updated_at) VALUES ('group:g', ?1, 1, ?2)
                     ON CONFLICT (conversation_id) DO UPDATE SET
                         last_message_id = excluded.last_message_id,
                         message_count = conversation_heads.message_count + 1,
                         updated_at = excluded.updated_at",
                )
                .and_then(|mut s| s.execute(params![message_id, k as i64]))
                .expect("floor head");
                conn.prepare_cached(
                    "INSERT INTO conversations (uid, conversation_id, conversation_type, with_id,
                         last_message_id, updated_at) VALUES (?1, 'group:g', 'group', 'g', 0, 0)
                     ON CONFLICT (uid, conversation_id) DO UPDATE SET
                         last_message_id = conversations.last_message_id + 1",
                )
                .and_then(|mut s| s.execute(params![sender]))
                .expect("floor sender's row");
            } else if conversations {
                let mut upsert = conn
                    .prepare_cached(
                        "INSERT INTO conversations (uid, conversation_id, conversation_type,
                             with_id, last_message_id, unread_count, updated_at)
                         VALUES (?1, ?2, 'user', ?3, ?4, ?5, ?6)
                         ON CONFLICT (uid, conversation_id) DO UPDATE SET
                             last_message_id = excluded.last_message_id,
                             unread_count = conversations.unread_count + excluded.unread_count,
                             updated_at = excluded.updated_at, hidden = 0",
                    )
                    .expect("floor conversation");
                let conversation = format!("{sender}_user_{receiver}");
                for (r, uid) in uids.iter().enumerate() {
                    upsert
                        .execute(params![
                            uid,
                            conversation,
                            sender,
                            message_id,
                            r > 0,
                            k as i64
                        ])
                        .expect("floor conversation row");
                }
            }
            if savepoints {
                conn.prepare_cached("RELEASE job")
                    .and_then(|mut s| s.execute([]))
                    .expect("release");
            }
        }
        let mut flush = conn
            .prepare_cached("UPDATE users SET last_seq = ?2 WHERE uid = ?1")
            .expect("floor flush");
        for (uid, seq) in uids.iter().zip(&seqs) {
            flush.execute(params![uid, seq]).expect("floor last_seq");
        }
        conn.prepare_cached("COMMIT")
            .and_then(|mut s| s.execute([]))
            .expect("commit");
        i = end;
    }
    let elapsed = start.elapsed();
    let cpu = match (cpu_start, thread_cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64 / 1000.0 / n as f64,
        _ => f64::NAN,
    };
    drop(conn);
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    Floor {
        msgs_per_s: n as f64 / elapsed.as_secs_f64(),
        cpu_us_per_msg: cpu,
    }
}

/// A well-spread 64-bit value for `x` (splitmix64), for random-looking muids.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
