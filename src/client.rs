//! The public client: `init`, login and the saved session, connect/disconnect, sending, typing,
//! receipts, platform hints and listeners. Every method is non-blocking and thread-safe, and
//! may be called from inside any callback.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use chinwag_protocol::frames::{Feature, TypingTarget};
use chinwag_protocol::limits;
use chinwag_protocol::model::{Message, NewMessage, ReceiptKind, ReceiverType, User};
use chinwag_protocol::ClientFrame;
use tokio::sync::mpsc;

use crate::completion::{Callback, Completer};
use crate::connection::outbox::Pending;
use crate::connection::{feature_of, Command, Task};
use crate::dispatch::{Dispatcher, Item, Listener, Shared};
use crate::error::{Error, ErrorCode, Result};
use crate::event::{Event, ListenerKind, LogLevel};
use crate::http::Http;
use crate::saver::Saver;
use crate::settings::{DispatchMode, Settings};
use crate::state::{ConnectionState, Reason, StateChange};
use crate::store::{FileStore, MemoryStore, SavedSession, SessionStore};

/// Optional parts of `init`.
#[derive(Default)]
pub struct InitOptions {
    /// The app's own session store (keychain); otherwise a file in `data_dir`, or memory.
    pub store: Option<Box<dyn SessionStore>>,
    /// Receives log records from `init` on (also addable later as a `Log` listener).
    pub log: Option<Box<dyn Listener>>,
    /// Listeners registered before anything can happen, so an app restoring a session in auto
    /// mode hears its first CONNECTING and CONNECTED too: (kind, id, listener).
    pub listeners: Vec<(ListenerKind, String, Box<dyn Listener>)>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// State shared by the client handle and its connection task.
pub(crate) struct Inner {
    pub app_id: String,
    pub settings: Settings,
    /// Writes the session to the store, off the runtime.
    pub saver: Arc<Saver>,
    pub tls: Arc<rustls::ClientConfig>,
    pub http: Http,
    pub dispatch: Arc<Shared>,
    /// The logged-in session; the store follows it through `saver`. Never held across I/O or
    /// a callback, so a store callback may read it.
    session: Arc<Mutex<Option<SavedSession>>>,
    state: Mutex<ConnectionState>,
    throttled: Mutex<HashSet<Feature>>,
    login_busy: AtomicBool,
    last_hint: Mutex<Option<(Hint, Instant)>>,
    active_call: Mutex<Option<chinwag_protocol::model::Call>>,
    commands: mpsc::UnboundedSender<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hint {
    Network(bool),
    App(bool),
}

impl Inner {
    pub fn session(&self) -> Option<SavedSession> {
        lock(&self.session).clone()
    }

    /// Whether a user is logged in (no copy of the session).
    pub fn logged_in(&self) -> bool {
        lock(&self.session).is_some()
    }

    /// Whether `uid` is the logged-in user (no copy of the session).
    pub fn is_me(&self, uid: &str) -> bool {
        lock(&self.session)
            .as_ref()
            .is_some_and(|s| s.user.uid == uid)
    }

    /// A message event as the logged-in user reads it: `mentions_me` set (one event body serves
    /// every recipient, so the server leaves it to each reader).
    pub fn for_me(&self, m: chinwag_protocol::model::Message) -> chinwag_protocol::model::Message {
        let me = lock(&self.session).as_ref().map(|s| s.user.uid.clone());
        match me {
            Some(uid) => m.for_reader(&uid),
            None => m,
        }
    }

    pub fn emit_in(&self, epoch: u64, seq: Option<u64>, event: Event) {
        self.dispatch.post(Item::Event { epoch, seq, event });
    }

    fn emit(&self, event: Event) {
        self.emit_in(self.dispatch.epoch(), None, event);
    }

    pub fn log(&self, level: LogLevel, target: &'static str, message: String) {
        self.emit(Event::Log {
            level,
            target,
            message,
        });
    }

