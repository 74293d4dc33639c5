//! The accept loop (plain TCP or rustls), housekeeping, and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::config::{Config, TlsFiles};
use crate::conn::{Activity, ConnLimits, DeadlineBody, Guarded, Refused};
use crate::http::{self, PeerAddr};
use crate::service::{App, AppRef};
use crate::store::{self, Store};

/// A running server. Dropping it leaves the server running until the runtime ends; call
/// [`ServerHandle::shutdown`] to stop it cleanly.
pub struct ServerHandle {
    addr: SocketAddr,
    tls: bool,
    app_id: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    /// The metrics listener (`--metrics-addr`), when there is one.
    metrics: Option<(SocketAddr, JoinHandle<()>)>,
}

impl ServerHandle {
    /// The bound address (the real port when the config asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port` or `https://host:port`.
    pub fn url(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.addr
        )
    }

    /// The WebSocket endpoint.
    pub fn ws_url(&self) -> String {
        format!(
            "{}://{}{}",
            if self.tls { "wss" } else { "ws" },
            self.addr,
            chinwag_protocol::WS_PATH
        )
    }

    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// `http://host:port/metrics` when the config has a metrics address.
    pub fn metrics_url(&self) -> Option<String> {
        self.metrics
            .as_ref()
            .map(|(addr, _)| format!("http://{addr}/metrics"))
    }

    /// Stops accepting, closes every socket with the "service restart" code (clients reconnect
    /// with backoff), waits briefly for them, checkpoints the database and returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
        if let Some((_, task)) = self.metrics.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

fn load_tls(files: &TlsFiles) -> Result<TlsAcceptor, String> {
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| format!("cannot read {}: {e}", files.cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("bad certificate file {}: {e}", files.cert.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", files.cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| match e {
        pem::Error::NoItemsFound => format!("no private key in {}", files.key.display()),
        e => format!("bad key file {}: {e}", files.key.display()),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("certificate and key do not fit: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Opens the database, binds the port and starts serving in the current tokio runtime.
pub async fn start(config: Config) -> Result<ServerHandle, String> {
    let tls = config.tls.as_ref().map(load_tls).transpose()?;
    crate::config::check_bus(config.bus.as_deref(), &config.db)?;
    let store = Store::open(
        &config.db,
        config.durability,
        store::writer::Tuning {
            commit_delay: config.test_commit_delay,
            background_checkpoints: config.durability == crate::config::Durability::Process,
            wal_restart_frames: config.test_wal_restart_frames,
        },
    )?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app_id = config.app_id.clone();
    let hub = Arc::new(crate::hub::Hub::default());
    let bus = match config.bus.as_deref() {
        Some(url) => Some(crate::bus::Bus::connect(url, hub.clone()).await?),
        None => None,
    };
    let app = App::with_bus(config, store, hub, bus.as_ref().map(|(b, _)| b.clone()));
    if let Some((bus, tasks)) = bus {
        crate::bus::start(&app, bus, tasks);
    }
    app.resume_call_timeouts()
        .await
        .map_err(|e| e.to_string())?;
    let router = http::router(app.clone());
    let metrics = match app.config.metrics_addr {
        Some(addr) => Some(serve_metrics(app.clone(), addr).await?),
        None => None,
    };
    let (stop_tx, stop_rx) = oneshot::channel();
    let uses_tls = tls.is_some();
    let task = tokio::spawn(serve(app, listener, router, tls, stop_rx));
    Ok(ServerHandle {
        addr,
        tls: uses_tls,
        app_id,
        stop: Some(stop_tx),
        task,
        metrics,
    })
}

/// `GET /metrics` on an address of its own, plain HTTP (scraped from inside the network).
async fn serve_metrics(
    app: AppRef,
    addr: SocketAddr,
) -> Result<(SocketAddr, JoinHandle<()>), String> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr} (--metrics-addr): {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let router = crate::metrics::router(app);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "metrics listener failed");
        }
    });
    Ok((bound, task))
}

/// Logs a repeated warning at most once per interval, with how many were left out.
struct Quiet {
    every: Duration,
    last: Option<tokio::time::Instant>,
    suppressed: u64,
}

impl Quiet {
    fn new(every: Duration) -> Self {
        Quiet {
            every,
            last: None,
            suppressed: 0,
        }
    }

