"""The bridge between C callbacks and Python objects.

Lifetimes (the C ABI rules (src/ffi/mod.rs)):

- Every ``CFUNCTYPE`` object the SDK can call is a module-level constant of this module (one
  trampoline per callback slot), so it lives as long as the process and can never be collected
  while registered.
- The ``user_data`` handed to C is an integer key into :data:`_registry`, which holds the Python
  object (listener slot, pending completion, log sink, session store) strongly. A listener's
  entry is released by the SDK's ``user_data_free`` (:data:`USER_DATA_FREE`), which runs exactly
  once when the listener is removed or replaced or the client is freed; a completion's entry is
  released when the completion runs (exactly once: result, error or ``CANCELLED``).
- Every trampoline catches every exception: an app callback that raises is reported through
  ``logging`` (logger ``"chinwag"``) and delivery goes on. ``KeyboardInterrupt`` and
  ``SystemExit`` raised on a thread inside ``Client.dispatch`` are re-raised when that call
  returns.
"""

from __future__ import annotations

import ctypes
import itertools
import logging
import threading
from typing import Any, Callable, Dict, List, Optional

from . import _native as N
from .errors import ChinwagError, error_for
from .conversations import Conversation, ConversationPage, UnreadCounts
from .listeners import FAMILY_METHODS
from .types import (
    Call,
    FeatureChange,
    Gap,
    Group,
    GroupMember,
    GroupMemberEvent,
    GroupPage,
    LogRecord,
    Message,
    MessagePage,
    PresenceChange,
    Receipt,
    StateChange,
    Transient,
    Typing,
    User,
    UserPage,
    member_list,
)

logger = logging.getLogger("chinwag")

# ------------------------------------------------------------------------------------------
# registry
# ------------------------------------------------------------------------------------------

_registry: Dict[int, Any] = {}
_keys = itertools.count(1)  # 0 would be NULL


def register(obj: Any) -> int:
    key = next(_keys)
    _registry[key] = obj
    return key


def release(key: int) -> Any:
    return _registry.pop(key, None)


def registry_size() -> int:
    """How many Python objects the SDK currently holds (for tests and leak checks)."""
    return len(_registry)


def _free(user_data: Optional[int]) -> None:
    try:
        obj = _registry.pop(user_data or 0, None)
        on_release = getattr(obj, "on_release", None)
        if on_release is not None:
            on_release()
    except BaseException:  # noqa: BLE001 - never let anything cross into C
        logger.exception("chinwag: error while releasing a listener")


#: The one ``user_data_free`` every registration passes.
USER_DATA_FREE = N.user_data_free_cb(_free)

# ------------------------------------------------------------------------------------------
# "inside a callback of this client" (per thread)
# ------------------------------------------------------------------------------------------


class _Local(threading.local):
    def __init__(self) -> None:
        self.active: List[Any] = []


_local = _Local()


def in_callback(core: Any) -> bool:
    """Whether the calling thread is running a callback of ``core``'s client."""
    return any(c is core for c in _local.active)


def _run(core: Any, what: str, fn: Callable[..., None], *args: Any) -> None:
    """Runs app code for ``core`` on this (callback) thread; never raises."""
    _local.active.append(core)
    try:
        fn(*args)
    except Exception:
        logger.exception("chinwag: exception in %s (ignored; delivery continues)", what)
    except BaseException as e:  # KeyboardInterrupt, SystemExit
        if core is not None and getattr(core, "dispatching_thread", None) == threading.get_ident():
            core.pending_base_exception = e
        else:
            logger.exception("chinwag: %s raised %s (ignored)", what, type(e).__name__)
    finally:
        _local.active.pop()


def error_from_c(p: "ctypes._Pointer[N.chinwag_error]") -> ChinwagError:
    e = p.contents
    name = (e.name or b"UNKNOWN").decode("utf-8", "replace")
    message = (e.message or b"").decode("utf-8", "replace")
    return error_for(int(e.code), message, name)


# ------------------------------------------------------------------------------------------
# listener trampolines
# ------------------------------------------------------------------------------------------


class ListenerSlot:
    """What a listener's ``user_data`` key points to.

    ``target`` is the app's object (methods named like the C fields) or a hub (an object with
    ``wants(event)`` and ``emit(event, value)``).
    """

    __slots__ = ("core", "family", "id", "target", "hub", "key")

    def __init__(self, core: Any, family: str, listener_id: str, target: Any, hub: bool) -> None:
        self.core = core
        self.family = family
        self.id = listener_id
        self.target = target
        self.hub = hub
        self.key = 0

    def on_release(self) -> None:
        core = self.core
        if core is not None:
            core.listener_released(self)


