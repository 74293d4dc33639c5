//! The REST calls the SDK makes: login, login with a token, logout, creating users.

use std::sync::{Arc, Mutex, Weak};

use once_cell::sync::Lazy;
use std::time::Duration;

use chinwag_protocol::model::User;
use chinwag_protocol::rest::{CreateUser, LoginRequest, Position, TokenResponse, APP_ID_HEADER};
use chinwag_protocol::ApiError;

use crate::error::{Error, ErrorCode, Result};

/// How long a REST connection stays open after its last request.
const POOL_IDLE: Duration = Duration::from_secs(5);

/// One HTTP client per TLS configuration and timeout, shared by the clients that have the same
/// (every client without extra CAs shares one configuration): a client of its own costs each
/// SDK client some 15 KiB that idle clients would hold for nothing. Requests carry their own
/// credentials, so sharing the connection pool shares nothing else.
type ClientCache = Vec<(Weak<rustls::ClientConfig>, Duration, reqwest::Client)>;
static SHARED: Lazy<Mutex<ClientCache>> = Lazy::new(|| Mutex::new(Vec::new()));

fn shared_client(tls: &Arc<rustls::ClientConfig>, timeout: Duration) -> Result<reqwest::Client> {
    let mut cache = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    // Entries of configurations no client holds any more (extra CAs, freed) go.
    cache.retain(|(config, _, _)| config.strong_count() > 0);
    if let Some((_, _, client)) = cache
        .iter()
        .find(|(config, t, _)| *t == timeout && config.as_ptr() == Arc::as_ptr(tls))
    {
        return Ok(client.clone());
    }
    let client = reqwest::Client::builder()
        .use_preconfigured_tls((**tls).clone())
        .connect_timeout(timeout)
        .timeout(timeout)
        // Login and logout are one-off; requests come in short runs (paging history). A
        // kept-alive connection costs an idle client a socket, a task and its buffers.
        .pool_idle_timeout(POOL_IDLE)
        .build()
        .map_err(|e| {
            Error::new(
                ErrorCode::Internal,
                format!("HTTP client setup failed: {e}"),
            )
        })?;
    cache.push((Arc::downgrade(tls), timeout, client.clone()));
    Ok(client)
}

#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    base: String,
    app_id: String,
}

/// A failed request, with every cause in its message (reqwest's own text names only the URL),
/// and TLS failures (an untrusted certificate, say) under their own code.
fn network(e: reqwest::Error) -> Error {
    let detail = causes(&e);
    if e.is_timeout() {
        Error::new(ErrorCode::Timeout, format!("request timed out: {detail}"))
    } else if is_tls_failure(&e) {
        Error::new(ErrorCode::Tls, format!("TLS failed: {detail}"))
    } else {
        Error::new(ErrorCode::Network, format!("request failed: {detail}"))
    }
}

fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}

fn is_tls_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(cause) = next {
        // An io::Error's `source()` skips the error it wraps (here an io::Error again around
        // the rustls one), so look inside those too.
        let mut inner: Option<&(dyn std::error::Error + 'static)> = Some(cause);
        while let Some(candidate) = inner {
            if candidate.is::<rustls::Error>() {
                return true;
            }
            inner = candidate
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .map(|wrapped| wrapped as &(dyn std::error::Error + 'static));
        }
        next = cause.source();
    }
    false
}

impl Http {
    pub fn new(
        base: &str,
        app_id: &str,
        tls: Arc<rustls::ClientConfig>,
        timeout: Duration,
    ) -> Result<Http> {
        Ok(Http {
            client: shared_client(&tls, timeout)?,
            base: base.trim_end_matches('/').to_string(),
            app_id: app_id.to_string(),
        })
    }

    async fn answer<T: serde::de::DeserializeOwned>(resp: reqwest::Response) -> Result<T> {
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(network)?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| {
                Error::new(
                    ErrorCode::Protocol,
                    format!("unexpected answer from the server: {e}"),
                )
            });
        }
        match serde_json::from_slice::<ApiError>(&bytes) {
            Ok(api) => Err(Error::from_server(&api)),
            Err(_) => Err(Error::new(
                ErrorCode::ServerRejected,
                format!("server answered HTTP {status}"),
            )),
        }
    }

    pub async fn login(&self, uid: &str, auth_key: &str) -> Result<TokenResponse> {
        let resp = self
            .client
            .post(format!("{}/v1/login", self.base))
            .header(APP_ID_HEADER, &self.app_id)
            .json(&LoginRequest {
                uid: uid.into(),
                auth_key: auth_key.into(),
            })
            .send()
            .await
            .map_err(network)?;
        Self::answer(resp).await
    }

    /// The user a token belongs to (login with a token minted by the app's backend).
    pub async fn me(&self, token: &str) -> Result<User> {
        self.get_as("/v1/me", token).await
    }

    /// The token owner's newest event sequence (where a token login resumes from).
    pub async fn position(&self, token: &str) -> Result<Position> {
        self.get_as("/v1/me/position", token).await
    }

    /// A GET on `path` with the token's credentials, its JSON answer decoded.
    async fn get_as<T: serde::de::DeserializeOwned>(&self, path: &str, token: &str) -> Result<T> {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .header(APP_ID_HEADER, &self.app_id)
            .bearer_auth(token)
            .send()
            .await
            .map_err(network)?;
        Self::answer(resp).await
    }

    /// Creates a user with the development auth key (`POST /v1/users`, `X-Auth-Key`).
    pub async fn create_user(&self, user: &CreateUser, auth_key: &str) -> Result<User> {
        let resp = self
            .client
            .post(format!("{}/v1/users", self.base))
            .header(APP_ID_HEADER, &self.app_id)
            .header("x-auth-key", auth_key)
            .json(user)
            .send()
            .await
            .map_err(network)?;
        Self::answer(resp).await
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        let resp = self
            .client
            .post(format!("{}/v1/logout", self.base))
            .header(APP_ID_HEADER, &self.app_id)
            .bearer_auth(token)
            .send()
            .await
            .map_err(network)?;
        if resp.status().is_success() {
            return Ok(());
        }
        Self::answer::<serde_json::Value>(resp).await.map(|_| ())
    }
}

/// HTTP methods the authenticated REST helpers use.
#[derive(Debug, Clone, Copy)]
pub enum Verb {
    Get,
    Post,
    Put,
    Delete,
}

impl Http {
    /// An authenticated REST call as the logged-in user. `T = ()` accepts an empty answer.
    pub async fn call<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        verb: Verb,
        path: &str,
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
    ) -> Result<T> {
        let url = format!("{}{path}", self.base);
        let mut req = match verb {
            Verb::Get => self.client.get(url),
            Verb::Post => self.client.post(url),
            Verb::Put => self.client.put(url),
            Verb::Delete => self.client.delete(url),
        }
        .header(APP_ID_HEADER, &self.app_id)
        .bearer_auth(token);
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(network)?;
        if resp.status() == reqwest::StatusCode::NO_CONTENT {
            return serde_json::from_value(serde_json::Value::Null).map_err(|e| {
                Error::new(ErrorCode::Protocol, format!("unexpected empty answer: {e}"))
            });
        }
        Self::answer(resp).await
    }
}
