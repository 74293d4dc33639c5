//! Target `sdk_frames`: a hostile server feeds the SDK any frames, in each connection state.
//! The SDK under test is the real `chinwag::Client`; the server side is the point of the
//! target (what a broken or malicious server sends), so it is a bare WebSocket listener here.
//!
//! Input: byte 0 picks the phase; the rest, split at newlines, are the frames (text when UTF-8,
//! binary otherwise; `$REQ` in a frame becomes the request id of the client's pending send).
//! - 0, CONNECTING: the frames come instead of the accept, then the socket closes.
//! - 1, replay: after an accept, before `replay_done`.
//! - 2, live, with a send of the app in flight.
//! - 3, live, while the app calls `disconnect()`.
//!
//! Checks: no panic; every state event is a change from the one before it; the SDK either
//! delivers a valid frame sent after the hostile ones or drops the socket and connects again
//! (or stops with FAILED): it never hangs silently; the app's send completes exactly once;
//! after `disconnect()` returns no message event is delivered; the client closes promptly.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

use chinwag::protocol::model::ReceiverType;
use chinwag::{
    Client, ConnectionState, Event, InitOptions, ListenerKind, SavedSession, SessionStore, Settings,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::WebSocketStream;

type Socket = WebSocketStream<TcpStream>;

const WAIT: Duration = Duration::from_secs(15);
const SYNC: &str = "~sync";

struct Hostile {
    rt: tokio::runtime::Runtime,
    url: String,
    sockets: Mutex<mpsc::UnboundedReceiver<Socket>>,
}

static HOSTILE: OnceLock<Hostile> = OnceLock::new();
static PANICKED: AtomicBool = AtomicBool::new(false);
/// The name of the hostile server's runtime threads.
const HOSTILE_THREADS: &str = "hostile-server";

fn hostile() -> &'static Hostile {
    HOSTILE.get_or_init(|| {
        // A panic on a thread of the SDK (its runtime, its dispatchers) or of this hostile
        // server is a finding, also on the stable replay where nothing aborts. Panics of other
        // threads (another test of the same replay process) are theirs to report.
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let name = std::thread::current().name().unwrap_or("").to_string();
                if name.starts_with("chinwag") || name.starts_with(HOSTILE_THREADS) {
                    PANICKED.store(true, Ordering::SeqCst);
                }
                previous(info);
            }));
        });
        let rt = tokio::runtime::Builder::new_multi_thread()
            .thread_name(HOSTILE_THREADS)
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let listener = rt
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let (tx, rx) = mpsc::unbounded_channel();
        rt.spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    if let Ok(ws) = tokio_tungstenite::accept_async(tcp).await {
                        let _ = tx.send(ws);
                    }
                });
            }
        });
        Hostile {
            rt,
            url,
            sockets: Mutex::new(rx),
        }
    })
}

/// The saved session the client starts with: logged in at once, no network call.
struct Saved;

impl SessionStore for Saved {
    fn load(&self) -> chinwag::Result<Option<SavedSession>> {
        Ok(Some(SavedSession {
            app_id: "chinwag-app".into(),
            user: serde_json::from_value(
                json!({"uid": "alice", "name": "alice", "role": "default", "status": "offline"}),
            )
            .expect("a user"),
            token: "fuzz-token".into(),
            last_seq: Some(0),
        }))
    }
    fn save(&self, _: &SavedSession, _: bool) -> chinwag::Result<()> {
        Ok(())
    }
    fn clear(&self) -> chinwag::Result<()> {
        Ok(())
    }
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(Instant, Event)>>>);

impl Recorder {
    fn events(&self) -> Vec<(Instant, Event)> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    fn any(&self, pred: impl Fn(&Event) -> bool) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|(_, e)| pred(e))
    }
}

fn accept_frame(alice_seq: u64) -> String {
    json!({"type": "accept", "session_id": "1", "app_id": "chinwag-app",
        "user": {"uid": "alice", "name": "alice", "role": "default", "status": "online"},
        "ping_interval_ms": 20000, "server_time": 1, "protocol": 1,
        "resume": {"status": "complete", "after_seq": 0, "replay_count": 0, "last_seq": alice_seq}})
    .to_string()
}

fn sync_frame() -> String {
    json!({"type": "transient", "sender": "bob", "receiver_type": "user", "receiver": "alice", "data": SYNC})
        .to_string()
}

