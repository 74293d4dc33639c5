//! A real chinwag-server for the fuzz targets: in this process, on its own tokio runtime, on a
//! temporary SQLite file, with two users (`alice`, `bob`) and a group (`g1`) they are both in.
//! Built once per process and shared by every input (libFuzzer runs millions of them).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

use chinwag_server::{Config, DbLocation, Durability, ServerHandle};
use serde_json::{json, Value};

pub const AUTH_KEY: &str = "fuzz-auth";
pub const API_KEY: &str = "fuzz-api";

pub struct Lab {
    pub rt: tokio::runtime::Runtime,
    pub handle: ServerHandle,
    pub alice: String,
    pub bob: String,
    _dir: tempfile::TempDir,
}

impl Lab {
    /// The lab in `cell`, started on first use: each target has its own, so that what one
    /// target's inputs do (a deactivated user, say) never changes what another's mean.
    pub fn get(cell: &'static OnceLock<Lab>) -> &'static Lab {
        cell.get_or_init(Lab::start)
    }

    fn start() -> Lab {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut config = Config::local(AUTH_KEY, API_KEY);
        config.db = DbLocation::File(dir.path().join("fuzz.db"));
        // No fsync per commit: the fuzzer is after logic bugs, not power loss.
        config.durability = Durability::Process;
        config.presence_modes = chinwag_server::PresenceModes::ALL;
        // Every input is one request or a handful: no quota or admission limit may turn the
        // run into a stream of RATE_LIMITED answers that cover nothing.
        let lots = chinwag_server::FeatureLimit {
            limit: 1_000_000,
            window: Duration::from_secs(1),
        };
        config.send_limit = lots;
        config.typing_limit = lots;
        config.receipts_limit = lots;
        config.transient_limit = lots;
        config.call_limit = lots;
        config.upgrades_per_ip = lots;
        config.auth_failures_per_minute = 1_000_000;
        config.max_groups_owned = 1_000_000;
        config.max_groups_joined = 1_000_000;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let handle = rt
            .block_on(chinwag_server::start(config))
            .expect("the fuzz server starts");
        let mut lab = Lab {
            rt,
            handle,
            alice: String::new(),
            bob: String::new(),
            _dir: dir,
        };
        for uid in ["alice", "bob"] {
            let (s, v) = lab.call(
                "POST",
                "/v1/users",
                Cred::Api,
                &json!({"uid": uid, "name": uid}).to_string(),
            );
            assert_eq!(s, 201, "creating {uid}: {v}");
        }
        lab.alice = lab.mint("alice");
        lab.bob = lab.mint("bob");
        let g = json!({"guid": "g1", "name": "fuzz group", "type": "public"}).to_string();
        let (s, v) = lab.call("POST", "/v1/groups", Cred::Token(lab.alice.clone()), &g);
        assert_eq!(s, 201, "creating g1: {v}");
        let (s, v) = lab.call(
            "POST",
            "/v1/groups/g1/join",
            Cred::Token(lab.bob.clone()),
            "",
        );
        assert!(s < 300, "bob joining g1: {s} {v}");
        lab
    }

    pub fn addr(&self) -> SocketAddr {
        self.handle.addr()
    }

    /// A fresh token for `uid`.
    pub fn mint(&self, uid: &str) -> String {
        let (s, v) = self.call("POST", &format!("/v1/users/{uid}/tokens"), Cred::Api, "");
        assert_eq!(s, 201, "minting a token for {uid}: {v}");
        v["token"].as_str().expect("a token").to_string()
    }

    /// One REST call over a plain socket (so that a request line can carry any bytes):
    /// status and body (JSON, or the raw text as a JSON string when it is not JSON).
    pub fn call(&self, method: &str, target: &str, cred: Cred, body: &str) -> (u16, Value) {
        let raw = self.raw(method, target.as_bytes(), &cred, body.as_bytes());
        let (status, body) = parse_response(&raw)
            .unwrap_or_else(|| panic!("{method} {target}: unreadable response {raw:?}"));
        (
            status,
            serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into())),
        )
    }

    /// Sends one HTTP/1.1 request with `Connection: close` and returns the whole response.
    pub fn raw(&self, method: &str, target: &[u8], cred: &Cred, body: &[u8]) -> Vec<u8> {
        let mut stream = TcpStream::connect(self.addr()).expect("the fuzz server accepts");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("a read timeout");
        let mut req = Vec::with_capacity(256 + target.len() + body.len());
        req.extend_from_slice(method.as_bytes());
        req.push(b' ');
        req.extend_from_slice(target);
        req.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        match cred {
            Cred::None => {}
            Cred::Api => req.extend_from_slice(format!("x-api-key: {API_KEY}\r\n").as_bytes()),
            Cred::Token(t) => {
                req.extend_from_slice(format!("Authorization: Bearer {t}\r\n").as_bytes())
            }
        }
        if !body.is_empty() {
            req.extend_from_slice(b"Content-Type: application/json\r\n");
        }
        req.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        req.extend_from_slice(body);
        // The server may answer (and close) before reading a body it refuses: a failed write
        // is no failure as long as an answer comes.
        let _ = stream.write_all(&req);
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        out
    }
}

/// Credentials of a REST call.
#[derive(Clone, Debug)]
pub enum Cred {
    None,
    Api,
    Token(String),
}

/// Status and body of an HTTP/1.1 response (a chunked body is de-chunked).
pub fn parse_response(raw: &[u8]) -> Option<(u16, Vec<u8>)> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let status: u16 = head.split(' ').nth(1)?.parse().ok()?;
    let body = &raw[end + 4..];
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("transfer-encoding:")
            && l.to_ascii_lowercase().contains("chunked")
    });
    if !chunked {
        return Some((status, body.to_vec()));
    }
    let (mut out, mut rest) = (Vec::new(), body);
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size =
            usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).ok()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some((status, out));
        }
        out.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}
