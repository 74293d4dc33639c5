"""Enums and the dataclasses that callbacks and results carry.

Every model is an owned copy, safe to keep after the callback returns (the C payloads are
borrowed for the callback only). Each is built from the payload's ``json`` field, the
authoritative full object (kept as ``raw``), and its typed fields; fields the C struct does not
have (attachments, metadata, quoted id, ...) come from ``raw``.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Union

from . import _native as N

__all__ = [
    "ConnectionState",
    "StateReason",
    "ReceiverType",
    "ConversationFilter",
    "CallType",
    "Presence",
    "Network",
    "AppState",
    "GroupType",
    "Scope",
    "UserStatus",
    "ReceiptKind",
    "GroupAction",
    "LogLevel",
    "DispatchMode",
    "ConnectMode",
    "ResultCode",
    "User",
    "Attachment",
    "Message",
    "Receipt",
    "Typing",
    "Transient",
    "Gap",
    "PresenceChange",
    "Group",
    "GroupMember",
    "GroupMemberEvent",
    "Call",
    "StateChange",
    "FeatureChange",
    "LogRecord",
    "MessagePage",
    "UserPage",
    "GroupPage",
]


class _Named(enum.IntEnum):
    """An int enum (the C value) that also parses its lower-case name (``"group"``); an
    unknown name or value raises :class:`~chinwag.InvalidArgumentError` (a ``ValueError``)."""

    @classmethod
    def parse(cls, value: Union["_Named", int, str]) -> Any:
        if isinstance(value, cls):
            return value
        try:
            if isinstance(value, str):
                return cls[value.strip().upper()]
            return cls(value)
        except (KeyError, ValueError):
            from .errors import InvalidArgumentError

            names = ", ".join(m.name.lower() for m in cls)
            raise InvalidArgumentError(
                102, "INVALID_ARGUMENT", f"{value!r} is not a {cls.__name__} ({names})"
            ) from None

    @property
    def label(self) -> str:
        """The lower-case name, as the protocol's JSON spells it (``"group"``)."""
        return self.name.lower()


class ConnectionState(_Named):
    """The connection state (docs/behaviour.md, section 3)."""

    DISCONNECTED = 0
    CONNECTING = 1
    CONNECTED = 2
    RECONNECTING = 3
    SUSPENDED = 4
    FAILED = 5


class StateReason(_Named):
    """Why the connection state changed."""

    CONNECT_REQUESTED = 0
    DISCONNECT_REQUESTED = 1
    LOGGED_OUT = 2
    ACCEPTED = 3
    ATTEMPT_FAILED = 4
    CONNECTION_LOST = 5
    RETRY_TIMER = 6
    SUSPEND_TIMEOUT = 7
    AUTH_REJECTED = 8
    USER_DEACTIVATED = 9
    PROTOCOL_MISMATCH = 10
    NETWORK_CHANGED = 11
    APP_STATE = 12
    SERVER_RESTART = 13
    #: Not a change: the first event of a connection listener added after init, with the
    #: state it starts from (``previous == current``).
    LISTENER_ADDED = 14


class ReceiverType(_Named):
    """Whom a message, typing indicator, transient message or call is for."""

    USER = 0
    GROUP = 1


class CallType(_Named):
    AUDIO = 0
    VIDEO = 1


class Presence(_Named):
    """Whose presence the client receives (``Client(presence=...)``)."""

    NONE = 0
    ALL_USERS = 1
    ROLES = 2
    FRIENDS = 3


class Network(_Named):
    """A platform network hint (``Client.network_changed``)."""

    DOWN = 0
    UP = 1


class AppState(_Named):
    """A platform app-state hint (``Client.app_state_changed``)."""

    FOREGROUND = 0
    BACKGROUND = 1


class GroupType(_Named):
    PUBLIC = 0
    PRIVATE = 1


class Scope(_Named):
    """A member's rights in a group."""

    PARTICIPANT = 0
    MODERATOR = 1
    ADMIN = 2


class UserStatus(_Named):
    OFFLINE = 0
    ONLINE = 1


class ReceiptKind(_Named):
    DELIVERED = 0
    READ = 1


class ConversationFilter(_Named):
    """Which conversations a :class:`~chinwag.ConversationsRequest` lists."""

    ALL = 0
    USER = 1
    GROUP = 2


