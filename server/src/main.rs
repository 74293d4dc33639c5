//! `chinwag-server` command line.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chinwag_server::{Config, DbLocation, Durability, FeatureLimit, PresenceModes, TlsFiles};
use clap::{CommandFactory, FromArgMatches, Parser};

// --- Operations (issue 15): the config file and the admin command line ---
#[path = "cli/admin.rs"]
mod admin;
#[path = "cli/config_file.rs"]
mod config_file;

/// The self-hostable Chinwag chat server: REST and WebSocket on one port, state in SQLite.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    // --- Operations (issue 15): subcommands; without one, the server runs ---
    #[command(subcommand)]
    command: Option<Command>,

    /// Address to listen on (port 0 picks a free port; the real one is printed).
    #[arg(long, default_value = "127.0.0.1:8080", env = "CHINWAG_LISTEN")]
    listen: SocketAddr,
    /// SQLite database file, or `:memory:` for a throwaway database (same as --store sqlite:PATH).
    #[arg(long, env = "CHINWAG_DB", conflicts_with = "store")]
    db: Option<String>,
    /// Where state lives: `sqlite:PATH` (one node) or `postgres://USER@HOST:PORT/DATABASE`
    /// (several nodes sharing one PostgreSQL database).
    #[arg(long, env = "CHINWAG_STORE")]
    store: Option<String>,
    /// The NATS server that carries live events between nodes: `nats://HOST:PORT`. Only with
    /// a PostgreSQL --store; every node of the deployment names the same one.
    #[arg(long, env = "CHINWAG_BUS")]
    bus: Option<String>,
    /// With --bus: a node proves it is alive this often (ms); one silent for two of these is
    /// dead, and another node sends its users' offline presence.
    #[arg(long, env = "CHINWAG_NODE_HEARTBEAT_MS", default_value_t = 2_000)]
    node_heartbeat_ms: u64,
    /// The app this server serves.
    #[arg(long, env = "CHINWAG_APP_ID", default_value = "chinwag-app")]
    app_id: String,
    /// Development key: create users and log in as any uid. Prefer the environment or
    /// --auth-key-file to the command line (which `ps` shows).
    #[arg(long, env = "CHINWAG_AUTH_KEY")]
    auth_key: Option<String>,
    /// Server-to-server key for the app's backend (environment or --api-key-file preferred).
    #[arg(long, env = "CHINWAG_API_KEY")]
    api_key: Option<String>,
    /// Development mode: generate missing keys and print them; in-memory database by default.
    #[arg(long)]
    dev: bool,
    /// PEM certificate chain; with --tls-key, serve https/wss.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Server ping interval (advertised to clients).
    #[arg(long, default_value_t = 20_000)]
    ping_interval_ms: u64,
    /// Events replayed on resume before a gap is declared.
    #[arg(long, default_value_t = 1000)]
    replay_limit: u64,
    /// Unanswered calls are cancelled after this long.
    #[arg(long, default_value_t = 45_000)]
    call_timeout_ms: u64,
    /// Typing indicators per user per 10 s.
    #[arg(long, default_value_t = 20)]
    typing_limit: u32,
    /// Receipts per user per 10 s.
    #[arg(long, default_value_t = 200)]
    receipts_limit: u32,
    /// Transient messages per user per 10 s.
    #[arg(long, default_value_t = 50)]
    transient_limit: u32,
    /// What an acknowledged message survives: `power` (a power cut: one fsync per group commit)
    /// or `process` (a crash or kill -9 of the server, not of the machine). `--sync full|normal`
    /// is the old spelling of the same setting.
    #[arg(long, alias = "sync", env = "CHINWAG_DURABILITY", default_value = "power",
          value_parser = ["power", "process", "full", "normal"])]
    durability: String,
    /// Durable requests one socket may have waiting for their commit.
    #[arg(long, default_value_t = 256)]
    max_in_flight: usize,

    // --- Connections, credentials and admission (issue 16, part A) ---
    /// A request's headers must arrive within this long after its first byte (the first
    /// request's: after the connection was accepted) (ms).
    #[arg(long, default_value_t = 10_000)]
    header_read_timeout_ms: u64,
    /// A request's body must arrive within this long after its headers (ms).
    #[arg(long, default_value_t = 30_000)]
    body_read_timeout_ms: u64,
    /// A keep-alive connection idle since its last answer is closed after this long (ms).
    #[arg(long, default_value_t = 60_000)]
    idle_timeout_ms: u64,
    /// Open connections at most (keep it below the open-file limit, `ulimit -n`).
    #[arg(long, default_value_t = 10_000)]
    max_connections: usize,
    /// Open connections per client IP address.
    #[arg(long, default_value_t = 256)]
    max_connections_per_ip: usize,
    /// WebSocket upgrade attempts per client address per 10 s.
    #[arg(long, default_value_t = 120)]
    upgrades_per_ip: u32,
    /// Open WebSocket connections per user.
    #[arg(long, default_value_t = 10)]
    max_sockets_per_user: usize,
    /// Failed credential checks (keys, tokens, logins) per client address per minute.
    #[arg(long, alias = "login-per-minute", default_value_t = 30)]
    auth_failures_per_minute: u32,
    /// A reverse proxy whose X-Forwarded-For is believed (repeatable; comma-separated in env).
    #[arg(long, env = "CHINWAG_TRUSTED_PROXY", value_delimiter = ',')]
    trusted_proxy: Vec<std::net::IpAddr>,

    // --- Quotas (issue 16, part B) ---
    /// Durable sends (messages, edits, deletes) per user per 10 s.
    #[arg(long, env = "CHINWAG_SEND_LIMIT", default_value_t = 500)]
    send_limit: u32,
    /// Call initiations per user per minute.
    #[arg(long, env = "CHINWAG_CALL_LIMIT", default_value_t = 20)]
    call_limit: u32,
    /// Groups one user may own.
    #[arg(long, env = "CHINWAG_MAX_GROUPS_OWNED", default_value_t = 100)]
    max_groups_owned: u32,
    /// Members of one group.
    #[arg(long, env = "CHINWAG_MAX_GROUP_MEMBERS", default_value_t = 1000)]
    max_group_members: u32,
    /// Groups one user may be a member of.
    #[arg(long, env = "CHINWAG_MAX_GROUPS_JOINED", default_value_t = 1000)]
    max_groups_joined: u32,
    /// Presence subscriptions clients may ask for: a comma list of friends, roles, all_users
    /// (`none` is always allowed). Also decides whose status user lists show.
    #[arg(long, env = "CHINWAG_PRESENCE_MODES", default_value = "friends")]
    presence_modes: String,
    /// Log filter (tracing syntax), e.g. `info` or `chinwag_server=debug`.
    #[arg(long, env = "CHINWAG_LOG", default_value = "info")]
    log: String,

    // --- Operations (issue 15) ---
    /// Serve `GET /metrics` (Prometheus text format) on this address, e.g. 127.0.0.1:9090; off
    /// when unset. Keep it off the public interface.
    #[arg(long, env = "CHINWAG_METRICS_ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// A TOML file with any of these settings (keys as the flags, `auth_key = "..."`,
    /// `max_connections = 5000`); flags and environment variables win over it.
    #[arg(long, env = "CHINWAG_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print the effective configuration (secrets masked, each value's source) and exit.
    #[arg(long)]
    print_config: bool,
    /// The auth key, read from this file (trailing whitespace ignored).
    #[arg(
        long,
        env = "CHINWAG_AUTH_KEY_FILE",
        value_name = "FILE",
        conflicts_with = "auth_key"
    )]
    auth_key_file: Option<PathBuf>,
    /// The API key, read from this file (trailing whitespace ignored).
    #[arg(
        long,
        env = "CHINWAG_API_KEY_FILE",
        value_name = "FILE",
        conflicts_with = "api_key"
    )]
    api_key_file: Option<PathBuf>,
    /// Log records as `text` (for people) or `json` (one object per line, for collectors).
    #[arg(long, env = "CHINWAG_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
}

