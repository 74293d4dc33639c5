//! `make demo`: starts a chinwag-server on a free loopback port with a temporary database,
//! then two users talk over real sockets, one of them reconnects and resumes, and the server
//! stops. Prints a readable transcript.

use std::time::Duration;

use chinwag_server::{Config, DbLocation};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const WAIT: Duration = Duration::from_secs(10);

async fn next(ws: &mut Socket) -> Result<Value, String> {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await {
            Err(_) => return Err("timed out waiting for a frame".into()),
            Ok(Some(Ok(Message::Text(t)))) => {
                return serde_json::from_str(&t).map_err(|e| e.to_string())
            }
            Ok(Some(Ok(_))) => continue,
            Ok(other) => return Err(format!("socket ended: {other:?}")),
        }
    }
}

async fn until(ws: &mut Socket, kind: &str) -> Result<Value, String> {
    loop {
        let f = next(ws).await?;
        if f["type"] == kind {
            return Ok(f);
        }
    }
}

async fn connect(
    ws_url: &str,
    token: &str,
    query: &str,
    who: &str,
) -> Result<(Socket, Value), String> {
    let mut req = format!("{ws_url}?{query}")
        .into_client_request()
        .map_err(|e| e.to_string())?;
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().map_err(|_| "bad token")?,
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .map_err(|e| e.to_string())?;
    let accept = until(&mut ws, "accept").await?;
    println!(
        "[{who}] connected: session {} resume {} (last_seq {})",
        accept["session_id"], accept["resume"]["status"], accept["resume"]["last_seq"]
    );
    Ok((ws, accept))
}

async fn run() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut config = Config::local("demo-auth-key", "demo-api-key");
    config.db = DbLocation::File(dir.path().join("demo.sqlite3"));
    // The demo's users are strangers and watch everyone's presence (`presence=all_users`), a
    // mode a server only serves when it is enabled (the default is friends only).
    config.presence_modes = chinwag_server::PresenceModes::ALL;
    let server = chinwag_server::start(config).await?;
    println!(
        "server: listening on {} (database in a temp dir)",
        server.url()
    );
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for (uid, name) in [("alice", "Alice"), ("bob", "Bob")] {
        http.post(format!("{}/v1/users", server.url()))
            .header("x-auth-key", "demo-auth-key")
            .json(&json!({"uid": uid, "name": name}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let login: Value = http
            .post(format!("{}/v1/login", server.url()))
            .json(&json!({"uid": uid, "auth_key": "demo-auth-key"}))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        println!("[{uid}] logged in");
        tokens.push(login["token"].as_str().unwrap_or_default().to_string());
    }
    let ws_url = server.ws_url();
    let (mut alice, _) = connect(&ws_url, &tokens[0], "presence=all_users", "alice").await?;
    until(&mut alice, "replay_done").await?;
    let (mut bob, _) = connect(&ws_url, &tokens[1], "presence=all_users", "bob").await?;
    let p = until(&mut alice, "presence").await?;
    println!("[alice] presence: {} is {}", p["uid"], p["status"]);

    let send = json!({"type": "send", "req": "1", "message": {"receiver_type": "user", "receiver": "bob", "text": "Hi Bob!"}});
    alice
        .send(Message::Text(send.to_string().into()))
        .await
        .map_err(|e| e.to_string())?;
    let ack = until(&mut alice, "ack").await?;
    println!(
        "[alice] sent message {} (seq {})",
        ack["result"]["data"]["id"], ack["result"]["seq"]
    );
    let got = until(&mut bob, "event").await?;
    println!(
        "[bob] received from {}: {}",
        got["data"]["sender"], got["data"]["text"]
    );
    let typing = json!({"type": "typing_start", "receiver_type": "user", "receiver": "alice"});
    bob.send(Message::Text(typing.to_string().into()))
        .await
        .map_err(|e| e.to_string())?;
    let t = until(&mut alice, "typing_started").await?;
    println!("[alice] {} is typing", t["sender"]);
    let last_seq = got["seq"].as_u64().unwrap_or(0);

    bob.close(None).await.map_err(|e| e.to_string())?;
    println!("[bob] disconnected at seq {last_seq}");
    let p = until(&mut alice, "presence").await?;
    println!("[alice] presence: {} is {}", p["uid"], p["status"]);
    for (i, text) in ["Are you there?", "Call me when you're back."]
        .iter()
        .enumerate()
    {
        let send = json!({"type": "send", "req": format!("m{i}"), "message": {"receiver_type": "user", "receiver": "bob", "text": text}});
        alice
            .send(Message::Text(send.to_string().into()))
            .await
            .map_err(|e| e.to_string())?;
        until(&mut alice, "ack").await?;
        println!("[alice] sent while bob is away: {text}");
    }
    let (mut bob, accept) =
        connect(&ws_url, &tokens[1], &format!("last_seq={last_seq}"), "bob").await?;
    println!(
        "[bob] server replays {} missed events",
        accept["resume"]["replay_count"]
    );
    loop {
        let f = next(&mut bob).await?;
        match f["type"].as_str() {
            Some("event") => println!("[bob] replayed seq {}: {}", f["seq"], f["data"]["text"]),
            Some("replay_done") => break,
            _ => {}
        }
    }
    server.shutdown().await;
    let close = bob.next().await;
    println!(
        "server: stopped; bob's socket closed with {:?}",
        close.and_then(|m| m.ok()).map(|m| m.to_string())
    );
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => {
            println!("demo: done");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("demo failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
