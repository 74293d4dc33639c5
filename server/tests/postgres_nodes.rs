//! Several servers on one PostgreSQL database (issue 12): the per-user sequence is taken in the
//! message's own transaction, so servers writing at once never hand out a number twice or leave
//! a hole, and a user resumes on any of them. Each test starts its own PostgreSQL
//! (common::pg). The live path between servers (NATS) is not part of these tests: recipients
//! read what they missed on (re)connect.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use chinwag_server::DbLocation;
use common::pg::TestPostgres;
use common::{TestServer, Ws};
use serde_json::{json, Value};

/// One test at a time: each runs a PostgreSQL and up to three servers, which is plenty for a
/// 2-core machine.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn start_postgres() -> TestPostgres {
    tokio::task::spawn_blocking(TestPostgres::start)
        .await
        .expect("postgres start task")
}

/// `n` servers on one fresh database, started at once (they migrate it once between them).
async fn nodes(pg: &TestPostgres, name: &str, n: usize) -> Vec<TestServer> {
    let url = pg.database(name);
    let starts = (0..n).map(|_| {
        let mut config = common::config();
        config.db = DbLocation::Postgres(url.clone());
        config.send_limit.limit = 1_000_000;
        TestServer::with(config)
    });
    futures_util::future::join_all(starts).await
}

/// Sends `n` messages to `to` as fast as the socket takes them, then waits for every ack;
/// returns the muids in send order and the acks' seqs.
async fn burst(ws: &mut Ws, prefix: String, to: &str, n: usize) -> (Vec<String>, Vec<u64>) {
    let muids: Vec<String> = (0..n).map(|i| format!("{prefix}-{i}")).collect();
    for (i, muid) in muids.iter().enumerate() {
        ws.send(json!({"type": "send", "req": format!("q{i}"), "message": {
            "muid": muid, "receiver_type": "user", "receiver": to, "text": muid}}))
            .await;
    }
    let mut seqs = vec![0; n];
    let mut left = n;
    while left > 0 {
        let f = ws.next_frame().await;
        if f["type"] == "error" {
            panic!("send refused: {f}");
        }
        if f["type"] != "ack" {
            continue;
        }
        let i: usize = f["req"].as_str().unwrap()[1..].parse().unwrap();
        seqs[i] = f["result"]["seq"].as_u64().expect("ack seq");
        left -= 1;
    }
    (muids, seqs)
}

