"""The C ABI of libchinwag, declared with ctypes, and the code that finds and loads the library.

Everything here mirrors ``include/chinwag.h`` one to one (structs field by field, every exported
function with its argument and result types). The rest of the package builds the Pythonic
surface on top; apps do not need this module.

Finding the library (:func:`library`), in order:

1. the environment variable ``CHINWAG_LIBRARY``: a path to the library file. When it is set,
   nothing else is tried (an explicit choice that does not work is an error, not a fallback);
2. a copy inside the package directory (``libchinwag.so`` / ``libchinwag.dylib`` /
   ``chinwag.dll`` next to this file);
3. the system's library path: ``ctypes.util.find_library("chinwag")``, then the plain file
   name (``dlopen`` searches ``LD_LIBRARY_PATH``, the run path and the linker cache).

A candidate that exists but cannot be loaded, is not a Chinwag library, or implements another
ABI version than :data:`ABI_VERSION` is skipped with its reason; when no candidate works,
:class:`LibraryNotFoundError` or :class:`AbiVersionError` lists every attempt.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_int,
    c_int64,
    c_size_t,
    c_uint8,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

#: The C ABI version this binding was written for (``CHINWAG_ABI_VERSION`` of the header).
ABI_VERSION = 1

#: The environment variable that names the library file to load.
LIBRARY_ENV = "CHINWAG_LIBRARY"


class LibraryLoadError(RuntimeError):
    """libchinwag could not be loaded. ``attempts`` lists ``(candidate, reason)`` pairs."""

    def __init__(self, message: str, attempts: Sequence[Tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.attempts: List[Tuple[str, str]] = list(attempts)


class LibraryNotFoundError(LibraryLoadError):
    """No candidate location held a loadable libchinwag."""


class AbiVersionError(LibraryLoadError):
    """A libchinwag was found, but it implements another C ABI version than this binding."""


# ------------------------------------------------------------------------------------------
# Types
# ------------------------------------------------------------------------------------------

chinwag_result = c_uint32
c_char_p_p = POINTER(c_char_p)


class chinwag_error(Structure):
    _fields_ = [
        ("code", c_uint32),
        ("name", c_char_p),
        ("message", c_char_p),
        ("json", c_char_p),
    ]


class chinwag_call(Structure):
    _fields_ = [
        ("session_id", c_char_p),
        ("initiator", c_char_p),
        ("receiver_type", c_uint32),
        ("receiver", c_char_p),
        ("call_type", c_char_p),
        ("status", c_char_p),
        ("by", c_char_p),
        ("initiated_at", c_int64),
        ("joined_at", c_int64),
        ("ended_at", c_int64),
        ("json", c_char_p),
    ]


class chinwag_log_record(Structure):
    _fields_ = [
        ("level", c_uint32),
        ("target", c_char_p),
        ("message", c_char_p),
    ]


class chinwag_user(Structure):
    _fields_ = [
        ("uid", c_char_p),
        ("name", c_char_p),
        ("avatar", c_char_p),
        ("role", c_char_p),
        ("status", c_uint32),
        ("last_active_at", c_int64),
        ("deactivated", c_bool),
        ("json", c_char_p),
    ]


class chinwag_message(Structure):
    _fields_ = [
        ("id", c_int64),
        ("muid", c_char_p),
        ("sender", c_char_p),
        ("receiver_type", c_uint32),
        ("receiver", c_char_p),
        ("conversation_id", c_char_p),
        ("category", c_char_p),
        ("message_type", c_char_p),
        ("text", c_char_p),
        ("data_json", c_char_p),
        ("parent_id", c_int64),
        ("sent_at", c_int64),
        ("edited_at", c_int64),
        ("deleted_at", c_int64),
        ("json", c_char_p),
        ("mentioned_users", POINTER(c_char_p)),
        ("mentioned_users_len", c_size_t),
        ("mentions_me", c_bool),
        ("reply_count", c_uint64),
        ("last_reply_at", c_int64),
    ]


class chinwag_group(Structure):
    _fields_ = [
        ("guid", c_char_p),
        ("name", c_char_p),
        ("group_type", c_uint32),
        ("description", c_char_p),
        ("owner", c_char_p),
        ("members_count", c_uint64),
        ("created_at", c_int64),
        ("scope", c_char_p),
        ("metadata_json", c_char_p),
        ("json", c_char_p),
    ]


class chinwag_group_member(Structure):
    _fields_ = [
        ("user", chinwag_user),
        ("scope", c_char_p),
        ("joined_at", c_int64),
        ("json", c_char_p),
    ]


class chinwag_group_member_event(Structure):
    _fields_ = [
        ("action", c_uint32),
        ("guid", c_char_p),
        ("group_name", c_char_p),
        ("member", c_char_p),
        ("by", c_char_p),
        ("scope", c_char_p),
        ("old_scope", c_char_p),
        ("at", c_int64),
        ("json", c_char_p),
    ]


class chinwag_receipt(Structure):
    _fields_ = [
        ("kind", c_uint32),
        ("by", c_char_p),
        ("message_id", c_int64),
        ("message_sender", c_char_p),
        ("conversation_id", c_char_p),
        ("receiver_type", c_uint32),
        ("receiver", c_char_p),
        ("at", c_int64),
        ("json", c_char_p),
    ]


class chinwag_group_page(Structure):
    _fields_ = [
        ("items", POINTER(chinwag_group)),
        ("len", c_size_t),
        ("next_after", c_char_p),
        ("json", c_char_p),
    ]


class chinwag_member_list(Structure):
    _fields_ = [
        ("items", POINTER(chinwag_group_member)),
        ("len", c_size_t),
        ("json", c_char_p),
    ]


class chinwag_state_change(Structure):
    _fields_ = [
        ("previous", c_uint32),
        ("current", c_uint32),
        ("reason", c_uint32),
        ("message", c_char_p),
        ("retry_in_ms", c_int64),
        ("json", c_char_p),
    ]


class chinwag_feature_change(Structure):
    _fields_ = [
        ("feature", c_char_p),
        ("duration_ms", c_uint64),
        ("json", c_char_p),
    ]


class chinwag_typing(Structure):
    _fields_ = [
        ("sender", c_char_p),
        ("receiver_type", c_uint32),
        ("receiver", c_char_p),
        ("metadata_json", c_char_p),
        ("json", c_char_p),
    ]


class chinwag_transient(Structure):
    _fields_ = [
        ("sender", c_char_p),
        ("receiver_type", c_uint32),
        ("receiver", c_char_p),
        ("data_json", c_char_p),
        ("json", c_char_p),
    ]


class chinwag_gap(Structure):
    _fields_ = [
        ("from_seq", c_uint64),
        ("to_seq", c_uint64),
        ("json", c_char_p),
    ]


class chinwag_presence(Structure):
    _fields_ = [
        ("uid", c_char_p),
        ("status", c_uint32),
        ("last_active_at", c_int64),
        ("json", c_char_p),
    ]


class chinwag_message_page(Structure):
    _fields_ = [
        ("items", POINTER(chinwag_message)),
        ("len", c_size_t),
        ("has_more", c_bool),
        ("json", c_char_p),
    ]


class chinwag_user_page(Structure):
    _fields_ = [
        ("items", POINTER(chinwag_user)),
        ("len", c_size_t),
        ("has_more", c_bool),
        ("json", c_char_p),
    ]


class chinwag_conversation(Structure):
    _fields_ = [
        ("conversation_id", c_char_p),
        ("conversation_type", c_uint32),
        ("with_id", c_char_p),
        ("user", POINTER(chinwag_user)),
        ("group", POINTER(chinwag_group)),
        ("last_message", POINTER(chinwag_message)),
        ("unread_count", c_uint64),
        ("last_read_message_id", c_int64),
        ("last_delivered_message_id", c_int64),
        ("updated_at", c_int64),
        ("deleted", c_bool),
        ("json", c_char_p),
        ("unread_mentions_count", c_uint64),
    ]


class chinwag_conversation_page(Structure):
    _fields_ = [
        ("items", POINTER(chinwag_conversation)),
        ("len", c_size_t),
        ("has_more", c_bool),
        ("json", c_char_p),
    ]


class chinwag_unread_count(Structure):
    _fields_ = [
        ("conversation_type", c_uint32),
        ("with_id", c_char_p),
        ("unread_count", c_uint64),
    ]


class chinwag_unread_counts(Structure):
    _fields_ = [
        ("total", c_uint64),
        ("items", POINTER(chinwag_unread_count)),
        ("len", c_size_t),
        ("json", c_char_p),
    ]


# Opaque handles are passed as c_void_p.

# Callback types. The first argument is always `void *user_data` (here an integer key).
user_data_free_cb = CFUNCTYPE(None, c_void_p)
log_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_log_record))
store_load_cb = CFUNCTYPE(chinwag_result, c_void_p, c_void_p)
store_save_cb = CFUNCTYPE(chinwag_result, c_void_p, c_char_p, c_bool)
store_clear_cb = CFUNCTYPE(chinwag_result, c_void_p)

done_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_error))
user_done_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_error), POINTER(chinwag_user))
send_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_error), POINTER(chinwag_message))
call_done_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_error), POINTER(chinwag_call))
group_done_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_error), POINTER(chinwag_group))
group_page_done_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_error), POINTER(chinwag_group_page))
member_list_done_cb = CFUNCTYPE(
    None, c_void_p, POINTER(chinwag_error), POINTER(chinwag_member_list)
)
member_done_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_error), POINTER(chinwag_group_member))
message_page_done_cb = CFUNCTYPE(
    None, c_void_p, POINTER(chinwag_error), POINTER(chinwag_message_page)
)
user_page_done_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_error), POINTER(chinwag_user_page))
conversation_done_cb = CFUNCTYPE(
    None, c_void_p, POINTER(chinwag_error), POINTER(chinwag_conversation)
)
conversation_page_done_cb = CFUNCTYPE(
    None, c_void_p, POINTER(chinwag_error), POINTER(chinwag_conversation_page)
)
unread_counts_done_cb = CFUNCTYPE(
    None, c_void_p, POINTER(chinwag_error), POINTER(chinwag_unread_counts)
)

state_change_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_state_change))
error_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_error))
feature_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_feature_change))
user_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_user))
notice_cb = CFUNCTYPE(None, c_void_p)
message_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_message))
typing_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_typing))
receipt_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_receipt))
transient_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_transient))
gap_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_gap))
presence_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_presence))
group_member_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_group_member_event))
call_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_call))
conversation_cb = CFUNCTYPE(None, c_void_p, POINTER(chinwag_conversation))


class chinwag_session_store(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("load", store_load_cb),
        ("save", store_save_cb),
        ("clear", store_clear_cb),
        ("user_data", c_void_p),
        ("user_data_free", user_data_free_cb),
    ]


class chinwag_initial_listener(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("kind", c_uint32),
        ("id", c_char_p),
        ("listener", c_void_p),
        ("user_data", c_void_p),
        ("user_data_free", user_data_free_cb),
    ]


class chinwag_settings(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("server_url", c_char_p),
        ("connect_mode", c_uint32),
        ("presence", c_uint32),
        ("presence_roles", c_char_p),
        ("data_dir", c_char_p),
        ("extra_ca_pem", POINTER(c_uint8)),
        ("extra_ca_pem_len", c_size_t),
        ("connect_timeout_ms", c_uint32),
        ("first_retry_max_ms", c_uint32),
        ("backoff_base_ms", c_uint32),
        ("backoff_cap_ms", c_uint32),
        ("stable_after_ms", c_uint32),
        ("suspend_after_ms", c_uint32),
        ("suspended_retry_min_ms", c_uint32),
        ("suspended_retry_max_ms", c_uint32),
        ("heartbeat_grace_ms", c_uint32),
        ("typing_timeout_ms", c_uint32),
        ("probe_timeout_ms", c_uint32),
        ("background_grace_ms", c_uint32),
        ("hint_coalesce_ms", c_uint32),
        ("queue_capacity", c_uint32),
        ("log", log_cb),
        ("log_user_data", c_void_p),
        ("log_user_data_free", user_data_free_cb),
        ("session_store", POINTER(chinwag_session_store)),
        ("listeners", POINTER(POINTER(chinwag_initial_listener))),
        ("listeners_len", c_size_t),
        # Appended for app-driven dispatch (`CHINWAG_DISPATCH_MODE_*`). A library from before
        # that field reads only its own, smaller struct_size and ignores it; the client checks
        # that the dispatch functions exist before it asks for app mode.
        ("dispatch_mode", c_uint32),
        # Appended for the listener grace (0: the default, 1000 ms); older libraries ignore it.
        ("listener_grace_ms", c_uint32),
    ]


#: The timing fields of `chinwag_settings` (milliseconds; 0 = the default).
TIMING_FIELDS = (
    "connect_timeout_ms",
    "first_retry_max_ms",
    "backoff_base_ms",
    "backoff_cap_ms",
    "stable_after_ms",
    "suspend_after_ms",
    "suspended_retry_min_ms",
    "suspended_retry_max_ms",
    "heartbeat_grace_ms",
    "typing_timeout_ms",
    "probe_timeout_ms",
    "background_grace_ms",
    "hint_coalesce_ms",
    "listener_grace_ms",
)


class chinwag_connection_listener(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("on_state_changed", state_change_cb),
        ("on_connecting", state_change_cb),
        ("on_connected", state_change_cb),
        ("on_disconnected", state_change_cb),
        ("on_connection_error", error_cb),
        ("on_feature_throttled", feature_cb),
        ("on_feature_unthrottled", feature_cb),
    ]


class chinwag_login_listener(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("on_login_success", user_cb),
        ("on_login_failure", error_cb),
        ("on_logout_success", notice_cb),
        ("on_logout_failure", error_cb),
        ("on_session_expired", error_cb),
    ]


class chinwag_message_listener(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("on_text_message_received", message_cb),
        ("on_media_message_received", message_cb),
        ("on_custom_message_received", message_cb),
        ("on_message_edited", message_cb),
        ("on_message_deleted", message_cb),
        ("on_typing_started", typing_cb),
        ("on_typing_ended", typing_cb),
        ("on_messages_delivered", receipt_cb),
        ("on_messages_read", receipt_cb),
        ("on_transient_message_received", transient_cb),
        ("on_gap", gap_cb),
        ("on_conversation_updated", conversation_cb),
        ("on_thread_updated", message_cb),
    ]


class chinwag_user_listener(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("on_user_online", presence_cb),
        ("on_user_offline", presence_cb),
    ]


class chinwag_group_listener(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("on_member_joined", group_member_cb),
        ("on_member_left", group_member_cb),
        ("on_member_kicked", group_member_cb),
        ("on_member_banned", group_member_cb),
        ("on_member_unbanned", group_member_cb),
        ("on_member_scope_changed", group_member_cb),
        ("on_member_added", group_member_cb),
    ]


class chinwag_call_listener(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("on_incoming_call_received", call_cb),
        ("on_outgoing_call_accepted", call_cb),
        ("on_outgoing_call_rejected", call_cb),
        ("on_incoming_call_cancelled", call_cb),
        ("on_call_ended", call_cb),
    ]


class chinwag_log_listener(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("on_log", log_cb),
    ]


class chinwag_messages_request_options(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("limit", c_uint32),
        ("category", c_char_p),
        ("message_type", c_char_p),
        ("from_message_id", c_int64),
    ]


class chinwag_users_request_options(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("limit", c_uint32),
        ("search", c_char_p),
        ("status", c_char_p),
        ("role", c_char_p),
    ]


class chinwag_conversations_request_options(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("limit", c_uint32),
        ("filter", c_uint32),
        ("unread_only", c_uint32),
    ]


#: Every struct the header declares, by its C name (used by the layout test).
STRUCTS = {
    cls.__name__: cls
    for cls in (
        chinwag_error,
        chinwag_call,
        chinwag_log_record,
        chinwag_user,
        chinwag_message,
        chinwag_group,
        chinwag_group_member,
        chinwag_group_member_event,
        chinwag_receipt,
        chinwag_group_page,
        chinwag_member_list,
        chinwag_state_change,
        chinwag_feature_change,
        chinwag_typing,
        chinwag_transient,
        chinwag_gap,
        chinwag_presence,
        chinwag_message_page,
        chinwag_user_page,
        chinwag_session_store,
        chinwag_initial_listener,
        chinwag_settings,
        chinwag_connection_listener,
        chinwag_login_listener,
        chinwag_message_listener,
        chinwag_user_listener,
        chinwag_group_listener,
        chinwag_call_listener,
        chinwag_log_listener,
        chinwag_messages_request_options,
        chinwag_users_request_options,
        chinwag_conversation,
        chinwag_conversation_page,
        chinwag_unread_count,
        chinwag_unread_counts,
        chinwag_conversations_request_options,
    )
}

# ------------------------------------------------------------------------------------------
# Functions: name -> (result type, argument types)
# ------------------------------------------------------------------------------------------

_P = c_void_p  # opaque handles
_R = chinwag_result
_S = c_char_p
_OUT_STR = POINTER(c_void_p)  # char **out (read with string_at, freed with chinwag_string_free)

PROTOTYPES = {
    "chinwag_version": (c_char_p, []),
    "chinwag_abi_version": (c_uint32, []),
    # client
    "chinwag_client_init": (_R, [_S, POINTER(chinwag_settings), POINTER(c_void_p)]),
    "chinwag_client_free": (None, [_P]),
    "chinwag_client_login": (_R, [_P, _S, _S, user_done_cb, c_void_p]),
    "chinwag_client_login_with_token": (_R, [_P, _S, user_done_cb, c_void_p]),
    "chinwag_client_logout": (_R, [_P, done_cb, c_void_p]),
    "chinwag_client_logged_in_user": (_R, [_P, _OUT_STR]),
    "chinwag_client_get_logged_in_user": (_R, [_P, POINTER(c_void_p)]),
    "chinwag_client_create_user": (_R, [_P, _S, _S, _S, user_done_cb, c_void_p]),
    "chinwag_client_connection_status": (_R, [_P, POINTER(c_uint32)]),
    "chinwag_client_connect": (_R, [_P]),
    "chinwag_client_disconnect": (_R, [_P]),
    "chinwag_client_network_changed": (_R, [_P, c_uint32]),
    "chinwag_client_app_state_changed": (_R, [_P, c_uint32]),
    # messages
    "chinwag_client_send_text": (_R, [_P, c_uint32, _S, _S, send_cb, c_void_p, _OUT_STR]),
    "chinwag_client_send_custom": (_R, [_P, c_uint32, _S, _S, _S, send_cb, c_void_p, _OUT_STR]),
    "chinwag_client_send_message": (_R, [_P, _S, send_cb, c_void_p, _OUT_STR]),
    "chinwag_client_send_media": (
        _R,
        [_P, c_uint32, _S, _S, _S, _S, _S, send_cb, c_void_p, _OUT_STR],
    ),
    "chinwag_client_start_typing": (_R, [_P, c_uint32, _S]),
    "chinwag_client_end_typing": (_R, [_P, c_uint32, _S]),
    "chinwag_client_mark_delivered": (_R, [_P, c_int64]),
    "chinwag_client_mark_read": (_R, [_P, c_int64]),
    "chinwag_client_send_transient": (_R, [_P, c_uint32, _S, _S]),
    "chinwag_client_edit_message": (_R, [_P, c_int64, _S, _S, _S, send_cb, c_void_p]),
    "chinwag_client_delete_message": (_R, [_P, c_int64, send_cb, c_void_p]),
    # payload copies (Python converts payloads to owned dataclasses instead; declared for
    # completeness and used by the tests)
    "chinwag_message_copy": (_R, [POINTER(chinwag_message), POINTER(c_void_p)]),
    "chinwag_message_free": (None, [c_void_p]),
    "chinwag_user_copy": (_R, [POINTER(chinwag_user), POINTER(c_void_p)]),
    "chinwag_user_free": (None, [c_void_p]),
    "chinwag_group_copy": (_R, [POINTER(chinwag_group), POINTER(c_void_p)]),
    "chinwag_group_free": (None, [c_void_p]),
    "chinwag_group_member_copy": (_R, [POINTER(chinwag_group_member), POINTER(c_void_p)]),
    "chinwag_group_member_free": (None, [c_void_p]),
    "chinwag_group_member_event_copy": (
        _R,
        [POINTER(chinwag_group_member_event), POINTER(c_void_p)],
    ),
    "chinwag_group_member_event_free": (None, [c_void_p]),
    "chinwag_call_copy": (_R, [POINTER(chinwag_call), POINTER(c_void_p)]),
    "chinwag_call_free": (None, [c_void_p]),
    "chinwag_receipt_copy": (_R, [POINTER(chinwag_receipt), POINTER(c_void_p)]),
    "chinwag_receipt_free": (None, [c_void_p]),
    # errors and strings
    "chinwag_result_name": (c_char_p, [_R]),
    "chinwag_last_error_message": (_R, [ctypes.c_char_p, c_size_t, POINTER(c_size_t)]),
    "chinwag_string_free": (None, [c_void_p]),
    "chinwag_connection_state_name": (c_char_p, [c_uint32]),
    "chinwag_state_reason_name": (c_char_p, [c_uint32]),
    # groups
    "chinwag_client_create_group": (_R, [_P, _S, _S, c_uint32, group_done_cb, c_void_p]),
    "chinwag_client_get_group": (_R, [_P, _S, group_done_cb, c_void_p]),
    "chinwag_client_join_group": (_R, [_P, _S, group_done_cb, c_void_p]),
    "chinwag_client_leave_group": (_R, [_P, _S, done_cb, c_void_p]),
    "chinwag_client_list_groups": (
        _R,
        [_P, c_bool, _S, c_uint32, group_page_done_cb, c_void_p],
    ),
    "chinwag_client_group_members": (_R, [_P, _S, member_list_done_cb, c_void_p]),
    "chinwag_client_add_group_members": (
        _R,
        [_P, _S, POINTER(c_char_p), POINTER(c_uint32), c_size_t, member_list_done_cb, c_void_p],
    ),
    "chinwag_client_kick_group_member": (_R, [_P, _S, _S, done_cb, c_void_p]),
    "chinwag_client_ban_group_member": (_R, [_P, _S, _S, done_cb, c_void_p]),
    "chinwag_client_unban_group_member": (_R, [_P, _S, _S, done_cb, c_void_p]),
    "chinwag_client_change_group_member_scope": (
        _R,
        [_P, _S, _S, c_uint32, member_done_cb, c_void_p],
    ),
    # calls
    "chinwag_client_initiate_call": (
        _R,
        [_P, c_uint32, _S, c_uint32, call_done_cb, c_void_p, _OUT_STR],
    ),
    "chinwag_client_accept_call": (_R, [_P, _S, call_done_cb, c_void_p]),
    "chinwag_client_reject_call": (_R, [_P, _S, c_bool, call_done_cb, c_void_p]),
    "chinwag_client_cancel_call": (_R, [_P, _S, call_done_cb, c_void_p]),
    "chinwag_client_end_call": (_R, [_P, _S, call_done_cb, c_void_p]),
    "chinwag_client_active_call": (_R, [_P, POINTER(c_void_p)]),
    # history and user requests
    "chinwag_messages_request_new": (
        _R,
        [c_uint32, _S, POINTER(chinwag_messages_request_options), POINTER(c_void_p)],
    ),
    "chinwag_messages_request_free": (None, [c_void_p]),
    "chinwag_thread_request_new": (
        _R,
        [c_int64, POINTER(chinwag_messages_request_options), POINTER(c_void_p)],
    ),
    "chinwag_client_fetch_previous": (_R, [_P, c_void_p, message_page_done_cb, c_void_p]),
    "chinwag_client_fetch_next": (_R, [_P, c_void_p, message_page_done_cb, c_void_p]),
    "chinwag_users_request_new": (
        _R,
        [POINTER(chinwag_users_request_options), POINTER(c_void_p)],
    ),
    "chinwag_users_request_free": (None, [c_void_p]),
    "chinwag_client_fetch_users": (_R, [_P, c_void_p, user_page_done_cb, c_void_p]),
    "chinwag_conversations_request_new": (
        _R,
        [POINTER(chinwag_conversations_request_options), POINTER(c_void_p)],
    ),
    "chinwag_conversations_request_free": (None, [c_void_p]),
    "chinwag_client_fetch_conversations": (
        _R,
        [_P, c_void_p, conversation_page_done_cb, c_void_p],
    ),
    "chinwag_client_get_conversation": (_R, [_P, c_uint32, _S, conversation_done_cb, c_void_p]),
    "chinwag_client_get_unread_counts": (_R, [_P, unread_counts_done_cb, c_void_p]),
    "chinwag_client_delete_conversation": (_R, [_P, c_uint32, _S, done_cb, c_void_p]),
    # users and friends
    "chinwag_client_get_user": (_R, [_P, _S, user_done_cb, c_void_p]),
    "chinwag_client_add_friend": (_R, [_P, _S, user_page_done_cb, c_void_p]),
    "chinwag_client_remove_friend": (_R, [_P, _S, done_cb, c_void_p]),
    "chinwag_client_friends": (_R, [_P, user_page_done_cb, c_void_p]),
    "chinwag_client_block_user": (_R, [_P, _S, user_page_done_cb, c_void_p]),
    "chinwag_client_unblock_user": (_R, [_P, _S, done_cb, c_void_p]),
    "chinwag_client_blocked_users": (_R, [_P, user_page_done_cb, c_void_p]),
    # session store
    "chinwag_store_reply_set": (_R, [c_void_p, _S]),
}

#: Listener families: kind name -> (CHINWAG_LISTENER_KIND_*, struct, add fn, remove fn).
LISTENER_FAMILIES = {
    "connection": (0, chinwag_connection_listener),
    "login": (1, chinwag_login_listener),
    "message": (2, chinwag_message_listener),
    "user": (3, chinwag_user_listener),
    "group": (4, chinwag_group_listener),
    "call": (5, chinwag_call_listener),
    "log": (6, chinwag_log_listener),
}

for _family, (_kind, _struct) in LISTENER_FAMILIES.items():
    PROTOTYPES[f"chinwag_client_add_{_family}_listener"] = (
        _R,
        [_P, _S, POINTER(_struct), c_void_p, user_data_free_cb],
    )
    PROTOTYPES[f"chinwag_client_remove_{_family}_listener"] = (_R, [_P, _S])

#: App-driven dispatch (optional: a library from before it lacks these).
OPTIONAL_PROTOTYPES = {
    "chinwag_client_dispatch_fd": (_R, [_P, POINTER(c_int)]),
    "chinwag_client_dispatch": (_R, [_P, c_size_t, POINTER(c_size_t)]),
}


class Library:
    """A loaded libchinwag with every prototype declared: ``lib.chinwag_client_init(...)``."""

    def __init__(self, cdll: ctypes.CDLL, path: str) -> None:
        self.cdll = cdll
        self.path = path
        for name, (restype, argtypes) in PROTOTYPES.items():
            fn = getattr(cdll, name)  # AttributeError: not this ABI (checked by the loader)
            fn.restype = restype
            fn.argtypes = argtypes
            setattr(self, name, fn)
        self.has_app_dispatch = True
        for name, (restype, argtypes) in OPTIONAL_PROTOTYPES.items():
            fn = getattr(cdll, name, None)
            if fn is None:
                self.has_app_dispatch = False
                setattr(self, name, None)
                continue
            fn.restype = restype
            fn.argtypes = argtypes
            setattr(self, name, fn)
        self.version: str = cdll.chinwag_version().decode()
        self.abi_version: int = int(cdll.chinwag_abi_version())

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not set above; tells type checkers that the declared
        # `chinwag_*` functions are attributes.
        raise AttributeError(name)


def _library_file_names() -> List[str]:
    if sys.platform == "darwin":
        return ["libchinwag.dylib"]
    if sys.platform.startswith("win"):
        return ["chinwag.dll"]
    return ["libchinwag.so"]


def _candidates(env: Optional[str], package_dir: Path) -> List[Tuple[str, str]]:
    """The places to try, in order, as ``(how it was found, path or name)``."""
    if env:
        return [(f"${LIBRARY_ENV}", env)]
    out: List[Tuple[str, str]] = []
    for name in _library_file_names():
        out.append(("package directory", str(package_dir / name)))
    found = ctypes.util.find_library("chinwag")
    if found:
        out.append(("ctypes.util.find_library('chinwag')", found))
    for name in _library_file_names():
        out.append(("system library path", name))
    return out


def _try_load(path: str) -> Tuple[Optional[Library], str, bool]:
    """Loads one candidate: ``(library, reason, abi_mismatch)``."""
    looks_like_path = os.sep in path or (os.altsep is not None and os.altsep in path)
    if looks_like_path and not os.path.exists(path):
        return None, "no such file", False
    try:
        cdll = ctypes.CDLL(path)
    except OSError as e:
        return None, f"cannot be loaded: {e}", False
    try:
        abi = cdll.chinwag_abi_version
    except AttributeError:
        return None, "not a Chinwag library (no chinwag_abi_version symbol)", False
    abi.restype = c_uint32
    abi.argtypes = []
    found = int(abi())
    if found != ABI_VERSION:
        return (
            None,
            f"implements C ABI version {found}, but this binding (chinwag "
            f"{_binding_version()}) was written for ABI version {ABI_VERSION}",
            True,
        )
    try:
        lib = Library(cdll, path)
    except AttributeError as e:
        return None, f"lacks a function of ABI version {ABI_VERSION}: {e}", False
    return lib, "ok", False


def _binding_version() -> str:
    from . import __version__

    return __version__


def load_library(path: Optional[str] = None) -> Library:
    """Finds and loads libchinwag (see the module documentation), without caching.

    ``path``: load exactly this file instead of searching. Raises
    :class:`LibraryNotFoundError` or :class:`AbiVersionError` with every attempt listed.
    """
    if path is not None:
        candidates = [("path argument", path)]
    else:
        candidates = _candidates(os.environ.get(LIBRARY_ENV), Path(__file__).resolve().parent)
    attempts: List[Tuple[str, str]] = []
    abi_mismatch = False
    for how, candidate in candidates:
        lib, reason, mismatch = _try_load(candidate)
        if lib is not None:
            return lib
        abi_mismatch = abi_mismatch or mismatch
        attempts.append((f"{candidate} ({how})", reason))
    tried = "\n".join(f"  - {where}: {reason}" for where, reason in attempts)
    hint = (
        f"Set {LIBRARY_ENV} to the path of libchinwag (e.g. target/debug/libchinwag.so after "
        "`cargo build`), copy it into the chinwag package directory, or install it "
        "(`make install`)."
    )
    if abi_mismatch:
        raise AbiVersionError(
            f"libchinwag has the wrong ABI version for this binding (expected "
            f"{ABI_VERSION}). Tried:\n{tried}\n{hint}",
            attempts,
        )
    raise LibraryNotFoundError(f"libchinwag not found. Tried:\n{tried}\n{hint}", attempts)


_lock = threading.Lock()
_library: Optional[Library] = None


def library() -> Library:
    """The process's libchinwag, loaded on first use (thread-safe) and then cached."""
    global _library
    if _library is None:
        with _lock:
            if _library is None:
                _library = load_library()
    return _library
