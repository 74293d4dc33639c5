//! Several nodes (issue 12): three `chinwag-server` processes on loopback sharing one
//! PostgreSQL (the truth) and one NATS server (the live path), all started by each test and
//! stopped by PID. Recipients read live over their socket: events committed on another node
//! reach them over the bus, and what the bus loses is filled from PostgreSQL.
//!
//! Sizes are the where they fit a 2-core CI machine: 1,000 missed messages (b), a
//! 10,000-message burst cut short by the kill (c); the live bursts are a few hundred.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::nats::TestNats;
use common::nodes::NodeProcess;
use common::pg::TestPostgres;
use common::{Next, TestServer, Ws};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;

/// One cluster at a time: each runs a PostgreSQL, a NATS server and three nodes.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long a live reader waits for the next frame before the test fails (covers a 5 s bus
/// outage and the reconnect after it on a slow machine).
const LIVE_WAIT: Duration = Duration::from_secs(30);

/// Dropped in field order: the nodes first, then NATS, then PostgreSQL.
struct Cluster {
    nodes: Vec<NodeProcess>,
    nats: TestNats,
    /// Taken while a test restarts it on a blocking thread.
    pg: Option<TestPostgres>,
}

impl Cluster {
    async fn start(name: &str) -> Cluster {
        Self::start_with(name, &[]).await
    }

    /// Three nodes with extra flags.
    async fn start_with(name: &str, extra: &'static [&'static str]) -> Cluster {
        let (pg, nats) = tokio::task::spawn_blocking(|| (TestPostgres::start(), TestNats::start()))
            .await
            .expect("start task");
        let store = pg.database_url(name);
        let bus = nats.url();
        let starts = (0..3).map(|_| {
            let (store, bus) = (store.clone(), bus.clone());
            tokio::task::spawn_blocking(move || NodeProcess::start(&store, &bus, extra))
        });
        let nodes = futures_util::future::join_all(starts)
            .await
            .into_iter()
            .map(|n| n.expect("node start task"))
            .collect();
        Cluster {
            nodes,
            nats,
            pg: Some(pg),
        }
    }

    fn node(&self, i: usize) -> &TestServer {
        &self.nodes[i].server
    }

    /// Helpers for node `i` that borrow nothing of the cluster (which the test may change).
    fn handle(&self, i: usize) -> TestServer {
        TestServer {
            handle: None,
            url: self.node(i).url.clone(),
            ws_url: self.node(i).ws_url.clone(),
            http: reqwest::Client::new(),
        }
    }
}

/// A recipient's socket, read live: every message event in arrival order as (seq, muid).
struct Live<'a> {
    node: &'a TestServer,
    token: String,
    ws: Ws,
    got: Vec<(u64, String)>,
    /// Times the socket closed and was resumed (a client's own recovery).
    resumes: usize,
}

