//! Users and friends (friends drive the `friends` presence subscription).

use chinwag_protocol::model::User;
use chinwag_protocol::rest::{CreateUser, UserList};
use serde_json::json;

use super::{segment, Delete, Get, Post};
use crate::client::Client;
use crate::completion::{Callback, Completer};
use crate::error::{Error, Result};

impl Client {
    /// Creates a user with the server's development auth key (as `login` takes it), for demos
    /// and development; production apps create users from their backend with the API key.
    /// Needs no logged-in user. `done` gets the stored user, or `USER_EXISTS` (the uid is
    /// taken), `AUTH_FAILED` (wrong key), `INVALID_ARGUMENT` (the server refused a field),
    /// `NETWORK`, `TIMEOUT`, `CANCELLED`. A malformed uid or an empty name or key fails at once
    /// with `INVALID_ARGUMENT`.
    pub fn create_user(
        &self,
        user: CreateUser,
        auth_key: &str,
        done: Option<Callback<User>>,
    ) -> Result<()> {
        chinwag_protocol::limits::check_id("uid", &user.uid).map_err(Error::invalid)?;
        if user.name.trim().is_empty() {
            return Err(Error::invalid("name must not be empty"));
        }
        if auth_key.is_empty() {
            return Err(Error::invalid("auth key must not be empty"));
        }
        let runtime = crate::runtime::get()?;
        let http = self.inner().http.clone();
        let done = Completer::optional(self.inner().dispatch.clone(), done);
        let key = auth_key.to_string();
        runtime.spawn(async move {
            done.complete(http.create_user(&user, &key).await);
        });
        Ok(())
    }

    pub fn get_user(&self, uid: &str, done: Option<Callback<User>>) -> Result<()> {
        chinwag_protocol::limits::check_id("uid", uid).map_err(Error::invalid)?;
        let path = format!("/v1/users/{}", segment(uid));
        self.rest(done, move |http, token| async move {
            http.call(&token, Get, &path, &[], None).await
        })
    }

    /// Asks `uid` to be the logged-in user's friend; if `uid` already asked, this accepts and
    /// they are friends (a friendship is mutual: it exists once both have asked). `done` gets
    /// the user's friends.
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
