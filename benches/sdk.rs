//! `make bench`: Chinwag's figures against real chinwag-server processes on loopback, each next
//! to a floor (a bare tokio-tungstenite relay A -> relay -> B with the same message size), so
//! every figure is also a ratio. Prints a table and writes JSON to `target/bench/results.json`.
//!
//! First the disk: 4 KiB append + fdatasync, 500 times, in the temp dir that holds the bench
//! databases, so a reader sees what part of a `power` figure is the disk. Then login to
//! CONNECTED and 1,000 idle clients in one process (their CPU and wake-ups over 20 s from
//! `/proc/self/task/*/schedstat` after 12 s to settle, then RSS and threads per client: the
//! idle state, after the logins' REST connections closed). Then the write
//! path, twice: against a server with `--durability power` and against a second one (its own
//! database) with `--durability process`: round trip A -> server -> B -> server -> A, its
//! floor's round trips and a bare protocol client's (tokio-tungstenite speaking the protocol to
//! the same server: the SDK's own cost) interleaved with Chinwag's in ten blocks; one-way
//! throughput A -> B
//! (every message persisted; loss and order checked); group fan-out to 100 and 1,000 members;
//! many writers (100 clients in 50 pairs, each sending to its partner, 4 in flight, the
//! partner echoing each). Each figure with a target in issue 10 gets its target and verdict.
//! Then idle CPU of a connected client over 10 s; server restart to CONNECTED again; server
//! memory per idle socket at 10,000 sockets. Loopback only, bounded in time and count.
//!
//! The scenarios whose path differs between the APIs (login, round trip, one-way throughput,
//! fan-out) run twice: through the Rust API and through the C ABI (`cabi`: the exported
//! `chinwag_*` functions with `extern "C"` callbacks, as a C app calls them); the round trips
//! of both APIs and the floor's alternate in blocks, so that the machine's load falls on all
//! alike. The others run once, through the Rust API.
//!
//! Run: `make bench` (builds the release server and library first), or
//! `cargo bench --bench sdk -- --quick` for smaller counts. For iteration: `--only=` with some
//! of `login,idle,power,process,idlecpu,restart,server,lib` (`rtt`: the `power` round trips
//! only), and `--idle-clients=N`.

// `unsafe` only where the C ABI needs it (in `cabi`), each block with its reason.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

// Under benches/sdk/, not benches/, so that cargo does not take it for a bench of its own.
#[path = "sdk/cabi.rs"]
mod cabi;

#[path = "shared/measure.rs"]
mod measure;
use measure::{fsync_probe, ms, percentile};

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use chinwag::protocol::model::{Message, ReceiverType};
use chinwag::{Client, ConnectionState, Event, InitOptions, ListenerKind, Settings};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const WAIT: Duration = Duration::from_secs(60);
const AUTH: &str = "bench-auth";
const API: &str = "bench-api";

struct Sizes {
    round_trips: usize,
    throughput: usize,
    fanout_messages: usize,
    idle_clients: usize,
    server_sockets: usize,
    /// Messages each many-writers client sends to its partner.
    many_writers: usize,
}

/// Completions of the measured sends (both APIs): every one must succeed, with stored ids
/// increasing in send order. Completions run one at a time on the sender's dispatcher thread.
#[derive(Default)]
struct Sends {
    ok: AtomicUsize,
    failed: AtomicUsize,
    reordered: AtomicUsize,
    last_id: AtomicI64,
    first_error: Mutex<Option<String>>,
}