    /// Records the new state for `connection_status()` and tells the app.
    pub fn set_state(
        &self,
        previous: ConnectionState,
        current: ConnectionState,
        reason: Reason,
        message: String,
        retry_in_ms: Option<u64>,
    ) {
        *lock(&self.state) = current;
        self.emit(Event::State(StateChange {
            previous,
            current,
            reason,
            message,
            retry_in_ms,
        }));
    }

    pub fn set_throttled(&self, feature: Feature, on: bool) {
        let mut t = lock(&self.throttled);
        if on {
            t.insert(feature);
        } else {
            t.remove(&feature);
        }
    }

    pub fn clear_throttles(&self) {
        lock(&self.throttled).clear();
    }

    pub fn active_call(&self) -> Option<chinwag_protocol::model::Call> {
        lock(&self.active_call).clone()
    }

    /// Takes the one call slot for `call` if it is free; otherwise gives back the session id
    /// of the call in it.
    pub fn claim_call(
        &self,
        call: chinwag_protocol::model::Call,
    ) -> std::result::Result<(), String> {
        let mut active = lock(&self.active_call);
        match active.as_ref() {
            Some(other) => Err(other.session_id.clone()),
            None => {
                *active = Some(call);
                Ok(())
            }
        }
    }

    /// Frees the call slot if call `session_id` still holds it.
    pub fn release_call(&self, session_id: &str) {
        let mut active = lock(&self.active_call);
        if active.as_ref().is_some_and(|a| a.session_id == session_id) {
            *active = None;
        }
    }

    /// Tracks the one call this client is in, from every call event it sees.
    pub fn note_call(&self, call: &chinwag_protocol::model::Call, ours: bool) {
        let mut active = lock(&self.active_call);
        let same = active
            .as_ref()
            .is_some_and(|a| a.session_id == call.session_id);
        if crate::api::calls::is_active(call.status) {
            if same || (ours && active.is_none()) {
                *active = Some(call.clone());
            }
        } else if same {
            *active = None;
        }
    }

    /// Records the resume position and has the saver write it (no fsync: a crash replays a
    /// few events, never skips one). Returns at once.
    pub fn save_position(&self, seq: u64) {
        {
            let mut guard = lock(&self.session);
            let Some(s) = guard.as_mut() else {
                return;
            };
            if s.last_seq == Some(seq) {
                return;
            }
            s.last_seq = Some(seq);
        }
        self.saver.sync(false, None);
    }

