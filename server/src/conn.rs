//! What one TCP connection may cost before and between requests: the connection caps (global
//! and per client address), the idle and header-read watchdog, and the bounded request body.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Open connections, in total and per client address.
pub struct ConnLimits {
    max_total: usize,
    max_per_ip: usize,
    /// Addresses exempt from the per-address cap (trusted proxies carry many clients).
    exempt: Vec<IpAddr>,
    state: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Total,
    PerIp,
}

impl ConnLimits {
    pub fn new(max_total: usize, max_per_ip: usize, exempt: Vec<IpAddr>) -> Arc<Self> {
        Arc::new(ConnLimits {
            max_total,
            max_per_ip,
            exempt,
            state: Mutex::new((0, HashMap::new())),
        })
    }

    /// A permit for one more connection from `ip`, released when dropped.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<ConnPermit, Refused> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (total, per_ip) = &mut *state;
        if *total >= self.max_total {
            return Err(Refused::Total);
        }
        let mine = per_ip.entry(ip).or_insert(0);
        if *mine >= self.max_per_ip && !self.exempt.contains(&ip) {
            if *mine == 0 {
                per_ip.remove(&ip);
            }
            return Err(Refused::PerIp);
        }
        *mine += 1;
        *total += 1;
        Ok(ConnPermit {
            limits: self.clone(),
            ip,
        })
    }
}

pub struct ConnPermit {
    limits: Arc<ConnLimits>,
    ip: IpAddr,
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        let mut state = self.limits.state.lock().unwrap_or_else(|p| p.into_inner());
        let (total, per_ip) = &mut *state;
        *total = total.saturating_sub(1);
        if let Some(n) = per_ip.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}

const NONE: u64 = u64::MAX;

/// What the watchdog knows about a connection: requests in progress, when it last became idle
/// and when the first byte of the next request arrived.
pub struct Activity {
    start: Instant,
    in_flight: AtomicUsize,
    idle_since_ms: AtomicU64,
    head_started_ms: AtomicU64,
}

impl Activity {
    pub fn new() -> Arc<Self> {
        Arc::new(Activity {
            start: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
            // A fresh connection is waiting for its first request from the start: it gets the
            // header bound, not the (longer) keep-alive idle bound.
            head_started_ms: AtomicU64::new(0),
        })
    }

    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn read(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0 {
            let now = self.now_ms();
            let _ = self.head_started_ms.compare_exchange(
                NONE,
                now,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
    }

    fn wrote(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0 {
            self.idle_since_ms.store(self.now_ms(), Ordering::Release);
        }
    }

    /// A request's headers arrived; the guard marks its end.
    pub fn request(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_started_ms.store(NONE, Ordering::Release);
        RequestGuard(self.clone())
    }

    /// Resolves when the connection has been idle (no request in progress, no byte since its
    /// last answer) for `idle`, or has been sending the headers of its next request for longer
    /// than `header` (for the first request: since the connection was accepted).
    pub async fn expired(&self, idle: Duration, header: Duration) {
        loop {
            let deadline = if self.in_flight.load(Ordering::Acquire) > 0 {
                // A request is being served (its body has its own bound): look again later.
                None
            } else {
                match self.head_started_ms.load(Ordering::Acquire) {
                    NONE => {
                        Some(self.idle_since_ms.load(Ordering::Acquire) + idle.as_millis() as u64)
                    }
                    started => Some(started + header.as_millis() as u64),
                }
            };
            // The state changes without waking this loop (a request's headers complete, its
            // answer is written), so it looks again at least every `recheck` rather than sleeping
            // to a deadline that may no longer hold.
            let recheck = idle.min(header);
            match deadline {
                Some(d) if self.now_ms() >= d => return,
                Some(d) => {
                    let at = self.start + Duration::from_millis(d);
                    tokio::time::sleep_until(at.min(tokio::time::Instant::now() + recheck)).await
                }
                None => tokio::time::sleep(recheck).await,
            }
        }
    }
}

pub struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let a = &self.0;
        a.idle_since_ms.store(a.now_ms(), Ordering::Release);
        a.head_started_ms.store(NONE, Ordering::Release);
        a.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A connection's byte stream with its permit (held as long as the stream lives, also after a
/// WebSocket upgrade) and the activity the watchdog reads.
pub struct Guarded<S> {
    inner: S,
    activity: Arc<Activity>,
    _permit: ConnPermit,
}

impl<S> Guarded<S> {
    pub fn new(inner: S, activity: Arc<Activity>, permit: ConnPermit) -> Self {
        Guarded {
            inner,
            activity,
            _permit: permit,
        }
    }

    pub fn activity(&self) -> Arc<Activity> {
        self.activity.clone()
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The body did not arrive within the bound.
#[derive(Debug)]
pub struct BodyTimeout(Duration);

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the request body did not arrive within {} ms",
            self.0.as_millis()
        )
    }
}

impl std::error::Error for BodyTimeout {}

/// A request body that fails once its deadline (set when the headers arrived) has passed.
pub struct DeadlineBody<B> {
    inner: B,
    bound: Duration,
    sleep: Pin<Box<Sleep>>,
}

impl<B> DeadlineBody<B> {
    pub fn new(inner: B, bound: Duration) -> Self {
        DeadlineBody {
            inner,
            bound,
            sleep: Box::pin(tokio::time::sleep(bound)),
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(polled) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(polled.map(|r| r.map_err(Into::into)));
        }
        if this.sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyTimeout(this.bound)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
