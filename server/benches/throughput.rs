//! One sender pushes text messages through chinwag-server to one receiver; every message is
//! persisted (SQLite, WAL) before it is acknowledged and delivered. Prints messages per second
//! for several durability settings and in-flight windows, and checks that none was lost,
//! duplicated or reordered.
//!
//! Run: `cargo bench -p chinwag-server --bench throughput` (`-- N` for N messages per run).

use std::time::{Duration, Instant};

use chinwag_server::{Config, DbLocation, Durability};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

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
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{ws_url}?token={token}"))
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

struct Outcome {
    rate: f64,
    elapsed: Duration,
}

async fn run(n: usize, window: usize, durability: Durability) -> Outcome {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = Config::local("k", "a");
    cfg.db = DbLocation::File(dir.path().join("bench.sqlite3"));
    cfg.durability = durability;
    cfg.auth_failures_per_minute = 1000;
    cfg.send_limit.limit = u32::MAX;
    let server = chinwag_server::start(cfg).await.expect("server");
    let http = reqwest::Client::new();
    let (ta, tb) = (
        token(&http, &server.url(), "alice").await,
        token(&http, &server.url(), "bob").await,
    );
    let mut alice = connect(&server.ws_url(), &ta).await;
    let mut bob = connect(&server.ws_url(), &tb).await;

    let receiver = tokio::spawn(async move {
        let mut next = 0usize;
        while next < n {
            match tokio::time::timeout(Duration::from_secs(30), bob.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => {
                    let v: Value = serde_json::from_str(&t).expect("json");
                    if v["type"] == "event" {
                        let text = v["data"]["text"].as_str().unwrap_or_default();
                        assert_eq!(text, format!("m{next}"), "lost, duplicated or reordered");
                        next += 1;
                    }
                }
                Ok(Some(Ok(_))) => {}
                other => panic!("receiver stopped after {next} messages: {other:?}"),
            }
        }
        Instant::now()
    });

    let start = Instant::now();
    let (mut sent, mut acked) = (0usize, 0usize);
    while acked < n {
        while sent < n && sent - acked < window {
            let frame = json!({"type": "send", "req": sent.to_string(), "message": {
                "receiver_type": "user", "receiver": "bob", "text": format!("m{sent}")
            }});
            alice
                .send(Message::Text(frame.to_string().into()))
                .await
                .expect("send");
            sent += 1;
        }
        match tokio::time::timeout(Duration::from_secs(30), alice.next()).await {
            Ok(Some(Ok(Message::Text(t)))) if t.contains("\"ack\"") => acked += 1,
            Ok(Some(Ok(Message::Text(t)))) if t.contains("\"error\"") => panic!("send failed: {t}"),
            Ok(Some(Ok(_))) => {}
            other => panic!("sender stopped after {acked} acks: {other:?}"),
        }
    }
    let done = receiver.await.expect("receiver");
    let elapsed = done - start;
    server.shutdown().await;
    Outcome {
        rate: n as f64 / elapsed.as_secs_f64(),
        elapsed,
    }
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5_000);
    println!(
        "chinwag-server throughput: {n} text messages, one sender -> one receiver, each persisted"
    );
    println!(
        "{:<16} {:>8} {:>12} {:>10}",
        "sync", "window", "msgs/s", "elapsed"
    );
    for (durability, label) in [
        (Durability::Power, "power"),
        (Durability::Process, "process"),
    ] {
        for window in [1usize, 64] {
            let o = run(n, window, durability).await;
            println!(
                "{label:<16} {window:>8} {:>12.0} {:>9.2}s",
                o.rate,
                o.elapsed.as_secs_f64()
            );
        }
    }
}
