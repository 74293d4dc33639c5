"""Messages of every kind, edits and deletes, history, typing, receipts, transient messages,
presence, groups (every operation and event), calls, users and friends."""

from __future__ import annotations

import threading

import pytest

import chinwag
from chinwag import ReceiverType

from conftest import AUTH_KEY, TIMEOUT, login_connected


@pytest.fixture
def pair(server, uid, make_client, recorder):
    """alice and bob, connected, each with a recorder."""
    a, b = uid("alice"), uid("bob")
    ra, rb = recorder(), recorder()
    ca = make_client(server, listeners={"rec": ra})
    cb = make_client(server, listeners={"rec": rb})
    login_connected(ca, ra, a)
    login_connected(cb, rb, b)
    return (a, ca, ra), (b, cb, rb)


def test_text_custom_media_and_any_message(pair):
    (a, ca, ra), (b, cb, rb) = pair
    text = ca.send_text(b, "Hi Bob")
    assert text.is_text and text.id > 0 and text.sender == a and text.receiver == b
    assert text.receiver_type == ReceiverType.USER and len(text.muid) == 32
    got = rb.wait_for("text_message_received")
    assert got == text  # the same stored message (dataclass equality ignores `raw`)
    assert got.raw["text"] == "Hi Bob"

    custom = ca.send_custom(b, "location", {"lat": 52.5, "lon": 13.4})
    got = rb.wait_for("custom_message_received")
    assert got.id == custom.id and got.is_custom and got.type == "location"
    assert got.data == {"lat": 52.5, "lon": 13.4}

    media = ca.send_media(b, "image", "https://example.com/cat.png", caption="cat", metadata={"w": 640})
    got = rb.wait_for("media_message_received")
    assert got.id == media.id and got.is_media and got.type == "image" and got.text == "cat"
    assert got.attachments == [chinwag.Attachment("https://example.com/cat.png")]
    assert got.metadata == {"w": 640}

    anything = ca.send_message(
        {
            "muid": "py-any-1",
            "receiver_type": ReceiverType.USER,
            "receiver": b,
            "type": "file",
            "text": "the report",
            "attachments": [chinwag.Attachment("https://x/r.pdf", name="r.pdf", size=123)],
            "quoted_id": text.id,
        }
    )
    assert anything.muid == "py-any-1"
    got = rb.wait_for("media_message_received", lambda m: m.id == anything.id)
    assert got.attachments[0].name == "r.pdf" and got.attachments[0].size == 123
    assert got.quoted_id == text.id
    # the "message" alias and own messages are not echoed to the sender
    assert ra.of("text_message_received") == []


def test_callback_form_of_a_send(pair):
    (a, ca, ra), (b, cb, rb) = pair
    results = []
    done = threading.Event()

    def sent(error, message):
        results.append((error, message, threading.get_ident()))
        done.set()

    muid = ca.send_text(b, "with a callback", callback=sent)
    assert isinstance(muid, str) and len(muid) == 32
    assert done.wait(TIMEOUT)
    error, message, thread = results[0]
    assert error is None and message.muid == muid and message.text == "with a callback"
    assert thread != threading.get_ident() and thread in ra.threads


def test_edit_delete_and_history(pair):
    (a, ca, ra), (b, cb, rb) = pair
    sent = [ca.send_text(b, f"m{i}") for i in range(5)]
    rb.wait_for("text_message_received", lambda m: m.id == sent[-1].id)

    edited = ca.edit_message(sent[1], text="m1 (edited)", metadata={"edited": True})
    assert edited.text == "m1 (edited)" and edited.edited_at
    got = rb.wait_for("message_edited")
    assert got.id == sent[1].id and got.text == "m1 (edited)" and got.metadata == {"edited": True}

    deleted = ca.delete_message(sent[2].id)
    assert deleted.is_deleted and deleted.text is None
    got = rb.wait_for("message_deleted")
    assert got.id == sent[2].id and got.deleted_by == a

    with cb.messages_request(a, limit=2) as req:
        newest = req.fetch_previous()
        assert [m.id for m in newest] == [s.id for s in sent[3:5]] and newest.has_more
        older = req.fetch_previous()
        assert [m.id for m in older] == [s.id for s in sent[1:3]]
        assert older.messages[0].text == "m1 (edited)" and older.messages[1].is_deleted
        oldest = req.fetch_previous()
        assert [m.id for m in oldest] == [sent[0].id] and not oldest.has_more

    with cb.messages_request(a, limit=3, from_message_id=sent[1].id) as req:
        page = req.fetch_next()
        assert [m.id for m in page] == [s.id for s in sent[2:5]] and not page.has_more
    # callback form
    done = threading.Event()
    pages = []
    req = ca.messages_request(b, limit=100)
    req.fetch_previous(callback=lambda e, p: (pages.append((e, p)), done.set()))
    assert done.wait(TIMEOUT) and pages[0][0] is None and len(pages[0][1]) == 5
    req.close()


