//! Read-only payloads of the chat surface beyond single events: groups, members, and pages or
//! lists of messages, users, groups and members. The rules of `types` hold: borrowed for the
//! callback, NUL-terminated UTF-8, nullable only where documented, a `json` field with the
//! whole object. Arrays are `items[0..len]`, NULL when `len` is 0.

use std::ffi::c_char;

use chinwag_protocol::model::{Group, GroupMember, GroupType, Message, User};
use chinwag_protocol::rest::GroupList;
use serde_json::json;

use crate::api::requests::Page;
use crate::ffi::types::{
    build, chinwag_message, chinwag_user, fill_message, fill_user, Payload, Strings,
};

/// Who may join a group. `CHINWAG_GROUP_TYPE_*`.
pub type chinwag_group_type = u32;
/// Anyone may join.
pub const CHINWAG_GROUP_TYPE_PUBLIC: chinwag_group_type = 0;
/// Members are added by an admin.
pub const CHINWAG_GROUP_TYPE_PRIVATE: chinwag_group_type = 1;

/// A member's rights in a group. `CHINWAG_SCOPE_*`.
pub type chinwag_scope = u32;
/// Reads and posts.
pub const CHINWAG_SCOPE_PARTICIPANT: chinwag_scope = 0;
/// Also kicks, bans and deletes others' messages.
pub const CHINWAG_SCOPE_MODERATOR: chinwag_scope = 1;
/// Also adds members and changes scopes.
pub const CHINWAG_SCOPE_ADMIN: chinwag_scope = 2;

/// A group.
#[repr(C)]
pub struct chinwag_group {
    pub guid: *const c_char,
    pub name: *const c_char,
    /// `CHINWAG_GROUP_TYPE_*`.
    pub group_type: chinwag_group_type,
    /// Nullable.
    pub description: *const c_char,
    /// The owner's uid.
    pub owner: *const c_char,
    pub members_count: u64,
    pub created_at: i64,
    /// The logged-in user's scope (`"participant"`, `"moderator"`, `"admin"`); NULL when not a
    /// member.
    pub scope: *const c_char,
    /// The group's metadata as JSON (`{}` when none).
    pub metadata_json: *const c_char,
    pub json: *const c_char,
}

/// A member of a group.
#[repr(C)]
pub struct chinwag_group_member {
    pub user: chinwag_user,
    /// `"participant"`, `"moderator"` or `"admin"`.
    pub scope: *const c_char,
    pub joined_at: i64,
    pub json: *const c_char,
}

/// A page of a conversation's history, oldest first.
#[repr(C)]
pub struct chinwag_message_page {
    pub items: *const chinwag_message,
    pub len: usize,
    /// More messages lie beyond this page in the direction fetched.
    pub has_more: bool,
    /// `{"messages":[..],"has_more":..}`.
    pub json: *const c_char,
}

/// A page (or complete list) of users.
#[repr(C)]
pub struct chinwag_user_page {
    pub items: *const chinwag_user,
    pub len: usize,
    /// More users can be fetched with the same request (false for complete lists).
    pub has_more: bool,
    /// `{"users":[..],"has_more":..}`.
    pub json: *const c_char,
}

/// A page of groups.
#[repr(C)]
pub struct chinwag_group_page {
    pub items: *const chinwag_group,
    pub len: usize,
    /// Pass as `after` to fetch the next page; NULL on the last page.
    pub next_after: *const c_char,
    /// `{"groups":[..],"next_after":..}`.
    pub json: *const c_char,
}

/// The members of a group.
#[repr(C)]
pub struct chinwag_member_list {
    pub items: *const chinwag_group_member,
    pub len: usize,
    /// `{"members":[..]}`.
    pub json: *const c_char,
}

pub(crate) fn group_type(t: GroupType) -> chinwag_group_type {
    match t {
        GroupType::Public => CHINWAG_GROUP_TYPE_PUBLIC,
        GroupType::Private => CHINWAG_GROUP_TYPE_PRIVATE,
    }
}

pub(crate) fn fill_group(s: &mut Strings, g: &Group) -> chinwag_group {
    chinwag_group {
        guid: s.add(&g.guid),
        name: s.add(&g.name),
        group_type: group_type(g.kind),
        description: s.opt(g.description.as_deref()),
        owner: s.add(&g.owner),
        members_count: g.members_count,
        created_at: g.created_at,
        scope: s.opt(g.scope.map(|x| x.as_str())),
        metadata_json: s.json(&g.metadata),
        json: s.json(g),
    }
}

pub(crate) fn group(g: &Group) -> Payload<chinwag_group> {
    build(|s| fill_group(s, g))
}

pub(crate) fn fill_group_member(s: &mut Strings, m: &GroupMember) -> chinwag_group_member {
    chinwag_group_member {
        user: fill_user(s, &m.user),
        scope: s.add(m.scope.as_str()),
        joined_at: m.joined_at,
        json: s.json(m),
    }
}

pub(crate) fn group_member(m: &GroupMember) -> Payload<chinwag_group_member> {
    build(|s| fill_group_member(s, m))
}

pub(crate) fn message_page(p: &Page<Message>) -> Payload<chinwag_message_page> {
    build(|s| {
        let items = p.items.iter().map(|m| fill_message(s, m)).collect();
        let (items, len) = s.array(items);
        chinwag_message_page {
            items,
            len,
            has_more: p.has_more,
            json: s.json(&json!({"messages": p.items, "has_more": p.has_more})),
        }
    })
}

pub(crate) fn user_page(p: &Page<User>) -> Payload<chinwag_user_page> {
    build(|s| {
        let items = p.items.iter().map(|u| fill_user(s, u)).collect();
        let (items, len) = s.array(items);
        chinwag_user_page {
            items,
            len,
            has_more: p.has_more,
            json: s.json(&json!({"users": p.items, "has_more": p.has_more})),
        }
    })
}

/// A complete list of users as a last page.
#[allow(clippy::ptr_arg)] // the shape completions take: `fn(&T)` with `T = Vec<User>`
pub(crate) fn user_list(users: &Vec<User>) -> Payload<chinwag_user_page> {
    user_page(&Page {
        items: users.clone(),
        has_more: false,
    })
}

pub(crate) fn group_page(l: &GroupList) -> Payload<chinwag_group_page> {
    build(|s| {
        let items = l.groups.iter().map(|g| fill_group(s, g)).collect();
        let (items, len) = s.array(items);
        chinwag_group_page {
            items,
            len,
            next_after: s.opt(l.next_after.as_deref()),
            json: s.json(l),
        }
    })
}

#[allow(clippy::ptr_arg)] // as `user_list`
pub(crate) fn member_list(members: &Vec<GroupMember>) -> Payload<chinwag_member_list> {
    build(|s| {
        let items = members.iter().map(|m| fill_group_member(s, m)).collect();
        let (items, len) = s.array(items);
        chinwag_member_list {
            items,
            len,
            json: s.json(&json!({ "members": members })),
        }
    })
}
