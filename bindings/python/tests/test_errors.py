"""Result codes map to specific exception classes with the SDK's message; bad input never
crashes or hangs."""

from __future__ import annotations

import socket
import threading

import pytest

import chinwag
from chinwag import errors as E

from conftest import APP_ID, AUTH_KEY, TIMEOUT, login_connected


def test_hierarchy_and_attributes():
    e = chinwag.error_for(102, "receiver must not be empty")
    assert type(e) is E.InvalidArgumentError
    assert isinstance(e, E.ArgumentError) and isinstance(e, ValueError)
    assert (e.code, e.name, e.message) == (102, "INVALID_ARGUMENT", "receiver must not be empty")
    assert "INVALID_ARGUMENT (102)" in str(e)
    assert e.to_dict() == {"code": 102, "name": "INVALID_ARGUMENT", "message": "receiver must not be empty"}
    families = {
        100: E.ArgumentError,
        203: E.ClientStateError,
        301: E.NetworkError,
        406: E.ServerRefusedError,
        502: E.QueueError,
        900: E.LibraryError,
    }
    for code, family in families.items():
        err = chinwag.error_for(code)
        assert isinstance(err, family) and type(err) is not family, code
        assert err.CODE == code
    assert isinstance(chinwag.error_for(301), TimeoutError)
    assert isinstance(chinwag.error_for(300), ConnectionError)
    # a code this binding does not know yet: its family, by the hundreds digit
    assert type(chinwag.error_for(109)) is E.ArgumentError
    assert type(chinwag.error_for(777)) is E.ChinwagError
    # every code has its class
    for code in chinwag.ResultCode:
        if code != 0:
            assert chinwag.error_for(int(code)).name == code.name


def test_bad_input_before_login(server, make_client):
    c = make_client(server)
    with pytest.raises(E.NotLoggedInError) as info:
        c.send_text("bob", "hi")
    assert info.value.code == 200 and "login" in info.value.message
    with pytest.raises(E.NotLoggedInError):
        c.connect()
    with pytest.raises(E.InvalidArgumentError) as info:
        c.send_text("", "hi")
    assert info.value.code == 102 and "receiver" in info.value.message
    with pytest.raises(E.InvalidArgumentError):
        c.login("", AUTH_KEY)
    with pytest.raises(E.InvalidArgumentError):
        c.login("alice", "")
    # the SDK sees the invalid UTF-8 (lone surrogates pass through as bytes)
    with pytest.raises(E.InvalidUtf8Error) as info:
        c.login("al\ud800ice", AUTH_KEY)
    assert info.value.code == 101
    # an embedded NUL would cut the C string: refused by the binding
    with pytest.raises(E.InvalidArgumentError, match="NUL"):
        c.login("alice\0bob", AUTH_KEY)
    with pytest.raises(TypeError):
        c.send_text("bob", 42)  # type: ignore[arg-type]
    with pytest.raises(E.InvalidArgumentError, match="ReceiverType"):
        c.send_text("bob", "hi", receiver_type="planet")
    with pytest.raises(E.InvalidArgumentError):
        c.network_changed(7)  # type: ignore[arg-type]
    assert c.logged_in_user() is None
    assert c.status == chinwag.ConnectionState.DISCONNECTED


def test_bad_settings():
    from chinwag import _bridge

    before = _bridge.registry_size()
    with pytest.raises(TypeError):
        chinwag.Client(APP_ID, "http://127.0.0.1:1", listeners={"x": object()})
    with pytest.raises(E.InvalidArgumentError):
        chinwag.Client("app\0id", "http://127.0.0.1:1", listeners={"x": type("L", (), {"on_gap": lambda s, g: None})()})
    with pytest.raises(E.InvalidArgumentError):
        chinwag.Client("bad app id!", "http://127.0.0.1:1", session_store=chinwag.MemorySessionStore())
    assert _bridge.registry_size() == before  # nothing registered stays behind
    with pytest.raises(E.InvalidArgumentError) as info:
        chinwag.Client(APP_ID, "ftp://nowhere")
    assert "url" in info.value.message.lower()
    with pytest.raises(E.InvalidArgumentError):
        chinwag.Client("bad app id!", "http://127.0.0.1:1")
    with pytest.raises(E.InvalidArgumentError):
        chinwag.Client(APP_ID, "http://127.0.0.1:1", connect_timeout_ms=-1)
    with pytest.raises(ValueError):
        chinwag.Client(APP_ID, "http://127.0.0.1:1", presence="everyone")


