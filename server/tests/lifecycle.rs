//! Restart on the same database, graceful shutdown, TLS, the heartbeat, and the binary itself.
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chinwag_protocol::close;
use chinwag_server::{DbLocation, TlsFiles};
use common::*;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn restart_on_the_same_database_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.db = DbLocation::File(dir.path().join("chat.sqlite3"));
    let mut server = TestServer::with(cfg.clone()).await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    server.group(&alice, "g", &["bob"]).await;
    let (mut a, _) = server.connect(&alice).await;
    let mut acked = Vec::new();
    for i in 0..20 {
        let target = if i % 2 == 0 {
            ("user", "bob")
        } else {
            ("group", "g")
        };
        acked.push(a.send_text(target.0, target.1, &format!("m{i}")).await["data"]["id"].clone());
    }
    server.stop().await;

    let server = TestServer::with(cfg).await;
    // Tokens, users, groups and the event log all survived.
    let (mut b, accept) = server.connect_with(&bob, "last_seq=0").await;
    assert_eq!(accept["resume"]["status"], "complete");
    let replayed = b.replay().await;
    assert_eq!(
        replayed[0]["event"], "group_member",
        "bob being added to g comes first"
    );
    let ids: Vec<Value> = replayed[1..]
        .iter()
        .map(|f| f["data"]["id"].clone())
        .collect();
    assert_eq!(ids, acked);
    let history: Value = server
        .user(
            &bob,
            Method::GET,
            "/v1/messages?receiver_type=group&receiver=g&limit=100",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(history["messages"].as_array().unwrap().len(), 10);
    // Sequence numbers continue where they stopped.
    let next = server
        .connect(&alice)
        .await
        .0
        .send_text("user", "bob", "after restart")
        .await;
    assert!(next["seq"].as_u64().unwrap() > 20);
}

#[tokio::test]
async fn shutdown_closes_sockets_with_the_retry_code() {
    let mut server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let (mut a, _) = server.connect(&alice).await;
    a.replay().await;
    server.stop().await;
    assert_eq!(a.expect_close().await, Some(close::SERVICE_RESTART));
    assert_eq!(
        close::action_for(close::SERVICE_RESTART, ""),
        close::CloseAction::RetryWithBackoff
    );
}

#[tokio::test]
async fn tls_serves_rest_and_websocket_with_a_generated_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let mut cfg = config();
    cfg.tls = Some(TlsFiles {
        cert: cert_path,
        key: key_path,
    });
    let server = TestServer::with(cfg).await;
    assert!(server.url.starts_with("https://"));
    let port = server.handle.as_ref().unwrap().addr().port();

    let root = reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(root)
        .build()
        .unwrap();
    let base = format!("https://localhost:{port}");
    let r = http
        .post(format!("{base}/v1/users"))
        .header("x-auth-key", AUTH_KEY)
        .json(&json!({"uid": "alice", "name": "Alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let login: Value = http
        .post(format!("{base}/v1/login"))
        .json(&json!({"uid": "alice", "auth_key": AUTH_KEY}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Plain HTTP against the TLS port gets nowhere.
    assert!(reqwest::get(format!("http://127.0.0.1:{port}/v1/health"))
        .await
        .is_err());

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let url = format!(
        "wss://localhost:{port}/v1/ws?token={}",
        login["token"].as_str().unwrap()
    );
    let (mut ws, _) = tokio_tungstenite::connect_async_tls_with_config(
        url,
        None,
        false,
        Some(tokio_tungstenite::Connector::Rustls(Arc::new(tls))),
    )
    .await
    .unwrap();
    use futures_util::StreamExt;
    let first = tokio::time::timeout(WAIT, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let accept: Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert_eq!(accept["type"], "accept");
    assert_eq!(accept["user"]["uid"], "alice");
}

/// A client that completes the upgrade and then never sends a byte, not even a pong.
#[tokio::test]
async fn a_silent_client_is_dropped_after_the_heartbeat_bound() {
    let mut cfg = config();
    cfg.ping_interval = Duration::from_millis(200);
    cfg.heartbeat_grace = Duration::from_millis(200);
    let server = TestServer::with(cfg).await;
    let token = server.user_token("alice").await;
    let addr = server.handle.as_ref().unwrap().addr();
    let code = tokio::task::spawn_blocking(move || {
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(WAIT)).unwrap();
        write!(
            tcp,
            "GET /v1/ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Authorization: Bearer {token}\r\n\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(tcp);
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.contains("101"), "upgrade refused: {status}");
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
        }
        let mut pings = 0;
        // Read server frames (unmasked) until the close frame; never answer anything.
        loop {
            let mut head = [0u8; 2];
            reader.read_exact(&mut head).unwrap();
            let mut len = u64::from(head[1] & 0x7f);
            if len == 126 {
                let mut b = [0u8; 2];
                reader.read_exact(&mut b).unwrap();
                len = u64::from(u16::from_be_bytes(b));
            } else if len == 127 {
                let mut b = [0u8; 8];
                reader.read_exact(&mut b).unwrap();
                len = u64::from_be_bytes(b);
            }
            let mut payload = vec![0u8; len as usize];
            reader.read_exact(&mut payload).unwrap();
            match head[0] & 0x0f {
                0x9 => pings += 1,
                0x8 => return (u16::from_be_bytes([payload[0], payload[1]]), pings),
                _ => {}
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(code.0, close::HEARTBEAT_TIMEOUT);
    assert!(code.1 >= 1, "the server pinged before giving up");
}

#[test]
fn the_binary_prints_how_to_reach_it_and_exits_cleanly_on_sigterm() {
    let bin = env!("CARGO_BIN_EXE_chinwag-server");
    let refused = Command::new(bin)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--auth-key"));

    let mut child = Command::new(bin)
        .args(["--dev", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..6 {
        let mut l = String::new();
        out.read_line(&mut l).unwrap();
        lines.push(l);
    }
    let url = lines[0]
        .split("listening on ")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"));
    let text = lines.concat();
    assert!(
        text.contains("auth key:") && text.contains("api key:"),
        "{text}"
    );
    let health: Value = reqwest::blocking_get(&format!("{url}/v1/health"));
    assert_eq!(health["status"], "ok");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + WAIT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("server did not exit after SIGTERM");
        }
        std::thread::park_timeout(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

mod reqwest {
    pub use ::reqwest::*;

    /// A tiny blocking GET for the one test that runs outside a runtime.
    pub fn blocking_get(url: &str) -> serde_json::Value {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async { ::reqwest::get(url).await.unwrap().json().await.unwrap() })
    }
}
