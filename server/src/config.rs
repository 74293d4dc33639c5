//! Server settings. The binary fills them from flags and environment; tests build them directly.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Where the SQLite database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbLocation {
    /// A private in-memory database (tests); gone when the server stops.
    Memory,
    /// A database file, created if missing, opened in WAL mode.
    File(PathBuf),
    /// A PostgreSQL database (a `postgres://` URL or a `key=value` connection string), shared
    /// by every node of a deployment.
    Postgres(String),
}

impl DbLocation {
    /// Parses a `--store` value: `sqlite:PATH` (`sqlite::memory:` for a throwaway database)
    /// or `postgres://...` / `postgresql://...`.
    pub fn parse_store(s: &str) -> Result<DbLocation, String> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(DbLocation::Postgres(s.to_string()));
        }
        match s.strip_prefix("sqlite:") {
            Some(":memory:") => Ok(DbLocation::Memory),
            Some("") => Err("--store sqlite:PATH needs a path".into()),
            Some(path) => Ok(DbLocation::File(PathBuf::from(path))),
            None => Err(format!(
                "unknown store {s:?}: use sqlite:PATH or postgres://USER@HOST:PORT/DATABASE"
            )),
        }
    }
}

/// Checks a `--bus` value against the store: a `nats://HOST:PORT` URL, and only with a
/// PostgreSQL store (the bus carries hints; the nodes must share the database they fill holes
/// from).
pub fn check_bus(bus: Option<&str>, db: &DbLocation) -> Result<(), String> {
    let Some(bus) = bus else { return Ok(()) };
    let rest = bus.strip_prefix("nats://").ok_or_else(|| {
        format!("unknown bus {bus:?}: use nats://HOST:PORT (a NATS server shared by the nodes)")
    })?;
    if rest.is_empty() {
        return Err("--bus nats://HOST:PORT needs a host".into());
    }
    if !matches!(db, DbLocation::Postgres(_)) {
        return Err(
            "--bus needs a PostgreSQL store (--store postgres://...): nodes on a bus share one \
             database; a SQLite file belongs to one node"
                .into(),
        );
    }
    Ok(())
}

/// What an acknowledged write survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// A power cut or kernel crash: SQLite `synchronous=FULL`, one fsync per group commit.
    #[default]
    Power,
    /// A crash or `kill -9` of the server process, not of the machine: `synchronous=NORMAL`
    /// (the WAL is written at commit and fsynced at checkpoints).
    Process,
}

impl Durability {
    pub fn parse(s: &str) -> Option<Durability> {
        match s {
            "power" | "full" => Some(Durability::Power),
            "process" | "normal" => Some(Durability::Process),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Durability::Power => "power",
            Durability::Process => "process",
        }
    }

    /// The SQLite `synchronous` setting that gives it.
    pub fn synchronous(self) -> &'static str {
        match self {
            Durability::Power => "FULL",
            Durability::Process => "NORMAL",
        }
    }
}

/// PEM files for TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Per-user limits for the ephemeral features: at most `limit` calls per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureLimit {
    pub limit: u32,
    pub window: Duration,
}

/// Which presence subscriptions clients may ask for; `none` is always allowed. `roles` and
/// `all_users` let any client watch (nearly) everyone, so both are off unless the operator
/// enables them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresenceModes {
    pub friends: bool,
    pub roles: bool,
    pub all_users: bool,
}

impl Default for PresenceModes {
    /// Friends only: presence is private by default.
    fn default() -> Self {
        PresenceModes {
            friends: true,
            roles: false,
            all_users: false,
        }
    }
}

impl PresenceModes {
    pub const ALL: PresenceModes = PresenceModes {
        friends: true,
        roles: true,
        all_users: true,
    };

    /// Parses a comma list of `friends`, `roles`, `all_users` (empty: `none` only).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut m = PresenceModes {
            friends: false,
            roles: false,
            all_users: false,
        };
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "friends" => m.friends = true,
                "roles" => m.roles = true,
                "all_users" => m.all_users = true,
                "none" => {}
                other => {
                    return Err(format!(
                        "unknown presence mode {other:?}; use friends, roles, all_users"
                    ))
                }
            }
        }
        Ok(m)
    }

    /// Whether a client may ask for this subscription.
    pub fn allows(&self, s: &chinwag_protocol::model::PresenceSubscription) -> bool {
        use chinwag_protocol::model::PresenceSubscription as P;
        match s {
            P::None => true,
            P::Friends => self.friends,
            P::Roles(_) => self.roles,
            P::AllUsers => self.all_users,
        }
    }

    /// Whether any user may see everyone's presence (a role subscription can name any role).
    pub fn open(&self) -> bool {
        self.roles || self.all_users
    }
}