    fn command(&self, c: Command) {
        // The task only ends when the client is freed; a send error then is harmless.
        let _ = self.commands.send(c);
    }
}

/// A Chinwag client. Several may live in one process; all share one runtime.
pub struct Client {
    inner: Arc<Inner>,
    dispatcher: Mutex<Option<Dispatcher>>,
    /// Disconnects when the connection task has ended (see [`Client::close`]).
    task_ended: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
}

/// What a successful login call hands to [`Client::run_login`].
struct LoggedIn {
    token: String,
    app_id: String,
    user: User,
    /// The user's newest event sequence at login; `None` from a server that does not say.
    position: Option<u64>,
}

fn check_id(kind: &str, value: &str) -> Result<()> {
    limits::check_id(kind, value).map_err(Error::invalid)
}

impl Client {
    /// Creates a client. With a saved session of this app it is logged in at once (no network
    /// call) and, with `auto_connect`, starts connecting.
    pub fn init(app_id: &str, settings: Settings, options: InitOptions) -> Result<Client> {
        check_id("app id", app_id)?;
        settings.validate()?;
        let runtime = crate::runtime::get()?;
        let tls = crate::tls::client_config(&settings.extra_ca_pem)?;
        let http = Http::new(
            &settings.server_url,
            app_id,
            tls.clone(),
            settings.timings.connect_timeout,
        )?;
        let dispatcher = match settings.dispatch {
            DispatchMode::Thread => Dispatcher::start(&format!("chinwag-{app_id}")),
            DispatchMode::App => Dispatcher::start_app(),
        }
        .map_err(|e| {
            Error::new(
                ErrorCode::Internal,
                format!("cannot start the dispatcher: {e}"),
            )
        })?;
        if let Some(log) = options.log {
            dispatcher.add(ListenerKind::Log, "init", log);
        }
        for (kind, id, listener) in options.listeners {
            if id.is_empty() {
                return Err(Error::invalid("listener id must not be empty"));
            }
            dispatcher.add(kind, &id, listener);
        }
        let store: Box<dyn SessionStore> = match (options.store, &settings.data_dir) {
            (Some(s), _) => s,
            (None, Some(dir)) => Box::new(FileStore::new(dir)?),
            (None, None) => Box::new(MemoryStore::default()),
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let session = Arc::new(Mutex::new(None));
        let saver = Arc::new(Saver::new(session.clone(), store, dispatcher.shared()));
        let inner = Arc::new(Inner {
            app_id: app_id.to_string(),
            settings,
            saver,
            tls,
            http,
            dispatch: dispatcher.shared(),
            session,
            state: Mutex::new(ConnectionState::Disconnected),
            throttled: Mutex::new(HashSet::new()),
            login_busy: AtomicBool::new(false),
            last_hint: Mutex::new(None),
            active_call: Mutex::new(None),
            commands: tx,
        });
        let restored = match inner.saver.store().load() {
            Ok(Some(s)) if s.app_id == app_id => Some(s),
            Ok(Some(s)) => {
                inner.log(
                    LogLevel::Warn,
                    "chinwag::session",
                    format!("discarded a saved session of app {:?}", s.app_id),
                );
                if let Err(e) = inner.saver.store().clear() {
                    inner.log(
                        LogLevel::Warn,
                        "chinwag::session",
                        format!("cannot remove it: {e}"),
                    );
                }
                None
            }
            Ok(None) => None,
            Err(e) => {
                inner.log(
                    LogLevel::Error,
                    "chinwag::session",
                    format!("treating the app as logged out: {e}"),
                );
                None
            }
        };
        let auto = inner.settings.auto_connect && restored.is_some();
        *lock(&inner.session) = restored;
        // Only a restored session connecting by itself can bring events before the app has
        // added its listeners; after a fresh init the app logs in when it is ready.
        if auto {
            start_listener_grace(&inner, runtime);
        }
        let (ended_tx, ended_rx) = std::sync::mpsc::channel::<()>();
        let task = Task::new(inner.clone(), rx);
        runtime.spawn(async move {
            task.run().await;
            drop(ended_tx);
        });
        if auto {
            inner.command(Command::Connect);
        }
        Ok(Client {
            inner,
            dispatcher: Mutex::new(Some(dispatcher)),
            task_ended: Mutex::new(Some(ended_rx)),
        })
    }

    pub fn app_id(&self) -> &str {
        &self.inner.app_id
    }

    /// The logged-in user from the saved session; no network.
    pub fn logged_in_user(&self) -> Option<User> {
        self.inner.session().map(|s| s.user)
    }

    pub fn connection_state(&self) -> ConnectionState {
        *lock(&self.inner.state)
    }

    /// Development login with the server's auth key. Saves the session, then connects in auto
    /// mode. `done` runs exactly once; the login listener hears the outcome too.
    pub fn login(&self, uid: &str, auth_key: &str, done: Option<Callback<User>>) -> Result<()> {
        check_id("uid", uid)?;
        if auth_key.is_empty() {
            return Err(Error::invalid("auth key must not be empty"));
        }
        let (uid, key) = (uid.to_string(), auth_key.to_string());
        self.run_login(done, move |http| async move {
            http.login(&uid, &key).await.map(|r| LoggedIn {
                token: r.token,
                app_id: r.app_id,
                user: r.user,
                position: r.last_seq,
            })
        })
    }

    /// Production login with a token minted by the app's backend.
    pub fn login_with_token(&self, token: &str, done: Option<Callback<User>>) -> Result<()> {
        if token.is_empty() || token.len() > 4096 {
            return Err(Error::invalid("token must be 1-4096 bytes"));
        }
        let app_id = self.inner.app_id.clone();
        let token = token.to_string();
        self.run_login(done, move |http| async move {
            let user = http.me(&token).await?;
            let position = match http.position(&token).await {
                Ok(p) => Some(p.last_seq),
                // A server without the endpoint: the first connect starts fresh, as before.
                Err(e) if e.code == ErrorCode::NotFound => None,
                Err(e) => return Err(e),
            };
            Ok(LoggedIn {
                token,
                app_id,
                user,
                position,
            })
        })
    }

    fn run_login<F, Fut>(&self, done: Option<Callback<User>>, call: F) -> Result<()>
    where
        F: FnOnce(Http) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<LoggedIn>> + Send + 'static,
    {
        if self.inner.login_busy.swap(true, Ordering::SeqCst) {
            return Err(Error::new(
                ErrorCode::LoginInProgress,
                "a login is already running",
            ));
        }
        let runtime = match crate::runtime::get() {
            Ok(r) => r,
            Err(e) => {
                self.inner.login_busy.store(false, Ordering::SeqCst);
                return Err(e);
            }
        };
        let inner = self.inner.clone();
        let done = Completer::optional(inner.dispatch.clone(), done);
        runtime.spawn(async move {
            let result = async {
                let LoggedIn {
                    token,
                    app_id,
                    user,
                    position,
                } = call(inner.http.clone()).await?;
                if app_id != inner.app_id {
                    return Err(Error::new(
                        ErrorCode::AppMismatch,
                        format!("the server serves app {app_id:?}, not {:?}", inner.app_id),
                    ));
                }
                let session = SavedSession {
                    app_id,
                    user: user.clone(),
                    token,
                    // The user's position at login: the first connect resumes from it, so
                    // nothing sent between login and connect is lost (manual mode too).
                    last_seq: position,
                };
                let previous = lock(&inner.session).replace(session);
                let (saved_tx, saved) = tokio::sync::oneshot::channel();
                inner.saver.sync(true, Some(saved_tx));
                let saved = saved.await.unwrap_or_else(|_| {
                    Err(Error::new(
                        ErrorCode::Internal,
                        "the session store went away",
                    ))
                });
                if let Err(e) = saved {
                    // Not logged in after all: the user and token stay those of before.
                    *lock(&inner.session) = previous;
                    return Err(e);
                }
                inner.dispatch.set_delivered_seq(position.unwrap_or(0));
                Ok(user)
            }
            .await;
            inner.login_busy.store(false, Ordering::SeqCst);
            match &result {
                Ok(user) => {
                    inner.command(Command::SessionChanged);
                    inner.emit(Event::LoginSuccess(user.clone()));
                }
                Err(e) => inner.emit(Event::LoginFailure(e.clone())),
            }
            done.complete(result);
        });
        Ok(())
    }

    /// Logs out: closes the socket, fails queued sends with `LOGGED_OUT`, tells the server
    /// (revoking the token), and always purges the local session.
    pub fn logout(&self, done: Option<Callback<()>>) -> Result<()> {
        let runtime = crate::runtime::get()?;
        let inner = self.inner.clone();
        let done = Completer::optional(inner.dispatch.clone(), done);
        inner.dispatch.bump_epoch();
        let (tx, rx) = tokio::sync::oneshot::channel();
        inner.command(Command::Logout(tx));
        runtime.spawn(async move {
            let _ = rx.await;
            let session = lock(&inner.session).take();
            let told = match &session {
                Some(s) => inner.http.logout(&s.token).await,
                None => Err(Error::new(ErrorCode::NotLoggedIn, "no user was logged in")),
            };
            let (purged_tx, purged) = tokio::sync::oneshot::channel();
            inner.saver.sync(true, Some(purged_tx));
            let purged = purged.await.unwrap_or_else(|_| {
                Err(Error::new(
                    ErrorCode::Internal,
                    "the session store went away",
                ))
            });
            let result = told.and(purged);
            match &result {
                Ok(()) => inner.emit(Event::LogoutSuccess),
                Err(e) => inner.emit(Event::LogoutFailure(e.clone())),
            }
            done.complete(result);
        });
        Ok(())
    }

    /// Connects (and keeps connected) with the saved session. No-op when already connected or
    /// connecting; from RECONNECTING, SUSPENDED or FAILED it tries at once with a fresh backoff.
    pub fn connect(&self) -> Result<()> {
        if !self.inner.logged_in() {
            return Err(Error::new(
                ErrorCode::NotLoggedIn,
                "connect() needs a logged-in user: call login first",
            ));
        }
        self.inner.command(Command::Connect);
        Ok(())
    }

    /// Disconnects. When this returns, no real-time callback runs until the next connect; the
    /// DISCONNECTED event still arrives.
    pub fn disconnect(&self) {
        self.inner.dispatch.bump_epoch();
        self.inner.command(Command::Disconnect);
    }

    /// Sends a message; returns its muid at once. `done` runs exactly once with the stored
    /// message or the reason it failed.
    pub fn send_message(
        &self,
        mut message: NewMessage,
        done: Option<Callback<Message>>,
    ) -> Result<String> {
        check_id("receiver", &message.receiver)?;
        if let Some(t) = &message.text {
            limits::check_text(t)?;
        }
        let muid = match &message.muid {
            Some(m) => {
                check_id("muid", m)?;
                m.clone()
            }
            None => chinwag_protocol::ids::new_muid(),
        };
        if !self.inner.logged_in() {
            return Err(Error::new(
                ErrorCode::NotLoggedIn,
                "sending needs a logged-in user: call login first",
            ));
        }
        message.muid = Some(muid.clone());
        let dispatch = self.inner.dispatch.clone();
        let done = Completer::optional(dispatch, done);
        self.inner
            .command(Command::Send(Box::new(Pending { message, done })));
        Ok(muid)
    }

    /// Sends a text message.
    pub fn send_text(
        &self,
        receiver_type: ReceiverType,
        receiver: &str,
        text: &str,
        done: Option<Callback<Message>>,
    ) -> Result<String> {
        limits::check_text(text)?;
        self.send_message(NewMessage::text(receiver_type, receiver, text), done)
    }

    fn ephemeral(&self, frame: ClientFrame) -> Result<()> {
        if self.connection_state() != ConnectionState::Connected {
            return Err(Error::new(
                ErrorCode::NotConnected,
                "not connected: typing, receipts and transient messages are never queued",
            ));
        }
        if let Some(f) = feature_of(&frame) {
            if lock(&self.inner.throttled).contains(&f) {
                return Err(Error::new(
                    ErrorCode::FeatureThrottled,
                    format!("{} is throttled by the server", f.as_str()),
                ));
            }
        }
        self.inner.command(Command::Ephemeral(Box::new(frame)));
        Ok(())
    }

    pub fn start_typing(&self, receiver_type: ReceiverType, receiver: &str) -> Result<()> {
        check_id("receiver", receiver)?;
        self.ephemeral(ClientFrame::TypingStart(TypingTarget {
            req: None,
            receiver_type,
            receiver: receiver.into(),
            metadata: None,
        }))
    }

    pub fn end_typing(&self, receiver_type: ReceiverType, receiver: &str) -> Result<()> {
        check_id("receiver", receiver)?;
        self.ephemeral(ClientFrame::TypingEnd(TypingTarget {
            req: None,
            receiver_type,
            receiver: receiver.into(),
            metadata: None,
        }))
    }

    /// Marks everything up to `message_id` in its conversation as delivered or read.
    pub fn mark(&self, kind: ReceiptKind, message_id: i64) -> Result<()> {
        if message_id <= 0 {
            return Err(Error::invalid("message id must be positive"));
        }
        self.ephemeral(ClientFrame::Receipt {
            req: None,
            kind,
            message_id,
        })
    }

    pub fn send_transient(
        &self,
        receiver_type: ReceiverType,
        receiver: &str,
        data: serde_json::Value,
    ) -> Result<()> {
        check_id("receiver", receiver)?;
        self.ephemeral(ClientFrame::Transient {
            req: None,
            receiver_type,
            receiver: receiver.into(),
            data,
        })
    }

    fn hint(&self, hint: Hint, command: Command) {
        let window = self.inner.settings.timings.hint_coalesce;
        let mut last = lock(&self.inner.last_hint);
        if let Some((h, at)) = *last {
            if h == hint && at.elapsed() < window {
                return;
            }
        }
        *last = Some((hint, Instant::now()));
        drop(last);
        self.inner.command(command);
    }

    /// Platform hint: the network went down (drop now) or up (attempt now, or probe).
    pub fn network_changed(&self, up: bool) {
        self.hint(Hint::Network(up), Command::Network { up });
    }

    /// Platform hint: the app went to the background (close after the grace) or foreground.
    pub fn app_state_changed(&self, foreground: bool) {
        self.hint(Hint::App(foreground), Command::AppState { foreground });
    }

    /// Adds a listener under `id`, replacing one with the same kind and id.
    pub fn add_listener(
        &self,
        kind: ListenerKind,
        id: &str,
        listener: Box<dyn Listener>,
    ) -> Result<()> {
        if id.is_empty() {
            return Err(Error::invalid("listener id must not be empty"));
        }
        // Straight to the shared side, not through `self.dispatcher`: `close` takes that out
        // before it stops the dispatcher, and a callback still running then (a free from
        // another thread) may add listeners; they are released with the others. Refused only
        // once the listeners were released for good.
        match self.inner.dispatch.add_greeted(kind, id, listener) {
            Ok(()) => Ok(()),
            Err(_) => Err(Error::new(ErrorCode::ClientFreed, "the client was freed")),
        }
    }

    /// Removes a listener; `false` if none had that id. Outside a callback it has stopped
    /// running and been released when this returns; inside its own callback, right after it.
    pub fn remove_listener(&self, kind: ListenerKind, id: &str) -> bool {
        self.inner.dispatch.remove(kind, id)
    }

    /// Sends a request over the socket (only while CONNECTED) and maps its answer for `done`.
    pub(crate) fn request<T: Send + 'static>(
        &self,
        frame: ClientFrame,
        done: Option<Callback<T>>,
        map: impl FnOnce(chinwag_protocol::Event) -> Result<T> + Send + 'static,
    ) -> Result<()> {
        if self.connection_state() != ConnectionState::Connected {
            return Err(Error::new(
                ErrorCode::NotConnected,
                "not connected: this request needs the socket",
            ));
        }
        let dispatch = self.inner.dispatch.clone();
        let mapped: Callback<chinwag_protocol::EventFrame> =
            Box::new(move |r: Result<chinwag_protocol::EventFrame>| {
                if let Some(cb) = done {
                    cb(r.and_then(|f| map(f.event)));
                }
            });
        self.inner.command(Command::Request(Box::new((
            frame,
            Completer::new(dispatch, mapped),
        ))));
        Ok(())
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    /// Whether the calling thread is the one running this client's callbacks (so it is inside
    /// a callback): the dispatcher thread, or in app mode the thread inside [`Client::dispatch`].
    pub fn in_callback(&self) -> bool {
        self.inner.dispatch.on_dispatcher_thread()
    }

    /// Who runs this client's callbacks.
    pub fn dispatch_mode(&self) -> DispatchMode {
        self.inner.settings.dispatch
    }

    /// App-driven delivery ([`DispatchMode::App`]): runs up to `max` waiting items (events and
    /// completions; 0: every item waiting when the call starts) on the calling thread, in order,
    /// one at a time, and returns how many it took from the queue (an event dropped as stale
    /// after `disconnect()` counts too). Call it when [`Client::dispatch_fd`] is readable; it
    /// leaves the descriptor readable while items remain (after `max` ran), drained otherwise.
    ///
    /// One call at a time runs callbacks: a call from another thread while one runs waits for
    /// it to return. If the client was closed from inside one of its callbacks, this call
    /// finishes the close after that callback returns (completions `CANCELLED`, listeners
    /// released, the descriptor closed).
    ///
    /// Errors: `INVALID_ARGUMENT` in thread mode, `REENTRANT_CALL` from inside a callback of
    /// this client, `CLIENT_FREED` after [`Client::close`].
    pub fn dispatch(&self, max: usize) -> Result<usize> {
        self.inner.dispatch.dispatch(max)
    }

    /// App-driven delivery: a descriptor that is readable exactly while items wait for
    /// [`Client::dispatch`]; `None` in thread mode and after [`Client::close`]. The client owns
    /// it (never close it) and closes it at the end of `close`; take it out of your poller
    /// before. Do not read it: `dispatch` drains it.
    #[cfg(unix)]
    pub fn dispatch_fd(&self) -> Option<std::os::fd::RawFd> {
        self.inner.dispatch.dispatch_fd()
    }
}

impl Client {
    /// Stops the client now, as dropping it does; idempotent. Outside a callback it returns
    /// once the connection task has ended (bounded), every completion has run (`CANCELLED` if
    /// unfinished) and every listener has been released. Inside a callback of this client it
    /// does not wait: the dispatcher finishes the same work after the callback returns.
    /// Later calls fail with `CLIENT_FREED` or do nothing.
    ///
    /// In app mode, waiting events are dropped and the completions run on the calling thread
    /// (or on a thread that is inside [`Client::dispatch`] at that moment) before this returns;
    /// the descriptor is closed last. From inside a callback, the `dispatch` call running it
    /// finishes the close after the callback returns.
    pub fn close(&self) {
        self.inner.command(Command::Shutdown);
        let ended = lock(&self.task_ended).take();
        let inside = self.in_callback() || tokio::runtime::Handle::try_current().is_ok();
        let mut task_gone = false;
        if let (Some(ended), false) = (ended, inside) {
            // Lets the task fail its queued sends while the dispatcher still runs them.
            task_gone = matches!(
                ended.recv_timeout(std::time::Duration::from_secs(5)),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
            );
        }
        // Taken out first: stopping joins the dispatcher, whose callbacks may lock this.
        let dispatcher = lock(&self.dispatcher).take();
        if let Some(mut d) = dispatcher {
            d.stop();
            // The dispatcher kept delivering after the task saved the resume position: save
            // what the app really saw, or the next client gets those events again. Only once
            // the task is gone, so the store is never used from two threads at once.
            let seen = self.inner.dispatch.delivered_seq();
            let saved = self.inner.session().and_then(|s| s.last_seq);
            if task_gone && saved.is_some_and(|p| p != seen) {
                self.inner.save_position(seen);
            }
        }
        // The saver writes off the runtime: wait (bounded) so that what the app saw is in the
        // store when free returns. Not from a callback or a runtime thread (their wait could
        // hold up the very work waited for).
        if !inside {
            self.inner
                .saver
                .wait_idle(std::time::Duration::from_secs(5));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.close();
    }
}

/// Holds real-time events without a listener of their kind for the listener grace after init
/// (see `crate::dispatch`), and releases the rest when it ends.
fn start_listener_grace(inner: &Inner, runtime: &tokio::runtime::Runtime) {
    let grace = inner.settings.timings.listener_grace;
    if grace.is_zero() {
        return;
    }
    let until = Instant::now() + grace;
    inner.dispatch.hold_realtime_until(until);
    let shared = Arc::downgrade(&inner.dispatch);
    runtime.spawn(async move {
        tokio::time::sleep_until(until.into()).await;
        if let Some(shared) = shared.upgrade() {
            shared.post(Item::ReleaseHeld);
        }
    });
}