impl<'a> Live<'a> {
    async fn connect(node: &'a TestServer, token: &str, last_seq: u64) -> Live<'a> {
        let (mut ws, _) = node
            .connect_with(token, &format!("last_seq={last_seq}"))
            .await;
        let mut got = Vec::new();
        read_replay(&mut ws, &mut got).await;
        Live {
            node,
            token: token.to_string(),
            ws,
            got,
            resumes: 0,
        }
    }

    /// Reads until `want` messages arrived or `stop` is notified. A closed socket is resumed
    /// from the last seq received, on `resume_on` if given (else the same node).
    async fn read(
        &mut self,
        want: usize,
        stop: Option<&Notify>,
        resume_on: Option<&'a TestServer>,
    ) {
        while self.got.len() < want {
            let next = async {
                match tokio::time::timeout(LIVE_WAIT, self.ws.inner.next()).await {
                    Ok(Some(Ok(Message::Text(t)))) => {
                        Next::Frame(serde_json::from_str(&t).expect("json"))
                    }
                    Ok(Some(Ok(_))) => Next::Frame(json!({})),
                    Ok(_) => Next::Closed(None, "closed".into()),
                    Err(_) => panic!(
                        "no frame within {LIVE_WAIT:?}; {} of {want} messages arrived",
                        self.got.len()
                    ),
                }
            };
            let next = match stop {
                Some(stop) => tokio::select! {
                    _ = stop.notified() => return,
                    n = next => n,
                },
                None => next.await,
            };
            match next {
                Next::Frame(f) => push_message(&f, &mut self.got),
                Next::Closed(..) => {
                    if let Some(node) = resume_on {
                        self.node = node;
                    }
                    let last = self.got.last().map_or(0, |(s, _)| *s);
                    let (mut ws, _) = self
                        .node
                        .connect_with(&self.token, &format!("last_seq={last}"))
                        .await;
                    read_replay(&mut ws, &mut self.got).await;
                    self.ws = ws;
                    self.resumes += 1;
                }
            }
        }
    }
}

fn push_message(f: &Value, got: &mut Vec<(u64, String)>) {
    if f["type"] == "event" && f["event"] == "message" {
        got.push((
            f["seq"].as_u64().expect("seq"),
            f["data"]["muid"].as_str().expect("muid").to_string(),
        ));
    }
}

async fn read_replay(ws: &mut Ws, got: &mut Vec<(u64, String)>) {
    loop {
        let f = ws.next_frame().await;
        if f["type"] == "replay_done" {
            return;
        }
        push_message(&f, got);
    }
}

fn message(muid: &str, to: &str, req: usize) -> Value {
    json!({"type": "send", "req": format!("q{req}"), "message": {
        "muid": muid, "receiver_type": "user", "receiver": to, "text": muid}})
}

/// Sends `n` messages to `to` as fast as the socket takes them and waits for every ack;
/// returns the muids in send order.
async fn burst(ws: &mut Ws, prefix: &str, to: &str, n: usize) -> Vec<String> {
    let muids: Vec<String> = (0..n).map(|i| format!("{prefix}-{i}")).collect();
    for (i, muid) in muids.iter().enumerate() {
        ws.send(message(muid, to, i)).await;
    }
    let mut left = n;
    while left > 0 {
        let f = ws.next_frame().await;
        assert_ne!(f["type"], "error", "send refused: {f}");
        if f["type"] == "ack" {
            left -= 1;
        }
    }
    muids
}

/// Checks that `got` is seq 1..=n, each once, and holds exactly `sent` (per sender in order).
fn assert_contiguous(got: &[(u64, String)], senders: &[&Vec<String>]) {
    let total: usize = senders.iter().map(|s| s.len()).sum();
    let seqs: Vec<u64> = got.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (1..=total as u64).collect::<Vec<_>>(), "seqs");
    for sent in senders {
        let prefix = sent[0].split('-').next().unwrap_or_default().to_string() + "-";
        let order: Vec<&String> = got
            .iter()
            .map(|(_, m)| m)
            .filter(|m| m.starts_with(&prefix))
            .collect();
        assert_eq!(order, sent.iter().collect::<Vec<_>>(), "{prefix} in order");
    }
}

