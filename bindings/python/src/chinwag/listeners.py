"""Listener base classes and the event names.

A listener is any object with some of the methods below (the names of hosted chat SDKs, the C
listener structs' field names); subclassing these classes is optional and only documents the
signatures. A method the object does not define (or inherits unchanged from these classes) is
not registered with the SDK, so it costs nothing::

    class Ui(chinwag.MessageListener, chinwag.ConnectionListener):
        def on_text_message_received(self, message: chinwag.Message) -> None:
            print(message.sender, message.text)

        def on_connected(self, change: chinwag.StateChange) -> None:
            print("online")

    client.add_listener("ui", Ui())          # every family the object implements
    client.add_message_listener("ui2", obj)  # or one family

Every callback runs on the thread that runs the client's callbacks (the SDK's dispatcher thread,
or the app's thread inside ``Client.dispatch``), one at a time, in event order. An exception it
raises is logged (logger ``"chinwag"``) and delivery goes on.

Event names (for ``@client.on(name)``, ``client.events()`` of the asyncio client): the method
names without ``on_`` (``"text_message_received"``, ``"connected"``, ...); ``"message"`` is
short for the three ``*_message_received`` events.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Tuple, TypeVar

from .conversations import Conversation
from .errors import ChinwagError
from .types import (
    Call,
    FeatureChange,
    Gap,
    GroupMemberEvent,
    LogRecord,
    Message,
    PresenceChange,
    Receipt,
    StateChange,
    Transient,
    Typing,
    User,
)

__all__ = [
    "ConnectionListener",
    "LoginListener",
    "MessageListener",
    "UserListener",
    "GroupListener",
    "CallListener",
    "LogListener",
    "FAMILY_METHODS",
    "EVENT_FAMILY",
    "event_names",
]

F = TypeVar("F", bound=Callable[..., Any])


def _noop(fn: F) -> F:
    fn.__chinwag_noop__ = True  # type: ignore[attr-defined]
    return fn


class ConnectionListener:
    """Connection state (docs/behaviour.md, section 3)."""

    @_noop
    def on_state_changed(self, change: StateChange) -> None:
        """Every state change (before the specific callback below)."""

    @_noop
    def on_connecting(self, change: StateChange) -> None:
        """The state became CONNECTING."""

    @_noop
    def on_connected(self, change: StateChange) -> None:
        """The state became CONNECTED: the server accepted the session."""

    @_noop
    def on_disconnected(self, change: StateChange) -> None:
        """The state became DISCONNECTED, RECONNECTING (see ``retry_in_ms``) or SUSPENDED."""

    @_noop
    def on_connection_error(self, error: ChinwagError) -> None:
        """The reason for FAILED, or an error that left the state unchanged."""

    @_noop
    def on_feature_throttled(self, change: FeatureChange) -> None:
        """The server throttled a feature (its calls fail with FeatureThrottledError)."""

    @_noop
    def on_feature_unthrottled(self, change: FeatureChange) -> None:
        """The server lifted a throttle."""


class LoginListener:
    """Login and logout outcomes (docs/behaviour.md, section 2)."""

    @_noop
    def on_login_success(self, user: User) -> None:
        """A login succeeded."""

    @_noop
    def on_login_failure(self, error: ChinwagError) -> None:
        """A login failed."""

    @_noop
    def on_logout_success(self) -> None:
        """A logout succeeded."""

    @_noop
    def on_logout_failure(self, error: ChinwagError) -> None:
        """Logout failed to tell the server; the local session was purged all the same."""

    @_noop
    def on_session_expired(self, error: ChinwagError) -> None:
        """The server rejected or revoked the token: log in again."""


class MessageListener:
    """Messages, typing, receipts, transient messages and gaps (section 6)."""

    @_noop
    def on_text_message_received(self, message: Message) -> None:
        """A text message arrived."""

    @_noop
    def on_media_message_received(self, message: Message) -> None:
        """A media message arrived."""

    @_noop
    def on_custom_message_received(self, message: Message) -> None:
        """A custom message arrived."""

    @_noop
    def on_message_edited(self, message: Message) -> None:
        """A message was edited."""

    @_noop
    def on_message_deleted(self, message: Message) -> None:
        """A message was deleted."""

    @_noop
    def on_typing_started(self, typing: Typing) -> None:
        """Another user started typing."""

    @_noop
    def on_typing_ended(self, typing: Typing) -> None:
        """A typing indicator ended (also on timeout or when the connection dropped)."""

    @_noop
    def on_messages_delivered(self, receipt: Receipt) -> None:
        """Messages up to ``receipt.message_id`` were delivered."""

    @_noop
    def on_messages_read(self, receipt: Receipt) -> None:
        """Messages up to ``receipt.message_id`` were read."""

    @_noop
    def on_transient_message_received(self, transient: Transient) -> None:
        """A transient message arrived."""

    @_noop
    def on_gap(self, gap: Gap) -> None:
        """Events were missed and will not be replayed: fetch history."""

    @_noop
    def on_conversation_updated(self, conversation: Conversation) -> None:
        """The user's view of a conversation changed on one of their devices: read or
        delivered up to a message (new ``unread_count``), or deleted (``deleted``)."""


class UserListener:
    """Presence of the users covered by the client's presence subscription."""

    @_noop
    def on_user_online(self, presence: PresenceChange) -> None:
        """A user came online."""

    @_noop
    def on_user_offline(self, presence: PresenceChange) -> None:
        """A user went offline."""


