"""Conversations (protocol section 5.11): the list a chat app opens on, with the last message
and the unread count of each, and the unread totals."""

from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional

from . import _native as N
from .types import Group, Message, ReceiverType, User, _raw, _str


@dataclass(frozen=True)
class Conversation:
    """One conversation as the logged-in user sees it."""

    conversation_id: str
    conversation_type: ReceiverType
    #: The other user's uid, or the guid.
    with_id: str
    #: The other user (one-to-one conversations).
    user: Optional[User] = None
    #: The group (group conversations).
    group: Optional[Group] = None
    last_message: Optional[Message] = None
    unread_count: int = 0
    #: Of the unread messages, those that mention the logged-in user.
    unread_mentions_count: int = 0
    #: Everything up to this id was read (0: nothing yet).
    last_read_message_id: int = 0
    last_delivered_message_id: int = 0
    updated_at: int = 0
    #: Only in ``on_conversation_updated``: the user deleted it (drop it from the list).
    deleted: bool = False
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def _from_c(cls, p: N.chinwag_conversation) -> "Conversation":
        return cls(
            conversation_id=_str(p.conversation_id),
            conversation_type=ReceiverType(p.conversation_type),
            with_id=_str(p.with_id),
            user=User._from_c(p.user.contents) if p.user else None,
            group=Group._from_c(p.group.contents) if p.group else None,
            last_message=Message._from_c(p.last_message.contents) if p.last_message else None,
            unread_count=int(p.unread_count),
            unread_mentions_count=int(p.unread_mentions_count),
            last_read_message_id=int(p.last_read_message_id),
            last_delivered_message_id=int(p.last_delivered_message_id),
            updated_at=int(p.updated_at),
            deleted=bool(p.deleted),
            raw=_raw(p.json),
        )


@dataclass(frozen=True)
class ConversationPage:
    """A page of conversations, newest last message first."""

    conversations: List[Conversation]
    #: More conversations can be fetched with the same request.
    has_more: bool

    def __iter__(self) -> Iterator[Conversation]:
        return iter(self.conversations)

    def __len__(self) -> int:
        return len(self.conversations)

    @classmethod
    def _from_c(cls, p: N.chinwag_conversation_page) -> "ConversationPage":
        return cls(
            [Conversation._from_c(p.items[i]) for i in range(p.len)], bool(p.has_more)
        )


@dataclass(frozen=True)
class UnreadCounts:
    """Unread messages overall, per user and per group (only those with unread messages)."""

    total: int
    users: Dict[str, int]
    groups: Dict[str, int]

    @classmethod
    def _from_c(cls, p: N.chinwag_unread_counts) -> "UnreadCounts":
        users: Dict[str, int] = {}
        groups: Dict[str, int] = {}
        for i in range(p.len):
            entry = p.items[i]
            target = users if entry.conversation_type == ReceiverType.USER else groups
            target[_str(entry.with_id)] = int(entry.unread_count)
        return cls(int(p.total), users, groups)
