//! Users and friends (friends drive the `friends` presence subscription).

use chinwag_protocol::model::User;
use chinwag_protocol::rest::UserList;
use serde_json::json;

use super::{segment, Delete, Get, Post};
use crate::client::Client;
use crate::completion::Callback;
use crate::error::{Error, Result};

impl Client {
    pub fn get_user(&self, uid: &str, done: Option<Callback<User>>) -> Result<()> {
        chinwag_protocol::limits::check_id("uid", uid).map_err(Error::invalid)?;
        let path = format!("/v1/users/{}", segment(uid));
        self.rest(done, move |http, token| async move {
            http.call(&token, Get, &path, &[], None).await
        })
    }

    /// Makes the logged-in user and `uid` friends (mutual).
    pub fn add_friend(&self, uid: &str, done: Option<Callback<Vec<User>>>) -> Result<()> {
        chinwag_protocol::limits::check_id("uid", uid).map_err(Error::invalid)?;
        let me = self
            .logged_in_user()
            .ok_or_else(|| Error::new(crate::ErrorCode::NotLoggedIn, "log in first"))?;
        let path = format!("/v1/users/{}/friends", segment(&me.uid));
        let body = json!({"uids": [uid]});
        self.rest(done, move |http, token| async move {
            let list: UserList = http.call(&token, Post, &path, &[], Some(body)).await?;
            Ok(list.users)
        })
    }

    pub fn remove_friend(&self, uid: &str, done: Option<Callback<()>>) -> Result<()> {
        chinwag_protocol::limits::check_id("uid", uid).map_err(Error::invalid)?;
        let me = self
            .logged_in_user()
            .ok_or_else(|| Error::new(crate::ErrorCode::NotLoggedIn, "log in first"))?;
        let path = format!("/v1/users/{}/friends/{}", segment(&me.uid), segment(uid));
        self.rest(done, move |http, token| async move {
            http.call(&token, Delete, &path, &[], None).await
        })
    }

    pub fn friends(&self, done: Option<Callback<Vec<User>>>) -> Result<()> {
        let me = self
            .logged_in_user()
            .ok_or_else(|| Error::new(crate::ErrorCode::NotLoggedIn, "log in first"))?;
        let path = format!("/v1/users/{}/friends", segment(&me.uid));
        self.rest(done, move |http, token| async move {
            let list: UserList = http.call(&token, Get, &path, &[], None).await?;
            Ok(list.users)
        })
    }
}
