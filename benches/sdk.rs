//! SDK figures through the Rust API against a real chinwag-server on loopback:
//! login-to-CONNECTED time, the round trip of a message A -> server -> B's callback -> server ->
//! A's callback, and the stripped size of the shared library.
//!
//! Run: `cargo bench --bench sdk` (`-- N` for N round trips; default 2000).

use std::sync::mpsc;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use chinwag::protocol::model::ReceiverType;
use chinwag::{Client, ConnectionState, Event, InitOptions, ListenerKind, Settings};
use chinwag_server::Config;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn client(url: &str) -> Arc<Client> {
    let mut s = Settings::new(url);
    s.queue_capacity = 10_000;
    Arc::new(Client::init("chinwag-app", s, InitOptions::default()).expect("init"))
}

/// Logs in and returns the time until the CONNECTED event reached the listener.
fn login_until_connected(c: &Client, uid: &str) -> Duration {
    let (tx, rx) = mpsc::channel();
    c.add_listener(
        ListenerKind::Connection,
        "bench",
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
    c.login(uid, "k", None).expect("login");
    let at = rx.recv_timeout(WAIT).expect("connected");
    c.remove_listener(ListenerKind::Connection, "bench");
    at - start
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let mut cfg = Config::local("k", "a");
    cfg.login_per_minute = 100_000;
    cfg.sync_full = true;
    let server = rt.block_on(chinwag_server::start(cfg)).expect("server");
    let url = server.url();
    let http = reqwest::Client::new();
    for uid in ["alice", "bob"] {
        rt.block_on(
            http.post(format!("{url}/v1/users"))
                .header("x-auth-key", "k")
                .json(&json!({"uid": uid, "name": uid}))
                .send(),
        )
        .expect("create user");
    }

    // Login to CONNECTED, fresh client each time.
    let mut logins: Vec<Duration> = (0..30)
        .map(|_| {
            let c = client(&url);
            login_until_connected(&c, "alice")
        })
        .collect();
    logins.sort();

    // Round trips: bob echoes every message back to alice from inside his callback.
    let alice = client(&url);
    let bob = client(&url);
    login_until_connected(&alice, "alice");
    login_until_connected(&bob, "bob");
    let bob_weak: Weak<Client> = Arc::downgrade(&bob);
    bob.add_listener(
        ListenerKind::Message,
        "echo",
        Box::new(move |e: &Event| {
            if let (Event::Message(m), Some(b)) = (e, bob_weak.upgrade()) {
                if let Some(text) = &m.text {
                    let _ = b.send_text(ReceiverType::User, "alice", text, None);
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
    let warmup = 100;
    let mut rtts = Vec::with_capacity(n);
    for i in 0..warmup + n {
        let text = format!("rt{i}");
        let start = Instant::now();
        alice
            .send_text(ReceiverType::User, "bob", &text, None)
            .expect("send");
        let (echo, at) = rx.recv_timeout(WAIT).expect("echo");
        assert_eq!(echo, text, "echoes arrive in order");
        if i >= warmup {
            rtts.push(at - start);
        }
    }
    rtts.sort();

    println!("chinwag SDK (Rust API) against chinwag-server on loopback, sync=FULL");
    println!(
        "login -> CONNECTED ({} runs):      p50 {}  p99 {}",
        logins.len(),
        ms(percentile(&logins, 0.5)),
        ms(percentile(&logins, 0.99))
    );
    println!(
        "round trip A->B->A ({n} after {warmup} warm-up): p50 {}  p90 {}  p99 {}  max {}",
        ms(percentile(&rtts, 0.5)),
        ms(percentile(&rtts, 0.9)),
        ms(percentile(&rtts, 0.99)),
        ms(*rtts.last().unwrap_or(&Duration::ZERO))
    );
    // `make bench` builds the release cdylib first; it sits two levels above the bench binary.
    let lib = std::env::current_exe()
        .ok()
        .and_then(|p| {
            p.parent()
                .and_then(|d| d.parent())
                .map(|d| d.join("libchinwag.so"))
        })
        .filter(|p| p.exists());
    match lib {
        Some(lib) => {
            let stripped =
                std::env::temp_dir().join(format!("libchinwag-stripped-{}.so", std::process::id()));
            let ok = std::process::Command::new("strip")
                .arg("-o")
                .arg(&stripped)
                .arg(&lib)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            let size = std::fs::metadata(if ok { &stripped } else { &lib })
                .map(|m| m.len())
                .unwrap_or(0);
            println!(
                "libchinwag.so ({}): {:.2} MiB",
                if ok {
                    "release, stripped"
                } else {
                    "release, not stripped"
                },
                size as f64 / 1048576.0
            );
            let _ = std::fs::remove_file(&stripped);
        }
        None => println!(
            "libchinwag.so: not built; run `cargo build --release --lib` (or `make bench`) first"
        ),
    }
    drop(alice);
    drop(bob);
    rt.block_on(server.shutdown());
}