/// Connects with `last_seq` and reads the replay: (seq, muid) of every replayed message.
async fn replay(node: &TestServer, token: &str, last_seq: u64) -> (Value, Vec<(u64, String)>) {
    let (mut ws, accept) = node
        .connect_with(token, &format!("last_seq={last_seq}"))
        .await;
    let mut got = Vec::new();
    loop {
        let f = ws.next_frame().await;
        if f["type"] == "replay_done" {
            break;
        }
        if f["type"] == "event" && f["event"] == "message" {
            got.push((
                f["seq"].as_u64().unwrap(),
                f["data"]["muid"].as_str().unwrap().to_string(),
            ));
        }
    }
    (accept, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_sending_to_one_user_at_once_give_seq_1_to_n_without_holes() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let pg = start_postgres().await;
    let nodes = nodes(&pg, "fan_in", 3).await;
    let bob = nodes[0].user_token("bob").await;
    let mut senders = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let token = node.user_token(&format!("sender{i}")).await;
        senders.push(node.connect(&token).await.0);
    }
    const N: usize = 150;
    let bursts = senders
        .iter_mut()
        .enumerate()
        .map(|(i, ws)| burst(ws, format!("s{i}"), "bob", N));
    let sent = futures_util::future::join_all(bursts).await;
    for (muids, seqs) in &sent {
        // Each sender's own copies: its log holds only these, so its acks are 1..N in order.
        assert_eq!(seqs, &(1..=N as u64).collect::<Vec<_>>(), "{}", muids[0]);
    }

    // Bob reads his log on each node: the same 3N events, seq 1..3N, each message once, and
    // every sender's messages in the order they were sent.
    for node in &nodes {
        let (accept, got) = replay(node, &bob, 0).await;
        assert_eq!(accept["resume"]["last_seq"], json!(3 * N));
        let seqs: Vec<u64> = got.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, (1..=3 * N as u64).collect::<Vec<_>>());
        let distinct: HashSet<&String> = got.iter().map(|(_, m)| m).collect();
        assert_eq!(distinct.len(), 3 * N, "a message delivered twice");
        for (muids, _) in &sent {
            let order: Vec<&String> = got
                .iter()
                .map(|(_, m)| m)
                .filter(|m| m.starts_with(&muids[0][..3]))
                .collect();
            assert_eq!(order, muids.iter().collect::<Vec<_>>());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_user_who_left_one_node_resumes_on_another_with_exactly_what_was_missed() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let pg = start_postgres().await;
    let nodes = nodes(&pg, "resume", 3).await;
    let bob = nodes[1].user_token("bob").await;
    let alice = nodes[0].user_token("alice").await;
    let carol = nodes[2].user_token("carol").await;
    let (mut a, _) = nodes[0].connect(&alice).await;
    let (mut c, _) = nodes[2].connect(&carol).await;
    burst(&mut a, "before".into(), "bob", 5).await;

    // Bob on node 2 is up to date, then leaves.
    let (seen, _) = replay(&nodes[1], &bob, 0).await;
    let position = seen["resume"]["last_seq"].as_u64().unwrap();
    assert_eq!(position, 5);

    let (from_a, from_c) = tokio::join!(
        burst(&mut a, "a".into(), "bob", 200),
        burst(&mut c, "c".into(), "bob", 200)
    );

    // Back on node 3: exactly the 400 missed, in seq order, none twice.
    let (accept, got) = replay(&nodes[2], &bob, position).await;
    assert_eq!(accept["resume"]["replay_count"], json!(400));
    let seqs: Vec<u64> = got.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (6..=405).collect::<Vec<_>>());
    let got: HashSet<String> = got.into_iter().map(|(_, m)| m).collect();
    let sent: HashSet<String> = from_a.0.into_iter().chain(from_c.0).collect();
    assert_eq!(got, sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgresql_restarted_mid_burst_loses_no_acknowledged_message() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let pg = start_postgres().await;
    let nodes = nodes(&pg, "restart", 1).await;
    let node = &nodes[0];
    let bob = node.user_token("bob").await;
    let alice = node.user_token("alice").await;
    let (mut a, _) = node.connect(&alice).await;

    // Sends one at a time, PostgreSQL restarting under them after the first 20: each is
    // acknowledged or refused with an error; none hangs.
    let mut pg = Some(pg);
    let mut restarter = None;
    let mut acked = Vec::new();
    let mut refused = 0;
    for i in 0.. {
        let muid = format!("m-{i}");
        let f = a
            .request(json!({"type": "send", "message": {
                "muid": muid, "receiver_type": "user", "receiver": "bob", "text": "x"}}))
            .await;
        if f["type"] == "ack" {
            acked.push(muid);
        } else {
            assert_eq!(f["code"], "INTERNAL", "{f}");
            refused += 1;
        }
        if i == 20 {
            let mut pg = pg.take().expect("postgres");
            restarter = Some(tokio::task::spawn_blocking(move || {
                pg.restart();
                pg
            }));
        }
        if restarter.as_ref().is_some_and(|r| r.is_finished()) {
            break;
        }
    }
    let _pg = restarter.expect("restarted").await.expect("restart task");
    assert!(refused > 0, "no send met the restart");

    // After the restart the server writes again (its connections are reopened: the first
    // batch on a dead connection may still fail), and every acknowledged message is in bob's
    // log.
    let deadline = tokio::time::Instant::now() + common::WAIT;
    loop {
        let f = a
            .request(json!({"type": "send", "message": {
                "muid": "after", "receiver_type": "user", "receiver": "bob", "text": "x"}}))
            .await;
        if f["type"] == "ack" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no send succeeds: {f}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    acked.push("after".into());
    let (_, got) = replay(node, &bob, 0).await;
    let got: Vec<String> = got.into_iter().map(|(_, m)| m).collect();
    let stored: HashSet<&String> = got.iter().collect();
    for muid in &acked {
        assert!(stored.contains(muid), "acknowledged {muid} is missing");
    }
    assert_eq!(stored.len(), got.len(), "a message stored twice");
}
