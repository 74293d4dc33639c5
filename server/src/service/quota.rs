//! Quotas on durable traffic: per-user windows for sends and call initiations (answered with
//! `RATE_LIMITED` and the wait), and the count quotas on groups and members.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::store::Db;
use chinwag_protocol::{ApiError, ErrorCode};

use super::App;
use crate::config::FeatureLimit;
use crate::store;

/// What a window counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Durable {
    /// Messages, edits and deletes.
    Send,
    CallInitiate,
}

impl Durable {
    fn what(self) -> &'static str {
        match self {
            Durable::Send => "messages, edits and deletes",
            Durable::CallInitiate => "call initiations",
        }
    }
}

/// Fixed windows per (user, kind).
#[derive(Default)]
pub struct Quotas {
    windows: Mutex<HashMap<(String, Durable), (Instant, u32)>>,
}

/// Above this many tracked windows, expired ones are dropped on the next count.
const PRUNE_ABOVE: usize = 10_000;

impl Quotas {
    fn count(&self, uid: &str, kind: Durable, limit: FeatureLimit) -> Result<(), ApiError> {
        let now = Instant::now();
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > PRUNE_ABOVE {
            map.retain(|_, (start, _)| now.duration_since(*start) < limit.window);
        }
        let (start, count) = map.entry((uid.to_string(), kind)).or_insert((now, 0));
        if now.duration_since(*start) >= limit.window {
            *start = now;
            *count = 0;
        }
        if *count >= limit.limit {
            let wait = (*start + limit.window).saturating_duration_since(now);
            return Err(ApiError::new(
                ErrorCode::RateLimited,
                format!(
                    "at most {} {} per {} s; retry in {} ms",
                    limit.limit,
                    kind.what(),
                    limit.window.as_secs(),
                    wait.as_millis()
                ),
            )
            .retry_after(wait.as_millis() as u64));
        }
        *count += 1;
        Ok(())
    }
}

fn quota_exceeded(message: String) -> ApiError {
    ApiError::new(ErrorCode::QuotaExceeded, message)
}

impl App {
    /// Counts one durable send of `kind` by `uid`, or says how long to wait.
    pub fn check_durable(&self, uid: &str, kind: Durable) -> Result<(), ApiError> {
        let limit = match kind {
            Durable::Send => self.config.send_limit,
            Durable::CallInitiate => self.config.call_limit,
        };
        self.quotas.count(uid, kind, limit)
    }
}

/// Checks that `uid` may own one more group (at most `max`).
pub fn check_may_own_group(conn: &Db, uid: &str, max: u32) -> Result<(), ApiError> {
    if store::groups::owned_count(conn, uid)? >= u64::from(max) {
        return Err(quota_exceeded(format!(
            "{uid:?} already owns {max} groups, the most a user may own"
        )));
    }
    Ok(())
}

/// Checks that `uid` may join one more group (at most `max`).
pub fn check_may_join(conn: &Db, uid: &str, max: u32) -> Result<(), ApiError> {
    if store::groups::joined_count(conn, uid)? >= u64::from(max) {
        return Err(quota_exceeded(format!(
            "{uid:?} is already a member of {max} groups, the most a user may join"
        )));
    }
    Ok(())
}

/// Checks that a group has room for `more` members (at most `max`).
pub fn check_group_room(conn: &Db, guid: &str, more: usize, max: u32) -> Result<(), ApiError> {
    let now = store::groups::member_count(conn, guid)?;
    if now + more as u64 > u64::from(max) {
        return Err(quota_exceeded(format!(
            "group {guid:?} has {now} members; {more} more would pass the limit of {max}"
        )));
    }
    Ok(())
}
