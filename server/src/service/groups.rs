//! Groups and membership. Every membership change is a durable `group_member` event for all
//! members and for the member it affects.

use crate::store::Db;
use chinwag_protocol::model::{
    AddedMember, Group, GroupAction, GroupMember, GroupMemberEvent, GroupType, Scope,
};
use chinwag_protocol::rest::{CreateGroup, GroupList, ListGroupsQuery, MemberList, MemberToAdd};
use chinwag_protocol::{ApiError, ErrorCode, Event};

use super::group_not_found;
use super::quota;
use super::users::require_user;
use super::{
    check_field, check_id, check_name, check_profile_json, fan_out, invalid, page_limit,
    require_member, App, Deliveries,
};
use crate::hub::Origin;
use crate::store::{self, now_ms};

fn require_group(conn: &Db, guid: &str) -> Result<Group, ApiError> {
    store::groups::get(conn, guid)?
        .ok_or_else(|| ApiError::new(ErrorCode::GroupNotFound, format!("no group {guid:?}")))
}

fn forbidden(msg: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::Forbidden, msg)
}

/// Tells the current members and the affected user about a membership change.
fn announce(
    conn: &Db,
    group: &Group,
    action: GroupAction,
    member: &str,
    by: &str,
    scope: Option<Scope>,
    old_scope: Option<Scope>,
) -> Result<Deliveries, ApiError> {
    let mut recipients = store::groups::member_uids(conn, &group.guid)?;
    if !recipients.iter().any(|u| u == member) {
        recipients.push(member.to_string());
    }
    let event = Event::GroupMember(GroupMemberEvent {
        action,
        guid: group.guid.clone(),
        group_name: group.name.clone(),
        member: member.to_string(),
        by: by.to_string(),
        scope,
        old_scope,
        at: now_ms(),
        added: Vec::new(),
    });
    fan_out(conn, &recipients, &event)
}

/// Members one add request changes per transaction, so a large add lets other requests run
/// between its chunks. Each chunk writes one announcement per member of the group.
pub const MEMBER_CHUNK: usize = 100;

/// Checks that `actor` may add every one of `members` to the group now: admin, room in the
/// group, each user exists, is not banned, not yet a member and below the joined quota.
fn check_addable(
    conn: &Db,
    guid: &str,
    actor: &str,
    members: &[MemberToAdd],
    quotas: (u32, u32),
) -> Result<Group, ApiError> {
    let (max_members, max_joined) = quotas;
    let group = require_group(conn, guid)?;
    if require_member(conn, guid, actor)? < Scope::Admin {
        return Err(forbidden("only admins can add members"));
    }
    quota::check_group_room(conn, guid, members.len(), max_members)?;
    for m in members {
        require_user(conn, &m.uid)?;
        if store::groups::is_banned(conn, guid, &m.uid)? {
            return Err(ApiError::new(
                ErrorCode::Banned,
                format!("{:?} is banned from {guid:?}; unban first", m.uid),
            ));
        }
        if store::groups::scope_of(conn, guid, &m.uid)?.is_some() {
            return Err(ApiError::new(
                ErrorCode::AlreadyMember,
                format!("{:?} is already a member of {guid:?}", m.uid),
            ));
        }
        quota::check_may_join(conn, &m.uid, max_joined)?;
    }
    Ok(group)
}

/// Checks that `actor` may kick, ban or unban `target`: moderators act on participants,
/// admins on anyone below the owner, nobody on the owner.
fn check_moderation(
    conn: &Db,
    group: &Group,
    actor: &str,
    target: &str,
    action: &str,
) -> Result<(), ApiError> {
    let actor_scope = require_member(conn, &group.guid, actor)?;
    if actor_scope < Scope::Moderator {
        return Err(forbidden(format!(
            "only moderators and admins can {action}"
        )));
    }
    if target == group.owner {
        return Err(ApiError::new(
            ErrorCode::OwnerRule,
            format!(
                "the owner cannot be {}",
                match action {
                    "kick" => "kicked",
                    "ban" => "banned",
                    _ => "unbanned",
                }
            ),
        ));
    }
    if target == actor {
        return Err(invalid(format!("you cannot {action} yourself")));
    }
    if let Some(target_scope) = store::groups::scope_of(conn, &group.guid, target)? {
        if target_scope >= actor_scope && actor != group.owner {
            return Err(forbidden(format!(
                "a {} cannot {action} a {}",
                actor_scope.as_str(),
                target_scope.as_str()
            )));
        }
    }
    Ok(())
}

