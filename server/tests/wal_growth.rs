//! The WAL stays bounded under steady writes and reads (`Durability::Process`, background
//! checkpoints). The background checkpoints are PASSIVE: under steady writes one rarely copies
//! the whole WAL before the next commit appends, and SQLite starts the WAL over only after one
//! that did, so the WAL (and its index, mapped into the server's memory) grew for as long as
//! writes came: 2.5 GB in four minutes of `make soak`, its index the soak's "RSS growth". The
//! writer now restarts it (the next commits write from its start) between batches once a
//! checkpoint finds it longer than a limit.

mod common;

use std::time::{Duration, Instant};

use chinwag_server::{DbLocation, Durability, FeatureLimit};
use common::{config, TestServer, WAIT};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// The test's WAL limit, in frames (4 KiB pages): 2 MiB.
const LIMIT_FRAMES: u32 = 512;
/// One message per commit writes about 12 pages: unbounded, the WAL would reach ~140 MiB.
const MESSAGES: u32 = 3_000;

fn wal_bytes(db: &std::path::Path) -> u64 {
    let wal = db.with_extension("sqlite3-wal");
    std::fs::metadata(wal).map_or(0, |m| m.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_is_restarted_under_steady_writes_and_reads() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("chat.sqlite3");
    let mut cfg = config();
    cfg.db = DbLocation::File(db.clone());
    cfg.durability = Durability::Process;
    cfg.test_wal_restart_frames = LIMIT_FRAMES;
    cfg.send_limit = FeatureLimit {
        limit: 1_000_000,
        window: Duration::from_secs(10),
    };
    let server = TestServer::with(cfg).await;
    let sender = server.user_token("s").await;
    let reader = server.user_token("r").await;

    // Readers on the WAL all along: history pages of the conversation, back to back.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..2 {
        let (http, url, token, stop) = (
            server.http.clone(),
            server.url.clone(),
            reader.clone(),
            stop.clone(),
        );
        readers.push(tokio::spawn(async move {
            let mut reads = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = http
                    .get(format!(
                        "{url}/v1/messages?receiver_type=user&receiver=s&limit=50"
                    ))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("a history read");
                assert_eq!(r.status(), 200);
                reads += 1;
            }
            reads
        }));
    }

    // Messages one at a time over a socket (many small commits, as chat traffic is), until the
    // WAL would have passed its limit many times over.
    let (mut ws, _) = server.connect(&sender).await;
    let mut largest = 0u64;
    let mut acked = 0u32;
    let started = Instant::now();
    for i in 0..MESSAGES {
        ws.inner
            .send(Message::Text(
                json!({"type": "send", "req": format!("q{i}"), "message": {
                    "receiver_type": "user", "receiver": "r", "text": format!("m{i} {}", "x".repeat(200))
                }})
                .to_string()
                .into(),
            ))
            .await
            .expect("a send");
        loop {
            let frame = tokio::time::timeout(WAIT, ws.inner.next())
                .await
                .expect("an answer in time")
                .expect("the socket stays open")
                .expect("a frame");
            if let Message::Text(t) = frame {
                let v: Value = serde_json::from_str(&t).expect("JSON");
                if v["type"] == "ack" {
                    acked += 1;
                    break;
                }
                assert_ne!(v["type"], "error", "{v}");
            }
        }
        largest = largest.max(wal_bytes(&db));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut reads = 0;
    for r in readers {
        reads += r.await.expect("a reader");
    }
    assert_eq!(acked, MESSAGES);
    assert!(reads > 0);
    // A checkpoint runs every 256 commits, and the restart after the first that finds the
    // WAL over the limit: the WAL reaches the limit plus up to two such stretches (measured:
    // 15 MB), far below the unbounded growth (about 140 MiB here).
    let bound = 48 << 20;
    println!(
        "{MESSAGES} messages in {:?}, {reads} history reads: largest WAL {largest} bytes (bound {bound})",
        started.elapsed()
    );
    assert!(
        largest <= bound,
        "the WAL reached {largest} bytes: it is not restarted (bound {bound})"
    );
}