def test_typing_receipts_and_transient(pair):
    (a, ca, ra), (b, cb, rb) = pair
    ca.start_typing(b)
    typing = rb.wait_for("typing_started")
    assert typing.sender == a and typing.receiver == b and typing.receiver_type == ReceiverType.USER
    ca.end_typing(b)
    assert rb.wait_for("typing_ended").sender == a

    m = ca.send_text(b, "read me")
    got = rb.wait_for("text_message_received")
    cb.mark_delivered(got)
    receipt = ra.wait_for("messages_delivered")
    assert receipt.kind == chinwag.ReceiptKind.DELIVERED
    assert (receipt.by, receipt.message_id, receipt.message_sender) == (b, m.id, a)
    cb.mark_read(got.id)
    receipt = ra.wait_for("messages_read")
    assert receipt.kind == chinwag.ReceiptKind.READ and receipt.message_id == m.id

    ca.send_transient(b, {"cursor": [3, 4]})
    t = rb.wait_for("transient_message_received")
    assert t.sender == a and t.data == {"cursor": [3, 4]}


def test_presence(server, uid, make_client, recorder):
    a, b = uid("alice"), uid("bob")
    ra, rb = recorder(), recorder()
    ca = make_client(server, presence="all_users", listeners={"rec": ra})
    login_connected(ca, ra, a)
    cb = make_client(server, listeners={"rec": rb})
    login_connected(cb, rb, b)
    online = ra.wait_for("user_online", lambda p: p.uid == b)
    assert online.online and online.status == chinwag.UserStatus.ONLINE
    cb.disconnect()
    offline = ra.wait_for("user_offline", lambda p: p.uid == b)
    assert not offline.online and offline.last_active_at
    # presence of friends only
    c, d = uid("carol"), uid("dave")
    rc = recorder()
    cc = make_client(server, presence=chinwag.Presence.FRIENDS, listeners={"rec": rc})
    login_connected(cc, rc, c)
    # a user's add_friend only asks; the app's backend (API key) befriends directly
    assert cc.add_friend(d) == []
    status, body = server.rest("POST", f"/v1/users/{c}/friends", {"uids": [d]})
    assert status == 200 and [u["uid"] for u in body["users"]] == [d]
    cd = make_client(server)
    cd.login(d, AUTH_KEY)
    rc.wait_for("user_online", lambda p: p.uid == d)


def test_users_and_friends(pair, uid):
    (a, ca, ra), (b, cb, rb) = pair
    user = ca.get_user(b)
    assert user.uid == b and user.name == b.capitalize() and user.online
    prefix = a.split("-")[0] + "-" + a.split("-")[1]  # unique to alice
    page = ca.users_request(search=prefix).fetch()
    assert [u.uid for u in page] == [a] and not page.has_more
    everyone = list(ca.users_request(limit=2))
    assert {a, b} <= {u.uid for u in everyone}
    assert ca.friends() == []
    assert ca.add_friend(b) == []  # an ask until b asks back
    assert [u.uid for u in cb.add_friend(a)] == [a]
    assert [u.uid for u in ca.friends()] == [b]
    assert [u.uid for u in cb.friends()] == [a]
    ca.remove_friend(b)
    assert ca.friends() == []


