//! Users and friends (friends drive the `CHINWAG_PRESENCE_FRIENDS` subscription).
//!
//! Synchronous errors: `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_ARGUMENT` (empty or malformed
//! uid), `NOT_LOGGED_IN`, `CLIENT_FREED`. After `CHINWAG_RESULT_OK`, the optional `done` runs
//! exactly once (result, or `NOT_FOUND`, `NETWORK`, `TIMEOUT`, `CANCELLED`, ...).
//! Thread-safe; callable from any callback.

use std::ffi::{c_char, c_void};

use crate::ffi::completions::{
    chinwag_done_cb, chinwag_user_done_cb, chinwag_user_page_done_cb, completion, done_completion,
};
use crate::ffi::errors::chinwag_result;
use crate::ffi::handles::chinwag_client;
use crate::ffi::payloads;
use crate::ffi::types;

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

/// Makes the logged-in user and `uid` friends (mutual). `done` gets the user's friends as a
/// complete list (`has_more` false).
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

/// Ends the friendship of the logged-in user and `uid`.
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