pub fn check(data: &[u8]) {
    let Some((&phase, rest)) = data.split_first() else {
        return;
    };
    let h = hostile();
    let mut sockets = h.sockets.lock().unwrap_or_else(|p| p.into_inner());
    // Connections left over from an earlier input are not this input's.
    while sockets.try_recv().is_ok() {}
    let frames: Vec<&[u8]> = rest.split(|b| *b == b'\n').take(64).collect();

    let mut settings = Settings::new(&h.url);
    settings.timings.first_retry_max = Duration::from_millis(20);
    settings.timings.backoff_base = Duration::from_millis(10);
    settings.timings.backoff_cap = Duration::from_millis(50);
    settings.timings.connect_timeout = Duration::from_secs(5);
    settings.timings.listener_grace = Duration::ZERO;
    let rec = Recorder::default();
    let mut options = InitOptions {
        store: Some(Box::new(Saved)),
        ..InitOptions::default()
    };
    for kind in [
        ListenerKind::Connection,
        ListenerKind::Message,
        ListenerKind::User,
        ListenerKind::Group,
        ListenerKind::Call,
    ] {
        let r = rec.clone();
        options.listeners.push((
            kind,
            "fuzz".into(),
            Box::new(move |e: &Event| {
                r.0.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((Instant::now(), e.clone()))
            }),
        ));
    }
    let client = Client::init("chinwag-app", settings, options).expect("the client starts");
    let completions = Arc::new(AtomicUsize::new(0));
    let mut disconnected_at = None;

    h.rt.block_on(async {
        let mut socket = next_socket(&mut sockets).await;
        match phase % 4 {
            0 => {
                send_all(&mut socket, &frames, "").await;
                drop(socket);
                // A new attempt, or FAILED (an accept of another protocol, say).
                alive(&mut sockets, &rec, false).await;
            }
            1 => {
                let _ = socket.send(Ws::Text(accept_frame(0).into())).await;
                send_all(&mut socket, &frames, "").await;
                let _ = socket
                    .send(Ws::Text(
                        json!({"type": "replay_done", "last_seq": 0})
                            .to_string()
                            .into(),
                    ))
                    .await;
                let _ = socket.send(Ws::Text(sync_frame().into())).await;
                alive(&mut sockets, &rec, true).await;
            }
            2 => {
                live(&mut socket, &rec).await;
                let done = completions.clone();
                client
                    .send_text(
                        ReceiverType::User,
                        "bob",
                        "hello",
                        Some(Box::new(move |_| {
                            done.fetch_add(1, Ordering::SeqCst);
                        })),
                    )
                    .expect("a send is accepted");
                let req = read_send_req(&mut socket).await;
                send_all(&mut socket, &frames, &req).await;
                let _ = socket.send(Ws::Text(sync_frame().into())).await;
                alive(&mut sockets, &rec, true).await;
            }
            _ => {
                live(&mut socket, &rec).await;
                let feed = async {
                    send_all(&mut socket, &frames, "").await;
                };
                let stop = async {
                    tokio::task::yield_now().await;
                    client.disconnect();
                    disconnected_at = Some(Instant::now());
                };
                tokio::join!(feed, stop);
            }
        }
    });

    let closing = Instant::now();
    drop(client);
    assert!(
        closing.elapsed() < WAIT,
        "closing the client took {:?}",
        closing.elapsed()
    );
    let events = rec.events();
    check_state_chain(&events);
    if phase % 4 == 2 {
        assert_eq!(
            completions.load(Ordering::SeqCst),
            1,
            "the send completes exactly once"
        );
    }
    if let Some(at) = disconnected_at {
        let late: Vec<_> = events
            .iter()
            .filter(|(t, e)| *t > at && e.is_realtime())
            .collect();
        assert!(
            late.is_empty(),
            "message, user, group or call events after disconnect() returned: {late:?}"
        );
    }
    assert!(
        !PANICKED.load(Ordering::SeqCst),
        "a thread panicked (see above)"
    );
}

async fn next_socket(sockets: &mut mpsc::UnboundedReceiver<Socket>) -> Socket {
    match tokio::time::timeout(WAIT, sockets.recv()).await {
        Ok(Some(s)) => s,
        _ => panic!("the client did not connect within {WAIT:?}"),
    }
}

async fn send_all(socket: &mut Socket, frames: &[&[u8]], req: &str) {
    for frame in frames {
        let msg = match std::str::from_utf8(frame) {
            Ok(t) => Ws::Text(t.replace("$REQ", req).into()),
            Err(_) => Ws::Binary(frame.to_vec().into()),
        };
        // The client may have dropped the socket at an earlier frame: that is allowed.
        if socket.send(msg).await.is_err() {
            return;
        }
    }
}

/// Accepts the socket and waits until the client says CONNECTED.
async fn live(socket: &mut Socket, rec: &Recorder) {
    let _ = socket.send(Ws::Text(accept_frame(0).into())).await;
    let _ = socket
        .send(Ws::Text(
            json!({"type": "replay_done", "last_seq": 0})
                .to_string()
                .into(),
        ))
        .await;
    let deadline = Instant::now() + WAIT;
    while !rec.any(|e| matches!(e, Event::State(c) if c.current == ConnectionState::Connected)) {
        assert!(
            Instant::now() < deadline,
            "not CONNECTED after a valid accept"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The request id of the client's send frame.
async fn read_send_req(socket: &mut Socket) -> String {
    loop {
        match tokio::time::timeout(WAIT, socket.next()).await {
            Ok(Some(Ok(Ws::Text(t)))) => {
                let v: serde_json::Value =
                    serde_json::from_str(t.as_str()).expect("the SDK sends JSON");
                if v["type"] == "send" {
                    return v["req"].as_str().expect("a send has a req").to_string();
                }
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("no send frame from the client: {other:?}"),
        }
    }
}

/// Waits until the SDK shows it is alive: it delivered the sync frame (when one was sent), it
/// connected again, or it stopped in FAILED.
async fn alive(sockets: &mut mpsc::UnboundedReceiver<Socket>, rec: &Recorder, synced: bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        if synced && rec.any(|e| matches!(e, Event::Transient(m) if m.data == SYNC)) {
            return;
        }
        if rec.any(|e| matches!(e, Event::State(c) if c.current == ConnectionState::Failed)) {
            return;
        }
        if sockets.try_recv().is_ok() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the SDK neither delivered a valid frame nor connected again: {:#?}",
            rec.events()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// One state event per change: each starts where the one before it ended, and changes it.
fn check_state_chain(events: &[(Instant, Event)]) {
    let mut last: Option<ConnectionState> = None;
    for (_, e) in events {
        if let Event::State(c) = e {
            assert_ne!(
                c.previous, c.current,
                "a state event without a change: {c:?}"
            );
            if let Some(last) = last {
                assert_eq!(c.previous, last, "a state change was missed: {c:?}");
            }
            last = Some(c.current);
        }
    }
}