_NO_PAYLOAD = object()


def _listener_trampoline(cbtype: Any, method: str, convert: Optional[Callable[[Any], Any]]):
    event = method[3:]

    def tramp(user_data: Optional[int], payload: Any = _NO_PAYLOAD) -> None:
        try:
            slot = _registry.get(user_data or 0)
            if slot is None:
                return
            if slot.hub:
                if not slot.target.wants(event):
                    return
            if convert is None:
                args: tuple = ()
            elif convert is error_from_c:
                args = (error_from_c(payload),)
            else:
                args = (convert(payload.contents),)
            if slot.hub:
                _run(slot.core, f"handlers of {event!r}", slot.target.emit, event, *args)
            else:
                fn = getattr(slot.target, method)
                _run(slot.core, f"{type(slot.target).__name__}.{method}", fn, *args)
        except BaseException:  # noqa: BLE001
            logger.exception("chinwag: cannot deliver %s", method)

    return cbtype(tramp)


_CONVERTERS: Dict[str, Callable[[Any], Any]] = {}
for _m in FAMILY_METHODS["connection"]:
    _CONVERTERS[_m] = StateChange._from_c
_CONVERTERS["on_connection_error"] = error_from_c
_CONVERTERS["on_feature_throttled"] = FeatureChange._from_c
_CONVERTERS["on_feature_unthrottled"] = FeatureChange._from_c
_CONVERTERS["on_login_success"] = User._from_c
_CONVERTERS["on_login_failure"] = error_from_c
_CONVERTERS["on_logout_failure"] = error_from_c
_CONVERTERS["on_session_expired"] = error_from_c
for _m in (
    "on_text_message_received",
    "on_media_message_received",
    "on_custom_message_received",
    "on_message_edited",
    "on_message_deleted",
):
    _CONVERTERS[_m] = Message._from_c
_CONVERTERS["on_typing_started"] = Typing._from_c
_CONVERTERS["on_typing_ended"] = Typing._from_c
_CONVERTERS["on_messages_delivered"] = Receipt._from_c
_CONVERTERS["on_messages_read"] = Receipt._from_c
_CONVERTERS["on_transient_message_received"] = Transient._from_c
_CONVERTERS["on_gap"] = Gap._from_c
_CONVERTERS["on_conversation_updated"] = Conversation._from_c
for _m in FAMILY_METHODS["user"]:
    _CONVERTERS[_m] = PresenceChange._from_c
for _m in FAMILY_METHODS["group"]:
    _CONVERTERS[_m] = GroupMemberEvent._from_c
for _m in FAMILY_METHODS["call"]:
    _CONVERTERS[_m] = Call._from_c
_CONVERTERS["on_log"] = LogRecord._from_c

#: family -> {method: CFUNCTYPE trampoline}
TRAMPOLINES: Dict[str, Dict[str, Any]] = {}
for _family, (_kind, _struct) in N.LISTENER_FAMILIES.items():
    _table: Dict[str, Any] = {}
    for _field, _cbtype, *_rest in _struct._fields_[1:]:
        assert _field in FAMILY_METHODS[_family], (_family, _field)
        _table[_field] = _listener_trampoline(_cbtype, _field, _CONVERTERS.get(_field))
    TRAMPOLINES[_family] = _table


def build_listener_struct(family: str, methods: Any) -> Any:
    """The C listener struct of ``family`` with the trampolines of ``methods`` set."""
    struct_type = N.LISTENER_FAMILIES[family][1]
    s = struct_type()
    s.struct_size = ctypes.sizeof(struct_type)
    for method in methods:
        setattr(s, method, TRAMPOLINES[family][method])
    return s


# ------------------------------------------------------------------------------------------
# completions
# ------------------------------------------------------------------------------------------


class Pending:
    """A completion's ``user_data``: ``sink(error, value)`` runs exactly once."""

    __slots__ = ("core", "sink", "what")

    def __init__(self, core: Any, sink: Callable[[Optional[ChinwagError], Any], None], what: str):
        self.core = core
        self.sink = sink
        self.what = what