/// Rank for moderation: the owner above admins above moderators above everyone else.
fn rank(conn: &Db, group: &Group, uid: &str) -> Result<u8, ApiError> {
    if uid == group.owner {
        return Ok(3);
    }
    Ok(match store::groups::scope_of(conn, &group.guid, uid)? {
        Some(Scope::Admin) => 2,
        Some(Scope::Moderator) => 1,
        _ => 0,
    })
}

fn rank_name(rank: u8) -> &'static str {
    match rank {
        3 => "the owner",
        2 => "an admin",
        1 => "a moderator",
        _ => "a former moderator",
    }
}

impl App {
    pub async fn create_group(&self, uid: &str, req: CreateGroup) -> Result<Group, ApiError> {
        check_id("guid", &req.guid)?;
        check_name("name", &req.name)?;
        let metadata = req.metadata.unwrap_or_else(|| serde_json::json!({}));
        check_profile_json("metadata", &metadata)?;
        check_field(
            "description",
            req.description.as_deref(),
            chinwag_protocol::limits::MAX_DESCRIPTION_BYTES,
        )?;
        let now = now_ms();
        let group = Group {
            guid: req.guid,
            name: req.name,
            kind: req.kind,
            description: req.description,
            metadata,
            owner: uid.to_string(),
            members_count: 1,
            created_at: now,
            scope: Some(Scope::Admin),
        };
        let g = group.clone();
        let (max_owned, max_joined) = (self.config.max_groups_owned, self.config.max_groups_joined);
        self.commit(Origin::rest(uid), move |c| {
            quota::check_may_own_group(c, &g.owner, max_owned)?;
            quota::check_may_join(c, &g.owner, max_joined)?;
            if !store::groups::insert(c, &g)? {
                return Err(ApiError::new(
                    ErrorCode::GroupExists,
                    format!("group {:?} already exists", g.guid),
                ));
            }
            store::groups::add_member(c, &g.guid, &g.owner, Scope::Admin, now)?;
            Ok(((), Deliveries::default()))
        })
        .await?;
        Ok(group)
    }

    /// A group: public ones for anyone, private ones for members.
    pub async fn get_group(&self, uid: &str, guid: &str) -> Result<Group, ApiError> {
        let (uid, guid) = (uid.to_string(), guid.to_string());
        self.store
            .read(move |c| {
                let mut g = require_group(c, &guid)?;
                g.scope = store::groups::scope_of(c, &guid, &uid)?;
                if g.kind == GroupType::Private && g.scope.is_none() {
                    // The same answer as a group that does not exist.
                    return Err(group_not_found(&guid));
                }
                Ok(g)
            })
            .await
    }

    pub async fn list_groups(&self, uid: &str, q: ListGroupsQuery) -> Result<GroupList, ApiError> {
        let limit = page_limit(q.limit)?;
        let uid = uid.to_string();
        self.store
            .read(move |c| {
                // One group beyond the page tells whether there is a next page.
                let mut groups = store::groups::list(
                    c,
                    &uid,
                    q.joined.unwrap_or(false),
                    q.search.as_deref(),
                    q.after.as_deref(),
                    limit + 1,
                )?;
                let has_more = groups.len() > limit as usize;
                groups.truncate(limit as usize);
                for g in &mut groups {
                    g.scope = store::groups::scope_of(c, &g.guid, &uid)?;
                }
                let next_after = has_more
                    .then(|| groups.last().map(|g| g.guid.clone()))
                    .flatten();
                Ok(GroupList { groups, next_after })
            })
            .await
    }

    pub async fn group_members(&self, uid: &str, guid: &str) -> Result<MemberList, ApiError> {
        self.get_group(uid, guid).await?;
        let view = self.presence_view(Some(uid)).await?;
        let guid = guid.to_string();
        let members = self
            .store
            .read(move |c| {
                let mut out = Vec::new();
                for (m, scope, joined_at) in store::groups::members(c, &guid)? {
                    if let Some(user) = store::users::get(c, &m)? {
                        out.push(GroupMember {
                            user,
                            scope,
                            joined_at,
                        });
                    }
                }
                Ok(out)
            })
            .await?;
        Ok(MemberList {
            members: members
                .into_iter()
                .map(|mut m| {
                    m.user = self.status_for(m.user, &view);
                    m
                })
                .collect(),
        })
    }

