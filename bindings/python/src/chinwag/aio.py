"""asyncio client: :class:`AsyncClient`.

::

    async with chinwag.aio.AsyncClient("chinwag-app", url, data_dir="chat") as client:
        async with client.events("text_message_received") as events:
            user = await client.login("alice", AUTH_KEY)
            await client.send_text("bob", "Hi!")
            async for event in events:
                print(event.data.sender, event.data.text)

How it works: the client uses app-driven dispatch (``DispatchMode.APP``). The SDK's readiness
descriptor is watched with ``loop.add_reader``; when it becomes readable the loop calls
``chinwag_client_dispatch``, which runs the waiting callbacks right there, on the loop thread.
Completions resolve ``asyncio`` futures and events feed the streams directly: no polling, no
extra thread, no locking. (With a libchinwag that predates app-driven dispatch it falls back to
the dispatcher thread and ``loop.call_soon_threadsafe``.)

Every coroutine returns the operation's result or raises its :class:`~chinwag.ChinwagError`
subclass; cancelling the awaiting task abandons the result (the SDK operation itself still
finishes). Create, use and close the client on the loop's thread.

Events: ``client.events(*names)`` is an async iterator of :class:`Event` (``name``, ``data``),
buffering from the moment it is created (create it *before* the action whose events you want);
``@client.on(name)`` registers plain functions or coroutine functions (run as tasks).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Dict,
    List,
    Mapping,
    Optional,
    Sequence,
    Set,
    TypeVar,
    Union,
)

from . import _native as N
from .client import Client, ReceiverTypeLike
from .conversations import Conversation, ConversationPage, UnreadCounts
from .errors import ChinwagError, ClientFreedError
from .listeners import event_names
from .types import (
    AppState,
    Call,
    CallType,
    ConnectionState,
    DispatchMode,
    Group,
    GroupMember,
    GroupPage,
    GroupType,
    Message,
    MessagePage,
    Network,
    ReceiverType,
    Scope,
    User,
    UserPage,
)

__all__ = [
    "AsyncClient",
    "Event",
    "EventStream",
    "AsyncConversationsRequest",
    "AsyncMessagesRequest",
    "AsyncUsersRequest",
]

T = TypeVar("T")
H = TypeVar("H", bound=Callable[..., Any])


@dataclass(frozen=True)
class Event:
    """One event: ``name`` (a listener method name without ``on_``, e.g.
    ``"text_message_received"``) and ``data`` (its payload: a :class:`~chinwag.Message`,
    :class:`~chinwag.StateChange`, ... or ``None`` for ``logout_success``)."""

    name: str
    data: Any


_END = object()


class EventStream:
    """An async iterator of :class:`Event` s (all, or only some names), buffered from its
    creation until :meth:`close` or the end of its ``async with`` block (leaving an
    ``async for`` loop does not close it). Iteration ends when the client closes."""

    def __init__(self, owner: "AsyncClient", names: Optional[Set[str]], maxsize: int) -> None:
        self._owner = owner
        self._names = names
        self._queue: "asyncio.Queue[Any]" = asyncio.Queue(maxsize)
        self._closed = False
        #: Events dropped because the buffer (``maxsize``) was full.
        self.dropped = 0

    def _put(self, event: Event) -> None:
        if self._closed or (self._names is not None and event.name not in self._names):
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1

    def _end(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._queue.put_nowait(_END)
            except asyncio.QueueFull:
                self._queue.get_nowait()
                self._queue.put_nowait(_END)

    def close(self) -> None:
        """Stops buffering; the iteration ends after what is buffered."""
        self._owner._streams.discard(self)
        self._end()

    def __aiter__(self) -> "EventStream":
        return self

    async def __anext__(self) -> Event:
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)  # later calls end too
            raise StopAsyncIteration
        return item

    async def get(self, timeout: Optional[float] = None) -> Event:
        """The next event; ``asyncio.TimeoutError`` after ``timeout`` seconds, ``EOFError``
        when the stream ended."""
        try:
            return await asyncio.wait_for(self.__anext__(), timeout)
        except StopAsyncIteration:
            raise EOFError("the event stream ended") from None

    async def wait_for(
        self, name: str, predicate: Optional[Callable[[Any], bool]] = None, timeout: Optional[float] = None
    ) -> Any:
        """Skips events until one named ``name`` (or an alias, e.g. ``"message"``) whose data
        satisfies ``predicate``; returns its data."""
        wanted = set(event_names(name))

        async def scan() -> Any:
            async for event in self:
                if event.name in wanted and (predicate is None or predicate(event.data)):
                    return event.data
            raise EOFError(f"the event stream ended before {name!r}")

        return await asyncio.wait_for(scan(), timeout)

    async def __aenter__(self) -> "EventStream":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()


class AsyncClient:
    """The asyncio client. Takes the settings of :class:`chinwag.Client` (except
    ``dispatch_mode``); must be created on a running loop's thread.

    ``sync`` is the underlying :class:`chinwag.Client` (its non-blocking methods are safe to
    call; do not use its blocking forms on the loop thread). ``dispatch_batch``: at most this
    many callbacks run per readiness wake-up, so a flood of events cannot starve the loop.
    """

    def __init__(self, app_id: str, server_url: str, *, dispatch_batch: int = 256, **settings: Any) -> None:
        if "dispatch_mode" in settings:
            raise TypeError("AsyncClient chooses the dispatch mode itself")
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._streams: Set[EventStream] = set()
        self._batch = max(0, int(dispatch_batch))
        lib = N.library()
        self._app_mode = lib.has_app_dispatch
        self._fd: Optional[int] = None
        self.sync = Client(
            app_id,
            server_url,
            dispatch_mode=DispatchMode.APP if self._app_mode else DispatchMode.THREAD,
            **settings,
        )
        # In app mode nothing is delivered before the first dispatch, so this subscription
        # (and any stream or handler added before the loop runs again) misses nothing.
        self._unsubscribe = self.sync._subscribe_all(self._on_event)
        if self._app_mode:
            self._fd = self.sync.dispatch_fd()
            self._loop.add_reader(self._fd, self._on_readable)

    # -- plumbing ---------------------------------------------------------------------------------

    def _on_readable(self) -> None:
        try:
            self.sync.dispatch(self._batch)
        except ClientFreedError:
            self._remove_reader()

    def _remove_reader(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            self._loop.remove_reader(fd)

    def _on_loop_thread(self) -> bool:
        return threading.get_ident() == self._loop_thread

    def _soon(self, fn: Callable[..., None], *args: Any) -> None:
        """Runs ``fn`` on the loop thread (now, when already there)."""
        if self._on_loop_thread():
            fn(*args)
        else:
            try:
                self._loop.call_soon_threadsafe(fn, *args)
            except RuntimeError:  # the loop is closed
                pass

    def _on_event(self, name: str, data: Any) -> None:
        self._soon(self._fan_out, Event(name, data))

    def _fan_out(self, event: Event) -> None:
        for stream in tuple(self._streams):
            stream._put(event)

    async def _op(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        fut: "asyncio.Future[Any]" = self._loop.create_future()

        def resolve(error: Optional[ChinwagError], value: Any) -> None:
            if fut.done():  # the awaiting task was cancelled
                return
            if error is not None:
                fut.set_exception(error)
            else:
                fut.set_result(value)

        def done(error: Optional[ChinwagError], value: Any) -> None:
            self._soon(resolve, error, value)

        method(*args, callback=done, **kwargs)
        return await fut

    # -- lifetime ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Frees the client (see :meth:`chinwag.Client.close`): unfinished operations raise
        :class:`~chinwag.OperationCancelledError`, event streams end. Idempotent."""
        self._remove_reader()
        self._unsubscribe()
        self.sync.close()
        for stream in tuple(self._streams):
            stream._end()
        self._streams.clear()

    @property
    def closed(self) -> bool:
        return self.sync.closed

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()

    # -- events -----------------------------------------------------------------------------------

    def events(self, *names: str, maxsize: int = 0) -> EventStream:
        """A stream of events (all, or only ``names``; aliases like ``"message"`` work),
        buffered from now on (``maxsize`` 0: unbounded; a full buffer drops new events)."""
        wanted: Optional[Set[str]] = None
        if names:
            wanted = set()
            for n in names:
                wanted.update(event_names(n))
        stream = EventStream(self, wanted, maxsize)
        if self.closed:
            stream._end()
        else:
            self._streams.add(stream)
        return stream

    def on(self, event: str, handler: Optional[H] = None) -> Any:
        """Registers a handler (a function, or a coroutine function run as a task) for
        ``event``; usable as a decorator. Runs on the loop thread."""

        def add(fn: H) -> H:
            if asyncio.iscoroutinefunction(fn):

                def start(*args: Any) -> None:
                    def spawn() -> None:
                        self._loop.create_task(fn(*args))

                    self._soon(spawn)

                start.__wrapped__ = fn  # type: ignore[attr-defined]
                self.sync.on(event, start)
            else:
                self.sync.on(event, fn if self._app_mode else (lambda *a: self._soon(fn, *a)))
            return fn

        return add(handler) if handler is not None else add

    def add_listener(self, listener_id: str, listener: Any) -> List[str]:
        """As :meth:`chinwag.Client.add_listener` (callbacks run on the loop thread)."""
        return self.sync.add_listener(listener_id, listener)

    def remove_listener(self, listener_id: str) -> None:
        self.sync.remove_listener(listener_id)

    async def wait_for_state(self, state: Union[ConnectionState, str], timeout: Optional[float] = None) -> None:
        """Returns once the connection state is ``state`` (at once if it already is)."""
        target = ConnectionState.parse(state)
        async with self.events("state_changed") as stream:
            if self.status == target:
                return
            await stream.wait_for("state_changed", lambda c: c.current == target, timeout)

    # -- session and connection -------------------------------------------------------------------

    async def create_user(self, uid: str, auth_key: str, *, name: Optional[str] = None) -> User:
        """Creates a user with the development auth key (see Client.create_user)."""
        return await self._op(self.sync.create_user, uid, auth_key, name=name)

    async def login(self, uid: str, auth_key: str) -> User:
        """Logs in with the development auth key; returns the user (see Client.login)."""
        return await self._op(self.sync.login, uid, auth_key)

    async def login_with_token(self, token: str) -> User:
        return await self._op(self.sync.login_with_token, token)

    async def logout(self) -> None:
        return await self._op(self.sync.logout)

    def logged_in_user(self) -> Optional[User]:
        return self.sync.logged_in_user()

    @property
    def status(self) -> ConnectionState:
        return self.sync.status

    def connect(self) -> None:
        self.sync.connect()

    def disconnect(self) -> None:
        self.sync.disconnect()

    def network_changed(self, network: Union[Network, str, bool]) -> None:
        self.sync.network_changed(network)

    def app_state_changed(self, state: Union[AppState, str]) -> None:
        self.sync.app_state_changed(state)

    # -- messages ---------------------------------------------------------------------------------

    async def send_text(self, receiver: str, text: str, *, receiver_type: ReceiverTypeLike = ReceiverType.USER) -> Message:
        return await self._op(self.sync.send_text, receiver, text, receiver_type=receiver_type)

    async def send_custom(self, receiver: str, custom_type: str, data: Any, *, receiver_type: ReceiverTypeLike = ReceiverType.USER) -> Message:
        return await self._op(self.sync.send_custom, receiver, custom_type, data, receiver_type=receiver_type)

    async def send_media(
        self,
        receiver: str,
        media_type: str,
        url: str,
        *,
        caption: Optional[str] = None,
        metadata: Optional[Dict[str, Any]] = None,
        receiver_type: ReceiverTypeLike = ReceiverType.USER,
    ) -> Message:
        return await self._op(
            self.sync.send_media, receiver, media_type, url, caption=caption, metadata=metadata, receiver_type=receiver_type
        )

    async def send_message(self, message: Mapping[str, Any]) -> Message:
        return await self._op(self.sync.send_message, message)

    async def edit_message(
        self, message_id: Union[int, Message], *, text: Optional[str] = None, data: Any = None, metadata: Optional[Dict[str, Any]] = None
    ) -> Message:
        return await self._op(self.sync.edit_message, message_id, text=text, data=data, metadata=metadata)

    async def delete_message(self, message_id: Union[int, Message]) -> Message:
        return await self._op(self.sync.delete_message, message_id)

    def start_typing(self, receiver: str, *, receiver_type: ReceiverTypeLike = ReceiverType.USER) -> None:
        self.sync.start_typing(receiver, receiver_type=receiver_type)

    def end_typing(self, receiver: str, *, receiver_type: ReceiverTypeLike = ReceiverType.USER) -> None:
        self.sync.end_typing(receiver, receiver_type=receiver_type)

    def mark_delivered(self, message: Union[int, Message]) -> None:
        self.sync.mark_delivered(message)

    def mark_read(self, message: Union[int, Message]) -> None:
        self.sync.mark_read(message)

    def send_transient(self, receiver: str, data: Any, *, receiver_type: ReceiverTypeLike = ReceiverType.USER) -> None:
        self.sync.send_transient(receiver, data, receiver_type=receiver_type)

    def messages_request(self, receiver: str, **options: Any) -> "AsyncMessagesRequest":
        """A history request (options as :meth:`chinwag.Client.messages_request`)."""
        return AsyncMessagesRequest(self, self.sync.messages_request(receiver, **options))

    def thread_request(self, parent_id: int, **options: Any) -> "AsyncMessagesRequest":
        """A thread's replies (options as :meth:`chinwag.Client.thread_request`)."""
        return AsyncMessagesRequest(self, self.sync.thread_request(parent_id, **options))

    def users_request(self, **options: Any) -> "AsyncUsersRequest":
        return AsyncUsersRequest(self, self.sync.users_request(**options))

    # -- conversations ----------------------------------------------------------------------------

    def conversations_request(self, **options: Any) -> "AsyncConversationsRequest":
        """The user's conversations (options as :meth:`chinwag.Client.conversations_request`)."""
        return AsyncConversationsRequest(self, self.sync.conversations_request(**options))

    async def get_conversation(self, with_id: str, *, conversation_type: ReceiverTypeLike = ReceiverType.USER) -> Conversation:
        return await self._op(self.sync.get_conversation, with_id, conversation_type=conversation_type)

    async def unread_counts(self) -> UnreadCounts:
        return await self._op(self.sync.unread_counts)

    async def delete_conversation(self, with_id: str, *, conversation_type: ReceiverTypeLike = ReceiverType.USER) -> None:
        return await self._op(self.sync.delete_conversation, with_id, conversation_type=conversation_type)

    # -- users and friends ------------------------------------------------------------------------

    async def get_user(self, uid: str) -> User:
        return await self._op(self.sync.get_user, uid)

    async def add_friend(self, uid: str) -> List[User]:
        return await self._op(self.sync.add_friend, uid)

    async def remove_friend(self, uid: str) -> None:
        return await self._op(self.sync.remove_friend, uid)

    async def friends(self) -> List[User]:
        return await self._op(self.sync.friends)

    async def block_user(self, uid: str) -> List[User]:
        return await self._op(self.sync.block_user, uid)

    async def unblock_user(self, uid: str) -> None:
        return await self._op(self.sync.unblock_user, uid)

    async def blocked_users(self) -> List[User]:
        return await self._op(self.sync.blocked_users)

    # -- groups -----------------------------------------------------------------------------------

    async def create_group(self, guid: str, name: str, group_type: Union[GroupType, str] = GroupType.PUBLIC) -> Group:
        return await self._op(self.sync.create_group, guid, name, group_type)

    async def get_group(self, guid: str) -> Group:
        return await self._op(self.sync.get_group, guid)

    async def join_group(self, guid: str) -> Group:
        return await self._op(self.sync.join_group, guid)

    async def leave_group(self, guid: str) -> None:
        return await self._op(self.sync.leave_group, guid)

    async def list_groups(self, *, joined: bool = False, after: Optional[str] = None, limit: int = 0) -> GroupPage:
        return await self._op(self.sync.list_groups, joined=joined, after=after, limit=limit)

    async def group_members(self, guid: str) -> List[GroupMember]:
        return await self._op(self.sync.group_members, guid)

    async def add_group_members(
        self, guid: str, members: Union[Sequence[str], Mapping[str, Union[Scope, str]]]
    ) -> List[GroupMember]:
        return await self._op(self.sync.add_group_members, guid, members)

    async def kick_group_member(self, guid: str, uid: str) -> None:
        return await self._op(self.sync.kick_group_member, guid, uid)

    async def ban_group_member(self, guid: str, uid: str) -> None:
        return await self._op(self.sync.ban_group_member, guid, uid)

    async def unban_group_member(self, guid: str, uid: str) -> None:
        return await self._op(self.sync.unban_group_member, guid, uid)

    async def change_group_member_scope(self, guid: str, uid: str, scope: Union[Scope, str]) -> GroupMember:
        return await self._op(self.sync.change_group_member_scope, guid, uid, scope)

    # -- calls ------------------------------------------------------------------------------------

    async def initiate_call(
        self, receiver: str, call_type: Union[CallType, str] = CallType.AUDIO, *, receiver_type: ReceiverTypeLike = ReceiverType.USER
    ) -> Call:
        return await self._op(self.sync.initiate_call, receiver, call_type, receiver_type=receiver_type)

    async def accept_call(self, session_id: Union[str, Call]) -> Call:
        return await self._op(self.sync.accept_call, session_id)

    async def reject_call(self, session_id: Union[str, Call], *, busy: bool = False) -> Call:
        return await self._op(self.sync.reject_call, session_id, busy=busy)

    async def cancel_call(self, session_id: Union[str, Call]) -> Call:
        return await self._op(self.sync.cancel_call, session_id)

    async def end_call(self, session_id: Union[str, Call]) -> Call:
        return await self._op(self.sync.end_call, session_id)

    def active_call(self) -> Optional[Call]:
        return self.sync.active_call()


