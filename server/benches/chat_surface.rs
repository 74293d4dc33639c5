//! The chat surface's read requests against a real server (SQLite file, loopback HTTP):
//! - the conversations request (first page of 30, and of 100) for one user with 1,000
//!   conversations (each with an unread message; half end with the user's answer), and the
//!   unread totals;
//! - next to `GET /v1/me` in the same run: the floor of any authenticated request (HTTP,
//!   token check, one read), so the figures read as a ratio to it on a busy machine.
//!
//! Prints a table and adds its figures to `target/bench/results.json` (key `chat_surface`).
//! Run: `cargo bench -p chinwag-server --bench chat_surface` (`-- --quick` for fewer rounds).

#[path = "../../benches/shared/measure.rs"]
#[allow(dead_code)] // the disk probe is for the write-path bench
mod measure;
use measure::{ms, percentile};

use std::time::{Duration, Instant};

use chinwag_server::{Config, DbLocation, Durability};
use serde_json::{json, Value};

const API_KEY: &str = "a";

async fn create(http: &reqwest::Client, url: &str, uid: &str) {
    let r = http
        .post(format!("{url}/v1/users"))
        .header("x-api-key", API_KEY)
        .json(&json!({"uid": uid, "name": uid}))
        .send()
        .await
        .expect("create user");
    assert!(r.status().is_success(), "create {uid}: {}", r.status());
}

async fn token(http: &reqwest::Client, url: &str, uid: &str) -> String {
    let v: Value = http
        .post(format!("{url}/v1/users/{uid}/tokens"))
        .header("x-api-key", API_KEY)
        .send()
        .await
        .expect("mint")
        .json()
        .await
        .expect("token body");
    v["token"].as_str().expect("token").to_string()
}

/// `rounds` timed GETs of `path` as `token`, after 20 untimed ones; sorted durations.
async fn timed_gets(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    path: &str,
    rounds: usize,
    check: impl Fn(&Value),
) -> Vec<Duration> {
    let mut times = Vec::with_capacity(rounds);
    for i in 0..rounds + 20 {
        let start = Instant::now();
        let v: Value = http
            .get(format!("{url}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("body");
        if i >= 20 {
            times.push(start.elapsed());
        }
        check(&v);
    }
    times.sort();
    times
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (conversations, rounds) = if quick { (1_000, 50) } else { (1_000, 300) };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = Config::local("k", API_KEY);
    cfg.db = DbLocation::File(dir.path().join("chat-surface.sqlite3"));
    cfg.durability = Durability::Process;
    cfg.send_limit.limit = u32::MAX;
    cfg.auth_failures_per_minute = 100_000;
    let server = chinwag_server::start(cfg).await.expect("server");
    let url = server.url();
    let http = reqwest::Client::new();

    // One user with 1,000 conversations: each peer sends one message (unread: receipts are
    // socket frames); the user answers every second one (its last message is then her own).
    create(&http, &url, "me").await;
    let me = token(&http, &url, "me").await;
    let setup = Instant::now();
    for i in 0..conversations {
        let peer = format!("peer{i:04}");
        create(&http, &url, &peer).await;
        let t = token(&http, &url, &peer).await;
        let send = |from: &str, to: &str, text: String| {
            http.post(format!("{url}/v1/messages"))
                .bearer_auth(from.to_string())
                .json(&json!({"receiver_type": "user", "receiver": to, "text": text}))
                .send()
        };
        let r = send(&t, "me", format!("hello from {peer}"))
            .await
            .expect("send");
        assert!(r.status().is_success());
        if i % 2 == 0 {
            let r = send(&me, &peer, format!("hi {peer}"))
                .await
                .expect("answer");
            assert!(r.status().is_success());
        }
    }
    let setup = setup.elapsed();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    let floor = timed_gets(&http, &url, &me, "/v1/me", rounds, |v| {
        assert_eq!(v["uid"], "me");
    })
    .await;
    let page30 = timed_gets(&http, &url, &me, "/v1/conversations", rounds, |v| {
        assert_eq!(v["conversations"].as_array().map(Vec::len), Some(30));
    })
    .await;
    let page100 = timed_gets(
        &http,
        &url,
        &me,
        "/v1/conversations?limit=100",
        rounds,
        |v| {
            assert_eq!(v["conversations"].as_array().map(Vec::len), Some(100));
        },
    )
    .await;
    let unread = timed_gets(&http, &url, &me, "/v1/conversations/unread", rounds, |v| {
        assert_eq!(v["total"].as_u64(), Some(conversations as u64));
    })
    .await;
    server.shutdown().await;

    println!(
        "chinwag-server chat surface, one user with {conversations} conversations (setup {:.1} s), \
         {rounds} requests each, loopback HTTP; load average before: {}",
        setup.as_secs_f64(),
        load.trim()
    );
    println!(
        "{:<44} {:>10} {:>10} {:>12}",
        "request", "p50 ms", "p99 ms", "p50 / floor"
    );
    let floor_p50 = ms(percentile(&floor, 0.5));
    let mut out = serde_json::Map::new();
    for (name, key, times) in [
        ("GET /v1/me (floor)", "me_floor", &floor),
        (
            "GET /v1/conversations (30 per page)",
            "conversations_30",
            &page30,
        ),
        (
            "GET /v1/conversations?limit=100",
            "conversations_100",
            &page100,
        ),
        ("GET /v1/conversations/unread", "unread_counts", &unread),
    ] {
        let (p50, p99) = (ms(percentile(times, 0.5)), ms(percentile(times, 0.99)));
        println!(
            "{name:<44} {p50:>10.3} {p99:>10.3} {:>11.1}x",
            p50 / floor_p50
        );
        out.insert(
            key.into(),
            json!({"conversations": conversations, "n": rounds, "p50_ms": p50, "p99_ms": p99,
                   "ratio_to_floor": p50 / floor_p50}),
        );
    }
    out.insert("loadavg".into(), json!(load.trim()));

    // Added to the bench JSON (`make bench` runs the SDK bench first), under `chat_surface`.
    measure::add_to_results("chat_surface", Value::Object(out));
}
