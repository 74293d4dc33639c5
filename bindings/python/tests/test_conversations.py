"""Conversations and blocking against the real server: the list with the other user, the last
message and the unread count; totals; two devices agreeing on the badge after a read on one;
filters and paging; deleting a conversation for oneself; a blocked user's message refused and
never delivered; bad input."""

from __future__ import annotations

import pytest

import chinwag
from chinwag import ReceiverType

from conftest import login_connected


@pytest.fixture
def three(server, uid, make_client, recorder):
    """alice; bob on two devices (phone, laptop); each client with a recorder."""
    a, b = uid("alice"), uid("bob")
    ra, rphone, rlaptop = recorder(), recorder(), recorder()
    ca = make_client(server, listeners={"rec": ra})
    phone = make_client(server, listeners={"rec": rphone})
    laptop = make_client(server, listeners={"rec": rlaptop})
    login_connected(ca, ra, a)
    login_connected(phone, rphone, b)
    login_connected(laptop, rlaptop, b)
    return (a, ca), (b, phone, rphone, laptop, rlaptop)


def test_list_unread_and_two_devices_agree(three, uid, server, make_client, recorder):
    (a, ca), (b, phone, rphone, laptop, rlaptop) = three
    sent = [ca.send_text(b, t) for t in ("one", "two", "three")]

    page = phone.conversations_request().fetch()
    assert len(page) == 1 and not page.has_more
    conv = page.conversations[0]
    assert isinstance(conv, chinwag.Conversation)
    assert conv.with_id == a and conv.conversation_type == ReceiverType.USER
    assert conv.user is not None and conv.user.uid == a and conv.group is None
    assert conv.last_message is not None and conv.last_message.text == "three"
    assert conv.unread_count == 3 and conv.last_read_message_id == 0
    assert conv.raw["conversation_id"] == conv.conversation_id
    counts = laptop.unread_counts()
    assert (counts.total, counts.users, counts.groups) == (3, {a: 3}, {})
    # The sender's own messages are never unread for her.
    assert ca.get_conversation(b).unread_count == 0

    phone.mark_read(sent[1])
    for rec in (rphone, rlaptop):
        u = rec.wait_for("conversation_updated", lambda c: c.with_id == a and c.unread_count == 1)
        assert u.last_read_message_id == sent[1].id and not u.deleted
    assert laptop.unread_counts().total == 1
    assert laptop.get_conversation(a).last_read_message_id == sent[1].id

    # A group conversation, the filters and paging.
    owner = uid("owner")
    rco = recorder()
    co = make_client(server, listeners={"rec": rco})
    login_connected(co, rco, owner)
    guid = f"g{owner.replace('-', '')}"[:30]
    co.create_group(guid, "Club", group_type="private")
    co.add_group_members(guid, [b])
    co.send_text(guid, "hello club", receiver_type=ReceiverType.GROUP)
    groups = list(phone.conversations_request(conversation_type="group"))
    assert [c.with_id for c in groups] == [guid]
    assert groups[0].group is not None and groups[0].group.guid == guid
    newest_first = [c.with_id for c in phone.conversations_request(limit=1)]
    assert newest_first == [guid, a]
    counts = phone.unread_counts()
    assert (counts.total, counts.users, counts.groups) == (2, {a: 1}, {guid: 1})
    assert [c.with_id for c in phone.conversations_request(unread_only=True)] == [guid, a]
    phone.mark_read(sent[2])
    rlaptop.wait_for("conversation_updated", lambda c: c.with_id == a and c.unread_count == 0)
    assert [c.with_id for c in laptop.conversations_request(unread_only=True)] == [guid]


def test_delete_for_me_and_errors(three):
    (a, ca), (b, phone, rphone, laptop, rlaptop) = three
    ca.send_text(b, "first")
    laptop.delete_conversation(a)
    u = rphone.wait_for("conversation_updated", lambda c: c.deleted)
    assert u.with_id == a and u.unread_count == 0
    assert list(phone.conversations_request()) == []
    assert phone.unread_counts().total == 0
    with pytest.raises(chinwag.NotFoundError):
        phone.get_conversation(a)
    ca.send_text(b, "second")
    back = list(phone.conversations_request())
    assert [(c.with_id, c.unread_count) for c in back] == [(a, 1)]

    with pytest.raises(chinwag.InvalidArgumentError):
        phone.conversations_request(limit=101)
    with pytest.raises(chinwag.InvalidArgumentError):
        phone.get_conversation("")
    with pytest.raises(chinwag.InvalidArgumentError):
        phone.delete_conversation("x", conversation_type="channel")
    with pytest.raises(chinwag.NotFoundError):
        phone.get_conversation("nobody-here")
    with pytest.raises(TypeError):
        phone.get_conversation(42)  # type: ignore[arg-type]
    req = phone.conversations_request()
    req.close()
    with pytest.raises(chinwag.InvalidArgumentError):
        req.fetch()