class GroupAction(_Named):
    JOINED = 0
    LEFT = 1
    KICKED = 2
    BANNED = 3
    UNBANNED = 4
    SCOPE_CHANGED = 5
    ADDED = 6


class LogLevel(_Named):
    ERROR = 1
    WARN = 2
    INFO = 3
    DEBUG = 4


class DispatchMode(_Named):
    """Who runs a client's callbacks: the SDK's dispatcher thread (default), or the app's
    thread calling ``Client.dispatch`` when ``Client.dispatch_fd()`` is readable."""

    THREAD = 0
    APP = 1


class ConnectMode(_Named):
    """``auto_connect=True`` (AUTO: login connects, drops come back by themselves) or
    ``False`` (MANUAL: nothing connects until ``Client.connect``)."""

    AUTO = 0
    MANUAL = 1


class ResultCode(_Named):
    """Every ``CHINWAG_RESULT_*`` code."""

    OK = 0
    NULL_ARGUMENT = 100
    INVALID_UTF8 = 101
    INVALID_ARGUMENT = 102
    TEXT_TOO_LONG = 103
    NOT_LOGGED_IN = 200
    LOGIN_IN_PROGRESS = 201
    NOT_CONNECTED = 202
    LOGGED_OUT = 203
    CLIENT_FREED = 204
    REENTRANT_CALL = 205
    CANCELLED = 206
    LISTENER_EXISTS = 207
    CALL_IN_PROGRESS = 208
    NETWORK = 300
    TIMEOUT = 301
    TLS = 302
    PROTOCOL = 303
    AUTH_FAILED = 400
    SESSION_EXPIRED = 401
    USER_DEACTIVATED = 402
    APP_MISMATCH = 403
    RATE_LIMITED = 404
    FEATURE_THROTTLED = 405
    FORBIDDEN = 406
    NOT_FOUND = 407
    SERVER_REJECTED = 408
    USER_EXISTS = 409
    QUEUE_FULL = 500
    QUEUE_EXPIRED = 501
    DISCONNECTED = 502
    STORAGE = 900
    INTERNAL = 901
    PANIC = 902


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def _s(b: Optional[bytes]) -> Optional[str]:
    return None if b is None else b.decode("utf-8", "replace")


def _str(b: Optional[bytes]) -> str:
    return "" if b is None else b.decode("utf-8", "replace")


def _j(b: Optional[bytes]) -> Any:
    return None if b is None else json.loads(b)


def _raw(b: Optional[bytes]) -> Dict[str, Any]:
    if b is None:
        return {}
    value = json.loads(b)
    return value if isinstance(value, dict) else {"value": value}


def _opt_ms(v: int) -> Optional[int]:
    return v if v else None


def _scope(s: Optional[str]) -> Optional[Scope]:
    return None if s is None else Scope.parse(s)


# ------------------------------------------------------------------------------------------
# models
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    """A user (protocol section 5.1)."""

    uid: str
    name: str
    avatar: Optional[str] = None
    role: str = "default"
    status: UserStatus = UserStatus.OFFLINE
    #: Milliseconds since the epoch; ``None`` if unknown.
    last_active_at: Optional[int] = None
    deactivated: bool = False
    metadata: Dict[str, Any] = field(default_factory=dict)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: The logged-in user blocked this one (in lists and conversations).
    blocked_by_me: bool = False

    @property
    def online(self) -> bool:
        return self.status == UserStatus.ONLINE

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "User":
        """From the protocol's JSON object."""
        return cls(
            uid=d["uid"],
            name=d.get("name", ""),
            avatar=d.get("avatar"),
            role=d.get("role", "default"),
            status=UserStatus.parse(d.get("status", "offline")),
            last_active_at=d.get("last_active_at"),
            deactivated=bool(d.get("deactivated", False)),
            metadata=dict(d.get("metadata") or {}),
            raw=d,
            blocked_by_me=bool(d.get("blocked_by_me", False)),
        )

    @classmethod
    def _from_c(cls, p: N.chinwag_user) -> "User":
        raw = _raw(p.json)
        return cls(
            uid=_str(p.uid),
            name=_str(p.name),
            avatar=_s(p.avatar),
            role=_str(p.role),
            status=UserStatus(p.status),
            last_active_at=_opt_ms(p.last_active_at),
            deactivated=bool(p.deactivated),
            metadata=dict(raw.get("metadata") or {}),
            raw=raw,
            blocked_by_me=bool(raw.get("blocked_by_me", False)),
        )