    pub async fn join_group(&self, uid: &str, guid: &str) -> Result<Group, ApiError> {
        let (u, g) = (uid.to_string(), guid.to_string());
        let (max_members, max_joined) =
            (self.config.max_group_members, self.config.max_groups_joined);
        self.commit(Origin::rest(uid), move |c| {
            let mut group = require_group(c, &g)?;
            if store::groups::is_banned(c, &g, &u)? {
                return Err(ApiError::new(
                    ErrorCode::Banned,
                    format!("{u:?} is banned from group {g:?}"),
                ));
            }
            if store::groups::scope_of(c, &g, &u)?.is_some() {
                return Err(ApiError::new(
                    ErrorCode::AlreadyMember,
                    format!("{u:?} is already a member of {g:?}"),
                ));
            }
            if group.kind == GroupType::Private {
                // Only members know a private group exists; an admin adds members.
                return Err(group_not_found(&g));
            }
            quota::check_group_room(c, &g, 1, max_members)?;
            quota::check_may_join(c, &u, max_joined)?;
            store::groups::add_member(c, &g, &u, Scope::Participant, now_ms())?;
            group.members_count += 1;
            group.scope = Some(Scope::Participant);
            let d = announce(
                c,
                &group,
                GroupAction::Joined,
                &u,
                &u,
                Some(Scope::Participant),
                None,
            )?;
            Ok((group, d))
        })
        .await
        .map(|(g, _)| g)
    }

    pub async fn leave_group(&self, uid: &str, guid: &str) -> Result<(), ApiError> {
        let (u, g) = (uid.to_string(), guid.to_string());
        self.commit(Origin::rest(uid), move |c| {
            let group = require_group(c, &g)?;
            require_member(c, &g, &u)?;
            if group.owner == u {
                return Err(ApiError::new(
                    ErrorCode::OwnerRule,
                    "the owner cannot leave the group",
                ));
            }
            store::groups::remove_member(c, &g, &u)?;
            Ok((
                (),
                announce(c, &group, GroupAction::Left, &u, &u, None, None)?,
            ))
        })
        .await
        .map(|_| ())
    }

    /// Admins add users (as participants unless a scope is given). The whole request is
    /// checked first; it is then applied in chunks of [`MEMBER_CHUNK`], each one transaction
    /// with one `added` announcement for the whole chunk, so the work is linear in the group's
    /// size and other requests run between chunks.
    pub async fn add_members(
        &self,
        uid: &str,
        guid: &str,
        members: Vec<MemberToAdd>,
    ) -> Result<MemberList, ApiError> {
        if members.is_empty() {
            return Err(invalid("members must not be empty"));
        }
        let mut seen = std::collections::HashSet::new();
        for m in &members {
            check_id("uid", &m.uid)?;
            if !seen.insert(m.uid.as_str()) {
                return Err(ApiError::new(
                    ErrorCode::AlreadyMember,
                    format!("{:?} is listed twice", m.uid),
                ));
            }
        }
        let quotas = (self.config.max_group_members, self.config.max_groups_joined);
        let members = std::sync::Arc::new(members);
        {
            let (u, g, ms) = (uid.to_string(), guid.to_string(), members.clone());
            self.store
                .read(move |c| check_addable(c, &g, &u, &ms, quotas).map(|_| ()))
                .await?;
        }
        for start in (0..members.len()).step_by(MEMBER_CHUNK) {
            let (u, g, ms) = (uid.to_string(), guid.to_string(), members.clone());
            self.commit(Origin::rest(uid), move |c| {
                let chunk = &ms[start..(start + MEMBER_CHUNK).min(ms.len())];
                // Checked again: the group may have changed since the check or the last chunk.
                let group = check_addable(c, &g, &u, chunk, quotas)?;
                let now = now_ms();
                let mut added = Vec::with_capacity(chunk.len());
                for m in chunk {
                    let scope = m.scope.unwrap_or(Scope::Participant);
                    store::groups::add_member(c, &g, &m.uid, scope, now)?;
                    added.push(AddedMember {
                        uid: m.uid.clone(),
                        scope,
                    });
                }
                let first = added[0].clone();
                let recipients = store::groups::member_uids(c, &g)?;
                let event = Event::GroupMember(GroupMemberEvent {
                    action: GroupAction::Added,
                    guid: group.guid.clone(),
                    group_name: group.name.clone(),
                    member: first.uid,
                    by: u.clone(),
                    scope: Some(first.scope),
                    old_scope: None,
                    at: now,
                    // A single add keeps the plain one-member shape.
                    added: if added.len() > 1 { added } else { Vec::new() },
                });
                Ok(((), fan_out(c, &recipients, &event)?))
            })
            .await?;
        }
        self.group_members(uid, guid).await
    }