// --- Operations (issue 15): subcommands ---
#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Copies the database to DEST while the server runs: one consistent snapshot of everything
    /// committed (so acknowledged) when it began. Opens the file read-only itself (same machine;
    /// WAL mode: the running server is not held up); DEST must not exist.
    Backup {
        /// The server's database file (default: the server's `--db` / CHINWAG_DB).
        #[arg(long = "db", env = "CHINWAG_DB", value_name = "PATH")]
        source: Option<PathBuf>,
        /// Where the copy goes; created, never overwritten.
        dest: PathBuf,
    },
    /// Operator chores over a running server's REST API with the API key (from
    /// CHINWAG_API_KEY, --api-key-file or --config; never from --api-key alone).
    Admin(admin::AdminArgs),
}

/// A key from its flag or environment variable, or from its file.
fn read_key(value: &Option<String>, file: &Option<PathBuf>) -> Result<Option<String>, String> {
    match (value, file) {
        (Some(v), _) => Ok(Some(v.clone())),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the key file {}: {e}", path.display()))?;
            let key = text.trim_end().to_string();
            if key.is_empty() {
                return Err(format!("the key file {} is empty", path.display()));
            }
            Ok(Some(key))
        }
        (None, None) => Ok(None),
    }
}

/// The admin command's server and key.
fn admin_target(
    admin: &admin::AdminArgs,
    args: &Args,
    merged: &config_file::Merged,
) -> Result<admin::Target, String> {
    let on_command_line = matches!(
        merged.matches.value_source("api_key"),
        Some(clap::parser::ValueSource::CommandLine)
    ) && !merged.from_file.contains("api_key");
    if on_command_line {
        return Err(
            "the API key is not taken from the command line (ps and the shell history \
                    show it): set CHINWAG_API_KEY, --api-key-file or api_key in --config"
                .into(),
        );
    }
    let api_key = read_key(&args.api_key, &args.api_key_file)?.ok_or(
        "the API key: set CHINWAG_API_KEY, --api-key-file FILE or api_key in --config FILE",
    )?;
    let url = admin.url.clone().unwrap_or_else(|| {
        let mut addr = args.listen;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let scheme = if args.tls_cert.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{addr}")
    });
    Ok(admin::Target {
        url,
        api_key,
        ca_cert: admin.ca_cert.clone(),
    })
}

