//! Issue 16, part A: what a client can cost the server before and around logging in. Each test
//! reproduces an attack from the issue, bounded in count and time, on loopback.

mod common;

use std::time::{Duration, Instant};

use chinwag_server::{Config, FeatureLimit};
use common::{Next, TestServer, Ws, API_KEY, AUTH_KEY, WAIT};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn addr(server: &TestServer) -> String {
    server.url.trim_start_matches("http://").to_string()
}

/// Reads until the peer closes (EOF or reset); returns how long that took, or `None` if it
/// was still open after `bound`.
async fn closed_within(stream: &mut TcpStream, bound: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        let left = bound.checked_sub(start.elapsed())?;
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

/// Sends one `GET /v1/health` on an open connection and reads the answer's status line.
async fn health_on(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("\"status\"") {
        let n = tokio::time::timeout(WAIT, stream.read(&mut buf))
            .await
            .expect("health answers in time")
            .unwrap();
        assert!(n > 0, "connection closed instead of answering");
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got).to_string();
    text.lines().next().unwrap_or_default().to_string()
}

fn quick_timeouts() -> Config {
    let mut cfg = common::config();
    cfg.header_read_timeout = Duration::from_millis(300);
    cfg.body_read_timeout = Duration::from_millis(300);
    cfg.idle_timeout = Duration::from_millis(300);
    cfg
}

// ---- Finding 1: timeouts before login ----

#[tokio::test]
async fn headers_sent_one_byte_at_a_time_are_cut_off() {
    let server = TestServer::with(quick_timeouts()).await;
    let mut s = TcpStream::connect(addr(&server)).await.unwrap();
    let start = Instant::now();
    let request = b"GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut closed = false;
    for b in request.iter() {
        // A byte every 50 ms: the idle timer never fires, only the header timer can.
        if s.write_all(&[*b]).await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(50), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            _ => {}
        }
    }
    assert!(
        closed,
        "still open after {:?} of slow headers",
        start.elapsed()
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "closed only after {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn a_connection_that_never_sends_is_closed() {
    // The header bound applies from the accept: a long keep-alive idle bound does not help a
    // connection that never sent a request.
    let mut cfg = quick_timeouts();
    cfg.idle_timeout = Duration::from_secs(30);
    let server = TestServer::with(cfg).await;
    let mut conns = Vec::new();
    for _ in 0..20 {
        conns.push(TcpStream::connect(addr(&server)).await.unwrap());
    }
    for s in &mut conns {
        let took = closed_within(s, Duration::from_secs(3))
            .await
            .expect("a silent connection was left open");
        assert!(took < Duration::from_secs(2), "closed after {took:?}");
    }
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    // The idle bound, not the header bound, closes a connection between requests.
    let mut cfg = quick_timeouts();
    cfg.header_read_timeout = Duration::from_secs(30);
    let server = TestServer::with(cfg).await;
    let mut s = TcpStream::connect(addr(&server)).await.unwrap();
    assert!(health_on(&mut s).await.contains("200"));
    // Still usable right away (keep-alive), then closed once idle.
    assert!(health_on(&mut s).await.contains("200"));
    let took = closed_within(&mut s, Duration::from_secs(3))
        .await
        .expect("an idle keep-alive connection was left open");
    assert!(
        took >= Duration::from_millis(200),
        "closed too early: {took:?}"
    );
}

#[tokio::test]
async fn a_slow_body_is_cut_off() {
    let server = TestServer::with(quick_timeouts()).await;
    let mut s = TcpStream::connect(addr(&server)).await.unwrap();
    let head = format!(
        "POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Auth-Key: {AUTH_KEY}\r\nContent-Length: 100\r\n\r\n{{\"uid\""
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf)).await {
            Err(_) => panic!("no answer and no close 3 s into a stalled body"),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("did not arrive within 300 ms"), "{text}");
}

// ---- Finding 1: connection caps, accept errors ----