impl Sends {
    fn record(&self, result: std::result::Result<i64, String>) {
        match result {
            Ok(id) => {
                if self.last_id.swap(id, Ordering::SeqCst) >= id {
                    self.reordered.fetch_add(1, Ordering::SeqCst);
                }
                self.ok.fetch_add(1, Ordering::SeqCst);
            }
            Err(e) => {
                if let Ok(mut first) = self.first_error.lock() {
                    first.get_or_insert(e);
                }
                self.failed.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    /// A Rust completion that records into `sends`.
    fn completion(sends: &Arc<Sends>) -> Option<chinwag::completion::Callback<Message>> {
        let sends = sends.clone();
        Some(Box::new(move |r: chinwag::Result<Message>| {
            sends.record(r.map(|m| m.id).map_err(|e| e.to_string()))
        }))
    }

    /// Waits (bounded) until `n` sends completed; panics unless all succeeded in order.
    fn expect_all(&self, n: usize, what: &str) {
        let deadline = Instant::now() + WAIT;
        while self.ok.load(Ordering::SeqCst) + self.failed.load(Ordering::SeqCst) < n
            && Instant::now() < deadline
        {
            std::thread::park_timeout(Duration::from_millis(5));
        }
        let (ok, failed) = (
            self.ok.load(Ordering::SeqCst),
            self.failed.load(Ordering::SeqCst),
        );
        let first = self
            .first_error
            .lock()
            .map(|e| e.clone())
            .unwrap_or_default();
        assert!(
            ok == n && failed == 0,
            "{what}: {ok} of {n} sends completed OK, {failed} failed (first: {first:?})"
        );
        assert_eq!(
            self.reordered.load(Ordering::SeqCst),
            0,
            "{what}: stored ids out of send order"
        );
    }
}

fn proc_status(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Per thread of this process: CPU time run (ns) and times put on a CPU (wake-ups, plus
/// preemptions), from `/proc/self/task/<tid>/schedstat`.
fn sched_by_thread() -> std::collections::HashMap<String, (u64, u64)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Default::default();
    };
    tasks
        .filter_map(|t| t.ok())
        .filter_map(|t| {
            let s = std::fs::read_to_string(t.path().join("schedstat")).ok()?;
            let f: Vec<u64> = s
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            Some((
                t.file_name().to_string_lossy().into_owned(),
                (f.first().copied()?, f.get(2).copied()?),
            ))
        })
        .collect()
}

/// Idle means settled: after the stable mark (10 s CONNECTED), the login's REST connection
/// closed (5-10 s) and its save thread gone (10 s idle in the blocking pool). Each of those
/// wakes a client once after its login, not while it idles.
const SETTLE: Duration = Duration::from_secs(12);

/// Idle cost over `window` while the process does nothing but hold its clients: (CPU ms
/// run, wake-ups), summed over the threads alive at the end (what a thread that exited
/// meanwhile, such as an idle blocking-pool thread, ran in the window is not counted).
fn idle_cost(window: Duration) -> (f64, u64) {
    let before = sched_by_thread();
    let (_never_tx, never_rx) = mpsc::channel::<()>();
    let _ = never_rx.recv_timeout(window);
    let (run, woke) = sched_by_thread()
        .into_iter()
        .map(|(tid, (run, woke))| {
            let (run0, woke0) = before.get(&tid).copied().unwrap_or((0, 0));
            (run.saturating_sub(run0), woke.saturating_sub(woke0))
        })
        .fold((0, 0), |(a, b), (c, d)| (a + c, b + d));
    (run as f64 / 1e6, woke)
}

fn target_dir() -> std::path::PathBuf {
    // The bench binary lives in target/release/deps.
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().and_then(|d| d.parent()).map(|d| d.to_path_buf()))
        .unwrap_or_else(|| std::path::PathBuf::from("target/release"))
}

/// chinwag-server as a child process, so its memory is its own.
struct ServerProc {
    child: Child,
    url: String,
    port: u16,
    db: std::path::PathBuf,
    durability: &'static str,
}

impl ServerProc {
    /// `durability`: `power` or `process` (the server's `--durability`).
    fn spawn(db: &std::path::Path, port: u16, durability: &'static str) -> ServerProc {
        let bin = target_dir().join("chinwag-server");
        let mut child = Command::new(&bin)
            .args(["--listen", &format!("127.0.0.1:{port}"), "--db"])
            .arg(db)
            .args(["--durability", durability])
            .args([
                "--auth-key",
                AUTH,
                "--api-key",
                API,
                "--login-per-minute",
                "1000000",
                // 10,000 sockets from 127.0.0.1, several per user.
                "--max-connections",
                "100000",
                "--max-connections-per-ip",
                "100000",
                "--upgrades-per-ip",
                "1000000",
                "--max-sockets-per-user",
                "100000",
                // Throughput runs send far more than a chat user would.
                "--send-limit",
                "1000000000",
                // The 1,000-member fan-out group has its owner too.
                "--max-group-members",
                "100000",
                "--log",
                "warn",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} ({e}); run `make bench`", bin.display()));
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        reader
            .read_line(&mut line)
            .expect("server prints its address");
        // Keep draining so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in reader.lines() {});
        let url = line
            .split("listening on ")
            .nth(1)
            .expect("address line")
            .trim()
            .to_string();
        let port = url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port");
        ServerProc {
            child,
            url,
            port,
            db: db.to_path_buf(),
            durability,
        }
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill").args(["-TERM", &self.pid()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::park_timeout(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Rest {
    rt: Arc<tokio::runtime::Runtime>,
    http: reqwest::Client,
    url: String,
}

impl Rest {
    fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        self.rt.block_on(async {
            let r = self
                .http
                .request(method, format!("{}{path}", self.url))
                .header("x-api-key", API)
                .header("x-auth-key", AUTH)
                .json(&body)
                .send()
                .await
                .expect("rest");
            r.json::<Value>().await.unwrap_or(Value::Null)
        })
    }

    fn users(&self, prefix: &str, n: usize) {
        for i in 0..n {
            self.call(
                reqwest::Method::POST,
                "/v1/users",
                json!({"uid": format!("{prefix}{i}"), "name": format!("{prefix}{i}")}),
            );
        }
    }

    fn token(&self, uid: &str) -> String {
        self.call(
            reqwest::Method::POST,
            &format!("/v1/users/{uid}/tokens"),
            json!({}),
        )["token"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

fn client(url: &str) -> Arc<Client> {
    let mut s = Settings::new(url);
    s.queue_capacity = 100_000;
    Arc::new(Client::init("chinwag-app", s, InitOptions::default()).expect("init"))
}

/// Logs in and waits for CONNECTED; returns the time it took.
fn login(c: &Client, uid: &str) -> Duration {
    let (tx, rx) = mpsc::channel();
    c.add_listener(
        ListenerKind::Connection,
        "bench-login",
        Box::new(move |e: &Event| {
            if let Event::State(s) = e {
                if s.current == ConnectionState::Connected {
                    let _ = tx.send(Instant::now());
                }
            }
        }),
    )
    .expect("listener");
    let start = Instant::now();
    c.login(uid, AUTH, None).expect("login");
    let at = rx.recv_timeout(WAIT).expect("connected");
    c.remove_listener(ListenerKind::Connection, "bench-login");
    at - start
}

// ----- the floor: a bare relay --------------------------------------------------------------

/// A WebSocket relay: the first socket is A, the second B; frames from one go to the other.
async fn floor_relay() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut sockets = Vec::new();
        while sockets.len() < 2 {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let _ = tcp.set_nodelay(true);
            if let Ok(ws) =
                tokio_tungstenite::accept_async_with_config(tcp, Some(measure::ws_config())).await
            {
                sockets.push(ws);
            }
        }
        let b = sockets.pop().expect("b");
        let a = sockets.pop().expect("a");
        let (mut a_tx, mut a_rx) = a.split();
        let (mut b_tx, mut b_rx) = b.split();
        tokio::spawn(async move {
            while let Some(Ok(m)) = a_rx.next().await {
                if b_tx.send(m).await.is_err() {
                    break;
                }
            }
        });
        while let Some(Ok(m)) = b_rx.next().await {
            if a_tx.send(m).await.is_err() {
                break;
            }
        }
    });
    addr
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn floor_pair() -> (Ws, Ws) {
    let addr = floor_relay().await;
    let (a, _) = tokio_tungstenite::connect_async_with_config(
        format!("ws://{addr}/"),
        Some(measure::ws_config()),
        false,
    )
    .await
    .expect("a");
    let (b, _) = tokio_tungstenite::connect_async_with_config(
        format!("ws://{addr}/"),
        Some(measure::ws_config()),
        false,
    )
    .await
    .expect("b");
    (a, b)
}

/// The same JSON a chat message frame carries, so both sides move the same bytes.
fn payload(i: usize) -> String {
    json!({"type": "send", "req": format!("s{i}"), "message": {"receiver_type": "user", "receiver": "bob", "text": format!("message number {i}"), "muid": format!("{:032x}", i)}}).to_string()
}

/// The floor's round trip A -> relay -> B -> relay -> A, one at a time; `once` runs on the
/// calling thread (the relay on the runtime's worker), so it can alternate with Chinwag's.
struct FloorRoundTrip {
    rt: Arc<tokio::runtime::Runtime>,
    a: Ws,
    b: Ws,
    next: usize,
}

impl FloorRoundTrip {
    fn new(rt: &Arc<tokio::runtime::Runtime>) -> FloorRoundTrip {
        let (a, b) = rt.block_on(floor_pair());
        FloorRoundTrip {
            rt: rt.clone(),
            a,
            b,
            next: 0,
        }
    }

    fn once(&mut self) -> Duration {
        let frame = payload(self.next);
        self.next += 1;
        let (a, b) = (&mut self.a, &mut self.b);
        self.rt.block_on(async {
            let start = Instant::now();
            a.send(WsMessage::Text(frame.into())).await.expect("send");
            let m = b.next().await.expect("b gets").expect("ok");
            b.send(m).await.expect("echo");
            a.next().await.expect("a gets").expect("ok");
            start.elapsed()
        })
    }
}

/// A socket of the bare protocol client: tokio-tungstenite straight to chinwag-server's
/// `/v1/ws`, after the server's accept and replay.
async fn bare_socket(ws_url: &str, token: &str) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(
        format!("{ws_url}/v1/ws?token={token}"),
        Some(measure::ws_config()),
        false,
    )
    .await
    .expect("bare socket");
    while let Some(Ok(m)) = ws.next().await {
        if m.to_text().is_ok_and(|t| t.contains("replay_done")) {
            break;
        }
    }
    ws
}

/// Reads frames until a message event; returns its text (acks and other frames are skipped,
/// pings are answered by tokio-tungstenite).
async fn bare_next_message(ws: &mut Ws) -> String {
    loop {
        let m = ws.next().await.expect("bare socket open").expect("frame");
        let WsMessage::Text(text) = m else { continue };
        if let Ok(chinwag::protocol::ServerFrame::Event(ef)) = serde_json::from_str(&text) {
            if let chinwag::protocol::Event::Message(m) = ef.event {
                return m.text.unwrap_or_default();
            }
        }
    }
}

/// The SDK's round trip without the SDK: a bare tokio-tungstenite client speaking the protocol
/// directly (send frames out, event frames parsed with serde in), A -> server -> B -> server
/// -> A through the same chinwag-server, one at a time. What the SDK adds over it is the SDK's
/// own cost.
struct BareRoundTrip {
    rt: Arc<tokio::runtime::Runtime>,
    a: Ws,
    b: Ws,
    names: (String, String),
    /// Makes muids unique across bench runs on one database.
    nonce: u64,
    next: usize,
}

impl BareRoundTrip {
    fn new(rest: &Rest, a: &str, b: &str) -> BareRoundTrip {
        let ws_url = rest.url.replace("http://", "ws://");
        let (ta, tb) = (rest.token(a), rest.token(b));
        let (a_ws, b_ws) = rest.rt.block_on(async {
            (
                bare_socket(&ws_url, &ta).await,
                bare_socket(&ws_url, &tb).await,
            )
        });
        BareRoundTrip {
            rt: rest.rt.clone(),
            a: a_ws,
            b: b_ws,
            names: (a.to_string(), b.to_string()),
            nonce: rand_nonce(),
            next: 0,
        }
    }

    fn frame(&mut self, to: &str, text: &str) -> String {
        self.next += 1;
        json!({"type": "send", "req": format!("s{}", self.next), "message": {"receiver_type": "user",
               "receiver": to, "text": text, "muid": format!("{:016x}{:016x}", self.nonce, self.next)}})
        .to_string()
    }

    fn once(&mut self) -> Duration {
        let text = format!("message number {}", self.next);
        let to_b = self.frame(&self.names.1.clone(), &text);
        let to_a = self.frame(&self.names.0.clone(), &text);
        let (a, b) = (&mut self.a, &mut self.b);
        self.rt.block_on(async {
            let start = Instant::now();
            a.send(WsMessage::Text(to_b.into())).await.expect("send");
            let got = bare_next_message(b).await;
            assert_eq!(got, text, "bare: B gets A's message");
            b.send(WsMessage::Text(to_a.into())).await.expect("echo");
            let back = bare_next_message(a).await;
            assert_eq!(back, text, "bare: echoes arrive in order");
            start.elapsed()
        })
    }
}

fn rand_nonce() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
        ^ u64::from(std::process::id())
}

async fn floor_throughput(n: usize) -> f64 {
    let (mut a, mut b) = floor_pair().await;
    let start = Instant::now();
    let sender = tokio::spawn(async move {
        for i in 0..n {
            a.send(WsMessage::Text(payload(i).into()))
                .await
                .expect("send");
        }
        a
    });
    for i in 0..n {
        let m = b.next().await.expect("frame").expect("ok");
        assert_eq!(
            m.into_text().expect("text").as_str(),
            payload(i),
            "floor lost or reordered"
        );
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    let _ = sender.await;
    rate
}

// ----- Chinwag scenarios --------------------------------------------------------------------

/// A -> server -> B's callback -> server -> A's callback through the Rust API, one at a time.
struct RoundTrip {
    alice: Arc<Client>,
    _bob: Arc<Client>,
    peer: String,
    rx: mpsc::Receiver<(String, Instant)>,
    sends: Arc<Sends>,
    next: usize,
}

impl RoundTrip {
    /// `a` sends to `b`, whose listener echoes each text back to `a`.
    fn new(url: &str, a: &str, b: &str) -> RoundTrip {
        let alice = client(url);
        let bob = client(url);
        login(&alice, a);
        login(&bob, b);
        let bob_weak: Weak<Client> = Arc::downgrade(&bob);
        let back = a.to_string();
        bob.add_listener(
            ListenerKind::Message,
            "echo",
            Box::new(move |e: &Event| {
                if let (Event::Message(m), Some(b)) = (e, bob_weak.upgrade()) {
                    if let Some(text) = &m.text {
                        let _ = b.send_text(ReceiverType::User, &back, text, None);
                    }
                }
            }),
        )
        .expect("listener");
        let (tx, rx) = mpsc::channel::<(String, Instant)>();
        alice
            .add_listener(
                ListenerKind::Message,
                "rtt",
                Box::new(move |e: &Event| {
                    if let Event::Message(m) = e {
                        let _ = tx.send((m.text.clone().unwrap_or_default(), Instant::now()));
                    }
                }),
            )
            .expect("listener");
        RoundTrip {
            alice,
            _bob: bob,
            peer: b.to_string(),
            rx,
            sends: Arc::new(Sends::default()),
            next: 0,
        }
    }

    fn once(&mut self) -> Duration {
        let text = format!("message number {}", self.next);
        self.next += 1;
        let start = Instant::now();
        self.alice
            .send_text(
                ReceiverType::User,
                &self.peer,
                &text,
                Sends::completion(&self.sends),
            )
            .expect("send");
        let (echo, at) = self.rx.recv_timeout(WAIT).expect("echo");
        assert_eq!(echo, text, "echoes arrive in order");
        at - start
    }

    fn finish(self) {
        self.sends.expect_all(self.next, "round trip");
    }
}

/// Round trips, sorted: through the Rust API, the C ABI, the floor (a bare relay) and the bare
/// protocol client (the same server, no SDK).
struct RoundTrips {
    rust: Vec<Duration>,
    c_abi: Vec<Duration>,
    floor: Vec<Duration>,
    bare: Vec<Duration>,
}

/// Round trips through both APIs, the bare protocol client's and the floor's, interleaved so
/// that a change in the machine's load falls on all four alike: `warmup` of each (not
/// counted), then ten alternating blocks, `n` of each in all.
fn round_trips(url: &str, rest: &Rest, n: usize, warmup: usize) -> RoundTrips {
    let mut rust = RoundTrip::new(url, "alice", "bob");
    let mut c = cabi::RoundTrip::new(url, "calice", "cbob");
    let mut floor = FloorRoundTrip::new(&rest.rt);
    let mut bare = BareRoundTrip::new(rest, "balice", "bbob");
    for _ in 0..warmup {
        rust.once();
        c.once();
        floor.once();
        bare.once();
    }
    let mut out = RoundTrips {
        rust: Vec::with_capacity(n),
        c_abi: Vec::with_capacity(n),
        floor: Vec::with_capacity(n),
        bare: Vec::with_capacity(n),
    };
    let blocks = 10;
    for b in 0..blocks {
        let size = n / blocks + usize::from(b < n % blocks);
        out.rust.extend((0..size).map(|_| rust.once()));
        out.c_abi.extend((0..size).map(|_| c.once()));
        out.floor.extend((0..size).map(|_| floor.once()));
        out.bare.extend((0..size).map(|_| bare.once()));
    }
    rust.finish();
    c.finish();
    RoundTrips {
        rust: sorted(out.rust),
        c_abi: sorted(out.c_abi),
        floor: sorted(out.floor),
        bare: sorted(out.bare),
    }
}

fn throughput(url: &str, n: usize) -> f64 {
    let alice = client(url);
    let bob = client(url);
    login(&alice, "alice");
    login(&bob, "bob");
    let (tx, rx) = mpsc::channel::<Instant>();
    let next = Arc::new(AtomicUsize::new(0));
    let seen = next.clone();
    bob.add_listener(
        ListenerKind::Message,
        "count",
        Box::new(move |e: &Event| {
            if let Event::Message(m) = e {
                if m.text.as_deref().is_some_and(|t| t.starts_with("tp ")) {
                    let i = seen.load(Ordering::SeqCst);
                    assert_eq!(
                        m.text.as_deref(),
                        Some(format!("tp {i}").as_str()),
                        "lost, duplicated or reordered"
                    );
                    seen.store(i + 1, Ordering::SeqCst);
                    if i + 1 == n {
                        let _ = tx.send(Instant::now());
                    }
                }
            }
        }),
    )
    .expect("listener");
    let sends = Arc::new(Sends::default());
    let start = Instant::now();
    for i in 0..n {
        alice
            .send_text(
                ReceiverType::User,
                "bob",
                &format!("tp {i}"),
                Sends::completion(&sends),
            )
            .expect("send");
    }
    let done = rx
        .recv_timeout(Duration::from_secs(600))
        .expect("all delivered");
    sends.expect_all(n, "one-way");
    n as f64 / (done - start).as_secs_f64()
}

fn fanout(url: &str, rest: &Rest, members: usize, messages: usize) -> (f64, u64) {
    let guid = format!("fan{members}");
    rest.users(&format!("m{members}-"), members);
    let owner = client(url);
    login(&owner, "alice");
    let (tx, rx) = mpsc::channel();
    owner
        .create_group(
            &guid,
            "fan-out",
            Default::default(),
            Some(Box::new(move |r| {
                let _ = tx.send(r.is_ok());
            })),
        )
        .expect("create group");
    assert!(rx.recv_timeout(WAIT).expect("created"));
    for chunk in (0..members).collect::<Vec<_>>().chunks(100) {
        let list: Vec<Value> = chunk
            .iter()
            .map(|i| json!({"uid": format!("m{members}-{i}")}))
            .collect();
        let token = rest.token("alice");
        rest.rt.block_on(async {
            rest.http
                .post(format!("{}/v1/groups/{guid}/members", rest.url))
                .bearer_auth(token)
                .json(&json!({"members": list}))
                .send()
                .await
                .expect("add members");
        });
    }
    let delivered = Arc::new(AtomicU64::new(0));
    let total = (members * messages) as u64;
    let (done_tx, done_rx) = mpsc::channel::<Instant>();
    let done_tx = Arc::new(Mutex::new(done_tx));
    let mut clients = Vec::with_capacity(members);
    for i in 0..members {
        let c = client(url);
        let (d, dt) = (delivered.clone(), done_tx.clone());
        c.add_listener(
            ListenerKind::Message,
            "fan",
            Box::new(move |e: &Event| {
                if matches!(e, Event::Message(m) if m.receiver_type == ReceiverType::Group)
                    && d.fetch_add(1, Ordering::SeqCst) + 1 == total
                {
                    let _ = dt.lock().map(|t| t.send(Instant::now()));
                }
            }),
        )
        .expect("listener");
        login(&c, &format!("m{members}-{i}"));
        clients.push(c);
    }
    let start = Instant::now();
    for i in 0..messages {
        owner
            .send_text(ReceiverType::Group, &guid, &format!("fan {i}"), None)
            .expect("send");
    }
    let end = done_rx
        .recv_timeout(Duration::from_secs(600))
        .expect("all deliveries");
    let rate = total as f64 / (end - start).as_secs_f64();
    (rate, total)
}

/// One client of the many-writers scenario: sends `w N` to its partner, echoes the partner's
/// `w N` back as `e N`, and times each of its own from send to the echo's arrival.
struct Writer {
    partner: String,
    /// Send time of `w N`, by N.
    sent_at: Mutex<Vec<Option<Instant>>>,
    rtts: Mutex<Vec<Duration>>,
    next: AtomicUsize,
    got_w: AtomicUsize,
    got_e: AtomicUsize,
    sends: Arc<Sends>,
}

impl Writer {
    /// Sends `w N` for the next N, unless all `per_client` are sent.
    fn send_next(&self, client: &Client, per_client: usize) {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        if n >= per_client {
            return;
        }
        if let Ok(mut at) = self.sent_at.lock() {
            at[n] = Some(Instant::now());
        }
        client
            .send_text(
                ReceiverType::User,
                &self.partner,
                &format!("w {n}"),
                Sends::completion(&self.sends),
            )
            .expect("send");
    }
}

/// Many writers: `pairs` pairs of clients, every client sending `per_client` messages to its
/// partner at once, `window` in flight each (the next goes when an echo comes back); the partner
/// echoes each. Returns (every persisted message (sends and echoes) / s, round trips sorted).
fn many_writers(
    url: &str,
    rest: &Rest,
    pairs: usize,
    per_client: usize,
    window: usize,
) -> (f64, Vec<Duration>) {
    let n = pairs * 2;
    rest.users("mw-", n);
    let total_echoes = n * per_client;
    let echoes = Arc::new(AtomicUsize::new(0));
    let (done_tx, done_rx) = mpsc::channel::<Instant>();
    let done_tx = Arc::new(Mutex::new(done_tx));
    let mut clients = Vec::with_capacity(n);
    for i in 0..n {
        let c = client(url);
        let w = Arc::new(Writer {
            partner: format!("mw-{}", i ^ 1),
            sent_at: Mutex::new(vec![None; per_client]),
            rtts: Mutex::new(Vec::with_capacity(per_client)),
            next: AtomicUsize::new(0),
            got_w: AtomicUsize::new(0),
            got_e: AtomicUsize::new(0),
            sends: Arc::new(Sends::default()),
        });
        let (me, state, echoes, done) = (
            Arc::downgrade(&c),
            w.clone(),
            echoes.clone(),
            done_tx.clone(),
        );
        c.add_listener(
            ListenerKind::Message,
            "mw",
            Box::new(move |e: &Event| {
                let (Event::Message(m), Some(c)) = (e, me.upgrade()) else {
                    return;
                };
                let Some(text) = m.text.as_deref() else {
                    return;
                };
                if let Some(k) = text.strip_prefix("w ") {
                    state.got_w.fetch_add(1, Ordering::SeqCst);
                    let _ = c.send_text(
                        ReceiverType::User,
                        &state.partner,
                        &format!("e {k}"),
                        Sends::completion(&state.sends),
                    );
                } else if let Some(k) = text.strip_prefix("e ") {
                    let now = Instant::now();
                    let sent = k.parse::<usize>().ok().and_then(|k| {
                        state
                            .sent_at
                            .lock()
                            .ok()
                            .and_then(|at| at.get(k).copied().flatten())
                    });
                    if let (Some(sent), Ok(mut rtts)) = (sent, state.rtts.lock()) {
                        rtts.push(now - sent);
                    }
                    state.got_e.fetch_add(1, Ordering::SeqCst);
                    state.send_next(&c, per_client);
                    if echoes.fetch_add(1, Ordering::SeqCst) + 1 == total_echoes {
                        let _ = done.lock().map(|t| t.send(now));
                    }
                }
            }),
        )
        .expect("listener");
        login(&c, &format!("mw-{i}"));
        clients.push((c, w));
    }
    let start = Instant::now();
    for _ in 0..window {
        for (c, w) in &clients {
            w.send_next(c, per_client);
        }
    }
    let done = done_rx
        .recv_timeout(Duration::from_secs(600))
        .expect("every echo back");
    let mut rtts = Vec::with_capacity(total_echoes);
    for (_, w) in &clients {
        // Each client sent its own and echoed its partner's.
        w.sends.expect_all(2 * per_client, "many writers");
        assert_eq!(
            w.got_w.load(Ordering::SeqCst),
            per_client,
            "many writers: w lost or duplicated"
        );
        assert_eq!(
            w.got_e.load(Ordering::SeqCst),
            per_client,
            "many writers: echo lost or duplicated"
        );
        rtts.extend(w.rtts.lock().map(|r| r.clone()).unwrap_or_default());
    }
    assert_eq!(
        rtts.len(),
        total_echoes,
        "many writers: a round trip not timed"
    );
    drop(clients);
    let rate = (2 * total_echoes) as f64 / (done - start).as_secs_f64();
    (rate, sorted(rtts))
}

/// One line of the table: the floor (when the bench has one), the figure through each API
/// (with its ratio to the floor), C ABI / Rust API, and the target with its verdict.
struct Row {
    scenario: String,
    floor: String,
    rust: String,
    c_abi: String,
    c_vs_rust: String,
    target: String,
}

impl Row {
    /// A figure that does not depend on the API (measured once, through the Rust API).
    fn single(scenario: String, figure: String) -> Row {
        Row {
            scenario,
            floor: "-".into(),
            rust: figure,
            c_abi: "same".into(),
            c_vs_rust: "-".into(),
            target: "-".into(),
        }
    }
}

/// Checks a target against the Rust (and C ABI) figure; records it in `targets` (JSON) and
/// returns the table's text, e.g. "<= 0.400 ms: met".
fn check_target(
    targets: &mut Vec<Value>,
    scenario: &str,
    want: String,
    rust: f64,
    c_abi: Option<f64>,
    ok: impl Fn(f64) -> bool,
) -> String {
    let (r_ok, c_ok) = (ok(rust), c_abi.map(&ok));
    let verdict = match c_ok {
        None | Some(true) if r_ok => "met".to_string(),
        None | Some(false) if !r_ok => "MISSED".to_string(),
        _ => format!(
            "Rust {}, C {}",
            if r_ok { "met" } else { "MISSED" },
            if r_ok { "MISSED" } else { "met" }
        ),
    };
    targets.push(
        json!({"scenario": scenario, "target": want, "rust": rust, "c_abi": c_abi,
                        "met": r_ok && c_ok.unwrap_or(true)}),
    );
    format!("{want}: {verdict}")
}

fn c_vs_rust(c: f64, rust: f64) -> String {
    format!("{:.2}", c / rust.max(1e-12))
}

fn sorted(mut v: Vec<Duration>) -> Vec<Duration> {
    v.sort();
    v
}

fn latencies(sorted: &[Duration]) -> Value {
    json!({"p50": ms(percentile(sorted, 0.5)), "p90": ms(percentile(sorted, 0.9)),
           "p99": ms(percentile(sorted, 0.99)), "max": ms(percentile(sorted, 1.0))})
}

/// The 1, 5 and 15 minute load averages: other work on the machine shows here.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The write-path scenarios against one server (one durability mode): round trips interleaved
/// with the floor's, one-way throughput, fan-out, many writers. Adds rows; returns the JSON.
fn write_path(
    server: &ServerProc,
    rest: &Rest,
    sizes: &Sizes,
    fsync_p50: f64,
    rows: &mut Vec<Row>,
    targets: &mut Vec<Value>,
    round_trips_only: bool,
) -> Value {
    let mode = server.durability;
    let url = server.url.clone();
    let mut out = serde_json::Map::new();

    // Round trips through each API, interleaved in blocks with the floor's.
    let warmup = 200;
    let all = round_trips(&url, rest, sizes.round_trips, warmup);
    let (rtts, c_rtts, floor_rtts, bare_rtts) = (all.rust, all.c_abi, all.floor, all.bare);
    let floor_p50 = ms(percentile(&floor_rtts, 0.5));
    let floor_p99 = ms(percentile(&floor_rtts, 0.99));
    for (label, p) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)] {
        let (r, c, f) = (
            ms(percentile(&rtts, p)),
            ms(percentile(&c_rtts, p)),
            ms(percentile(&floor_rtts, p)),
        );
        let scenario = format!("[{mode}] round trip A->B->A {label}");
        let target = match (label, mode) {
            ("p50", "power") => {
                let limit = 3.0 * floor_p50 + 2.0 * fsync_p50;
                check_target(
                    targets,
                    &scenario,
                    format!("<= 3x floor + 2 fsync = {limit:.3} ms"),
                    r,
                    Some(c),
                    |v| v <= limit,
                )
            }
            ("p50", _) => {
                let limit = 4.0 * floor_p50;
                check_target(
                    targets,
                    &scenario,
                    format!("<= 4x floor = {limit:.3} ms"),
                    r,
                    Some(c),
                    |v| v <= limit,
                )
            }
            ("p99", _) => {
                let limit = 10.0 * floor_p99;
                check_target(
                    targets,
                    &scenario,
                    format!("<= 10x floor p99 = {limit:.3} ms"),
                    r,
                    Some(c),
                    |v| v <= limit,
                )
            }
            _ => "-".into(),
        };
        rows.push(Row {
            scenario,
            floor: format!("{f:.3} ms"),
            rust: format!("{r:.3} ms ({:.1}x)", r / f.max(1e-9)),
            c_abi: format!("{c:.3} ms ({:.1}x)", c / f.max(1e-9)),
            c_vs_rust: c_vs_rust(c, r),
            target,
        });
    }
    // The SDK's own cost: the same round trip by the bare protocol client, same server.
    let bare_p50 = ms(percentile(&bare_rtts, 0.5));
    let (r50, c50) = (ms(percentile(&rtts, 0.5)), ms(percentile(&c_rtts, 0.5)));
    let scenario = format!("[{mode}] round trip p50, SDK / bare protocol client");
    let target = check_target(
        targets,
        &scenario,
        "<= 1.25x bare".into(),
        r50 / bare_p50,
        Some(c50 / bare_p50),
        |v| v <= 1.25,
    );
    rows.push(Row {
        scenario,
        floor: format!("bare {bare_p50:.3} ms"),
        rust: format!(
            "{:.2}x ({:+.0} us)",
            r50 / bare_p50,
            (r50 - bare_p50) * 1000.0
        ),
        c_abi: format!(
            "{:.2}x ({:+.0} us)",
            c50 / bare_p50,
            (c50 - bare_p50) * 1000.0
        ),
        c_vs_rust: c_vs_rust(c50, r50),
        target,
    });
    out.insert(
        "round_trip_ms".into(),
        json!({"n": sizes.round_trips, "warmup": warmup, "interleaved_blocks": 10,
               "rust": latencies(&rtts), "c_abi": latencies(&c_rtts), "floor": latencies(&floor_rtts),
               "bare_protocol_client": latencies(&bare_rtts),
               "sdk_vs_bare_p50": {"rust": r50 / bare_p50, "c_abi": c50 / bare_p50,
                                   "rust_extra_us": (r50 - bare_p50) * 1000.0,
                                   "c_abi_extra_us": (c50 - bare_p50) * 1000.0}}),
    );

    if round_trips_only {
        return Value::Object(out);
    }

    // One-way throughput; the floor's right after, under the same load.
    let rate = throughput(&url, sizes.throughput);
    let c_rate = cabi::throughput(&url, sizes.throughput);
    let floor_rate = rest.rt.block_on(floor_throughput(sizes.throughput));
    let scenario = format!("[{mode}] one-way A->B persisted ({})", sizes.throughput);
    let target = check_target(
        targets,
        &scenario,
        ">= 0.25x floor".into(),
        rate / floor_rate,
        Some(c_rate / floor_rate),
        |v| v >= 0.25,
    );
    rows.push(Row {
        scenario,
        floor: format!("{floor_rate:.0} msgs/s"),
        rust: format!("{rate:.0}/s ({:.3}x)", rate / floor_rate),
        c_abi: format!("{c_rate:.0}/s ({:.3}x)", c_rate / floor_rate),
        c_vs_rust: c_vs_rust(c_rate, rate),
        target,
    });
    out.insert(
        "throughput_msgs_per_s".into(),
        json!({"n": sizes.throughput, "rust": rate, "c_abi": c_rate, "floor": floor_rate,
               "rust_vs_floor": rate / floor_rate, "c_abi_vs_floor": c_rate / floor_rate}),
    );

    // Group fan-out (the C variant reuses the members the Rust one created).
    // (Quick mode has 100 idle clients: one group size, not the same group twice.)
    let mut group_sizes = vec![100usize, sizes.idle_clients.max(100)];
    group_sizes.dedup();
    for members in group_sizes {
        let (rate, total) = fanout(&url, rest, members, sizes.fanout_messages);
        let (c_rate, _) = cabi::fanout(&url, members, sizes.fanout_messages);
        let scenario = format!("[{mode}] fan-out, {members} members ({total} deliv.)");
        let want = if members >= 1000 { 100_000.0 } else { 50_000.0 };
        let target = check_target(
            targets,
            &scenario,
            format!(">= {want:.0}/s"),
            rate,
            Some(c_rate),
            |v| v >= want,
        );
        rows.push(Row {
            scenario,
            floor: "-".into(),
            rust: format!("{rate:.0} deliv./s"),
            c_abi: format!("{c_rate:.0} deliv./s"),
            c_vs_rust: c_vs_rust(c_rate, rate),
            target,
        });
        out.insert(
            format!("fanout_{members}_deliveries_per_s"),
            json!({"members": members, "messages": sizes.fanout_messages, "deliveries": total,
                   "rust": rate, "c_abi": c_rate}),
        );
    }

    // Many writers: 50 pairs at once, through the Rust API.
    let (pairs, window) = (50, 4);
    let (rate, mw_rtts) = many_writers(&url, rest, pairs, sizes.many_writers, window);
    let (p50, p99) = (
        ms(percentile(&mw_rtts, 0.5)),
        ms(percentile(&mw_rtts, 0.99)),
    );
    rows.push(Row {
        scenario: format!(
            "[{mode}] many writers, {} x {} msgs, {window} in flight",
            pairs * 2,
            sizes.many_writers
        ),
        floor: "-".into(),
        rust: format!("{rate:.0} msgs/s"),
        c_abi: "(Rust only)".into(),
        c_vs_rust: "-".into(),
        target: "- (sends + echoes persisted/s)".into(),
    });
    rows.push(Row {
        scenario: format!("[{mode}] many writers, round trip p50 / p99"),
        floor: format!("{floor_p50:.2} / {floor_p99:.2} ms"),
        rust: format!("{p50:.2} / {p99:.2} ms"),
        c_abi: "(Rust only)".into(),
        c_vs_rust: "-".into(),
        target: "- (floor: unloaded, 1 in flight)".into(),
    });
    out.insert(
        "many_writers".into(),
        json!({"clients": pairs * 2, "pairs": pairs, "messages_per_client": sizes.many_writers,
               "window": window, "persisted_msgs_per_s": rate,
               "round_trip_ms": latencies(&mw_rtts)}),
    );
    Value::Object(out)
}

fn main() {
    let began = Instant::now();
    let load_at_start = loadavg();
    let quick = std::env::args().any(|a| a == "--quick");
    // `--only=login,idle,rtt,power,process,idlecpu,restart,server,lib`: just those sections.
    let only: Option<Vec<String>> = std::env::args().find_map(|a| {
        a.strip_prefix("--only=")
            .map(|v| v.split(',').map(String::from).collect())
    });
    let want = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name));
    // `--idle-clients=N`: how many idle clients the idle section holds.
    let idle_override: Option<usize> = std::env::args().find_map(|a| {
        a.strip_prefix("--idle-clients=")
            .and_then(|v| v.parse().ok())
    });
    let mut sizes = if quick {
        Sizes {
            round_trips: 500,
            throughput: 1000,
            fanout_messages: 5,
            idle_clients: 100,
            server_sockets: 1000,
            many_writers: 50,
        }
    } else {
        Sizes {
            round_trips: 10_000,
            throughput: 5_000,
            fanout_messages: 20,
            idle_clients: 1_000,
            server_sockets: 10_000,
            many_writers: 200,
        }
    };
    if let Some(n) = idle_override {
        sizes.idle_clients = n;
    }
    // The idle window covers one server ping (20 s) per client in the full run.
    let idle_window = Duration::from_secs(if quick { 10 } else { 20 });
    let dir = tempfile::tempdir().expect("tempdir");
    let mut results = serde_json::Map::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut targets: Vec<Value> = Vec::new();

    // 0. The disk, on the bench database's filesystem.
    let fsyncs = fsync_probe(dir.path(), 500);
    let (fsync_p50, fsync_p99) = (ms(percentile(&fsyncs, 0.5)), ms(percentile(&fsyncs, 0.99)));
    results.insert(
        "fsync_ms".into(),
        json!({"n": 500, "write_bytes": 4096, "p50": fsync_p50, "p99": fsync_p99,
               "max": ms(percentile(&fsyncs, 1.0))}),
    );

    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime"),
    );
    let start_server = |name: &str, durability: &'static str| {
        let server = ServerProc::spawn(&dir.path().join(name), 0, durability);
        let rest = Rest {
            rt: rt.clone(),
            http: reqwest::Client::new(),
            url: server.url.clone(),
        };
        for uid in ["alice", "bob", "calice", "cbob", "balice", "bbob"] {
            rest.call(
                reqwest::Method::POST,
                "/v1/users",
                json!({"uid": uid, "name": uid}),
            );
        }
        (server, rest)
    };
    let (mut server, rest) = start_server("power.sqlite3", "power");
    let url = server.url.clone();

    // 1. Login to CONNECTED (a fresh client each time, freed after).
    if want("login") {
        let logins = sorted((0..30).map(|_| login(&client(&url), "alice")).collect());
        let c_logins = sorted(
            (0..30)
                .map(|_| cabi::login(&cabi::CClient::init(&url), "alice"))
                .collect(),
        );
        let p50_p99 = |d: &[Duration]| {
            format!(
                "{:.2} / {:.2} ms",
                ms(percentile(d, 0.5)),
                ms(percentile(d, 0.99))
            )
        };
        rows.push(Row {
            scenario: "login -> CONNECTED p50 / p99 (30 runs)".into(),
            floor: "-".into(),
            rust: p50_p99(&logins),
            c_abi: p50_p99(&c_logins),
            c_vs_rust: c_vs_rust(ms(percentile(&c_logins, 0.5)), ms(percentile(&logins, 0.5))),
            target: "-".into(),
        });
        results.insert(
        "login_connected_ms".into(),
        json!({"runs": 30,
               "rust": {"p50": ms(percentile(&logins, 0.5)), "p99": ms(percentile(&logins, 0.99))},
               "c_abi": {"p50": ms(percentile(&c_logins, 0.5)), "p99": ms(percentile(&c_logins, 0.99))}}),
    );
    }

    // 2. Idle clients in one process. Measured early, before the fan-outs start and free
    // 2,000 clients: new clients would reuse that freed heap and look smaller than they are.
    // (Its row goes after the write path's.)
    let mut idle_rows = Vec::new();
    if want("idle") {
        rest.users("idle-", sizes.idle_clients);
        let before_rss = proc_status("self", "VmRSS:");
        let before_threads = proc_status("self", "Threads:");
        let idle: Vec<Arc<Client>> = (0..sizes.idle_clients)
            .map(|i| {
                let c = client(&url);
                login(&c, &format!("idle-{i}"));
                c
            })
            .collect();
        let at_login_kib = proc_status("self", "VmRSS:").saturating_sub(before_rss) as f64
            / sizes.idle_clients as f64;
        // Their CPU and wake-ups while nothing happens but the server's pings (every 20 s).
        let (_never_tx, never_rx) = mpsc::channel::<()>();
        let _ = never_rx.recv_timeout(SETTLE);
        let (cpu_ms, woke) = idle_cost(idle_window);
        // Memory and threads once idle (the logins' REST connections and save threads gone).
        let rss = proc_status("self", "VmRSS:").saturating_sub(before_rss);
        let threads = proc_status("self", "Threads:").saturating_sub(before_threads);
        let per_client_kib = rss as f64 / sizes.idle_clients as f64;
        let threads_per_client = threads as f64 / sizes.idle_clients as f64;
        let scenario = format!("{} idle clients: RSS per client", sizes.idle_clients);
        let target = check_target(
            &mut targets,
            &scenario,
            "<= 40 KiB, <= 1 thread/client".into(),
            per_client_kib,
            None,
            // The shared runtime's two workers start with the first client of the process.
            |v| v <= 40.0 && threads <= sizes.idle_clients as u64 + 2,
        );
        idle_rows.push(Row {
            target,
            ..Row::single(
                scenario,
                format!(
                    "{per_client_kib:.1} KiB ({at_login_kib:.1} right after login), \
                     {threads_per_client:.2} threads/client"
                ),
            )
        });
        let core_pct = cpu_ms / idle_window.as_secs_f64() / 10.0;
        let per_client_min =
            woke as f64 / sizes.idle_clients as f64 * 60.0 / idle_window.as_secs_f64();
        let scenario = format!(
            "{} idle clients: CPU, wake-ups/client/min",
            sizes.idle_clients
        );
        let target = check_target(
            &mut targets,
            &scenario,
            "<= 1 % of one core".into(),
            core_pct,
            None,
            |v| v <= 1.0,
        );
        idle_rows.push(Row {
            target,
            ..Row::single(
                scenario,
                format!("{core_pct:.3} % of a core, {per_client_min:.2} wake-ups"),
            )
        });
        results.insert(
            "idle_clients".into(),
            json!({"n": sizes.idle_clients, "rss_kib_per_client": per_client_kib,
                   "rss_kib_per_client_right_after_login": at_login_kib,
                   "threads_per_client": threads_per_client, "window_s": idle_window.as_secs_f64(),
                   "cpu_ms": cpu_ms, "core_percent": core_pct,
                   "wakeups_per_client_per_min": per_client_min}),
        );
        drop(idle);
    }

    // 3. The write path in both durability modes: `power` on this server, then `process` on a
    // second server with its own database (stopped after).
    if want("power") || want("rtt") {
        let power = write_path(
            &server,
            &rest,
            &sizes,
            fsync_p50,
            &mut rows,
            &mut targets,
            !want("power"),
        );
        results.insert("power".into(), power);
    }
    if want("process") {
        let (mut process_server, process_rest) = start_server("process.sqlite3", "process");
        let process = write_path(
            &process_server,
            &process_rest,
            &sizes,
            fsync_p50,
            &mut rows,
            &mut targets,
            false,
        );
        results.insert("process".into(), process);
        process_server.stop();
    }

    rows.extend(idle_rows);

    // 4. Idle CPU of one connected client over 10 s (the process holds nothing else).
    let one = client(&url);
    login(&one, "alice");
    if want("idlecpu") {
        let (_never_tx, never_rx) = mpsc::channel::<()>();
        let _ = never_rx.recv_timeout(SETTLE);
        let (cpu_ms, woke) = idle_cost(Duration::from_secs(10));
        let scenario = "one idle connected client: CPU / 10 s, wake-ups".to_string();
        let target = check_target(
            &mut targets,
            &scenario,
            "<= 0.5 ms".into(),
            cpu_ms,
            None,
            |v| v <= 0.5,
        );
        rows.push(Row {
            target,
            ..Row::single(
                scenario,
                format!("{cpu_ms:.3} ms ({:.4} %), {woke} wake-ups", cpu_ms / 100.0),
            )
        });
        results.insert("idle_cpu_ms_per_10s".into(), json!(cpu_ms));
        results.insert("idle_wakeups_per_10s".into(), json!(woke));
    }

    // 5. Server restart to CONNECTED again (same port, same database).
    if want("restart") {
        let (tx, rx) = mpsc::channel::<(ConnectionState, Instant)>();
        one.add_listener(
            ListenerKind::Connection,
            "restart",
            Box::new(move |e: &Event| {
                if let Event::State(s) = e {
                    let _ = tx.send((s.current, Instant::now()));
                }
            }),
        )
        .expect("listener");
        let port = server.port;
        server.stop();
        loop {
            let (state, _) = rx.recv_timeout(WAIT).expect("client notices");
            if state != ConnectionState::Connected {
                break;
            }
        }
        let started = Instant::now();
        server = ServerProc::spawn(&server.db.clone(), port, server.durability);
        let back = loop {
            let (state, at) = rx.recv_timeout(WAIT).expect("client reconnects");
            if state == ConnectionState::Connected {
                break at;
            }
        };
        let restart_ms = ms(back.saturating_duration_since(started));
        rows.push(Row::single(
            "server restart -> CONNECTED again".into(),
            format!("{restart_ms:.0} ms (retry jitter U(0,1 s))"),
        ));
        results.insert("restart_to_connected_ms".into(), json!(restart_ms));
    }
    drop(one);

    // 6. Server memory per idle socket.
    if want("server") {
        let server_pid = server.pid();
        let base = proc_status(&server_pid, "VmRSS:");
        let tokens: Vec<String> = (0..100)
            .map(|i| {
                let uid = format!("sock-{i}");
                rest.call(
                    reqwest::Method::POST,
                    "/v1/users",
                    json!({"uid": uid, "name": uid}),
                );
                rest.token(&uid)
            })
            .collect();
        let ws_url = server.url.replace("http://", "ws://");
        let sockets = rest.rt.block_on(async {
            let mut out = Vec::with_capacity(sizes.server_sockets);
            for i in 0..sizes.server_sockets {
                let url = format!("{ws_url}/v1/ws?token={}", tokens[i % tokens.len()]);
                let (mut ws, _) = tokio_tungstenite::connect_async_with_config(
                    url,
                    Some(measure::ws_config()),
                    false,
                )
                .await
                .expect("socket");
                // Wait for the accept so the server holds the whole session.
                while let Some(Ok(m)) = ws.next().await {
                    if m.to_text().is_ok_and(|t| t.contains("replay_done")) {
                        break;
                    }
                }
                out.push(ws);
            }
            out
        });
        let with = proc_status(&server_pid, "VmRSS:");
        let per_socket = with.saturating_sub(base) as f64 / sizes.server_sockets as f64;
        rows.push(Row::single(
            format!(
                "server RSS per idle socket ({} sockets)",
                sizes.server_sockets
            ),
            format!("{per_socket:.1} KiB"),
        ));
        results.insert(
            "server_kib_per_idle_socket".into(),
            json!({"sockets": sizes.server_sockets, "kib": per_socket}),
        );
        drop(sockets);
    }

    let lib = target_dir().join("libchinwag.so");
    if let (true, Ok(meta)) = (want("lib"), std::fs::metadata(&lib)) {
        let stripped =
            std::env::temp_dir().join(format!("libchinwag-stripped-{}.so", std::process::id()));
        let ok = Command::new("strip")
            .arg("-o")
            .arg(&stripped)
            .arg(&lib)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        let size = if ok {
            std::fs::metadata(&stripped)
                .map(|m| m.len())
                .unwrap_or(meta.len())
        } else {
            meta.len()
        };
        let _ = std::fs::remove_file(&stripped);
        rows.push(Row::single(
            "libchinwag.so, release, stripped".into(),
            format!("{:.2} MiB", size as f64 / 1048576.0),
        ));
        results.insert("library_stripped_bytes".into(), json!(size));
    }
    server.stop();
    let elapsed = began.elapsed().as_secs_f64();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0u64);
    results.insert(
        "run".into(),
        json!({"mode": if quick { "quick" } else { "full" }, "elapsed_s": elapsed,
               "cpus": cpus, "mem_total_kib": mem_kib,
               "loadavg_start": load_at_start, "loadavg_end": loadavg()}),
    );
    let met = targets.iter().filter(|t| t["met"] == true).count();
    let total_targets = targets.len();
    results.insert("targets".into(), Value::Array(targets));

    println!(
        "\nChinwag benchmark ({} mode, {elapsed:.0} s), loopback, {cpus} CPUs; the write path against \
         a server with --durability power and one with --durability process",
        if quick { "quick" } else { "full" }
    );
    println!(
        "load average at start {load_at_start}, at end {}",
        loadavg()
    );
    println!(
        "disk (the bench database's filesystem): 4 KiB append + fdatasync, 500 times: p50 {fsync_p50:.3} ms, p99 {fsync_p99:.3} ms"
    );
    println!(
        "(x): Chinwag / floor (a bare WebSocket relay; its round trips interleave with Chinwag's in \
         10 blocks, in each mode). C/Rust: the C ABI's figure / the Rust API's."
    );
    println!(
        "{:<56} {:<16} {:<24} {:<22} {:<6} target",
        "scenario", "floor", "Rust API", "C ABI", "C/Rust"
    );
    for r in &rows {
        println!(
            "{:<56} {:<16} {:<24} {:<22} {:<6} {}",
            r.scenario, r.floor, r.rust, r.c_abi, r.c_vs_rust, r.target
        );
    }
    println!("targets met: {met} of {total_targets} (each checked for the Rust API and the C ABI)");
    let out = target_dir()
        .parent()
        .map(|t| t.join("bench"))
        .unwrap_or_else(|| "target/bench".into());
    let _ = std::fs::create_dir_all(&out);
    let path = out.join("results.json");
    match std::fs::write(
        &path,
        serde_json::to_string_pretty(&Value::Object(results)).unwrap_or_default(),
    ) {
        Ok(()) => println!("\nJSON: {}", path.display()),
        Err(e) => println!("\ncannot write {}: {e}", path.display()),
    }
}
