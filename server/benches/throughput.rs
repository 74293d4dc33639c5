//! The server's write path alone, over raw WebSocket clients (no SDK), in both durability
//! modes, next to the disk's fsync measured in the same run on the database's filesystem:
//! - one-way: one sender -> one receiver, 1 and 64 sends in flight; every message persisted,
//!   none lost, duplicated or reordered;
//! - fan-out: one sender -> a group of 1,000 members, each on its own socket; deliveries/s;
//! - many writers: 50 pairs of sockets, each sending to its partner (4 in flight), the
//!   partner echoing each; persisted messages/s and the round trip's p50 / p99;
//! - SQLite alone: the rows the writer writes per message, in a bare rusqlite loop (the floor
//!   of the writer's CPU per message), next to the writer thread's measured CPU per message.
//!
//! Prints a table and adds its figures to `target/bench/results.json` (key `server`).
//! Run: `cargo bench -p chinwag-server --bench throughput` (`-- N` for N one-way messages per
//! run, `-- --quick` for smaller counts, `-- --only=floor,one-way,fan-out,many-writers` for some
//! scenarios, `-- --durability=power|process` for one mode: to profile one part).

#[path = "../../benches/shared/measure.rs"]
mod measure;
use measure::{fsync_probe, ms, percentile};
#[path = "shared/sqlite_floor.rs"]
mod sqlite_floor;

use std::time::{Duration, Instant};

use chinwag_server::{Config, DbLocation, Durability, ServerHandle as Server};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const WAIT: Duration = Duration::from_secs(60);

/// CPU time so far (Linux schedstat, nanoseconds) of the writer thread(s) and of the whole
/// process (server and these clients together).
#[derive(Clone, Copy)]
struct Cpu {
    writer: u64,
    process: u64,
}

fn cpu_now() -> Cpu {
    let mut cpu = Cpu {
        writer: 0,
        process: 0,
    };
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return cpu;
    };
    for task in tasks.flatten() {
        let ns: u64 = std::fs::read_to_string(task.path().join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
        cpu.process += ns;
        // Summed: a previous server's writer, if still there, is idle and adds nothing.
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end() == "chinwag-writer" {
            cpu.writer += ns;
        }
    }
    cpu
}

/// Microseconds of CPU per unit between two readings: (writer, whole process).
fn cpu_per(before: Cpu, after: Cpu, units: usize) -> (f64, f64) {
    let per = |a: u64, b: u64| b.saturating_sub(a) as f64 / 1000.0 / units.max(1) as f64;
    (
        per(before.writer, after.writer),
        per(before.process, after.process),
    )
}