    pub async fn kick_member(&self, uid: &str, guid: &str, target: &str) -> Result<(), ApiError> {
        self.moderate(uid, guid, target, GroupAction::Kicked).await
    }

    pub async fn ban_member(&self, uid: &str, guid: &str, target: &str) -> Result<(), ApiError> {
        self.moderate(uid, guid, target, GroupAction::Banned).await
    }

    pub async fn unban_member(&self, uid: &str, guid: &str, target: &str) -> Result<(), ApiError> {
        self.moderate(uid, guid, target, GroupAction::Unbanned)
            .await
    }

    async fn moderate(
        &self,
        uid: &str,
        guid: &str,
        target: &str,
        action: GroupAction,
    ) -> Result<(), ApiError> {
        check_id("uid", target)?;
        let (u, g, t) = (uid.to_string(), guid.to_string(), target.to_string());
        self.commit(Origin::rest(uid), move |c| {
            let group = require_group(c, &g)?;
            require_user(c, &t)?;
            let verb = match action {
                GroupAction::Kicked => "kick",
                GroupAction::Banned => "ban",
                _ => "unban",
            };
            check_moderation(c, &group, &u, &t, verb)?;
            match action {
                GroupAction::Kicked => {
                    if store::groups::scope_of(c, &g, &t)?.is_none() {
                        return Err(ApiError::new(
                            ErrorCode::NotAMember,
                            format!("{t:?} is not a member of {g:?}"),
                        ));
                    }
                    store::groups::remove_member(c, &g, &t)?;
                }
                GroupAction::Banned => {
                    store::groups::remove_member(c, &g, &t)?;
                    store::groups::ban(c, &g, &t, &u, now_ms())?;
                }
                _ => {
                    let Some(banner) = store::groups::banned_by(c, &g, &t)? else {
                        return Err(invalid(format!("{t:?} is not banned from {g:?}")));
                    };
                    // A ban holds against anyone of lower rank than the one who made it (rank
                    // as of now): a moderator cannot lift an admin's or the owner's ban.
                    let (mine, theirs) = (rank(c, &group, &u)?, rank(c, &group, &banner)?);
                    if mine < theirs {
                        return Err(forbidden(format!(
                            "{t:?} was banned by {}; only someone of that rank or higher can unban",
                            rank_name(theirs)
                        )));
                    }
                    store::groups::unban(c, &g, &t)?;
                }
            }
            Ok(((), announce(c, &group, action, &t, &u, None, None)?))
        })
        .await
        .map(|_| ())
    }

    /// Admins change a member's scope; the owner's is fixed.
    pub async fn change_scope(
        &self,
        uid: &str,
        guid: &str,
        target: &str,
        scope: Scope,
    ) -> Result<GroupMember, ApiError> {
        check_id("uid", target)?;
        let (u, g, t) = (uid.to_string(), guid.to_string(), target.to_string());
        let (member, _) = self
            .commit(Origin::rest(uid), move |c| {
                let group = require_group(c, &g)?;
                if require_member(c, &g, &u)? < Scope::Admin {
                    return Err(forbidden("only admins can change scopes"));
                }
                if t == group.owner {
                    return Err(ApiError::new(
                        ErrorCode::OwnerRule,
                        "the owner's scope cannot change",
                    ));
                }
                let old = store::groups::scope_of(c, &g, &t)?.ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::NotAMember,
                        format!("{t:?} is not a member of {g:?}"),
                    )
                })?;
                store::groups::set_scope(c, &g, &t, scope)?;
                let user = require_user(c, &t)?;
                let joined_at = store::groups::members(c, &g)?
                    .into_iter()
                    .find(|(m, _, _)| *m == t)
                    .map(|(_, _, j)| j)
                    .unwrap_or(0);
                let d = announce(
                    c,
                    &group,
                    GroupAction::ScopeChanged,
                    &t,
                    &u,
                    Some(scope),
                    Some(old),
                )?;
                Ok((
                    GroupMember {
                        user,
                        scope,
                        joined_at,
                    },
                    d,
                ))
            })
            .await?;
        let view = self.presence_view(Some(uid)).await?;
        Ok(GroupMember {
            user: self.status_for(member.user, &view),
            ..member
        })
    }
}
