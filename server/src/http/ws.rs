//! `GET /v1/ws`: authenticates the upgrade request, then hands the socket to a session. A
//! request that cannot be admitted is still upgraded and then closed with a close code, so
//! browser clients (which cannot read HTTP errors of an upgrade) learn why.

use std::collections::HashMap;
use std::net::IpAddr;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chinwag_protocol::limits::MAX_FRAME_BYTES;
use chinwag_protocol::model::PresenceSubscription;
use chinwag_protocol::{close, ApiError, ErrorCode, PROTOCOL_VERSION};

use super::extract::{bearer, ClientIp, HttpError, Params};
use crate::service::AppRef;
use crate::session::{self, Admission};

/// Why a socket is refused: close code and reason.
type Refusal = (u16, String);

/// A `RATE_LIMITED` answer as a close: "try again later", the reason being the delay in ms.
fn later(e: &ApiError) -> Refusal {
    (
        close::TRY_AGAIN_LATER,
        e.retry_after_ms.unwrap_or(5_000).to_string(),
    )
}

async fn admit(
    app: &AppRef,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    ip: IpAddr,
) -> Result<Admission, Refusal> {
    app.upgrades.hit(ip).map_err(|e| later(&e))?;
    let bad = |m: String| (close::BAD_REQUEST, m);
    let version = params.get("v").map(String::as_str).unwrap_or("1");
    if version != PROTOCOL_VERSION.to_string() {
        return Err((
            close::PROTOCOL_UNSUPPORTED,
            format!("protocol {version} unsupported; this server speaks {PROTOCOL_VERSION}"),
        ));
    }
    if let Some(id) = params.get("app_id") {
        if *id != app.config.app_id {
            return Err((
                close::APP_MISMATCH,
                format!("this server serves app {:?}", app.config.app_id),
            ));
        }
    }
    let last_seq = match params.get("last_seq") {
        None => None,
        Some(s) => Some(
            s.parse::<u64>()
                .map_err(|_| bad(format!("last_seq {s:?} is not a number")))?,
        ),
    };
    let presence =
        PresenceSubscription::parse(params.get("presence").map(String::as_str).unwrap_or("none"))
            .map_err(bad)?;
    if !app.config.presence_modes.allows(&presence) {
        return Err(bad(format!(
            "presence {:?} is not enabled on this server (see --presence-modes)",
            presence.to_param()
        )));
    }
    let token = bearer(headers)
        .or_else(|| params.get("token").map(String::as_str))
        .ok_or_else(|| {
            (
                close::TOKEN_INVALID,
                "no token: send Authorization: Bearer or ?token=".to_string(),
            )
        })?;
    // Taken before the token is read, so that a revocation committed between this read and
    // the socket's registration still refuses it (see `Hub::register`).
    let ticket = app.hub.admission_ticket();
    let (user, token_hash) = app
        .authenticate_from(token, ip)
        .await
        .map_err(|e| match e.code {
            ErrorCode::UserDeactivated => (close::USER_DEACTIVATED, e.message),
            ErrorCode::InvalidToken => (close::TOKEN_INVALID, e.message),
            ErrorCode::RateLimited => later(&e),
            _ => (close::INTERNAL_ERROR, e.message),
        })?;
    Ok(Admission {
        ticket: Some(ticket),
        user,
        token_hash,
        presence,
        last_seq,
    })
}

#[utoipa::path(get, path = "/v1/ws", tag = "session", security(("bearer" = []), ()), params(("v" = Option<u32>, Query, description = "Protocol version (1)"), ("token" = Option<String>, Query, description = "The user's token, for clients that cannot send headers"), ("last_seq" = Option<u64>, Query, description = "Resume after this event sequence"), ("app_id" = Option<String>, Query, description = "The app id the client expects"), ("presence" = Option<String>, Query, description = "`none`, `all`, `friends` or `roles:a,b`")), responses((status = 101, description = "The WebSocket (docs/protocol.md); a refused one is closed with a close code")))]
pub async fn upgrade(
    State(app): State<AppRef>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Params(params): Params<HashMap<String, String>>,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => {
            return HttpError(ApiError::new(
                ErrorCode::BadRequest,
                format!("this endpoint needs a WebSocket upgrade: {}", e.body_text()),
            ))
            .into_response()
        }
    };
    let admission = admit(&app, &headers, &params, ip).await;
    // Small I/O buffers: chat frames are small and idle sockets are the common case, so
    // memory per socket matters more than syscalls per large frame.
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(8 * 1024)
        .write_buffer_size(8 * 1024)
        .on_upgrade(move |socket| async move {
            match admission {
                Ok(a) => session::run(app, socket, a).await,
                Err((code, reason)) => session::refuse(socket, code, reason).await,
            }
        })
}
