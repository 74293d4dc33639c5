//! Request extractors that answer every failure with the JSON error body, and the error type
//! handlers return.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chinwag_protocol::rest::{API_KEY_HEADER, APP_ID_HEADER};
use chinwag_protocol::{ApiError, ErrorCode};
use serde::de::DeserializeOwned;

use crate::service::{App, AppRef};

/// An [`ApiError`] as an HTTP answer: the status its code maps to, the JSON body, and
/// `Retry-After` (seconds, rounded up) when it carries a delay.
pub struct HttpError(pub ApiError);

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> Self {
        HttpError(e)
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.0.retry_after_ms;
        let mut resp = (status, axum::Json(self.0)).into_response();
        if let Some(ms) = retry {
            let secs = ms.div_ceil(1000).max(1);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert("retry-after", v);
            }
        }
        resp
    }
}

pub type HttpResult<T> = Result<T, HttpError>;

/// The TCP peer of the connection, inserted by the accept loop.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<PeerAddr>()
            .copied()
            .ok_or_else(|| ApiError::new(ErrorCode::Internal, "peer address unknown").into())
    }
}

/// The client's address, for the per-address limits: the TCP peer, or, when the peer is a
/// trusted proxy (`Config::trusted_proxies`), the nearest `X-Forwarded-For` entry that is not
/// itself a trusted proxy. Entries are read right to left, since a client can put anything at
/// the left of the header but each trusted proxy appends the address it saw.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

pub fn client_ip(app: &App, headers: &HeaderMap, peer: IpAddr) -> IpAddr {
    let trusted = &app.config.trusted_proxies;
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            // Unreadable: count it against the proxy rather than let it pick a fresh bucket.
            Err(_) => return peer,
        }
    }
    peer
}

impl FromRequestParts<AppRef> for ClientIp {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, app: &AppRef) -> Result<Self, Self::Rejection> {
        let peer = PeerAddr::from_request_parts(parts, app).await?;
        Ok(ClientIp(client_ip(app, &parts.headers, peer.0.ip())))
    }
}

/// A JSON body; a bad one is `BAD_REQUEST` with serde's explanation.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(e) => Err(ApiError::new(ErrorCode::BadRequest, e.body_text()).into()),
        }
    }
}

/// Path parameters; bad ones (say, percent-encoded bytes that are not UTF-8) are
/// `BAD_REQUEST` with the JSON error body every other refusal has (axum's own rejection is
/// plain text).
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(e) => Err(ApiError::new(ErrorCode::BadRequest, e.body_text()).into()),
        }
    }
}

/// Query parameters; bad ones are `BAD_REQUEST`.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Params(v)),
            Err(e) => Err(ApiError::new(ErrorCode::BadRequest, e.body_text()).into()),
        }
    }
}

/// Who is calling: the app's backend (API key) or a user (bearer token).
#[derive(Debug, Clone)]
pub enum Caller {
    Admin,
    User { uid: String, token_hash: String },
}

impl Caller {
    /// The user behind the call; `None` for the app's backend.
    pub fn uid(&self) -> Option<&str> {
        match self {
            Caller::Admin => None,
            Caller::User { uid, .. } => Some(uid),
        }
    }

    /// May act on `uid`'s own resources (the user itself or the backend).
    pub fn require_self_or_admin(&self, uid: &str) -> Result<(), HttpError> {
        match self {
            Caller::Admin => Ok(()),
            Caller::User { uid: me, .. } if me == uid => Ok(()),
            Caller::User { .. } => Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("only {uid:?} or the app's backend may do this"),
            )
            .into()),
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The token in `Authorization: Bearer ...`, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    header(headers, "authorization").and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    })
}

/// Fails with `APP_MISMATCH` when the request names another app.
pub fn check_app(app: &App, headers: &HeaderMap) -> Result<(), HttpError> {
    match header(headers, APP_ID_HEADER) {
        Some(id) if id != app.config.app_id => Err(ApiError::new(
            ErrorCode::AppMismatch,
            format!("this server serves app {:?}, not {id:?}", app.config.app_id),
        )
        .into()),
        _ => Ok(()),
    }
}

impl FromRequestParts<AppRef> for Caller {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, app: &AppRef) -> Result<Self, Self::Rejection> {
        check_app(app, &parts.headers)?;
        let ClientIp(ip) = ClientIp::from_request_parts(parts, app).await?;
        if let Some(key) = header(&parts.headers, API_KEY_HEADER) {
            app.check_key(
                key,
                &app.config.api_key,
                ip,
                ErrorCode::InvalidApiKey,
                "API key",
            )?;
            return Ok(Caller::Admin);
        }
        let token = bearer(&parts.headers).ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "send Authorization: Bearer <token> or X-Api-Key",
            )
        })?;
        let (user, token_hash) = app.authenticate_from(token, ip).await?;
        Ok(Caller::User {
            uid: user.uid,
            token_hash,
        })
    }
}

/// A user caller (bearer token); the API key alone is not enough.
pub struct UserCaller {
    pub uid: String,
    pub token_hash: String,
}

impl FromRequestParts<AppRef> for UserCaller {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, app: &AppRef) -> Result<Self, Self::Rejection> {
        match Caller::from_request_parts(parts, app).await? {
            Caller::User { uid, token_hash } => Ok(UserCaller { uid, token_hash }),
            Caller::Admin => Err(ApiError::new(
                ErrorCode::Unauthorized,
                "this endpoint acts as a user: send Authorization: Bearer <token>",
            )
            .into()),
        }
    }
}

/// The app's backend (API key).
pub struct AdminCaller;

impl FromRequestParts<AppRef> for AdminCaller {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, app: &AppRef) -> Result<Self, Self::Rejection> {
        match Caller::from_request_parts(parts, app).await? {
            Caller::Admin => Ok(AdminCaller),
            Caller::User { .. } => Err(ApiError::new(
                ErrorCode::Forbidden,
                "this endpoint needs the API key (X-Api-Key)",
            )
            .into()),
        }
    }
}