def _completion_trampoline(cbtype: Any, convert: Optional[Callable[[Any], Any]]):
    def tramp(user_data: Optional[int], error: Any, payload: Any = None) -> None:
        try:
            pending = _registry.pop(user_data or 0, None)
            if pending is None:
                return
            err: Optional[ChinwagError] = None
            value: Any = None
            try:
                if error:
                    err = error_from_c(error)
                elif convert is not None and payload:
                    value = convert(payload.contents)
            except Exception as e:  # a payload this binding cannot read
                logger.exception("chinwag: cannot convert the result of %s", pending.what)
                err = error_for(901, f"the binding could not read the result: {e}", "INTERNAL")
            _run(pending.core, f"the completion of {pending.what}", pending.sink, err, value)
        except BaseException:  # noqa: BLE001
            logger.exception("chinwag: cannot complete an operation")

    return cbtype(tramp)


DONE = _completion_trampoline(N.done_cb, None)
USER_DONE = _completion_trampoline(N.user_done_cb, User._from_c)
SEND_DONE = _completion_trampoline(N.send_cb, Message._from_c)
CALL_DONE = _completion_trampoline(N.call_done_cb, Call._from_c)
GROUP_DONE = _completion_trampoline(N.group_done_cb, Group._from_c)
GROUP_PAGE_DONE = _completion_trampoline(N.group_page_done_cb, GroupPage._from_c)
MEMBER_LIST_DONE = _completion_trampoline(N.member_list_done_cb, member_list)
MEMBER_DONE = _completion_trampoline(N.member_done_cb, GroupMember._from_c)
MESSAGE_PAGE_DONE = _completion_trampoline(N.message_page_done_cb, MessagePage._from_c)
USER_PAGE_DONE = _completion_trampoline(N.user_page_done_cb, UserPage._from_c)
CONVERSATION_DONE = _completion_trampoline(N.conversation_done_cb, Conversation._from_c)
CONVERSATION_PAGE_DONE = _completion_trampoline(
    N.conversation_page_done_cb, ConversationPage._from_c
)
UNREAD_COUNTS_DONE = _completion_trampoline(N.unread_counts_done_cb, UnreadCounts._from_c)
USER_LIST_DONE = _completion_trampoline(N.user_page_done_cb, lambda p: UserPage._from_c(p).users)

# ------------------------------------------------------------------------------------------
# log and session store
# ------------------------------------------------------------------------------------------


class LogSink:
    """The settings' ``log`` user_data: ``fn(record)``."""

    __slots__ = ("core", "fn")

    def __init__(self, core: Any, fn: Callable[[LogRecord], None]) -> None:
        self.core = core
        self.fn = fn


def _log(user_data: Optional[int], record: Any) -> None:
    try:
        sink = _registry.get(user_data or 0)
        if sink is None or not record:
            return
        _run(sink.core, "the log callback", sink.fn, LogRecord._from_c(record.contents))
    except BaseException:  # noqa: BLE001
        pass


LOG = N.log_cb(_log)

_STORAGE = 900


class StoreSlot:
    """The session store's user_data: the app's object with load/save/clear."""

    __slots__ = ("store",)

    def __init__(self, store: Any) -> None:
        self.store = store


def _store_load(user_data: Optional[int], reply: Optional[int]) -> int:
    try:
        slot = _registry.get(user_data or 0)
        if slot is None:
            return _STORAGE
        text = slot.store.load()
        if text is None:
            return 0
        if isinstance(text, (dict, list)):
            import json

            text = json.dumps(text)
        rc = N.library().chinwag_store_reply_set(reply, str(text).encode("utf-8"))
        return int(rc)
    except BaseException:  # noqa: BLE001
        logger.exception("chinwag: the session store's load() failed")
        return _STORAGE


def _store_save(user_data: Optional[int], session_json: Optional[bytes], durable: bool) -> int:
    try:
        slot = _registry.get(user_data or 0)
        if slot is None:
            return _STORAGE
        slot.store.save((session_json or b"").decode("utf-8"), bool(durable))
        return 0
    except BaseException:  # noqa: BLE001
        logger.exception("chinwag: the session store's save() failed")
        return _STORAGE


def _store_clear(user_data: Optional[int]) -> int:
    try:
        slot = _registry.get(user_data or 0)
        if slot is None:
            return _STORAGE
        slot.store.clear()
        return 0
    except BaseException:  # noqa: BLE001
        logger.exception("chinwag: the session store's clear() failed")
        return _STORAGE


STORE_LOAD = N.store_load_cb(_store_load)
STORE_SAVE = N.store_save_cb(_store_save)
STORE_CLEAR = N.store_clear_cb(_store_clear)
