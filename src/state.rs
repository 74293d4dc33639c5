//! Connection states and the event emitted on every change (docs/behaviour.md, section 3).

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ConnectionState {
    /// No socket and no attempt planned.
    Disconnected = 0,
    /// An attempt runs: TCP, TLS, upgrade, and the server's accept.
    Connecting = 1,
    /// The server accepted the session; events flow.
    Connected = 2,
    /// The connection was lost; a retry is scheduled.
    Reconnecting = 3,
    /// Lost for longer than the suspend bound; queued sends failed; retries continue slowly.
    Suspended = 4,
    /// Terminal until `login` or `connect()`: token rejected, user deactivated, protocol mismatch.
    Failed = 5,
}

impl ConnectionState {
    pub fn name(self) -> &'static str {
        match self {
            ConnectionState::Disconnected => "DISCONNECTED",
            ConnectionState::Connecting => "CONNECTING",
            ConnectionState::Connected => "CONNECTED",
            ConnectionState::Reconnecting => "RECONNECTING",
            ConnectionState::Suspended => "SUSPENDED",
            ConnectionState::Failed => "FAILED",
        }
    }
}

/// Why the state changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Reason {
    /// The app called `connect()` (or `login` in auto mode, or `init` restored a session).
    ConnectRequested = 0,
    /// The app called `disconnect()`.
    DisconnectRequested = 1,
    /// The app logged out.
    LoggedOut = 2,
    /// The server accepted the session.
    Accepted = 3,
    /// The attempt failed (network, TLS, timeout, server refusal that allows retries).
    AttemptFailed = 4,
    /// An established connection dropped (close, reset, heartbeat timeout).
    ConnectionLost = 5,
    /// The retry timer fired.
    RetryTimer = 6,
    /// Lost for longer than the suspend bound.
    SuspendTimeout = 7,
    /// The token was rejected or revoked.
    AuthRejected = 8,
    /// The user was deactivated.
    UserDeactivated = 9,
    /// The server does not speak this protocol version or serves another app.
    ProtocolMismatch = 10,
    /// The platform reported the network down or up.
    NetworkChanged = 11,
    /// The app went to the background (closed after the grace period) or came back.
    AppState = 12,
    /// The server is shutting down or restarting.
    ServerRestart = 13,
    /// Not a change: the first event of a connection listener added after init, with the
    /// state it starts from (`previous == current`).
    ListenerAdded = 14,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::ConnectRequested => "CONNECT_REQUESTED",
            Reason::DisconnectRequested => "DISCONNECT_REQUESTED",
            Reason::LoggedOut => "LOGGED_OUT",
            Reason::Accepted => "ACCEPTED",
            Reason::AttemptFailed => "ATTEMPT_FAILED",
            Reason::ConnectionLost => "CONNECTION_LOST",
            Reason::RetryTimer => "RETRY_TIMER",
            Reason::SuspendTimeout => "SUSPEND_TIMEOUT",
            Reason::AuthRejected => "AUTH_REJECTED",
            Reason::UserDeactivated => "USER_DEACTIVATED",
            Reason::ProtocolMismatch => "PROTOCOL_MISMATCH",
            Reason::NetworkChanged => "NETWORK_CHANGED",
            Reason::AppState => "APP_STATE",
            Reason::ServerRestart => "SERVER_RESTART",
            Reason::ListenerAdded => "LISTENER_ADDED",
        }
    }
}

/// One state change: never emitted with `previous == current`, except as the first event of
/// a connection listener added after init (reason `ListenerAdded`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub previous: ConnectionState,
    pub current: ConnectionState,
    pub reason: Reason,
    pub message: String,
    /// Set in RECONNECTING and SUSPENDED: when the next attempt starts.
    pub retry_in_ms: Option<u64>,
}