async fn token(http: &reqwest::Client, url: &str, uid: &str) -> String {
    http.post(format!("{url}/v1/users"))
        .header("x-auth-key", "k")
        .json(&json!({"uid": uid, "name": uid}))
        .send()
        .await
        .expect("create user");
    let v: Value = http
        .post(format!("{url}/v1/login"))
        .json(&json!({"uid": uid, "auth_key": "k"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login body");
    v["token"].as_str().expect("token").to_string()
}

async fn connect(ws_url: &str, token: &str) -> Socket {
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(
        format!("{ws_url}?token={token}"),
        Some(measure::ws_config()),
        false,
    )
    .await
    .expect("connect");
    loop {
        if let Some(Ok(Message::Text(t))) = ws.next().await {
            if t.contains("\"replay_done\"") {
                return ws;
            }
        }
    }
}

fn send_frame(req: usize, receiver_type: &str, receiver: &str, text: &str) -> Message {
    let frame = json!({"type": "send", "req": req.to_string(), "message": {
        "receiver_type": receiver_type, "receiver": receiver, "text": text
    }});
    Message::Text(frame.to_string().into())
}

/// The next text frame as JSON (bounded wait); panics on an error frame or a closed socket.
async fn next_frame(ws: &mut Socket, what: &str) -> Value {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(&t).expect("json");
                assert_ne!(v["type"], "error", "{what}: {t}");
                return v;
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("{what}: socket stopped: {other:?}"),
        }
    }
}

/// A server on a file database in `dir`, with the per-user and per-address limits lifted (the
/// bench is one address and sends far more than a chat user would).
async fn server(dir: &std::path::Path, durability: Durability) -> Server {
    let mut cfg = Config::local("k", "a");
    cfg.db = DbLocation::File(dir.join(format!("bench-{}.sqlite3", durability.as_str())));
    cfg.durability = durability;
    cfg.auth_failures_per_minute = 1000;
    cfg.send_limit.limit = u32::MAX;
    cfg.max_connections = 100_000;
    cfg.max_connections_per_ip = 100_000;
    cfg.upgrades_per_ip.limit = u32::MAX;
    cfg.max_sockets_per_user = 100_000;
    cfg.max_group_members = 100_000;
    chinwag_server::start(cfg).await.expect("server")
}

/// One sender -> one receiver, `window` sends in flight; msgs/s until the receiver has the last,
/// and the CPU per message (writer thread, whole process).
async fn one_way(
    server: &Server,
    http: &reqwest::Client,
    n: usize,
    window: usize,
) -> (f64, (f64, f64)) {
    let (a, b) = (format!("alice-{window}"), format!("bob-{window}"));
    let (ta, tb) = (
        token(http, &server.url(), &a).await,
        token(http, &server.url(), &b).await,
    );
    let mut alice = connect(&server.ws_url(), &ta).await;
    let mut bob = connect(&server.ws_url(), &tb).await;

    let receiver = tokio::spawn(async move {
        let mut next = 0usize;
        while next < n {
            let v = next_frame(&mut bob, "receiver").await;
            if v["type"] == "event" {
                let text = v["data"]["text"].as_str().unwrap_or_default();
                assert_eq!(text, format!("m{next}"), "lost, duplicated or reordered");
                next += 1;
            }
        }
        Instant::now()
    });

    let cpu = cpu_now();
    let start = Instant::now();
    let (mut sent, mut acked) = (0usize, 0usize);
    while acked < n {
        while sent < n && sent - acked < window {
            alice
                .send(send_frame(sent, "user", &b, &format!("m{sent}")))
                .await
                .expect("send");
            sent += 1;
        }
        if next_frame(&mut alice, "sender").await["type"] == "ack" {
            acked += 1;
        }
    }
    let done = receiver.await.expect("receiver");
    let cpu = cpu_per(cpu, cpu_now(), n);
    (n as f64 / (done - start).as_secs_f64(), cpu)
}

/// One owner sends `messages` to a group of `members` (64 in flight), each member on its own
/// socket checking it gets every one in order; deliveries/s until the last member has the last,
/// and the CPU per delivery (writer thread, whole process).
async fn fan_out(
    server: &Server,
    http: &reqwest::Client,
    members: usize,
    messages: usize,
) -> (f64, (f64, f64)) {
    let url = server.url();
    let guid = format!("fan{members}");
    let owner_token = token(http, &url, "owner").await;
    let r = http
        .post(format!("{url}/v1/groups"))
        .bearer_auth(&owner_token)
        .json(&json!({"guid": guid, "name": "fan-out"}))
        .send()
        .await
        .expect("create group");
    assert!(r.status().is_success(), "create group: {}", r.status());
    let mut tokens = Vec::with_capacity(members);
    for i in 0..members {
        tokens.push(token(http, &url, &format!("f{members}-{i}")).await);
    }
    for chunk in (0..members).collect::<Vec<_>>().chunks(100) {
        let list: Vec<Value> = chunk
            .iter()
            .map(|i| json!({"uid": format!("f{members}-{i}")}))
            .collect();
        let r = http
            .post(format!("{url}/v1/groups/{guid}/members"))
            .bearer_auth(&owner_token)
            .json(&json!({"members": list}))
            .send()
            .await
            .expect("add members");
        assert!(r.status().is_success(), "add members: {}", r.status());
    }
    let mut sockets = Vec::with_capacity(members);
    for t in &tokens {
        sockets.push(connect(&server.ws_url(), t).await);
    }
    let receivers: Vec<_> = sockets
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                let mut next = 0usize;
                while next < messages {
                    let v = next_frame(&mut ws, "member").await;
                    let text = v["data"]["text"].as_str().unwrap_or_default();
                    if v["type"] == "event" && text.starts_with("fan ") {
                        assert_eq!(text, format!("fan {next}"), "fan-out lost or reordered");
                        next += 1;
                    }
                }
                Instant::now()
            })
        })
        .collect();
    let mut owner = connect(&server.ws_url(), &owner_token).await;
    let cpu = cpu_now();
    let start = Instant::now();
    let (mut sent, mut acked) = (0usize, 0usize);
    while acked < messages {
        while sent < messages && sent - acked < 64 {
            owner
                .send(send_frame(sent, "group", &guid, &format!("fan {sent}")))
                .await
                .expect("send");
            sent += 1;
        }
        if next_frame(&mut owner, "owner").await["type"] == "ack" {
            acked += 1;
        }
    }
    let mut last = start;
    for r in receivers {
        last = last.max(r.await.expect("member"));
    }
    let cpu = cpu_per(cpu, cpu_now(), members * messages);
    (
        (members * messages) as f64 / (last - start).as_secs_f64(),
        cpu,
    )
}