def test_groups(server, uid, make_client, recorder):
    a, b, c = uid("alice"), uid("bob"), uid("carol")
    recs = [recorder() for _ in range(3)]
    clients = [make_client(server, listeners={"rec": r}) for r in recs]
    for who, client, rec in zip((a, b, c), clients, recs):
        login_connected(client, rec, who)
    (ca, cb, cc), (ra, rb, rc) = clients, recs
    guid = f"team-{a}"

    group = ca.create_group(guid, "Team")
    assert group.guid == guid and group.owner == a and group.scope == chinwag.Scope.ADMIN
    assert group.type == chinwag.GroupType.PUBLIC and group.members_count == 1

    joined = cb.join_group(guid)
    assert joined.scope == chinwag.Scope.PARTICIPANT
    event = ra.wait_for("member_joined")
    assert (event.action, event.member, event.guid) == (chinwag.GroupAction.JOINED, b, guid)

    added = ca.add_group_members(guid, {c: "moderator"})
    # the answer is the group's member list after the change (docs/protocol.md)
    assert (c, chinwag.Scope.MODERATOR) in [(m.uid, m.scope) for m in added]
    assert rc.wait_for("member_added").member == c

    members = ca.group_members(guid)
    assert {m.uid: m.scope for m in members} == {
        a: chinwag.Scope.ADMIN, b: chinwag.Scope.PARTICIPANT, c: chinwag.Scope.MODERATOR,
    }
    assert ca.get_group(guid).members_count == 3
    assert guid in [g.guid for g in cb.list_groups(joined=True)]
    page = ca.list_groups(limit=100)
    assert guid in [g.guid for g in page]

    # group messages and typing
    m = ca.send_text(guid, "hello team", receiver_type="group")
    for rec in (rb, rc):
        got = rec.wait_for("text_message_received", lambda x: x.id == m.id)
        assert got.receiver_type == ReceiverType.GROUP and got.receiver == guid
    cb.start_typing(guid, receiver_type=ReceiverType.GROUP)
    assert rc.wait_for("typing_started").receiver == guid

    member = ca.change_group_member_scope(guid, b, chinwag.Scope.MODERATOR)
    assert member.uid == b and member.scope == chinwag.Scope.MODERATOR
    changed = rb.wait_for("member_scope_changed")
    assert changed.scope == chinwag.Scope.MODERATOR and changed.old_scope == chinwag.Scope.PARTICIPANT

    ca.kick_group_member(guid, c)
    assert rc.wait_for("member_kicked").member == c
    ca.ban_group_member(guid, c)
    assert ra.wait_for("member_banned").member == c
    with pytest.raises(chinwag.ForbiddenError):
        cc.join_group(guid)
    ca.unban_group_member(guid, c)
    assert ra.wait_for("member_unbanned").member == c
    cc.join_group(guid)

    cb.leave_group(guid)
    assert ra.wait_for("member_left").member == b
    with pytest.raises(chinwag.ForbiddenError):
        ca.leave_group(guid)  # the owner cannot leave

    private = ca.create_group(f"private-{a}", "Private", "private")
    assert private.type == chinwag.GroupType.PRIVATE
    ca.add_group_members(private.guid, [b])
    assert rb.wait_for("member_added", lambda e: e.guid == private.guid).member == b


def test_calls(pair):
    (a, ca, ra), (b, cb, rb) = pair
    call = ca.initiate_call(b, "video")
    assert call.status == "initiated" and call.initiator == a and call.call_type == chinwag.CallType.VIDEO
    incoming = rb.wait_for("incoming_call_received")
    assert incoming.session_id == call.session_id
    assert ca.active_call().session_id == call.session_id

    accepted = cb.accept_call(incoming)
    assert accepted.status == "ongoing" and accepted.joined_at
    assert cb.active_call().session_id == call.session_id
    assert ra.wait_for("outgoing_call_accepted").session_id == call.session_id
    ended = ca.end_call(call.session_id)
    assert ended.status == "ended"
    assert rb.wait_for("call_ended").session_id == call.session_id
    assert ca.active_call() is None

    # rejected (busy), callback form of initiate
    done = threading.Event()
    got = []
    sid = ca.initiate_call(b, callback=lambda e, c: (got.append((e, c)), done.set()))
    assert done.wait(TIMEOUT) and got[0][1].session_id == sid
    rb.wait_for("incoming_call_received", lambda c: c.session_id == sid)
    cb.reject_call(sid, busy=True)
    assert ra.wait_for("outgoing_call_rejected").status == "busy"

    # cancelled by the caller
    call = ca.initiate_call(b)
    rb.wait_for("incoming_call_received", lambda c: c.session_id == call.session_id)
    cancelled = ca.cancel_call(call)
    assert cancelled.status == "cancelled"
    assert rb.wait_for("incoming_call_cancelled").session_id == call.session_id
