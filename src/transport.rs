//! Opening a socket: TCP, TLS, the WebSocket upgrade, and the server's accept frame, as one
//! attempt under one deadline.

use std::sync::Arc;
use std::time::Duration;

use chinwag_protocol::close::{self, CloseAction};
use chinwag_protocol::frames::Resume;
use chinwag_protocol::limits::MAX_INBOUND_FRAME_BYTES;
use chinwag_protocol::model::{PresenceSubscription, User};
use chinwag_protocol::{ServerFrame, PROTOCOL_VERSION};
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// What the server said in its accept frame.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub user: User,
    pub ping_interval: Duration,
    pub resume: Resume,
}

/// Why an attempt failed, and what to do about it.
#[derive(Debug, Clone)]
pub struct AttemptError {
    pub message: String,
    pub action: CloseAction,
    pub close_code: Option<u16>,
}

impl AttemptError {
    fn retry(message: String) -> Self {
        AttemptError {
            message,
            action: CloseAction::RetryWithBackoff,
            close_code: None,
        }
    }
}

pub struct Target {
    pub ws_url: String,
    pub app_id: String,
    pub token: String,
    pub last_seq: Option<u64>,
    pub presence: PresenceSubscription,
    pub tls: Arc<rustls::ClientConfig>,
}

fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Runs one attempt; the caller bounds it with the connect timeout.
pub async fn open(t: Target) -> Result<(Socket, Accepted), AttemptError> {
    let mut url = format!(
        "{}?v={PROTOCOL_VERSION}&app_id={}&presence={}",
        t.ws_url,
        query_escape(&t.app_id),
        query_escape(&t.presence.to_param())
    );
    if let Some(seq) = t.last_seq {
        url.push_str(&format!("&last_seq={seq}"));
    }
    let mut request = url.into_client_request().map_err(|e| AttemptError {
        message: format!("bad server URL: {e}"),
        action: CloseAction::DoNotRetry,
        close_code: None,
    })?;
    let auth = format!("Bearer {}", t.token)
        .parse()
        .map_err(|_| AttemptError {
            message: "the saved token is not a valid header value".into(),
            action: CloseAction::DoNotRetry,
            close_code: Some(close::TOKEN_INVALID),
        })?;
    request.headers_mut().insert("authorization", auth);
    let mut config = WebSocketConfig::default();
    // The server never sends more than this: its largest frame is one stored message plus
    // overhead, bounded in `chinwag_protocol::limits`.
    config.max_message_size = Some(MAX_INBOUND_FRAME_BYTES);
    config.max_frame_size = Some(MAX_INBOUND_FRAME_BYTES);
    // Small I/O buffers (the default read buffer is 128 KiB, and it is zeroed, so resident):
    // chat frames are small and an app may hold many idle clients; a larger frame grows the
    // buffer to its size.
    config.read_buffer_size = 2 * 1024;
    config.write_buffer_size = 8 * 1024;
    let connector = tokio_tungstenite::Connector::Rustls(t.tls);
    let (mut socket, _) = tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(config),
        true,
        Some(connector),
    )
    .await
    .map_err(|e| match e {
        tungstenite::Error::Http(resp) => {
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let status = resp.status();
            let message = format!("server answered the upgrade with HTTP {status}");
            match retry_after {
                Some(secs) => AttemptError {
                    message,
                    action: CloseAction::RetryAfter(secs * 1000),
                    close_code: None,
                },
                None => AttemptError::retry(message),
            }
        }
        tungstenite::Error::Tls(e) => AttemptError::retry(format!("TLS failed: {e}")),
        other => AttemptError::retry(format!("cannot reach the server: {other}")),
    })?;
    // The server's first frame decides: accept, or a close that says why not.
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerFrame>(&text) {
                Ok(ServerFrame::Accept {
                    user,
                    ping_interval_ms,
                    resume,
                    protocol,
                    ..
                }) => {
                    if protocol != PROTOCOL_VERSION {
                        return Err(AttemptError {
                            message: format!("server speaks protocol {protocol}"),
                            action: CloseAction::DoNotRetry,
                            close_code: Some(close::PROTOCOL_UNSUPPORTED),
                        });
                    }
                    let accepted = Accepted {
                        user,
                        ping_interval: Duration::from_millis(ping_interval_ms.max(100)),
                        resume,
                    };
                    return Ok((socket, accepted));
                }
                Ok(_) | Err(_) => {
                    return Err(AttemptError::retry(
                        "the server's first frame was not an accept".into(),
                    ))
                }
            },
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame
                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or((1005, String::new()));
                return Err(AttemptError {
                    message: format!("server refused the session ({code}: {reason})"),
                    action: close::action_for(code, &reason),
                    close_code: Some(code),
                });
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                return Err(AttemptError::retry(format!(
                    "socket failed during accept: {e}"
                )))
            }
            None => return Err(AttemptError::retry("socket closed during accept".into())),
        }
    }
}
