//! A chinwag-server for the C tests and examples: starts on a free loopback port with an
//! in-memory database, creates the users named on the command line (default: a fixed cast),
//! prints `URL AUTH_KEY` on one line, and serves until its standard input closes.
//!
//! `tests/c/run.sh` starts it with a pipe on stdin, reads the line, runs the C programs with
//! `CHINWAG_URL` and `CHINWAG_AUTH_KEY`, then closes the pipe (and stops it by PID if needed).
//!
//! `CHINWAG_TEST_CALL_TIMEOUT_MS`, when set, replaces the server's unanswered-call timeout
//! (45 s by default), so that tests and the demo can show an unanswered call in seconds.

use std::io::{Read, Write};

use chinwag_server::Config;
use serde_json::json;

const AUTH_KEY: &str = "c-tests-auth-key";
const API_KEY: &str = "c-tests-api-key";
const CAST: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "zoe",
    // Only tests/c/conversations.c: its unread counts are exact because nobody else writes to
    // these two.
    "uma", "xena",
];

/// The unanswered-call timeout from `CHINWAG_TEST_CALL_TIMEOUT_MS`, if set.
fn call_timeout_ms() -> Result<Option<u64>, String> {
    match std::env::var("CHINWAG_TEST_CALL_TIMEOUT_MS") {
        Err(std::env::VarError::NotPresent) => Ok(None),
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(ms) if ms > 0 => Ok(Some(ms)),
            _ => Err(format!(
                "CHINWAG_TEST_CALL_TIMEOUT_MS={v:?} is not a positive number of milliseconds"
            )),
        },
        Err(e) => Err(format!("CHINWAG_TEST_CALL_TIMEOUT_MS: {e}")),
    }
}

async fn run() -> Result<(), String> {
    let mut config = Config::local(AUTH_KEY, API_KEY);
    // Every C program logs in, connects and reconnects many times from 127.0.0.1 (and some
    // test bad credentials on purpose).
    config.auth_failures_per_minute = 100_000;
    config.upgrades_per_ip.limit = 100_000;
    config.max_connections_per_ip = 100_000;
    config.max_sockets_per_user = 10_000;
    // tests/c/first_use.c sends one message per round, 1,000 rounds in a few seconds.
    config.send_limit.limit = 100_000;
    // The C programs exercise every presence mode (the default is friends only).
    config.presence_modes = chinwag_server::PresenceModes::ALL;
    if let Some(ms) = call_timeout_ms()? {
        config.call_timeout = std::time::Duration::from_millis(ms);
    }
    let server = chinwag_server::start(config).await?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let users: Vec<&str> = if args.is_empty() {
        CAST.to_vec()
    } else {
        args.iter().map(String::as_str).collect()
    };
    let http = reqwest::Client::new();
    for uid in users {
        let mut name = uid.to_string();
        name[..1].make_ascii_uppercase();
        let resp = http
            .post(format!("{}/v1/users", server.url()))
            .header("x-auth-key", AUTH_KEY)
            .json(&json!({"uid": uid, "name": name}))
            .send()
            .await
            .map_err(|e| format!("cannot create user {uid}: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("cannot create user {uid}: HTTP {}", resp.status()));
        }
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{} {AUTH_KEY}", server.url()).map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }
    // Serve until stdin reaches EOF (the parent closed the pipe or exited).
    tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
    })
    .await
    .map_err(|e| e.to_string())?;
    server.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("serve_for_tests: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