def test_bad_input_when_logged_in(server, uid, make_client, recorder):
    a, b = uid("alice"), uid("bob")
    rec = recorder()
    c = make_client(server, listeners={"rec": rec})
    login_connected(c, rec, a)
    with pytest.raises(E.TextTooLongError) as info:
        c.send_text(b, "x" * (64 * 1024 + 1))
    assert info.value.code == 103
    with pytest.raises(E.InvalidArgumentError):
        c.send_text(b, "")
    with pytest.raises(E.InvalidArgumentError):
        c.mark_read(0)
    with pytest.raises(E.InvalidArgumentError):
        c.send_media(b, "hologram", "https://x")
    with pytest.raises(E.InvalidArgumentError):
        c.send_message({"receiver": b})  # no receiver_type
    with pytest.raises(E.InvalidArgumentError):
        c.send_custom(b, "", {})
    with pytest.raises(E.InvalidArgumentError, match="not JSON"):
        c.send_custom(b, "thing", object())
    with pytest.raises(E.InvalidArgumentError):
        c.edit_message(1)  # nothing to change
    with pytest.raises(E.InvalidArgumentError):
        c.messages_request(b, limit=1000)
    with pytest.raises(E.InvalidArgumentError):
        c.users_request(status="asleep")
    with pytest.raises(E.InvalidArgumentError):
        c.add_group_members("g", [])
    with pytest.raises(E.NotFoundError):
        c.remove_listener("nobody")
    with pytest.raises(E.NotFoundError):
        c.remove_message_listener("nobody")
    with pytest.raises(TypeError):
        c.add_listener("x", object())


def test_asynchronous_errors(server, uid, make_client, recorder):
    a, b = uid("alice"), uid("bob")
    ra, rb = recorder(), recorder()
    ca = make_client(server, listeners={"rec": ra})
    cb = make_client(server, listeners={"rec": rb})
    # wrong credentials, blocking and callback forms
    with pytest.raises(E.AuthFailedError) as info:
        ca.login(a, "wrong-key")
    assert info.value.code == 400 and info.value.message
    assert ra.wait_for("login_failure").code == 400
    got = []
    done = threading.Event()
    ca.login(a, "wrong-key", callback=lambda err, user: (got.append((err, user)), done.set()))
    assert done.wait(TIMEOUT)
    assert isinstance(got[0][0], E.AuthFailedError) and got[0][1] is None
    with pytest.raises(E.NotFoundError):
        ca.login("nobody-at-all", AUTH_KEY)

    login_connected(ca, ra, a)
    login_connected(cb, rb, b)
    with pytest.raises(E.NotFoundError) as info:
        ca.get_user("nobody-at-all")
    assert info.value.code == 407
    m = ca.send_text(b, "mine")
    with pytest.raises(E.ForbiddenError):
        cb.edit_message(m, text="not yours")
    ca.create_group(f"priv-{a}", "Private", "private")
    # to a non-member a private group is answered like a missing one
    with pytest.raises(E.NotFoundError):
        cb.join_group(f"priv-{a}")
    with pytest.raises(E.NotFoundError):
        cb.group_members(f"priv-{a}")
    with pytest.raises(E.ServerRefusedError):  # taken guid
        cb.create_group(f"priv-{a}", "Again")
    with pytest.raises(E.NotFoundError):
        ca.get_group("no-such-group")


def test_not_connected_errors(server, uid, make_client, recorder):
    a, b = uid("alice"), uid("bob")
    c = make_client(server, auto_connect=False)
    c.login(a, AUTH_KEY)
    assert c.status == chinwag.ConnectionState.DISCONNECTED
    for call in (
        lambda: c.start_typing(b),
        lambda: c.end_typing(b),
        lambda: c.mark_delivered(1),
        lambda: c.mark_read(1),
        lambda: c.send_transient(b, {"x": 1}),
        lambda: c.edit_message(1, text="x"),
    ):
        with pytest.raises(E.NotConnectedError) as info:
            call()
        assert info.value.code == 202


def test_closed_client(server, make_client):
    c = make_client(server)
    c.close()
    c.close()  # idempotent
    assert c.closed
    for call in (c.connect, lambda: c.send_text("bob", "x"), lambda: c.status, c.logged_in_user):
        with pytest.raises(E.ClientFreedError) as info:
            call()
        assert info.value.code == 204


def test_blocking_call_times_out(make_client):
    """A server that accepts TCP connections but never answers: the blocking form gives up
    with WaitTimeoutError; closing the client then cancels the login."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        c = chinwag.Client(APP_ID, f"http://127.0.0.1:{silent.getsockname()[1]}")
        with pytest.raises(E.WaitTimeoutError):
            c.login("alice", AUTH_KEY, timeout=0.3)
        got = []
        done = threading.Event()
        with pytest.raises(E.LoginInProgressError):
            c.login("alice", AUTH_KEY, callback=lambda e, u: None)
        c2 = chinwag.Client(APP_ID, f"http://127.0.0.1:{silent.getsockname()[1]}")
        c2.login("alice", AUTH_KEY, callback=lambda e, u: (got.append(e), done.set()))
        c2.close()  # resolves the unfinished login with CANCELLED before returning
        assert done.is_set()
        assert isinstance(got[0], E.OperationCancelledError) and got[0].code == 206
        c.close()
    finally:
        silent.close()
