//! Conversations (the first screen of a chat app): payloads, completions and the operations
//! beyond the paged request (which lives with the other requests in `requests`). Marking read
//! or delivered is `chinwag_client_mark_read` / `_mark_delivered`; the user's devices then hear
//! `on_conversation_updated` of the message listener.

use std::ffi::{c_char, c_void};

use chinwag_protocol::conversations::{Conversation, UnreadCounts};
use chinwag_protocol::model::ReceiverType;
use serde_json::json;

use crate::api::requests::Page;
use crate::ffi::completions::{chinwag_done_cb, completion, done_completion, receiver_type};
use crate::ffi::errors::chinwag_result;
use crate::ffi::handles::chinwag_client;
use crate::ffi::payloads::{chinwag_group, fill_group};
use crate::ffi::types::{
    self, build, chinwag_error, chinwag_message, chinwag_receiver_type, chinwag_user, fill_message,
    fill_user, Payload, Strings,
};

/// Which conversations a request lists. `CHINWAG_CONVERSATION_FILTER_*`.
pub type chinwag_conversation_filter = u32;
/// One-to-one and group conversations.
pub const CHINWAG_CONVERSATION_FILTER_ALL: chinwag_conversation_filter = 0;
/// Only one-to-one conversations.
pub const CHINWAG_CONVERSATION_FILTER_USER: chinwag_conversation_filter = 1;
/// Only group conversations.
pub const CHINWAG_CONVERSATION_FILTER_GROUP: chinwag_conversation_filter = 2;

/// One conversation as the logged-in user sees it.
#[repr(C)]
pub struct chinwag_conversation {
    /// `user:A:B` or `group:GUID`, as on its messages.
    pub conversation_id: *const c_char,
    /// `CHINWAG_RECEIVER_TYPE_*`.
    pub conversation_type: chinwag_receiver_type,
    /// The other user's uid, or the guid.
    pub with_id: *const c_char,
    /// The other user (one-to-one); NULL for groups. In `on_conversation_updated` its presence
    /// fields are not filled (the user listener reports presence).
    pub user: *const chinwag_user,
    /// The group; NULL for one-to-one conversations.
    pub group: *const chinwag_group,
    /// The newest message; NULL only if it can no longer be read.
    pub last_message: *const chinwag_message,
    /// Messages from others after `last_read_message_id`.
    pub unread_count: u64,
    /// Everything up to this id was read; 0 if nothing.
    pub last_read_message_id: i64,
    /// Everything up to this id was delivered; 0 if nothing.
    pub last_delivered_message_id: i64,
    /// When the conversation last changed for this user.
    pub updated_at: i64,
    /// True in `on_conversation_updated` when the user deleted it (hidden until a new message
    /// arrives); false in lists.
    pub deleted: bool,
    /// The whole conversation as JSON.
    pub json: *const c_char,
    /// Of the unread messages, those that mention the logged-in user.
    pub unread_mentions_count: u64,
}

/// A page of conversations, newest last message first.
#[repr(C)]
pub struct chinwag_conversation_page {
    pub items: *const chinwag_conversation,
    pub len: usize,
    /// More conversations can be fetched with the same request.
    pub has_more: bool,
    /// `{"conversations":[..],"has_more":..}`.
    pub json: *const c_char,
}

/// The unread messages of one conversation.
#[repr(C)]
pub struct chinwag_unread_count {
    /// `CHINWAG_RECEIVER_TYPE_*`.
    pub conversation_type: chinwag_receiver_type,
    /// The other user's uid, or the guid.
    pub with_id: *const c_char,
    pub unread_count: u64,
}

/// Unread messages overall and per conversation (only conversations with unread messages).
#[repr(C)]
pub struct chinwag_unread_counts {
    pub total: u64,
    /// Users first, then groups, each sorted by id.
    pub items: *const chinwag_unread_count,
    pub len: usize,
    /// `{"total":..,"users":{uid:n},"groups":{guid:n}}`.
    pub json: *const c_char,
}

/// A conversation event (`on_conversation_updated`).
pub type chinwag_conversation_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, conversation: *const chinwag_conversation)>;
/// Completion with one conversation; as `chinwag_user_done_cb`.
pub type chinwag_conversation_done_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        error: *const chinwag_error,
        conversation: *const chinwag_conversation,
    ),
>;
/// Completion with a page of conversations; as `chinwag_user_done_cb`.
pub type chinwag_conversation_page_done_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        error: *const chinwag_error,
        page: *const chinwag_conversation_page,
    ),
