//! The server's behaviour, shared by REST handlers and WebSocket sessions: who may do what, what
//! gets stored, and who hears about it.

pub mod calls;
pub mod groups;
pub mod messaging;
pub mod quota;
pub mod throttle;
pub mod users;

use std::sync::Arc;

use chinwag_protocol::limits;
use chinwag_protocol::model::{GroupType, ReceiverType, Scope};
use chinwag_protocol::{ApiError, ErrorCode, Event, EventFrame};
use rusqlite::Connection;

use crate::config::Config;
use crate::hub::{Hub, Origin};
use crate::store::DbError;
use crate::store::{self, Store};
use throttle::{LoginLimiter, Throttle};

/// Shared state of one running server.
pub struct App {
    pub config: Config,
    pub store: Store,
    pub hub: Arc<Hub>,
    pub throttle: Throttle,
    pub login_limiter: LoginLimiter,
    pub quotas: quota::Quotas,
}

pub type AppRef = Arc<App>;

/// Durable events produced inside a transaction, each already in its recipient's log.
pub type Deliveries = Vec<(String, EventFrame)>;

impl App {
    pub fn new(config: Config, store: Store) -> AppRef {
        Arc::new(App {
            throttle: Throttle::default(),
            login_limiter: LoginLimiter::new(config.login_per_minute),
            quotas: quota::Quotas::default(),
            config,
            store,
            hub: Arc::new(Hub::default()),
        })
    }

    /// Runs `f` in one transaction, commits, then queues the events it produced for their
    /// recipients while still holding the database lock, so every socket sees each user's
    /// events in sequence order. Returns `f`'s value and the origin user's copy of the event.
    pub async fn commit<T, F>(
        &self,
        origin: Origin,
        f: F,
    ) -> Result<(T, Option<EventFrame>), ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<(T, Deliveries), ApiError> + Send + 'static,
    {
        let hub = self.hub.clone();
        self.store
            .run(move |conn| {
                let tx = conn.transaction().map_err(DbError::from)?;
                let (value, deliveries) = f(&tx)?;
                tx.commit().map_err(DbError::from)?;
                let own = hub.deliver(deliveries, &origin);
                Ok((value, own))
            })
            .await
    }
}

/// Appends `event` to the log of every recipient.
pub fn fan_out(
    conn: &Connection,
    recipients: &[String],
    event: &Event,
) -> Result<Deliveries, ApiError> {
    let mut out = Vec::with_capacity(recipients.len());
    for uid in recipients {
        out.push((
            uid.clone(),
            store::events::append(conn, uid, event.clone())?,
        ));
    }
    Ok(out)
}

/// Who takes part in a conversation: both users, or the group's current members.
pub fn participants(
    conn: &Connection,
    receiver_type: ReceiverType,
    receiver: &str,
    sender: &str,
) -> Result<Vec<String>, ApiError> {
    Ok(match receiver_type {
        ReceiverType::User if receiver == sender => vec![sender.to_string()],
        ReceiverType::User => vec![sender.to_string(), receiver.to_string()],
        ReceiverType::Group => store::groups::member_uids(conn, receiver)?,
    })
}

/// Checks that the receiver of a message, typing indicator or call exists and that `sender` may
/// address it.
pub fn check_can_address(
    conn: &Connection,
    receiver_type: ReceiverType,
    receiver: &str,
    sender: &str,
) -> Result<(), ApiError> {
    check_id("receiver", receiver)?;
    match receiver_type {
        ReceiverType::User => {
            if receiver == sender {
                return Err(invalid("cannot address yourself"));
            }
            if !store::users::exists(conn, receiver)? {
                return Err(ApiError::new(
                    ErrorCode::UserNotFound,
                    format!("no user {receiver:?}"),
                ));
            }
            Ok(())
        }
        ReceiverType::Group => require_member(conn, receiver, sender).map(|_| ()),
    }
}

/// The caller's scope in a group, or why the caller has none.
/// A private group is answered as missing to whoever is neither in it nor banned from it, so
/// its existence does not leak.
pub fn require_member(conn: &Connection, guid: &str, uid: &str) -> Result<Scope, ApiError> {
    let Some(group) = store::groups::get(conn, guid)? else {
        return Err(group_not_found(guid));
    };
    if store::groups::is_banned(conn, guid, uid)? {
        return Err(ApiError::new(
            ErrorCode::Banned,
            format!("{uid:?} is banned from group {guid:?}"),
        ));
    }
    match store::groups::scope_of(conn, guid, uid)? {
        Some(scope) => Ok(scope),
        None if group.kind == GroupType::Private => Err(group_not_found(guid)),
        None => Err(ApiError::new(
            ErrorCode::NotAMember,
            format!("{uid:?} is not a member of group {guid:?}"),
        )),
    }
}

pub fn group_not_found(guid: &str) -> ApiError {
    ApiError::new(ErrorCode::GroupNotFound, format!("no group {guid:?}"))
}

pub fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidArgument, message)
}

pub fn check_id(kind: &str, value: &str) -> Result<(), ApiError> {
    chinwag_protocol::limits::check_id(kind, value).map_err(invalid)
}

/// Checks a JSON value meant for `metadata` (an object) or custom `data` (any value): at most
/// 64 KiB serialized and 32 levels deep, so its stored event can always be read back.
pub fn check_json(
    kind: &str,
    value: &serde_json::Value,
    must_be_object: bool,
) -> Result<(), ApiError> {
    check_json_within(kind, value, must_be_object, limits::MAX_JSON_BYTES)
}

/// [`check_json`] for the `metadata` of a user or group, which every list page carries.
pub fn check_profile_json(kind: &str, value: &serde_json::Value) -> Result<(), ApiError> {
    check_json_within(kind, value, true, limits::MAX_PROFILE_JSON_BYTES)
}

fn check_json_within(
    kind: &str,
    value: &serde_json::Value,
    must_be_object: bool,
    max_bytes: usize,
) -> Result<(), ApiError> {
    if must_be_object && !value.is_object() {
        return Err(invalid(format!("{kind} must be a JSON object")));
    }
    let depth = limits::json_depth(value);
    if depth > limits::MAX_JSON_DEPTH {
        return Err(invalid(format!(
            "{kind} nests {depth} levels deep; the limit is {}",
            limits::MAX_JSON_DEPTH
        )));
    }
    let size = value.to_string().len();
    if size > max_bytes {
        return Err(invalid(format!(
            "{kind} is {size} bytes; the limit is {max_bytes}"
        )));
    }
    Ok(())
}

/// Checks a page limit (default when absent, at most 100).
pub fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    use chinwag_protocol::limits::{DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT};
    match limit {
        None => Ok(DEFAULT_PAGE_LIMIT),
        Some(0) => Err(invalid("limit must be at least 1")),
        Some(n) if n > MAX_PAGE_LIMIT => Err(invalid(format!(
            "limit {n} is above the maximum of {MAX_PAGE_LIMIT}"
        ))),
        Some(n) => Ok(n),
    }
}

/// Checks a display name (user or group); see [`limits::check_display_name`].
pub fn check_name(kind: &str, name: &str) -> Result<(), ApiError> {
    limits::check_display_name(kind, name).map_err(invalid)
}

/// Checks an optional text field of a profile or group against its byte limit.
pub fn check_field(kind: &str, value: Option<&str>, max: usize) -> Result<(), ApiError> {
    match value {
        Some(v) if v.len() > max => Err(invalid(format!(
            "{kind} is {} bytes; the limit is {max}",
            v.len()
        ))),
        _ => Ok(()),
    }
}