#[tokio::test]
async fn connections_per_address_are_capped_without_starving_open_ones() {
    let mut cfg = common::config();
    cfg.max_connections_per_ip = 5;
    let server = TestServer::with(cfg).await;
    let mut keep_alive = TcpStream::connect(addr(&server)).await.unwrap();
    assert!(health_on(&mut keep_alive).await.contains("200"));
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(addr(&server)).await.unwrap());
    }
    // The sixth is accepted and closed at once.
    let mut extra = TcpStream::connect(addr(&server)).await.unwrap();
    closed_within(&mut extra, Duration::from_secs(2))
        .await
        .expect("a connection beyond the per-address cap was left open");
    // The open ones are still served.
    assert!(health_on(&mut keep_alive).await.contains("200"));
    // Closing one makes room again (the release is asynchronous: poll, bounded).
    drop(idle.pop());
    let deadline = Instant::now() + WAIT;
    loop {
        let mut s = TcpStream::connect(addr(&server)).await.unwrap();
        if s.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .is_ok()
        {
            let mut buf = [0u8; 64];
            if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await
            {
                if n > 0 && String::from_utf8_lossy(&buf[..n]).contains("200") {
                    break;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "no room after a connection closed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn open_connections_are_capped_in_total() {
    let mut cfg = common::config();
    cfg.max_connections = 3;
    let server = TestServer::with(cfg).await;
    let mut keep_alive = TcpStream::connect(addr(&server)).await.unwrap();
    assert!(health_on(&mut keep_alive).await.contains("200"));
    let _a = TcpStream::connect(addr(&server)).await.unwrap();
    let _b = TcpStream::connect(addr(&server)).await.unwrap();
    let mut extra = TcpStream::connect(addr(&server)).await.unwrap();
    closed_within(&mut extra, Duration::from_secs(2))
        .await
        .expect("a connection beyond the total cap was left open");
    assert!(health_on(&mut keep_alive).await.contains("200"));
}

/// The binary with a 64-descriptor limit and 150 idle connections: accept fails with EMFILE
/// again and again; the log gets one line per interval, not one per failure, and an open
/// keep-alive connection still gets `/v1/health` answered.
#[cfg(unix)]
#[tokio::test]
async fn accept_errors_neither_spin_nor_flood_the_log() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let bin = env!("CARGO_BIN_EXE_chinwag-server");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 64 && exec '{bin}' --dev --listen 127.0.0.1:0 --log warn"
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .split("listening on ")
        .nth(1)
        .expect("server prints its address")
        .trim()
        .to_string();
    let addr = url.trim_start_matches("http://").to_string();
    let mut keep_alive = TcpStream::connect(&addr).await.unwrap();
    assert!(health_on(&mut keep_alive).await.contains("200"));
    let mut flood = Vec::new();
    for _ in 0..150 {
        if let Ok(s) = TcpStream::connect(&addr).await {
            flood.push(s);
        }
    }
    // Let the accept loop run into the descriptor limit for a while.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(health_on(&mut keep_alive).await.contains("200"));
    drop(flood);
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let lines = log.lines().filter(|l| l.contains("accept failed")).count();
    assert!(lines >= 1, "EMFILE was never hit; log: {log}");
    assert!(lines <= 2, "{lines} accept-failure lines in 1.5 s: {log}");
}

// ---- Finding 1: upgrade attempts per address ----

#[tokio::test]
async fn upgrade_attempts_per_address_are_limited() {
    let mut cfg = common::config();
    cfg.upgrades_per_ip = FeatureLimit {
        limit: 3,
        window: Duration::from_secs(60),
    };
    let server = TestServer::with(cfg).await;
    let token = server.user_token("alice").await;
    for _ in 0..3 {
        let (ws, _) = server.connect(&token).await;
        ws.close().await;
    }
    let mut ws = Ws::open(&server.ws_url, Some(&token), "").await;
    match ws.next().await {
        Next::Closed(code, reason) => {
            assert_eq!(code, Some(4100), "{reason}");
            let ms: u64 = reason.parse().expect("the reason is the delay in ms");
            assert!((1..=60_000).contains(&ms), "{ms}");
        }
        Next::Frame(f) => panic!("admitted beyond the upgrade limit: {f}"),
    }
}

// ---- Finding 6: sockets per user ----

#[tokio::test]
async fn sockets_per_user_are_capped() {
    let mut cfg = common::config();
    cfg.max_sockets_per_user = 3;
    let server = TestServer::with(cfg).await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(server.connect(&alice).await.0);
    }
    for _ in 0..5 {
        let mut ws = Ws::open(&server.ws_url, Some(&alice), "").await;
        match ws.next().await {
            Next::Closed(code, reason) => assert_eq!(code, Some(4003), "{reason}"),
            Next::Frame(f) => panic!("a fourth socket was admitted: {f}"),
        }
    }
    // Another user is not affected; a closed socket makes room.
    let (b, _) = server.connect(&bob).await;
    b.close().await;
    open.pop().unwrap().close().await;
    let (again, _) = server.connect(&alice).await;
    again.close().await;
}

// ---- Finding 8: failed credential checks ----

/// One failed check of each kind; all count toward the same per-address limit.
async fn fail_once(server: &TestServer, kind: usize) -> (u16, Option<u64>) {
    let http = &server.http;
    let req = match kind {
        0 => http
            .post(format!("{}/v1/users", server.url))
            .header("x-auth-key", "guess")
            .json(&json!({"uid": "x", "name": "x"})),
        1 => http
            .post(format!("{}/v1/users", server.url))
            .header("x-api-key", "guess")
            .json(&json!({"uid": "x", "name": "x"})),
        2 => http
            .get(format!("{}/v1/users", server.url))
            .header("x-api-key", "guess"),
        3 => http
            .get(format!("{}/v1/me", server.url))
            .bearer_auth("guess"),
        4 => http
            .post(format!("{}/v1/login", server.url))
            .json(&json!({"uid": "alice", "auth_key": "guess"})),
        _ => {
            let mut ws = Ws::open(&server.ws_url, None, "token=guess").await;
            return match ws.next().await {
                Next::Closed(Some(4401), _) => (401, None),
                Next::Closed(Some(4100), reason) => (429, reason.parse().ok()),
                other => panic!("unexpected {other:?}"),
            };
        }
    };
    let r = req.send().await.unwrap();
    let retry = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (r.status().as_u16(), retry)
}

#[tokio::test]
async fn failed_credential_checks_of_every_kind_are_rate_limited() {
    const KINDS: usize = 6;
    // Each kind alone reaches the limit...
    for kind in 0..KINDS {
        let mut cfg = common::config();
        cfg.auth_failures_per_minute = 4;
        let server = TestServer::with(cfg).await;
        server.create_user("alice").await;
        for i in 0..4 {
            assert_eq!(
                fail_once(&server, kind).await.0,
                401,
                "kind {kind}, try {i}"
            );
        }
        let (status, retry) = fail_once(&server, kind).await;
        assert_eq!(status, 429, "kind {kind} not limited");
        let retry = retry.expect("a delay");
        assert!(retry >= 1, "kind {kind}: {retry}");
    }
    // ...and they share one budget per address.
    let mut cfg = common::config();
    cfg.auth_failures_per_minute = KINDS as u32;
    let server = TestServer::with(cfg).await;
    server.create_user("alice").await;
    for kind in 0..KINDS {
        assert_eq!(fail_once(&server, kind).await.0, 401, "kind {kind}");
    }
    for kind in 0..KINDS {
        assert_eq!(fail_once(&server, kind).await.0, 429, "kind {kind}");
    }
    // Over the limit, even a right key gets 429 (no oracle for the guesser).
    let r = server.admin(Method::GET, "/v1/users").send().await.unwrap();
    assert_eq!(r.status(), 429);
}

#[tokio::test]
async fn key_guessing_at_the_default_limit_is_stopped() {
    // The probe: 500 wrong X-Auth-Key in 0.2 s, all 401. Now at most the default 30.
    let server = TestServer::start().await;
    let mut statuses = Vec::new();
    for _ in 0..60 {
        statuses.push(fail_once(&server, 0).await.0);
    }
    let first_429 = statuses
        .iter()
        .position(|s| *s == 429)
        .expect("never limited");
    assert_eq!(first_429, 30, "{statuses:?}");
    assert!(statuses[30..].iter().all(|s| *s == 429), "{statuses:?}");
}

#[tokio::test]
async fn x_forwarded_for_counts_only_from_a_trusted_proxy() {
    let wrong_login = |server: &TestServer, xff: &str| {
        server
            .http
            .post(format!("{}/v1/login", server.url))
            .header("x-forwarded-for", xff)
            .json(&json!({"uid": "alice", "auth_key": "guess"}))
    };
    // Not trusted (the default): the header is ignored, everything counts against the peer.
    let mut cfg = common::config();
    cfg.auth_failures_per_minute = 2;
    let server = TestServer::with(cfg).await;
    for (xff, want) in [("10.0.0.1", 401), ("10.0.0.2", 401), ("10.0.0.3", 429)] {
        let r = wrong_login(&server, xff).send().await.unwrap();
        assert_eq!(r.status(), want, "untrusted, {xff}");
    }
    // Trusted: each client address has its own budget; the entry the proxy appended (the
    // rightmost) counts, not what the client wrote at the left.
    let mut cfg = common::config();
    cfg.auth_failures_per_minute = 2;
    cfg.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    let server = TestServer::with(cfg).await;
    for (xff, want) in [
        ("10.0.0.1", 401),
        ("10.0.0.9, 10.0.0.1", 401),
        ("10.0.0.8, 10.0.0.1", 429),
        ("10.0.0.2", 401),
    ] {
        let r = wrong_login(&server, xff).send().await.unwrap();
        assert_eq!(r.status(), want, "trusted, {xff}");
    }
}

// ---- Finding 13: key comparison ----

#[tokio::test]
async fn keys_of_other_lengths_and_prefixes_are_refused() {
    let server = TestServer::start().await;
    for key in [
        "",
        "t",
        &API_KEY[..API_KEY.len() - 1],
        &format!("{API_KEY}x"),
    ] {
        let r = server
            .http
            .get(format!("{}/v1/users", server.url))
            .header("x-api-key", key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{key:?}");
    }
    assert_eq!(
        server
            .admin(Method::GET, "/v1/users")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

// ---- Finding 5: revocation and deactivation racing an admission ----

#[tokio::test]
async fn a_socket_never_outlives_its_revocation_or_deactivation() {
    let mut cfg = common::config();
    cfg.auth_failures_per_minute = 10_000;
    let server = TestServer::with(cfg).await;
    let alice = server.user_token("alice").await;
    const TRIALS: usize = 45;
    for i in 0..TRIALS {
        let uid = format!("carol{i}");
        let token = server.user_token(&uid).await;
        // Three ways to end a token's sockets: revoke all, deactivate, log out this token.
        let (deactivate, logout) = (i % 3 == 1, i % 3 == 2);
        let ws_url = server.ws_url.clone();
        let t = token.clone();
        // The socket: everything it receives until it closes, and the close code.
        let socket = tokio::spawn(async move {
            let mut ws = Ws::open(&ws_url, Some(&t), "presence=friends").await;
            let mut frames = Vec::new();
            loop {
                match tokio::time::timeout(Duration::from_secs(3), ws.next()).await {
                    Err(_) => return (frames, None, "still open 3 s after the revocation"),
                    Ok(Next::Frame(f)) => frames.push(f),
                    Ok(Next::Closed(code, _)) => return (frames, code, ""),
                }
            }
        });
        // Race the admission: revoke after 0..=3 ms.
        tokio::time::sleep(Duration::from_micros((i as u64 % 4) * 1000)).await;
        let r = if logout {
            server.user(&token, Method::POST, "/v1/logout")
        } else if deactivate {
            server.admin(Method::POST, &format!("/v1/users/{uid}/deactivate"))
        } else {
            server.admin(Method::DELETE, &format!("/v1/users/{uid}/tokens"))
        };
        let r = r.send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        // Answered: from now on the socket may receive nothing more.
        let text = format!("after-revocation-{i}");
        let r = server
            .user(&alice, Method::POST, "/v1/messages")
            .json(&json!({"receiver_type": "user", "receiver": uid, "text": text}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let (frames, code, why) = socket.await.unwrap();
        let want = if deactivate { 4403 } else { 4401 };
        assert_eq!(code, Some(want), "trial {i}: {why}; frames {frames:?}");
        let leaked: Vec<&Value> = frames
            .iter()
            .filter(|f| f.to_string().contains(&text))
            .collect();
        assert!(
            leaked.is_empty(),
            "trial {i}: event after revocation: {leaked:?}"
        );
    }
}
