"""First use as the hosted SDKs' apps know it (issue 19): create a user from the SDK, the
logged-in user, listeners added right after init on a restored session, and a message sent
between login and the first connect() in manual mode."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import List

import pytest

import chinwag
from chinwag import ConnectionState as S
from conftest import AUTH_KEY, TIMEOUT, login_connected
from test_chat_cli import Chat, chats  # noqa: F401  (the fixture)


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_create_user_and_its_errors(server, make_client):
    client = make_client(server, auto_connect=False)
    name = fresh("newbie")
    user = client.create_user(name, AUTH_KEY, name="New Bie")
    assert (user.uid, user.name) == (name, "New Bie")
    with pytest.raises(chinwag.UserExistsError) as exists:
        client.create_user(name, AUTH_KEY)
    assert exists.value.code == chinwag.ResultCode.USER_EXISTS
    with pytest.raises(chinwag.AuthFailedError):
        client.create_user(fresh("other"), "wrong-key")
    for bad in ("has space", "", "x" * 101):
        with pytest.raises(chinwag.InvalidArgumentError):
            client.create_user(bad, AUTH_KEY)
    with pytest.raises(chinwag.InvalidArgumentError):
        client.create_user(fresh("nokey"), "")
    # Default name: the uid.
    other = fresh("plain")
    assert client.create_user(other, AUTH_KEY).name == other

    # The logged-in user (read through the typed struct): none before login.
    assert client.logged_in_user() is None
    client.login(name, AUTH_KEY)
    me = client.logged_in_user()
    assert me is not None and (me.uid, me.name) == (name, "New Bie")


def test_create_user_from_asyncio(server):
    from chinwag import aio

    async def main() -> None:
        client = aio.AsyncClient("chinwag-app", server.url, auto_connect=False, log=False)
        try:
            name = fresh("async")
            user = await client.create_user(name, AUTH_KEY)
            assert user.uid == name
            with pytest.raises(chinwag.UserExistsError):
                await client.create_user(name, AUTH_KEY)
        finally:
            client.close()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_manual_first_connect_delivers_what_came_after_login(server, uid, make_client, recorder):
    alice, bob = uid("alice"), uid("bob")
    token = server.mint_token(bob)

    def say(text: str) -> None:
        status, resp = server.rest(
            "POST",
            "/v1/messages",
            {"receiver_type": "user", "receiver": alice, "text": text},
            token=token,
        )
        assert status == 201, resp

    say("before login")  # history: not replayed
    rec = recorder()
    client = make_client(server, auto_connect=False, listeners={"rec": rec})
    client.login(alice, AUTH_KEY)
    say("between login and connect")
    assert client.status == S.DISCONNECTED
    client.connect()
    rec.wait_for("text_message_received", lambda m: m.text == "between login and connect")
    kinds = [e for e, _ in rec.events if e in ("connected", "text_message_received")]
    assert kinds[:2] == ["connected", "text_message_received"], kinds
    say("live")
    rec.wait_for("text_message_received", lambda m: m.text == "live")
    assert [m.text for m in rec.of("text_message_received")] == ["between login and connect", "live"]


ROUNDS = 200


def test_listeners_added_after_init_on_a_restored_session_miss_nothing(server, uid, tmp_path):
    alice, bob = uid("alice"), uid("bob")
    token = server.mint_token(bob)
    first = chinwag.Client("chinwag-app", server.url, data_dir=str(tmp_path), log=False)
    try:
        first.login(alice, AUTH_KEY, timeout=TIMEOUT)
    finally:
        first.close()
    started_from = {}
    for round_ in range(ROUNDS):
        text = f"while closed {round_}"
        status, resp = server.rest(
            "POST", "/v1/messages", {"receiver_type": "user", "receiver": alice, "text": text}, token=token
        )
        assert status == 201, resp
        states: List[chinwag.StateChange] = []
        texts: List[str] = []
        cond = threading.Condition()

        class App:
            def on_state_changed(self, change: chinwag.StateChange) -> None:
                with cond:
                    states.append(change)
                    cond.notify_all()

            def on_text_message_received(self, m: chinwag.Message) -> None:
                with cond:
                    texts.append(m.text)
                    cond.notify_all()

        client = chinwag.Client("chinwag-app", server.url, data_dir=str(tmp_path), log=False)
        try:
            client.add_connection_listener("app", App())
            client.add_message_listener("app", App())
            with cond:
                assert cond.wait_for(
                    lambda: texts and states and states[-1].current == S.CONNECTED, TIMEOUT
                ), (round_, states, texts)
        finally:
            client.close()
        assert texts == [text], round_  # once; freed, so nothing more can come
        assert states[0].reason == chinwag.StateReason.LISTENER_ADDED, (round_, states)
        assert states[0].previous == states[0].current
        for before, after in zip(states, states[1:]):
            assert after.previous == before.current and after.previous != after.current, (round_, states)
        started_from[states[0].current.name] = started_from.get(states[0].current.name, 0) + 1
    print(f"first state of a listener added after init: {started_from}")


def test_chat_create_flag_and_login_failure(server, chats):  # noqa: F811
    name = fresh("cli")
    # Missing user: an explanation and a non-zero exit, not a chat that takes input.
    missing = chats(server.url, name, "--to", "nobody")
    missing.expect(r"^! cannot log in as .*NOT_FOUND")
    missing.expect(r"--create")
    assert missing.proc.wait(timeout=TIMEOUT) == 2
    # --create: created, logged in, chatting.
    created = chats(server.url, name, "--to", "nobody", extra=("--create",))
    created.expect(rf"^\* created user {name}$")
    created.expect(rf"^\* connected as {name}$")
    created.say("/quit")
    assert created.end() == 0
    # --create again: the user exists, it just logs in.
    again = chats(server.url, name, "--to", "nobody", extra=("--create",))
    again.expect(rf"^\* connected as {name}$")
    assert not any("created user" in line for line in again.seen)
    again.say("/quit")
    assert again.end() == 0
    # A wrong key: explained too.
    wrong = chats(server.url, name, "--to", "nobody", extra=("--auth-key", "wrong"))
    wrong.expect(r"^! cannot log in as .*AUTH_FAILED")
    wrong.expect(r"auth key")
    assert wrong.proc.wait(timeout=TIMEOUT) == 2
