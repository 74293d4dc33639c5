//! The live sockets: who is online, which socket gets which frame, who sees whose presence.
//!
//! Each socket has a bounded queue drained by its session task. Frames are serialized once and
//! queued without blocking; a socket whose queue is full is closed (it gets its durable events
//! back on resume), so one slow reader never stalls anyone else.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chinwag_protocol::close;
use chinwag_protocol::model::{Presence, PresenceSubscription, UserStatus};
use chinwag_protocol::ServerFrame;
use tokio::sync::{mpsc, watch};

use crate::service::Deliveries;
use crate::store::now_ms;

/// A frame waiting for a socket. `seq` is set for durable events, so a session can skip what its
/// replay already sent.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub seq: Option<u64>,
    pub payload: Payload,
}

/// A frame's text, or the parts it is made of: durable events keep their body shared by every
/// recipient, and only the few bytes that differ per socket are written around it.
#[derive(Debug, Clone)]
pub enum Payload {
    Text(Arc<str>),
    /// `{"type":"event","seq":N,` + the body's fields.
    Event {
        seq: u64,
        body: Arc<str>,
    },
    /// `{"type":"ack","req":R,"result":{"seq":N,` + the body's fields + `}`.
    Ack {
        req: String,
        seq: u64,
        body: Arc<str>,
    },
}

impl Outbound {
    fn text(text: Arc<str>) -> Self {
        Outbound {
            seq: None,
            payload: Payload::Text(text),
        }
    }

    /// The frame as sent.
    pub fn to_text(&self) -> String {
        // A body is a serialized `Event`: a JSON object, so it starts with `{`.
        fn fields(body: &str) -> &str {
            body.strip_prefix('{').unwrap_or("}")
        }
        match &self.payload {
            Payload::Text(t) => t.to_string(),
            Payload::Event { seq, body } => {
                let mut s = String::with_capacity(body.len() + 32);
                s.push_str("{\"type\":\"event\",\"seq\":");
                s.push_str(&seq.to_string());
                s.push(',');
                s.push_str(fields(body));
                s
            }
            Payload::Ack { req, seq, body } => {
                let req = serde_json::Value::String(req.clone()).to_string();
                let mut s = String::with_capacity(body.len() + req.len() + 48);
                s.push_str("{\"type\":\"ack\",\"req\":");
                s.push_str(&req);
                s.push_str(",\"result\":{\"seq\":");
                s.push_str(&seq.to_string());
                s.push(',');
                s.push_str(fields(body));
                s.push('}');
                s
            }
        }
    }
}

/// Why the server closes a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReason {
    pub code: u16,
    pub reason: String,
}

/// Where a request came from: the user, and the socket and request id when it came over one.
#[derive(Debug, Clone)]
pub struct Origin {
    pub uid: String,
    pub session: Option<u64>,
    pub req: Option<String>,
}

impl Origin {
    pub fn rest(uid: &str) -> Self {
        Origin {
            uid: uid.to_string(),
            session: None,
            req: None,
        }
    }
}

/// What the hub keeps of one socket.
pub struct SessionSlot {
    pub tx: mpsc::Sender<Outbound>,
    pub close: watch::Sender<Option<CloseReason>>,
    pub token_hash: String,
    pub presence: PresenceSubscription,
    pub friends: HashSet<String>,
}

struct UserSlot {
    role: String,
    sessions: HashMap<u64, SessionSlot>,
}

#[derive(Default)]
pub struct Hub {
    users: Mutex<HashMap<String, UserSlot>>,
    next_id: AtomicU64,
    /// Locked after `users` when both are needed.
    revocations: Mutex<Revocations>,
}

/// Revocations and deactivations that admissions still in progress must see. A socket's
/// credentials are read from the database before it is registered; a revocation committed in
/// between closes no socket (there is none yet), so `register` checks these records under the
/// hub lock and refuses the socket instead.
#[derive(Default)]
struct Revocations {
    /// Bumped by every revocation.
    epoch: u64,
    /// Epochs at which admissions in progress took their ticket, with how many took each.
    pending: BTreeMap<u64, usize>,
    /// Revocations newer than the oldest pending ticket, oldest first.
    records: Vec<(u64, Revoked)>,
}

enum Revoked {
    /// Every socket of the user (all tokens revoked, or deactivated).
    User { uid: String, close: CloseReason },
    /// Sockets using one token (logout).
    Token { hash: String, close: CloseReason },
}

