//! Harness for SDK tests: a real chinwag-server on its own runtime thread, REST helpers, and an
//! event recorder to wait on (never sleeps).
#![allow(dead_code)]

pub mod proxy;

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chinwag::protocol::model::{Message, ReceiverType};
use chinwag::{
    Client, ConnectionState, Event, InitOptions, ListenerKind, LogLevel, SavedSession,
    SessionStore, Settings, StateChange,
};
use chinwag_server::{Config, DbLocation, ServerHandle};
use serde_json::{json, Value};

pub const AUTH_KEY: &str = "sdk-test-auth";
pub const API_KEY: &str = "sdk-test-api";
pub const APP_ID: &str = "chinwag-app";
pub const WAIT: Duration = Duration::from_secs(15);

pub struct Server {
    pub rt: tokio::runtime::Runtime,
    pub handle: Option<ServerHandle>,
    pub url: String,
    pub config: Config,
}

impl Server {
    pub fn start() -> Server {
        Self::with(Self::config())
    }

    /// The test server's config: every presence mode enabled, since the suites exercise all of
    /// them (the server's default is friends only).
    pub fn config() -> Config {
        let mut config = Config::local(AUTH_KEY, API_KEY);
        config.presence_modes = chinwag_server::PresenceModes::ALL;
        config
    }

