//! `make soak`: churn against one real `chinwag-server` process for `SOAK_SECONDS` (default
//! 600) with `SOAK_CLIENTS` SDK clients (default 1000) in this process: each step picks a
//! client at random and has it connect, disconnect or send a message to another user. Every
//! `SOAK_SAMPLE_SECONDS` (default 15) it prints the resident memory and open descriptors of the
//! server and of this process; at the end every client connects once more and every message
//! that was acknowledged must have reached its receiver, once.
//!
//! Exits non-zero when something was lost or delivered twice, when a send did not complete
//! exactly once, or when memory or descriptors grew after warm-up (the first fifth of the run)
//! by more than the slack printed with the verdict.

use std::collections::HashSet;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chinwag::protocol::model::ReceiverType;
use chinwag::{Client, ConnectionState, Event, InitOptions, ListenerKind, Settings};
use rand::Rng;

const AUTH_KEY: &str = "soak-auth";
const API_KEY: &str = "soak-api";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
        })
        .unwrap_or(default)
}

/// The server's resident memory split (KiB): anonymous (heap, stacks) and file-backed plus
/// shared (the binary, SQLite's WAL index), to tell a heap that grows from mapped files.
fn rss_split(pid: &str) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("RssAnon:"), field("RssFile:") + field("RssShmem:"))
}

/// Resident memory (KiB) and open descriptors of a process.
fn usage(pid: &str) -> (u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    (rss, fds)
}

