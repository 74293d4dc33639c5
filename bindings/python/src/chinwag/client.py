"""The synchronous client: :class:`Client`.

Operations that the SDK completes later (login, sends, groups, calls, history, ...) come in two
forms, chosen by the ``callback`` keyword:

- **blocking** (no ``callback``): waits for the result and returns it, or raises the
  :class:`~chinwag.ChinwagError` subclass of the failure; ``timeout`` (seconds, default the
  client's ``default_timeout``) bounds the wait and raises :class:`~chinwag.WaitTimeoutError`.
  A blocking call from inside a callback of the same client would wait for itself: it raises
  :class:`~chinwag.ReentrantCallError` instead (use the callback form there).
- **callback** (``callback=fn``): returns at once (sends return the message's ``muid``,
  ``initiate_call`` the call's session id, everything else ``None``); later ``fn(error, result)``
  runs exactly once on the thread that runs the client's callbacks, with ``error`` ``None`` on
  success and ``result`` ``None`` on failure (``OperationCancelledError`` when the client is
  closed first).

Synchronous failures (bad arguments, not logged in, ...) raise at once in both forms.

Listeners: objects with ``on_*`` methods (:mod:`chinwag.listeners`) added by id, or decorated
functions (``@client.on("text_message_received")``). All callbacks run on the SDK's dispatcher
thread (default) or, with ``dispatch_mode=DispatchMode.APP``, on the thread calling
:meth:`Client.dispatch` (the asyncio client, :mod:`chinwag.aio`, does that for you).
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import select
import threading
import time
import weakref
from collections import defaultdict
from ctypes import byref, c_int, c_size_t, c_uint32, c_void_p
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
    overload,
)

from . import _bridge as B
from . import _native as N
from .errors import (
    ChinwagError,
    ClientFreedError,
    FeatureUnavailableError,
    InvalidArgumentError,
    NotFoundError,
    ReentrantCallError,
    WaitTimeoutError,
    error_for,
)
from .conversations import Conversation, ConversationPage, UnreadCounts
from .listeners import EVENT_FAMILY, FAMILY_METHODS, event_names, implements
from .types import (
    AppState,
    Call,
    CallType,
    ConnectionState,
    ConnectMode,
    ConversationFilter,
    DispatchMode,
    Group,
    GroupMember,
    GroupPage,
    GroupType,
    LogLevel,
    LogRecord,
    Message,
    MessagePage,
    Network,
    Presence,
    ReceiverType,
    Scope,
    User,
    UserPage,
)

__all__ = [
    "Client",
    "ConversationsRequest",
    "MessagesRequest",
    "UsersRequest",
    "SessionStore",
    "MemorySessionStore",
]

T = TypeVar("T")
#: ``callback(error, result)`` of the callback form.
Callback = Callable[[Optional[ChinwagError], Optional[T]], None]
Handler = TypeVar("Handler", bound=Callable[..., Any])

ReceiverTypeLike = Union[ReceiverType, str, int]

sdk_logger = logging.getLogger("chinwag.sdk")
_LOG_LEVELS = {
    LogLevel.ERROR: logging.ERROR,
    LogLevel.WARN: logging.WARNING,
    LogLevel.INFO: logging.INFO,
    LogLevel.DEBUG: logging.DEBUG,
}

_HUB_ID = "chinwag.python.hub"
#: Families the hub listens to from init; the real-time ones join on demand (_ensure_hub).
_HUB_AT_INIT = ("connection", "login")


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def _enc(value: Optional[str], what: str) -> Optional[bytes]:
    """A str argument as NUL-terminated UTF-8 (``None`` stays NULL).

    Lone surrogates pass through (``surrogatepass``) so that the SDK reports them as
    ``INVALID_UTF8``; an embedded NUL would silently cut the C string, so it is refused here
    with ``INVALID_ARGUMENT``.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if "\0" in value:
        raise InvalidArgumentError(102, "INVALID_ARGUMENT", f"{what} contains a NUL character")
    return value.encode("utf-8", "surrogatepass")


def _json_arg(value: Any, what: str) -> bytes:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(102, "INVALID_ARGUMENT", f"{what} is not JSON: {e}") from e
    return text.encode("utf-8")


def _receiver_type(value: ReceiverTypeLike) -> int:
    return int(ReceiverType.parse(value))


def _last_error(lib: N.Library, code: int) -> ChinwagError:
    buf = ctypes.create_string_buffer(4096)
    written = c_size_t(0)
    lib.chinwag_last_error_message(buf, len(buf), byref(written))
    return error_for(code, buf.value.decode("utf-8", "replace"))


def _take_string(lib: N.Library, ptr: c_void_p) -> Optional[str]:
    if not ptr.value:
        return None
    try:
        return ctypes.string_at(ptr.value).decode("utf-8", "replace")
    finally:
        lib.chinwag_string_free(ptr.value)


