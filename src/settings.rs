//! Client settings (docs/behaviour.md, sections 1 and 4). Every timing is a setting with bounds.

use std::path::PathBuf;
use std::time::Duration;

pub use chinwag_protocol::model::PresenceSubscription;

use crate::error::{Error, Result};

/// Connection timings. Defaults are those of docs/behaviour.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timings {
    /// Whole connect attempt, including the server's accept. Default 10 s.
    pub connect_timeout: Duration,
    /// First retry after an established connection drops: U(0, this). Default 1 s.
    pub first_retry_max: Duration,
    /// Later attempt n waits `backoff_base + U(0, min(backoff_cap, backoff_base * 2^n))`.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// The attempt counter resets after this long CONNECTED. Default 10 s.
    pub stable_after: Duration,
    /// Lost for longer than this: SUSPENDED. Default 120 s.
    pub suspend_after: Duration,
    /// Retry interval while SUSPENDED: U(min, max). Default 15-30 s.
    pub suspended_retry_min: Duration,
    pub suspended_retry_max: Duration,
    /// Added to the server's ping interval to bound silence on a socket. Default 10 s.
    pub heartbeat_grace: Duration,
    /// A remote typing indicator without refresh ends after this. Default 10 s.
    pub typing_timeout: Duration,
    /// A probe ping after `network_changed(up)` must be answered within this. Default 5 s.
    pub probe_timeout: Duration,
    /// Going to the background closes the socket after this. Default 30 s.
    pub background_grace: Duration,
    /// Identical platform hints within this window count once. Default 1 s.
    pub hint_coalesce: Duration,
    /// After an `init` that restores a saved session and connects by itself, a real-time
    /// event of a kind that has no listener yet waits this long at most for one (listeners
    /// added right after init miss nothing). A fresh init does not wait: nothing arrives before
    /// the app logs in. Default 1 s; 0: no wait.
    pub listener_grace: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            connect_timeout: Duration::from_secs(10),
            first_retry_max: Duration::from_secs(1),
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_millis(29_500),
            stable_after: Duration::from_secs(10),
            suspend_after: Duration::from_secs(120),
            suspended_retry_min: Duration::from_secs(15),
            suspended_retry_max: Duration::from_secs(30),
            heartbeat_grace: Duration::from_secs(10),
            typing_timeout: Duration::from_secs(10),
            probe_timeout: Duration::from_secs(5),
            background_grace: Duration::from_secs(30),
            hint_coalesce: Duration::from_secs(1),
            listener_grace: Duration::from_secs(1),
        }
    }
}

/// Who runs a client's callbacks (docs/behaviour.md, section 8).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DispatchMode {
    /// A dispatcher thread of the client's own runs every callback (the default).
    #[default]
    Thread,
    /// The app drives delivery: no dispatcher thread is started; callbacks run on the thread
    /// that calls [`crate::Client::dispatch`], which the app calls when
    /// [`crate::Client::dispatch_fd`] is readable (or on its own schedule).
    App,
}

/// Everything `init` takes besides the app id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `http://host:port` or `https://host:port`; the socket URL derives from it.
    pub server_url: String,
    /// Log in connects; init with a saved session reconnects; drops come back by themselves.
    pub auto_connect: bool,
    pub presence: PresenceSubscription,
    /// Where the session file lives; `None` keeps the session in memory only.
    pub data_dir: Option<PathBuf>,
    /// Extra trusted CA certificates (PEM), on top of the system's.
    pub extra_ca_pem: Vec<u8>,
    pub timings: Timings,
    /// Sends that may wait while (re)connecting. Default 1000.
    pub queue_capacity: usize,
    /// Who runs the callbacks. Default: the client's own dispatcher thread.
    pub dispatch: DispatchMode,
}

impl Settings {
    pub fn new(server_url: &str) -> Self {
        Settings {
            server_url: server_url.to_string(),
            auto_connect: true,
            presence: PresenceSubscription::None,
            data_dir: None,
            extra_ca_pem: Vec::new(),
            timings: Timings::default(),
            queue_capacity: 1000,
            dispatch: DispatchMode::Thread,
        }
    }

    /// Checks every field against its bounds.
    pub fn validate(&self) -> Result<()> {
        let url = self.server_url.as_str();
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "server URL {url:?} must start with http:// or https://"
                ))
            })?;
        let host = rest.trim_end_matches('/');
        if host.is_empty() || host.contains('/') || host.contains('?') {
            return Err(Error::invalid(format!(
                "server URL {url:?} must be http(s)://host[:port] with no path"
            )));
        }
        if !(1..=100_000).contains(&self.queue_capacity) {
            return Err(Error::invalid(
                "queue capacity must be between 1 and 100000",
            ));
        }
        let t = &self.timings;
        let in_range = |name: &str, d: Duration, lo: Duration, hi: Duration| -> Result<()> {
            if d < lo || d > hi {
                Err(Error::invalid(format!(
                    "{name} must be between {lo:?} and {hi:?}, not {d:?}"
                )))
            } else {
                Ok(())
            }
        };
        let ms = Duration::from_millis;
        let s = Duration::from_secs;
        in_range("connect_timeout", t.connect_timeout, ms(100), s(120))?;
        in_range("first_retry_max", t.first_retry_max, ms(0), s(60))?;
        in_range("backoff_base", t.backoff_base, ms(1), s(60))?;
        in_range("backoff_cap", t.backoff_cap, ms(1), s(600))?;
        in_range("stable_after", t.stable_after, ms(1), s(600))?;
        in_range("suspend_after", t.suspend_after, ms(100), s(3600))?;
        in_range(
            "suspended_retry_min",
            t.suspended_retry_min,
            ms(10),
            s(3600),
        )?;
        in_range(
            "suspended_retry_max",
            t.suspended_retry_max,
            t.suspended_retry_min,
            s(3600),
        )?;
        in_range("heartbeat_grace", t.heartbeat_grace, ms(10), s(300))?;
        in_range("typing_timeout", t.typing_timeout, ms(10), s(300))?;
        in_range("probe_timeout", t.probe_timeout, ms(10), s(60))?;
        in_range("background_grace", t.background_grace, ms(0), s(3600))?;
        in_range("hint_coalesce", t.hint_coalesce, ms(0), s(60))?;
        in_range("listener_grace", t.listener_grace, ms(0), s(60))?;
        Ok(())
    }

    /// The WebSocket endpoint for this server.
    pub fn ws_url(&self) -> String {
        let base = self.server_url.trim_end_matches('/');
        let ws = if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else {
            format!("ws://{}", base.trim_start_matches("http://"))
        };
        format!("{ws}{}", chinwag_protocol::WS_PATH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            Settings::new("http://127.0.0.1:8080").ws_url(),
            "ws://127.0.0.1:8080/v1/ws"
        );
        assert_eq!(
            Settings::new("https://chat.example/").ws_url(),
            "wss://chat.example/v1/ws"
        );
        assert!(Settings::new("ftp://x").validate().is_err());
        assert!(Settings::new("http://").validate().is_err());
        assert!(Settings::new("http://x/path").validate().is_err());
        assert!(Settings::new("http://x:1").validate().is_ok());
    }

    #[test]
    fn bounds() {
        let mut s = Settings::new("http://x");
        s.timings.connect_timeout = Duration::from_millis(1);
        assert!(s.validate().is_err());
        let mut s = Settings::new("http://x");
        s.queue_capacity = 0;
        assert!(s.validate().is_err());
        let mut s = Settings::new("http://x");
        s.timings.suspended_retry_max = Duration::from_secs(1);
        assert!(s.validate().is_err());
    }
}
