//! `chinwag-server backup DEST` while clients keep sending, a server started on the copy, and
//! databases this binary must refuse.
mod common;

use std::collections::HashSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chinwag_server::DbLocation;
use common::*;
use serde_json::Value;
use tokio::sync::watch;

const BIN: &str = env!("CARGO_BIN_EXE_chinwag-server");

/// Runs `chinwag-server backup --db DB DEST` and returns (success, stdout, stderr).
fn run_backup(db: &std::path::Path, dest: &std::path::Path) -> (bool, String, String) {
    let out = Command::new(BIN)
        .arg("backup")
        .arg("--db")
        .arg(db)
        .arg(dest)
        .env_remove("CHINWAG_DB")
        .output()
        .expect("chinwag-server runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Waits until the shared ack count reaches `n`.
async fn acked_at_least(counts: &mut watch::Receiver<usize>, n: usize) {
    tokio::time::timeout(WAIT * 3, counts.wait_for(|c| *c >= n))
        .await
        .expect("senders keep getting acks")
        .expect("senders alive");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backup_under_load_restores_everything_acknowledged_before_it_began() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.sqlite3");
    let copy = dir.path().join("copy.sqlite3");
    let mut cfg = config();
    cfg.db = DbLocation::File(db.clone());
    cfg.send_limit.limit = 1_000_000;
    // Bob's replay on the copy must cover everything in it.
    cfg.replay_limit = 1_000_000;
    let mut server = TestServer::with(cfg.clone()).await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    server.group(&alice, "g", &["bob"]).await;

    // Two of alice's sockets send without pause, one to bob, one to the group; every
    // acknowledged id is recorded.
    let acked: Arc<Mutex<Vec<Value>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let (count_tx, mut counts) = watch::channel(0usize);
    let count_tx = Arc::new(count_tx);
    let mut senders = Vec::new();
    for (receiver_type, receiver) in [("user", "bob"), ("group", "g")] {
        let (mut ws, _) = server.connect(&alice).await;
        let (acked, stop, count_tx) = (acked.clone(), stop.clone(), count_tx.clone());
        senders.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let result = ws
                    .send_text(receiver_type, receiver, &format!("{receiver} {i}"))
                    .await;
                i += 1;
                let mut list = acked.lock().unwrap();
                list.push(result["data"]["id"].clone());
                count_tx.send_replace(list.len());
            }
            ws.close().await;
        }));
    }

    acked_at_least(&mut counts, 40).await;
    let before: Vec<Value> = acked.lock().unwrap().clone();
    let (db2, copy2) = (db.clone(), copy.clone());
    let (ok, stdout, stderr) = tokio::task::spawn_blocking(move || run_backup(&db2, &copy2))
        .await
        .unwrap();
    assert!(ok, "backup failed: {stderr}");
    assert!(stdout.starts_with("backup: "), "{stdout}");
    assert!(stdout.contains("schema version"), "{stdout}");
    // The server kept answering while (and after) the copy was taken.
    let at_end = acked.lock().unwrap().len();
    acked_at_least(&mut counts, at_end + 20).await;
    stop.store(true, Ordering::SeqCst);
    for s in senders {
        s.await.unwrap();
    }
    let total = acked.lock().unwrap().len();
    // What alice's app knows: the last seq of her log on the original server.
    let (a, accept) = server.connect_with(&alice, "last_seq=0").await;
    let alice_last_seq = accept["resume"]["last_seq"].as_u64().unwrap();
    a.close().await;
    server.stop().await;

    // A server on the copy has every message acknowledged before the backup began.
    let mut restored_cfg = cfg.clone();
    restored_cfg.db = DbLocation::File(copy.clone());
    let restored = TestServer::with(restored_cfg).await;
    let (mut b, accept) = restored.connect_with(&bob, "last_seq=0").await;
    assert_eq!(accept["resume"]["status"], "complete", "{accept}");
    let replayed: HashSet<String> = b
        .replay()
        .await
        .iter()
        .filter(|f| f["event"] == "message")
        .map(|f| f["data"]["id"].to_string())
        .collect();
    let missing: Vec<&Value> = before
        .iter()
        .filter(|id| !replayed.contains(&id.to_string()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged messages missing from the copy: {missing:?}",
        missing.len(),
        before.len()
    );
    assert!(
        replayed.len() < total,
        "messages acknowledged after the backup ended cannot be in it"
    );

    // Alice's app resumes with the seq it had from the original server: the copy's log is
    // behind it, so the server says `fresh` and live events go on from its own last seq.
    let (mut a, accept) = restored
        .connect_with(&alice, &format!("last_seq={alice_last_seq}"))
        .await;
    assert_eq!(accept["resume"]["status"], "fresh", "{accept}");
    assert!(accept["resume"]["last_seq"].as_u64().unwrap() < alice_last_seq);
    let sent = a.send_text("user", "bob", "after the restore").await;
    let live = b.expect_event("message").await;
    assert_eq!(live["data"]["id"], sent["data"]["id"]);
    assert_eq!(live["data"]["text"], "after the restore");
}

#[tokio::test]
async fn backup_refuses_to_overwrite_and_names_a_missing_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.sqlite3");
    let mut cfg = config();
    cfg.db = DbLocation::File(db.clone());
    let mut server = TestServer::with(cfg).await;
    server.create_user("alice").await;
    server.stop().await;

    // A stopped server's database is copied too.
    let dest = dir.path().join("copy.sqlite3");
    let (ok, _, stderr) = run_backup(&db, &dest);
    assert!(ok, "{stderr}");
    let before = std::fs::read(&dest).unwrap();
    let (ok, _, stderr) = run_backup(&db, &dest);
    assert!(!ok);
    assert!(stderr.contains("exists already"), "{stderr}");
    assert_eq!(std::fs::read(&dest).unwrap(), before, "left untouched");

    let nowhere = dir.path().join("nope.sqlite3");
    let (ok, _, stderr) = run_backup(&nowhere, &dir.path().join("x.sqlite3"));
    assert!(!ok);
    assert!(stderr.contains("no database at"), "{stderr}");
    assert!(!dir.path().join("x.sqlite3").exists());
    assert!(!dir.path().join("x.sqlite3.partial").exists());
}

#[tokio::test]
async fn a_database_newer_than_the_binary_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.sqlite3");
    let mut cfg = config();
    cfg.db = DbLocation::File(db.clone());
    let mut server = TestServer::with(cfg.clone()).await;
    server.stop().await;
    let newer = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        conn.execute_batch(&format!("PRAGMA user_version = {};", version + 1))
            .unwrap();
        version + 1
    };
    let err = match chinwag_server::start(cfg).await {
        Ok(_) => panic!("a newer schema must be refused"),
        Err(e) => e,
    };
    assert!(err.contains("newer than this chinwag-server"), "{err}");
    assert!(err.contains("newer release"), "{err}");
    // The file was not touched: the version is still the newer one.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let after: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(after, newer);

    let (ok, _, stderr) = run_backup(&db, &dir.path().join("copy.sqlite3"));
    assert!(!ok);
    assert!(
        stderr.contains("newer than this chinwag-server"),
        "{stderr}"
    );
}
