//! Blocking: nothing of a blocked user (messages, typing, calls) reaches the user who blocked
//! them. In a direct conversation either side's send fails with `FORBIDDEN` (the server's
//! `BLOCKED`, named in the message); in groups the blocker simply does not hear the blocked
//! user. Users the logged-in user blocked carry `blocked_by_me` in lists and conversations.

use chinwag_protocol::model::User;
use chinwag_protocol::rest::UserList;
use serde_json::json;

use super::{segment, Delete, Get, Post};
use crate::client::Client;
use crate::completion::Callback;
use crate::error::{Error, Result};

fn check_uid(uid: &str) -> Result<()> {
    chinwag_protocol::limits::check_id("uid", uid).map_err(Error::invalid)
}

impl Client {
    /// Blocks `uid` for the logged-in user; `done` gets the complete blocked list.
    pub fn block_user(&self, uid: &str, done: Option<Callback<Vec<User>>>) -> Result<()> {
        check_uid(uid)?;
        let body = json!({"uids": [uid]});
        self.rest(done, move |http, token| async move {
            let list: UserList = http
                .call(&token, Post, "/v1/me/blocked", &[], Some(body))
                .await?;
            Ok(list.users)
        })
    }

    /// Unblocks `uid` (one who is not blocked: nothing changes).
    pub fn unblock_user(&self, uid: &str, done: Option<Callback<()>>) -> Result<()> {
        check_uid(uid)?;
        let path = format!("/v1/me/blocked/{}", segment(uid));
        self.rest(done, move |http, token| async move {
            http.call(&token, Delete, &path, &[], None).await
        })
    }

    /// The users the logged-in user blocked, complete, in uid order.
    pub fn blocked_users(&self, done: Option<Callback<Vec<User>>>) -> Result<()> {
        self.rest(done, move |http, token| async move {
            let list: UserList = http.call(&token, Get, "/v1/me/blocked", &[], None).await?;
            Ok(list.users)
        })
    }
}
