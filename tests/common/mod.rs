//! Harness for SDK tests: a real chinwag-server on its own runtime thread, REST helpers, and an
//! event recorder to wait on (never sleeps).
#![allow(dead_code)]

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chinwag::{Client, Event, InitOptions, ListenerKind, Settings};
use chinwag_server::{Config, ServerHandle};
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
        Self::with(Config::local(AUTH_KEY, API_KEY))
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
        let url = format!("{}{path}", self.url);
        self.rt.block_on(async {
            let mut req = reqwest::Client::new()
                .request(method, url)
                .header("x-api-key", API_KEY);
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

    pub fn settings(&self) -> Settings {
        let mut s = Settings::new(&self.url);
        s.timings.first_retry_max = Duration::from_millis(50);
        s.timings.backoff_base = Duration::from_millis(20);
        s.timings.backoff_cap = Duration::from_millis(200);
        s
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Records every event of every kind; tests wait on it with a timeout.
#[derive(Clone, Default)]
pub struct Recorder {
    inner: Arc<(Mutex<Vec<Event>>, Condvar)>,
}

impl Recorder {
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
                    Box::new(move |e: &Event| me.push(e.clone())),
                )
                .unwrap();
        }
    }

    pub fn push(&self, e: Event) {
        let (m, c) = &*self.inner;
        m.lock().unwrap().push(e);
        c.notify_all();
    }

    pub fn events(&self) -> Vec<Event> {
        self.inner.0.lock().unwrap().clone()
    }

    /// Waits until an event at index >= `from` matches; returns its index and the event.
    pub fn wait_from(
        &self,
        from: usize,
        what: &str,
        pred: impl Fn(&Event) -> bool,
    ) -> (usize, Event) {
        let deadline = Instant::now() + WAIT;
        let (m, c) = &*self.inner;
        let mut events = m.lock().unwrap();
        loop {
            if let Some((i, e)) = events.iter().enumerate().skip(from).find(|(_, e)| pred(e)) {
                return (i, e.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                panic!("timed out waiting for {what}; events: {:#?}", *events);
            }
            events = c.wait_timeout(events, deadline - now).unwrap().0;
        }
    }

    pub fn wait(&self, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
        self.wait_from(0, what, pred).1
    }

    pub fn len(&self) -> usize {
        self.inner.0.lock().unwrap().len()
    }

    /// The sequence of connection states seen so far.
    pub fn states(&self) -> Vec<chinwag::ConnectionState> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::State(s) => Some(s.current),
                _ => None,
            })
            .collect()
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

pub fn is_state(e: &Event, s: chinwag::ConnectionState) -> bool {
    matches!(e, Event::State(c) if c.current == s)
}