async fn users(node: &TestServer, uids: &[&str]) -> Vec<String> {
    let mut tokens = Vec::new();
    for uid in uids {
        tokens.push(node.user_token(uid).await);
    }
    tokens
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_on_node_1_reaches_b_on_node_2_live_with_contiguous_seqs() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let c = Cluster::start("live").await;
    let t = users(c.node(0), &["alice", "bob"]).await;
    let (mut a, _) = c.node(0).connect(&t[0]).await;
    let mut b = Live::connect(c.node(1), &t[1], 0).await;
    const N: usize = 300;
    let (sent, ()) = tokio::join!(burst(&mut a, "a", "bob", N), b.read(N, None, None));
    assert_contiguous(&b.got, &[&sent]);
    assert_eq!(b.resumes, 0, "delivered live, not on resume");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_sending_to_one_user_at_once_reach_b_live_without_holes() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let c = Cluster::start("fan_in").await;
    let t = users(c.node(0), &["bob", "s0", "s1", "s2"]).await;
    let mut b = Live::connect(c.node(1), &t[0], 0).await;
    let mut senders = Vec::new();
    for i in 0..3 {
        senders.push(c.node(i).connect(&t[i + 1]).await.0);
    }
    const N: usize = 200;
    let bursts = senders
        .iter_mut()
        .enumerate()
        .map(|(i, ws)| async move { burst(ws, &format!("s{i}"), "bob", N).await });
    let (sent, ()) = tokio::join!(
        futures_util::future::join_all(bursts),
        b.read(3 * N, None, None)
    );
    assert_contiguous(&b.got, &sent.iter().collect::<Vec<_>>());
    assert_eq!(b.resumes, 0, "delivered live, not on resume");
    // PostgreSQL holds the same log, read on another node.
    let stored = Live::connect(c.node(2), &t[0], 0).await;
    assert_eq!(stored.got, b.got);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn b_leaves_node_2_and_resumes_on_node_3_with_exactly_the_missed_ones() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let c = Cluster::start("resume").await;
    let t = users(c.node(0), &["bob", "alice", "carol"]).await;
    let (mut a, _) = c.node(0).connect(&t[1]).await;
    let (mut cw, _) = c.node(2).connect(&t[2]).await;
    let mut b = Live::connect(c.node(1), &t[0], 0).await;
    let (before, ()) = tokio::join!(burst(&mut a, "before", "bob", 5), b.read(5, None, None));
    assert_contiguous(&b.got, &[&before]);
    b.ws.close().await;

    // 1,000 messages at once from nodes 1 and 3 while bob is away.
    let (from_a, from_c) = tokio::join!(
        burst(&mut a, "a", "bob", 500),
        burst(&mut cw, "c", "bob", 500)
    );
    let mut back = Live::connect(c.node(2), &t[0], 5).await;
    let seqs: Vec<u64> = back.got.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (6..=1005).collect::<Vec<_>>(),
        "exactly the missed, in order"
    );
    let got: HashSet<&String> = back.got.iter().map(|(_, m)| m).collect();
    let sent: HashSet<&String> = from_a.iter().chain(&from_c).collect();
    assert_eq!(got, sent, "none twice, none missing");

    // And live again on node 3, from a sender on node 1.
    let (after, ()) = tokio::join!(
        burst(&mut a, "after", "bob", 3),
        back.read(1003, None, None)
    );
    let tail: Vec<&String> = back.got[1000..].iter().map(|(_, m)| m).collect();
    assert_eq!(tail, after.iter().collect::<Vec<_>>());
    assert_eq!(back.got[1002].0, 1008);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_of_a_node_mid_burst_loses_no_acknowledged_message() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut c = Cluster::start("kill").await;
    let t = users(c.node(0), &["bob", "alice"]).await;
    // Alice sends from node 2, bob reads live on node 3.
    let (mut a, _) = c.nodes[1].server.connect(&t[1]).await;
    let bob_node = c.handle(2);
    let survivor = c.handle(0);
    let mut b = Live::connect(&bob_node, &t[0], 0).await;
    const N: usize = 10_000;
    const KILL_AFTER: usize = 1_500;
    let stop = Notify::new();
    let sending = async {
        for i in 0..N {
            a.send(message(&format!("m-{i}"), "bob", i)).await;
        }
        let mut acked = Vec::new();
        loop {
            match a.next().await {
                Next::Frame(f) if f["type"] == "ack" => {
                    let i: usize = f["req"].as_str().unwrap_or("q0")[1..].parse().unwrap_or(0);
                    acked.push(format!("m-{i}"));
                    if acked.len() == KILL_AFTER {
                        c.nodes[1].kill();
                    }
                }
                Next::Frame(f) => assert_ne!(f["type"], "error", "send refused: {f}"),
                Next::Closed(..) => break,
            }
        }
        stop.notify_one();
        acked
    };
    let (acked, ()) = tokio::join!(sending, b.read(N, Some(&stop), None));
    assert!(
        acked.len() >= KILL_AFTER && acked.len() < N,
        "killed mid-burst: {}",
        acked.len()
    );

    // Bob moves to node 1 and resumes from what he has: every acknowledged message is there
    // (PostgreSQL has it), none twice, seqs 1..M.
    b.ws.close().await;
    let last = b.got.last().map_or(0, |(s, _)| *s);
    let resumed = Live::connect(&survivor, &t[0], last).await;
    let all: Vec<(u64, String)> = b.got.iter().cloned().chain(resumed.got).collect();
    let seqs: Vec<u64> = all.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=all.len() as u64).collect::<Vec<_>>(),
        "no hole, none twice"
    );
    let have: HashSet<&String> = all.iter().map(|(_, m)| m).collect();
    assert_eq!(have.len(), all.len(), "a message twice");
    let lost: Vec<&String> = acked.iter().filter(|m| !have.contains(m)).collect();
    assert!(lost.is_empty(), "acknowledged and lost: {lost:?}");
    drop(c);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nats_stopped_for_5_s_mid_burst_loses_nothing_live() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut c = Cluster::start("outage").await;
    let t = users(c.node(0), &["bob", "alice"]).await;
    let (mut a, _) = c.node(0).connect(&t[1]).await;
    let bob_node = c.handle(1);
    let mut b = Live::connect(&bob_node, &t[0], 0).await;
    // Rounds of 20 before, during and after 5 s without NATS, bob reading all along.
    let stop = Notify::new();
    let sending = async {
        let mut sent = Vec::new();
        let mut r = 0;
        for _ in 0..10 {
            sent.extend(burst(&mut a, &format!("r{r}"), "bob", 20).await);
            r += 1;
        }
        c.nats.stop();
        let outage = tokio::time::Instant::now();
        while outage.elapsed() < Duration::from_secs(5) {
            sent.extend(burst(&mut a, &format!("r{r}"), "bob", 20).await);
            r += 1;
        }
        c.nats.restart();
        for _ in 0..10 {
            sent.extend(burst(&mut a, &format!("r{r}"), "bob", 20).await);
            r += 1;
        }
        stop.notify_one();
        sent
    };
    let (sent, ()) = tokio::join!(sending, b.read(usize::MAX, Some(&stop), None));
    let n = sent.len();
    b.read(n, None, None).await;
    let muids: Vec<&String> = b.got.iter().map(|(_, m)| m).collect();
    assert_eq!(
        muids,
        sent.iter().collect::<Vec<_>>(),
        "every message, in order"
    );
    let seqs: Vec<u64> = b.got.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (1..=n as u64).collect::<Vec<_>>());
    assert_eq!(b.resumes, 0, "filled live from PostgreSQL, not on resume");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgresql_restarted_mid_burst_b_gets_every_acknowledged_message() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut c = Cluster::start("pg_restart").await;
    let t = users(c.node(0), &["bob", "alice"]).await;
    let (mut a, _) = c.node(0).connect(&t[1]).await;
    let bob_node = c.handle(1);
    let mut b = Live::connect(&bob_node, &t[0], 0).await;
    let mut acked = Vec::new();
    let mut refused = 0;
    let mut restarter = None;
    for i in 0.. {
        let muid = format!("m-{i}");
        let f = a.request(message(&muid, "bob", i)).await;
        if f["type"] == "ack" {
            acked.push(muid);
        } else {
            assert_eq!(f["code"], "INTERNAL", "{f}");
            refused += 1;
        }
        if i == 20 {
            let mut pg = c.pg.take().expect("postgres");
            restarter = Some(tokio::task::spawn_blocking(move || {
                pg.restart();
                pg
            }));
        }
        if restarter.as_ref().is_some_and(|r| r.is_finished()) {
            break;
        }
    }
    c.pg = Some(restarter.expect("restarted").await.expect("restart task"));
    assert!(refused > 0, "no send met the restart");
    // Sends succeed again once the nodes reopened their connections.
    let deadline = tokio::time::Instant::now() + common::WAIT;
    loop {
        let f = a.request(message("after", "bob", 0)).await;
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
    // Bob gets every acknowledged message (live, or on a resume if his node closed his socket
    // while PostgreSQL was away), each once.
    while !b.got.iter().any(|(_, m)| m == "after") {
        let want = b.got.len() + 1;
        b.read(want, None, None).await;
    }
    let have: HashSet<&String> = b.got.iter().map(|(_, m)| m).collect();
    assert_eq!(have.len(), b.got.len(), "a message twice");
    let lost: Vec<&String> = acked.iter().filter(|m| !have.contains(m)).collect();
    assert!(lost.is_empty(), "acknowledged and lost: {lost:?}");
}

