//! The server's behaviour, shared by REST handlers and WebSocket sessions: who may do what, what
//! gets stored, and who hears about it.

pub mod blocks;
pub mod calls;
pub mod conversations;
pub mod groups;
pub mod mentions;
pub mod messaging;
pub mod quota;
pub mod threads;
pub mod throttle;
pub mod users;

use std::sync::Arc;

use crate::store::Db;
use chinwag_protocol::limits;
use chinwag_protocol::model::{GroupType, ReceiverType, Scope};
use chinwag_protocol::{ApiError, ErrorCode, Event, EventFrame, ServerFrame};
use tokio::sync::oneshot;

use crate::config::Config;
use crate::hub::{Hub, Origin};
use crate::store::{self, Store};
use throttle::{AddrLimiter, Throttle};

/// Shared state of one running server.
pub struct App {
    pub config: Config,
    pub store: Store,
    pub hub: Arc<Hub>,
    pub throttle: Throttle,
    /// Failed credential checks per client address.
    pub auth_failures: AddrLimiter,
    /// WebSocket upgrade attempts per client address.
    pub upgrades: AddrLimiter,
    pub quotas: quota::Quotas,
    /// The live path to the other nodes (`--bus`), if any.
    pub bus: Option<Arc<crate::bus::Bus>>,
}

pub type AppRef = Arc<App>;

/// One durable event as stored: its body serialized once (the same bytes go to every recipient's
/// log and every socket) and each recipient's sequence number for it.
pub struct Fanned {
    pub event: Event,
    pub body: Arc<str>,
    pub seqs: Vec<(String, u64)>,
}

/// What a durable request produced inside its transaction.
#[derive(Default)]
pub struct Deliveries {
    pub events: Vec<Fanned>,
    /// The answer for a request that stored nothing new (a repeated muid): its original copy.
    pub answer: Option<EventFrame>,
}

impl Deliveries {
    /// The copy of the first event that reached `uid`, or the stored answer.
    fn copy_for(&self, uid: &str) -> Option<EventFrame> {
        self.events
            .iter()
            .find_map(|f| {
                f.seqs
                    .iter()
                    .find(|(u, _)| u == uid)
                    .map(|(_, seq)| EventFrame {
                        seq: *seq,
                        event: f.event.clone(),
                    })
            })
            .or_else(|| self.answer.clone())
    }
}

/// Rough bytes of a request, for the writer's batch bound.
pub const DEFAULT_WEIGHT: usize = 256;

impl App {
    /// A server; `bus` carries its events to the other nodes (and theirs to `hub`), if any.
    pub fn with_bus(
        config: Config,
        store: Store,
        hub: Arc<Hub>,
        bus: Option<Arc<crate::bus::Bus>>,
    ) -> AppRef {
        Arc::new(App {
            throttle: Throttle::default(),
            auth_failures: AddrLimiter::new(
                config.auth_failures_per_minute,
                std::time::Duration::from_secs(60),
                "failed credential checks",
            ),
            upgrades: AddrLimiter::new(
                config.upgrades_per_ip.limit,
                config.upgrades_per_ip.window,
                "WebSocket upgrade attempts",
            ),
            quotas: quota::Quotas::default(),
            config,
            store,
            hub,
            bus,
        })
    }

    /// Runs `f` on the writer, in the next group commit, then hands the events it produced to
    /// the sockets in commit order (so every socket sees each user's events in sequence order)
    /// and answers the request: over a socket the writer itself sends the ack or the error, in
    /// request order; the caller gets `f`'s value and the origin user's copy of the event.
    pub async fn commit<T, F>(
        &self,
        origin: Origin,
        f: F,
    ) -> Result<(T, Option<EventFrame>), ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> Result<(T, Deliveries), ApiError> + Send + 'static,
    {
        self.commit_sized(origin, DEFAULT_WEIGHT, f).await
    }

    /// [`App::commit`] for a request of about `weight` bytes.
    pub async fn commit_sized<T, F>(
        &self,
        origin: Origin,
        weight: usize,
        f: F,
    ) -> Result<(T, Option<EventFrame>), ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> Result<(T, Deliveries), ApiError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job = CommitJob {
            f: Some(f),
            done: None,
            origin,
            hub: self.hub.clone(),
            bus: self.bus.clone(),
            weight,
            reply: Some(tx),
        };
        self.store.submit(Box::new(job)).await?;
        rx.await
            .map_err(|_| ApiError::new(ErrorCode::Internal, "storage is shutting down"))?
    }
}

type CommitReply<T> = oneshot::Sender<Result<(T, Option<EventFrame>), ApiError>>;

