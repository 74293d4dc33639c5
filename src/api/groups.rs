//! Group operations (docs/behaviour.md, section 6): create, get, join, leave, members, add,
//! kick, ban, unban, change scope. Membership changes reach every member's group listener.

use chinwag_protocol::model::{Group, GroupMember, GroupType, Scope};
use chinwag_protocol::rest::{GroupList, MemberList};
use serde_json::json;

use super::{segment, Get, Post, Put};
use crate::client::Client;
use crate::completion::Callback;
use crate::error::{Error, Result};

fn check_guid(guid: &str) -> Result<()> {
    chinwag_protocol::limits::check_id("guid", guid).map_err(Error::invalid)
}

fn check_uid(uid: &str) -> Result<()> {
    chinwag_protocol::limits::check_id("uid", uid).map_err(Error::invalid)
}

impl Client {
    /// Creates a group owned by the logged-in user (who becomes its admin).
    pub fn create_group(
        &self,
        guid: &str,
        name: &str,
        kind: GroupType,
        done: Option<Callback<Group>>,
    ) -> Result<()> {
        check_guid(guid)?;
        if name.trim().is_empty() {
            return Err(Error::invalid("group name must not be empty"));
        }
        let body = json!({"guid": guid, "name": name, "type": kind});
        self.rest(done, move |http, token| async move {
            http.call(&token, Post, "/v1/groups", &[], Some(body)).await
        })
    }

    pub fn get_group(&self, guid: &str, done: Option<Callback<Group>>) -> Result<()> {
        check_guid(guid)?;
        let path = format!("/v1/groups/{}", segment(guid));
        self.rest(done, move |http, token| async move {
            http.call(&token, Get, &path, &[], None).await
        })
    }

    pub fn join_group(&self, guid: &str, done: Option<Callback<Group>>) -> Result<()> {
        check_guid(guid)?;
        let path = format!("/v1/groups/{}/join", segment(guid));
        self.rest(done, move |http, token| async move {
            http.call(&token, Post, &path, &[], None).await
        })
    }

    pub fn leave_group(&self, guid: &str, done: Option<Callback<()>>) -> Result<()> {
        check_guid(guid)?;
        let path = format!("/v1/groups/{}/leave", segment(guid));
        self.rest(done, move |http, token| async move {
            http.call(&token, Post, &path, &[], None).await
        })
    }

    /// Groups the user joined (`joined`) or public groups, one page after `after`.
    pub fn list_groups(
        &self,
        joined: bool,
        after: Option<&str>,
        limit: u32,
        done: Option<Callback<GroupList>>,
    ) -> Result<()> {
        let mut query = vec![("joined", joined.to_string()), ("limit", limit.to_string())];
        if let Some(a) = after {
            query.push(("after", a.to_string()));
        }
        self.rest(done, move |http, token| async move {
            let q: Vec<(&str, String)> = query.iter().map(|(k, v)| (*k, v.clone())).collect();
            http.call(&token, Get, "/v1/groups", &q, None).await
        })
    }

    pub fn group_members(
        &self,
        guid: &str,
        done: Option<Callback<Vec<GroupMember>>>,
    ) -> Result<()> {
        check_guid(guid)?;
        let path = format!("/v1/groups/{}/members", segment(guid));
        self.rest(done, move |http, token| async move {
            let list: MemberList = http.call(&token, Get, &path, &[], None).await?;
            Ok(list.members)
        })
    }

    /// Adds users (admins only), each with a scope (participant unless given); `done` gets the
    /// group's members after the change. Atomic: if one cannot be added, nobody is.
    pub fn add_members(
        &self,
        guid: &str,
        members: &[(&str, Option<Scope>)],
        done: Option<Callback<Vec<GroupMember>>>,
    ) -> Result<()> {
        check_guid(guid)?;
        if members.is_empty() {
            return Err(Error::invalid("members must not be empty"));
        }
        for (uid, _) in members {
            check_uid(uid)?;
        }
        let list: Vec<_> = members
            .iter()
            .map(|(uid, scope)| json!({"uid": uid, "scope": scope}))
            .collect();
        let path = format!("/v1/groups/{}/members", segment(guid));
        self.rest(done, move |http, token| async move {
            let list: MemberList = http
                .call(&token, Post, &path, &[], Some(json!({"members": list})))
                .await?;
            Ok(list.members)
        })
    }

    fn moderate(
        &self,
        guid: &str,
        uid: &str,
        action: &'static str,
        done: Option<Callback<()>>,
    ) -> Result<()> {
        check_guid(guid)?;
        check_uid(uid)?;
        let path = format!("/v1/groups/{}/{action}", segment(guid));
        let body = json!({"uid": uid});
        self.rest(done, move |http, token| async move {
            http.call(&token, Post, &path, &[], Some(body)).await
        })
    }

    pub fn kick_member(&self, guid: &str, uid: &str, done: Option<Callback<()>>) -> Result<()> {
        self.moderate(guid, uid, "kick", done)
    }

    pub fn ban_member(&self, guid: &str, uid: &str, done: Option<Callback<()>>) -> Result<()> {
        self.moderate(guid, uid, "ban", done)
    }

    pub fn unban_member(&self, guid: &str, uid: &str, done: Option<Callback<()>>) -> Result<()> {
        self.moderate(guid, uid, "unban", done)
    }

    pub fn change_scope(
        &self,
        guid: &str,
        uid: &str,
        scope: Scope,
        done: Option<Callback<GroupMember>>,
    ) -> Result<()> {
        check_guid(guid)?;
        check_uid(uid)?;
        let path = format!(
            "/v1/groups/{}/members/{}/scope",
            segment(guid),
            segment(uid)
        );
        let body = json!({"scope": scope});
        self.rest(done, move |http, token| async move {
            http.call(&token, Put, &path, &[], Some(body)).await
        })
    }
}