    pub fn with(config: Config) -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let handle = rt.block_on(chinwag_server::start(config.clone())).unwrap();
        let url = handle.url();
        Server {
            rt,
            handle: Some(handle),
            url,
            config,
        }
    }

    /// A server on a database file in `dir`, so it can be restarted with its data.
    pub fn with_db_in(dir: &std::path::Path, mut config: Config) -> Server {
        config.db = DbLocation::File(dir.join("chinwag.db"));
        config.durability = chinwag_server::Durability::Process;
        Self::with(config)
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.handle.as_ref().expect("server running").addr()
    }

    pub fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.rt.block_on(h.shutdown());
        }
    }

    /// Starts again on the same config (same database file, new port unless fixed).
    pub fn restart_on(&mut self, config: Config) {
        self.stop();
        let handle = self
            .rt
            .block_on(chinwag_server::start(config.clone()))
            .unwrap();
        self.url = handle.url();
        self.handle = Some(handle);
        self.config = config;
    }

    pub fn rest(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.request(method, path, body, |r| r.header("x-api-key", API_KEY))
    }

    /// A REST call as a user (bearer token).
    pub fn rest_as(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.request(method, path, body, |r| r.bearer_auth(token))
    }

    fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        auth: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.url);
        self.rt.block_on(async {
            let mut req = auth(reqwest::Client::new().request(method, url));
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let v = resp.json::<Value>().await.unwrap_or(Value::Null);
            (status, v)
        })
    }

    pub fn create_user(&self, uid: &str) {
        let (s, v) = self.rest(
            reqwest::Method::POST,
            "/v1/users",
            Some(json!({"uid": uid, "name": uid})),
        );
        assert_eq!(s, 201, "{v}");
    }

    /// A fresh token for `uid`, minted with the API key.
    pub fn mint_token(&self, uid: &str) -> String {
        let (s, v) = self.rest(
            reqwest::Method::POST,
            &format!("/v1/users/{uid}/tokens"),
            None,
        );
        assert_eq!(s, 201, "{v}");
        v["token"].as_str().unwrap().to_string()
    }

    /// Revokes every token of `uid`; its sockets are closed with 4401.
    pub fn revoke_tokens(&self, uid: &str) {
        let (s, v) = self.rest(
            reqwest::Method::DELETE,
            &format!("/v1/users/{uid}/tokens"),
            None,
        );
        assert_eq!(s, 200, "{v}");
    }

    /// The whole one-to-one history between `uid` and `other`, oldest first, read as `uid`.
    pub fn history(&self, uid: &str, other: &str) -> Vec<Message> {
        let token = self.mint_token(uid);
        let mut out: Vec<Message> = Vec::new();
        let mut after = 0i64;
        loop {
            let (s, v) = self.rest_as(
                &token,
                reqwest::Method::GET,
                &format!(
                    "/v1/messages?receiver_type=user&receiver={other}&limit=100&after={after}"
                ),
                None,
            );
            assert_eq!(s, 200, "{v}");
            let page: Vec<Message> = serde_json::from_value(v["messages"].clone()).unwrap();
            if let Some(last) = page.last() {
                after = last.id;
            }
            out.extend(page);
            if !v["has_more"].as_bool().unwrap_or(false) {
                return out;
            }
        }
    }

    pub fn settings(&self) -> Settings {
        let mut s = Settings::new(&self.url);
        s.timings.first_retry_max = Duration::from_millis(50);
        s.timings.backoff_base = Duration::from_millis(20);
        s.timings.backoff_cap = Duration::from_millis(200);
        s
    }

    /// Short-backoff settings for a client that reaches the server through `url` (a proxy).
    pub fn settings_via(&self, url: &str) -> Settings {
        let mut s = self.settings();
        s.server_url = url.to_string();
        s
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Records every event of every kind, with the time it reached the listener; tests wait on it
/// with a timeout.
/// Events with the time each reached the listener.
type Timeline = Mutex<Vec<(Instant, Event)>>;

#[derive(Clone, Default)]
pub struct Recorder {
    inner: Arc<(Timeline, Condvar)>,
}

impl Recorder {
    /// Records every event of `client` from now on, except the first event of a connection
    /// listener added after init (reason `ListenerAdded`: the state it starts from, not a
    /// change); tests of that event use their own listener.
    pub fn attach(&self, client: &Client) {
        for kind in [
            ListenerKind::Connection,
            ListenerKind::Login,
            ListenerKind::Message,
            ListenerKind::User,
            ListenerKind::Group,
            ListenerKind::Call,
        ] {
            let me = self.clone();
            client
                .add_listener(
                    kind,
                    "recorder",
                    Box::new(move |e: &Event| {
                        if !matches!(e, Event::State(c) if c.reason == chinwag::Reason::ListenerAdded)
                        {
                            me.push(e.clone())
                        }
                    }),
                )
                .unwrap();
        }
    }

    /// A listener that records into this recorder (e.g. for `InitOptions::log`).
    pub fn listener(&self) -> Box<dyn chinwag::Listener> {
        let me = self.clone();
        Box::new(move |e: &Event| me.push(e.clone()))
    }

    pub fn push(&self, e: Event) {
        let (m, c) = &*self.inner;
        m.lock().unwrap().push((Instant::now(), e));
        c.notify_all();
    }

    /// Records a marker (a `Log` event with target "test") and returns its index.
    pub fn mark(&self, label: &str) -> usize {
        let (m, c) = &*self.inner;
        let mut events = m.lock().unwrap();
        events.push((
            Instant::now(),
            Event::Log {
                level: LogLevel::Debug,
                target: "test",
                message: label.to_string(),
            },
        ));
        c.notify_all();
        events.len() - 1
    }

    pub fn events(&self) -> Vec<Event> {
        self.timed().into_iter().map(|(_, e)| e).collect()
    }

    pub fn timed(&self) -> Vec<(Instant, Event)> {
        self.inner.0.lock().unwrap().clone()
    }

    /// Waits until an event at index >= `from` matches; returns its index and the event.
    pub fn wait_from(
        &self,
        from: usize,
        what: &str,
        pred: impl Fn(&Event) -> bool,
    ) -> (usize, Event) {
        self.wait_for(from, what, WAIT, pred)
            .unwrap_or_else(|| panic!("timed out waiting for {what}; events: {:#?}", self.events()))
    }

    pub fn wait(&self, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
        self.wait_from(0, what, pred).1
    }

    /// Waits up to `within` for a matching event at index >= `from`.
    pub fn wait_for(
        &self,
        from: usize,
        _what: &str,
        within: Duration,
        pred: impl Fn(&Event) -> bool,
    ) -> Option<(usize, Event)> {
        let deadline = Instant::now() + within;
        let (m, c) = &*self.inner;
        let mut events = m.lock().unwrap();
        loop {
            if let Some((i, (_, e))) = events
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, e)| pred(&e.1))
            {
                return Some((i, e.clone()));
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            events = c.wait_timeout(events, deadline - now).unwrap().0;
        }
    }

    /// The check that something does NOT happen: waits `within` for a matching event at index
    /// >= `from` and fails the test if one shows up.
    pub fn expect_none(
        &self,
        from: usize,
        what: &str,
        within: Duration,
        pred: impl Fn(&Event) -> bool,
    ) {
        if let Some((i, e)) = self.wait_for(from, what, within, pred) {
            panic!(
                "unexpected {what} at index {i}: {e:#?}\nevents: {:#?}",
                self.events()
            );
        }
    }

    /// Waits until at least `n` events match.
    pub fn wait_count(&self, what: &str, n: usize, pred: impl Fn(&Event) -> bool) {
        let deadline = Instant::now() + WAIT;
        let (m, c) = &*self.inner;
        let mut events = m.lock().unwrap();
        loop {
            let have = events.iter().filter(|(_, e)| pred(e)).count();
            if have >= n {
                return;
            }
            let now = Instant::now();
            if now >= deadline {
                panic!("timed out waiting for {n} x {what} (have {have})");
            }
            events = c.wait_timeout(events, deadline - now).unwrap().0;
        }
    }

    /// Index of the `n`-th (1-based) matching event.
    pub fn index_of_nth(&self, n: usize, pred: impl Fn(&Event) -> bool) -> Option<usize> {
        self.inner
            .0
            .lock()
            .unwrap()
            .iter()
            .enumerate()
            .filter(|(_, (_, e))| pred(e))
            .nth(n.checked_sub(1)?)
            .map(|(i, _)| i)
    }

    pub fn len(&self) -> usize {
        self.inner.0.lock().unwrap().len()
    }

    /// Waits for the next state event (at index >= `from`) entering `state`.
    pub fn wait_state(&self, from: usize, state: ConnectionState) -> (usize, StateChange) {
        let (i, e) = self.wait_from(from, state.name(), |e| is_state(e, state));
        match e {
            Event::State(s) => (i, s),
            _ => unreachable!(),
        }
    }

    /// The sequence of connection states seen so far.
    pub fn states(&self) -> Vec<ConnectionState> {
        self.changes().into_iter().map(|s| s.current).collect()
    }

    /// State events at index >= `from`.
    pub fn changes_from(&self, from: usize) -> Vec<StateChange> {
        self.events()
            .into_iter()
            .skip(from)
            .filter_map(|e| match e {
                Event::State(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    pub fn changes(&self) -> Vec<StateChange> {
        self.changes_from(0)
    }

    pub fn states_from(&self, from: usize) -> Vec<ConnectionState> {
        self.changes_from(from)
            .into_iter()
            .map(|s| s.current)
            .collect()
    }

    /// Received messages (in delivery order).
    pub fn messages(&self) -> Vec<Message> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Message(m) => Some(m),
                _ => None,
            })
            .collect()
    }

    /// Every state event follows from the one before (its `previous` is the last `current`,
    /// starting at DISCONNECTED) and none repeats the state it leaves.
    pub fn assert_state_chain(&self) {
        let mut last = ConnectionState::Disconnected;
        for (i, s) in self.changes().iter().enumerate() {
            assert_ne!(
                s.previous,
                s.current,
                "state event {i} repeats its state: {s:?}\nall: {:#?}",
                self.changes()
            );
            assert_eq!(
                s.previous,
                last,
                "state event {i} does not follow the last one: {s:?}\nall: {:#?}",
                self.changes()
            );
            last = s.current;
        }
    }
}

/// A completion callback that records into a channel, and the channel.
pub type Done<T> = (
    chinwag::completion::Callback<T>,
    std::sync::mpsc::Receiver<chinwag::Result<T>>,
);

pub fn completion<T: Send + 'static>() -> Done<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    (
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
        rx,
    )
}

