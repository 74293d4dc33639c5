//! The binary's operator surface: `--config FILE` (file, then environment, then flags win),
//! `--print-config` with secrets masked, `--log-format json`, and `chinwag-server admin ...`
//! against a real server.
mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_chinwag-server");

/// The binary with none of the settings' environment variables of the machine running the tests.
fn bin() -> Command {
    let mut c = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("CHINWAG_") {
            c.env_remove(k);
        }
    }
    c
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The value and source of one `key = value   # source` line of --print-config.
fn setting<'a>(printed: &'a str, key: &str) -> (&'a str, &'a str) {
    let line = printed
        .lines()
        .find(|l| l.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("{key} not printed:\n{printed}"));
    let rest = &line[key.len() + 3..];
    let (value, source) = rest.split_once("   # ").expect("a source");
    (value, source)
}

#[test]
fn config_file_then_environment_then_flags_and_secrets_are_masked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chinwag.toml");
    std::fs::write(
        &file,
        r#"
listen = "127.0.0.1:7001"
app_id = "from-file"
ping_interval_ms = 1111
replay_limit = 2222
auth_key = "file-auth-secret"
api_key = "file-api-secret"
trusted_proxy = ["10.0.0.1", "10.0.0.2"]
dev = true
"#,
    )
    .unwrap();
    let out = bin()
        .arg("--config")
        .arg(&file)
        .args(["--print-config", "--ping-interval-ms", "3333"])
        .env("CHINWAG_APP_ID", "from-env")
        .env("CHINWAG_API_KEY", "env-api-secret")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    // The file alone.
    assert_eq!(
        setting(&stdout, "listen"),
        ("\"127.0.0.1:7001\"", "config file")
    );
    assert_eq!(setting(&stdout, "replay_limit"), ("2222", "config file"));
    assert_eq!(setting(&stdout, "dev"), ("true", "config file"));
    assert_eq!(
        setting(&stdout, "trusted_proxy"),
        ("[\"10.0.0.1\", \"10.0.0.2\"]", "config file")
    );
    // The environment beats the file; a flag beats both.
    assert_eq!(setting(&stdout, "app_id"), ("\"from-env\"", "environment"));
    assert_eq!(
        setting(&stdout, "ping_interval_ms"),
        ("3333", "command line")
    );
    // Untouched: the default.
    assert_eq!(setting(&stdout, "max_connections"), ("10000", "default"));
    // Secrets: never printed, whatever their source.
    assert_eq!(
        setting(&stdout, "auth_key"),
        ("\"********\"", "config file")
    );
    assert_eq!(setting(&stdout, "api_key"), ("\"********\"", "environment"));
    for secret in ["file-auth-secret", "file-api-secret", "env-api-secret"] {
        assert!(!stdout.contains(secret), "{stdout}");
    }
    // What it prints is itself a valid config file.
    let reparsed: toml::Table = stdout.parse().expect("valid TOML");
    assert_eq!(reparsed["replay_limit"].as_integer(), Some(2222));

    // A flag beats the environment too.
    let out = bin()
        .arg("--config")
        .arg(&file)
        .args(["--print-config", "--app-id", "from-flag"])
        .env("CHINWAG_APP_ID", "from-env")
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert_eq!(
        setting(&stdout, "app_id"),
        ("\"from-flag\"", "command line")
    );
}

#[test]
fn config_file_mistakes_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\nmax_conections = 5\n").unwrap();
    let out = bin().arg("--config").arg(&file).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unknown setting \"max_conections\""),
        "{stderr}"
    );

    std::fs::write(&file, "listen = [\n").unwrap();
    let out = bin().arg("--config").arg(&file).output().unwrap();
    assert!(text(&out).1.contains("not valid TOML"), "{}", text(&out).1);

    std::fs::write(&file, "max_connections = \"many\"\n").unwrap();
    let out = bin().arg("--config").arg(&file).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("max-connections"), "{stderr}");

    let missing = dir.path().join("nope.toml");
    let out = bin().arg("--config").arg(&missing).output().unwrap();
    assert!(
        text(&out).1.contains("cannot read the config file"),
        "{}",
        text(&out).1
    );
}

/// A server process from a config file, keys from files; returns it and its URL.
fn start_from_config(dir: &Path, extra: &[&str]) -> (Child, String, Vec<String>) {
    std::fs::write(dir.join("auth.key"), "file-auth-key\n").unwrap();
    std::fs::write(dir.join("api.key"), "file-api-key\n").unwrap();
    let file = dir.join("chinwag.toml");
    std::fs::write(
        &file,
        format!(
            "listen = \"127.0.0.1:0\"\ndb = \"{}\"\nauth_key_file = \"{}\"\napi_key_file = \"{}\"\n",
            dir.join("chat.sqlite3").display(),
            dir.join("auth.key").display(),
            dir.join("api.key").display()
        ),
    )
    .unwrap();
    let mut child = bin()
        .arg("--config")
        .arg(&file)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a line").unwrap();
    let url = first
        .split(" listening on ")
        .nth(1)
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    let mut banner = vec![first];
    for _ in 0..3 {
        banner.push(lines.next().expect("a line").unwrap());
    }
    (child, url, banner)
}