/// Many writers: `pairs` pairs of sockets; each sends `per_socket` messages `w N` to its
/// partner, `window` in flight (the next when an echo comes back), and echoes each `w N` of its
/// partner as `e N`. Returns (persisted messages (sends and echoes) / s, round trips sorted).
async fn many_writers(
    server: &Server,
    http: &reqwest::Client,
    pairs: usize,
    per_socket: usize,
    window: usize,
) -> (f64, Vec<Duration>) {
    let n = pairs * 2;
    let mut sockets = Vec::with_capacity(n);
    for i in 0..n {
        let t = token(http, &server.url(), &format!("w-{i}")).await;
        sockets.push(connect(&server.ws_url(), &t).await);
    }
    let start = Instant::now();
    let tasks: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, mut ws)| {
            let partner = format!("w-{}", i ^ 1);
            tokio::spawn(async move {
                let mut sent_at = Vec::with_capacity(per_socket);
                let mut rtts = Vec::with_capacity(per_socket);
                let (mut got_w, mut acks, mut req) = (0usize, 0usize, 0usize);
                while sent_at.len() < window.min(per_socket) {
                    let k = sent_at.len();
                    sent_at.push(Instant::now());
                    ws.send(send_frame(req, "user", &partner, &format!("w {k}")))
                        .await
                        .expect("send");
                    req += 1;
                }
                while rtts.len() < per_socket || got_w < per_socket || acks < 2 * per_socket {
                    let v = next_frame(&mut ws, "writer").await;
                    if v["type"] == "ack" {
                        acks += 1;
                        continue;
                    }
                    if v["type"] != "event" || v["data"]["sender"] != partner.as_str() {
                        continue;
                    }
                    let text = v["data"]["text"].as_str().unwrap_or_default().to_string();
                    if let Some(k) = text.strip_prefix("w ") {
                        assert_eq!(k, got_w.to_string(), "many writers: lost or reordered");
                        got_w += 1;
                        ws.send(send_frame(req, "user", &partner, &format!("e {k}")))
                            .await
                            .expect("echo");
                        req += 1;
                    } else if let Some(k) = text.strip_prefix("e ") {
                        assert_eq!(k, rtts.len().to_string(), "many writers: echo reordered");
                        rtts.push(sent_at[rtts.len()].elapsed());
                        if sent_at.len() < per_socket {
                            let k = sent_at.len();
                            sent_at.push(Instant::now());
                            ws.send(send_frame(req, "user", &partner, &format!("w {k}")))
                                .await
                                .expect("send");
                            req += 1;
                        }
                    }
                }
                (rtts, Instant::now())
            })
        })
        .collect();
    let mut all = Vec::with_capacity(n * per_socket);
    let mut last = start;
    for t in tasks {
        let (rtts, done) = t.await.expect("writer");
        all.extend(rtts);
        last = last.max(done);
    }
    all.sort();
    (
        (2 * n * per_socket) as f64 / (last - start).as_secs_f64(),
        all,
    )
}