/// Waits for `uid`'s presence change to `status` on a socket; returns when it came.
async fn presence(ws: &mut Ws, uid: &str, status: &str) -> tokio::time::Instant {
    loop {
        let f = ws.expect("presence").await;
        if f["uid"] == uid && f["status"] == status {
            return tokio::time::Instant::now();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_of_the_node_holding_b_shows_b_offline_elsewhere_within_three_heartbeats() {
    let _serial = ONE_AT_A_TIME.lock().await;
    const HEARTBEAT: Duration = Duration::from_millis(1_000);
    let mut c = Cluster::start_with("presence", &["--node-heartbeat-ms", "1000"]).await;
    let t = users(c.node(0), &["bob", "alice", "carol"]).await;
    let (mut a, _) = c.node(0).connect_with(&t[1], "presence=all_users").await;
    let (_b, _) = c.node(1).connect(&t[0]).await;
    presence(&mut a, "bob", "online").await;
    // A socket opened later on a third node has bob, online on another node, in its snapshot.
    let (mut cw, _) = c.node(2).connect_with(&t[2], "presence=all_users").await;
    let snapshot = cw.expect("presence_snapshot").await;
    let online: Vec<&str> = snapshot["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["uid"].as_str())
        .collect();
    assert!(online.contains(&"bob"), "{snapshot}");

    let killed = tokio::time::Instant::now();
    c.nodes[1].kill();
    let (seen_a, seen_c) = tokio::join!(
        presence(&mut a, "bob", "offline"),
        presence(&mut cw, "bob", "offline")
    );
    for (who, seen) in [("alice", seen_a), ("carol", seen_c)] {
        let took = seen - killed;
        eprintln!("{who} saw bob offline {took:?} after the kill");
        assert!(
            took <= 3 * HEARTBEAT,
            "{who} saw bob offline {took:?} after the kill; bound {:?}",
            3 * HEARTBEAT
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn throttles_reach_every_node() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let c = Cluster::start_with("throttles", &["--typing-limit", "2"]).await;
    let t = users(c.node(0), &["alice", "bob"]).await;
    // Alice has a socket on node 1 and one on node 2.
    let (mut a1, _) = c.node(0).connect(&t[0]).await;
    let (mut a2, _) = c.node(1).connect(&t[0]).await;
    let typing = json!({"type": "typing_start", "receiver_type": "user", "receiver": "bob"});
    for _ in 0..2 {
        assert_eq!(a1.request(typing.clone()).await["type"], "ack");
    }
    let refused = a1.request(typing.clone()).await;
    assert_eq!(refused["code"], "FEATURE_THROTTLED", "{refused}");
    // Node 2 heard of it: alice's socket there is told, and her typing there is refused too.
    let told = a2.expect("throttled").await;
    assert_eq!(told["feature"], "typing");
    let refused = a2.request(typing.clone()).await;
    assert_eq!(refused["code"], "FEATURE_THROTTLED", "{refused}");

    // An operator's switch on node 3 reaches the sockets of nodes 1 and 2.
    let r = c
        .node(2)
        .admin(reqwest::Method::POST, "/v1/admin/throttle")
        .json(&json!({"feature": "receipts", "duration_ms": 60_000}))
        .send()
        .await
        .expect("throttle request");
    assert_eq!(r.status(), 204);
    for ws in [&mut a1, &mut a2] {
        loop {
            let f = ws.expect("throttled").await;
            if f["feature"] == "receipts" {
                break;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unanswered_call_times_out_once_when_the_node_that_rang_dies() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut c = Cluster::start_with(
        "calls",
        &["--node-heartbeat-ms", "1000", "--call-timeout-ms", "1500"],
    )
    .await;
    let t = users(c.node(0), &["alice", "bob"]).await;
    let (mut a, _) = c.nodes[1].server.connect(&t[0]).await;
    let (mut b, _) = c.node(2).connect(&t[1]).await;
    let ack = a
        .request(
            json!({"type": "call_initiate", "session_id": "call-1", "call_type": "audio",
            "receiver_type": "user", "receiver": "bob"}),
        )
        .await;
    assert_eq!(ack["result"]["event"], "call_initiated", "{ack}");
    b.expect_event("call_initiated").await;
    // The node that rang (and armed the timeout) dies; another one times the call out.
    c.nodes[1].kill();
    let cancelled = b.expect_event("call_cancelled").await;
    assert_eq!(cancelled["data"]["status"], "unanswered");
    // Exactly once in bob's log.
    let (mut again, _) = c.node(0).connect_with(&t[1], "last_seq=0").await;
    let log = again.replay().await;
    let cancels = log
        .iter()
        .filter(|e| e["event"] == "call_cancelled")
        .count();
    assert_eq!(cancels, 1, "{log:?}");
}
