//! Group operations (docs/behaviour.md, section 6): create, get, join, leave, list, members,
//! add, kick, ban, unban, change scope. Membership changes reach every member's group listener.
//!
//! Every function returns at once. Synchronous errors: `NULL_ARGUMENT`, `INVALID_UTF8`,
//! `INVALID_ARGUMENT` (empty or malformed ids, bad enum values; the message names the
//! argument), `NOT_LOGGED_IN`, `CLIENT_FREED`. When it returns `CHINWAG_RESULT_OK`, the optional
//! completion `done` is called exactly once with `user_data`: with the result, or an error such
//! as `FORBIDDEN` (not allowed for the user's scope), `NOT_FOUND`, `NETWORK`, `TIMEOUT`,
//! `CANCELLED`. Thread-safe; callable from any callback.

use std::ffi::{c_char, c_void};

use chinwag_protocol::model::{GroupType, Scope};

use crate::error::{Error, Result};
use crate::ffi::completions::{
    chinwag_done_cb, chinwag_group_done_cb, chinwag_group_page_done_cb, chinwag_member_done_cb,
    chinwag_member_list_done_cb, completion, done_completion,
};
use crate::ffi::errors::chinwag_result;
use crate::ffi::handles::chinwag_client;
use crate::ffi::payloads::{self, chinwag_group_type, chinwag_scope};

fn group_type(t: chinwag_group_type) -> Result<GroupType> {
    match t {
        payloads::CHINWAG_GROUP_TYPE_PUBLIC => Ok(GroupType::Public),
        payloads::CHINWAG_GROUP_TYPE_PRIVATE => Ok(GroupType::Private),
        other => Err(Error::invalid(format!(
            "group_type {other} is not a CHINWAG_GROUP_TYPE_*"
        ))),
    }
}

fn scope(s: chinwag_scope) -> Result<Scope> {
    match s {
        payloads::CHINWAG_SCOPE_PARTICIPANT => Ok(Scope::Participant),
        payloads::CHINWAG_SCOPE_MODERATOR => Ok(Scope::Moderator),
        payloads::CHINWAG_SCOPE_ADMIN => Ok(Scope::Admin),
        other => Err(Error::invalid(format!(
            "scope {other} is not a CHINWAG_SCOPE_*"
        ))),
    }
}

/// Creates group `guid` named `name` (both non-empty; `guid` of ASCII letters, digits, `-_.@`)
/// owned by the logged-in user, who becomes its admin. `done` gets the new group;
/// `SERVER_REJECTED` (the message names `GROUP_EXISTS`) if the guid is taken. See the module
/// rules for errors.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_create_group(
    client: *const chinwag_client,
    guid: *const c_char,
    name: *const c_char,
    group_type: chinwag_group_type,
    done: chinwag_group_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let guid = try_str!(guid);
        let name = try_str!(name);
        let kind = self::group_type(group_type)?;
        client.create_group(guid, name, kind, completion(done, user_data, payloads::group))
    })
}

/// Fetches group `guid` (its `scope` says the logged-in user's rights). `done` gets the group;
/// `NOT_FOUND`, or `FORBIDDEN` for a private group the user is not in.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_get_group(
    client: *const chinwag_client,
    guid: *const c_char,
    done: chinwag_group_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let guid = try_str!(guid);
        client.get_group(guid, completion(done, user_data, payloads::group))
    })
}

/// Joins public group `guid`; members hear `on_member_joined`. `done` gets the group;
/// `FORBIDDEN` for private groups and banned users.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_join_group(
    client: *const chinwag_client,
    guid: *const c_char,
    done: chinwag_group_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let guid = try_str!(guid);
        client.join_group(guid, completion(done, user_data, payloads::group))
    })
}

/// Leaves group `guid`; the remaining members hear `on_member_left`. `FORBIDDEN` for the
/// owner and non-members.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_leave_group(
    client: *const chinwag_client,
    guid: *const c_char,
    done: chinwag_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let guid = try_str!(guid);
        client.leave_group(guid, done_completion(done, user_data))
    })
}

/// Lists groups: the user's own (`joined` true) or the public ones, one page of `limit` (1-100;
/// 0 means 30) after cursor `after` (nullable: from the start; else the previous page's
/// `next_after`). `done` gets the page.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_list_groups(
    client: *const chinwag_client,
    joined: bool,
    after: *const c_char,
    limit: u32,
    done: chinwag_group_page_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let after = try_opt_str!(after);
        let limit = page_limit(limit)?;
        client.list_groups(joined, after, limit, completion(done, user_data, payloads::group_page))
    })
}

