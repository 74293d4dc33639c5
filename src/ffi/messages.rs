//! Media messages, edits and deletes. (Text, custom and JSON-described messages, typing,
//! receipts and transient messages are in `client`.)

use std::ffi::{c_char, c_void};

use chinwag_protocol::model::{Attachment, NewMessage, MEDIA_TYPES};

use crate::error::Error;
use crate::ffi::completions::{chinwag_send_cb, completion, json_arg, message_id, receiver_type};
use crate::ffi::errors::{chinwag_result, owned_string};
use crate::ffi::handles::chinwag_client;
use crate::ffi::types::{self, chinwag_receiver_type};

/// Sends a media message: `media_type` is `"image"`, `"video"`, `"audio"` or `"file"`, `url`
/// the attachment's address (the file itself is hosted by the app), `caption` optional text
/// (nullable), `metadata_json` an optional JSON object (nullable). Queued, completed and
/// validated as `chinwag_client_send_text`; `INVALID_ARGUMENT` for another type, an empty URL
/// or metadata that is not a JSON object. For attachment names, sizes and several attachments
/// use `chinwag_client_send_message`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_send_media(
    client: *const chinwag_client,
    receiver_type: chinwag_receiver_type,
    receiver: *const c_char,
    media_type: *const c_char,
    url: *const c_char,
    caption: *const c_char,
    metadata_json: *const c_char,
    done: chinwag_send_cb,
    user_data: *mut c_void,
    out_muid: *mut *mut c_char,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let receiver_type = self::receiver_type(receiver_type)?;
        let receiver = try_str!(receiver);
        let media_type = try_str!(media_type);
        let url = try_str!(url);
        let caption = try_opt_str!(caption);
        let metadata_json = try_opt_str!(metadata_json);
        if !MEDIA_TYPES.contains(&media_type) {
            return Err(Error::invalid(format!(
                "media_type {media_type:?} is not one of {MEDIA_TYPES:?}"
            )));
        }
        if url.trim().is_empty() {
            return Err(Error::invalid("url must not be empty"));
        }
        let attachment = Attachment { url: url.to_string(), name: None, mime_type: None, size: None };
        let mut message = NewMessage::media(receiver_type, receiver, media_type, attachment, caption);
        if let Some(m) = metadata_json {
            let value = json_arg("metadata_json", m)?;
            if !value.is_object() {
                return Err(Error::invalid("`metadata_json` must be a JSON object"));
            }
            message.metadata = Some(value);
        }
        let muid = client.send_message(message, completion(done, user_data, types::message))?;
        if !out_muid.is_null() {
            // SAFETY: not NULL, and valid for a pointer write (contract).
            unsafe { *out_muid = owned_string(&muid) };
        }
        Ok(())
    })
}

/// Edits one's own message `message_id`: new `text` (1 byte to 64 KiB; nullable), new custom
/// `data_json` (nullable) and/or new `metadata_json` (a JSON object; nullable); at least one is
/// needed. The conversation hears `on_message_edited`; `done` gets the edited message (it is
/// not echoed to this client's listener).
///
/// A socket request: needs a CONNECTED client, never queued. Errors: `NULL_ARGUMENT`,
/// `INVALID_UTF8`, `INVALID_ARGUMENT` (id not positive, nothing to change, bad JSON),
/// `TEXT_TOO_LONG`, `NOT_LOGGED_IN`, `NOT_CONNECTED`, `CLIENT_FREED`; in `done`: `FORBIDDEN`
/// (someone else's message), `NOT_FOUND`, `NETWORK` (the socket dropped before the answer),
/// `CANCELLED`. Thread-safe; callable from any callback.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_edit_message(
    client: *const chinwag_client,
    message_id: i64,
    text: *const c_char,
    data_json: *const c_char,
    metadata_json: *const c_char,
    done: chinwag_send_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let id = self::message_id("message_id", message_id)?;
        let text = try_opt_str!(text);
        let data_json = try_opt_str!(data_json);
        let metadata_json = try_opt_str!(metadata_json);
        let data = data_json.map(|d| json_arg("data_json", d)).transpose()?;
        let metadata = metadata_json.map(|m| json_arg("metadata_json", m)).transpose()?;
        if metadata.as_ref().is_some_and(|m| !m.is_object()) {
            return Err(Error::invalid("`metadata_json` must be a JSON object"));
        }
        client.edit_message(id, text, data, metadata, completion(done, user_data, types::message))
    })
}

/// Deletes message `message_id` (soft: it stays with `deleted_at` set and no text): one's own,
/// or any in a group the user moderates. The conversation hears `on_message_deleted`; `done`
/// gets the deleted message. Otherwise as `chinwag_client_edit_message`.
#[no_mangle]
pub unsafe extern "C" fn chinwag_client_delete_message(
    client: *const chinwag_client,
    message_id: i64,
    done: chinwag_send_cb,
    user_data: *mut c_void,
) -> chinwag_result {
    boundary!(result: {
        let client = try_client!(client);
        let id = self::message_id("message_id", message_id)?;
        client.delete_message(id, completion(done, user_data, types::message))
    })
}
