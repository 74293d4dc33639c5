//! `chinwag-server` processes for the multi-node suite: each one a real process (so a test can
//! `kill -9` it), on a free loopback port, sharing one PostgreSQL database and one NATS server.
//! Stopped by PID when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{TestServer, API_KEY, AUTH_KEY};

pub struct NodeProcess {
    child: Option<Child>,
    /// The REST and WebSocket helpers, pointed at this process.
    pub server: TestServer,
}

impl NodeProcess {
    /// Starts a node on `store` (a `postgres://` URL) and `bus` (`nats://`), with `extra`
    /// flags, and waits for it to print its address. Blocking.
    pub fn start(store: &str, bus: &str, extra: &[&str]) -> NodeProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chinwag-server"))
            .args(["--listen", "127.0.0.1:0", "--store", store, "--bus", bus])
            .args(["--auth-key", AUTH_KEY, "--api-key", API_KEY])
            .args(["--send-limit", "1000000", "--max-in-flight", "256"])
            .args([
                "--presence-modes",
                "friends,roles,all_users",
                "--log",
                "warn",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chinwag-server starts");
        // Its log goes to the test's captured output (shown when a test fails).
        if let Some(stderr) = child.stderr.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    eprintln!("node: {line}");
                }
            });
        }
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout);
        let mut first = String::new();
        let read = lines.read_line(&mut first);
        // The rest (its log) goes to the test's output, shown when a test fails.
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                eprintln!("node: {line}");
            }
        });
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .map(String::from);
        let Some(url) = url.filter(|_| read.is_ok()) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chinwag-server did not start: {first:?}");
        };
        let ws_url = format!(
            "{}{}",
            url.replace("http://", "ws://"),
            chinwag_protocol::WS_PATH
        );
        NodeProcess {
            child: Some(child),
            server: TestServer {
                handle: None,
                url,
                ws_url,
                http: reqwest::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .expect("http client"),
            },
        }
    }

    /// `kill -9`: no shutdown, no goodbye to anyone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