/// The page limit of list calls: 1-100, 0 for the default of 30.
pub(crate) fn page_limit(limit: u32) -> Result<u32> {
    match limit {
        0 => Ok(chinwag_protocol::limits::DEFAULT_PAGE_LIMIT),
        n => chinwag_protocol::limits::check_page_limit(n)
            .map_err(|e| Error::invalid(format!("{e} (0 for the default)"))),
    }
}

/// The members of group `guid`. `done` gets the list; `FORBIDDEN` for a private group the user
/// is not in.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_group_members(
    client: *const chinwag_client,
    guid: *const c_char,
    done: chinwag_member_list_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let guid = try_str!(guid);
        client.group_members(guid, completion(done, user_data, payloads::member_list))
    })
}

/// Adds `count` users to group `guid` (admins only): `uids[i]` with scope `scopes[i]`, or as
/// participants when `scopes` is NULL. Both arrays are borrowed for the call. Members and the
/// added users hear `on_member_added`. `done` gets the group's members after the change. The
/// request is atomic: if one user cannot be added (unknown, banned, already a member), nobody
/// is. `INVALID_ARGUMENT` when `count` is 0.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_add_group_members(
    client: *const chinwag_client,
    guid: *const c_char,
    uids: *const *const c_char,
    scopes: *const chinwag_scope,
    count: usize,
    done: chinwag_member_list_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let guid = try_str!(guid);
        if count == 0 {
            return Err(Error::invalid("count must be at least 1"));
        }
        if uids.is_null() {
            return Err(crate::ffi::macros::null_argument("uids"));
        }
        // SAFETY: a non-NULL `uids` holds `count` readable pointers for the call (contract).
        let uid_ptrs = unsafe { std::slice::from_raw_parts(uids, count) };
        let scope_values: Option<&[chinwag_scope]> = if scopes.is_null() {
            None
        } else {
            // SAFETY: a non-NULL `scopes` holds `count` readable values for the call (contract).
            Some(unsafe { std::slice::from_raw_parts(scopes, count) })
        };
        let mut members = Vec::with_capacity(count);
        for (i, uid) in uid_ptrs.iter().copied().enumerate() {
            let uid = try_str!(uid);
            let scope = match scope_values {
                Some(values) => Some(self::scope(values[i])?),
                None => None,
            };
            members.push((uid, scope));
        }
        client.add_members(guid, &members, completion(done, user_data, payloads::member_list))
    })
}

/// Kicks `uid` out of group `guid` (moderators and admins; they may rejoin a public group).
/// Members and `uid` hear `on_member_kicked`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_kick_group_member(
    client: *const chinwag_client,
    guid: *const c_char,
    uid: *const c_char,
    done: chinwag_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let guid = try_str!(guid);
        let uid = try_str!(uid);
        client.kick_member(guid, uid, done_completion(done, user_data))
    })
}

/// Bans `uid` from group `guid` (moderators and admins): removed and unable to rejoin until
/// unbanned. Members and `uid` hear `on_member_banned`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_ban_group_member(
    client: *const chinwag_client,
    guid: *const c_char,
    uid: *const c_char,
    done: chinwag_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let guid = try_str!(guid);
        let uid = try_str!(uid);
        client.ban_member(guid, uid, done_completion(done, user_data))
    })
}

/// Lifts the ban of `uid` in group `guid` (moderators and admins); members hear
/// `on_member_unbanned`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_unban_group_member(
    client: *const chinwag_client,
    guid: *const c_char,
    uid: *const c_char,
    done: chinwag_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let guid = try_str!(guid);
        let uid = try_str!(uid);
        client.unban_member(guid, uid, done_completion(done, user_data))
    })
}

/// Changes the scope of member `uid` of group `guid` (admins only); members hear
/// `on_member_scope_changed`. `done` gets the member with the new scope.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_change_group_member_scope(
    client: *const chinwag_client,
    guid: *const c_char,
    uid: *const c_char,
    scope: chinwag_scope,
    done: chinwag_member_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let guid = try_str!(guid);
        let uid = try_str!(uid);
        let scope = self::scope(scope)?;
        client.change_scope(guid, uid, scope, completion(done, user_data, payloads::group_member))
    })
}
