//! The connection task: one per client, it owns the socket, takes commands, runs the state
//! machine of the docs/behaviour.md (sections 3-5) and emits events. Nothing else touches the
//! socket, so frames, closes and timers of an older socket can never leak into a newer one.

pub mod outbox;
pub mod requests;
pub mod typing;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chinwag_protocol::close::{self, CloseAction};
use chinwag_protocol::frames::{Feature, ResumeStatus};
use chinwag_protocol::model::{GroupMemberEvent, Presence, UserStatus};
use chinwag_protocol::{ClientFrame, Event as WireEvent, EventFrame, ServerFrame};
use futures_util::{SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::backoff;
use crate::client::Inner;
use crate::dispatch::Item;
use crate::error::{Error, ErrorCode};
use crate::event::{CallEventKind, Event, LogLevel};
use crate::state::{ConnectionState, Reason};
use crate::transport::{self, Socket};
use outbox::{Outbox, Pending};
use typing::Typing;

/// What the client asks of its connection task.
pub enum Command {
    Connect,
    Disconnect,
    /// A new session was saved (login): drop any socket; connect in auto mode.
    SessionChanged,
    /// Stop everything for a logout; signals when the socket is gone.
    Logout(tokio::sync::oneshot::Sender<()>),
    // The large variants are boxed: the command channel allocates its slots in blocks of 32,
    // each the size of the largest variant, and every client holds one block.
    Send(Box<Pending>),
    /// Typing, receipts, transient messages: written now or not at all.
    Ephemeral(Box<ClientFrame>),
    /// Edits, deletes, call signalling: written now with a request id, answered by the ack.
    Request(Box<(ClientFrame, crate::completion::Completer<EventFrame>)>),
    Network {
        up: bool,
    },
    AppState {
        foreground: bool,
    },
    Shutdown,
}

enum Flow {
    Continue,
    Exit,
}

/// While events flow, the resume position is saved at most this often; always when a socket
/// ends and when the client is freed.
const POSITION_SAVE_EVERY: Duration = Duration::from_secs(1);

/// A wake-up planned for later than this past the one armed re-arms the timer; within it the
/// armed one fires, finds nothing due yet, and re-arms. Saves re-arming on every frame under
/// load while an idle socket (the next deadline moves by a ping interval) never wakes early.
const REARM_SLACK: Duration = Duration::from_millis(500);

/// How a live socket ended.
enum Ended {
    /// The app or a command closed it; the state was already set.
    Handled(Flow),
    /// Lost: reconnect (with the server's delay, if it named one).
    Lost {
        reason: Reason,
        message: String,
        server_delay: Option<Duration>,
    },
    /// The server said not to retry.
    Refused { code: u16, message: String },
}

pub struct Task {
    inner: Arc<Inner>,
    commands: mpsc::UnboundedReceiver<Command>,
    state: ConnectionState,
    /// Failed attempts since the counter was last reset.
    attempt: u32,
    /// When the connection was lost (for the SUSPENDED bound).
    lost_since: Option<Instant>,
    retry_at: Option<Instant>,
    server_delay: Option<Duration>,
    outbox: Outbox,
    requests: requests::Requests,
    typing: Typing,
    /// Highest durable sequence received in this epoch (dedupe and resume position).
    received_seq: u64,
    /// Sequences of our own requests' events, answered by acks: if the app disconnects before
    /// they count as delivered, the replay brings them back and they must not be echoed.
    own_acked: BTreeSet<u64>,
    /// Dispatcher epoch this task's events belong to.
    epoch: u64,
    persisted_seq: Option<u64>,
    /// Highest sequence handed to the dispatcher (with an event, or to mark as delivered).
    posted_seq: u64,
    /// When the moved position is to be saved (CONNECTED only; `None`: nothing to save).
    save_due: Option<Instant>,
    backgrounded: bool,
    closed_for_background: bool,
    rng: StdRng,
}

impl Task {
    pub fn new(inner: Arc<Inner>, commands: mpsc::UnboundedReceiver<Command>) -> Task {
        let capacity = inner.settings.queue_capacity;
        let saved_seq = inner.session().and_then(|s| s.last_seq);
        inner.dispatch.set_delivered_seq(saved_seq.unwrap_or(0));
        Task {
            epoch: inner.dispatch.epoch(),
            inner,
            commands,
            state: ConnectionState::Disconnected,
            attempt: 0,
            lost_since: None,
            retry_at: None,
            server_delay: None,
            outbox: Outbox::new(capacity),
            requests: requests::Requests::default(),
            typing: Typing::default(),
            received_seq: saved_seq.unwrap_or(0),
            own_acked: BTreeSet::new(),
            persisted_seq: saved_seq,
            posted_seq: 0,
            save_due: None,
            backgrounded: false,
            closed_for_background: false,
            rng: StdRng::from_entropy(),
        }
    }

    pub async fn run(mut self) {
        loop {
            // Each phase boxed: the task's own future stays small, and a client carries only
            // the memory of the phase it is in (an idle connected client held ~29 KiB inline).
            let flow = match self.state {
                ConnectionState::Disconnected | ConnectionState::Failed => {
                    Box::pin(self.idle()).await
                }
                ConnectionState::Connecting => Box::pin(self.connecting()).await,
                ConnectionState::Reconnecting | ConnectionState::Suspended => {
                    Box::pin(self.waiting()).await
                }
                // `connecting` runs the live socket itself and leaves CONNECTED when it ends.
                ConnectionState::Connected => Flow::Continue,
            };
            if let Flow::Exit = flow {
                break;
            }
        }
        self.persist_position();
        self.outbox
            .fail_all(ErrorCode::Cancelled, "the client was freed");
    }

    // ----- state and events -------------------------------------------------------------

    fn set_state(
        &mut self,
        to: ConnectionState,
        reason: Reason,
        message: impl Into<String>,
        retry_in: Option<Duration>,
    ) {
        if self.state == to {
            return;
        }
        let previous = self.state;
        self.state = to;
        self.inner.set_state(
            previous,
            to,
            reason,
            message.into(),
            retry_in.map(|d| d.as_millis() as u64),
        );
    }

    fn emit(&mut self, seq: Option<u64>, event: Event) {
        if let Some(seq) = seq {
            self.position_moved(seq);
        }
        self.inner.emit_in(self.epoch, seq, event);
    }

    fn log(&self, level: LogLevel, message: String) {
        self.inner.log(level, "chinwag::connection", message);
    }

    /// Has the delivered position saved if it moved (off the runtime, no fsync: a crash
    /// replays a few events, never skips one).
    fn persist_position(&mut self) {
        let delivered = self.inner.dispatch.delivered_seq();
        // Own events at or below the delivered position can no longer come back in a replay.
        if self.own_acked.first().is_some_and(|&s| s <= delivered) {
            self.own_acked = self.own_acked.split_off(&(delivered + 1));
        }
        if self.persisted_seq == Some(delivered) {
            return;
        }
        self.inner.save_position(delivered);
        self.persisted_seq = Some(delivered);
    }

    /// While CONNECTED: the position moved (an event with a sequence went to the dispatcher),
    /// so a save is due within [`POSITION_SAVE_EVERY`] unless one already is.
    fn position_moved(&mut self, seq: u64) {
        self.posted_seq = self.posted_seq.max(seq);
        if self.save_due.is_none() {
            self.save_due = Some(Instant::now() + POSITION_SAVE_EVERY);
        }
    }

    /// The position save came due: save what the app has seen; while the dispatcher is still
    /// behind what was posted, another save is due a period later. Nothing is due once it
    /// caught up, so an idle client writes nothing.
    fn position_save_due(&mut self) {
        self.persist_position();
        self.save_due = (self.inner.dispatch.delivered_seq() < self.posted_seq)
            .then(|| Instant::now() + POSITION_SAVE_EVERY);
    }

    /// Sends that wait for a socket: allowed while connecting or reconnecting.
    fn accept_send(&mut self, p: Pending) {
        match self.state {
            ConnectionState::Connecting
            | ConnectionState::Reconnecting
            | ConnectionState::Connected => {
                self.outbox.push(p);
            }
            ConnectionState::Suspended => p.done.complete(Err(Error::new(
                ErrorCode::NotConnected,
                "the connection is suspended; sends fail until it is back",
            ))),
            ConnectionState::Disconnected | ConnectionState::Failed => {
                p.done.complete(Err(Error::new(
                    ErrorCode::NotConnected,
                    "not connected: call connect() first",
                )))
            }
        }
    }

    fn logged_out(&mut self, done: tokio::sync::oneshot::Sender<()>) {
        self.outbox.fail_all(ErrorCode::LoggedOut, "logged out");
        self.reset_backoff();
        self.set_state(
            ConnectionState::Disconnected,
            Reason::LoggedOut,
            "logged out",
            None,
        );
        self.received_seq = 0;
        self.persisted_seq = None;
        let _ = done.send(());
    }

    fn reset_backoff(&mut self) {
        self.attempt = 0;
        self.lost_since = None;
        self.retry_at = None;
        self.server_delay = None;
    }

    fn begin_attempt(&mut self, reason: Reason, message: &str) {
        if self.inner.session().is_none() {
            self.set_state(
                ConnectionState::Disconnected,
                reason,
                "no logged-in user",
                None,
            );
            return;
        }
        self.closed_for_background = false;
        self.set_state(ConnectionState::Connecting, reason, message, None);
    }

    /// Plans the next attempt after a loss or a failed attempt.
    fn schedule_retry(&mut self, reason: Reason, message: String, after_established: bool) {
        let now = Instant::now();
        let lost_since = *self.lost_since.get_or_insert(now);
        let t = self.inner.settings.timings.clone();
        let suspended = now.duration_since(lost_since) >= t.suspend_after;
        let ours = if suspended {
            backoff::suspended(&t, &mut self.rng)
        } else if after_established {
            backoff::first_retry(&t, &mut self.rng)
        } else {
            self.attempt += 1;
            backoff::after_failure(&t, self.attempt, &mut self.rng)
        };
        let delay = backoff::honour_server(ours, self.server_delay.take());
        self.retry_at = Some(now + delay);
        if suspended {
            self.suspend(reason, message, delay);
        } else {
            self.set_state(ConnectionState::Reconnecting, reason, message, Some(delay));
        }
    }

    fn suspend(&mut self, reason: Reason, message: String, retry_in: Duration) {
        self.outbox.fail_all(
            ErrorCode::QueueExpired,
            "the connection was lost for too long",
        );
        self.set_state(ConnectionState::Suspended, reason, message, Some(retry_in));
    }

    // ----- DISCONNECTED and FAILED ------------------------------------------------------

    async fn idle(&mut self) -> Flow {
        let Some(cmd) = self.commands.recv().await else {
            return Flow::Exit;
        };
        match cmd {
            Command::Connect => {
                self.reset_backoff();
                self.begin_attempt(Reason::ConnectRequested, "connect requested");
            }
            Command::SessionChanged => {
                self.reset_backoff();
                self.received_seq = self.inner.dispatch.delivered_seq();
                if self.inner.settings.auto_connect {
                    self.begin_attempt(Reason::ConnectRequested, "logged in");
                } else {
                    self.set_state(
                        ConnectionState::Disconnected,
                        Reason::ConnectRequested,
                        "logged in",
                        None,
                    );
                }
            }
            Command::Disconnect => {}
            Command::Logout(done) => self.logged_out(done),
            Command::Send(p) => self.accept_send(*p),
            Command::Ephemeral(_) => {}
            Command::Request(r) => not_connected(r.1),
            Command::Network { .. } => {}
            Command::AppState { foreground } => {
                self.backgrounded = !foreground;
                if foreground
                    && self.closed_for_background
                    && self.state == ConnectionState::Disconnected
                {
                    self.reset_backoff();
                    self.begin_attempt(Reason::AppState, "app in the foreground");
                }
            }
            Command::Shutdown => return Flow::Exit,
        }
        Flow::Continue
    }

    // ----- RECONNECTING and SUSPENDED ----------------------------------------------------

    async fn waiting(&mut self) -> Flow {
        let retry_at = self.retry_at.unwrap_or_else(Instant::now);
        let suspend_at = match (self.state, self.lost_since) {
            (ConnectionState::Reconnecting, Some(lost)) => {
                Some(lost + self.inner.settings.timings.suspend_after)
            }
            _ => None,
        };
        tokio::select! {
            _ = sleep_until(retry_at) => {
                self.begin_attempt(Reason::RetryTimer, "retrying");
            }
            _ = async { sleep_until(suspend_at.unwrap_or(retry_at)).await }, if suspend_at.is_some_and(|s| s < retry_at) => {
                let left = retry_at.saturating_duration_since(Instant::now());
                self.suspend(Reason::SuspendTimeout, "lost for too long".into(), left);
            }
            cmd = self.commands.recv() => {
                let Some(cmd) = cmd else { return Flow::Exit };
                match cmd {
                    Command::Connect => {
                        self.reset_backoff();
                        self.begin_attempt(Reason::ConnectRequested, "connect requested");
                    }
                    Command::SessionChanged => {
                        self.reset_backoff();
                        self.begin_attempt(Reason::ConnectRequested, "logged in");
                    }
                    Command::Disconnect => {
                        self.reset_backoff();
                        self.outbox.fail_all(ErrorCode::Disconnected, "disconnect() was called");
                        self.set_state(ConnectionState::Disconnected, Reason::DisconnectRequested, "disconnect requested", None);
                    }
                    Command::Logout(done) => self.logged_out(done),
                    Command::Send(p) => self.accept_send(*p),
                    Command::Ephemeral(_) => {}
                    Command::Request(r) => not_connected(r.1),
                    Command::Network { up: true } => {
                        self.reset_backoff();
                        self.begin_attempt(Reason::NetworkChanged, "network is back");
                    }
                    Command::Network { up: false } => {}
                    Command::AppState { foreground } => {
                        self.backgrounded = !foreground;
                        if foreground {
                            self.begin_attempt(Reason::AppState, "app in the foreground");
                        }
                    }
                    Command::Shutdown => return Flow::Exit,
                }
            }
        }
        Flow::Continue
    }

    // ----- CONNECTING ----------------------------------------------------------------------

    async fn connecting(&mut self) -> Flow {
        let Some(session) = self.inner.session() else {
            self.set_state(
                ConnectionState::Disconnected,
                Reason::LoggedOut,
                "no logged-in user",
                None,
            );
            return Flow::Continue;
        };
        let epoch = self.inner.dispatch.epoch();
        if epoch != self.epoch {
            // disconnect() dropped whatever was queued: resume from what the app really saw.
            self.epoch = epoch;
            self.received_seq = self.inner.dispatch.delivered_seq();
        }
        let last_seq = session.last_seq.map(|_| self.received_seq);
        let settings = &self.inner.settings;
        let target = transport::Target {
            ws_url: settings.ws_url(),
            app_id: self.inner.app_id.clone(),
            token: session.token,
            last_seq,
            presence: settings.presence.clone(),
            tls: self.inner.tls.clone(),
        };
        let timeout = settings.timings.connect_timeout;
        // Boxed: the attempt (TCP, TLS, upgrade) is by far the largest state of the task; inline,
        // every client would carry its size for its whole life, connected or not.
        let mut attempt = Box::pin(tokio::time::timeout(timeout, transport::open(target)));
        let (socket, accepted) = loop {
            tokio::select! {
                result = &mut attempt => {
                    match result {
                        Ok(Ok(opened)) => break opened,
                        Ok(Err(e)) => {
                            self.log(LogLevel::Info, format!("connect attempt failed: {}", e.message));
                            match e.action {
                                CloseAction::DoNotRetry => self.refused(e.close_code.unwrap_or(close::TOKEN_INVALID), e.message),
                                CloseAction::RetryAfter(ms) => {
                                    self.server_delay = Some(Duration::from_millis(ms));
                                    self.schedule_retry(Reason::AttemptFailed, e.message, false);
                                }
                                CloseAction::RetryWithBackoff => self.schedule_retry(Reason::AttemptFailed, e.message, false),
                            }
                            return Flow::Continue;
                        }
                        Err(_) => {
                            self.schedule_retry(Reason::AttemptFailed, format!("no accept within {timeout:?}"), false);
                            return Flow::Continue;
                        }
                    }
                }
                cmd = self.commands.recv() => {
                    let Some(cmd) = cmd else { return Flow::Exit };
                    match cmd {
                        Command::Connect => {}
                        Command::SessionChanged => {
                            // Start over with the new token, silently: still CONNECTING.
                            return Flow::Continue;
                        }
                        Command::Disconnect => {
                            self.reset_backoff();
                            self.outbox.fail_all(ErrorCode::Disconnected, "disconnect() was called");
                            self.set_state(ConnectionState::Disconnected, Reason::DisconnectRequested, "disconnect requested", None);
                            return Flow::Continue;
                        }
                        Command::Logout(done) => {
                            self.logged_out(done);
                            return Flow::Continue;
                        }
                        Command::Send(p) => self.accept_send(*p),
                        Command::Ephemeral(_) => {}
                        Command::Request(r) => not_connected(r.1),
                        Command::Network { up: false } => {
                            self.schedule_retry(Reason::NetworkChanged, "network went down".into(), false);
                            return Flow::Continue;
                        }
                        Command::Network { up: true } => {}
                        Command::AppState { foreground } => self.backgrounded = !foreground,
                        Command::Shutdown => return Flow::Exit,
                    }
                }
            }
        };
        // The finished attempt's memory goes now, not when the socket ends; the connected phase
        // gets its own allocation, sized for it alone.
        drop(attempt);
        Box::pin(self.connected(socket, accepted)).await
    }

    /// The server said not to retry: FAILED, zero retries; the session is kept.
    fn refused(&mut self, code: u16, message: String) {
        self.reset_backoff();
        let (reason, error) = match code {
            close::TOKEN_INVALID => (
                Reason::AuthRejected,
                Error::new(
                    ErrorCode::SessionExpired,
                    format!("the session was rejected: {message}"),
                ),
            ),
            close::USER_DEACTIVATED => (
                Reason::UserDeactivated,
                Error::new(ErrorCode::UserDeactivated, message.clone()),
            ),
            close::APP_MISMATCH => (
                Reason::ProtocolMismatch,
                Error::new(ErrorCode::AppMismatch, message.clone()),
            ),
            _ => (
                Reason::ProtocolMismatch,
                Error::new(ErrorCode::Protocol, message.clone()),
            ),
        };
        self.outbox.fail_all(error.code, &error.message);
        self.set_state(ConnectionState::Failed, reason, message, None);
        self.emit(None, Event::ConnectionError(error.clone()));
        if matches!(reason, Reason::AuthRejected | Reason::UserDeactivated) {
            self.inner
                .emit_in(self.epoch, None, Event::SessionExpired(error));
        }
    }

    // ----- CONNECTED -----------------------------------------------------------------------

    async fn connected(&mut self, socket: Socket, accepted: transport::Accepted) -> Flow {
        let resume = &accepted.resume;
        match resume.status {
            ResumeStatus::Fresh => {
                // First connect of this session, or the server's log restarted: adopt its
                // position, and save it even if the number happens to equal an older one.
                self.received_seq = resume.last_seq;
                self.inner.dispatch.set_delivered_seq(resume.last_seq);
                self.persisted_seq = None;
            }
            ResumeStatus::Gap | ResumeStatus::Complete => {}
        }
        self.lost_since = None;
        self.retry_at = None;
        self.set_state(
            ConnectionState::Connected,
            Reason::Accepted,
            format!("connected as {}", accepted.user.uid),
            None,
        );
        // Order on (re)connect: CONNECTED, then the gap notice, then the replay.
        if let (ResumeStatus::Gap, Some(gap)) = (resume.status, resume.gap) {
            self.emit(None, Event::Gap(gap));
        }
        self.persist_position();
        let ended = self.live(socket, accepted.ping_interval).await;
        for t in self.typing.clear() {
            self.emit(None, Event::TypingEnded(t));
        }
        self.inner.clear_throttles();
        self.requests.fail_all();
        self.outbox.requeue_in_flight();
        self.persist_position();
        self.save_due = None;
        match ended {
            Ended::Handled(flow) => flow,
            Ended::Lost {
                reason,
                message,
                server_delay,
            } => {
                self.log(LogLevel::Info, format!("connection lost: {message}"));
                self.server_delay = server_delay;
                self.schedule_retry(reason, message, true);
                Flow::Continue
            }
            Ended::Refused { code, message } => {
                self.refused(code, message);
                Flow::Continue
            }
        }
    }

    /// Closes a socket politely in the background (close frame, at most 1 s).
    fn close_in_background(socket: Socket) {
        tokio::spawn(async move {
            let mut socket = socket;
            let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
        });
    }

    async fn live(&mut self, mut socket: Socket, ping_interval: Duration) -> Ended {
        let t = self.inner.settings.timings.clone();
        let silence_bound = ping_interval + t.heartbeat_grace;
        let connected_at = Instant::now();
        let mut last_inbound = Instant::now();
        let mut probe_deadline: Option<Instant> = None;
        let mut background_deadline = self
            .backgrounded
            .then(|| Instant::now() + t.background_grace);
        let mut stable = false;
        // One timer, armed for the earliest thing due (the heartbeat deadline, a probe, the
        // background grace, the stable mark, a typing timeout, a position save): an idle
        // socket wakes for the server's pings and nothing else.
        let alarm = tokio::time::sleep_until(Instant::now());
        tokio::pin!(alarm);
        let mut armed: Option<Instant> = None;
        if let Err(e) = self.write_queued(&mut socket).await {
            return e;
        }
        loop {
            let due = [
                // Just past the bound: `check_alive` fails only once the silence exceeds it.
                Some(last_inbound + silence_bound + Duration::from_millis(1)),
                probe_deadline,
                background_deadline,
                (!stable).then(|| connected_at + t.stable_after),
                self.typing.next_expiry(),
                self.save_due,
            ]
            .into_iter()
            .flatten()
            .min();
            if let Some(due) = due {
                if armed.is_none_or(|a| due < a || due > a + REARM_SLACK) {
                    alarm.as_mut().reset(due);
                    armed = Some(due);
                }
            }
            tokio::select! {
                frame = socket.next() => {
                    // Woken after a freeze: frames buffered meanwhile prove nothing about now.
                    if let Err(e) = self.check_alive(last_inbound, silence_bound) {
                        return e;
                    }
                    match frame {
                        Some(Ok(WsMessage::Text(text))) => {
                            last_inbound = Instant::now();
                            probe_deadline = None;
                            if let Err(message) = self.on_frame(&text) {
                                // A malformed or hostile frame: drop this socket, resume on a new one.
                                return Ended::Lost { reason: Reason::ConnectionLost, message, server_delay: None };
                            }
                        }
                        Some(Ok(WsMessage::Close(frame))) => {
                            let (code, reason) = frame.map(|f| (u16::from(f.code), f.reason.to_string())).unwrap_or((1005, String::new()));
                            return match close::action_for(code, &reason) {
                                CloseAction::DoNotRetry => Ended::Refused { code, message: format!("server closed the session ({code}: {reason})") },
                                CloseAction::RetryAfter(ms) => Ended::Lost { reason: Reason::ConnectionLost, message: format!("server asked to retry later ({code})"), server_delay: Some(Duration::from_millis(ms)) },
                                CloseAction::RetryWithBackoff => {
                                    let reason_code = if code == close::SERVICE_RESTART { Reason::ServerRestart } else { Reason::ConnectionLost };
                                    Ended::Lost { reason: reason_code, message: format!("server closed the socket ({code}: {reason})"), server_delay: None }
                                }
                            };
                        }
                        Some(Ok(_)) => {
                            last_inbound = Instant::now();
                            probe_deadline = None;
                        }
                        Some(Err(e)) => return Ended::Lost { reason: Reason::ConnectionLost, message: format!("socket failed: {e}"), server_delay: None },
                        None => return Ended::Lost { reason: Reason::ConnectionLost, message: "socket closed".into(), server_delay: None },
                    }
                }
                cmd = self.commands.recv() => {
                    let Some(cmd) = cmd else {
                        Self::close_in_background(socket);
                        return Ended::Handled(Flow::Exit);
                    };
                    match cmd {
                        Command::Connect => {}
                        Command::Disconnect => {
                            Self::close_in_background(socket);
                            self.outbox.requeue_in_flight();
                            self.outbox.fail_all(ErrorCode::Disconnected, "disconnect() was called");
                            self.reset_backoff();
                            self.set_state(ConnectionState::Disconnected, Reason::DisconnectRequested, "disconnect requested", None);
                            return Ended::Handled(Flow::Continue);
                        }
                        Command::SessionChanged => {
                            Self::close_in_background(socket);
                            self.reset_backoff();
                            self.received_seq = self.inner.dispatch.delivered_seq();
                            if self.inner.settings.auto_connect {
                                // Silent restart with the new token would repeat CONNECTED; go through CONNECTING.
                                self.set_state(ConnectionState::Connecting, Reason::ConnectRequested, "logged in again", None);
                            } else {
                                self.set_state(ConnectionState::Disconnected, Reason::ConnectRequested, "logged in again", None);
                            }
                            return Ended::Handled(Flow::Continue);
                        }
                        Command::Logout(done) => {
                            Self::close_in_background(socket);
                            self.logged_out(done);
                            return Ended::Handled(Flow::Continue);
                        }
                        Command::Send(p) => {
                            self.outbox.push(*p);
                            if let Err(e) = self.check_alive(last_inbound, silence_bound) {
                                return e;
                            }
                            if let Err(e) = self.write_queued(&mut socket).await {
                                return e;
                            }
                        }
                        Command::Ephemeral(frame) => {
                            if let Err(e) = self.check_alive(last_inbound, silence_bound) {
                                return e;
                            }
                            if let Err(e) = self.write(&mut socket, &frame).await {
                                return e;
                            }
                        }
                        Command::Request(r) => {
                            let (frame, done) = *r;
                            if let Err(e) = self.check_alive(last_inbound, silence_bound) {
                                not_connected(done);
                                return e;
                            }
                            let frame = self.requests.start(frame, done);
                            if let Err(e) = self.write(&mut socket, &frame).await {
                                return e;
                            }
                        }
                        Command::Network { up: false } => {
                            return Ended::Lost { reason: Reason::NetworkChanged, message: "network went down".into(), server_delay: None };
                        }
                        Command::Network { up: true } => {
                            if socket.send(WsMessage::Ping(Vec::new().into())).await.is_err() {
                                return Ended::Lost { reason: Reason::ConnectionLost, message: "probe failed".into(), server_delay: None };
                            }
                            probe_deadline = Some(Instant::now() + t.probe_timeout);
                        }
                        Command::AppState { foreground } => {
                            self.backgrounded = !foreground;
                            background_deadline = (!foreground).then(|| Instant::now() + t.background_grace);
                        }
                        Command::Shutdown => {
                            Self::close_in_background(socket);
                            return Ended::Handled(Flow::Exit);
                        }
                    }
                }
                _ = &mut alarm, if armed.is_some() => {
                    armed = None;
                    let now = Instant::now();
                    if let Err(e) = self.check_alive(last_inbound, silence_bound) {
                        return e;
                    }
                    if probe_deadline.is_some_and(|d| now >= d) {
                        return Ended::Lost { reason: Reason::NetworkChanged, message: "no answer to the network probe".into(), server_delay: None };
                    }
                    if background_deadline.is_some_and(|d| now >= d) {
                        Self::close_in_background(socket);
                        self.closed_for_background = true;
                        self.reset_backoff();
                        self.set_state(ConnectionState::Disconnected, Reason::AppState, "closed in the background", None);
                        return Ended::Handled(Flow::Continue);
                    }
                    if !stable && now.duration_since(connected_at) >= t.stable_after {
                        stable = true;
                        self.attempt = 0;
                    }
                    for ended in self.typing.expired(now) {
                        self.emit(None, Event::TypingEnded(ended));
                    }
                    if self.save_due.is_some_and(|d| now >= d) {
                        self.position_save_due();
                    }
                }
            }
        }
    }

    /// The heartbeat bound, checked when its deadline's timer fires, on every inbound frame
    /// and before every send: a process frozen past it finds the socket dead when it wakes.
    fn check_alive(&self, last_inbound: Instant, bound: Duration) -> Result<(), Ended> {
        if last_inbound.elapsed() > bound {
            return Err(Ended::Lost {
                reason: Reason::ConnectionLost,
                message: format!("no frame from the server for {bound:?}"),
                server_delay: None,
            });
        }
        Ok(())
    }

    async fn write(&mut self, socket: &mut Socket, frame: &ClientFrame) -> Result<(), Ended> {
        let text = serde_json::to_string(frame).map_err(|e| Ended::Lost {
            reason: Reason::ConnectionLost,
            message: format!("cannot encode a frame: {e}"),
            server_delay: None,
        })?;
        // A peer that stopped reading must not stall the task (nor its heartbeat checks):
        // bound every write by the heartbeat grace.
        let t = &self.inner.settings.timings;
        let bound = t.connect_timeout.min(t.heartbeat_grace);
        match tokio::time::timeout(bound, socket.send(WsMessage::Text(text.into()))).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Ended::Lost {
                reason: Reason::ConnectionLost,
                message: format!("write failed: {e}"),
                server_delay: None,
            }),
            Err(_) => Err(Ended::Lost {
                reason: Reason::ConnectionLost,
                message: format!("write stalled for {bound:?}"),
                server_delay: None,
            }),
        }
    }

    async fn write_queued(&mut self, socket: &mut Socket) -> Result<(), Ended> {
        while let Some((id, message)) = self.outbox.next_to_write() {
            let frame = ClientFrame::Send {
                req: outbox::req_id(id),
                message,
            };
            self.write(socket, &frame).await?;
        }
        Ok(())
    }

    // ----- inbound frames ------------------------------------------------------------------

    /// Handles one text frame; an unreadable one is logged and returned as the reason to drop
    /// the socket (docs/behaviour.md, section 9).
    fn on_frame(&mut self, text: &str) -> Result<(), String> {
        let frame = match serde_json::from_str::<ServerFrame>(text) {
            Ok(f) => f,
            Err(e) => {
                let message = format!("unreadable server frame, reconnecting: {e}");
                self.log(LogLevel::Warn, message.clone());
                return Err(message);
            }
        };
        let timeout = self.inner.settings.timings.typing_timeout;
        match frame {
            ServerFrame::Event(ef) => self.on_event(ef),
            ServerFrame::Ack { req, result } => {
                let Some(frame) = result else { return Ok(()) };
                self.received_seq = self.received_seq.max(frame.seq);
                self.own_acked.insert(frame.seq);
                self.note_delivered_in_order(frame.seq);
                if let Some(call) = call_in(&frame.event) {
                    self.inner.note_call(call, true);
                }
                if req.starts_with('q') {
                    self.requests.finish(&req, Ok(frame));
                } else if let WireEvent::Message(m) = frame.event {
                    self.outbox.finish(&req, Ok(m));
                }
            }
            ServerFrame::Error { req, error } => {
                let err = Error::from_server(&error);
                let handled = req.as_deref().is_some_and(|r| {
                    self.requests.finish(r, Err(err.clone()))
                        || self.outbox.finish(r, Err(err.clone()))
                });
                if !handled {
                    self.log(LogLevel::Warn, format!("server reported an error: {err}"));
                }
            }
            ServerFrame::TypingStarted(t) => {
                if self.typing.started(t.clone(), timeout) {
                    self.emit(None, Event::TypingStarted(t));
                }
            }
            ServerFrame::TypingEnded(t) => {
                if self.typing.ended(&t) {
                    self.emit(None, Event::TypingEnded(t));
                }
            }
            ServerFrame::Transient(m) => self.emit(None, Event::Transient(m)),
            ServerFrame::Presence(p) => self.emit(None, Event::Presence(p)),
            ServerFrame::PresenceSnapshot { users } => {
                for u in users {
                    self.emit(
                        None,
                        Event::Presence(Presence {
                            status: UserStatus::Online,
                            ..u
                        }),
                    );
                }
            }
            ServerFrame::Throttled {
                feature,
                duration_ms,
            } => {
                self.inner.set_throttled(feature, true);
                self.emit(
                    None,
                    Event::FeatureThrottled {
                        feature,
                        duration_ms,
                    },
                );
            }
            ServerFrame::Unthrottled { feature } => {
                self.inner.set_throttled(feature, false);
                self.emit(None, Event::FeatureUnthrottled { feature });
            }
            ServerFrame::ReplayDone { .. } | ServerFrame::Accept { .. } => {}
        }
        Ok(())
    }

    /// Our own request's event needs no callback, but it only counts as delivered once the
    /// events queued before it were: the dispatcher marks it in queue order (and not at all if
    /// the app disconnected first), so the saved position never runs ahead of the app.
    fn note_delivered_in_order(&mut self, seq: u64) {
        self.position_moved(seq);
        let shared = self.inner.dispatch.clone();
        let epoch = self.epoch;
        self.inner.dispatch.post(Item::Run(Box::new(move || {
            if shared.epoch() == epoch {
                shared.note_delivered(seq);
            }
        })));
    }

    fn on_event(&mut self, ef: EventFrame) {
        if ef.seq <= self.received_seq {
            return;
        }
        self.received_seq = ef.seq;
        if self.own_acked.remove(&ef.seq) {
            // Replayed after a disconnect(): our own, already acked; not an echo for the app.
            self.note_delivered_in_order(ef.seq);
            return;
        }
        if let WireEvent::Message(m) = &ef.event {
            let mine = self.inner.is_me(&m.sender);
            if mine && self.outbox.finish_by_muid(&m.muid, Ok(m.clone())) {
                // Our own send whose ack was lost: the replay answers it; it is no news.
                self.note_delivered_in_order(ef.seq);
                return;
            }
        }
        if let Some(call) = call_in(&ef.event) {
            self.inner.note_call(call, false);
        }
        if let WireEvent::GroupMember(g) = &ef.event {
            if !g.added.is_empty() {
                // One batched `added` event: one event per member for the app, the position
                // saved with the last.
                let mut each: Vec<Event> = g
                    .added
                    .iter()
                    .map(|a| {
                        Event::GroupMember(GroupMemberEvent {
                            member: a.uid.clone(),
                            scope: Some(a.scope),
                            added: Vec::new(),
                            ..g.clone()
                        })
                    })
                    .collect();
                let last = each.pop();
                for e in each {
                    self.emit(None, e);
                }
                if let Some(e) = last {
                    self.emit(Some(ef.seq), e);
                }
                return;
            }
        }
        let event = match ef.event {
            WireEvent::Message(m) => Event::Message(m),
            WireEvent::MessageEdited(m) => Event::MessageEdited(m),
            WireEvent::MessageDeleted(m) => Event::MessageDeleted(m),
            WireEvent::Receipt(r) => Event::Receipt(r),
            WireEvent::GroupMember(g) => Event::GroupMember(g),
            WireEvent::CallInitiated(call) => Event::Call {
                kind: CallEventKind::Initiated,
                call,
            },
            WireEvent::CallAccepted(call) => Event::Call {
                kind: CallEventKind::Accepted,
                call,
            },
            WireEvent::CallRejected(call) => Event::Call {
                kind: CallEventKind::Rejected,
                call,
            },
            WireEvent::CallCancelled(call) => Event::Call {
                kind: CallEventKind::Cancelled,
                call,
            },
            WireEvent::CallEnded(call) => Event::Call {
                kind: CallEventKind::Ended,
                call,
            },
            WireEvent::ConversationUpdated(c) => Event::ConversationUpdated(c),
        };
        self.emit(Some(ef.seq), event);
    }
}

fn not_connected(done: crate::completion::Completer<EventFrame>) {
    done.complete(Err(Error::new(
        ErrorCode::NotConnected,
        "not connected: this request needs the socket",
    )));
}

fn call_in(event: &WireEvent) -> Option<&chinwag_protocol::model::Call> {
    match event {
        WireEvent::CallInitiated(c)
        | WireEvent::CallAccepted(c)
        | WireEvent::CallRejected(c)
        | WireEvent::CallCancelled(c)
        | WireEvent::CallEnded(c) => Some(c),
        _ => None,
    }
}

/// Features whose calls fail fast while the server throttles them.
pub fn feature_of(frame: &ClientFrame) -> Option<Feature> {
    match frame {
        ClientFrame::TypingStart(_) | ClientFrame::TypingEnd(_) => Some(Feature::Typing),
        ClientFrame::Receipt { .. } => Some(Feature::Receipts),
        ClientFrame::Transient { .. } => Some(Feature::Transient),
        _ => None,
    }
}
