//! Test harness: a real server on an ephemeral loopback port, a REST helper, and a raw
//! WebSocket client that speaks the JSON frames of docs/protocol.md.
#![allow(dead_code)]

pub mod nats;
pub mod nodes;
pub mod pg;

use std::time::Duration;

use chinwag_server::{Config, ServerHandle};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const AUTH_KEY: &str = "test-auth-key";
pub const API_KEY: &str = "test-api-key";
/// Upper bound for anything a test waits on; generous, since it only matters on failure.
pub const WAIT: Duration = Duration::from_secs(10);

/// The test server: every presence mode enabled, since the suites exercise all of them
/// (the default is friends only; tests of that default set it back).
///
/// With `CHINWAG_TEST_STORE=postgres` (as `make server-test-postgres` runs the suites, through
/// tests/postgres/with-postgres.sh) each server gets a fresh database of the test-owned
/// PostgreSQL named by `CHINWAG_TEST_POSTGRES`; otherwise a throwaway SQLite file.
pub fn config() -> Config {
    let mut config = Config::local(AUTH_KEY, API_KEY);
    config.presence_modes = chinwag_server::PresenceModes::ALL;
    if let Some(db) = test_postgres_database() {
        config.db = chinwag_server::DbLocation::Postgres(db);
    }
    config
}

/// A fresh database on the test PostgreSQL, when the suites run against PostgreSQL.
pub fn test_postgres_database() -> Option<String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    match std::env::var("CHINWAG_TEST_STORE").ok().as_deref() {
        None | Some("") | Some("sqlite") => None,
        Some("postgres") => {
            let admin = std::env::var("CHINWAG_TEST_POSTGRES").expect(
                "CHINWAG_TEST_STORE=postgres needs CHINWAG_TEST_POSTGRES (a connection string); \
                 run the suites through tests/postgres/with-postgres.sh",
            );
            let name = format!(
                "t{}_{}_{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::SeqCst),
                rand::random::<u32>()
            );
            Some(
                chinwag_server::create_postgres_database(&admin, &name)
                    .expect("test database created"),
            )
        }
        Some(other) => panic!("CHINWAG_TEST_STORE={other}: use sqlite or postgres"),
    }
}

