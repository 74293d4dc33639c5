//! Rate limits: per-user windows for the ephemeral features (answered with a `throttled` frame,
//! never by dropping durable messages), server-wide switches set by the operator, and per-address limits on failed credential
//! checks and WebSocket upgrades.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chinwag_protocol::frames::Feature;
use chinwag_protocol::{ApiError, ErrorCode, ServerFrame};

use super::App;
use crate::config::FeatureLimit;

struct Window {
    start: Instant,
    count: u32,
    throttled_until: Option<Instant>,
}

#[derive(Default)]
pub struct Throttle {
    global: Mutex<HashMap<Feature, Instant>>,
    per_user: Mutex<HashMap<(String, Feature), Window>>,
}

fn throttled(feature: Feature, remaining: Duration) -> ApiError {
    crate::metrics::get().throttled(feature.as_str());
    ApiError::new(
        ErrorCode::FeatureThrottled,
        format!(
            "{} is throttled for another {} ms",
            feature.as_str(),
            remaining.as_millis()
        ),
    )
    .retry_after(remaining.as_millis() as u64)
}

impl App {
    fn limit_for(&self, feature: Feature) -> FeatureLimit {
        match feature {
            Feature::Typing => self.config.typing_limit,
            Feature::Receipts => self.config.receipts_limit,
            Feature::Transient => self.config.transient_limit,
        }
    }

    /// Counts one use of `feature` by `uid`. Over the limit, the user's sockets get a
    /// `throttled` frame (and an `unthrottled` one when the window ends) and the call fails.
    pub fn check_feature(&self, uid: &str, feature: Feature) -> Result<(), ApiError> {
        let now = Instant::now();
        if let Some(until) = self
            .throttle
            .global
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&feature)
        {
            if *until > now {
                return Err(throttled(feature, *until - now));
            }
        }
        let limit = self.limit_for(feature);
        let mut map = self
            .throttle
            .per_user
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let w = map.entry((uid.to_string(), feature)).or_insert(Window {
            start: now,
            count: 0,
            throttled_until: None,
        });
        if let Some(until) = w.throttled_until {
            if until > now {
                return Err(throttled(feature, until - now));
            }
        }
        if now.duration_since(w.start) >= limit.window {
            *w = Window {
                start: now,
                count: 0,
                throttled_until: None,
            };
        }
        w.count += 1;
        if w.count <= limit.limit {
            return Ok(());
        }
        let until = w.start + limit.window;
        w.throttled_until = Some(until);
        drop(map);
        let remaining = until.saturating_duration_since(now);
        // The other nodes hold the same user to it (see bus::throttle).
        crate::bus::throttle::share(self, Some(uid), feature, remaining);
        self.tell_throttled(uid, feature, remaining);
        Err(throttled(feature, remaining))
    }

    /// Throttles `uid`'s `feature` here for `remaining`, as another node decided.
    pub fn throttle_user_from_bus(&self, uid: &str, feature: Feature, remaining: Duration) {
        let now = Instant::now();
        let until = now + remaining;
        let mut map = self
            .throttle
            .per_user
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let w = map.entry((uid.to_string(), feature)).or_insert(Window {
            start: now,
            count: 0,
            throttled_until: None,
        });
        w.throttled_until = Some(w.throttled_until.map_or(until, |u| u.max(until)));
        drop(map);
        self.tell_throttled(uid, feature, remaining);
    }

    /// Sends `throttled` to the user's sockets here, and `unthrottled` when it ends.
    fn tell_throttled(&self, uid: &str, feature: Feature, remaining: Duration) {
        self.hub.send_to_users(
            [uid],
            &ServerFrame::Throttled {
                feature,
                duration_ms: remaining.as_millis() as u64,
            },
            None,
        );
        let hub = self.hub.clone();
        let uid = uid.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(remaining).await;
            hub.send_to_users([uid.as_str()], &ServerFrame::Unthrottled { feature }, None);
        });
    }

    /// Switches a feature off for everyone (operator action, `POST /v1/admin/throttle`).
    pub fn throttle_globally(self: &super::AppRef, feature: Feature, duration: Duration) {
        crate::bus::throttle::share(self, None, feature, duration);
        self.throttle_globally_here(feature, duration);
    }

    /// [`App::throttle_globally`] on this node only (as another node was told to).
    pub fn throttle_globally_here(self: &super::AppRef, feature: Feature, duration: Duration) {
        let until = Instant::now() + duration;
        let mut global = self
            .throttle
            .global
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let current = global.get(&feature).copied();
        global.insert(feature, current.map_or(until, |c| c.max(until)));
        drop(global);
        self.hub.broadcast(&ServerFrame::Throttled {
            feature,
            duration_ms: duration.as_millis() as u64,
        });
        let app = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(duration).await;
            // A later, longer throttle of the same feature keeps it off.
            let still_on = app
                .active_global_throttles()
                .iter()
                .any(|(f, _)| *f == feature);
            if !still_on {
                app.hub.broadcast(&ServerFrame::Unthrottled { feature });
            }
        });
    }

    /// Features switched off for everyone right now, with the time left.
    pub fn active_global_throttles(&self) -> Vec<(Feature, Duration)> {
        let now = Instant::now();
        self.throttle
            .global
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, until)| **until > now)
            .map(|(f, until)| (*f, *until - now))
            .collect()
    }

    /// Drops expired windows so the maps do not grow with every user ever seen.
    pub fn prune_throttles(&self) {
        let now = Instant::now();
        let longest = [Feature::Typing, Feature::Receipts, Feature::Transient]
            .iter()
            .map(|f| self.limit_for(*f).window)
            .max()
            .unwrap_or_default();
        self.throttle
            .per_user
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, w| now.duration_since(w.start) < longest);
        self.auth_failures.prune(now);
        self.upgrades.prune(now);
    }
}

/// Fixed windows of counted events per client address: failed credential checks, WebSocket
/// upgrade attempts.
pub struct AddrLimiter {
    limit: u32,
    window: Duration,
    /// What the 429 message says is being counted.
    what: &'static str,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl AddrLimiter {
    pub fn new(limit: u32, window: Duration, what: &'static str) -> Self {
        AddrLimiter {
            limit,
            window,
            what,
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn refused(&self, ip: IpAddr, wait: Duration) -> ApiError {
        ApiError::new(
            ErrorCode::RateLimited,
            format!(
                "too many {} from {ip}; retry in {} s",
                self.what,
                wait.as_secs() + 1
            ),
        )
        .retry_after((wait.as_millis() as u64).max(1))
    }

    /// Fails with `RATE_LIMITED` and the wait while the address has used up its window;
    /// counts nothing.
    pub fn check(&self, ip: IpAddr) -> Result<(), ApiError> {
        let now = Instant::now();
        let map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&ip) {
            Some((start, count))
                if now.duration_since(*start) < self.window && *count >= self.limit =>
            {
                Err(self.refused(ip, (*start + self.window).saturating_duration_since(now)))
            }
            _ => Ok(()),
        }
    }

    /// Counts one event for the address.
    pub fn count(&self, ip: IpAddr) {
        let now = Instant::now();
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let (start, count) = map.entry(ip).or_insert((now, 0));
        if now.duration_since(*start) >= self.window {
            *start = now;
            *count = 0;
        }
        *count = count.saturating_add(1);
    }

    /// Counts one event, failing when it is beyond the limit.
    pub fn hit(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.check(ip)?;
        self.count(ip);
        Ok(())
    }

    fn prune(&self, now: Instant) {
        let window = self.window;
        self.windows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, (start, _)| now.duration_since(*start) < window);
    }
}