struct Server {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Server {
    /// The size of the database's WAL file (KiB): bounded by the writer's truncation.
    fn wal_kib(&self) -> u64 {
        std::fs::metadata(self.dir.path().join("soak.db-wal")).map_or(0, |m| m.len() / 1024)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(clients: usize) -> Server {
    let bin = std::env::var("CHINWAG_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/chinwag-server")
        });
    assert!(
        bin.exists(),
        "no server binary at {} (build it, or set CHINWAG_SERVER_BIN)",
        bin.display()
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let lots = (clients * 100).to_string();
    let child = Command::new(bin)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--db", &dir.path().join("soak.db").display().to_string()])
        .args(["--auth-key", AUTH_KEY, "--api-key", API_KEY])
        .args(["--durability", "process"])
        .args([
            "--max-connections-per-ip",
            &lots,
            "--max-connections",
            &lots,
        ])
        .args([
            "--upgrades-per-ip",
            &lots,
            "--auth-failures-per-minute",
            &lots,
        ])
        .args(["--send-limit", &lots])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let url = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let deadline = Instant::now() + Duration::from_secs(30);
    while rt
        .block_on(reqwest::get(format!("{url}/v1/health")))
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "the server did not answer within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Server { child, url, dir }
}

/// One point of the curve: seconds since the start, (RSS KiB, descriptors) of the server and
/// of this process, clients connected.
type Sample = (u64, (u64, usize), (u64, usize), usize);

/// What one client saw.
#[derive(Default)]
struct Seen {
    ids: HashSet<i64>,
    duplicates: u64,
}

struct Soaker {
    client: Client,
    uid: String,
    seen: Arc<Mutex<Seen>>,
}

fn main() {
    let seconds = env_u64("SOAK_SECONDS", 600);
    let n = env_u64("SOAK_CLIENTS", 1000) as usize;
    let sample_every = Duration::from_secs(env_u64("SOAK_SAMPLE_SECONDS", 15));
    let server = start_server(n);
    let server_pid = server.child.id().to_string();
    println!(
        "soak: {n} clients, {seconds} s, server {} (pid {server_pid})",
        server.url
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let http = reqwest::Client::new();
    rt.block_on(async {
        for i in 0..n {
            let r = http
                .post(format!("{}/v1/users", server.url))
                .header("x-api-key", API_KEY)
                .json(&serde_json::json!({"uid": format!("u{i}"), "name": format!("u{i}")}))
                .send()
                .await
                .expect("the server answers");
            assert_eq!(r.status().as_u16(), 201, "creating u{i}");
        }
    });

    let mut soakers = Vec::with_capacity(n);
    for i in 0..n {
        let mut settings = Settings::new(&server.url);
        settings.auto_connect = false;
        let client =
            Client::init("chinwag-app", settings, InitOptions::default()).expect("a client");
        let seen = Arc::new(Mutex::new(Seen::default()));
        let s = seen.clone();
        client
            .add_listener(
                ListenerKind::Message,
                "soak",
                Box::new(move |e: &Event| {
                    if let Event::Message(m) = e {
                        let mut s = s.lock().unwrap_or_else(|p| p.into_inner());
                        if !s.ids.insert(m.id) {
                            s.duplicates += 1;
                        }
                    }
                }),
            )
            .expect("a listener");
        let (tx, rx) = std::sync::mpsc::channel();
        client
            .login(
                &format!("u{i}"),
                AUTH_KEY,
                Some(Box::new(move |r| {
                    let _ = tx.send(r.is_ok());
                })),
            )
            .expect("login starts");
        assert!(
            rx.recv_timeout(Duration::from_secs(30)).unwrap_or(false),
            "u{i} logs in"
        );
        soakers.push(Soaker {
            client,
            uid: format!("u{i}"),
            seen,
        });
    }

    // Acked messages: (receiver index, message id).
    let acked = Arc::new(Mutex::new(Vec::<(usize, i64)>::new()));
    let sends = Arc::new(AtomicU64::new(0));
    let completions = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut curve: Vec<Sample> = Vec::new();
    let me = std::process::id().to_string();
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let mut next_sample = started;
    let mut rng = rand::thread_rng();
    let mut steps = 0u64;
    println!(
        "{:>6} {:>12} {:>22} {:>10} {:>12} {:>10} {:>10} {:>8} {:>9}",
        "t_s",
        "server_kib",
        "(anon / file+shm)",
        "server_fd",
        "sdk_kib",
        "sdk_fd",
        "connected",
        "acked",
        "wal_kib"
    );
    while Instant::now() < end {
        if Instant::now() >= next_sample {
            let connected = soakers
                .iter()
                .filter(|s| s.client.connection_state() == ConnectionState::Connected)
                .count();
            let row = (
                started.elapsed().as_secs(),
                usage(&server_pid),
                usage(&me),
                connected,
            );
            let (anon, file) = rss_split(&server_pid);
            println!(
                "{:>6} {:>12} {:>22} {:>10} {:>12} {:>10} {:>10} {:>8} {:>9}",
                row.0,
                row.1 .0,
                format!("{anon} / {file}"),
                row.1 .1,
                row.2 .0,
                row.2 .1,
                row.3,
                acked.lock().map_or(0, |a| a.len()),
                server.wal_kib()
            );
            curve.push(row);
            next_sample += sample_every;
        }
        let i = rng.gen_range(0..n);
        let s = &soakers[i];
        match rng.gen_range(0..10) {
            0 => s.client.disconnect(),
            1..=3 => {
                let _ = s.client.connect();
            }
            _ => {
                let to = rng.gen_range(0..n);
                if to == i {
                    continue;
                }
                let (acked, completions, failed) =
                    (acked.clone(), completions.clone(), failed.clone());
                let r = s.client.send_text(
                    ReceiverType::User,
                    &soakers[to].uid,
                    &format!("soak {steps}"),
                    Some(Box::new(move |r| {
                        completions.fetch_add(1, Ordering::SeqCst);
                        match r {
                            Ok(m) => acked
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .push((to, m.id)),
                            Err(_) => {
                                failed.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    })),
                );
                if r.is_ok() {
                    sends.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        steps += 1;
        // About 400 steps a second: steady churn, not a flood.
        std::thread::sleep(Duration::from_micros(2500));
    }

    println!(
        "soak: churn over after {steps} steps; every client connects to collect what it is owed"
    );
    for s in &soakers {
        let _ = s.client.connect();
    }
    let drain = Instant::now() + Duration::from_secs(300);
    let missing = loop {
        let done = completions.load(Ordering::SeqCst) == sends.load(Ordering::SeqCst);
        let missing: Vec<(usize, i64)> = acked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(to, id)| !soakers[*to].seen.lock().is_ok_and(|s| s.ids.contains(id)))
            .copied()
            .collect();
        if (done && missing.is_empty()) || Instant::now() > drain {
            break missing;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let row = (
        started.elapsed().as_secs(),
        usage(&server_pid),
        usage(&me),
        n,
    );
    println!(
        "{:>6} {:>12} {:>10} {:>12} {:>10} {:>10} {:>8}  (all connected)",
        row.0,
        row.1 .0,
        row.1 .1,
        row.2 .0,
        row.2 .1,
        row.3,
        acked.lock().map_or(0, |a| a.len())
    );
    let duplicates: u64 = soakers
        .iter()
        .map(|s| s.seen.lock().map_or(0, |s| s.duplicates))
        .sum();
    let (sent, completed) = (
        sends.load(Ordering::SeqCst),
        completions.load(Ordering::SeqCst),
    );
    let acked_n = acked.lock().map_or(0, |a| a.len());
    println!(
        "soak: {sent} sends, {completed} completions ({acked_n} acked, {} failed: disconnect() fails queued sends), {} acked messages missing at their receiver, {duplicates} delivered twice",
        failed.load(Ordering::SeqCst),
        missing.len()
    );

    // Flat after warm-up: the last sample against the first one after the first fifth.
    let warm = curve
        .iter()
        .find(|r| r.0 * 5 >= seconds)
        .or(curve.first())
        .copied();
    let last = curve.last().copied();
    let mut ok = completed == sent && missing.is_empty() && duplicates == 0;
    if let (Some(w), Some(l)) = (warm, last) {
        let grew = |name: &str, from: u64, to: u64, slack: u64| {
            let bad = to > from + slack;
            println!("soak: {name}: {from} after warm-up (t={} s), {to} at the end (t={} s), allowed +{slack}: {}", w.0, l.0, if bad { "GREW" } else { "flat" });
            !bad
        };
        // 20% of memory (allocator caches, SQLite's page cache settling), 5% of descriptors.
        ok &= grew("server RSS KiB", w.1 .0, l.1 .0, w.1 .0 / 5);
        // Descriptors beyond one socket per connected client (how many are connected moves).
        let beyond = |fds: usize, connected: usize| fds.saturating_sub(connected) as u64;
        ok &= grew(
            "server fds beyond sockets",
            beyond(w.1 .1, w.3),
            beyond(l.1 .1, l.3),
            8,
        );
        ok &= grew("SDK process RSS KiB", w.2 .0, l.2 .0, w.2 .0 / 5);
        ok &= grew(
            "SDK process fds beyond sockets",
            beyond(w.2 .1, w.3),
            beyond(l.2 .1, l.3),
            8,
        );
    }
    drop(soakers);
    if !ok {
        println!("soak: FAILED");
        // `exit` runs no destructors: stop the server first.
        drop(server);
        std::process::exit(1);
    }
    println!("soak: passed");
}