/// Everything the server needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub db: DbLocation,
    pub app_id: String,
    /// Development key: create users and log in as any uid.
    pub auth_key: String,
    /// Server-to-server key: mint tokens, manage users, throttle features.
    pub api_key: String,
    pub tls: Option<TlsFiles>,
    /// How often the server pings each socket; advertised in the accept frame.
    pub ping_interval: Duration,
    /// A socket silent for `ping_interval + heartbeat_grace` is dropped.
    pub heartbeat_grace: Duration,
    /// Most events replayed on resume before a gap is declared.
    pub replay_limit: u64,
    /// Unanswered calls are cancelled after this long.
    pub call_timeout: Duration,
    pub typing_limit: FeatureLimit,
    pub receipts_limit: FeatureLimit,
    pub transient_limit: FeatureLimit,
    /// Malformed frames in a row after which the socket is closed.
    pub max_malformed: u32,
    /// Frames that may wait for a slow socket before it is closed (it resumes later).
    pub socket_queue: usize,
    /// What an acknowledged write survives.
    pub durability: Durability,
    /// Durable requests (sends, edits, receipts, calls) one socket may have waiting for their
    /// commit; beyond it the session stops reading that socket until one is answered.
    pub max_in_flight: usize,
    /// Test hook: every group commit waits this long first (a slow disk on purpose).
    #[doc(hidden)]
    pub test_commit_delay: Option<Duration>,
    /// Test hook: WAL frames beyond which the writer truncates the WAL (0: the default,
    /// 64 MiB of pages); applies with background checkpoints (`Durability::Process`).
    #[doc(hidden)]
    pub test_wal_restart_frames: u32,

    // --- Connections, credentials and admission (issue 16, part A) ---
    /// A fresh connection must have sent its first request's headers this long after it was
    /// accepted (TLS handshake included); a later request, this long after its first byte.
    pub header_read_timeout: Duration,
    /// A request's body must have arrived completely this long after its headers.
    pub body_read_timeout: Duration,
    /// A keep-alive connection with no request in progress and no byte received since its last
    /// answer is closed after this long.
    pub idle_timeout: Duration,
    /// Open connections (HTTP and WebSocket) at most; beyond it new ones are closed at once.
    pub max_connections: usize,
    /// Open connections per client IP address (the TCP peer; trusted proxies are exempt).
    pub max_connections_per_ip: usize,
    /// WebSocket upgrade attempts per client address per window.
    pub upgrades_per_ip: FeatureLimit,
    /// Open sockets per user; the one beyond is closed with `close::TOO_MANY_SOCKETS`.
    pub max_sockets_per_user: usize,
    /// Failed credential checks (keys, tokens, logins) per client address per minute; beyond
    /// it every credential from that address is answered `429 RATE_LIMITED`.
    pub auth_failures_per_minute: u32,
    /// Peers whose `X-Forwarded-For` is believed (a reverse proxy in front of the server).
    /// Empty: the client address is always the TCP peer.
    pub trusted_proxies: Vec<IpAddr>,

    // --- Quotas (issue 16, part B); each documented in docs/protocol.md "Limits" ---
    /// Durable sends (messages, edits, deletes) per user per window; over it, `RATE_LIMITED`.
    pub send_limit: FeatureLimit,
    /// Call initiations per user per window; over it, `RATE_LIMITED`.
    pub call_limit: FeatureLimit,
    /// Groups one user may own; over it, `QUOTA_EXCEEDED`.
    pub max_groups_owned: u32,
    /// Members of one group; over it, `QUOTA_EXCEEDED`.
    pub max_group_members: u32,
    /// Groups one user may be a member of; over it, `QUOTA_EXCEEDED`.
    pub max_groups_joined: u32,
    /// Presence subscriptions clients may ask for; the same rule decides whose status and
    /// `last_active_at` user lists show.
    pub presence_modes: PresenceModes,

    // --- Operations (issue 15) ---
    /// Where `GET /metrics` (Prometheus text format) is served; `None`: nowhere.
    pub metrics_addr: Option<SocketAddr>,
    /// The NATS server (`nats://HOST:PORT`) that carries events between nodes sharing one
    /// PostgreSQL database; none for one node.
    pub bus: Option<String>,
    /// With a bus: how often a node proves it is alive (it writes every quarter of it); a
    /// node silent for two is dead, and its users go offline.
    pub node_heartbeat: Duration,
}

