//! The write path against a real server on a real SQLite file: many senders pipelining to one
//! user, a request that breaks a rule inside a full batch, a full writer queue, pings while
//! storage is slow, the bound on sends in flight per socket, replay in chunks, and what survives
//! a kill of the server in both durability modes.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chinwag_server::{Config, DbLocation, FeatureLimit};
use common::{config, Next, TestServer, Ws, API_KEY, AUTH_KEY, WAIT};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// A config on a database file in `dir`, with the per-user send quota out of the way: these
/// tests send thousands of messages from one user within seconds.
fn file_config(dir: &tempfile::TempDir) -> Config {
    let mut c = config();
    c.db = DbLocation::File(dir.path().join("chat.sqlite3"));
    c.send_limit = FeatureLimit {
        limit: 1_000_000,
        window: Duration::from_secs(10),
    };
    c
}

fn send(req: &str, receiver: &str, text: &str) -> Value {
    json!({"type": "send", "req": req, "message": {
        "receiver_type": "user", "receiver": receiver, "text": text
    }})
}

/// Writes every frame without waiting for any answer (all of them in flight at once, as far as
/// the server lets them) while reading, and returns the answers (`ack` and `error` frames) in
/// the order they arrived, once there is one per frame.
async fn pipeline(ws: &mut Ws, frames: Vec<Value>) -> Vec<Value> {
    let n = frames.len();
    let (mut sink, mut stream) = (&mut ws.inner).split();
    let write = async move {
        for f in frames {
            sink.feed(Message::Text(f.to_string().into()))
                .await
                .expect("write a frame");
        }
        sink.flush().await.expect("flush");
    };
    let read = async move {
        let mut answers = Vec::with_capacity(n);
        while answers.len() < n {
            let msg = tokio::time::timeout(WAIT, stream.next())
                .await
                .unwrap_or_else(|_| panic!("timed out after {} of {n} answers", answers.len()))
                .expect("socket ended")
                .expect("socket failed");
            match msg {
                Message::Text(t) => {
                    let v: Value = serde_json::from_str(&t).expect("a JSON frame");
                    if v["type"] == "ack" || v["type"] == "error" {
                        answers.push(v);
                    }
                }
                Message::Close(c) => panic!("closed after {} answers: {c:?}", answers.len()),
                _ => {}
            }
        }
        answers
    };
    let ((), answers) = tokio::join!(write, read);
    answers
}

/// Reads until `n` durable events arrived on this socket.
async fn events(ws: &mut Ws, n: usize) -> Vec<Value> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let f = ws.next_frame().await;
        if f["type"] == "event" {
            out.push(f);
        }
    }
    out
}

fn seq(f: &Value) -> u64 {
    f["seq"].as_u64().unwrap_or_else(|| panic!("no seq in {f}"))
}

fn text(f: &Value) -> &str {
    f["data"]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {f}"))
}

/// Asserts that a socket's events carry the seqs `after+1 ..= after+len`, in that order: none
/// missing, none twice, none out of order.
fn assert_contiguous(events: &[Value], after: u64, what: &str) {
    let seqs: Vec<u64> = events.iter().map(seq).collect();
    let want: Vec<u64> = (after + 1..=after + events.len() as u64).collect();
    assert_eq!(seqs, want, "{what}: seqs not contiguous and in order");
}

/// Splits a text `"{sender}-{index}"`.
fn origin_of(text: &str) -> (&str, usize) {
    let (s, i) = text.rsplit_once('-').expect("a numbered text");
    (s, i.parse().expect("an index"))
}

/// Asserts every `(sender, index)` in `0..per_sender` arrived exactly once and each sender's in
/// the order it sent them.
fn assert_each_once_in_order(events: &[Value], senders: &[String], per_sender: usize, what: &str) {
    let mut seen = HashSet::new();
    let mut next: std::collections::HashMap<&str, usize> = Default::default();
    for e in events {
        let (s, i) = origin_of(text(e));
        assert!(seen.insert((s.to_string(), i)), "{what}: {s}-{i} twice");
        let want = next.entry(s).or_insert(0);
        assert_eq!(i, *want, "{what}: {s}'s messages out of order");
        *want += 1;
    }
    for s in senders {
        assert_eq!(
            next.get(s.as_str()).copied().unwrap_or(0),
            per_sender,
            "{what}: missing messages of {s}"
        );
    }
}

