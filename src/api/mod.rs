//! The chat surface beyond the connection: groups, history and user lists, friends. Each call
//! runs on the SDK runtime as the logged-in user and completes exactly once on the dispatcher
//! thread.

pub mod blocks;
pub mod calls;
pub mod conversations;
pub mod groups;
pub mod messages;
pub mod requests;
pub mod users;

use std::future::Future;

use crate::client::Client;
use crate::completion::{Callback, Completer};
use crate::error::{Error, ErrorCode, Result};
use crate::http::{Http, Verb};

impl Client {
    /// Runs `call` with the session's token; `done` gets its result.
    pub(crate) fn rest<T, F, Fut>(&self, done: Option<Callback<T>>, call: F) -> Result<()>
    where
        T: Send + 'static,
        F: FnOnce(Http, String) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let session = self
            .inner()
            .session()
            .ok_or_else(|| Error::new(ErrorCode::NotLoggedIn, "log in first"))?;
        let runtime = crate::runtime::get()?;
        let dispatch = self.inner().dispatch.clone();
        let done = Completer::optional(dispatch, done);
        let http = self.inner().http.clone();
        runtime.spawn(async move {
            done.complete(call(http, session.token).await);
        });
        Ok(())
    }
}

impl Client {
    /// A socket request of the chat surface (calls, edits, deletes): `NOT_LOGGED_IN` without a
    /// session (as the REST operations and sends say), else as [`Client::request`]
    /// (`NOT_CONNECTED` unless CONNECTED).
    pub(crate) fn socket_request<T: Send + 'static>(
        &self,
        frame: chinwag_protocol::ClientFrame,
        done: Option<Callback<T>>,
        map: impl FnOnce(chinwag_protocol::Event) -> Result<T> + Send + 'static,
    ) -> Result<()> {
        self.require_session()?;
        self.request(frame, done, map)
    }

    /// `NOT_LOGGED_IN` unless a user is logged in.
    pub(crate) fn require_session(&self) -> Result<()> {
        match self.inner().session() {
            Some(_) => Ok(()),
            None => Err(Error::new(ErrorCode::NotLoggedIn, "log in first")),
        }
    }
}

/// Percent-encodes a path segment (ids are validated, but stay safe).
pub(crate) fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) use Verb::{Delete, Get, Post, Put};