fn stop(mut child: Child) -> String {
    // SIGTERM: the server shuts down cleanly and says so in its log.
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut log).unwrap();
    log
}

#[test]
fn keys_from_files_and_json_logs() {
    let dir = tempfile::tempdir().unwrap();
    let (child, url, banner) = start_from_config(dir.path(), &["--log-format", "json"]);
    assert!(
        banner.iter().any(|l| l.contains("chat.sqlite3")),
        "{banner:?}"
    );
    // The key from the file works (its trailing newline is not part of it).
    let ok = get_users_status(&url, "file-api-key");
    assert_eq!(ok, 200);
    let log = stop(child);
    let records: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l:?}")))
        .collect();
    assert!(
        records
            .iter()
            .any(|r| r["fields"]["message"] == "server stopped"),
        "{log}"
    );
    assert!(records.iter().all(|r| r["level"].is_string()));
}

/// The admin command with the API key in the environment.
fn admin(url: &str, key: Option<&str>, args: &[&str]) -> Output {
    let mut c = bin();
    c.arg("admin").arg("--url").arg(url).args(args);
    if let Some(key) = key {
        c.env("CHINWAG_API_KEY", key);
    }
    c.output().unwrap()
}

fn lines_json(out: &Output) -> Vec<Value> {
    text(out)
        .0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_against_a_running_server() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let run = |key: Option<&'static str>, args: Vec<&'static str>| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || admin(&url, key, &args))
    };

    let out = run(
        Some(API_KEY),
        vec![
            "users", "create", "alice", "--name", "Alice", "--role", "staff",
        ],
    )
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    let created = &lines_json(&out)[0];
    assert_eq!(created["uid"], "alice");
    assert_eq!(created["role"], "staff");
    for uid in ["bob", "carol"] {
        let out = run(Some(API_KEY), vec!["users", "create", uid])
            .await
            .unwrap();
        assert!(out.status.success(), "{}", text(&out).1);
    }
    let out = run(Some(API_KEY), vec!["users", "list"]).await.unwrap();
    let uids: Vec<Value> = lines_json(&out).iter().map(|u| u["uid"].clone()).collect();
    assert_eq!(uids, vec![json!("alice"), json!("bob"), json!("carol")]);

    // Groups of every type are listed, not only the public ones.
    let alice = server.login("alice").await;
    for (guid, kind) in [("pub", "public"), ("priv", "private")] {
        let r = server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({"guid": guid, "name": guid, "type": kind}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let out = run(Some(API_KEY), vec!["groups", "list"]).await.unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    let guids: Vec<Value> = lines_json(&out).iter().map(|g| g["guid"].clone()).collect();
    assert_eq!(guids, vec![json!("priv"), json!("pub")]);

    // Revoking tokens: alice's token stops working.
    let out = run(Some(API_KEY), vec!["tokens", "revoke", "alice"])
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(lines_json(&out)[0]["revoked"], 1);
    let r = server
        .user(&alice, Method::GET, "/v1/me")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Deactivating: bob cannot log in any more.
    let out = run(Some(API_KEY), vec!["users", "deactivate", "bob"])
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    let r = server
        .http
        .post(format!("{}/v1/login", server.url))
        .json(&json!({"uid": "bob", "auth_key": AUTH_KEY}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Errors are the server's, named.
    let out = run(Some(API_KEY), vec!["users", "deactivate", "nobody"])
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).1.contains("404"), "{}", text(&out).1);
    let out = run(Some("wrong-key"), vec!["users", "list"]).await.unwrap();
    assert!(!out.status.success());
    assert!(text(&out).1.contains("401"), "{}", text(&out).1);
    // No key, or a key only on the command line: refused before any request.
    let out = run(None, vec!["users", "list"]).await.unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("CHINWAG_API_KEY"), "{}", text(&out).1);
    let url2 = url.clone();
    let out = tokio::task::spawn_blocking(move || {
        bin()
            .args([
                "--api-key",
                API_KEY,
                "admin",
                "--url",
                &url2,
                "users",
                "list",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains("not taken from the command line"),
        "{}",
        text(&out).1
    );
    // Nobody listening: the address and the cause.
    let out = admin("http://127.0.0.1:9", Some(API_KEY), &["users", "list"]);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("127.0.0.1:9"), "{}", text(&out).1);
}

#[test]
fn admin_reads_the_servers_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let (child, url, _) = start_from_config(dir.path(), &[]);
    // The same config file gives the admin command its key; the URL is the bound one
    // (the file says port 0).
    let out = bin()
        .arg("--config")
        .arg(dir.path().join("chinwag.toml"))
        .args(["admin", "--url", &url, "users", "create", "dora"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(lines_json(&out)[0]["uid"], "dora");
    stop(child);
}

/// `GET /v1/users` with the API key, from a plain thread.
fn get_users_status(url: &str, key: &str) -> u16 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{url}/v1/users"))
            .header("x-api-key", key)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}
