//! Users and friends (friends drive the `CHINWAG_PRESENCE_FRIENDS` subscription), creating a
//! user with the development auth key, and the logged-in user as a typed struct.
//!
//! Synchronous errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (empty or malformed
//! uid), `NOT_LOGGED_IN`, `CLIENT_FREED`. After `CHINWAG_RESULT_OK`, the optional `done` runs
//! exactly once (result, or `NOT_FOUND`, `NETWORK`, `TIMEOUT`, `CANCELLED`, ...).
//! Thread-safe; callable from any callback.

use std::ffi::{c_char, c_void};

use chinwag_protocol::rest::CreateUser;

use crate::error::{Error, ErrorCode};
use crate::ffi::completions::{
    chinwag_done_cb, chinwag_user_done_cb, chinwag_user_page_done_cb, completion, done_completion,
};
use crate::ffi::errors::chinwag_result;
use crate::ffi::handles::chinwag_client;
use crate::ffi::payloads;
use crate::ffi::types::{self, chinwag_user};

/// Creates user `uid` with the server's development auth key (as `chinwag_client_login` takes
/// it), for development and demos; production apps create users from their backend with the
/// API key. Needs no logged-in user: call it before `chinwag_client_login`.
///
/// - `uid`: the new user's id (ASCII letters, digits, `-_.@`, at most 100 bytes); `name`: the
///   display name, or NULL to use the uid; `auth_key`: the server's auth key. UTF-8, borrowed.
/// - `done`: optional completion, called exactly once with `user_data` if this returns
///   `CHINWAG_RESULT_OK`, never otherwise: the stored user, or the error.
///
/// Errors (synchronous): `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (malformed uid,
/// empty name or key), `CLIENT_FREED`. Asynchronous (in `done`): `USER_EXISTS` (the uid is
/// taken: log in instead), `AUTH_FAILED` (wrong auth key), `INVALID_ARGUMENT` (the server
/// refused a field), `NETWORK`, `TIMEOUT`, `CANCELLED`. Thread-safe; callable from any
/// callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_create_user(
    client: *const chinwag_client,
    uid: *const c_char,
    name: *const c_char,
    auth_key: *const c_char,
    done: chinwag_user_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let uid = try_str!(uid);
        let name = try_opt_str!(name).unwrap_or(uid);
        let auth_key = try_str!(auth_key);
        let user = CreateUser {
            uid: uid.to_string(),
            name: name.to_string(),
            avatar: None,
            role: None,
            metadata: None,
        };
        client.create_user(user, auth_key, completion(done, user_data, types::user))
    })
}

/// The logged-in user, from the saved session (no network), as the typed struct the login
/// completion gives: `*out_user` receives an owned copy on success (its strings inside it,
/// `json` included); free it with `chinwag_user_free`. `*out_user` is left as it was on error.
/// Errors: `NULL_ARGUMENT`, `NOT_LOGGED_IN`, `CLIENT_FREED`. Thread-safe; callable from any
/// callback. `chinwag_client_logged_in_user` gives the same user as JSON.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_get_logged_in_user(
    client: *const chinwag_client,
    out_user: *mut *mut chinwag_user,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let out_user = try_out!(out_user);
        let user = client
            .logged_in_user()
            .ok_or_else(|| Error::new(ErrorCode::NotLoggedIn, "no user is logged in"))?;
        // SAFETY: `out_user` is not NULL (checked) and valid for a pointer write (contract).
        unsafe { *out_user = crate::ffi::copies::owned_user(&user) };
        Ok(())
    })
}

/// Fetches user `uid`. `done` gets the user.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_get_user(
    client: *const chinwag_client,
    uid: *const c_char,
    done: chinwag_user_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let uid = try_str!(uid);
        client.get_user(uid, completion(done, user_data, types::user))
    })
}

/// Asks `uid` to be the logged-in user's friend; if `uid` already asked, this accepts and they
/// are friends (a friendship is mutual: it exists once both have asked; until then the ask is
/// a pending friend request of `uid`). `done` gets the user's friends as a complete list
/// (`has_more` false).
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_add_friend(
    client: *const chinwag_client,
    uid: *const c_char,
    done: chinwag_user_page_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let uid = try_str!(uid);
        client.add_friend(uid, completion(done, user_data, payloads::user_list))
    })
}

/// Ends the friendship of the logged-in user and `uid`, or withdraws an ask sent to `uid`, or
/// declines one received from `uid`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_remove_friend(
    client: *const chinwag_client,
    uid: *const c_char,
    done: chinwag_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let uid = try_str!(uid);
        client.remove_friend(uid, done_completion(done, user_data))
    })
}

/// The logged-in user's friends. `done` gets them as a complete list (`has_more` false).
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_friends(
    client: *const chinwag_client,
    done: chinwag_user_page_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        client.friends(completion(done, user_data, payloads::user_list))
    })
}

/// Blocks `uid` for the logged-in user: nothing of theirs (messages, typing, calls) reaches
/// the user any more; in a direct conversation either side's send then fails with `FORBIDDEN`
/// (the message names the server's `BLOCKED`), in groups the user does not hear them. `done`
/// gets the complete blocked list (`has_more` false; each user's `json` has
/// `"blocked_by_me": true`). Errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT`,
/// `NOT_LOGGED_IN`, `CLIENT_FREED`; in `done`: `NOT_FOUND` (no such user), `INVALID_ARGUMENT`
/// (oneself), `NETWORK`, `CANCELLED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_block_user(
    client: *const chinwag_client,
    uid: *const c_char,
    done: chinwag_user_page_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let uid = try_str!(uid);
        client.block_user(uid, completion(done, user_data, payloads::user_list))
    })
}

/// Unblocks `uid` (one who is not blocked: nothing changes). As `chinwag_client_block_user`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_unblock_user(
    client: *const chinwag_client,
    uid: *const c_char,
    done: chinwag_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let uid = try_str!(uid);
        client.unblock_user(uid, done_completion(done, user_data))
    })
}

/// The users the logged-in user blocked. `done` gets them as a complete list (`has_more`
/// false).
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_blocked_users(
    client: *const chinwag_client,
    done: chinwag_user_page_done_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        client.blocked_users(completion(done, user_data, payloads::user_list))
    })
}
