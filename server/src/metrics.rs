//! Operational metrics in the Prometheus text format, served by `GET /metrics` on a listen
//! address of their own (`--metrics-addr`; off by default, so they are never public by
//! accident).
//!
//! The counters are process-wide (one server per process is how it is deployed; servers
//! embedded side by side in one test process share them): the code that counts needs no
//! handle, only a call here. Live sockets are read from the hub at scrape time.

use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::service::AppRef;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeatureLabel {
    feature: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Code {
    code: u16,
}

/// Every metric the server exports.
pub struct Metrics {
    registry: Registry,
    live_sockets: Gauge,
    logins: Family<Outcome, Counter>,
    messages_stored: Counter,
    commit_batch_size: Histogram,
    commit_seconds: Histogram,
    replays: Family<Outcome, Counter>,
    throttled: Family<FeatureLabel, Counter>,
    slow_consumers_closed: Counter,
    closes_sent: Family<Code, Counter>,
    bus_holes_filled: Counter,
}

static METRICS: OnceLock<Metrics> = OnceLock::new();

/// The process's metrics.
pub fn get() -> &'static Metrics {
    METRICS.get_or_init(Metrics::new)
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("chinwag");
        let live_sockets = Gauge::default();
        registry.register(
            "live_sockets",
            "Open WebSocket connections",
            live_sockets.clone(),
        );
        let logins = Family::<Outcome, Counter>::default();
        registry.register(
            "logins",
            "Logins (POST /v1/login) by outcome: ok, failed, rate_limited",
            logins.clone(),
        );
        let messages_stored = Counter::default();
        registry.register(
            "messages_stored",
            "Messages committed (rate() gives messages per second)",
            messages_stored.clone(),
        );
        // 1 .. 4096 jobs per commit.
        let commit_batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 13));
        registry.register(
            "commit_batch_size",
            "Jobs per group commit",
            commit_batch_size.clone(),
        );
        // 50 us .. ~3.3 s.
        let commit_seconds = Histogram::new(exponential_buckets(0.000_05, 2.0, 17));
        registry.register(
            "commit_seconds",
            "Time of one group commit, BEGIN to COMMIT (fsync included)",
            commit_seconds.clone(),
        );
        let replays = Family::<Outcome, Counter>::default();
        registry.register(
            "replays",
            "Socket resumes by outcome: complete, gap, fresh",
            replays.clone(),
        );
        let throttled = Family::<FeatureLabel, Counter>::default();
        registry.register(
            "throttled_frames",
            "Requests refused because their feature was throttled (typing, receipts, transient)",
            throttled.clone(),
        );
        let slow_consumers_closed = Counter::default();
        registry.register(
            "slow_consumers_closed",
            "Sockets closed because their send queue overflowed",
            slow_consumers_closed.clone(),
        );
        let closes_sent = Family::<Code, Counter>::default();
        registry.register(
            "close_codes_sent",
            "WebSocket close frames the server sent, by close code",
            closes_sent.clone(),
        );
        let bus_holes_filled = Counter::default();
        registry.register(
            "bus_holes_filled",
            "Jumps in a user's seq on the bus filled from the database (several nodes)",
            bus_holes_filled.clone(),
        );
        Metrics {
            registry,
            live_sockets,
            logins,
            messages_stored,
            commit_batch_size,
            commit_seconds,
            replays,
            throttled,
            slow_consumers_closed,
            closes_sent,
            bus_holes_filled,
        }
    }

    pub fn login(&self, outcome: &'static str) {
        self.logins.get_or_create(&Outcome { outcome }).inc();
    }

    pub fn message_stored(&self) {
        self.messages_stored.inc();
    }

    pub fn commit(&self, jobs: usize, took: Duration) {
        self.commit_batch_size.observe(jobs as f64);
        self.commit_seconds.observe(took.as_secs_f64());
    }

    pub fn replay(&self, status: &chinwag_protocol::frames::ResumeStatus) {
        use chinwag_protocol::frames::ResumeStatus as S;
        let outcome = match status {
            S::Complete => "complete",
            S::Gap => "gap",
            S::Fresh => "fresh",
        };
        self.replays.get_or_create(&Outcome { outcome }).inc();
    }

    pub fn throttled(&self, feature: &'static str) {
        self.throttled
            .get_or_create(&FeatureLabel { feature })
            .inc();
    }

    pub fn slow_consumer_closed(&self) {
        self.slow_consumers_closed.inc();
    }

    pub fn bus_hole_filled(&self) {
        self.bus_holes_filled.inc();
    }

    pub fn close_sent(&self, code: u16) {
        self.closes_sent.get_or_create(&Code { code }).inc();
    }

    /// The text exposition, with live sockets as of now.
    pub fn render(&self, live_sockets: usize) -> String {
        self.live_sockets
            .set(i64::try_from(live_sockets).unwrap_or(i64::MAX));
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "metrics encoding failed");
        }
        out
    }
}

/// The router of the metrics listener: `GET /metrics` and nothing else.
pub fn router(app: AppRef) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .with_state(app)
}

async fn scrape(State(app): State<AppRef>) -> impl IntoResponse {
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        get().render(app.hub.socket_count()),
    )
}