/// Sends one more message and checks it is the very next event on each socket: nothing extra
/// (a duplicate, a stray) was queued behind what the test counted.
async fn assert_nothing_more(sender: &mut Ws, receiver: &str, sockets: &mut [&mut Ws]) {
    let marker = sender.send_text("user", receiver, "marker").await;
    for ws in sockets.iter_mut() {
        let next = ws.expect("event").await;
        assert_eq!(
            next["data"]["text"], "marker",
            "an unexpected event: {next}"
        );
        assert_eq!(next["data"]["id"], marker["data"]["id"]);
    }
}

/// Asserts the answers are one per request, in request order (`r1`, `r2`, ...).
fn assert_request_order(answers: &[Value], what: &str) {
    let reqs: Vec<&str> = answers
        .iter()
        .map(|a| a["req"].as_str().unwrap_or(""))
        .collect();
    if let Some(i) = (0..reqs.len()).find(|&i| reqs[i] != format!("r{}", i + 1)) {
        let around = &reqs[i.saturating_sub(3)..(i + 4).min(reqs.len())];
        panic!("{what}: answer {i} is not r{}: ... {around:?} ...", i + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pipelined_senders_give_each_socket_of_the_receiver_contiguous_seqs() {
    const SENDERS: usize = 8;
    const EACH: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::with(file_config(&dir)).await;
    let rcv = server.user_token("rcv").await;
    let (mut phone, accept) = server.connect(&rcv).await;
    let base = accept["resume"]["last_seq"].as_u64().unwrap();
    let (mut laptop, _) = server.connect(&rcv).await;

    let mut names = Vec::new();
    let mut sockets = Vec::new();
    for k in 0..SENDERS {
        let name = format!("s{k}");
        let token = server.user_token(&name).await;
        let (ws, accept) = server.connect(&token).await;
        let own_base = accept["resume"]["last_seq"].as_u64().unwrap();
        names.push(name);
        sockets.push((ws, own_base));
    }
    let total = SENDERS * EACH;
    let phone_task = tokio::spawn(async move {
        let got = events(&mut phone, total).await;
        (phone, got)
    });
    let laptop_task = tokio::spawn(async move {
        let got = events(&mut laptop, total).await;
        (laptop, got)
    });
    let mut senders = Vec::new();
    for (name, (mut ws, own_base)) in names.iter().cloned().zip(sockets) {
        senders.push(tokio::spawn(async move {
            let frames = (0..EACH)
                .map(|i| send(&format!("r{}", i + 1), "rcv", &format!("{name}-{i}")))
                .collect();
            let answers = pipeline(&mut ws, frames).await;
            (name, ws, own_base, answers)
        }));
    }
    let mut sender_sockets = Vec::new();
    for task in senders {
        let (name, ws, own_base, answers) = task.await.unwrap();
        assert_request_order(&answers, &name);
        for (i, a) in answers.iter().enumerate() {
            assert_eq!(a["type"], "ack", "{name}: {a}");
            // The sender's own seq: its log holds only its own sends, one after another.
            assert_eq!(
                a["result"]["seq"].as_u64(),
                Some(own_base + i as u64 + 1),
                "{name}: an ack carries a seq that is not the sender's own: {a}"
            );
            assert_eq!(a["result"]["data"]["sender"], name.as_str());
            assert_eq!(text(&a["result"]), format!("{name}-{i}"));
        }
        sender_sockets.push(ws);
    }
    let (mut phone, on_phone) = phone_task.await.unwrap();
    let (mut laptop, on_laptop) = laptop_task.await.unwrap();
    for (what, got) in [("phone", &on_phone), ("laptop", &on_laptop)] {
        assert_contiguous(got, base, what);
        assert_each_once_in_order(got, &names, EACH, what);
    }
    // Both sockets of one user see the same log in the same order.
    let ids = |v: &[Value]| {
        v.iter()
            .map(|e| e["data"]["id"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&on_phone), ids(&on_laptop));
    assert_nothing_more(
        &mut sender_sockets[0],
        "rcv",
        &mut [&mut phone, &mut laptop],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_breaks_a_rule_inside_a_batch_fails_alone() {
    const N: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = file_config(&dir);
    // Each commit waits, so what the socket pipelines meanwhile piles up into one batch.
    cfg.test_commit_delay = Some(Duration::from_millis(50));
    let server = TestServer::with(cfg).await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    server.create_user("carol").await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut b, accept) = server.connect(&bob).await;
    let elsewhere = a.send_text("user", "carol", "another conversation").await;
    let elsewhere = elsewhere["data"]["id"].as_i64().unwrap();
    let here = a.send_text("user", "bob", "a parent").await;
    let here_id = here["data"]["id"].as_i64().unwrap();
    b.expect_event("message").await;
    let base = accept["resume"]["last_seq"].as_u64().unwrap() + 1;

    // Every tenth request replies to a message of another conversation, every tenth (offset)
    // goes to a user that does not exist: both are only found out inside the writer, next to
    // valid requests of the same batch (some of which reply to a message of this conversation).
    let bad_parent = |i: usize| i % 10 == 3;
    let ghost = |i: usize| i % 10 == 7;
    let frames: Vec<Value> = (0..N)
        .map(|i| {
            let req = format!("r{}", i + 1);
            let t = format!("alice-{i}");
            if ghost(i) {
                return send(&req, &format!("ghost-{i}"), &t);
            }
            let mut f = send(&req, "bob", &t);
            if bad_parent(i) {
                f["message"]["parent_id"] = json!(elsewhere);
            } else if i % 10 == 5 {
                f["message"]["parent_id"] = json!(here_id);
            }
            f
        })
        .collect();
    let answers = pipeline(&mut a, frames).await;
    assert_request_order(&answers, "alice");
    let mut valid = Vec::new();
    for (i, ans) in answers.iter().enumerate() {
        if bad_parent(i) {
            assert_eq!(ans["type"], "error", "{i}: {ans}");
            assert_eq!(ans["code"], "INVALID_ARGUMENT", "{i}: {ans}");
        } else if ghost(i) {
            assert_eq!(ans["type"], "error", "{i}: {ans}");
            assert_eq!(ans["code"], "USER_NOT_FOUND", "{i}: {ans}");
        } else {
            assert_eq!(ans["type"], "ack", "{i}: {ans}");
            assert_eq!(text(&ans["result"]), format!("alice-{i}"));
            valid.push(format!("alice-{i}"));
        }
    }
    assert_eq!(valid.len(), N - 2 * N / 10);

    // Bob got exactly the valid ones, in order, each reply followed by its parent's
    // `thread_updated` (issue 20), and the failed ones left no hole in his log.
    let replies = valid.iter().filter(|t| origin_of(t).1 % 10 == 5).count();
    let got = events(&mut b, valid.len() + replies).await;
    assert_contiguous(&got, base, "bob");
    let texts: Vec<&str> = got
        .iter()
        .filter(|e| e["event"] == "message")
        .map(text)
        .collect();
    assert_eq!(texts, valid);
    let mut counted = 0;
    for (k, e) in got.iter().enumerate() {
        if e["event"] != "message" {
            continue;
        }
        let (_, i) = origin_of(text(e));
        if i % 10 == 5 {
            assert_eq!(e["data"]["parent_id"], here_id);
            counted += 1;
            let thread = &got[k + 1];
            assert_eq!(thread["event"], "thread_updated", "{thread}");
            assert_eq!(thread["data"]["id"], here_id);
            assert_eq!(thread["data"]["reply_count"], counted);
        }
    }
    assert_eq!(counted, replies);
    assert_nothing_more(&mut a, "bob", &mut [&mut b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_writer_queue_slows_senders_down_and_loses_nothing() {
    // 24 sockets with up to 256 sends in flight each: 6,144 requests, more than the writer's
    // queue (4,096) and a batch (512) together, so some sessions wait for room in the queue.
    const SENDERS: usize = 24;
    const RECEIVERS: usize = 4;
    const EACH: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = file_config(&dir);
    cfg.test_commit_delay = Some(Duration::from_millis(20));
    // The subject is the writer's queue, not the receivers' socket queues.
    cfg.socket_queue = 1 << 16;
    let server = TestServer::with(cfg).await;

    let mut receivers = Vec::new();
    for r in 0..RECEIVERS {
        let token = server.user_token(&format!("rcv{r}")).await;
        let (mut ws, accept) = server.connect(&token).await;
        let base = accept["resume"]["last_seq"].as_u64().unwrap();
        let n = EACH * SENDERS / RECEIVERS;
        receivers.push(tokio::spawn(async move {
            let got = events(&mut ws, n).await;
            (ws, base, got)
        }));
    }
    let mut sockets = Vec::new();
    for k in 0..SENDERS {
        let token = server.user_token(&format!("s{k}")).await;
        sockets.push(server.connect(&token).await.0);
    }
    let mut senders = Vec::new();
    for (k, mut ws) in sockets.into_iter().enumerate() {
        senders.push(tokio::spawn(async move {
            let to = format!("rcv{}", k % RECEIVERS);
            let frames = (0..EACH)
                .map(|i| send(&format!("r{}", i + 1), &to, &format!("s{k}-{i}")))
                .collect();
            let answers = pipeline(&mut ws, frames).await;
            (k, ws, answers)
        }));
    }
    let mut sender_sockets = Vec::new();
    for task in senders {
        let (k, ws, answers) = task.await.unwrap();
        assert_request_order(&answers, &format!("s{k}"));
        for (i, a) in answers.iter().enumerate() {
            assert_eq!(a["type"], "ack", "s{k}: {a}");
            assert_eq!(text(&a["result"]), format!("s{k}-{i}"));
        }
        sender_sockets.push(ws);
    }
    for (r, task) in receivers.into_iter().enumerate() {
        let (mut ws, base, got) = task.await.unwrap();
        let what = format!("rcv{r}");
        assert_contiguous(&got, base, &what);
        let names: Vec<String> = (r..SENDERS)
            .step_by(RECEIVERS)
            .map(|k| format!("s{k}"))
            .collect();
        assert_each_once_in_order(&got, &names, EACH, &what);
        assert_nothing_more(&mut sender_sockets[r], &what, &mut [&mut ws]).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_keep_flowing_while_storage_is_slow() {
    const SENDS: usize = 5;
    let dir = tempfile::tempdir().unwrap();
    // The users first, on a fast server: with slow storage every REST write takes a commit.
    let mut fast = TestServer::with(file_config(&dir)).await;
    let alice = fast.user_token("alice").await;
    fast.create_user("bob").await;
    fast.stop().await;
    let mut cfg = file_config(&dir);
    let commit = Duration::from_millis(3000);
    cfg.test_commit_delay = Some(commit);
    cfg.ping_interval = Duration::from_millis(500);
    // Silent for 1.5 s means dead: half a commit, so pings held behind commits would kill the
    // socket, yet slack enough for a test thread starved by parallel tests on a 2-core machine.
    cfg.heartbeat_grace = Duration::from_millis(1000);
    let server = TestServer::with(cfg).await;
    let (mut a, _) = server.connect(&alice).await;

    for i in 0..SENDS {
        a.send(send(&format!("r{}", i + 1), "bob", &format!("alice-{i}")))
            .await;
    }
    a.send(json!({"type": "ping", "req": "p"})).await;
    let started = tokio::time::Instant::now();
    // Reading also answers the server's pings with pongs (the client's only traffic here).
    let (mut pings, mut ping_ack, mut acks) = (0, None, Vec::new());
    while acks.len() < SENDS {
        let msg = tokio::time::timeout(WAIT, a.inner.next())
            .await
            .expect("timed out")
            .expect("socket ended")
            .expect("socket failed");
        match msg {
            Message::Ping(_) => pings += 1,
            Message::Text(t) => {
                let f: Value = serde_json::from_str(&t).unwrap();
                if f["req"] == "p" {
                    assert_eq!(f["type"], "ack", "{f}");
                    ping_ack = Some((acks.len(), pings, started.elapsed()));
                } else if f["type"] == "ack" {
                    if acks.is_empty() {
                        // Pings came while the first commit was still being held back.
                        assert!(pings >= 2, "{pings} pings while a commit took {commit:?}");
                    }
                    acks.push(f["req"].as_str().unwrap().to_string());
                } else {
                    assert_ne!(f["type"], "error", "{f}");
                }
            }
            Message::Close(c) => panic!("closed while sends waited for their commit: {c:?}"),
            _ => {}
        }
    }
    let (acks_before, _, after) = ping_ack.expect("the ping frame was answered");
    assert_eq!(acks_before, 0, "the ping waited for durable sends");
    assert!(
        after < commit,
        "the ping was answered after {after:?}, not before the first commit"
    );
    let want: Vec<String> = (1..=SENDS).map(|i| format!("r{i}")).collect();
    assert_eq!(acks, want);
    // Seconds of slow commits later the socket is still open and answering.
    assert!(started.elapsed() > commit);
    let ack = a.request(json!({"type": "ping"})).await;
    assert_eq!(ack["type"], "ack");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_beyond_its_sends_in_flight_is_not_read_and_loses_nothing() {
    const SENDS: usize = 50;
    const BOUND: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = file_config(&dir);
    cfg.max_in_flight = BOUND;
    cfg.test_commit_delay = Some(Duration::from_millis(100));
    let server = TestServer::with(cfg).await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let (mut a, _) = server.connect(&alice).await;
    let (mut b, accept) = server.connect(&bob).await;
    let base = accept["resume"]["last_seq"].as_u64().unwrap();

    // The ping frame comes last: the session reads it only once no more than BOUND - 1 sends
    // wait for their commit, so at least SENDS - BOUND + 1 acks were queued before its answer.
    // A session that read on regardless would answer it at once.
    let mut frames: Vec<Value> = (0..SENDS)
        .map(|i| send(&format!("r{}", i + 1), "bob", &format!("alice-{i}")))
        .collect();
    frames.push(json!({"type": "ping", "req": "ping"}));
    let answers = pipeline(&mut a, frames).await;
    let ping_at = answers
        .iter()
        .position(|f| f["req"] == "ping")
        .expect("the ping was answered");
    assert_eq!(answers[ping_at]["type"], "ack");
    assert!(
        ping_at > SENDS - BOUND,
        "the ping was read with {} sends still waiting (bound {BOUND})",
        SENDS - ping_at
    );
    let sends: Vec<&Value> = answers.iter().filter(|f| f["req"] != "ping").collect();
    for (i, f) in sends.iter().enumerate() {
        assert_eq!(f["type"], "ack", "{f}");
        assert_eq!(f["req"], format!("r{}", i + 1));
        assert_eq!(text(&f["result"]), format!("alice-{i}"));
    }
    let got = events(&mut b, SENDS).await;
    assert_contiguous(&got, base, "bob");
    let texts: Vec<String> = got.iter().map(|e| text(e).to_string()).collect();
    let want: Vec<String> = (0..SENDS).map(|i| format!("alice-{i}")).collect();
    assert_eq!(texts, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_streams_the_last_thousand_big_events_and_a_middle_resume_gets_the_rest() {
    const SENT: usize = 1100;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::with(file_config(&dir)).await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let (_, accept) = server.connect(&bob).await;
    let base = accept["resume"]["last_seq"].as_u64().unwrap();
    let (mut a, _) = server.connect(&alice).await;
    // About 10 KiB each: a replay of 1,000 is ~10 MB, many chunks by rows and by bytes.
    let pad = "x".repeat(10 * 1024);
    let frames = (0..SENT)
        .map(|i| send(&format!("r{}", i + 1), "bob", &format!("{pad}-{i}")))
        .collect();
    let answers = pipeline(&mut a, frames).await;
    assert!(answers.iter().all(|f| f["type"] == "ack"));
    let last = base + SENT as u64;
    let limit = 1000u64;

    let (mut b, accept) = server.connect_with(&bob, "last_seq=0").await;
    let resume = &accept["resume"];
    assert_eq!(resume["status"], "gap", "{resume}");
    assert_eq!(resume["last_seq"], last);
    assert_eq!(
        resume["gap"],
        json!({"from_seq": 1, "to_seq": last - limit})
    );
    assert_eq!(resume["replay_count"], limit);
    let replayed = b.replay().await;
    assert_eq!(replayed.len() as u64, limit);
    assert_contiguous(&replayed, last - limit, "replay from 0");
    for (k, e) in replayed.iter().enumerate() {
        let i = SENT - limit as usize + k;
        assert!(text(e).ends_with(&format!("-{i}")), "event {k}");
        assert_eq!(text(e).len(), pad.len() + format!("-{i}").len());
    }
    b.close().await;

    // From a middle position: exactly what is missing, across several chunks.
    let from = last - 400;
    let (mut b, accept) = server.connect_with(&bob, &format!("last_seq={from}")).await;
    assert_eq!(accept["resume"]["status"], "complete");
    assert_eq!(accept["resume"]["replay_count"], 400);
    let replayed = b.replay().await;
    assert_eq!(replayed.len(), 400);
    assert_contiguous(&replayed, from, "replay from the middle");
    assert!(text(&replayed[0]).ends_with(&format!("-{}", SENT - 400)));
    assert!(text(&replayed[399]).ends_with(&format!("-{}", SENT - 1)));
}

/// A `chinwag-server` process on a database file, killed with SIGKILL when dropped.
struct Process {
    child: Child,
    server: TestServer,
}

impl Process {
    fn start(db: &std::path::Path, durability: &str) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chinwag-server"))
            .args(["--listen", "127.0.0.1:0", "--auth-key", AUTH_KEY])
            .args(["--api-key", API_KEY, "--durability", durability])
            .args(["--send-limit", "1000000", "--log", "warn"])
            .arg("--db")
            .arg(db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the server prints its address");
        let url = line
            .split("listening on ")
            .nth(1)
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .trim()
            .to_string();
        let ws_url = format!(
            "{}{}",
            url.replacen("http", "ws", 1),
            chinwag_protocol::WS_PATH
        );
        Process {
            child,
            server: TestServer {
                handle: None,
                url,
                ws_url,
                http: reqwest::Client::new(),
            },
        }
    }

    /// SIGKILL: no shutdown, no checkpoint, whatever was in flight is cut off.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Every message stored from alice to bob, oldest first, read page by page.
async fn stored_history(server: &TestServer, token: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    loop {
        let after = out.last().map_or(0, |m| m["id"].as_i64().unwrap());
        let page: Value = server
            .user(token, reqwest::Method::GET, "/v1/messages")
            .query(&[
                ("receiver_type", "user"),
                ("receiver", "bob"),
                ("after", &after.to_string()),
                ("limit", "100"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let msgs = page["messages"].as_array().expect("a message list").clone();
        let more = page["has_more"] == true;
        out.extend(msgs);
        if !more {
            return out;
        }
    }
}

/// Kills the server (SIGKILL) while a socket has hundreds of sends in flight, restarts it on the
/// same file and checks that every acknowledged message and every delivered one is stored, and
/// that what is stored is a gap-free prefix of what was sent.
async fn acked_sends_survive_a_kill(durability: &str) {
    const SENT: usize = 2000;
    const KILL_AFTER: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.sqlite3");
    let mut first = Process::start(&db, durability);
    let alice = first.server.user_token("alice").await;
    let bob = first.server.user_token("bob").await;
    let (mut b, _) = first.server.connect(&bob).await;
    let (a, _) = first.server.connect(&alice).await;

    let received = tokio::spawn(async move {
        let mut got = Vec::new();
        loop {
            match b.next().await {
                Next::Frame(f) if f["type"] == "event" => got.push(f),
                Next::Frame(_) => {}
                Next::Closed(..) => return got,
            }
        }
    });
    let (mut sink, mut stream) = a.inner.split();
    let writer = tokio::spawn(async move {
        for i in 0..SENT {
            let f = send(&format!("r{}", i + 1), "bob", &format!("alice-{i}"));
            if sink
                .feed(Message::Text(f.to_string().into()))
                .await
                .is_err()
            {
                return;
            }
        }
        let _ = sink.flush().await;
    });
    let mut acked = Vec::new();
    loop {
        let msg = tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("timed out waiting for acks");
        match msg {
            Some(Ok(Message::Text(t))) => {
                let f: Value = serde_json::from_str(&t).unwrap();
                if f["type"] == "ack" {
                    assert_eq!(f["req"], format!("r{}", acked.len() + 1), "out of order");
                    acked.push(f["result"]["data"].clone());
                    if acked.len() == KILL_AFTER {
                        first.kill();
                    }
                } else {
                    assert_ne!(f["type"], "error", "{f}");
                }
            }
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
            Some(Ok(_)) => {}
        }
    }
    assert!(acked.len() >= KILL_AFTER, "killed before {KILL_AFTER} acks");
    assert!(
        acked.len() < SENT,
        "every send was acked before the kill: nothing was in flight"
    );
    let _ = writer.await;
    let received = received.await.unwrap();
    eprintln!(
        "{durability}: {} acked, {} delivered before the kill",
        acked.len(),
        received.len()
    );

    let second = Process::start(&db, durability);
    let stored = stored_history(&second.server, &alice).await;
    eprintln!("{durability}: {} stored", stored.len());
    let texts: Vec<String> = stored.iter().map(|m| text_of(m).to_string()).collect();
    let prefix: Vec<String> = (0..stored.len()).map(|i| format!("alice-{i}")).collect();
    assert_eq!(texts, prefix, "stored messages are not a gap-free prefix");
    let ids: HashSet<i64> = stored.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    for m in &acked {
        let id = m["id"].as_i64().unwrap();
        assert!(ids.contains(&id), "acked {} lost in the kill", text_of(m));
    }
    for e in &received {
        let id = e["data"]["id"].as_i64().unwrap();
        assert!(ids.contains(&id), "delivered {} was not stored", text(e));
    }
}

fn text_of(m: &Value) -> &str {
    m["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {m}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acked_sends_survive_a_kill_of_the_server_with_durability_power() {
    acked_sends_survive_a_kill("power").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acked_sends_survive_a_kill_of_the_server_with_durability_process() {
    acked_sends_survive_a_kill("process").await;
}