fn run_command(
    command: &Command,
    args: &Args,
    merged: &config_file::Merged,
) -> std::process::ExitCode {
    match command {
        Command::Admin(admin) => {
            let target = match admin_target(admin, args, merged) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("chinwag-server admin: {e}");
                    return std::process::ExitCode::from(2);
                }
            };
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("chinwag-server admin: cannot start the runtime: {e}");
                    return std::process::ExitCode::FAILURE;
                }
            };
            match runtime.block_on(admin::run(target, &admin.what)) {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("chinwag-server admin: {e}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
        Command::Backup { source, dest } => {
            let Some(db) = source
                .clone()
                .or_else(|| args.db.as_ref().map(PathBuf::from))
            else {
                eprintln!("chinwag-server backup: --db PATH (or CHINWAG_DB) names the database");
                return std::process::ExitCode::from(2);
            };
            match chinwag_server::backup::backup(&db, dest) {
                Ok(r) => {
                    println!(
                        "backup: {} ({} bytes, {} pages, schema version {}) in {} ms",
                        r.dest.display(),
                        r.bytes,
                        r.pages,
                        r.schema_version,
                        r.elapsed.as_millis()
                    );
                    std::process::ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("chinwag-server backup: {e}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
    }
}

/// A PostgreSQL address as it may be printed: any password replaced by `***`.
fn redact_password(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((userinfo, host)) = rest.split_once('@') {
            if let Some((user, _)) = userinfo.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
        return url.to_string();
    }
    url.split_whitespace()
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=***"
            } else {
                kv
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// 128 random bits from the OS, hex.
fn random_key() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn config_from(args: &Args) -> Result<(Config, bool), String> {
    let auth_key = read_key(&args.auth_key, &args.auth_key_file)?;
    let api_key = read_key(&args.api_key, &args.api_key_file)?;
    let (auth_key, api_key) = match (&auth_key, &api_key, args.dev) {
        (Some(a), Some(b), _) => (a.clone(), b.clone()),
        (a, b, true) => (a.clone().unwrap_or_else(random_key), b.clone().unwrap_or_else(random_key)),
        _ => return Err("--auth-key and --api-key (or CHINWAG_AUTH_KEY and CHINWAG_API_KEY) are required without --dev".into()),
    };
    let db = match (args.store.as_deref(), args.db.as_deref()) {
        (Some(store), _) => DbLocation::parse_store(store)?,
        (None, db) => match db {
        None if args.dev => DbLocation::Memory,
        None => {
            return Err(
                "--db PATH or --store sqlite:PATH|postgres://... is required without --dev (use :memory: for a throwaway database)"
                    .into(),
            )
        }
        Some(":memory:") => DbLocation::Memory,
        Some(path) => DbLocation::File(PathBuf::from(path)),
        },
    };
    chinwag_server::config::check_bus(args.bus.as_deref(), &db)?;
    let window = Duration::from_secs(10);
    let mut config = Config::local(&auth_key, &api_key);
    config.bus = args.bus.clone();
    config.node_heartbeat = Duration::from_millis(args.node_heartbeat_ms.max(100));
    config.listen = args.listen;
    config.db = db;
    config.app_id = args.app_id.clone();
    config.tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    config.ping_interval = Duration::from_millis(args.ping_interval_ms.max(100));
    config.replay_limit = args.replay_limit.max(1);
    config.call_timeout = Duration::from_millis(args.call_timeout_ms);
    config.typing_limit = FeatureLimit {
        limit: args.typing_limit,
        window,
    };
    config.receipts_limit = FeatureLimit {
        limit: args.receipts_limit,
        window,
    };
    config.transient_limit = FeatureLimit {
        limit: args.transient_limit,
        window,
    };
    config.durability = Durability::parse(&args.durability).unwrap_or_default();
    config.max_in_flight = args.max_in_flight.max(1);

    // --- Connections, credentials and admission (issue 16, part A) ---
    config.header_read_timeout = Duration::from_millis(args.header_read_timeout_ms.max(100));
    config.body_read_timeout = Duration::from_millis(args.body_read_timeout_ms.max(100));
    config.idle_timeout = Duration::from_millis(args.idle_timeout_ms.max(100));
    config.max_connections = args.max_connections.max(1);
    config.max_connections_per_ip = args.max_connections_per_ip.max(1);
    config.upgrades_per_ip = FeatureLimit {
        limit: args.upgrades_per_ip,
        window,
    };
    config.max_sockets_per_user = args.max_sockets_per_user.max(1);
    config.auth_failures_per_minute = args.auth_failures_per_minute;
    config.trusted_proxies = args.trusted_proxy.clone();
    // --- Quotas (issue 16, part B) ---
    config.send_limit = FeatureLimit {
        limit: args.send_limit,
        window,
    };
    config.call_limit = FeatureLimit {
        limit: args.call_limit,
        window: Duration::from_secs(60),
    };
    config.max_groups_owned = args.max_groups_owned;
    config.max_group_members = args.max_group_members;
    config.max_groups_joined = args.max_groups_joined;
    config.presence_modes = PresenceModes::parse(&args.presence_modes)?;
    // --- Operations (issue 15) ---
    config.metrics_addr = args.metrics_addr;
    Ok((config, args.dev))
}

fn main() -> std::process::ExitCode {
    let merged = match config_file::parse(Args::command(), std::env::args_os().collect()) {
        Ok(m) => m,
        Err(e) => e.exit(),
    };
    let args = match Args::from_arg_matches(&merged.matches) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    if args.print_config {
        print!("{}", config_file::render(&Args::command(), &merged));
        return std::process::ExitCode::SUCCESS;
    }
    if let Some(command) = &args.command {
        return run_command(command, &args, &merged);
    }
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: a log file or a collector gets plain text.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if args.log_format == "json" {
        logs.json().init();
    } else {
        logs.init();
    }
    let (config, dev) = match config_from(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("chinwag-server: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("chinwag-server: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let db = match &config.db {
            DbLocation::Memory => ":memory: (data is lost when the server stops)".to_string(),
            DbLocation::File(p) => p.display().to_string(),
            DbLocation::Postgres(url) => format!("PostgreSQL {}", redact_password(url)),
        };
        let (auth_key, api_key, app_id) = (config.auth_key.clone(), config.api_key.clone(), config.app_id.clone());
        let server = match chinwag_server::start(config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("chinwag-server: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        let signal = shutdown_signal();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "chinwag-server {} listening on {}", env!("CARGO_PKG_VERSION"), server.url());
        let _ = writeln!(out, "  websocket: {}", server.ws_url());
        let _ = writeln!(out, "  app id:    {app_id}");
        let _ = writeln!(out, "  database:  {db}");
        if let Some(metrics) = server.metrics_url() {
            let _ = writeln!(out, "  metrics:   {metrics}");
        }
        if dev {
            let _ = writeln!(out, "  auth key:  {auth_key}   (development logins: POST /v1/login)");
            let _ = writeln!(out, "  api key:   {api_key}   (X-Api-Key for your backend)");
            let _ = writeln!(out, "  try:       curl -s -X POST {}/v1/users -H 'x-auth-key: {auth_key}' -H 'content-type: application/json' -d '{{\"uid\":\"alice\",\"name\":\"Alice\"}}'", server.url());
        }
        let _ = out.flush();
        drop(out);
        signal.await;
        tracing::info!("shutting down");
        server.shutdown().await;
        std::process::ExitCode::SUCCESS
    })
}

/// Registers for SIGTERM now (so a signal sent as soon as the address is printed is not lost)
/// and returns a future that ends on SIGTERM or Ctrl-C.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        #[cfg(unix)]
        {
            if let Some(mut term) = term {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
                return;
            }
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
