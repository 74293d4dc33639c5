//! `chinwag-server admin ...`: the operator's chores over a running server's REST API, with the
//! API key (never taken from the command line alone: from `CHINWAG_API_KEY`, `--api-key-file`
//! or the config file, where it does not show in `ps` or the shell's history).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

#[derive(Args, Debug)]
pub struct AdminArgs {
    /// The server's base URL (default: from --listen, and https with --tls-cert).
    #[arg(long, env = "CHINWAG_URL")]
    pub url: Option<String>,
    /// A PEM CA certificate to trust for an https URL (a private CA or a self-signed server).
    #[arg(long, value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,
    #[command(subcommand)]
    pub what: AdminCommand,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Users: create, list, deactivate.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Tokens: revoke.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Groups: list.
    #[command(subcommand)]
    Groups(GroupsCommand),
}

#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// Creates a user; prints it as JSON.
    Create {
        uid: String,
        /// Display name (default: the uid).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        role: Option<String>,
    },
    /// Lists users (every page), one JSON object per line.
    List {
        /// Case-insensitive substring of uid or name.
        #[arg(long)]
        search: Option<String>,
    },
    /// Deactivates a user: their sockets are closed, their tokens stop working.
    Deactivate { uid: String },
}

#[derive(Subcommand, Debug)]
pub enum TokensCommand {
    /// Revokes every token of a user; prints how many.
    Revoke { uid: String },
}

#[derive(Subcommand, Debug)]
pub enum GroupsCommand {
    /// Lists every group (public, private and password), one JSON object per line.
    List {
        #[arg(long)]
        search: Option<String>,
    },
}

/// The server to talk to.
pub struct Target {
    pub url: String,
    pub api_key: String,
    pub ca_cert: Option<PathBuf>,
}

/// Runs one admin command; what it prints goes to stdout, the error is returned.
pub async fn run(target: Target, what: &AdminCommand) -> Result<(), String> {
    let client = Client::new(target)?;
    match what {
        AdminCommand::Users(UsersCommand::Create { uid, name, role }) => {
            let mut body = json!({"uid": uid, "name": name.as_deref().unwrap_or(uid)});
            if let Some(role) = role {
                body["role"] = json!(role);
            }
            let user = client
                .call(reqwest::Method::POST, "/v1/users", Some(body))
                .await?;
            println!("{user}");
        }
        AdminCommand::Users(UsersCommand::List { search }) => {
            client
                .pages("/v1/users", "users", search.as_deref())
                .await?;
        }
        AdminCommand::Users(UsersCommand::Deactivate { uid }) => {
            let path = format!("/v1/users/{}/deactivate", segment(uid));
            let user = client.call(reqwest::Method::POST, &path, None).await?;
            println!("{user}");
        }
        AdminCommand::Tokens(TokensCommand::Revoke { uid }) => {
            let path = format!("/v1/users/{}/tokens", segment(uid));
            let answer = client.call(reqwest::Method::DELETE, &path, None).await?;
            println!("{answer}");
        }
        AdminCommand::Groups(GroupsCommand::List { search }) => {
            client
                .pages("/v1/admin/groups", "groups", search.as_deref())
                .await?;
        }
    }
    Ok(())
}

/// A path segment, percent-encoded.
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

struct Client {
    http: reqwest::Client,
    target: Target,
}

impl Client {
    fn new(target: Target) -> Result<Client, String> {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .timeout(std::time::Duration::from_secs(30));
        if let Some(path) = &target.ca_cert {
            let pem =
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| format!("{}: not a PEM certificate: {e}", path.display()))?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder
            .build()
            .map_err(|e| format!("cannot set up HTTP: {e}"))?;
        Ok(Client { http, target })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}{path_and_query}", self.target.url.trim_end_matches('/'));
        let mut request = self
            .http
            .request(method.clone(), &url)
            .header("x-api-key", &self.target.api_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("{method} {url}: {}", error_chain(&e)))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| format!("{method} {url}: {e}"))?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if !status.is_success() {
            let detail = match (&value["code"], &value["message"]) {
                (Value::String(code), Value::String(message)) => format!("{code}: {message}"),
                _ => value.to_string(),
            };
            return Err(format!("{method} {path_and_query}: {status}: {detail}"));
        }
        Ok(value)
    }

    /// Follows `next_after` through every page, printing each item on its own line.
    async fn pages(&self, path: &str, field: &str, search: Option<&str>) -> Result<(), String> {
        let mut after: Option<String> = None;
        loop {
            let mut query = vec!["limit=100".to_string()];
            if let Some(s) = search {
                query.push(format!("search={}", segment(s)));
            }
            if let Some(a) = &after {
                query.push(format!("after={}", segment(a)));
            }
            let page = self
                .call(
                    reqwest::Method::GET,
                    &format!("{path}?{}", query.join("&")),
                    None,
                )
                .await?;
            for item in page[field].as_array().into_iter().flatten() {
                println!("{item}");
            }
            match page["next_after"].as_str() {
                Some(next) => after = Some(next.to_string()),
                None => return Ok(()),
            }
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