pub fn new_client(_server: &Server, settings: Settings) -> (Client, Recorder) {
    let client = Client::init(APP_ID, settings, InitOptions::default()).unwrap();
    let rec = Recorder::default();
    rec.attach(&client);
    (client, rec)
}

/// Logs in (auto mode) and waits until CONNECTED.
pub fn login_connected(client: &Client, rec: &Recorder, uid: &str) {
    let (done, rx) = completion();
    client.login(uid, AUTH_KEY, Some(done)).unwrap();
    rx.recv_timeout(WAIT).unwrap().unwrap();
    if client.connection_state() != ConnectionState::Connected {
        rec.wait_state(0, ConnectionState::Connected);
    }
}

/// Logs in and waits for the login to complete (no waiting for a connection).
pub fn login(client: &Client, uid: &str) {
    let (done, rx) = completion();
    client.login(uid, AUTH_KEY, Some(done)).unwrap();
    rx.recv_timeout(WAIT).unwrap().unwrap();
}

/// Sends a text and returns the completion channel.
pub fn send(
    client: &Client,
    to: &str,
    text: &str,
) -> std::sync::mpsc::Receiver<chinwag::Result<Message>> {
    let (done, rx) = completion();
    client
        .send_text(ReceiverType::User, to, text, Some(done))
        .unwrap();
    rx
}