>;
/// Completion with the unread counts; as `chinwag_user_done_cb`.
pub type chinwag_unread_counts_done_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        error: *const chinwag_error,
        counts: *const chinwag_unread_counts,
    ),
>;

/// A nested payload behind a pointer, kept alive by `s` (NULL when absent).
fn boxed<T: 'static>(s: &mut Strings, value: Option<T>) -> *const T {
    match value {
        Some(v) => s.array(vec![v]).0,
        None => std::ptr::null(),
    }
}

pub(crate) fn fill_conversation(s: &mut Strings, c: &Conversation) -> chinwag_conversation {
    let user = c.user.as_ref().map(|u| fill_user(s, u));
    let group = c.group.as_ref().map(|g| fill_group(s, g));
    let last = c.last_message.as_ref().map(|m| fill_message(s, m));
    chinwag_conversation {
        conversation_id: s.add(&c.conversation_id),
        conversation_type: types::receiver_type(c.conversation_type),
        with_id: s.add(&c.with),
        user: boxed(s, user),
        group: boxed(s, group),
        last_message: boxed(s, last),
        unread_count: c.unread_count,
        last_read_message_id: c.last_read_message_id,
        last_delivered_message_id: c.last_delivered_message_id,
        updated_at: c.updated_at,
        deleted: c.deleted,
        json: s.json(c),
        unread_mentions_count: c.unread_mentions_count,
    }
}

pub(crate) fn conversation(c: &Conversation) -> Payload<chinwag_conversation> {
    build(|s| fill_conversation(s, c))
}

pub(crate) fn conversation_page(p: &Page<Conversation>) -> Payload<chinwag_conversation_page> {
    build(|s| {
        let items = p.items.iter().map(|c| fill_conversation(s, c)).collect();
        let (items, len) = s.array(items);
        chinwag_conversation_page {
            items,
            len,
            has_more: p.has_more,
            json: s.json(&json!({"conversations": p.items, "has_more": p.has_more})),
        }
    })
}

pub(crate) fn unread_counts(u: &UnreadCounts) -> Payload<chinwag_unread_counts> {
    build(|s| {
        let mut items = Vec::with_capacity(u.users.len() + u.groups.len());
        for (kind, map) in [
            (ReceiverType::User, &u.users),
            (ReceiverType::Group, &u.groups),
        ] {
            for (with, n) in map {
                items.push(chinwag_unread_count {
                    conversation_type: types::receiver_type(kind),
                    with_id: s.add(with),
                    unread_count: *n,
                });
            }
        }
        let (items, len) = s.array(items);
        chinwag_unread_counts {
            total: u.total,
            items,
            len,
            json: s.json(u),
        }
    })
}

/// Fetches the conversation with a user (`CHINWAG_RECEIVER_TYPE_USER`, `with` a uid) or of a
/// group (`_GROUP`, a guid). Errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT`,
/// `NOT_LOGGED_IN`, `CLIENT_FREED`; in `done`: `NOT_FOUND` (no message exchanged yet, or
/// deleted since the last one), `USER_NOT_FOUND`, `GROUP_NOT_FOUND`, `NETWORK`, `CANCELLED`.
/// Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_get_conversation(
    client: *const chinwag_client,
    conversation_type: chinwag_receiver_type,
    with: *const c_char,
    done: chinwag_conversation_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let kind = receiver_type(conversation_type)?;
        let with = try_str!(with);
        client.get_conversation(kind, with, completion(done, user_data, conversation))
    })
}

/// Fetches the logged-in user's unread message counts: overall and per conversation. Errors
/// as `chinwag_client_get_conversation` (without the not-found ones).
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_get_unread_counts(
    client: *const chinwag_client,
    done: chinwag_unread_counts_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        client.unread_counts(completion(done, user_data, unread_counts))
    })
}

/// Deletes a conversation for the logged-in user only: it is hidden (and counts as read) until
/// a new message arrives; the user's devices hear `on_conversation_updated` with `deleted`.
/// Deleting one without messages succeeds. Errors as `chinwag_client_get_conversation`
/// (`NOT_FOUND` only for an unknown user or group).
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_delete_conversation(
    client: *const chinwag_client,
    conversation_type: chinwag_receiver_type,
    with: *const c_char,
    done: chinwag_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let kind = receiver_type(conversation_type)?;
        let with = try_str!(with);
        client.delete_conversation(kind, with, done_completion(done, user_data))
    })
}
