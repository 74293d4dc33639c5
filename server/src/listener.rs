//! The accept loop (plain TCP or rustls), housekeeping, and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::config::{Config, TlsFiles};
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

    /// Stops accepting, closes every socket with the "service restart" code (clients reconnect
    /// with backoff), waits briefly for them, checkpoints the database and returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

fn load_tls(files: &TlsFiles) -> Result<TlsAcceptor, String> {
    let certs = rustls_pemfile::certs(&mut std::io::BufReader::new(
        std::fs::File::open(&files.cert)
            .map_err(|e| format!("cannot read {}: {e}", files.cert.display()))?,
    ))
    .collect::<Result<Vec<_>, _>>()
    .map_err(|e| format!("bad certificate file {}: {e}", files.cert.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", files.cert.display()));
    }
    let key = rustls_pemfile::private_key(&mut std::io::BufReader::new(
        std::fs::File::open(&files.key)
            .map_err(|e| format!("cannot read {}: {e}", files.key.display()))?,
    ))
    .map_err(|e| format!("bad key file {}: {e}", files.key.display()))?
    .ok_or_else(|| format!("no private key in {}", files.key.display()))?;
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
    let store = Store::open(
        &config.db,
        config.durability,
        store::writer::Tuning {
            commit_delay: config.test_commit_delay,
        },
    )?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app_id = config.app_id.clone();
    let app = App::new(config, store);
    app.resume_call_timeouts()
        .await
        .map_err(|e| e.to_string())?;
    let router = http::router(app.clone());
    let (stop_tx, stop_rx) = oneshot::channel();
    let uses_tls = tls.is_some();
    let task = tokio::spawn(serve(app, listener, router, tls, stop_rx));
    Ok(ServerHandle {
        addr,
        tls: uses_tls,
        app_id,
        stop: Some(stop_tx),
        task,
    })
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
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    conns.spawn(serve_connection(stream, peer, router.clone(), tls.clone()));
                }
                Err(e) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
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

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    tls: Option<TlsAcceptor>,
) {
    let _ = stream.set_nodelay(true);
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(PeerAddr(peer));
            router.clone().oneshot(req)
        });
    let builder = hyper::server::conn::http1::Builder::new();
    let result =
        match tls {
            None => {
                builder
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await
            }
            Some(acceptor) => {
                let tls_stream =
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                        .await
                    {
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
                builder
                    .serve_connection(TokioIo::new(tls_stream), service)
                    .with_upgrades()
                    .await
            }
        };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
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