def test_blocking(three, uid, server, make_client, recorder):
    (a, ca), (b, phone, rphone, laptop, rlaptop) = three
    blocked = phone.block_user(a)
    assert [u.uid for u in blocked] == [a] and blocked[0].blocked_by_me
    # alice's message is refused with a clear error and reaches neither of bob's devices.
    with pytest.raises(chinwag.ForbiddenError) as refused:
        ca.send_text(b, "are you there?")
    assert "BLOCKED" in str(refused.value) and "has blocked you" in str(refused.value)
    with pytest.raises(chinwag.ForbiddenError):
        laptop.send_text(a, "and back")
    # Flagged for bob only; the blocked list.
    assert phone.get_user(a).blocked_by_me
    assert not ca.get_user(b).blocked_by_me
    assert [u.uid for u in laptop.blocked_users()] == [a]
    # A third user's message is the barrier: nothing of alice's came before it.
    c = uid("carol")
    rc = recorder()
    cc = make_client(server, listeners={"rec": rc})
    login_connected(cc, rc, c)
    barrier = cc.send_text(b, "after alice")
    rphone.wait_for("text_message_received", lambda m: m.id == barrier.id)
    assert not [m for e, m in rphone.events if e == "text_message_received" and m.sender == a]

    phone.unblock_user(a)
    assert laptop.blocked_users() == []
    back = ca.send_text(b, "unblocked")
    assert rlaptop.wait_for("text_message_received", lambda m: m.sender == a).id == back.id
    with pytest.raises(chinwag.InvalidArgumentError):
        phone.block_user("")


def test_mentions(three):
    """``<@uid:UID>`` parsed by the server: the mentioned users, ``mentions_me`` for the reader
    on events and reads, and the conversation's unread mentions cleared by a read."""
    (a, ca), (b, phone, rphone, laptop, rlaptop) = three
    first = ca.send_text(b, f"hi <@uid:{b}>, and <@uid:nobody-at-all>")
    assert first.mentioned_users == [b] and not first.mentions_me
    ca.send_text(b, "plain")
    third = ca.send_text(b, f"<@uid:{b}>?")

    got = rphone.wait_for("text_message_received", lambda m: m.id == first.id)
    assert got.mentions_me and got.mentioned_users == [b]
    plain = rlaptop.wait_for("text_message_received", lambda m: m.text == "plain")
    assert not plain.mentions_me and plain.mentioned_users == []

    conv = laptop.get_conversation(a)
    assert (conv.unread_count, conv.unread_mentions_count) == (3, 2)
    assert conv.last_message is not None and conv.last_message.mentions_me
    page = phone.messages_request(a).fetch_previous()
    assert [m.mentions_me for m in page.messages] == [True, False, True]

    phone.mark_read(first)
    u = rlaptop.wait_for("conversation_updated", lambda c: c.with_id == a and c.unread_count == 2)
    assert u.unread_mentions_count == 1
    phone.mark_read(third)
    u = rlaptop.wait_for("conversation_updated", lambda c: c.with_id == a and c.unread_count == 0)
    assert u.unread_mentions_count == 0

    too_many = " ".join(f"<@uid:u{i}>" for i in range(33))
    with pytest.raises(chinwag.InvalidArgumentError) as refused:
        ca.send_text(b, too_many)
    assert "at most 32 users" in str(refused.value)


def test_threads(three):
    """Replies give the parent a reply count and last reply time (``on_thread_updated`` after
    each), and a thread request pages the replies."""
    (a, ca), (b, phone, rphone, laptop, rlaptop) = three
    parent = ca.send_text(b, "a question")
    replies = [
        ca.send_message({"receiver_type": "user", "receiver": b, "text": t, "parent_id": parent.id})
        for t in ("one", "two", "three")
    ]
    assert all(r.parent_id == parent.id for r in replies)
    got = rlaptop.wait_for("thread_updated", lambda m: m.id == parent.id and m.reply_count == 3)
    assert got.last_reply_at == replies[2].sent_at

    with phone.thread_request(parent.id, limit=2) as req:
        newest = req.fetch_previous()
        assert [m.id for m in newest.messages] == [r.id for r in replies[1:]] and newest.has_more
        older = req.fetch_previous()
        assert [m.id for m in older.messages] == [replies[0].id] and not older.has_more
    history = laptop.messages_request(a).fetch_previous()
    read = next(m for m in history.messages if m.id == parent.id)
    assert (read.reply_count, read.last_reply_at) == (3, replies[2].sent_at)

    with pytest.raises(chinwag.InvalidArgumentError):
        phone.thread_request(0)
    with phone.thread_request(2**62) as unknown:
        with pytest.raises(chinwag.NotFoundError):
            unknown.fetch_previous()