    /// Whether to log now; if so, also how many occurrences were suppressed since the last one.
    fn tick(&mut self) -> Option<u64> {
        let now = tokio::time::Instant::now();
        if self
            .last
            .is_some_and(|l| now.duration_since(l) < self.every)
        {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

async fn serve(
    app: AppRef,
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut conns = JoinSet::new();
    let housekeeping = tokio::spawn(housekeeping(app.clone()));
    let limits = ConnLimits::new(
        app.config.max_connections,
        app.config.max_connections_per_ip,
        app.config.trusted_proxies.clone(),
    );
    let mut accept_errors = Quiet::new(Duration::from_secs(10));
    let mut refusals = Quiet::new(Duration::from_secs(10));
    // Backoff after failed accepts (usually out of file descriptors): doubles while they
    // continue, so a full descriptor table neither spins nor floods the log.
    let mut backoff = Duration::from_millis(10);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    backoff = Duration::from_millis(10);
                    // Over a cap the connection is accepted and closed at once: the kernel's
                    // backlog does not fill up, the client learns at once, and connections
                    // already open (keep-alive, sockets) go on being served.
                    match limits.admit(peer.ip()) {
                        Ok(permit) => {
                            let stream = Guarded::new(stream, Activity::new(), permit);
                            conns.spawn(serve_connection(
                                app.clone(),
                                stream,
                                peer,
                                router.clone(),
                                tls.clone(),
                            ));
                        }
                        Err(why) => {
                            drop(stream);
                            if let Some(more) = refusals.tick() {
                                let cap = match why {
                                    Refused::Total => "--max-connections",
                                    Refused::PerIp => "--max-connections-per-ip",
                                };
                                tracing::warn!(%peer, cap, suppressed = more, "connection refused: at the cap");
                            }
                        }
                    }
                }
                Err(e) => {
                    if let Some(more) = accept_errors.tick() {
                        tracing::warn!(error = %e, suppressed = more, "accept failed");
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    housekeeping.abort();
    app.hub.close_all(
        chinwag_protocol::close::SERVICE_RESTART,
        "server shutting down",
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while app.hub.socket_count() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
    app.store.checkpoint().await;
    tracing::info!("server stopped");
}

/// Serves HTTP on one connection until the peer leaves, the connection upgrades to a
/// WebSocket (which then lives on in its own task), or the watchdog finds it idle or slow.
async fn serve_http<S>(
    app: &AppRef,
    io: S,
    activity: Arc<Activity>,
    peer: SocketAddr,
    router: Router,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let body_bound = app.config.body_read_timeout;
    let service_activity = activity.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let request = service_activity.request();
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(PeerAddr(peer));
        let req = hyper::Request::from_parts(parts, DeadlineBody::new(body, body_bound));
        let router = router.clone();
        async move {
            let response = router.oneshot(req).await;
            drop(request);
            response
        }
    });
    let (idle, header) = (app.config.idle_timeout, app.config.header_read_timeout);
    let mut builder = hyper::server::conn::http1::Builder::new();
    // hyper's own header timer runs from the moment it waits for a request, idle time
    // included; it is the backstop, the watchdog below enforces each bound on its own.
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(idle + header);
    let conn = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::select! {
        result = conn => {
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        }
        _ = activity.expired(idle, header) => {
            tracing::debug!(%peer, "connection closed: idle, or headers too slow");
        }
    }
}

async fn serve_connection(
    app: AppRef,
    stream: Guarded<TcpStream>,
    peer: SocketAddr,
    router: Router,
    tls: Option<TlsAcceptor>,
) {
    let activity = stream.activity();
    let _ = stream.get_ref().set_nodelay(true);
    match tls {
        None => serve_http(&app, stream, activity, peer, router).await,
        Some(acceptor) => {
            let handshake = app.config.header_read_timeout;
            let tls_stream = match tokio::time::timeout(handshake, acceptor.accept(stream)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            serve_http(&app, tls_stream, activity, peer, router).await
        }
    }
}

/// Periodic clean-up: events that can no longer be replayed, expired rate-limit windows.
async fn housekeeping(app: AppRef) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        prune_events(&app).await;
        app.prune_throttles();
    }
}

/// Events pruned per writer job: small enough that the writer is never held for long.
const PRUNE_CHUNK: usize = 2_000;
/// Events younger than this are kept even beyond the replay window, so a replay that has
/// announced its count never loses a row while it streams.
const PRUNE_MIN_AGE_MS: i64 = 60 * 60 * 1000;

async fn prune_events(app: &AppRef) {
    let keep = app.config.replay_limit;
    loop {
        let pruned = app
            .store
            .run(move |c| {
                Ok(store::events::prune(
                    c,
                    keep,
                    PRUNE_MIN_AGE_MS,
                    PRUNE_CHUNK,
                )?)
            })
            .await;
        match pruned {
            Ok(n) if n == PRUNE_CHUNK => continue,
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(error = %e, "event pruning failed");
                break;
            }
        }
    }
}
