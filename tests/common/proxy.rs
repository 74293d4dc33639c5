//! A fault-injecting TCP proxy: clients connect to `proxy.url()`, the proxy forwards to the
//! server, and the test breaks the path on purpose.
//!
//! Controls (all take effect at once, from any thread):
//! - `reset()`: abort every live connection with a TCP reset, both sides;
//! - `blackhole()` / `blackhole_down()`: stop forwarding (both ways / server-to-client only) on
//!   live and new connections, keeping the sockets open. Bytes are held, not dropped, like
//!   packets TCP keeps retransmitting: `heal()` lets them through;
//! - `freeze_live()`: hold both directions of the connections open now, not of new ones;
//! - `refuse(true)`: reset new connections as soon as they are accepted;
//! - `hold_after_upgrade(true)`: on new connections, forward the server's `101` upgrade response
//!   and hold everything after it (the socket is open but the accept frame does not arrive);
//!   plain HTTP requests pass;
//! - `delay(d)`: wait `d` before forwarding each chunk, both ways;
//! - `answer_new(Some(bytes))`: answer new connections with these bytes (say an HTTP 503) after
//!   reading the request, then close them;
//! - `inject_down(bytes)`: write raw bytes to every live client, as if the server sent them;
//! - `heal()`: undo all of the above.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use super::WAIT;