pub struct TestServer {
    pub handle: Option<ServerHandle>,
    pub url: String,
    pub ws_url: String,
    pub http: reqwest::Client,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::with(config()).await
    }

    pub async fn with(config: Config) -> TestServer {
        let handle = chinwag_server::start(config).await.expect("server starts");
        TestServer {
            url: handle.url(),
            ws_url: handle.ws_url(),
            handle: Some(handle),
            http: reqwest::Client::new(),
        }
    }

    pub async fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.shutdown().await;
        }
    }

    /// A request with the API key.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .header("x-api-key", API_KEY)
    }

    /// A request as a user.
    pub fn user(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(token)
    }

    pub async fn create_user(&self, uid: &str) {
        self.create_user_with(uid, json!({})).await
    }

    pub async fn create_user_with(&self, uid: &str, extra: Value) {
        let mut body = json!({"uid": uid, "name": format!("User {uid}")});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let r = self
            .http
            .post(format!("{}/v1/users", self.url))
            .header("x-auth-key", AUTH_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "create {uid}: {}", r.text().await.unwrap());
    }

    /// Logs in with the auth key and returns the token.
    pub async fn login(&self, uid: &str) -> String {
        let r = self
            .http
            .post(format!("{}/v1/login", self.url))
            .json(&json!({"uid": uid, "auth_key": AUTH_KEY}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        v["token"].as_str().unwrap().to_string()
    }

    /// Creates a user and returns a token for it.
    pub async fn user_token(&self, uid: &str) -> String {
        self.create_user(uid).await;
        self.login(uid).await
    }

    /// Creates a group owned by the token's user and adds `members`.
    pub async fn group(&self, owner_token: &str, guid: &str, members: &[&str]) {
        let r = self
            .user(owner_token, reqwest::Method::POST, "/v1/groups")
            .json(&json!({"guid": guid, "name": format!("Group {guid}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        if !members.is_empty() {
            let list: Vec<Value> = members.iter().map(|m| json!({"uid": m})).collect();
            let r = self
                .user(
                    owner_token,
                    reqwest::Method::POST,
                    &format!("/v1/groups/{guid}/members"),
                )
                .json(&json!({"members": list}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
    }

    /// Opens a socket and reads its accept frame.
    pub async fn connect(&self, token: &str) -> (Ws, Value) {
        self.connect_with(token, "").await
    }

    /// Opens a socket with extra query parameters (`last_seq=3&presence=all_users`).
    pub async fn connect_with(&self, token: &str, query: &str) -> (Ws, Value) {
        let mut ws = Ws::open(&self.ws_url, Some(token), query).await;
        let accept = ws.next_frame().await;
        assert_eq!(accept["type"], "accept", "expected accept, got {accept}");
        (ws, accept)
    }
}

/// A raw protocol client.
pub struct Ws {
    pub inner: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_req: u64,
}

/// What a socket yielded.
#[derive(Debug)]
pub enum Next {
    Frame(Value),
    Closed(Option<u16>, String),
}

impl Ws {
    pub async fn open(ws_url: &str, token: Option<&str>, query: &str) -> Ws {
        let url = if query.is_empty() {
            ws_url.to_string()
        } else {
            format!("{ws_url}?{query}")
        };
        let mut req = url.into_client_request().unwrap();
        if let Some(t) = token {
            req.headers_mut()
                .insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        let (inner, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("websocket connects");
        Ws { inner, next_req: 0 }
    }

    /// Wraps a socket opened by other means (say, with extra headers).
    pub fn from_stream(inner: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Ws {
        Ws { inner, next_req: 0 }
    }

    pub async fn send(&mut self, frame: Value) {
        self.inner
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.inner.send(Message::Text(text.into())).await.unwrap();
    }

    pub fn req(&mut self) -> String {
        self.next_req += 1;
        format!("r{}", self.next_req)
    }

    /// The next frame or close, within [`WAIT`].
    pub async fn next(&mut self) -> Next {
        loop {
            let msg = tokio::time::timeout(WAIT, self.inner.next())
                .await
                .expect("timed out waiting for a frame");
            match msg {
                Some(Ok(Message::Text(t))) => {
                    return Next::Frame(serde_json::from_str(&t).unwrap())
                }
                Some(Ok(Message::Close(c))) => {
                    let (code, reason) = c
                        .map(|CloseFrame { code, reason }| {
                            (Some(u16::from(code)), reason.to_string())
                        })
                        .unwrap_or((None, String::new()));
                    return Next::Closed(code, reason);
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Next::Closed(None, "connection lost".into()),
            }
        }
    }

    pub async fn next_frame(&mut self) -> Value {
        match self.next().await {
            Next::Frame(v) => v,
            Next::Closed(code, reason) => {
                panic!("socket closed ({code:?}, {reason}) while a frame was expected")
            }
        }
    }

    /// Skips frames until one of this type arrives.
    pub async fn expect(&mut self, kind: &str) -> Value {
        loop {
            let f = self.next_frame().await;
            if f["type"] == kind {
                return f;
            }
        }
    }

    /// Skips frames until a durable event of this kind arrives.
    pub async fn expect_event(&mut self, event: &str) -> Value {
        loop {
            let f = self.next_frame().await;
            if f["type"] == "event" && f["event"] == event {
                return f;
            }
        }
    }

    /// Skips frames until the socket closes; returns the close code.
    pub async fn expect_close(&mut self) -> Option<u16> {
        loop {
            if let Next::Closed(code, _) = self.next().await {
                return code;
            }
        }
    }

    /// Sends a request and waits for its ack or error (other frames are skipped).
    pub async fn request(&mut self, mut frame: Value) -> Value {
        let req = self.req();
        frame["req"] = json!(req);
        self.send(frame).await;
        loop {
            let f = self.next_frame().await;
            if (f["type"] == "ack" || f["type"] == "error") && f["req"] == json!(req) {
                return f;
            }
        }
    }

    /// Sends a text message and returns the ack's result (the sender's copy).
    pub async fn send_text(&mut self, receiver_type: &str, receiver: &str, text: &str) -> Value {
        let ack = self
            .request(json!({"type": "send", "message": {
                "receiver_type": receiver_type, "receiver": receiver, "text": text
            }}))
            .await;
        assert_eq!(ack["type"], "ack", "send failed: {ack}");
        ack["result"].clone()
    }

    /// Reads frames until `replay_done`, returning the replayed events.
    pub async fn replay(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let f = self.next_frame().await;
            match f["type"].as_str() {
                Some("event") => out.push(f),
                Some("replay_done") => return out,
                _ => {}
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.inner.close(None).await;
        // Drain until the server's close arrives so it has unregistered the socket.
        while let Ok(Some(Ok(_))) = tokio::time::timeout(WAIT, self.inner.next()).await {}
    }
}