/// The scenarios and modes asked for on the command line (all when none is named).
struct Only {
    scenarios: Option<Vec<String>>,
    durability: Option<String>,
}

impl Only {
    fn from_args() -> Self {
        let value =
            |flag: &str| std::env::args().find_map(|a| a.strip_prefix(flag).map(str::to_string));
        Only {
            scenarios: value("--only=").map(|v| v.split(',').map(str::to_string).collect()),
            durability: value("--durability="),
        }
    }

    fn wants(&self, scenario: &str) -> bool {
        self.scenarios
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| x == scenario))
    }

    fn wants_mode(&self, mode: &str) -> bool {
        self.durability.as_deref().is_none_or(|d| d == mode)
    }
}

#[tokio::main]
async fn main() {
    let only = Only::from_args();
    let quick = std::env::args().any(|a| a == "--quick");
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(if quick { 2_000 } else { 10_000 });
    let (members, fan_messages, per_socket) = if quick {
        (1_000, 20, 50)
    } else {
        (1_000, 50, 200)
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let fsyncs = fsync_probe(dir.path(), 500);
    let (fsync_p50, fsync_p99) = (ms(percentile(&fsyncs, 0.5)), ms(percentile(&fsyncs, 0.99)));
    let http = reqwest::Client::new();

    println!("chinwag-server write path, raw WebSocket clients on loopback, SQLite file (WAL)");
    println!(
        "disk (the database's filesystem): 4 KiB append + fdatasync, 500 times: p50 {fsync_p50:.3} ms, p99 {fsync_p99:.3} ms"
    );
    println!(
        "{:<10} {:<52} {:>14}  target",
        "durability", "scenario", "figure"
    );
    let mut out = serde_json::Map::new();
    out.insert(
        "fsync_ms".into(),
        json!({"n": 500, "p50": fsync_p50, "p99": fsync_p99}),
    );
    // SQLite alone, as many messages, in batches like the writer's at 64 in flight.
    let mut floors = serde_json::Map::new();
    for (durability, sync) in [(Durability::Power, "FULL"), (Durability::Process, "NORMAL")] {
        let mode = durability.as_str();
        if !only.wants_mode(mode) {
            continue;
        }
        let shape = |savepoints, random_muids, conversations| sqlite_floor::Shape {
            savepoints,
            random_muids,
            conversations,
        };
        let rows = [
            (
                "1 -> 1, 64 per commit",
                2,
                64,
                n,
                shape(false, false, false),
            ),
            (
                "1 -> 1, + savepoint each",
                2,
                64,
                n,
                shape(true, false, false),
            ),
            (
                "1 -> 1, + conversation rows (the writer's work)",
                2,
                64,
                n,
                shape(true, false, true),
            ),
            (
                "1 -> 1, same, random muids (older SDKs)",
                2,
                64,
                n,
                shape(true, true, true),
            ),
            (
                "to 1,000, 8 per commit, no conversation rows",
                members,
                8,
                fan_messages * 2,
                shape(true, false, false),
            ),
            (
                "to 1,000, 8 per commit (the writer's work)",
                members,
                8,
                fan_messages * 2,
                shape(true, false, true),
            ),
        ];
        for (what, recipients, batch, msgs, shape) in rows {
            if !only.wants("floor") {
                break;
            }
            let f = sqlite_floor::run(dir.path(), sync, msgs, batch, recipients, shape);
            let per_delivery = f.cpu_us_per_msg / recipients.max(2).saturating_sub(1) as f64;
            println!(
                "{mode:<10} {:<52} {:>8.0} msgs/s  CPU {:.1} us/msg, {:.2} us/delivery",
                format!("SQLite alone (floor): {what}"),
                f.msgs_per_s,
                f.cpu_us_per_msg,
                per_delivery
            );
            floors.insert(
                format!("{mode}: {what}"),
                json!({"msgs_per_s": f.msgs_per_s, "cpu_us_per_msg": f.cpu_us_per_msg,
                       "recipients": recipients, "per_commit": batch,
                       "savepoints": shape.savepoints, "random_muids": shape.random_muids,
                       "conversation_rows": shape.conversations}),
            );
        }
    }
    out.insert("sqlite_floor".into(), Value::Object(floors));
    for durability in [Durability::Power, Durability::Process] {
        let mode = durability.as_str();
        if !only.wants_mode(mode) {
            continue;
        }
        let server = server(dir.path(), durability).await;
        let mut figures = serde_json::Map::new();
        for window in [1usize, 64] {
            if !only.wants("one-way") {
                break;
            }
            let (rate, (writer_us, process_us)) = one_way(&server, &http, n, window).await;
            let target = if durability == Durability::Power && window == 64 {
                format!(
                    ">= 50000 msgs/s: {}",
                    if rate >= 50_000.0 { "met" } else { "MISSED" }
                )
            } else {
                "-".into()
            };
            println!(
                "{mode:<10} {:<52} {:>8.0} msgs/s  {target}; CPU/msg: writer {writer_us:.1} us, process {process_us:.1} us",
                format!("one-way, {window} in flight ({n} msgs)"),
                rate
            );
            figures.insert(
                format!("one_way_window_{window}_msgs_per_s"),
                json!({"n": n, "window": window, "msgs_per_s": rate,
                       "cpu_us_per_msg": {"writer": writer_us, "process": process_us}}),
            );
        }
        if only.wants("fan-out") {
            let (rate, (writer_us, process_us)) =
                fan_out(&server, &http, members, fan_messages).await;
            println!(
                "{mode:<10} {:<52} {:>8.0} deliv./s  >= 100000: {}; CPU/delivery: writer {writer_us:.2} us, process {process_us:.2} us",
                format!("fan-out, {members} members x {fan_messages} msgs (64 in flight)"),
                rate,
                if rate >= 100_000.0 { "met" } else { "MISSED" }
            );
            figures.insert(
                "fanout_deliveries_per_s".into(),
                json!({"members": members, "messages": fan_messages, "deliveries_per_s": rate,
                       "cpu_us_per_delivery": {"writer": writer_us, "process": process_us}}),
            );
        }
        if only.wants("many-writers") {
            let (pairs, window) = (50, 4);
            let (rate, rtts) = many_writers(&server, &http, pairs, per_socket, window).await;
            let (p50, p99) = (ms(percentile(&rtts, 0.5)), ms(percentile(&rtts, 0.99)));
            println!(
                "{mode:<10} {:<52} {:>8.0} msgs/s  -",
                format!("many writers, {pairs} pairs x {per_socket} msgs, {window} in flight"),
                rate
            );
            println!(
                "{mode:<10} {:<52} {:>14}  -",
                "many writers, round trip p50 / p99",
                format!("{p50:.2} / {p99:.2} ms")
            );
            figures.insert(
                "many_writers".into(),
                json!({"pairs": pairs, "messages_per_socket": per_socket, "window": window,
                       "persisted_msgs_per_s": rate,
                       "round_trip_ms": {"p50": p50, "p99": p99, "max": ms(percentile(&rtts, 1.0))}}),
            );
        }
        server.shutdown().await;
        out.insert(mode.into(), Value::Object(figures));
    }

    // Added to the SDK bench's JSON (`make bench` runs that first), under `server`; a partial
    // run (profiling one part) leaves the file alone.
    if only.scenarios.is_none() && only.durability.is_none() {
        measure::add_to_results("server", Value::Object(out));
    }
}