/// Taken before an admission reads the socket's credentials, consumed by [`Hub::register`].
/// Dropping it (the client went away before the upgrade finished) releases it.
pub struct AdmissionTicket {
    hub: Arc<Hub>,
    epoch: u64,
    live: bool,
}

impl Drop for AdmissionTicket {
    fn drop(&mut self) {
        if self.live {
            self.hub.release_ticket(self.epoch);
        }
    }
}

fn serialize(frame: &ServerFrame) -> Arc<str> {
    // Frames are plain data; serializing them cannot fail.
    serde_json::to_string(frame)
        .unwrap_or_else(|_| String::from("{}"))
        .into()
}

fn push(slot: &SessionSlot, out: Outbound) {
    // A socket being closed (revoked, deactivated, too slow, shutdown) gets nothing queued
    // after the close was decided: what came before is flushed, nothing after.
    if slot.close.borrow().is_some() {
        return;
    }
    if let Err(mpsc::error::TrySendError::Full(_)) = slot.tx.try_send(out) {
        crate::metrics::get().slow_consumer_closed();
        slot.close.send_replace(Some(CloseReason {
            code: close::SLOW_CONSUMER,
            reason: "send queue overflow".into(),
        }));
    }
}

fn covers(slot: &SessionSlot, uid: &str, role: &str) -> bool {
    match &slot.presence {
        PresenceSubscription::None => false,
        PresenceSubscription::AllUsers => true,
        PresenceSubscription::Roles(roles) => roles.iter().any(|r| r == role),
        PresenceSubscription::Friends => slot.friends.contains(uid),
    }
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, UserSlot>> {
        self.users.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts an admission: call before reading the socket's credentials.
    pub fn admission_ticket(self: &Arc<Self>) -> AdmissionTicket {
        let mut r = self.revocations.lock().unwrap_or_else(|p| p.into_inner());
        let epoch = r.epoch;
        *r.pending.entry(epoch).or_insert(0) += 1;
        AdmissionTicket {
            hub: self.clone(),
            epoch,
            live: true,
        }
    }

    fn release_ticket(&self, epoch: u64) {
        let mut r = self.revocations.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = r.pending.get_mut(&epoch) {
            *n -= 1;
            if *n == 0 {
                r.pending.remove(&epoch);
            }
        }
        // Records at or below the oldest pending ticket can no longer refuse anyone.
        match r.pending.keys().next().copied() {
            Some(oldest) => r.records.retain(|(e, _)| *e > oldest),
            None => r.records.clear(),
        }
    }

    /// Records a revocation; the caller holds the `users` lock, so no registration interleaves.
    fn record(&self, what: Revoked) {
        let mut r = self.revocations.lock().unwrap_or_else(|p| p.into_inner());
        r.epoch += 1;
        if !r.pending.is_empty() {
            let epoch = r.epoch;
            r.records.push((epoch, what));
        }
    }

    /// Adds a socket; returns its session id and whether the user just came online. Refuses it
    /// when its token was revoked or its user deactivated after the ticket was taken, or when the
    /// user already has `max_sockets` sockets.
    pub fn register(
        &self,
        mut ticket: AdmissionTicket,
        uid: &str,
        role: &str,
        slot: SessionSlot,
        max_sockets: usize,
    ) -> Result<(u64, bool), CloseReason> {
        let mut users = self.lock();
        ticket.live = false;
        let refusal = {
            let r = self.revocations.lock().unwrap_or_else(|p| p.into_inner());
            r.records
                .iter()
                .filter(|(e, _)| *e > ticket.epoch)
                .find_map(|(_, what)| match what {
                    Revoked::User { uid: u, close } if u == uid => Some(close.clone()),
                    Revoked::Token { hash, close } if *hash == slot.token_hash => {
                        Some(close.clone())
                    }
                    _ => None,
                })
        };
        self.release_ticket(ticket.epoch);
        if let Some(reason) = refusal {
            return Err(reason);
        }
        let open = users.get(uid).map_or(0, |u| u.sessions.len());
        if open >= max_sockets {
            return Err(CloseReason {
                code: close::TOO_MANY_SOCKETS,
                reason: format!("{uid:?} already has {open} open sockets (the limit)"),
            });
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let user = users.entry(uid.to_string()).or_insert_with(|| UserSlot {
            role: role.to_string(),
            sessions: HashMap::new(),
        });
        user.role = role.to_string();
        let first = user.sessions.is_empty();
        user.sessions.insert(id, slot);
        Ok((id, first))
    }

    /// Removes a socket; returns whether it was the user's last one.
    pub fn unregister(&self, uid: &str, session: u64) -> bool {
        let mut users = self.lock();
        let Some(user) = users.get_mut(uid) else {
            return false;
        };
        user.sessions.remove(&session);
        if user.sessions.is_empty() {
            users.remove(uid);
            true
        } else {
            false
        }
    }

    pub fn is_online(&self, uid: &str) -> bool {
        self.lock().contains_key(uid)
    }

    pub fn online_uids(&self) -> HashSet<String> {
        self.lock().keys().cloned().collect()
    }

    pub fn socket_count(&self) -> usize {
        self.lock().values().map(|u| u.sessions.len()).sum()
    }

    /// Queues durable events for their recipients. The origin socket gets its copy of the
    /// first event as the ack (so it is not echoed back); a request that stored nothing new is
    /// acked with `answer`, or without a result.
    pub fn deliver(&self, d: &Deliveries, origin: &Origin) {
        let users = self.lock();
        let ack_to = origin.session.zip(origin.req.as_ref());
        let mut acked = false;
        for fanned in &d.events {
            for (uid, seq) in &fanned.seqs {
                let Some(user) = users.get(uid) else { continue };
                let is_origin_user = *uid == origin.uid;
                for (id, slot) in &user.sessions {
                    let payload = match ack_to {
                        Some((session, req)) if !acked && is_origin_user && session == *id => {
                            acked = true;
                            // Acks are answers, not replayable events: never filtered by the
                            // session's replay window (a repeated muid acks with an old seq).
                            push(
                                slot,
                                Outbound {
                                    seq: None,
                                    payload: Payload::Ack {
                                        req: req.clone(),
                                        seq: *seq,
                                        body: fanned.body.clone(),
                                    },
                                },
                            );
                            continue;
                        }
                        _ => Payload::Event {
                            seq: *seq,
                            body: fanned.body.clone(),
                        },
                    };
                    push(
                        slot,
                        Outbound {
                            seq: Some(*seq),
                            payload,
                        },
                    );
                }
            }
        }
        if let (false, Some((session, req))) = (acked, ack_to) {
            if let Some(slot) = users
                .get(&origin.uid)
                .and_then(|u| u.sessions.get(&session))
            {
                let ack = ServerFrame::Ack {
                    req: req.clone(),
                    result: d.answer.clone(),
                };
                push(slot, Outbound::text(serialize(&ack)));
            }
        }
    }

    /// Queues a durable event that another node committed (it came over the bus) to every
    /// socket of `uid`; each socket's cursor drops it if it has it already.
    pub fn deliver_remote(&self, uid: &str, seq: u64, body: Arc<str>) {
        let users = self.lock();
        if let Some(user) = users.get(uid) {
            for slot in user.sessions.values() {
                push(
                    slot,
                    Outbound {
                        seq: Some(seq),
                        payload: Payload::Event {
                            seq,
                            body: body.clone(),
                        },
                    },
                );
            }
        }
    }

    /// Queues a frame to one socket.
    pub fn send_to_session(&self, uid: &str, session: u64, frame: &ServerFrame, seq: Option<u64>) {
        let users = self.lock();
        if let Some(slot) = users.get(uid).and_then(|u| u.sessions.get(&session)) {
            push(
                slot,
                Outbound {
                    seq,
                    payload: Payload::Text(serialize(frame)),
                },
            );
        }
    }

    /// Queues an ephemeral frame to every socket of these users, except one socket.
    pub fn send_to_users<'a>(
        &self,
        uids: impl IntoIterator<Item = &'a str>,
        frame: &ServerFrame,
        except_session: Option<u64>,
    ) {
        let text = serialize(frame);
        let users = self.lock();
        for uid in uids {
            if let Some(user) = users.get(uid) {
                for (id, slot) in &user.sessions {
                    if Some(*id) != except_session {
                        push(slot, Outbound::text(text.clone()));
                    }
                }
            }
        }
    }

    /// Queues an ephemeral frame to every socket.
    pub fn broadcast(&self, frame: &ServerFrame) {
        let text = serialize(frame);
        for user in self.lock().values() {
            for slot in user.sessions.values() {
                push(slot, Outbound::text(text.clone()));
            }
        }
    }

    /// Tells every socket whose subscription covers `uid` that its status changed.
    pub fn publish_presence(&self, uid: &str, role: &str, status: UserStatus) {
        let frame = ServerFrame::Presence(Presence {
            uid: uid.to_string(),
            status,
            last_active_at: Some(now_ms()),
        });
        let text = serialize(&frame);
        for (other, user) in self.lock().iter() {
            if other == uid {
                continue;
            }
            for slot in user.sessions.values() {
                if covers(slot, uid, role) {
                    push(slot, Outbound::text(text.clone()));
                }
            }
        }
    }

    /// The online users a socket's subscription covers, for its presence snapshot.
    pub fn presence_snapshot(&self, uid: &str, session: u64) -> Vec<Presence> {
        let users = self.lock();
        let Some(slot) = users.get(uid).and_then(|u| u.sessions.get(&session)) else {
            return Vec::new();
        };
        let mut out: Vec<Presence> = users
            .iter()
            .filter(|(other, user)| other.as_str() != uid && covers(slot, other, &user.role))
            .map(|(other, _)| Presence {
                uid: other.clone(),
                status: UserStatus::Online,
                last_active_at: None,
            })
            .collect();
        out.sort_by(|a, b| a.uid.cmp(&b.uid));
        out
    }

    /// [`Hub::presence_snapshot`], with the users online on other nodes (uid and role).
    pub fn presence_snapshot_with(
        &self,
        uid: &str,
        session: u64,
        elsewhere: &[(String, String)],
    ) -> Vec<Presence> {
        let mut out = self.presence_snapshot(uid, session);
        let users = self.lock();
        let Some(slot) = users.get(uid).and_then(|u| u.sessions.get(&session)) else {
            return out;
        };
        let here: HashSet<String> = out.iter().map(|p| p.uid.clone()).collect();
        for (other, role) in elsewhere {
            if other != uid && !here.contains(other) && covers(slot, other, role) {
                out.push(Presence {
                    uid: other.clone(),
                    status: UserStatus::Online,
                    last_active_at: None,
                });
            }
        }
        out.sort_by(|a, b| a.uid.cmp(&b.uid));
        out.dedup_by(|a, b| a.uid == b.uid);
        out
    }

    /// Keeps the friend sets of live sockets in step with the friends table.
    pub fn set_friendship(&self, a: &str, b: &str, friends: bool) {
        let mut users = self.lock();
        for (me, other) in [(a, b), (b, a)] {
            if let Some(user) = users.get_mut(me) {
                for slot in user.sessions.values_mut() {
                    if friends {
                        slot.friends.insert(other.to_string());
                    } else {
                        slot.friends.remove(other);
                    }
                }
            }
        }
    }

    /// Closes every socket of a user (all tokens revoked, or deactivated), including sockets
    /// whose admission is still in progress.
    pub fn revoke_user(&self, uid: &str, code: u16, reason: &str) {
        let users = self.lock();
        let close = CloseReason {
            code,
            reason: reason.to_string(),
        };
        self.record(Revoked::User {
            uid: uid.to_string(),
            close: close.clone(),
        });
        if let Some(user) = users.get(uid) {
            for slot in user.sessions.values() {
                slot.close.send_replace(Some(close.clone()));
            }
        }
    }

    /// Closes every socket authenticated with this token, including sockets whose admission is
    /// still in progress.
    pub fn revoke_token(&self, token_hash: &str, code: u16, reason: &str) {
        let users = self.lock();
        let close = CloseReason {
            code,
            reason: reason.to_string(),
        };
        self.record(Revoked::Token {
            hash: token_hash.to_string(),
            close: close.clone(),
        });
        for user in users.values() {
            for slot in user.sessions.values() {
                if slot.token_hash == token_hash {
                    slot.close.send_replace(Some(close.clone()));
                }
            }
        }
    }

    /// Closes every socket (shutdown).
    pub fn close_all(&self, code: u16, reason: &str) {
        for user in self.lock().values() {
            for slot in user.sessions.values() {
                slot.close.send_replace(Some(CloseReason {
                    code,
                    reason: reason.to_string(),
                }));
            }
        }
    }
}
