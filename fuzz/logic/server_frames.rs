//! Target `server_frames`: one client frame (any bytes) on alice's live socket of the real
//! server. Checks: the server answers what it refuses with an error frame (MALFORMED_FRAME for
//! what is unreadable, echoing the `req` it could read), never an INTERNAL error; a request with
//! a `req` gets exactly its ack or error; a stored message reads back over REST exactly as
//! acked and reaches bob's socket when sent to bob or to g1; the session is alive afterwards
//! (a ping is acked) and was not closed (except for a frame over the size limit). A panic
//! anywhere in the server aborts the fuzzer.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use chinwag_protocol::frames::{Event, EventFrame};
use chinwag_protocol::limits::MAX_FRAME_BYTES;
use chinwag_protocol::model::ReceiverType;
use chinwag_protocol::{close, ClientFrame, ErrorCode, ServerFrame};
use futures_util::{FutureExt, SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::lab::{Cred, Lab};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// An answer that takes longer than this is a hang.
const ANSWER: Duration = Duration::from_secs(20);

struct Sockets {
    alice: Socket,
    bob: Socket,
    sync: u64,
    /// Messages already acked once (a repeated muid is answered with the stored message and
    /// delivered to nobody again).
    seen: HashSet<i64>,
}

static SOCKETS: Mutex<Option<Sockets>> = Mutex::new(None);
static LAB: OnceLock<Lab> = OnceLock::new();

pub fn check(data: &[u8]) {
    let lab = Lab::get(&LAB);
    let mut guard = SOCKETS.lock().unwrap_or_else(|p| p.into_inner());
    lab.rt.block_on(async {
        if guard.is_none() {
            *guard = Some(Sockets {
                alice: open(lab, &lab.alice).await,
                bob: open(lab, &lab.bob).await,
                sync: 0,
                seen: HashSet::new(),
            });
        }
        let Some(sockets) = guard.as_mut() else {
            unreachable!("set above")
        };
        if !exchange(lab, sockets, data).await {
            // Closed as it had to be (a frame over the limit): the next input opens anew.
            *guard = None;
        }
    });
}

/// Opens a socket and reads it up to `replay_done`.
async fn open(lab: &Lab, token: &str) -> Socket {
    let url = format!("ws://{}/v1/ws?v=1", lab.addr());
    let mut request = url.into_client_request().expect("a WebSocket request");
    let auth = format!("Bearer {token}").parse().expect("a header value");
    request.headers_mut().insert("authorization", auth);
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the fuzz server admits its own users");
    next_until(&mut socket, "replay_done", |f| {
        matches!(f, ServerFrame::ReplayDone { .. })
    })
    .await;
    socket
}

/// Reads frames until one matches; panics on a close, a hang or an unreadable frame.
async fn next_until(
    socket: &mut Socket,
    what: &str,
    mut want: impl FnMut(&ServerFrame) -> bool,
) -> ServerFrame {
    loop {
        let msg = tokio::time::timeout(ANSWER, socket.next())
            .await
            .unwrap_or_else(|_| panic!("no {what} within {ANSWER:?}"));
        match msg {
            Some(Ok(Ws::Text(text))) => {
                let frame: ServerFrame = serde_json::from_str(text.as_str()).unwrap_or_else(|e| {
                    panic!("the server sent an unreadable frame ({e}): {text}")
                });
                if want(&frame) {
                    return frame;
                }
            }
            Some(Ok(Ws::Close(c))) => panic!("socket closed while waiting for {what}: {c:?}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("socket failed while waiting for {what}: {e}"),
            None => panic!("socket ended while waiting for {what}"),
        }
    }
}

/// Sends the input and checks the answer; false when the socket was closed as it had to be.
async fn exchange(lab: &Lab, s: &mut Sockets, data: &[u8]) -> bool {
    let text = std::str::from_utf8(data).ok();
    let msg = match text {
        Some(t) => Ws::Text(t.to_string().into()),
        None => Ws::Binary(data.to_vec().into()),
    };
    if let Err(e) = s.alice.send(msg).await {
        panic!("sending the input failed: {e}");
    }
    if data.len() > MAX_FRAME_BYTES {
        return closed_too_big(&mut s.alice).await;
    }
    let parsed = text.and_then(|t| serde_json::from_str::<ClientFrame>(t).ok());
    match &parsed {
        None => {
            // What the server can read of the request id, it echoes.
            let echoed = text
                .and_then(|t| serde_json::from_str::<Value>(t).ok())
                .and_then(|v| v.get("req").and_then(Value::as_str).map(String::from));
            let frame = next_until(&mut s.alice, "the error for an unreadable frame", |f| {
                matches!(f, ServerFrame::Error { .. })
            })
            .await;
            let ServerFrame::Error { req, error } = frame else {
                unreachable!()
            };
            assert_eq!(error.code, ErrorCode::MalformedFrame, "{error:?}");
            assert_eq!(req, echoed, "the error echoes the request id: {error:?}");
        }
        Some(frame) => {
            if let Some(req) = frame.req().map(String::from) {
                let answer = next_until(&mut s.alice, "the answer to the request", |f| {
                    matches!(f, ServerFrame::Ack { req: r, .. } | ServerFrame::Error { req: Some(r), .. } if *r == req)
                })
                .await;
                match answer {
                    ServerFrame::Error { error, .. } => {
                        assert_ne!(error.code, ErrorCode::Internal, "{frame:?} -> {error:?}");
                    }
                    ServerFrame::Ack {
                        result: Some(event),
                        ..
                    } => read_back(lab, s, event).await,
                    _ => {}
                }
            }
        }
    }
    // The session is alive: a ping is acked (errors without a request id, of requests that
    // had none, may come first; none of them INTERNAL).
    s.sync += 1;
    let sync = format!("~sync-{}", s.sync);
    let ping = format!(r#"{{"type":"ping","req":"{sync}"}}"#);
    if let Err(e) = s.alice.send(Ws::Text(ping.into())).await {
        panic!("sending the ping failed: {e}");
    }
    next_until(&mut s.alice, "the ack of the ping", |f| {
        if let ServerFrame::Error { error, .. } = f {
            assert_ne!(error.code, ErrorCode::Internal, "{error:?}");
        }
        matches!(f, ServerFrame::Ack { req, .. } if *req == sync)
    })
    .await;
    drain(&mut s.bob);
    true
}

/// Reads whatever bob's socket has ready (answering the server's pings on the way), so that it
/// is never closed as silent or slow.
fn drain(socket: &mut Socket) {
    while let Some(msg) = socket.next().now_or_never() {
        match msg {
            Some(Ok(Ws::Close(c))) => panic!("bob's socket was closed: {c:?}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("bob's socket failed: {e}"),
            None => panic!("bob's socket ended"),
        }
    }
}

/// A frame over the limit closes the socket with MESSAGE_TOO_BIG.
async fn closed_too_big(socket: &mut Socket) -> bool {
    loop {
        match tokio::time::timeout(ANSWER, socket.next()).await {
            Ok(Some(Ok(Ws::Close(Some(c))))) => {
                assert_eq!(u16::from(c.code), close::MESSAGE_TOO_BIG, "{c:?}");
                return false;
            }
            Ok(Some(Ok(_))) => {}
            Ok(other) => panic!("an oversized frame ended the socket without a close: {other:?}"),
            Err(_) => panic!("no close within {ANSWER:?} after an oversized frame"),
        }
    }
}

/// A stored message reads back as acked and, when new and addressed to bob or g1, reaches bob.
async fn read_back(lab: &Lab, s: &mut Sockets, event: EventFrame) {
    let message = match &event.event {
        Event::Message(m) | Event::MessageEdited(m) | Event::MessageDeleted(m) => m.clone(),
        _ => return,
    };
    let token = lab.alice.clone();
    let path = format!("/v1/messages/{}", message.id);
    // A blocking call is fine here: this thread drives `block_on`, it is no worker of the server.
    let (status, stored) = lab.call("GET", &path, Cred::Token(token), "");
    assert_eq!(status, 200, "reading back message {}: {stored}", message.id);
    let acked = serde_json::to_value(&message).expect("a message encodes");
    assert_eq!(
        stored, acked,
        "the stored message differs from the acked one"
    );
    let fresh = matches!(event.event, Event::Message(_)) && s.seen.insert(message.id);
    let to_bob = match message.receiver_type {
        ReceiverType::User => message.receiver == "bob",
        ReceiverType::Group => message.receiver == "g1",
    };
    if fresh && to_bob {
        let id = message.id;
        next_until(&mut s.bob, "bob's copy of the message", |f| {
            matches!(f, ServerFrame::Event(EventFrame { event: Event::Message(m), .. }) if m.id == id)
        })
        .await;
    }
}
