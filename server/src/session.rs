//! One accepted WebSocket: accept frame, replay, then live traffic in both directions, the
//! heartbeat, and the close.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use chinwag_protocol::frames::{Gap, Resume, ResumeStatus};
use chinwag_protocol::model::{PresenceSubscription, User, UserStatus};
use chinwag_protocol::{close, ApiError, ClientFrame, ErrorCode, ServerFrame, PROTOCOL_VERSION};
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::SinkExt;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::bus::cursor::{Cursor, Step};
use crate::hub::{AdmissionTicket, CloseReason, Origin, Outbound, Payload, SessionSlot};
use crate::service::calls::CallAction;
use crate::service::AppRef;
use crate::store::{self, now_ms};

/// What the upgrade handler learned about an admitted socket.
pub struct Admission {
    /// Taken before the token was read; consumed by the registration.
    pub ticket: Option<AdmissionTicket>,
    pub user: User,
    pub token_hash: String,
    pub presence: PresenceSubscription,
    pub last_seq: Option<u64>,
}

/// How a session ended.
enum End {
    /// The peer closed or vanished.
    Peer,
    /// The server closes with this code.
    Close(CloseReason),
}

fn close_frame(code: u16, reason: &str) -> WsMessage {
    crate::metrics::get().close_sent(code);
    // A close reason is at most 123 bytes.
    let mut reason = reason.to_string();
    while reason.len() > 123 {
        reason.pop();
    }
    WsMessage::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// Events read from the log per chunk of a replay, and the bytes after which a chunk stops: a
/// replay never holds more than about this much of a user's log in memory.
const REPLAY_CHUNK_ROWS: usize = 128;
const REPLAY_CHUNK_BYTES: usize = 1 << 20;

/// What a resume from `requested` gets when the user's log ends at `current`: the resume header
/// (its count filled in by the caller) and the seq after which to replay.
fn resume_position(requested: Option<u64>, current: u64, limit: u64) -> (Resume, u64) {
    let header = |status, after_seq, gap| Resume {
        status,
        after_seq,
        replay_count: 0,
        gap,
        last_seq: current,
    };
    match requested {
        None => (header(ResumeStatus::Fresh, None, None), current),
        // The server's log is behind the client (it was reset): start over from here.
        Some(s) if s > current => (header(ResumeStatus::Fresh, Some(s), None), current),
        Some(s) if current - s > limit => {
            let from = current - limit;
            let gap = Gap {
                from_seq: s + 1,
                to_seq: from,
            };
            (header(ResumeStatus::Gap, Some(s), Some(gap)), from)
        }
        Some(s) => (header(ResumeStatus::Complete, Some(s), None), s),
    }
}

/// Whether a socket error is a frame or message beyond the configured limits (told by its kind).
fn is_oversized(e: &axum::Error) -> bool {
    use std::error::Error as _;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(c) = cause {
        if let Some(tungstenite::Error::Capacity(_)) = c.downcast_ref::<tungstenite::Error>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// A durable request on its way through the writer.
type InFlight = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The future of a durable request (one that the writer stores and answers, ack or error, in
/// request order), or the frame back when it is ephemeral.
fn durable(app: AppRef, origin: Origin, frame: ClientFrame) -> Result<InFlight, Box<ClientFrame>> {
    // The writer has answered the socket when these finish; their results are for REST callers.
    Ok(match frame {
        ClientFrame::Send { message, .. } => Box::pin(async move {
            let _ = app.send_message(origin, message).await;
        }),
        ClientFrame::Edit {
            message_id,
            text,
            data,
            metadata,
            ..
        } => Box::pin(async move {
            let edit = chinwag_protocol::rest::EditMessage {
                text,
                data,
                metadata,
            };
            let _ = app.edit_message(origin, message_id, edit).await;
        }),
        ClientFrame::Delete { message_id, .. } => Box::pin(async move {
            let _ = app.delete_message(origin, message_id).await;
        }),
        ClientFrame::Receipt {
            kind, message_id, ..
        } => Box::pin(async move {
            let _ = app.receipt(origin, kind, message_id).await;
        }),
        ClientFrame::CallInitiate {
            session_id,
            call_type,
            receiver_type,
            receiver,
            metadata,
            ..
        } => Box::pin(async move {
            let _ = app
                .initiate_call(
                    origin,
                    session_id,
                    call_type,
                    receiver_type,
                    receiver,
                    metadata,
                )
                .await;
        }),
        ClientFrame::CallAccept { session_id, .. } => Box::pin(async move {
            let _ = app
                .call_action(origin, session_id, CallAction::Accept)
                .await;
        }),
        ClientFrame::CallReject {
            session_id, status, ..
        } => Box::pin(async move {
            let _ = app
                .call_action(origin, session_id, CallAction::Reject(status))
                .await;
        }),
        ClientFrame::CallCancel { session_id, .. } => Box::pin(async move {
            let _ = app
                .call_action(origin, session_id, CallAction::Cancel)
                .await;
        }),
        ClientFrame::CallEnd { session_id, .. } => Box::pin(async move {
            let _ = app.call_action(origin, session_id, CallAction::End).await;
        }),
        other => return Err(Box::new(other)),
    })
}

/// Closes a socket that was not admitted.
pub async fn refuse(mut socket: WebSocket, code: u16, reason: String) {
    let _ = socket.send(close_frame(code, &reason)).await;
    // Give the peer a moment to answer the close; it is dropped either way.
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.recv()).await;
}

pub async fn run(app: AppRef, mut socket: WebSocket, mut adm: Admission) {
    let uid = adm.user.uid.clone();
    let role = adm.user.role.clone();
    let friends: HashSet<String> = if adm.presence == PresenceSubscription::Friends {
        let u = uid.clone();
        app.store
            .read(move |c| Ok(store::friends::list(c, &u)?))
            .await
            .unwrap_or_default()
            .into_iter()
            .collect()
    } else {
        HashSet::new()
    };
    let (tx, rx) = mpsc::channel(app.config.socket_queue);
    let (close_tx, close_rx) = watch::channel(None);
    let slot = SessionSlot {
        tx,
        close: close_tx,
        token_hash: adm.token_hash.clone(),
        presence: adm.presence.clone(),
        friends,
    };
    let registered = match adm.ticket.take() {
        Some(ticket) => {
            app.hub
                .register(ticket, &uid, &role, slot, app.config.max_sockets_per_user)
        }
        None => Err(CloseReason {
            code: close::INTERNAL_ERROR,
            reason: "admission without a ticket".into(),
        }),
    };
    let (session_id, first) = match registered {
        Ok(r) => r,
        Err(reason) => {
            tracing::debug!(uid, code = reason.code, "socket refused at registration");
            return refuse(socket, reason.code, reason.reason).await;
        }
    };
    if first {
        crate::bus::presence::opened(&app, &uid, &role).await;
    }
    // Before the resume read: whatever another node commits after it arrives live.
    let _bus = match &app.bus {
        Some(bus) => Some(bus.subscribe(&uid).await),
        None => None,
    };
    tracing::debug!(uid, session_id, "socket accepted");

    let end = Session {
        app: &app,
        uid: uid.clone(),
        session_id,
        malformed: 0,
    }
    .serve(&mut socket, adm, rx, close_rx)
    .await;
    if let End::Close(reason) = &end {
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            socket.send(close_frame(reason.code, &reason.reason)),
        )
        .await;
    }

    if app.hub.unregister(&uid, session_id) {
        crate::bus::presence::closed(&app, &uid, &role).await;
    }
    tracing::debug!(uid, session_id, "socket closed");
}

struct Session<'a> {
    app: &'a AppRef,
    uid: String,
    session_id: u64,
    malformed: u32,
}

impl Session<'_> {
    fn origin(&self, req: Option<&str>) -> Origin {
        Origin {
            uid: self.uid.clone(),
            session: Some(self.session_id),
            req: req.map(String::from),
        }
    }

    /// Queues a frame for this socket behind everything already queued.
    fn reply(&self, frame: &ServerFrame) {
        self.app
            .hub
            .send_to_session(&self.uid, self.session_id, frame, None);
    }

    async fn send(&self, socket: &mut WebSocket, text: String) -> Result<(), End> {
        let bound = self.app.config.ping_interval + self.app.config.heartbeat_grace;
        match tokio::time::timeout(bound, socket.send(WsMessage::Text(text.into()))).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(End::Peer),
            Err(_) => Err(End::Close(CloseReason {
                code: close::HEARTBEAT_TIMEOUT,
                reason: "send timed out".into(),
            })),
        }
    }

    /// Writes `first` and whatever else is already queued (up to a bound) with one flush, so a
    /// busy socket costs one write per burst rather than one per frame.
    async fn write_queued(
        &self,
        socket: &mut WebSocket,
        first: Outbound,
        rx: &mut mpsc::Receiver<Outbound>,
        cursor: &mut Cursor,
    ) -> Result<(), End> {
        const MAX_FRAMES: usize = 64;
        const MAX_BYTES: usize = 256 * 1024;
        let bound = self.app.config.ping_interval + self.app.config.heartbeat_grace;
        let write = async {
            let (mut frames, mut bytes) = (0, 0);
            let mut next = Some(first);
            while let Some(out) = next.take() {
                let step = cursor.step(&out);
                if let Step::Fill { after, up_to } = step {
                    self.fill(socket, after, up_to).await?;
                    if let Some(seq) = Cursor::seq_of(&out) {
                        cursor.filled(seq);
                    }
                }
                if step != Step::Skip {
                    let text = out.to_text();
                    bytes += text.len();
                    frames += 1;
                    socket
                        .feed(WsMessage::Text(text.into()))
                        .await
                        .map_err(|_| End::Peer)?;
                }
                if frames < MAX_FRAMES && bytes < MAX_BYTES {
                    next = rx.try_recv().ok();
                }
            }
            socket.flush().await.map_err(|_| End::Peer)?;
            tracing::trace!(uid = self.uid, frames, "frames written");
            Ok::<(), End>(())
        };
        match tokio::time::timeout(bound, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(end)) => Err(end),
            Err(_) => Err(End::Close(CloseReason {
                code: close::HEARTBEAT_TIMEOUT,
                reason: "send timed out".into(),
            })),
        }
    }

    async fn send_frame(&self, socket: &mut WebSocket, frame: &ServerFrame) -> Result<(), End> {
        let text = serde_json::to_string(frame).map_err(|_| {
            End::Close(CloseReason {
                code: close::INTERNAL_ERROR,
                reason: "encoding failed".into(),
            })
        })?;
        self.send(socket, text).await
    }

    async fn serve(
        mut self,
        socket: &mut WebSocket,
        adm: Admission,
        mut rx: mpsc::Receiver<Outbound>,
        mut close_rx: watch::Receiver<Option<CloseReason>>,
    ) -> End {
        // Snapshot: the user's newest seq and how much to replay. Live events at or below it are
        // already covered (the socket was registered before the snapshot was read).
        let limit = self.app.config.replay_limit;
        let uid = self.uid.clone();
        let requested = adm.last_seq;
        let snapshot = self
            .app
            .store
            .read(move |c| {
                let current = store::users::last_seq(c, &uid)?;
                let (mut resume, from) = resume_position(requested, current, limit);
                crate::metrics::get().replay(&resume.status);
                // Pruned rows cannot be replayed; the count says what really follows.
                resume.replay_count = store::events::count(c, &uid, from, current)?;
                Ok((resume, from))
            })
            .await;
        let (resume, from) = match snapshot {
            Ok(s) => s,
            Err(e) => {
                return End::Close(CloseReason {
                    code: close::INTERNAL_ERROR,
                    reason: e.message,
                })
            }
        };
        // A revocation answered while the snapshot was read must not see its events sent: the
        // snapshot may cover events committed after it.
        if let Some(reason) = close_rx.borrow_and_update().clone() {
            return End::Close(reason);
        }
        let covered = resume.last_seq;
        let accept = ServerFrame::Accept {
            session_id: format!("{}", self.session_id),
            app_id: self.app.config.app_id.clone(),
            user: User {
                status: UserStatus::Online,
                ..adm.user
            },
            ping_interval_ms: self.app.config.ping_interval.as_millis() as u64,
            server_time: now_ms(),
            protocol: PROTOCOL_VERSION,
            resume,
        };
        if let Err(end) = self.send_frame(socket, &accept).await {
            return end;
        }
        if let Err(end) = self.replay(socket, &mut close_rx, from, covered).await {
            return end;
        }
        if let Err(end) = self
            .send_frame(socket, &ServerFrame::ReplayDone { last_seq: covered })
            .await
        {
            return end;
        }
        for (feature, left) in self.app.active_global_throttles() {
            let frame = ServerFrame::Throttled {
                feature,
                duration_ms: left.as_millis() as u64,
            };
            if let Err(end) = self.send_frame(socket, &frame).await {
                return end;
            }
        }
        if adm.presence != PresenceSubscription::None {
            let users = crate::bus::presence::snapshot(self.app, &self.uid, self.session_id).await;
            if let Err(end) = self
                .send_frame(socket, &ServerFrame::PresenceSnapshot { users })
                .await
            {
                return end;
            }
        }

        let mut cursor = Cursor::new(covered, self.app.bus.is_some());
        let end = self.live(socket, &mut rx, &mut close_rx, &mut cursor).await;
        let flush = match &end {
            // A socket that is too slow or silent gets no more frames.
            End::Close(r) => r.code != close::SLOW_CONSUMER && r.code != close::HEARTBEAT_TIMEOUT,
            End::Peer => false,
        };
        if flush {
            // What was queued before the close (say, the error that caused it) goes first:
            // only that much, and for at most a second.
            let pending = rx.len();
            let deadline = Instant::now() + Duration::from_secs(1);
            for _ in 0..pending {
                let Ok(out) = rx.try_recv() else { break };
                if !cursor.is_new(&out) {
                    continue;
                }
                let text = WsMessage::Text(out.to_text().into());
                match tokio::time::timeout_at(deadline, socket.send(text)).await {
                    Ok(Ok(())) => {}
                    _ => break,
                }
            }
        }
        end
    }

    /// Sends the user's events in `(from, covered]`, read in bounded chunks as the socket takes
    /// them, never the whole range at once.
    async fn replay(
        &self,
        socket: &mut WebSocket,
        close_rx: &mut watch::Receiver<Option<CloseReason>>,
        from: u64,
        covered: u64,
    ) -> Result<(), End> {
        let mut after = from;
        while after < covered {
            let chunk = self.stored_events(after, covered).await?;
            // As after the snapshot: a revocation answered while this chunk was read stops it.
            if let Some(reason) = close_rx.borrow_and_update().clone() {
                return Err(End::Close(reason));
            }
            let Some(&(last, _)) = chunk.last() else {
                break;
            };
            for (seq, body) in chunk {
                let frame = Outbound {
                    seq: Some(seq),
                    payload: Payload::Event {
                        seq,
                        body: body.into(),
                    },
                };
                self.send(socket, frame.to_text()).await?;
            }
            after = last;
        }
        Ok(())
    }

    /// One chunk of the user's stored events in `(after, up_to]` (at most `REPLAY_CHUNK_ROWS`
    /// rows and about `REPLAY_CHUNK_BYTES`), as their stored bodies; a failed read closes the
    /// socket (the client resumes).
    async fn stored_events(&self, after: u64, up_to: u64) -> Result<Vec<(u64, String)>, End> {
        let uid = self.uid.clone();
        self.app
            .store
            .read(move |c| {
                Ok(store::events::range(
                    c,
                    &uid,
                    after,
                    up_to,
                    REPLAY_CHUNK_ROWS,
                    REPLAY_CHUNK_BYTES,
                )?)
            })
            .await
            .map_err(|e| {
                End::Close(CloseReason {
                    code: close::INTERNAL_ERROR,
                    reason: e.message,
                })
            })
    }

    /// Feeds the user's events in `(after, up_to]` from the database: a hole in what the bus
    /// brought. A failed read closes the socket (the client resumes, from the database).
    async fn fill(&self, socket: &mut WebSocket, after: u64, up_to: u64) -> Result<(), End> {
        crate::metrics::get().bus_hole_filled();
        let mut after = after;
        while after < up_to {
            let chunk = self.stored_events(after, up_to).await?;
            let Some(&(last, _)) = chunk.last() else {
                break;
            };
            for (seq, body) in chunk {
                let text = Payload::Event {
                    seq,
                    body: body.into(),
                };
                let frame = Outbound {
                    seq: Some(seq),
                    payload: text,
                };
                socket
                    .feed(WsMessage::Text(frame.to_text().into()))
                    .await
                    .map_err(|_| End::Peer)?;
            }
            after = last;
        }
        Ok(())
    }

    /// Live traffic until either side ends the session.
    async fn live(
        &mut self,
        socket: &mut WebSocket,
        rx: &mut mpsc::Receiver<Outbound>,
        close_rx: &mut watch::Receiver<Option<CloseReason>>,
        cursor: &mut Cursor,
    ) -> End {
        let ping_every = self.app.config.ping_interval;
        let bound = ping_every + self.app.config.heartbeat_grace;
        let mut last_inbound = Instant::now();
        let mut ticker = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
        let max_in_flight = self.app.config.max_in_flight;
        // Durable requests waiting for their commit.
        let mut in_flight = FuturesUnordered::<InFlight>::new();
        loop {
            tokio::select! {
                // Beyond the bound of requests waiting for their commit, stop reading: TCP pushes
                // back on the client instead of the server buffering without limit.
                inbound = socket.recv(), if in_flight.len() < max_in_flight => {
                    let msg = match inbound {
                        Some(Ok(msg)) => msg,
                        Some(Err(e)) if is_oversized(&e) => {
                            return End::Close(CloseReason { code: close::MESSAGE_TOO_BIG, reason: format!("frames are limited to {} bytes", chinwag_protocol::limits::MAX_FRAME_BYTES) });
                        }
                        _ => return End::Peer,
                    };
                    last_inbound = Instant::now();
                    // Once the socket is being closed (say, its token revoked), no request of
                    // its is served, even if the frame won the race against the close.
                    if let Some(reason) = close_rx.borrow().clone() {
                        return End::Close(reason);
                    }
                    match msg {
                        WsMessage::Text(text) => {
                            if let Some(end) = self.handle_text(text.as_str(), &mut in_flight).await {
                                return end;
                            }
                        }
                        WsMessage::Binary(_) => {
                            if let Some(end) = self.malformed(None, "binary frames are not part of the protocol".into()) {
                                return end;
                            }
                        }
                        WsMessage::Ping(_) | WsMessage::Pong(_) => {}
                        WsMessage::Close(_) => return End::Peer,
                    }
                }
                Some(()) = in_flight.next(), if !in_flight.is_empty() => {}
                out = rx.recv() => {
                    let Some(out) = out else { return End::Peer };
                    if let Err(end) = self.write_queued(socket, out, rx, cursor).await {
                        return end;
                    }
                }
                changed = close_rx.changed() => {
                    if changed.is_err() {
                        return End::Peer;
                    }
                    if let Some(reason) = close_rx.borrow_and_update().clone() {
                        return End::Close(reason);
                    }
                }
                _ = ticker.tick() => {
                    if last_inbound.elapsed() > bound {
                        return End::Close(CloseReason { code: close::HEARTBEAT_TIMEOUT, reason: "no frame from the client within the heartbeat bound".into() });
                    }
                    if socket.send(WsMessage::Ping(Vec::new().into())).await.is_err() {
                        return End::Peer;
                    }
                }
            }
        }
    }

    /// Answers a malformed frame; too many in a row close the socket.
    fn malformed(&mut self, req: Option<String>, message: String) -> Option<End> {
        self.malformed += 1;
        self.reply(&ServerFrame::Error {
            req,
            error: ApiError::new(ErrorCode::MalformedFrame, message),
        });
        (self.malformed >= self.app.config.max_malformed).then(|| {
            End::Close(CloseReason {
                code: close::TOO_MANY_MALFORMED,
                reason: "too many malformed frames".into(),
            })
        })
    }

    async fn handle_text(
        &mut self,
        text: &str,
        in_flight: &mut FuturesUnordered<InFlight>,
    ) -> Option<End> {
        let frame = match serde_json::from_str::<ClientFrame>(text) {
            Ok(f) => f,
            Err(e) => {
                // Echo the request id when the frame had one, so the client can fail that request.
                let req = serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v.get("req").and_then(|r| r.as_str()).map(String::from));
                return self.malformed(req, format!("unreadable frame: {e}"));
            }
        };
        self.malformed = 0;
        let req = frame.req().map(String::from);
        tracing::trace!(uid = self.uid, req, "frame read");
        let origin = self.origin(req.as_deref());
        match durable(self.app.clone(), origin, frame) {
            Ok(mut request) => {
                // Poll once now: that runs its checks and queues it for the writer, so requests
                // reach the writer, and are answered by it, in the order they were read.
                let pending =
                    std::future::poll_fn(|cx| Poll::Ready(request.as_mut().poll(cx).is_pending()))
                        .await;
                if pending {
                    in_flight.push(request);
                }
                tracing::trace!(uid = self.uid, "request queued for the writer");
            }
            Err(frame) => {
                if let Err(error) = self.ephemeral(*frame).await {
                    self.reply(&ServerFrame::Error { req, error });
                }
            }
        }
        None
    }

    /// Runs a request that is never stored; ones with a request id are acked here, at once.
    async fn ephemeral(&self, frame: ClientFrame) -> Result<(), ApiError> {
        let app = self.app;
        let req = frame.req().map(String::from);
        let origin = self.origin(req.as_deref());
        match frame {
            ClientFrame::TypingStart(t) => self.ack_after(req, app.typing(&origin, t, true).await),
            ClientFrame::TypingEnd(t) => self.ack_after(req, app.typing(&origin, t, false).await),
            ClientFrame::Transient {
                receiver_type,
                receiver,
                data,
                ..
            } => self.ack_after(
                req,
                app.transient(&origin, receiver_type, receiver, data).await,
            ),
            ClientFrame::Ping { .. } => self.ack_after(req, Ok(())),
            _ => Err(ApiError::new(
                ErrorCode::Internal,
                "a durable request reached the ephemeral path",
            )),
        }
    }

    fn ack_after(&self, req: Option<String>, result: Result<(), ApiError>) -> Result<(), ApiError> {
        result?;
        if let Some(req) = req {
            self.reply(&ServerFrame::Ack { req, result: None });
        }
        Ok(())
    }
}

#[cfg(test)]
mod oversized_tests {
    use super::is_oversized;
    use tungstenite::error::CapacityError;

    #[test]
    fn oversized_frames_are_told_by_the_error_kind() {
        let big = tungstenite::Error::Capacity(CapacityError::MessageTooLong {
            size: 10,
            max_size: 5,
        });
        assert!(is_oversized(&axum::Error::new(big)));
        let other = tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
        );
        assert!(!is_oversized(&axum::Error::new(other)));
    }
}