impl Config {
    /// Settings for tests and embedding: in-memory database, ephemeral loopback port, the given
    /// keys, short timers left at their defaults.
    pub fn local(auth_key: &str, api_key: &str) -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            db: DbLocation::Memory,
            app_id: "chinwag-app".into(),
            auth_key: auth_key.into(),
            api_key: api_key.into(),
            tls: None,
            ping_interval: Duration::from_secs(20),
            heartbeat_grace: Duration::from_secs(10),
            replay_limit: 1000,
            call_timeout: Duration::from_secs(45),
            typing_limit: FeatureLimit {
                limit: 20,
                window: Duration::from_secs(10),
            },
            receipts_limit: FeatureLimit {
                limit: 200,
                window: Duration::from_secs(10),
            },
            transient_limit: FeatureLimit {
                limit: 50,
                window: Duration::from_secs(10),
            },
            max_malformed: 10,
            socket_queue: 4096,
            durability: Durability::Power,
            max_in_flight: 256,
            test_commit_delay: None,
            test_wal_restart_frames: 0,

            // --- Connections, credentials and admission (issue 16, part A) ---
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            max_connections_per_ip: 256,
            upgrades_per_ip: FeatureLimit {
                limit: 120,
                window: Duration::from_secs(10),
            },
            max_sockets_per_user: 10,
            auth_failures_per_minute: 30,
            trusted_proxies: Vec::new(),

            // --- Quotas (issue 16, part B) ---
            send_limit: FeatureLimit {
                limit: 500,
                window: Duration::from_secs(10),
            },
            call_limit: FeatureLimit {
                limit: 20,
                window: Duration::from_secs(60),
            },
            max_groups_owned: 100,
            max_group_members: 1000,
            max_groups_joined: 1000,
            presence_modes: PresenceModes::default(),

            // --- Operations (issue 15) ---
            metrics_addr: None,
            bus: None,
            node_heartbeat: Duration::from_secs(2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{check_bus, DbLocation};
    use std::path::PathBuf;

    #[test]
    fn a_bus_needs_a_nats_url_and_a_postgres_store() {
        let pg = DbLocation::Postgres("postgres://db/chat".into());
        assert!(check_bus(None, &DbLocation::Memory).is_ok());
        assert!(check_bus(Some("nats://127.0.0.1:4222"), &pg).is_ok());
        let err = check_bus(Some("nats://127.0.0.1:4222"), &DbLocation::Memory).unwrap_err();
        assert!(err.contains("needs a PostgreSQL store"), "{err}");
        let err = check_bus(Some("redis://x"), &pg).unwrap_err();
        assert!(err.contains("use nats://HOST:PORT"), "{err}");
        assert!(check_bus(Some("nats://"), &pg).is_err());
    }

    #[test]
    fn store_values_name_sqlite_files_or_postgres_urls() {
        assert_eq!(
            DbLocation::parse_store("sqlite:/var/lib/chinwag/chat.sqlite3"),
            Ok(DbLocation::File(PathBuf::from(
                "/var/lib/chinwag/chat.sqlite3"
            )))
        );
        assert_eq!(
            DbLocation::parse_store("sqlite::memory:"),
            Ok(DbLocation::Memory)
        );
        assert_eq!(
            DbLocation::parse_store("postgres://chinwag@db:5432/chat"),
            Ok(DbLocation::Postgres(
                "postgres://chinwag@db:5432/chat".into()
            ))
        );
        assert!(DbLocation::parse_store("sqlite:").is_err());
        let err = DbLocation::parse_store("mysql://x").unwrap_err();
        assert!(err.contains("sqlite:PATH or postgres://"), "{err}");
    }
}