pub fn is_state(e: &Event, s: ConnectionState) -> bool {
    matches!(e, Event::State(c) if c.current == s)
}

pub fn is_message(e: &Event) -> bool {
    matches!(e, Event::Message(_))
}

/// Texts of the messages, for comparing against what was sent.
pub fn texts(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m.text.clone().unwrap_or_default())
        .collect()
}

/// A session store in memory that records every save, so tests can see what the SDK would
/// persist (the resume position in particular).
#[derive(Clone, Default)]
pub struct RecordingStore {
    inner: Arc<(Mutex<StoreState>, Condvar)>,
}

#[derive(Default)]
struct StoreState {
    session: Option<SavedSession>,
    saved_positions: Vec<Option<u64>>,
}

impl RecordingStore {
    pub fn boxed(&self) -> Box<dyn SessionStore> {
        Box::new(self.clone())
    }

    pub fn session(&self) -> Option<SavedSession> {
        self.inner.0.lock().unwrap().session.clone()
    }

    /// Every resume position saved so far, in order.
    pub fn saved_positions(&self) -> Vec<Option<u64>> {
        self.inner.0.lock().unwrap().saved_positions.clone()
    }

    /// Waits up to `within` for a save whose position matches.
    pub fn wait_save(&self, within: Duration, pred: impl Fn(Option<u64>) -> bool) -> bool {
        let deadline = Instant::now() + within;
        let (m, c) = &*self.inner;
        let mut st = m.lock().unwrap();
        loop {
            if st.saved_positions.iter().any(|p| pred(*p)) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = c.wait_timeout(st, deadline - now).unwrap().0;
        }
    }
}

impl SessionStore for RecordingStore {
    fn load(&self) -> chinwag::Result<Option<SavedSession>> {
        Ok(self.session())
    }

    fn save(&self, session: &SavedSession, _durable: bool) -> chinwag::Result<()> {
        let (m, c) = &*self.inner;
        let mut st = m.lock().unwrap();
        st.session = Some(session.clone());
        st.saved_positions.push(session.last_seq);
        c.notify_all();
        Ok(())
    }

    fn clear(&self) -> chinwag::Result<()> {
        self.inner.0.lock().unwrap().session = None;
        Ok(())
    }
}

/// A client logged in as `uid` (auto mode) and CONNECTED, with its recorder.
pub fn connected(server: &Server, uid: &str) -> (Client, Recorder) {
    connected_with(server, uid, server.settings())
}

/// [`connected`] with the given settings.
pub fn connected_with(server: &Server, uid: &str, settings: Settings) -> (Client, Recorder) {
    let (c, r) = new_client(server, settings);
    c.login(uid, AUTH_KEY, None).unwrap();
    r.wait(&format!("{uid} connected"), |e| {
        is_state(e, ConnectionState::Connected)
    });
    (c, r)
}

/// The value a completion succeeded with.
pub fn ok<T>(rx: std::sync::mpsc::Receiver<chinwag::Result<T>>) -> T {
    rx.recv_timeout(WAIT)
        .expect("completion ran")
        .expect("succeeded")
}

/// The error a completion failed with.
pub fn err<T: std::fmt::Debug>(
    rx: std::sync::mpsc::Receiver<chinwag::Result<T>>,
) -> chinwag::Error {
    rx.recv_timeout(WAIT)
        .expect("completion ran")
        .expect_err("failed")
}