class GroupListener:
    """Membership changes of the user's groups."""

    @_noop
    def on_member_joined(self, event: GroupMemberEvent) -> None:
        """A member joined."""

    @_noop
    def on_member_left(self, event: GroupMemberEvent) -> None:
        """A member left."""

    @_noop
    def on_member_kicked(self, event: GroupMemberEvent) -> None:
        """A member was kicked."""

    @_noop
    def on_member_banned(self, event: GroupMemberEvent) -> None:
        """A member was banned."""

    @_noop
    def on_member_unbanned(self, event: GroupMemberEvent) -> None:
        """A member was unbanned."""

    @_noop
    def on_member_scope_changed(self, event: GroupMemberEvent) -> None:
        """A member's scope changed."""

    @_noop
    def on_member_added(self, event: GroupMemberEvent) -> None:
        """A member was added by an admin."""


class CallListener:
    """Call signalling."""

    @_noop
    def on_incoming_call_received(self, call: Call) -> None:
        """A call to this user (or started by their other device) was initiated."""

    @_noop
    def on_outgoing_call_accepted(self, call: Call) -> None:
        """The callee accepted."""

    @_noop
    def on_outgoing_call_rejected(self, call: Call) -> None:
        """The callee rejected (or was busy: see ``call.status``)."""

    @_noop
    def on_incoming_call_cancelled(self, call: Call) -> None:
        """The caller cancelled, or nobody answered (see ``call.status``)."""

    @_noop
    def on_call_ended(self, call: Call) -> None:
        """The call ended."""


class LogListener:
    """The SDK's log records."""

    @_noop
    def on_log(self, record: LogRecord) -> None:
        """A log record."""


_FAMILY_CLASSES: Dict[str, type] = {
    "connection": ConnectionListener,
    "login": LoginListener,
    "message": MessageListener,
    "user": UserListener,
    "group": GroupListener,
    "call": CallListener,
    "log": LogListener,
}

#: family -> the callback method names, in the C struct's order.
FAMILY_METHODS: Dict[str, Tuple[str, ...]] = {
    family: tuple(name for name in vars(cls) if name.startswith("on_"))
    for family, cls in _FAMILY_CLASSES.items()
}

#: event name (method name without ``on_``) -> family.
EVENT_FAMILY: Dict[str, str] = {
    method[3:]: family for family, methods in FAMILY_METHODS.items() for method in methods
}

#: Short names standing for several events.
EVENT_ALIASES: Dict[str, Tuple[str, ...]] = {
    "message": (
        "text_message_received",
        "media_message_received",
        "custom_message_received",
    ),
}


def event_names(name: str) -> Tuple[str, ...]:
    """The event names ``name`` stands for: itself (with or without ``on_``) or an alias."""
    if name in EVENT_ALIASES:
        return EVENT_ALIASES[name]
    bare = name[3:] if name.startswith("on_") else name
    if bare not in EVENT_FAMILY:
        known = ", ".join(sorted(list(EVENT_FAMILY) + list(EVENT_ALIASES)))
        raise ValueError(f"unknown event {name!r}; known events: {known}")
    return (bare,)


def implements(obj: Any, method: str) -> bool:
    """Whether ``obj`` has its own callback ``method`` (not a base class's no-op)."""
    fn = getattr(obj, method, None)
    return callable(fn) and not getattr(fn, "__chinwag_noop__", False)