class AsyncMessagesRequest:
    """A history request whose fetches are awaitable."""

    def __init__(self, owner: AsyncClient, request: Any) -> None:
        self._owner = owner
        self.request = request

    async def fetch_previous(self) -> MessagePage:
        return await self._owner._op(self.request.fetch_previous)

    async def fetch_next(self) -> MessagePage:
        return await self._owner._op(self.request.fetch_next)

    def close(self) -> None:
        self.request.close()


class AsyncUsersRequest:
    """A user list request whose fetches are awaitable; ``async for user in request``."""

    def __init__(self, owner: AsyncClient, request: Any) -> None:
        self._owner = owner
        self.request = request

    async def fetch(self) -> UserPage:
        return await self._owner._op(self.request.fetch)

    async def __aiter__(self) -> AsyncIterator[User]:
        while True:
            page = await self.fetch()
            for user in page.users:
                yield user
            if not page.has_more:
                return

    def close(self) -> None:
        self.request.close()


class AsyncConversationsRequest:
    """A conversation list request whose fetches are awaitable; ``async for c in request``."""

    def __init__(self, owner: AsyncClient, request: Any) -> None:
        self._owner = owner
        self.request = request

    async def fetch(self) -> ConversationPage:
        return await self._owner._op(self.request.fetch)

    async def __aiter__(self) -> AsyncIterator[Conversation]:
        while True:
            page = await self.fetch()
            for conversation in page.conversations:
                yield conversation
            if not page.has_more:
                return

    def close(self) -> None:
        self.request.close()