def _call_logged(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except Exception:
        B.logger.exception("chinwag: exception in handler %r (ignored; delivery continues)", fn)


class _Waiter:
    __slots__ = ("event", "error", "value")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.error: Optional[ChinwagError] = None
        self.value: Any = None

    def __call__(self, error: Optional[ChinwagError], value: Any) -> None:
        self.error = error
        self.value = value
        self.event.set()


class _Hub:
    """The internal listener behind ``@client.on(...)`` and the asyncio event streams: one
    registration per family, made at init, fanning out to handler lists."""

    def __init__(self) -> None:
        self.handlers: Dict[str, List[Callable[..., Any]]] = defaultdict(list)
        self.wildcards: List[Callable[[str, Any], None]] = []
        self.lock = threading.Lock()

    def wants(self, event: str) -> bool:
        return bool(self.handlers.get(event)) or bool(self.wildcards)

    def emit(self, event: str, *args: Any) -> None:
        for h in tuple(self.handlers.get(event, ())):
            _call_logged(h, *args)
        for w in tuple(self.wildcards):
            _call_logged(w, event, args[0] if args else None)


class _Core:
    """The state a client's callbacks may reach: never references the :class:`Client` itself,
    so a client nobody holds is collected (and freed) even while listeners are registered."""

    def __init__(self, lib: N.Library) -> None:
        self.lib = lib
        self.handle: Optional[int] = None
        self.app_mode = False
        self.lock = threading.Lock()
        self.listeners: Dict[Tuple[str, str], int] = {}
        self.hub = _Hub()
        self.pending_base_exception: Optional[BaseException] = None
        self.dispatching_thread: Optional[int] = None
        self.closing = False

    def h(self) -> int:
        handle = self.handle
        if handle is None:
            raise ClientFreedError(204, "CLIENT_FREED", "the client was closed")
        return handle

    def listener_released(self, slot: B.ListenerSlot) -> None:
        with self.lock:
            if self.listeners.get((slot.family, slot.id)) == slot.key:
                del self.listeners[(slot.family, slot.id)]

    def free(self) -> None:
        with self.lock:
            handle, self.handle = self.handle, None
            self.closing = True
        if handle is not None:
            self.lib.chinwag_client_free(handle)


# ------------------------------------------------------------------------------------------
# session store
# ------------------------------------------------------------------------------------------


class SessionStore:
    """The app's own session store (e.g. the platform's keychain) instead of the file in
    ``data_dir``. Implement the three methods; they run on the thread creating the client (the
    first ``load``) and on SDK threads afterwards, never two at once for one client. Raising
    reports ``STORAGE`` to the SDK (and logs the exception)."""

    def load(self) -> Optional[str]:
        """The JSON last given to :meth:`save`, or ``None`` when there is none."""
        raise NotImplementedError

    def save(self, session_json: str, durable: bool) -> None:
        """Keep ``session_json`` (secret: it holds the token). ``durable``: the user or token
        changed (login); make it survive a crash before returning."""
        raise NotImplementedError

    def clear(self) -> None:
        """Forget the session (logout)."""
        raise NotImplementedError


class MemorySessionStore(SessionStore):
    """A :class:`SessionStore` in memory (share one between clients to hand a session over)."""

    def __init__(self, session_json: Optional[str] = None) -> None:
        self.session_json = session_json
        self.saves = 0
        self.lock = threading.Lock()

    def load(self) -> Optional[str]:
        with self.lock:
            return self.session_json

    def save(self, session_json: str, durable: bool) -> None:
        with self.lock:
            self.session_json = session_json
            self.saves += 1

    def clear(self) -> None:
        with self.lock:
            self.session_json = None


# ------------------------------------------------------------------------------------------
# the client
# ------------------------------------------------------------------------------------------


class Client:
    """A Chinwag client (docs/behaviour.md, sections 1-9).

    ::

        with chinwag.Client("chinwag-app", "http://127.0.0.1:8080", data_dir="chat") as client:
            @client.on("text_message_received")
            def show(message):
                print(f"{message.sender}: {message.text}")

            client.login("alice", AUTH_KEY)      # auto mode: saves the session and connects
            client.send_text("bob", "Hi!")

    Arguments:

    - ``app_id``: the app (ASCII letters, digits, ``-_.@``); ``server_url``: ``http(s)://host:port``.
    - ``auto_connect``: login connects, a restored session reconnects, drops come back by
      themselves (default). ``False``: nothing connects until :meth:`connect`.
    - ``data_dir``: directory of the saved session (a new client with the same directory is
      logged in at once and, in auto mode, reconnects). ``None``: memory only.
    - ``presence``: whose presence to receive: :class:`~chinwag.Presence` or its name
      (``"all_users"``, ``"friends"``), or a list of roles.
    - ``extra_ca_pem``: extra trusted CA certificate(s), PEM (``bytes`` or ``str``).
    - the timings ``*_ms`` (milliseconds, ``0`` = the contract's default) and
      ``queue_capacity``: see ``chinwag_settings`` in ``chinwag.h``.
    - ``log``: ``True`` forwards the SDK's log records to the ``logging`` logger
      ``"chinwag.sdk"``; a callable receives each :class:`~chinwag.LogRecord` instead;
      ``False`` drops them.
    - ``session_store``: a :class:`SessionStore` (overrides ``data_dir``).
    - ``listeners``: ``{id: listener}`` registered before anything can happen, so that a
      restored session's first CONNECTING/CONNECTED and replayed events are heard.
      (``@client.on`` handlers added right after init hear them too: the internal hub is
      registered at init.)
    - ``dispatch_mode``: :attr:`DispatchMode.THREAD` (the SDK's dispatcher thread runs the
      callbacks) or :attr:`DispatchMode.APP` (the app calls :meth:`dispatch` when
      :meth:`dispatch_fd` is readable).
    - ``default_timeout``: seconds a blocking call waits by default.

    Raises :class:`~chinwag.ArgumentError` for bad settings, :class:`~chinwag.StorageError`
    for an unusable ``data_dir``, :class:`~chinwag.LibraryLoadError` when libchinwag is missing.
    The client is freed by :meth:`close` (or the ``with`` block, or garbage collection, or at
    interpreter exit).
    """

    def __init__(
        self,
        app_id: str,
        server_url: str,
        *,
        auto_connect: bool = True,
        data_dir: Union[str, "os.PathLike[str]", None] = None,
        presence: Union[Presence, str, Sequence[str]] = Presence.NONE,
        extra_ca_pem: Union[bytes, str, None] = None,
        connect_timeout_ms: int = 0,
        first_retry_max_ms: int = 0,
        backoff_base_ms: int = 0,
        backoff_cap_ms: int = 0,
        stable_after_ms: int = 0,
        suspend_after_ms: int = 0,
        suspended_retry_min_ms: int = 0,
        suspended_retry_max_ms: int = 0,
        heartbeat_grace_ms: int = 0,
        typing_timeout_ms: int = 0,
        probe_timeout_ms: int = 0,
        background_grace_ms: int = 0,
        hint_coalesce_ms: int = 0,
        listener_grace_ms: int = 0,
        queue_capacity: int = 0,
        log: Union[bool, Callable[[LogRecord], None]] = True,
        session_store: Optional[SessionStore] = None,
        listeners: Optional[Mapping[str, Any]] = None,
        dispatch_mode: Union[DispatchMode, str] = DispatchMode.THREAD,
        default_timeout: float = 30.0,
    ) -> None:
        lib = N.library()
        self._lib = lib
        core = _Core(lib)
        self._core = core
        self.app_id = app_id
        self.server_url = server_url
        self.default_timeout = default_timeout
        mode = DispatchMode.parse(dispatch_mode)
        if mode == DispatchMode.APP and not lib.has_app_dispatch:
            raise FeatureUnavailableError(
                f"{lib.path} (libchinwag {lib.version}) has no app-driven dispatch "
                "(chinwag_client_dispatch); use a newer libchinwag or DispatchMode.THREAD"
            )
        core.app_mode = mode == DispatchMode.APP

        s = N.chinwag_settings()
        s.struct_size = ctypes.sizeof(N.chinwag_settings)
        keep: List[Any] = []  # everything C reads during init

        def cstr(value: Optional[str], what: str) -> Optional[bytes]:
            b = _enc(value, what)
            keep.append(b)
            return b

        s.server_url = cstr(server_url, "server_url")
        s.connect_mode = int(ConnectMode.AUTO if auto_connect else ConnectMode.MANUAL)
        if isinstance(presence, (Presence, int)) or isinstance(presence, str):
            s.presence = int(Presence.parse(presence))
        else:
            roles = list(presence)
            s.presence = int(Presence.ROLES)
            s.presence_roles = cstr(",".join(roles), "presence roles")
        if data_dir is not None:
            s.data_dir = cstr(os.fspath(data_dir), "data_dir")
        if extra_ca_pem is not None:
            pem = extra_ca_pem.encode() if isinstance(extra_ca_pem, str) else bytes(extra_ca_pem)
            buf = (ctypes.c_uint8 * len(pem)).from_buffer_copy(pem)
            keep.append(buf)
            s.extra_ca_pem = ctypes.cast(buf, ctypes.POINTER(ctypes.c_uint8))
            s.extra_ca_pem_len = len(pem)
        timings = {
            "connect_timeout_ms": connect_timeout_ms,
            "first_retry_max_ms": first_retry_max_ms,
            "backoff_base_ms": backoff_base_ms,
            "backoff_cap_ms": backoff_cap_ms,
            "stable_after_ms": stable_after_ms,
            "suspend_after_ms": suspend_after_ms,
            "suspended_retry_min_ms": suspended_retry_min_ms,
            "suspended_retry_max_ms": suspended_retry_max_ms,
            "heartbeat_grace_ms": heartbeat_grace_ms,
            "typing_timeout_ms": typing_timeout_ms,
            "probe_timeout_ms": probe_timeout_ms,
            "background_grace_ms": background_grace_ms,
            "hint_coalesce_ms": hint_coalesce_ms,
            "listener_grace_ms": listener_grace_ms,
            "queue_capacity": queue_capacity,
        }
        for name, value in timings.items():
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**32:
                raise InvalidArgumentError(
                    102, "INVALID_ARGUMENT", f"{name} must be an int in 0..2^32-1, not {value!r}"
                )
            setattr(s, name, value)
        s.dispatch_mode = int(mode)

        keys: List[int] = []  # registry entries to release if init fails
        try:
            # log
            hub = core.hub
            if callable(log):
                app_log = log

                def log_fn(record: LogRecord) -> None:
                    app_log(record)
                    hub.emit("log", record)

            elif log:

                def log_fn(record: LogRecord) -> None:
                    level = _LOG_LEVELS.get(record.level, logging.INFO)
                    if sdk_logger.isEnabledFor(level):
                        sdk_logger.log(level, "%s: %s", record.target, record.message)
                    hub.emit("log", record)

            else:

                def log_fn(record: LogRecord) -> None:
                    hub.emit("log", record)

            log_key = B.register(B.LogSink(core, log_fn))
            keys.append(log_key)
            s.log = B.LOG
            s.log_user_data = log_key
            s.log_user_data_free = B.USER_DATA_FREE

            # session store
            if session_store is not None:
                store = N.chinwag_session_store()
                store.struct_size = ctypes.sizeof(N.chinwag_session_store)
                store.load = B.STORE_LOAD
                store.save = B.STORE_SAVE
                store.clear = B.STORE_CLEAR
                store_key = B.register(B.StoreSlot(session_store))
                keys.append(store_key)
                store.user_data = store_key
                store.user_data_free = B.USER_DATA_FREE
                keep.append(store)
                s.session_store = ctypes.pointer(store)

            # initial listeners: the hub for the connection and login families, and the app's.
            # The hub joins a real-time family (message, user, group, call) only when a handler
            # of it is added (Client.on, the asyncio streams): registered at init it would be a
            # listener of every kind from the start, and the library would hand a restored
            # session's first events to it instead of holding them for the app's listeners
            # added right after init (the listener grace).
            initial: List[Tuple[str, str, Any, bool]] = []
            for family in _HUB_AT_INIT:
                initial.append((family, _HUB_ID, hub, True))
            for listener_id, listener in (listeners or {}).items():
                families = _families_of(listener)
                if not families:
                    raise TypeError(f"listener {listener_id!r} has no on_* callback method")
                for family in families:
                    initial.append((family, listener_id, listener, False))
            entries = []
            slots = []
            for family, listener_id, target, is_hub in initial:
                methods = FAMILY_METHODS[family] if is_hub else _methods_of(target, family)
                struct = B.build_listener_struct(family, methods)
                slot = B.ListenerSlot(core, family, listener_id, target, is_hub)
                slot.key = B.register(slot)
                keys.append(slot.key)
                slots.append(slot)
                entry = N.chinwag_initial_listener()
                entry.struct_size = ctypes.sizeof(N.chinwag_initial_listener)
                entry.kind = N.LISTENER_FAMILIES[family][0]
                entry.id = cstr(listener_id, "listener id")
                entry.listener = ctypes.cast(ctypes.pointer(struct), c_void_p)
                entry.user_data = slot.key
                entry.user_data_free = B.USER_DATA_FREE
                keep.append(struct)
                entries.append(entry)
            array = (ctypes.POINTER(N.chinwag_initial_listener) * len(entries))(
                *[ctypes.pointer(e) for e in entries]
            )
            keep.append(entries)
            s.listeners = array
            s.listeners_len = len(entries)
            for slot in slots:
                core.listeners[(slot.family, slot.id)] = slot.key

            out = c_void_p()
            rc = lib.chinwag_client_init(_enc(app_id, "app_id"), byref(s), byref(out))
        except BaseException:
            for key in keys:  # nothing reached C: release what was registered
                B.release(key)
            core.listeners.clear()
            raise
        if rc != 0:
            error = _last_error(lib, rc)
            for key in keys:  # no user_data_free runs when init fails
                B.release(key)
            core.listeners.clear()
            raise error
        core.handle = out.value
        self._finalizer = weakref.finalize(self, _Core.free, core)

    # -- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        """Frees the client: closes its connection, resolves every unfinished operation with
        :class:`~chinwag.OperationCancelledError`, releases every listener. Idempotent.

        Outside a callback, all of that has happened when this returns and no callback of the
        client runs afterwards. Inside one of its callbacks it returns at once and the SDK
        finishes after that callback. Later calls raise :class:`~chinwag.ClientFreedError`.
        """
        self._finalizer()

    @property
    def closed(self) -> bool:
        return self._core.handle is None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else self.status.name
        return f"<chinwag.Client {self.app_id} {self.server_url} {state}>"

    # -- plumbing ------------------------------------------------------------------------------

    def _check(self, rc: int) -> None:
        if rc != 0:
            raise _last_error(self._lib, rc)

    def _start(
        self,
        what: str,
        fn: Any,
        args: Sequence[Any],
        done: Any,
        callback: Optional[Callable[[Optional[ChinwagError], Any], None]],
        timeout: Optional[float],
        after: Sequence[Any] = (),
        out: bool = False,
    ) -> Any:
        """Starts an async operation: ``fn(handle, *args, done, user_data, *after[, &out])``.

        Blocking without ``callback``; else returns the ``out`` string (or ``None``)."""
        core = self._core
        handle = core.h()
        waiter: Optional[_Waiter] = None
        if callback is None:
            if B.in_callback(core):
                raise ReentrantCallError(
                    205,
                    "REENTRANT_CALL",
                    f"blocking {what}() inside a callback of this client would wait for "
                    f"itself; pass callback= (or use the asyncio client)",
                )
            waiter = _Waiter()
            sink: Callable[[Optional[ChinwagError], Any], None] = waiter
        else:
            sink = callback
        key = B.register(B.Pending(core, sink, what))
        out_ptr = c_void_p()
        call_args: List[Any] = [handle, *args, done, key, *after]
        if out:
            call_args.append(byref(out_ptr))
        rc = fn(*call_args)
        if rc != 0:
            B.release(key)
            raise _last_error(self._lib, rc)
        out_str = _take_string(self._lib, out_ptr) if out else None
        if waiter is None:
            return out_str
        return self._wait(waiter, timeout, what)

    def _wait(self, waiter: _Waiter, timeout: Optional[float], what: str) -> Any:
        if timeout is None:
            timeout = self.default_timeout
        deadline = time.monotonic() + timeout
        core = self._core
        if core.app_mode:
            # Nobody else may be dispatching: run the callbacks here while waiting.
            while not waiter.event.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                handle = core.handle
                if handle is None:
                    waiter.event.wait(remaining)
                    break
                fd = self.dispatch_fd()
                try:
                    select.select([fd], [], [], remaining)
                except (OSError, ValueError):
                    pass
                if core.handle is not None:
                    try:
                        self.dispatch()
                    except ClientFreedError:
                        pass
        else:
            waiter.event.wait(timeout)
        if not waiter.event.is_set():
            raise WaitTimeoutError(f"{what}: no result within {timeout:g} s (it may still finish)")
        if waiter.error is not None:
            raise waiter.error
        return waiter.value

    # -- listeners ------------------------------------------------------------------------------

    def _add_family(self, family: str, listener_id: str, listener: Any) -> None:
        core = self._core
        handle = core.h()
        methods = _methods_of(listener, family)
        struct = B.build_listener_struct(family, methods)
        slot = B.ListenerSlot(core, family, listener_id, listener, False)
        slot.key = B.register(slot)
        fn = getattr(self._lib, f"chinwag_client_add_{family}_listener")
        with core.lock:
            previous = core.listeners.get((family, listener_id))
            core.listeners[(family, listener_id)] = slot.key
        rc = fn(handle, _enc(listener_id, "listener id"), byref(struct), slot.key, B.USER_DATA_FREE)
        if rc != 0:
            B.release(slot.key)
            with core.lock:
                if core.listeners.get((family, listener_id)) == slot.key:
                    if previous is None:
                        del core.listeners[(family, listener_id)]
                    else:
                        core.listeners[(family, listener_id)] = previous
            raise _last_error(self._lib, rc)

    def _ensure_hub(self, families: Any) -> None:
        """Registers the hub's listener for each of ``families`` it does not listen to yet."""
        core = self._core
        for family in sorted(families):
            with core.lock:
                if (family, _HUB_ID) in core.listeners:
                    continue
            struct = B.build_listener_struct(family, FAMILY_METHODS[family])
            slot = B.ListenerSlot(core, family, _HUB_ID, core.hub, True)
            slot.key = B.register(slot)
            fn = getattr(self._lib, f"chinwag_client_add_{family}_listener")
            with core.lock:
                if (family, _HUB_ID) in core.listeners:  # another thread was first
                    B.release(slot.key)
                    continue
                core.listeners[(family, _HUB_ID)] = slot.key
            rc = fn(core.h(), _enc(_HUB_ID, "listener id"), byref(struct), slot.key, B.USER_DATA_FREE)
            if rc != 0:
                B.release(slot.key)
                with core.lock:
                    if core.listeners.get((family, _HUB_ID)) == slot.key:
                        del core.listeners[(family, _HUB_ID)]
                raise _last_error(self._lib, rc)

    def _remove_family(self, family: str, listener_id: str) -> None:
        fn = getattr(self._lib, f"chinwag_client_remove_{family}_listener")
        self._check(fn(self._core.h(), _enc(listener_id, "listener id")))

    def add_listener(self, listener_id: str, listener: Any) -> List[str]:
        """Adds (or replaces) ``listener`` under ``listener_id`` in every family whose
        ``on_*`` methods it has (see :mod:`chinwag.listeners`); returns those families.

        Callbacks run on the callback thread, one at a time, in event order; they may call
        any method of the client (callback forms, listener changes, :meth:`close`)."""
        families = _families_of(listener)
        if not families:
            raise TypeError(f"{listener!r} has no on_* callback method of a Chinwag listener")
        for family in families:
            self._add_family(family, listener_id, listener)
        return families

    def remove_listener(self, listener_id: str) -> None:
        """Removes the listener ``listener_id`` from every family it was added to.

        Outside a callback: when this returns, it is not running and never runs again.
        Inside one: it gets no further events. Raises :class:`~chinwag.NotFoundError` when no
        listener has this id."""
        with self._core.lock:
            families = [f for (f, i) in self._core.listeners if i == listener_id]
        if not families or listener_id == _HUB_ID:
            raise NotFoundError(407, "NOT_FOUND", f"no listener with id {listener_id!r}")
        for family in families:
            try:
                self._remove_family(family, listener_id)
            except NotFoundError:
                pass

    def listener_ids(self) -> List[str]:
        """The ids of the registered listeners."""
        with self._core.lock:
            return sorted({i for (_, i) in self._core.listeners if i != _HUB_ID})

    def add_connection_listener(self, listener_id: str, listener: Any) -> None:
        """Adds (or replaces) a :class:`~chinwag.ConnectionListener`-like object."""
        self._add_family("connection", listener_id, listener)

    def remove_connection_listener(self, listener_id: str) -> None:
        self._remove_family("connection", listener_id)

    def add_login_listener(self, listener_id: str, listener: Any) -> None:
        """Adds (or replaces) a :class:`~chinwag.LoginListener`-like object."""
        self._add_family("login", listener_id, listener)

    def remove_login_listener(self, listener_id: str) -> None:
        self._remove_family("login", listener_id)

    def add_message_listener(self, listener_id: str, listener: Any) -> None:
        """Adds (or replaces) a :class:`~chinwag.MessageListener`-like object."""
        self._add_family("message", listener_id, listener)

    def remove_message_listener(self, listener_id: str) -> None:
        self._remove_family("message", listener_id)

    def add_user_listener(self, listener_id: str, listener: Any) -> None:
        """Adds (or replaces) a :class:`~chinwag.UserListener`-like object (presence)."""
        self._add_family("user", listener_id, listener)

    def remove_user_listener(self, listener_id: str) -> None:
        self._remove_family("user", listener_id)

    def add_group_listener(self, listener_id: str, listener: Any) -> None:
        """Adds (or replaces) a :class:`~chinwag.GroupListener`-like object."""
        self._add_family("group", listener_id, listener)

    def remove_group_listener(self, listener_id: str) -> None:
        self._remove_family("group", listener_id)

    def add_call_listener(self, listener_id: str, listener: Any) -> None:
        """Adds (or replaces) a :class:`~chinwag.CallListener`-like object."""
        self._add_family("call", listener_id, listener)

    def remove_call_listener(self, listener_id: str) -> None:
        self._remove_family("call", listener_id)

    def add_log_listener(self, listener_id: str, listener: Any) -> None:
        """Adds (or replaces) a :class:`~chinwag.LogListener`-like object."""
        self._add_family("log", listener_id, listener)

    def remove_log_listener(self, listener_id: str) -> None:
        self._remove_family("log", listener_id)

    @overload
    def on(self, event: str) -> Callable[[Handler], Handler]: ...

    @overload
    def on(self, event: str, handler: Handler) -> Handler: ...

    def on(self, event: str, handler: Optional[Handler] = None) -> Any:
        """Registers ``handler`` for ``event`` (a listener method name with or without
        ``on_``, or ``"message"`` for every received message); usable as a decorator::

            @client.on("text_message_received")
            def show(message: chinwag.Message) -> None: ...

        The handler gets the callback's payload (none for ``logout_success``) and runs like
        any callback; an exception it raises is logged."""
        names = event_names(event)

        def add(fn: Handler) -> Handler:
            if not callable(fn):
                raise TypeError("a handler must be callable")
            self._ensure_hub({EVENT_FAMILY[name] for name in names})
            hub = self._core.hub
            with hub.lock:
                for name in names:
                    hub.handlers[name] = hub.handlers[name] + [fn]
            return fn

        return add(handler) if handler is not None else add

    def off(self, event: str, handler: Optional[Callable[..., Any]] = None) -> None:
        """Removes ``handler`` (or every handler) of ``event``."""
        hub = self._core.hub
        with hub.lock:
            for name in event_names(event):
                if handler is None:
                    hub.handlers[name] = []
                else:
                    hub.handlers[name] = [h for h in hub.handlers[name] if h != handler]

    def _subscribe_all(self, fn: Callable[[str, Any], None]) -> Callable[[], None]:
        """Calls ``fn(event, payload)`` for every event (internal: the asyncio streams)."""
        self._ensure_hub(set(EVENT_FAMILY.values()) - {"log"})
        hub = self._core.hub
        with hub.lock:
            hub.wildcards = hub.wildcards + [fn]

        def unsubscribe() -> None:
            with hub.lock:
                hub.wildcards = [w for w in hub.wildcards if w is not fn]

        return unsubscribe

    # -- login and session ----------------------------------------------------------------------

    @overload
    def create_user(
        self, uid: str, auth_key: str, *, name: Optional[str] = None, timeout: Optional[float] = None
    ) -> User: ...

    @overload
    def create_user(
        self, uid: str, auth_key: str, *, name: Optional[str] = None, callback: Callback[User]
    ) -> None: ...

    def create_user(
        self,
        uid: str,
        auth_key: str,
        *,
        name: Optional[str] = None,
        timeout: Optional[float] = None,
        callback: Any = None,
    ) -> Any:
        """Creates user ``uid`` (display name ``name``, default the uid) with the server's
        development auth key, as :meth:`login` takes it; needs no logged-in user. Returns the
        stored :class:`~chinwag.User`. Errors: ``UserExistsError`` (log in instead),
        ``AuthFailedError`` (wrong key), ``InvalidArgumentError`` (bad uid, empty name or key),
        ``NetworkError``."""
        return self._start(
            "create_user",
            self._lib.chinwag_client_create_user,
            [_enc(uid, "uid"), _enc(name, "name"), _enc(auth_key, "auth_key")],
            B.USER_DONE,
            callback,
            timeout,
        )

    @overload
    def login(self, uid: str, auth_key: str, *, timeout: Optional[float] = None) -> User: ...

    @overload
    def login(self, uid: str, auth_key: str, *, callback: Callback[User]) -> None: ...

    def login(self, uid: str, auth_key: str, *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """Logs in with the server's development auth key: authenticates, saves the session,
        then (auto mode) connects. Returns the :class:`~chinwag.User`. Errors:
        ``AuthFailedError``, ``NotFoundError``, ``NetworkError``, ``LoginInProgressError``, ..."""
        return self._start(
            "login",
            self._lib.chinwag_client_login,
            [_enc(uid, "uid"), _enc(auth_key, "auth_key")],
            B.USER_DONE,
            callback,
            timeout,
        )

    @overload
    def login_with_token(self, token: str, *, timeout: Optional[float] = None) -> User: ...

    @overload
    def login_with_token(self, token: str, *, callback: Callback[User]) -> None: ...

    def login_with_token(self, token: str, *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """Logs in with a token minted by the app's backend (production); as :meth:`login`."""
        return self._start(
            "login_with_token",
            self._lib.chinwag_client_login_with_token,
            [_enc(token, "token")],
            B.USER_DONE,
            callback,
            timeout,
        )

    @overload
    def logout(self, *, timeout: Optional[float] = None) -> None: ...

    @overload
    def logout(self, *, callback: Callback[None]) -> None: ...

    def logout(self, *, timeout: Optional[float] = None, callback: Any = None) -> None:
        """Logs out: closes the socket, fails queued sends with ``LoggedOutError``, tells the
        server (which revokes the token) and always purges the local session. Raises
        ``NotLoggedInError`` when nobody was logged in, a network error when the server could
        not be told (the local session is purged all the same)."""
        return self._start(
            "logout", self._lib.chinwag_client_logout, [], B.DONE, callback, timeout
        )

    def logged_in_user(self) -> Optional[User]:
        """The logged-in user from the saved session (no network); ``None`` when logged out."""
        out = c_void_p()
        rc = self._lib.chinwag_client_get_logged_in_user(self._core.h(), byref(out))
        if rc == 200:  # NOT_LOGGED_IN
            return None
        self._check(rc)
        if not out.value:
            return None
        try:
            return User._from_c(ctypes.cast(out, ctypes.POINTER(N.chinwag_user)).contents)
        finally:
            self._lib.chinwag_user_free(out)

    get_logged_in_user = logged_in_user

    # -- connection ----------------------------------------------------------------------------

    @property
    def status(self) -> ConnectionState:
        """The current :class:`~chinwag.ConnectionState`."""
        out = c_uint32()
        self._check(self._lib.chinwag_client_connection_status(self._core.h(), byref(out)))
        return ConnectionState(out.value)

    def connection_status(self) -> ConnectionState:
        """The current :class:`~chinwag.ConnectionState` (same as :attr:`status`)."""
        return self.status

    def connect(self) -> None:
        """Connects with the saved session and keeps the connection up until disconnect,
        logout or FAILED. Non-blocking: progress arrives as state events. Raises
        ``NotLoggedInError`` without a session."""
        self._check(self._lib.chinwag_client_connect(self._core.h()))

    def disconnect(self) -> None:
        """Disconnects (non-blocking). When it returns, no message, typing, receipt, presence,
        group or call callback runs until the next connect; queued sends fail with
        ``DisconnectedError``."""
        self._check(self._lib.chinwag_client_disconnect(self._core.h()))

    def network_changed(self, network: Union[Network, str, bool]) -> None:
        """Platform hint: the network went down (drop now) or up (attempt now, or probe).
        ``network``: :class:`~chinwag.Network`, ``"up"``/``"down"`` or a bool (up)."""
        value = (Network.UP if network else Network.DOWN) if isinstance(network, bool) else Network.parse(network)
        self._check(self._lib.chinwag_client_network_changed(self._core.h(), int(value)))

    def app_state_changed(self, state: Union[AppState, str]) -> None:
        """Platform hint: ``"background"`` closes the socket after a grace period,
        ``"foreground"`` attempts now."""
        self._check(
            self._lib.chinwag_client_app_state_changed(self._core.h(), int(AppState.parse(state)))
        )

    # -- app-driven dispatch ------------------------------------------------------------------

    @property
    def dispatch_mode(self) -> DispatchMode:
        return DispatchMode.APP if self._core.app_mode else DispatchMode.THREAD

    def dispatch_fd(self) -> int:
        """App-driven dispatch: a descriptor that is readable while callbacks wait for
        :meth:`dispatch`. Owned by the client (closed by :meth:`close`: take it out of your
        poller first); never read it."""
        self._need_app_mode()
        out = c_int(-1)
        self._check(self._lib.chinwag_client_dispatch_fd(self._core.h(), byref(out)))
        return out.value

    def dispatch(self, max_items: int = 0) -> int:
        """App-driven dispatch: runs up to ``max_items`` waiting callbacks (``0``: all that wait
        now) on the calling thread; returns how many items it took. Raises
        ``ReentrantCallError`` from inside a callback of this client."""
        self._need_app_mode()
        core = self._core
        ran = c_size_t(0)
        me = threading.get_ident()
        previous = core.dispatching_thread
        core.dispatching_thread = me
        try:
            rc = self._lib.chinwag_client_dispatch(core.h(), max_items, byref(ran))
        finally:
            core.dispatching_thread = previous
        pending, core.pending_base_exception = core.pending_base_exception, None
        if pending is not None:
            raise pending
        self._check(rc)
        return int(ran.value)

    def _need_app_mode(self) -> None:
        if not self._core.app_mode:
            raise InvalidArgumentError(
                102,
                "INVALID_ARGUMENT",
                "dispatch is for DispatchMode.APP clients; this one has a dispatcher thread",
            )

    # -- messages -------------------------------------------------------------------------------

    @overload
    def send_text(self, receiver: str, text: str, *, receiver_type: ReceiverTypeLike = ..., timeout: Optional[float] = None) -> Message: ...

    @overload
    def send_text(self, receiver: str, text: str, *, receiver_type: ReceiverTypeLike = ..., callback: Callback[Message]) -> str: ...

    def send_text(
        self,
        receiver: str,
        text: str,
        *,
        receiver_type: ReceiverTypeLike = ReceiverType.USER,
        timeout: Optional[float] = None,
        callback: Any = None,
    ) -> Any:
        """Sends a text message to a user (``receiver`` a uid) or a group
        (``receiver_type="group"``, a guid). Blocking: returns the stored
        :class:`~chinwag.Message` once the server acknowledged it (queued while
        (re)connecting). Callback form: returns the message's ``muid`` at once."""
        return self._start(
            "send_text",
            self._lib.chinwag_client_send_text,
            [_receiver_type(receiver_type), _enc(receiver, "receiver"), _enc(text, "text")],
            B.SEND_DONE,
            callback,
            timeout,
            out=True,
        )

    @overload
    def send_custom(self, receiver: str, custom_type: str, data: Any, *, receiver_type: ReceiverTypeLike = ..., timeout: Optional[float] = None) -> Message: ...

    @overload
    def send_custom(self, receiver: str, custom_type: str, data: Any, *, receiver_type: ReceiverTypeLike = ..., callback: Callback[Message]) -> str: ...

    def send_custom(
        self,
        receiver: str,
        custom_type: str,
        data: Any,
        *,
        receiver_type: ReceiverTypeLike = ReceiverType.USER,
        timeout: Optional[float] = None,
        callback: Any = None,
    ) -> Any:
        """Sends a custom message: app-defined ``custom_type`` (e.g. ``"location"``) and
        ``data`` (any JSON-serialisable value). As :meth:`send_text` otherwise."""
        return self._start(
            "send_custom",
            self._lib.chinwag_client_send_custom,
            [
                _receiver_type(receiver_type),
                _enc(receiver, "receiver"),
                _enc(custom_type, "custom_type"),
                _json_arg(data, "data"),
            ],
            B.SEND_DONE,
            callback,
            timeout,
            out=True,
        )

    @overload
    def send_media(self, receiver: str, media_type: str, url: str, *, caption: Optional[str] = None, metadata: Optional[Dict[str, Any]] = None, receiver_type: ReceiverTypeLike = ..., timeout: Optional[float] = None) -> Message: ...

    @overload
    def send_media(self, receiver: str, media_type: str, url: str, *, caption: Optional[str] = None, metadata: Optional[Dict[str, Any]] = None, receiver_type: ReceiverTypeLike = ..., callback: Callback[Message]) -> str: ...

    def send_media(
        self,
        receiver: str,
        media_type: str,
        url: str,
        *,
        caption: Optional[str] = None,
        metadata: Optional[Dict[str, Any]] = None,
        receiver_type: ReceiverTypeLike = ReceiverType.USER,
        timeout: Optional[float] = None,
        callback: Any = None,
    ) -> Any:
        """Sends a media message: ``media_type`` ``"image"``, ``"video"``, ``"audio"`` or
        ``"file"``; ``url`` of the file (hosted by the app); optional ``caption`` and
        ``metadata`` (a dict). For several attachments use :meth:`send_message`."""
        return self._start(
            "send_media",
            self._lib.chinwag_client_send_media,
            [
                _receiver_type(receiver_type),
                _enc(receiver, "receiver"),
                _enc(media_type, "media_type"),
                _enc(url, "url"),
                _enc(caption, "caption"),
                None if metadata is None else _json_arg(metadata, "metadata"),
            ],
            B.SEND_DONE,
            callback,
            timeout,
            out=True,
        )

    @overload
    def send_message(self, message: Mapping[str, Any], *, timeout: Optional[float] = None) -> Message: ...

    @overload
    def send_message(self, message: Mapping[str, Any], *, callback: Callback[Message]) -> str: ...

    def send_message(self, message: Mapping[str, Any], *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """Sends any message given as the protocol's message object (a dict), e.g.
        ``{"receiver_type": "user", "receiver": "bob", "type": "image",
        "attachments": [{"url": "..."}]}`` (fields: ``muid``, ``receiver_type``,
        ``receiver``, ``category``, ``type``, ``text``, ``data``, ``attachments``,
        ``metadata``, ``parent_id``, ``quoted_id``)."""
        d = dict(message)
        if isinstance(d.get("receiver_type"), ReceiverType):
            d["receiver_type"] = d["receiver_type"].label
        if "attachments" in d:
            d["attachments"] = [a.to_dict() if hasattr(a, "to_dict") else a for a in d["attachments"]]
        return self._start(
            "send_message",
            self._lib.chinwag_client_send_message,
            [_json_arg(d, "message")],
            B.SEND_DONE,
            callback,
            timeout,
            out=True,
        )

    @overload
    def edit_message(self, message_id: Union[int, Message], *, text: Optional[str] = None, data: Any = None, metadata: Optional[Dict[str, Any]] = None, timeout: Optional[float] = None) -> Message: ...

    @overload
    def edit_message(self, message_id: Union[int, Message], *, text: Optional[str] = None, data: Any = None, metadata: Optional[Dict[str, Any]] = None, callback: Callback[Message]) -> None: ...

    def edit_message(
        self,
        message_id: Union[int, Message],
        *,
        text: Optional[str] = None,
        data: Any = None,
        metadata: Optional[Dict[str, Any]] = None,
        timeout: Optional[float] = None,
        callback: Any = None,
    ) -> Any:
        """Edits one's own message: new ``text``, custom ``data`` and/or ``metadata`` (at least
        one). Needs a connected client. Returns the edited :class:`~chinwag.Message`; the
        conversation hears ``on_message_edited``."""
        return self._start(
            "edit_message",
            self._lib.chinwag_client_edit_message,
            [
                _message_id(message_id),
                _enc(text, "text"),
                None if data is None else _json_arg(data, "data"),
                None if metadata is None else _json_arg(metadata, "metadata"),
            ],
            B.SEND_DONE,
            callback,
            timeout,
        )

    @overload
    def delete_message(self, message_id: Union[int, Message], *, timeout: Optional[float] = None) -> Message: ...

    @overload
    def delete_message(self, message_id: Union[int, Message], *, callback: Callback[Message]) -> None: ...

    def delete_message(self, message_id: Union[int, Message], *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """Deletes a message (soft: it stays with ``deleted_at`` set and no text): one's own,
        or any in a group the user moderates. Returns the deleted message."""
        return self._start(
            "delete_message",
            self._lib.chinwag_client_delete_message,
            [_message_id(message_id)],
            B.SEND_DONE,
            callback,
            timeout,
        )

    def start_typing(self, receiver: str, *, receiver_type: ReceiverTypeLike = ReceiverType.USER) -> None:
        """Tells ``receiver`` that the user started typing. Never queued: raises
        ``NotConnectedError`` unless connected, ``FeatureThrottledError`` while throttled."""
        self._check(
            self._lib.chinwag_client_start_typing(
                self._core.h(), _receiver_type(receiver_type), _enc(receiver, "receiver")
            )
        )

    def end_typing(self, receiver: str, *, receiver_type: ReceiverTypeLike = ReceiverType.USER) -> None:
        """Tells ``receiver`` that the user stopped typing; as :meth:`start_typing`."""
        self._check(
            self._lib.chinwag_client_end_typing(
                self._core.h(), _receiver_type(receiver_type), _enc(receiver, "receiver")
            )
        )

    def mark_delivered(self, message: Union[int, Message]) -> None:
        """Marks every message of the conversation up to ``message`` as delivered. Never
        queued (``NotConnectedError``)."""
        self._check(self._lib.chinwag_client_mark_delivered(self._core.h(), _message_id(message)))

    def mark_read(self, message: Union[int, Message]) -> None:
        """Marks every message of the conversation up to ``message`` as read."""
        self._check(self._lib.chinwag_client_mark_read(self._core.h(), _message_id(message)))

    def send_transient(self, receiver: str, data: Any, *, receiver_type: ReceiverTypeLike = ReceiverType.USER) -> None:
        """Sends a transient message (relayed, never stored): ``data`` is any JSON value.
        Never queued (``NotConnectedError``)."""
        self._check(
            self._lib.chinwag_client_send_transient(
                self._core.h(),
                _receiver_type(receiver_type),
                _enc(receiver, "receiver"),
                _json_arg(data, "data"),
            )
        )

    # -- history and user lists -----------------------------------------------------------------

    def messages_request(
        self,
        receiver: str,
        *,
        receiver_type: ReceiverTypeLike = ReceiverType.USER,
        limit: int = 0,
        category: Optional[str] = None,
        message_type: Optional[str] = None,
        from_message_id: int = 0,
    ) -> "MessagesRequest":
        """A history request for the conversation with a user or of a group (see
        :class:`MessagesRequest`)."""
        return MessagesRequest(
            self,
            receiver,
            receiver_type=receiver_type,
            limit=limit,
            category=category,
            message_type=message_type,
            from_message_id=from_message_id,
        )

    def users_request(
        self,
        *,
        limit: int = 0,
        search: Optional[str] = None,
        status: Optional[str] = None,
        role: Optional[str] = None,
    ) -> "UsersRequest":
        """A user list request (see :class:`UsersRequest`)."""
        return UsersRequest(self, limit=limit, search=search, status=status, role=role)

    # -- conversations --------------------------------------------------------------------------

    def conversations_request(
        self,
        *,
        limit: int = 0,
        conversation_type: Optional[ReceiverTypeLike] = None,
        unread_only: bool = False,
    ) -> "ConversationsRequest":
        """The user's conversations, newest last message first (see
        :class:`ConversationsRequest`)."""
        return ConversationsRequest(
            self, limit=limit, conversation_type=conversation_type, unread_only=unread_only
        )

    @overload
    def get_conversation(self, with_id: str, *, conversation_type: ReceiverTypeLike = ReceiverType.USER, timeout: Optional[float] = None) -> Conversation: ...

    @overload
    def get_conversation(self, with_id: str, *, conversation_type: ReceiverTypeLike = ReceiverType.USER, callback: Callback[Conversation]) -> None: ...

    def get_conversation(
        self,
        with_id: str,
        *,
        conversation_type: ReceiverTypeLike = ReceiverType.USER,
        timeout: Optional[float] = None,
        callback: Any = None,
    ) -> Any:
        """The conversation with user ``with_id`` (or of group ``with_id`` with
        ``conversation_type="group"``); ``NotFoundError`` before the first message."""
        return self._start(
            "get_conversation",
            self._lib.chinwag_client_get_conversation,
            [_receiver_type(conversation_type), _enc(with_id, "with_id")],
            B.CONVERSATION_DONE,
            callback,
            timeout,
        )

    @overload
    def unread_counts(self, *, timeout: Optional[float] = None) -> UnreadCounts: ...

    @overload
    def unread_counts(self, *, callback: Callback[UnreadCounts]) -> None: ...

    def unread_counts(self, *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """Unread messages overall, per user and per group."""
        return self._start(
            "unread_counts",
            self._lib.chinwag_client_get_unread_counts,
            [],
            B.UNREAD_COUNTS_DONE,
            callback,
            timeout,
        )

    @overload
    def delete_conversation(self, with_id: str, *, conversation_type: ReceiverTypeLike = ReceiverType.USER, timeout: Optional[float] = None) -> None: ...

    @overload
    def delete_conversation(self, with_id: str, *, conversation_type: ReceiverTypeLike = ReceiverType.USER, callback: Callback[None]) -> None: ...

    def delete_conversation(
        self,
        with_id: str,
        *,
        conversation_type: ReceiverTypeLike = ReceiverType.USER,
        timeout: Optional[float] = None,
        callback: Any = None,
    ) -> None:
        """Deletes a conversation for this user only: hidden (and read) until a new message
        comes; the user's devices hear ``on_conversation_updated`` with ``deleted``."""
        return self._start(
            "delete_conversation",
            self._lib.chinwag_client_delete_conversation,
            [_receiver_type(conversation_type), _enc(with_id, "with_id")],
            B.DONE,
            callback,
            timeout,
        )

    # -- users and friends ----------------------------------------------------------------------

    @overload
    def get_user(self, uid: str, *, timeout: Optional[float] = None) -> User: ...

    @overload
    def get_user(self, uid: str, *, callback: Callback[User]) -> None: ...

    def get_user(self, uid: str, *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """Fetches user ``uid`` (``NotFoundError`` if there is none)."""
        return self._start(
            "get_user", self._lib.chinwag_client_get_user, [_enc(uid, "uid")], B.USER_DONE, callback, timeout
        )

    @overload
    def add_friend(self, uid: str, *, timeout: Optional[float] = None) -> List[User]: ...

    @overload
    def add_friend(self, uid: str, *, callback: Callback[List[User]]) -> None: ...

    def add_friend(self, uid: str, *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """Asks ``uid`` to be a friend (accepts if ``uid`` already asked); returns the user's friends.

        A friendship is mutual: it exists once both users have asked.
        """
        return self._start(
            "add_friend", self._lib.chinwag_client_add_friend, [_enc(uid, "uid")], B.USER_LIST_DONE, callback, timeout
        )

    @overload
    def remove_friend(self, uid: str, *, timeout: Optional[float] = None) -> None: ...

    @overload
    def remove_friend(self, uid: str, *, callback: Callback[None]) -> None: ...

    def remove_friend(self, uid: str, *, timeout: Optional[float] = None, callback: Any = None) -> None:
        """Ends the friendship with ``uid`` (or withdraws or declines a pending ask)."""
        return self._start(
            "remove_friend", self._lib.chinwag_client_remove_friend, [_enc(uid, "uid")], B.DONE, callback, timeout
        )

    @overload
    def friends(self, *, timeout: Optional[float] = None) -> List[User]: ...

    @overload
    def friends(self, *, callback: Callback[List[User]]) -> None: ...

    def friends(self, *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """The logged-in user's friends."""
        return self._start("friends", self._lib.chinwag_client_friends, [], B.USER_LIST_DONE, callback, timeout)

    # -- blocking -------------------------------------------------------------------------------

    @overload
    def block_user(self, uid: str, *, timeout: Optional[float] = None) -> List[User]: ...

    @overload
    def block_user(self, uid: str, *, callback: Callback[List[User]]) -> None: ...

    def block_user(self, uid: str, *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """Blocks ``uid``: nothing of theirs reaches this user any more (in a direct
        conversation either side's send fails with ``ForbiddenError``, naming ``BLOCKED``);
        returns the complete blocked list."""
        return self._start(
            "block_user", self._lib.chinwag_client_block_user, [_enc(uid, "uid")], B.USER_LIST_DONE, callback, timeout
        )

    @overload
    def unblock_user(self, uid: str, *, timeout: Optional[float] = None) -> None: ...

    @overload
    def unblock_user(self, uid: str, *, callback: Callback[None]) -> None: ...

    def unblock_user(self, uid: str, *, timeout: Optional[float] = None, callback: Any = None) -> None:
        """Unblocks ``uid`` (one who is not blocked: nothing changes)."""
        return self._start(
            "unblock_user", self._lib.chinwag_client_unblock_user, [_enc(uid, "uid")], B.DONE, callback, timeout
        )

    @overload
    def blocked_users(self, *, timeout: Optional[float] = None) -> List[User]: ...

    @overload
    def blocked_users(self, *, callback: Callback[List[User]]) -> None: ...

    def blocked_users(self, *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """The users this user blocked."""
        return self._start(
            "blocked_users", self._lib.chinwag_client_blocked_users, [], B.USER_LIST_DONE, callback, timeout
        )

    # -- groups ---------------------------------------------------------------------------------

    @overload
    def create_group(self, guid: str, name: str, group_type: Union[GroupType, str] = ..., *, timeout: Optional[float] = None) -> Group: ...

    @overload
    def create_group(self, guid: str, name: str, group_type: Union[GroupType, str] = ..., *, callback: Callback[Group]) -> None: ...

    def create_group(
        self,
        guid: str,
        name: str,
        group_type: Union[GroupType, str] = GroupType.PUBLIC,
        *,
        timeout: Optional[float] = None,
        callback: Any = None,
    ) -> Any:
        """Creates group ``guid`` owned by the logged-in user (its admin). ``ForbiddenError``
        if the guid is taken."""
        return self._start(
            "create_group",
            self._lib.chinwag_client_create_group,
            [_enc(guid, "guid"), _enc(name, "name"), int(GroupType.parse(group_type))],
            B.GROUP_DONE,
            callback,
            timeout,
        )

    @overload
    def get_group(self, guid: str, *, timeout: Optional[float] = None) -> Group: ...

    @overload
    def get_group(self, guid: str, *, callback: Callback[Group]) -> None: ...

    def get_group(self, guid: str, *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """Fetches group ``guid`` (its ``scope`` is the user's)."""
        return self._start(
            "get_group", self._lib.chinwag_client_get_group, [_enc(guid, "guid")], B.GROUP_DONE, callback, timeout
        )

    @overload
    def join_group(self, guid: str, *, timeout: Optional[float] = None) -> Group: ...

    @overload
    def join_group(self, guid: str, *, callback: Callback[Group]) -> None: ...

    def join_group(self, guid: str, *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """Joins public group ``guid``; members hear ``on_member_joined``."""
        return self._start(
            "join_group", self._lib.chinwag_client_join_group, [_enc(guid, "guid")], B.GROUP_DONE, callback, timeout
        )

    @overload
    def leave_group(self, guid: str, *, timeout: Optional[float] = None) -> None: ...

    @overload
    def leave_group(self, guid: str, *, callback: Callback[None]) -> None: ...

    def leave_group(self, guid: str, *, timeout: Optional[float] = None, callback: Any = None) -> None:
        """Leaves group ``guid``; the others hear ``on_member_left``."""
        return self._start(
            "leave_group", self._lib.chinwag_client_leave_group, [_enc(guid, "guid")], B.DONE, callback, timeout
        )

    @overload
    def list_groups(self, *, joined: bool = False, after: Optional[str] = None, limit: int = 0, timeout: Optional[float] = None) -> GroupPage: ...

    @overload
    def list_groups(self, *, joined: bool = False, after: Optional[str] = None, limit: int = 0, callback: Callback[GroupPage]) -> None: ...

    def list_groups(
        self,
        *,
        joined: bool = False,
        after: Optional[str] = None,
        limit: int = 0,
        timeout: Optional[float] = None,
        callback: Any = None,
    ) -> Any:
        """One page of groups: the user's own (``joined=True``) or the public ones, after
        cursor ``after`` (a previous page's ``next_after``); ``limit`` 1-100 (0: 30)."""
        return self._start(
            "list_groups",
            self._lib.chinwag_client_list_groups,
            [bool(joined), _enc(after, "after"), limit],
            B.GROUP_PAGE_DONE,
            callback,
            timeout,
        )

    @overload
    def group_members(self, guid: str, *, timeout: Optional[float] = None) -> List[GroupMember]: ...

    @overload
    def group_members(self, guid: str, *, callback: Callback[List[GroupMember]]) -> None: ...

    def group_members(self, guid: str, *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """The members of group ``guid``."""
        return self._start(
            "group_members",
            self._lib.chinwag_client_group_members,
            [_enc(guid, "guid")],
            B.MEMBER_LIST_DONE,
            callback,
            timeout,
        )

    @overload
    def add_group_members(self, guid: str, members: Union[Sequence[str], Mapping[str, Union[Scope, str]]], *, timeout: Optional[float] = None) -> List[GroupMember]: ...

    @overload
    def add_group_members(self, guid: str, members: Union[Sequence[str], Mapping[str, Union[Scope, str]]], *, callback: Callback[List[GroupMember]]) -> None: ...

    def add_group_members(
        self,
        guid: str,
        members: Union[Sequence[str], Mapping[str, Union[Scope, str]]],
        *,
        timeout: Optional[float] = None,
        callback: Any = None,
    ) -> Any:
        """Adds users to group ``guid`` (admins only): a list of uids (participants) or a
        mapping ``{uid: scope}``. Returns the group's members after the change (the server's
        answer, docs/protocol.md); members and the added users hear ``on_member_added``."""
        if isinstance(members, str):
            raise TypeError("members must be a list of uids or a {uid: scope} mapping")
        if isinstance(members, Mapping):
            uids = list(members.keys())
            scopes: Optional[List[int]] = [int(Scope.parse(v)) for v in members.values()]
        else:
            uids = list(members)
            scopes = None
        encoded = [_enc(u, "uid") for u in uids]
        uid_array = (ctypes.c_char_p * max(1, len(encoded)))(*encoded)
        scope_array = None
        if scopes is not None:
            scope_array = (c_uint32 * max(1, len(scopes)))(*scopes)
        return self._start(
            "add_group_members",
            self._lib.chinwag_client_add_group_members,
            [_enc(guid, "guid"), uid_array, scope_array, len(encoded)],
            B.MEMBER_LIST_DONE,
            callback,
            timeout,
        )

    def _member_op(self, what: str, guid: str, uid: str, timeout: Optional[float], callback: Any) -> None:
        fn = getattr(self._lib, f"chinwag_client_{what}")
        return self._start(what, fn, [_enc(guid, "guid"), _enc(uid, "uid")], B.DONE, callback, timeout)

    @overload
    def kick_group_member(self, guid: str, uid: str, *, timeout: Optional[float] = None) -> None: ...

    @overload
    def kick_group_member(self, guid: str, uid: str, *, callback: Callback[None]) -> None: ...

    def kick_group_member(self, guid: str, uid: str, *, timeout: Optional[float] = None, callback: Any = None) -> None:
        """Kicks ``uid`` out of ``guid`` (moderators and admins; they may rejoin)."""
        return self._member_op("kick_group_member", guid, uid, timeout, callback)

    @overload
    def ban_group_member(self, guid: str, uid: str, *, timeout: Optional[float] = None) -> None: ...

    @overload
    def ban_group_member(self, guid: str, uid: str, *, callback: Callback[None]) -> None: ...

    def ban_group_member(self, guid: str, uid: str, *, timeout: Optional[float] = None, callback: Any = None) -> None:
        """Bans ``uid`` from ``guid`` (removed; cannot rejoin until unbanned)."""
        return self._member_op("ban_group_member", guid, uid, timeout, callback)

    @overload
    def unban_group_member(self, guid: str, uid: str, *, timeout: Optional[float] = None) -> None: ...

    @overload
    def unban_group_member(self, guid: str, uid: str, *, callback: Callback[None]) -> None: ...

    def unban_group_member(self, guid: str, uid: str, *, timeout: Optional[float] = None, callback: Any = None) -> None:
        """Lifts the ban of ``uid`` in ``guid``."""
        return self._member_op("unban_group_member", guid, uid, timeout, callback)

    @overload
    def change_group_member_scope(self, guid: str, uid: str, scope: Union[Scope, str], *, timeout: Optional[float] = None) -> GroupMember: ...

    @overload
    def change_group_member_scope(self, guid: str, uid: str, scope: Union[Scope, str], *, callback: Callback[GroupMember]) -> None: ...

    def change_group_member_scope(
        self,
        guid: str,
        uid: str,
        scope: Union[Scope, str],
        *,
        timeout: Optional[float] = None,
        callback: Any = None,
    ) -> Any:
        """Changes the scope of member ``uid`` (admins only); returns the member."""
        return self._start(
            "change_group_member_scope",
            self._lib.chinwag_client_change_group_member_scope,
            [_enc(guid, "guid"), _enc(uid, "uid"), int(Scope.parse(scope))],
            B.MEMBER_DONE,
            callback,
            timeout,
        )

    # -- calls ----------------------------------------------------------------------------------

    @overload
    def initiate_call(self, receiver: str, call_type: Union[CallType, str] = ..., *, receiver_type: ReceiverTypeLike = ..., timeout: Optional[float] = None) -> Call: ...

    @overload
    def initiate_call(self, receiver: str, call_type: Union[CallType, str] = ..., *, receiver_type: ReceiverTypeLike = ..., callback: Callback[Call]) -> str: ...

    def initiate_call(
        self,
        receiver: str,
        call_type: Union[CallType, str] = CallType.AUDIO,
        *,
        receiver_type: ReceiverTypeLike = ReceiverType.USER,
        timeout: Optional[float] = None,
        callback: Any = None,
    ) -> Any:
        """Calls a user or a group. Blocking: returns the :class:`~chinwag.Call` (status
        ``"initiated"``); callback form: returns its session id at once. The call listener
        then hears it accepted, rejected, or cancelled as unanswered."""
        return self._start(
            "initiate_call",
            self._lib.chinwag_client_initiate_call,
            [_receiver_type(receiver_type), _enc(receiver, "receiver"), int(CallType.parse(call_type))],
            B.CALL_DONE,
            callback,
            timeout,
            out=True,
        )

    def _call_op(self, what: str, session_id: Union[str, Call], extra: Sequence[Any], timeout: Optional[float], callback: Any) -> Any:
        sid = session_id.session_id if isinstance(session_id, Call) else session_id
        fn = getattr(self._lib, f"chinwag_client_{what}")
        return self._start(what, fn, [_enc(sid, "session_id"), *extra], B.CALL_DONE, callback, timeout)

    @overload
    def accept_call(self, session_id: Union[str, Call], *, timeout: Optional[float] = None) -> Call: ...

    @overload
    def accept_call(self, session_id: Union[str, Call], *, callback: Callback[Call]) -> None: ...

    def accept_call(self, session_id: Union[str, Call], *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """Accepts an incoming call; returns it (status ``"ongoing"``)."""
        return self._call_op("accept_call", session_id, [], timeout, callback)

    @overload
    def reject_call(self, session_id: Union[str, Call], *, busy: bool = False, timeout: Optional[float] = None) -> Call: ...

    @overload
    def reject_call(self, session_id: Union[str, Call], *, busy: bool = False, callback: Callback[Call]) -> None: ...

    def reject_call(self, session_id: Union[str, Call], *, busy: bool = False, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """Rejects an incoming call (as ``"busy"`` when ``busy``)."""
        return self._call_op("reject_call", session_id, [bool(busy)], timeout, callback)

    @overload
    def cancel_call(self, session_id: Union[str, Call], *, timeout: Optional[float] = None) -> Call: ...

    @overload
    def cancel_call(self, session_id: Union[str, Call], *, callback: Callback[Call]) -> None: ...

    def cancel_call(self, session_id: Union[str, Call], *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """Cancels an outgoing call before it is answered."""
        return self._call_op("cancel_call", session_id, [], timeout, callback)

    @overload
    def end_call(self, session_id: Union[str, Call], *, timeout: Optional[float] = None) -> Call: ...

    @overload
    def end_call(self, session_id: Union[str, Call], *, callback: Callback[Call]) -> None: ...

    def end_call(self, session_id: Union[str, Call], *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """Ends an ongoing call (either side)."""
        return self._call_op("end_call", session_id, [], timeout, callback)

    def active_call(self) -> Optional[Call]:
        """The call this client started (ringing or ongoing) or accepted, or ``None``."""
        out = c_void_p()
        self._check(self._lib.chinwag_client_active_call(self._core.h(), byref(out)))
        if not out.value:
            return None
        try:
            return Call._from_c(ctypes.cast(out, ctypes.POINTER(N.chinwag_call)).contents)
        finally:
            self._lib.chinwag_call_free(out.value)


def _message_id(value: Union[int, Message]) -> int:
    if isinstance(value, Message):
        return value.id
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"a message id must be an int or a Message, not {type(value).__name__}")
    return value


def _methods_of(listener: Any, family: str) -> List[str]:
    return [m for m in FAMILY_METHODS[family] if implements(listener, m)]


def _families_of(listener: Any) -> List[str]:
    return [f for f in FAMILY_METHODS if _methods_of(listener, f)]


# ------------------------------------------------------------------------------------------
# requests
# ------------------------------------------------------------------------------------------


class MessagesRequest:
    """A conversation's history, paged: :meth:`fetch_previous` goes back from the newest
    message (or from ``from_message_id``), :meth:`fetch_next` forward. Pages are oldest first.
    Both have the blocking and the callback form. Free it with :meth:`close` (or ``with``)."""

    def __init__(
        self,
        client: Client,
        receiver: str,
        *,
        receiver_type: ReceiverTypeLike = ReceiverType.USER,
        limit: int = 0,
        category: Optional[str] = None,
        message_type: Optional[str] = None,
        from_message_id: int = 0,
    ) -> None:
        self._client = client
        lib = client._lib
        opts = N.chinwag_messages_request_options()
        opts.struct_size = ctypes.sizeof(opts)
        opts.limit = limit
        opts.category = _enc(category, "category")
        opts.message_type = _enc(message_type, "message_type")
        opts.from_message_id = from_message_id
        out = c_void_p()
        rc = lib.chinwag_messages_request_new(
            _receiver_type(receiver_type), _enc(receiver, "receiver"), byref(opts), byref(out)
        )
        if rc != 0:
            raise _last_error(lib, rc)
        self._handle: Optional[int] = out.value
        self._finalizer = weakref.finalize(self, lib.chinwag_messages_request_free, out.value)

    def _h(self) -> int:
        if self._handle is None:
            raise InvalidArgumentError(102, "INVALID_ARGUMENT", "the request was closed")
        return self._handle

    @overload
    def fetch_previous(self, *, timeout: Optional[float] = None) -> MessagePage: ...

    @overload
    def fetch_previous(self, *, callback: Callback[MessagePage]) -> None: ...

    def fetch_previous(self, *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """The page of older messages (the newest page on the first call)."""
        c = self._client
        return c._start(
            "fetch_previous", c._lib.chinwag_client_fetch_previous, [self._h()], B.MESSAGE_PAGE_DONE, callback, timeout
        )

    @overload
    def fetch_next(self, *, timeout: Optional[float] = None) -> MessagePage: ...

    @overload
    def fetch_next(self, *, callback: Callback[MessagePage]) -> None: ...

    def fetch_next(self, *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """The page of newer messages after the newest one fetched so far."""
        c = self._client
        return c._start(
            "fetch_next", c._lib.chinwag_client_fetch_next, [self._h()], B.MESSAGE_PAGE_DONE, callback, timeout
        )

    def close(self) -> None:
        """Frees the request; fetches already made still complete."""
        self._handle = None
        self._finalizer()

    def __enter__(self) -> "MessagesRequest":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class UsersRequest:
    """A user list, paged in uid order: each :meth:`fetch` returns the next page; once
    exhausted, empty pages with ``has_more`` false."""

    def __init__(
        self,
        client: Client,
        *,
        limit: int = 0,
        search: Optional[str] = None,
        status: Optional[str] = None,
        role: Optional[str] = None,
    ) -> None:
        self._client = client
        lib = client._lib
        opts = N.chinwag_users_request_options()
        opts.struct_size = ctypes.sizeof(opts)
        opts.limit = limit
        opts.search = _enc(search, "search")
        opts.status = _enc(status, "status")
        opts.role = _enc(role, "role")
        out = c_void_p()
        rc = lib.chinwag_users_request_new(byref(opts), byref(out))
        if rc != 0:
            raise _last_error(lib, rc)
        self._handle: Optional[int] = out.value
        self._finalizer = weakref.finalize(self, lib.chinwag_users_request_free, out.value)

    @overload
    def fetch(self, *, timeout: Optional[float] = None) -> UserPage: ...

    @overload
    def fetch(self, *, callback: Callback[UserPage]) -> None: ...

    def fetch(self, *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """The next page of users."""
        if self._handle is None:
            raise InvalidArgumentError(102, "INVALID_ARGUMENT", "the request was closed")
        c = self._client
        return c._start(
            "fetch_users", c._lib.chinwag_client_fetch_users, [self._handle], B.USER_PAGE_DONE, callback, timeout
        )

    def __iter__(self) -> Iterable[User]:
        """Every user, fetching page after page (blocking)."""
        while True:
            page = self.fetch()
            yield from page.users
            if not page.has_more:
                return

    def close(self) -> None:
        self._handle = None
        self._finalizer()

    def __enter__(self) -> "UsersRequest":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class ConversationsRequest:
    """The user's conversations, newest last message first: each :meth:`fetch` returns the
    next page; once exhausted, empty pages with ``has_more`` false."""

    def __init__(
        self,
        client: Client,
        *,
        limit: int = 0,
        conversation_type: Optional[ReceiverTypeLike] = None,
        unread_only: bool = False,
    ) -> None:
        self._client = client
        lib = client._lib
        opts = N.chinwag_conversations_request_options()
        opts.struct_size = ctypes.sizeof(opts)
        opts.limit = limit
        if conversation_type is None:
            opts.filter = int(ConversationFilter.ALL)
        elif ReceiverType.parse(conversation_type) == ReceiverType.USER:
            opts.filter = int(ConversationFilter.USER)
        else:
            opts.filter = int(ConversationFilter.GROUP)
        opts.unread_only = 1 if unread_only else 0
        out = c_void_p()
        rc = lib.chinwag_conversations_request_new(byref(opts), byref(out))
        if rc != 0:
            raise _last_error(lib, rc)
        self._handle: Optional[int] = out.value
        self._finalizer = weakref.finalize(self, lib.chinwag_conversations_request_free, out.value)

    @overload
    def fetch(self, *, timeout: Optional[float] = None) -> ConversationPage: ...

    @overload
    def fetch(self, *, callback: Callback[ConversationPage]) -> None: ...

    def fetch(self, *, timeout: Optional[float] = None, callback: Any = None) -> Any:
        """The next page of conversations."""
        if self._handle is None:
            raise InvalidArgumentError(102, "INVALID_ARGUMENT", "the request was closed")
        c = self._client
        return c._start(
            "fetch_conversations",
            c._lib.chinwag_client_fetch_conversations,
            [self._handle],
            B.CONVERSATION_PAGE_DONE,
            callback,
            timeout,
        )

    def __iter__(self) -> Iterable[Conversation]:
        """Every conversation, fetching page after page (blocking)."""
        while True:
            page = self.fetch()
            yield from page.conversations
            if not page.has_more:
                return

    def close(self) -> None:
        self._handle = None
        self._finalizer()

    def __enter__(self) -> "ConversationsRequest":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