@dataclass(frozen=True)
class Attachment:
    """A file reference of a media message (the file is hosted by the app)."""

    url: str
    name: Optional[str] = None
    mime_type: Optional[str] = None
    size: Optional[int] = None

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"url": self.url}
        for k in ("name", "mime_type", "size"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Attachment":
        return cls(d["url"], d.get("name"), d.get("mime_type"), d.get("size"))


@dataclass(frozen=True)
class Message:
    """A stored message: text, media or custom (protocol section 5.2)."""

    id: int
    muid: str
    sender: str
    receiver_type: ReceiverType
    receiver: str
    conversation_id: str
    #: ``"message"`` (text and media) or ``"custom"``.
    category: str
    #: ``"text"``, ``"image"``, ``"video"``, ``"audio"``, ``"file"`` or a custom type.
    type: str
    text: Optional[str] = None
    #: The custom payload (any JSON value), or ``None``.
    data: Any = None
    attachments: List[Attachment] = field(default_factory=list)
    metadata: Dict[str, Any] = field(default_factory=dict)
    parent_id: Optional[int] = None
    quoted_id: Optional[int] = None
    sent_at: int = 0
    edited_at: Optional[int] = None
    deleted_at: Optional[int] = None
    deleted_by: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_text(self) -> bool:
        return self.category == "message" and self.type == "text"

    @property
    def is_media(self) -> bool:
        return self.category == "message" and self.type != "text"

    @property
    def is_custom(self) -> bool:
        return self.category == "custom"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Message":
        """From the protocol's JSON object."""
        return cls(
            id=int(d["id"]),
            muid=d.get("muid", ""),
            sender=d["sender"],
            receiver_type=ReceiverType.parse(d["receiver_type"]),
            receiver=d["receiver"],
            conversation_id=d.get("conversation_id", ""),
            category=d.get("category", "message"),
            type=d.get("type", "text"),
            text=d.get("text"),
            data=d.get("data"),
            attachments=[Attachment.from_dict(a) for a in d.get("attachments") or []],
            metadata=dict(d.get("metadata") or {}),
            parent_id=d.get("parent_id"),
            quoted_id=d.get("quoted_id"),
            sent_at=int(d.get("sent_at", 0)),
            edited_at=d.get("edited_at"),
            deleted_at=d.get("deleted_at"),
            deleted_by=d.get("deleted_by"),
            raw=d,
        )

    @classmethod
    def _from_c(cls, p: N.chinwag_message) -> "Message":
        raw = _raw(p.json)
        return cls(
            id=int(p.id),
            muid=_str(p.muid),
            sender=_str(p.sender),
            receiver_type=ReceiverType(p.receiver_type),
            receiver=_str(p.receiver),
            conversation_id=_str(p.conversation_id),
            category=_str(p.category),
            type=_str(p.message_type),
            text=_s(p.text),
            data=_j(p.data_json),
            attachments=[Attachment.from_dict(a) for a in raw.get("attachments") or []],
            metadata=dict(raw.get("metadata") or {}),
            parent_id=p.parent_id or None,
            quoted_id=raw.get("quoted_id"),
            sent_at=int(p.sent_at),
            edited_at=_opt_ms(p.edited_at),
            deleted_at=_opt_ms(p.deleted_at),
            deleted_by=raw.get("deleted_by"),
            raw=raw,
        )


@dataclass(frozen=True)
class Receipt:
    """"``by`` received (or read) everything up to ``message_id`` in this conversation."""

    kind: ReceiptKind
    by: str
    message_id: int
    message_sender: str
    conversation_id: str
    receiver_type: ReceiverType
    receiver: str
    at: int
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def _from_c(cls, p: N.chinwag_receipt) -> "Receipt":
        return cls(
            kind=ReceiptKind(p.kind),
            by=_str(p.by),
            message_id=int(p.message_id),
            message_sender=_str(p.message_sender),
            conversation_id=_str(p.conversation_id),
            receiver_type=ReceiverType(p.receiver_type),
            receiver=_str(p.receiver),
            at=int(p.at),
            raw=_raw(p.json),
        )


@dataclass(frozen=True)
class Typing:
    """A typing indicator of another user."""

    sender: str
    receiver_type: ReceiverType
    receiver: str
    metadata: Optional[Dict[str, Any]] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def _from_c(cls, p: N.chinwag_typing) -> "Typing":
        return cls(
            sender=_str(p.sender),
            receiver_type=ReceiverType(p.receiver_type),
            receiver=_str(p.receiver),
            metadata=_j(p.metadata_json),
            raw=_raw(p.json),
        )


@dataclass(frozen=True)
class Transient:
    """A transient (never stored) message."""

    sender: str
    receiver_type: ReceiverType
    receiver: str
    data: Any = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def _from_c(cls, p: N.chinwag_transient) -> "Transient":
        return cls(
            sender=_str(p.sender),
            receiver_type=ReceiverType(p.receiver_type),
            receiver=_str(p.receiver),
            data=_j(p.data_json),
            raw=_raw(p.json),
        )


@dataclass(frozen=True)
class Gap:
    """Events ``from_seq..=to_seq`` were missed and will not be replayed: fetch history."""

    from_seq: int
    to_seq: int
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def _from_c(cls, p: N.chinwag_gap) -> "Gap":
        return cls(int(p.from_seq), int(p.to_seq), _raw(p.json))


@dataclass(frozen=True)
class PresenceChange:
    """A user went online or offline."""

    uid: str
    status: UserStatus
    last_active_at: Optional[int] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def online(self) -> bool:
        return self.status == UserStatus.ONLINE

    @classmethod
    def _from_c(cls, p: N.chinwag_presence) -> "PresenceChange":
        return cls(_str(p.uid), UserStatus(p.status), _opt_ms(p.last_active_at), _raw(p.json))


@dataclass(frozen=True)
class Group:
    """A group (protocol section 5.6)."""

    guid: str
    name: str
    type: GroupType = GroupType.PUBLIC
    description: Optional[str] = None
    owner: str = ""
    members_count: int = 0
    created_at: int = 0
    #: The logged-in user's scope; ``None`` when not a member.
    scope: Optional[Scope] = None
    metadata: Dict[str, Any] = field(default_factory=dict)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Group":
        return cls(
            guid=d["guid"],
            name=d.get("name", ""),
            type=GroupType.parse(d.get("type", "public")),
            description=d.get("description"),
            owner=d.get("owner", ""),
            members_count=int(d.get("members_count", 0)),
            created_at=int(d.get("created_at", 0)),
            scope=_scope(d.get("scope")),
            metadata=dict(d.get("metadata") or {}),
            raw=d,
        )

    @classmethod
    def _from_c(cls, p: N.chinwag_group) -> "Group":
        return cls(
            guid=_str(p.guid),
            name=_str(p.name),
            type=GroupType(p.group_type),
            description=_s(p.description),
            owner=_str(p.owner),
            members_count=int(p.members_count),
            created_at=int(p.created_at),
            scope=_scope(_s(p.scope)),
            metadata=dict(_j(p.metadata_json) or {}),
            raw=_raw(p.json),
        )


@dataclass(frozen=True)
class GroupMember:
    """A member of a group."""

    user: User
    scope: Scope
    joined_at: int
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def uid(self) -> str:
        return self.user.uid

    @classmethod
    def _from_c(cls, p: N.chinwag_group_member) -> "GroupMember":
        return cls(User._from_c(p.user), Scope.parse(_str(p.scope)), int(p.joined_at), _raw(p.json))


@dataclass(frozen=True)
class GroupMemberEvent:
    """A change to a group's membership."""

    action: GroupAction
    guid: str
    group_name: str
    #: The member affected.
    member: str
    #: Who did it.
    by: str
    scope: Optional[Scope] = None
    old_scope: Optional[Scope] = None
    at: int = 0
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def _from_c(cls, p: N.chinwag_group_member_event) -> "GroupMemberEvent":
        return cls(
            action=GroupAction(p.action),
            guid=_str(p.guid),
            group_name=_str(p.group_name),
            member=_str(p.member),
            by=_str(p.by),
            scope=_scope(_s(p.scope)),
            old_scope=_scope(_s(p.old_scope)),
            at=int(p.at),
            raw=_raw(p.json),
        )


@dataclass(frozen=True)
class Call:
    """A call's signalling state (protocol section 5.9)."""

    session_id: str
    initiator: str
    receiver_type: ReceiverType
    receiver: str
    call_type: CallType
    #: ``"initiated"``, ``"ongoing"``, ``"rejected"``, ``"busy"``, ``"cancelled"``,
    #: ``"unanswered"`` or ``"ended"``.
    status: str
    by: str
    initiated_at: int
    joined_at: Optional[int] = None
    ended_at: Optional[int] = None
    metadata: Dict[str, Any] = field(default_factory=dict)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def _from_c(cls, p: N.chinwag_call) -> "Call":
        raw = _raw(p.json)
        return cls(
            session_id=_str(p.session_id),
            initiator=_str(p.initiator),
            receiver_type=ReceiverType(p.receiver_type),
            receiver=_str(p.receiver),
            call_type=CallType.parse(_str(p.call_type)),
            status=_str(p.status),
            by=_str(p.by),
            initiated_at=int(p.initiated_at),
            joined_at=_opt_ms(p.joined_at),
            ended_at=_opt_ms(p.ended_at),
            metadata=dict(raw.get("metadata") or {}),
            raw=raw,
        )


@dataclass(frozen=True)
class StateChange:
    """One connection state change; never ``previous == current``."""

    previous: ConnectionState
    current: ConnectionState
    reason: StateReason
    message: str
    #: In RECONNECTING and SUSPENDED: milliseconds until the next attempt; else ``None``.
    retry_in_ms: Optional[int] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def _from_c(cls, p: N.chinwag_state_change) -> "StateChange":
        return cls(
            previous=ConnectionState(p.previous),
            current=ConnectionState(p.current),
            reason=StateReason(p.reason),
            message=_str(p.message),
            retry_in_ms=None if p.retry_in_ms < 0 else int(p.retry_in_ms),
            raw=_raw(p.json),
        )


@dataclass(frozen=True)
class FeatureChange:
    """The server throttled a feature (``duration_ms`` > 0) or lifted its throttle (0)."""

    feature: str
    duration_ms: int
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def _from_c(cls, p: N.chinwag_feature_change) -> "FeatureChange":
        return cls(_str(p.feature), int(p.duration_ms), _raw(p.json))


@dataclass(frozen=True)
class LogRecord:
    """A log record of the SDK."""

    level: LogLevel
    target: str
    message: str

    @classmethod
    def _from_c(cls, p: N.chinwag_log_record) -> "LogRecord":
        try:
            level = LogLevel(p.level)
        except ValueError:
            level = LogLevel.INFO
        return cls(level, _str(p.target), _str(p.message))


@dataclass(frozen=True)
class MessagePage:
    """A page of a conversation's history, oldest first."""

    messages: List[Message]
    #: More messages lie beyond this page in the direction fetched.
    has_more: bool

    def __iter__(self) -> Iterator[Message]:
        return iter(self.messages)

    def __len__(self) -> int:
        return len(self.messages)

    @classmethod
    def _from_c(cls, p: N.chinwag_message_page) -> "MessagePage":
        return cls([Message._from_c(p.items[i]) for i in range(p.len)], bool(p.has_more))


@dataclass(frozen=True)
class UserPage:
    """A page (or complete list) of users."""

    users: List[User]
    has_more: bool

    def __iter__(self) -> Iterator[User]:
        return iter(self.users)

    def __len__(self) -> int:
        return len(self.users)

    @classmethod
    def _from_c(cls, p: N.chinwag_user_page) -> "UserPage":
        return cls([User._from_c(p.items[i]) for i in range(p.len)], bool(p.has_more))


@dataclass(frozen=True)
class GroupPage:
    """A page of groups; pass ``next_after`` to fetch the next one (``None`` on the last)."""

    groups: List[Group]
    next_after: Optional[str] = None

    def __iter__(self) -> Iterator[Group]:
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    @classmethod
    def _from_c(cls, p: N.chinwag_group_page) -> "GroupPage":
        return cls([Group._from_c(p.items[i]) for i in range(p.len)], _s(p.next_after))


def member_list(p: N.chinwag_member_list) -> List[GroupMember]:
    return [GroupMember._from_c(p.items[i]) for i in range(p.len)]