struct Conn {
    hold_up: watch::Sender<bool>,
    hold_down: watch::Sender<bool>,
    kill: watch::Sender<bool>,
    inject: mpsc::UnboundedSender<Vec<u8>>,
    /// The server answered `101`: this is a WebSocket.
    upgraded: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct State {
    refuse: bool,
    answer: Option<Vec<u8>>,
    hold_up: bool,
    hold_down: bool,
    hold_after_upgrade: bool,
    delay: Duration,
    accepted: usize,
    refused: usize,
    upgrades_held: usize,
    upgrades: usize,
    next_id: u64,
    live: Vec<(u64, Arc<Conn>)>,
}

struct Shared {
    target: SocketAddr,
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct Proxy {
    rt: tokio::runtime::Runtime,
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Proxy {
    /// A proxy on 127.0.0.1:0 forwarding to the server at `target` (`http://host:port`).
    pub fn start(target_url: &str) -> Proxy {
        let target: SocketAddr = target_url
            .trim_start_matches("http://")
            .parse()
            .expect("http://host:port");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(TcpListener::bind(("127.0.0.1", 0)))
            .expect("bind the proxy");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            target,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        rt.spawn(accept_loop(listener, shared.clone()));
        Proxy { rt, addr, shared }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted and forwarded so far (refused ones not counted).
    pub fn accepted(&self) -> usize {
        self.shared.lock().accepted
    }

    pub fn refused(&self) -> usize {
        self.shared.lock().refused
    }

    /// WebSocket upgrades (`101` answers) that went through: the sockets clients opened.
    pub fn upgrades(&self) -> usize {
        self.shared.lock().upgrades
    }

    /// Connections open right now.
    pub fn live(&self) -> usize {
        self.shared.lock().live.len()
    }

    /// Aborts every live connection with a TCP reset; returns how many there were.
    pub fn reset(&self) -> usize {
        let st = self.shared.lock();
        for (_, c) in &st.live {
            c.kill.send_replace(true);
        }
        st.live.len()
    }

    /// Stops forwarding in both directions, on live and new connections.
    pub fn blackhole(&self) {
        self.set_hold(true, true);
    }

    /// Stops forwarding from the server to the client, on live and new connections.
    pub fn blackhole_down(&self) {
        self.set_hold(false, true);
    }

    fn set_hold(&self, up: bool, down: bool) {
        let mut st = self.shared.lock();
        st.hold_up = up;
        st.hold_down = down;
        for (_, c) in &st.live {
            c.hold_up.send_replace(up);
            c.hold_down.send_replace(down);
        }
    }

    /// Holds both directions of the connections open now; new connections pass.
    pub fn freeze_live(&self) {
        let st = self.shared.lock();
        for (_, c) in &st.live {
            c.hold_up.send_replace(true);
            c.hold_down.send_replace(true);
        }
    }

    pub fn refuse(&self, on: bool) {
        self.shared.lock().refuse = on;
    }

    /// Answers new connections with `bytes` instead of forwarding them (`None`: forward).
    pub fn answer_new(&self, bytes: Option<Vec<u8>>) {
        self.shared.lock().answer = bytes;
    }

    pub fn hold_after_upgrade(&self, on: bool) {
        self.shared.lock().hold_after_upgrade = on;
    }

    pub fn delay(&self, d: Duration) {
        self.shared.lock().delay = d;
    }

    /// Writes `bytes` to every live WebSocket client as if the server had sent them; returns
    /// how many got them.
    pub fn inject_down(&self, bytes: &[u8]) -> usize {
        let st = self.shared.lock();
        let mut n = 0;
        for (_, c) in &st.live {
            if c.upgraded.load(std::sync::atomic::Ordering::SeqCst) {
                let _ = c.inject.send(bytes.to_vec());
                n += 1;
            }
        }
        n
    }

    /// Forwards everything again: no blackhole, no refusal, no delay, nothing held.
    pub fn heal(&self) {
        let mut st = self.shared.lock();
        st.refuse = false;
        st.answer = None;
        st.hold_up = false;
        st.hold_down = false;
        st.hold_after_upgrade = false;
        st.delay = Duration::ZERO;
        for (_, c) in &st.live {
            c.hold_up.send_replace(false);
            c.hold_down.send_replace(false);
        }
    }

    fn wait_until(&self, what: &str, pred: impl Fn(&State) -> bool) {
        let deadline = Instant::now() + WAIT;
        let mut st = self.shared.lock();
        while !pred(&st) {
            let now = Instant::now();
            assert!(now < deadline, "proxy: timed out waiting for {what}");
            st = self
                .shared
                .changed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Id of the newest forwarded connection (ids count up from 1).
    pub fn newest(&self) -> u64 {
        self.shared.lock().next_id
    }

    /// Waits until the connection with this id has closed.
    pub fn wait_gone(&self, id: u64) {
        self.wait_until(&format!("connection {id} to close"), |s| {
            s.next_id >= id && !s.live.iter().any(|(i, _)| *i == id)
        });
    }

    pub fn wait_accepted(&self, n: usize) {
        self.wait_until(&format!("{n} accepted connections"), |s| s.accepted >= n);
    }

    pub fn wait_refused(&self, n: usize) {
        self.wait_until(&format!("{n} refused connections"), |s| s.refused >= n);
    }

    pub fn wait_live(&self, n: usize) {
        self.wait_until(&format!("{n} live connections"), |s| s.live.len() == n);
    }

    /// Waits until `n` upgrade responses went through with what follows them held.
    pub fn wait_upgrades(&self, n: usize) {
        self.wait_until(&format!("{n} upgrades"), |s| s.upgrades >= n);
    }

    pub fn wait_upgrades_held(&self, n: usize) {
        self.wait_until(&format!("{n} held upgrades"), |s| s.upgrades_held >= n);
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(serve(client, shared.clone()));
    }
}

/// SO_LINGER 0: closing the socket sends a reset instead of a FIN.
fn set_reset_on_close(fd: RawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `fd` is an open socket owned by a stream that is alive for this call; the option
    // value is a valid `linger` of the size passed.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

async fn serve(mut client: TcpStream, shared: Arc<Shared>) {
    let (refuse, answer, hold_up, hold_down, after_upgrade) = {
        let mut st = shared.lock();
        if st.refuse || st.answer.is_some() {
            st.refused += 1;
        }
        (
            st.refuse,
            st.answer.clone(),
            st.hold_up,
            st.hold_down,
            st.hold_after_upgrade,
        )
    };
    if let Some(bytes) = answer {
        shared.changed.notify_all();
        // Read the request head, answer, close.
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
            match client.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = client.write_all(&bytes).await;
        let _ = client.shutdown().await;
        return;
    }
    if refuse {
        set_reset_on_close(client.as_raw_fd());
        drop(client);
        shared.changed.notify_all();
        return;
    }
    let Ok(server) = TcpStream::connect(shared.target).await else {
        set_reset_on_close(client.as_raw_fd());
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (inject_tx, inject_rx) = mpsc::unbounded_channel();
    let conn = Arc::new(Conn {
        hold_up: watch::Sender::new(hold_up),
        hold_down: watch::Sender::new(hold_down),
        kill: watch::Sender::new(false),
        inject: inject_tx,
        upgraded: Default::default(),
    });
    let id = {
        let mut st = shared.lock();
        st.accepted += 1;
        st.next_id += 1;
        let id = st.next_id;
        st.live.push((id, conn.clone()));
        id
    };
    shared.changed.notify_all();

    let (cfd, sfd) = (client.as_raw_fd(), server.as_raw_fd());
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = pump(cr, sw, conn.hold_up.subscribe(), shared.clone());
    let down = pump_down(
        sr,
        cw,
        conn.clone(),
        inject_rx,
        after_upgrade,
        shared.clone(),
    );
    let mut kill = conn.kill.subscribe();
    tokio::select! {
        // The sockets are still open inside this branch: the pumps own them until select! ends.
        _ = async {
            let _ = kill.wait_for(|k| *k).await;
            set_reset_on_close(cfd);
            set_reset_on_close(sfd);
        } => {}
        _ = async { tokio::join!(up, down) } => {}
    }
    shared.lock().live.retain(|(i, _)| *i != id);
    shared.changed.notify_all();
}

fn delay_of(shared: &Shared) -> Duration {
    shared.lock().delay
}

/// Client to server: forwards until EOF, holding bytes while told to.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut hold: watch::Receiver<bool>,
    shared: Arc<Shared>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if hold.wait_for(|h| !*h).await.is_err() {
            return;
        }
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if hold.wait_for(|h| !*h).await.is_err() {
            return;
        }
        let d = delay_of(&shared);
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// Server to client: as `pump`, plus injected bytes, counting upgrades, and (if `hold_after`)
/// holding what follows a `101` response.
async fn pump_down(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    conn: Arc<Conn>,
    mut inject: mpsc::UnboundedReceiver<Vec<u8>>,
    hold_after: bool,
    shared: Arc<Shared>,
) {
    let mut header_pending = true;
    let mut hold = conn.hold_down.subscribe();
    let mut buf = vec![0u8; 64 * 1024];
    let mut header: Vec<u8> = Vec::new();
    loop {
        let n = tokio::select! {
            Some(bytes) = inject.recv() => {
                if to.write_all(&bytes).await.is_err() {
                    break;
                }
                continue;
            }
            r = async {
                hold.wait_for(|h| !*h).await.ok()?;
                from.read(&mut buf).await.ok()
            } => match r {
                Some(0) | None => break,
                Some(n) => n,
            },
        };
        let mut chunk = &buf[..n];
        if header_pending {
            let before = header.len();
            header.extend_from_slice(chunk);
            if let Some(pos) = header.windows(4).position(|w| w == b"\r\n\r\n") {
                header_pending = false;
                if header.starts_with(b"HTTP/1.1 101") {
                    let split = pos + 4 - before;
                    if to.write_all(&chunk[..split]).await.is_err() {
                        break;
                    }
                    chunk = &chunk[split..];
                    conn.upgraded
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                    let mut st = shared.lock();
                    st.upgrades += 1;
                    if hold_after {
                        conn.hold_down.send_replace(true);
                        st.upgrades_held += 1;
                    }
                    drop(st);
                    shared.changed.notify_all();
                }
            }
        }
        if hold.wait_for(|h| !*h).await.is_err() {
            return;
        }
        let d = delay_of(&shared);
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
        if to.write_all(chunk).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// An unmasked server-to-client WebSocket text frame.
pub fn ws_text_frame(text: &str) -> Vec<u8> {
    let payload = text.as_bytes();
    assert!(payload.len() < 126, "short frames only");
    let mut f = vec![0x81, payload.len() as u8];
    f.extend_from_slice(payload);
    f
}

/// A server-to-client WebSocket close frame with a code and a reason.
pub fn ws_close_frame(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    assert!(payload.len() < 126, "short frames only");
    let mut f = vec![0x88, payload.len() as u8];
    f.extend_from_slice(&payload);
    f
}
