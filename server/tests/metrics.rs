//! `GET /metrics` on `--metrics-addr`: a scenario moves every counter by a known amount. One
//! test in this binary: the counters are process-wide.
mod common;

use std::collections::HashMap;

use chinwag_protocol::close;
use common::*;
use serde_json::json;

/// `name{labels}` -> value, from the text exposition.
fn parse(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.to_string(), value.parse().ok()?))
        })
        .collect()
}

struct Scraper {
    url: String,
    http: reqwest::Client,
}

impl Scraper {
    async fn scrape(&self) -> HashMap<String, f64> {
        let r = self.http.get(&self.url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(content_type.contains("openmetrics-text"), "{content_type}");
        let text = r.text().await.unwrap();
        assert!(text.trim_end().ends_with("# EOF"), "{text}");
        parse(&text)
    }
}

impl Scraper {
    /// Scrapes until `done` holds (the counter is bumped on another task), at most `WAIT`.
    async fn until(&self, done: impl Fn(&HashMap<String, f64>) -> bool) -> HashMap<String, f64> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let m = self.scrape().await;
            if done(&m) {
                return m;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "metrics never got there: {m:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

fn get(m: &HashMap<String, f64>, key: &str) -> f64 {
    m.get(key).copied().unwrap_or(0.0)
}

/// How much `key` moved between two scrapes.
fn moved(before: &HashMap<String, f64>, after: &HashMap<String, f64>, key: &str) -> f64 {
    get(after, key) - get(before, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_count_what_the_scenario_did() {
    let mut cfg = config();
    cfg.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    cfg.transient_limit.limit = 2;
    cfg.replay_limit = 3;
    cfg.max_sockets_per_user = 2;
    // Small, so that a socket that never reads overflows soon; the others read as they go.
    cfg.socket_queue = 64;
    cfg.send_limit.limit = 1_000_000;
    let server = TestServer::with(cfg).await;
    let url = server
        .handle
        .as_ref()
        .unwrap()
        .metrics_url()
        .expect("metrics on");
    assert_ne!(
        url,
        format!("{}/metrics", server.url),
        "a listen address of its own"
    );
    // The main port does not serve them.
    let r = server
        .http
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let s = Scraper {
        url,
        http: reqwest::Client::new(),
    };
    let m0 = s.scrape().await;

    // Logins: two that work, one with a wrong key.
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let carol = server.user_token("carol").await;
    let r = server
        .http
        .post(format!("{}/v1/login", server.url))
        .json(&json!({"uid": "alice", "auth_key": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let m1 = s.scrape().await;
    assert_eq!(
        moved(&m0, &m1, r#"chinwag_logins_total{outcome="ok"}"#),
        3.0
    );
    assert_eq!(
        moved(&m0, &m1, r#"chinwag_logins_total{outcome="failed"}"#),
        1.0
    );

    // Sockets and replays: alice fresh, bob complete; then five messages to bob.
    let (mut a, _) = server.connect(&alice).await;
    let (mut b, accept) = server.connect_with(&bob, "last_seq=0").await;
    assert_eq!(accept["resume"]["status"], "complete");
    b.replay().await;
    let m2 = s.scrape().await;
    assert_eq!(get(&m2, "chinwag_live_sockets"), 2.0);
    assert_eq!(
        moved(&m1, &m2, r#"chinwag_replays_total{outcome="fresh"}"#),
        1.0
    );
    assert_eq!(
        moved(&m1, &m2, r#"chinwag_replays_total{outcome="complete"}"#),
        1.0
    );
    for i in 0..5 {
        a.send_text("user", "bob", &format!("m{i}")).await;
    }
    let m3 = s.scrape().await;
    assert_eq!(moved(&m2, &m3, "chinwag_messages_stored_total"), 5.0);
    let commits = moved(&m2, &m3, "chinwag_commit_batch_size_count");
    assert!((1.0..=5.0).contains(&commits), "{commits} commits");
    // Five sends, and whatever else the writer did meanwhile (a socket's last-active time).
    assert!(moved(&m2, &m3, "chinwag_commit_batch_size_sum") >= 5.0);
    assert_eq!(moved(&m2, &m3, "chinwag_commit_seconds_count"), commits);
    assert!(moved(&m2, &m3, "chinwag_commit_seconds_sum") > 0.0);

    // A second socket of bob's from seq 0 misses more than the replay limit: a gap. A third
    // is one too many: closed with TOO_MANY_SOCKETS.
    let (mut b2, accept) = server.connect_with(&bob, "last_seq=0").await;
    assert_eq!(accept["resume"]["status"], "gap");
    b2.replay().await;
    let mut b3 = Ws::open(&server.ws_url, Some(&bob), "").await;
    assert_eq!(b3.expect_close().await, Some(close::TOO_MANY_SOCKETS));
    // Transients over the limit of two are refused as throttled.
    for i in 0..3 {
        let answer = a
            .request(
                json!({"type": "transient", "receiver_type": "user", "receiver": "bob",
                            "data": {"i": i}}),
            )
            .await;
        let expected = if i < 2 { "ack" } else { "error" };
        assert_eq!(answer["type"], expected, "{answer}");
    }
    let m4 = s.scrape().await;
    assert_eq!(
        moved(&m3, &m4, r#"chinwag_replays_total{outcome="gap"}"#),
        1.0
    );
    assert_eq!(
        moved(
            &m3,
            &m4,
            &format!(
                r#"chinwag_close_codes_sent_total{{code="{}"}}"#,
                close::TOO_MANY_SOCKETS
            )
        ),
        1.0
    );
    assert_eq!(
        moved(
            &m3,
            &m4,
            r#"chinwag_throttled_frames_total{feature="transient"}"#
        ),
        1.0
    );
    assert_eq!(get(&m4, "chinwag_live_sockets"), 3.0);

    // A socket that never reads while large messages pile up: closed as a slow consumer.
    let (carol_ws, _) = server.connect(&carol).await;
    let text = "x".repeat(60 * 1024);
    let slow_key = "chinwag_slow_consumers_closed_total";
    let mut closed = false;
    for _ in 0..40 {
        for _ in 0..25 {
            a.send_text("user", "carol", &text).await;
        }
        if moved(&m4, &s.scrape().await, slow_key) >= 1.0 {
            closed = true;
            break;
        }
    }
    assert!(closed, "carol's socket was never closed as a slow consumer");
    let m5 = s.scrape().await;
    assert_eq!(moved(&m4, &m5, slow_key), 1.0);
    // Its session is stuck writing to a socket that does not read; once the peer goes, the
    // socket is no longer live.
    drop(carol_ws);
    s.until(|m| get(m, "chinwag_live_sockets") == 3.0).await;
    b.close().await;
    b2.close().await;
    a.close().await;
}