/// A request of [`App::commit`] as the writer runs it.
struct CommitJob<T, F> {
    f: Option<F>,
    done: Option<(T, Deliveries)>,
    origin: Origin,
    hub: Arc<Hub>,
    bus: Option<Arc<crate::bus::Bus>>,
    weight: usize,
    reply: Option<CommitReply<T>>,
}

impl<T, F> store::Job for CommitJob<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Db) -> Result<(T, Deliveries), ApiError> + Send + 'static,
{
    fn run(&mut self, conn: &Db) -> Result<(), ApiError> {
        let f = self
            .f
            .take()
            .ok_or_else(|| ApiError::new(ErrorCode::Internal, "job ran twice"))?;
        self.done = Some(f(conn)?);
        Ok(())
    }

    fn finish(mut self: Box<Self>, outcome: Result<(), ApiError>) {
        let result = match (outcome, self.done.take()) {
            (Ok(()), Some((value, deliveries))) => {
                self.hub.deliver(&deliveries, &self.origin);
                if let Some(bus) = &self.bus {
                    bus.publish(&deliveries);
                }
                Ok((value, deliveries.copy_for(&self.origin.uid)))
            }
            (Ok(()), None) => Err(ApiError::new(ErrorCode::Internal, "job left no value")),
            (Err(e), _) => Err(e),
        };
        if let (Err(error), Some(session)) = (&result, self.origin.session) {
            self.hub.send_to_session(
                &self.origin.uid,
                session,
                &ServerFrame::Error {
                    req: self.origin.req.clone(),
                    error: error.clone(),
                },
                None,
            );
        }
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(result);
        }
    }

    fn weight(&self) -> usize {
        self.weight
    }
}

/// Stores `event` once and appends it to the log of every recipient.
pub fn fan_out(conn: &Db, recipients: &[String], event: &Event) -> Result<Deliveries, ApiError> {
    fan_out_with(conn, recipients, event, None)
}

/// [`fan_out`], where one recipient's number was already taken (`known`: uid and seq).
pub fn fan_out_with(
    conn: &Db,
    recipients: &[String],
    event: &Event,
    known: Option<(&str, u64)>,
) -> Result<Deliveries, ApiError> {
    let body = encode_event(event)?;
    fan_out_encoded(conn, recipients, event.clone(), body, known)
}

/// An event's body as stored and sent (serialized once for every recipient and socket).
pub fn encode_event(event: &Event) -> Result<Arc<str>, ApiError> {
    serde_json::to_string(event)
        .map(Into::into)
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("event encoding failed: {e}")))
}

/// [`fan_out_with`] for an event already encoded by [`encode_event`].
pub fn fan_out_encoded(
    conn: &Db,
    recipients: &[String],
    event: Event,
    body: Arc<str>,
    known: Option<(&str, u64)>,
) -> Result<Deliveries, ApiError> {
    let body_id = store::events::insert_body(conn, &body, recipients.len())?;
    let at = store::now_ms();
    let mut seqs = Vec::with_capacity(recipients.len());
    // On PostgreSQL other nodes take heads too: lock them in one order (uid order), so that two
    // fan-outs to the same users cannot wait on each other. SQLite has one writer; its order
    // stays as given (and free).
    let mut sorted;
    let recipients = if conn.is_postgres() {
        sorted = recipients.to_vec();
        sorted.sort_unstable();
        &sorted[..]
    } else {
        recipients
    };
    for uid in recipients {
        let seq = match known {
            Some((u, seq)) if u == uid => {
                store::events::append_at(conn, uid, seq, body_id, at)?;
                seq
            }
            _ => store::events::append(conn, uid, body_id, at)?,
        };
        seqs.push((uid.clone(), seq));
    }
    Ok(Deliveries {
        events: vec![Fanned { event, body, seqs }],
        answer: None,
    })
}

/// Who takes part in a conversation: both users, or the group's current members.
pub fn participants(
    conn: &Db,
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
    conn: &Db,
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
            blocks::check_direct(conn, sender, receiver)
        }
        ReceiverType::Group => require_member(conn, receiver, sender).map(|_| ()),
    }
}

/// The caller's scope in a group, or why the caller has none.
/// A private group is answered as missing to whoever is neither in it nor banned from it, so
/// its existence does not leak.
pub fn require_member(conn: &Db, guid: &str, uid: &str) -> Result<Scope, ApiError> {
    let Some(kind) = store::groups::kind(conn, guid)? else {
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
        None if kind == GroupType::Private => Err(group_not_found(guid)),
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
