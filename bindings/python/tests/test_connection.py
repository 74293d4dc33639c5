"""Auto and manual modes, the saved session, reconnection after a server restart, platform
hints, login listeners, logout."""

from __future__ import annotations

import threading

import pytest

import chinwag
from chinwag import ConnectionState as S

from conftest import APP_ID, AUTH_KEY, login_connected

FAST = dict(first_retry_max_ms=200, backoff_base_ms=100, backoff_cap_ms=500, hint_coalesce_ms=1)


def test_auto_mode_login_connects(server, uid, make_client, recorder):
    a = uid("alice")
    rec = recorder()
    c = make_client(server, listeners={"rec": rec})
    user = c.login(a, AUTH_KEY)
    assert isinstance(user, chinwag.User) and user.uid == a and user.name
    assert user.raw["uid"] == a
    connected = rec.wait_state(S.CONNECTED)
    assert connected.reason == chinwag.StateReason.ACCEPTED
    assert rec.states()[:2] == [S.CONNECTING, S.CONNECTED]
    assert [c.previous for c in rec.of("state_changed")][:2] == [S.DISCONNECTED, S.CONNECTING]
    rec.wait_for("connected")
    assert len(rec.of("connecting")) == 1 and len(rec.of("connected")) == 1
    assert rec.wait_for("login_success").uid == a
    assert c.status == S.CONNECTED == c.connection_status()
    assert c.logged_in_user().uid == a
    # callbacks run on one thread, the SDK's dispatcher thread
    assert len(rec.threads) == 1 and threading.get_ident() not in rec.threads


def test_manual_mode(server, uid, make_client, recorder):
    a = uid("alice")
    rec = recorder()
    c = make_client(server, auto_connect=False, listeners={"rec": rec})
    c.login(a, AUTH_KEY)
    rec.wait_for("login_success")
    assert c.status == S.DISCONNECTED and rec.of("state_changed") == []
    c.connect()
    c.connect()  # no-op while connecting/connected
    rec.wait_state(S.CONNECTED)
    c.disconnect()
    change = rec.wait_state(S.DISCONNECTED)
    assert change.reason == chinwag.StateReason.DISCONNECT_REQUESTED
    # on_state_changed runs first, then the specific callback
    assert rec.wait_for("disconnected").current == S.DISCONNECTED
    assert c.status == S.DISCONNECTED
    c.disconnect()  # no-op
    n = len(rec.of("state_changed"))
    c.connect()
    rec.wait_state(S.CONNECTED, after=n)
    # never two events in a row with the same state
    states = rec.states()
    assert all(x != y for x, y in zip(states, states[1:]))


def test_token_login_and_logout(server, uid, make_client, recorder):
    a = uid("alice")
    rec = recorder()
    c = make_client(server, listeners={"rec": rec})
    user = c.login_with_token(server.mint_token(a))
    assert user.uid == a
    rec.wait_state(S.CONNECTED)
    c.logout()
    rec.wait_for("logout_success")
    rec.wait_state(S.DISCONNECTED)
    assert c.logged_in_user() is None
    with pytest.raises(chinwag.NotLoggedInError):
        c.logout()


def test_saved_session_restores_and_reconnects(server, uid, make_client, recorder, tmp_path):
    a = uid("alice")
    data_dir = tmp_path / "session"
    first = recorder()
    with chinwag.Client(APP_ID, server.url, data_dir=data_dir, listeners={"rec": first}) as c:
        login_connected(c, first, a)
    files = list(data_dir.iterdir())
    assert files and all((f.stat().st_mode & 0o777) == 0o600 for f in files if f.is_file())

    # a new client with the same directory: logged in at once, reconnects by itself
    again = recorder()
    c2 = make_client(server, data_dir=data_dir, listeners={"rec": again})
    assert c2.logged_in_user().uid == a
    again.wait_state(S.CONNECTED)
    assert again.states()[:2] == [S.CONNECTING, S.CONNECTED]  # heard from the very first event
    c2.close()

    # manual mode restores the user without connecting
    manual = recorder()
    c3 = make_client(server, data_dir=data_dir, auto_connect=False, listeners={"rec": manual})
    assert c3.logged_in_user().uid == a and c3.status == S.DISCONNECTED
    c3.connect()
    manual.wait_state(S.CONNECTED)
    c3.logout()
    c3.close()
    c4 = make_client(server, data_dir=data_dir)
    assert c4.logged_in_user() is None


def test_session_store_of_the_app(server, uid, make_client, recorder):
    a = uid("alice")
    store = chinwag.MemorySessionStore()
    rec = recorder()
    c = make_client(server, session_store=store, listeners={"rec": rec})
    login_connected(c, rec, a)
    assert store.session_json and a in store.session_json and store.saves >= 1
    c.close()
    rec2 = recorder()
    c2 = make_client(server, session_store=store, listeners={"rec": rec2})
    assert c2.logged_in_user().uid == a
    rec2.wait_state(S.CONNECTED)
    c2.logout()
    assert store.session_json is None


def test_failing_session_store_is_reported(server, uid, make_client, caplog):
    class Broken(chinwag.SessionStore):
        def load(self):
            raise OSError("keychain locked")

        def save(self, session_json, durable):
            raise OSError("keychain locked")

        def clear(self):
            pass

    a = uid("alice")
    c = make_client(server, session_store=Broken())
    assert c.logged_in_user() is None
    assert "keychain locked" in caplog.text
    with pytest.raises(chinwag.StorageError):
        c.login(a, AUTH_KEY)


def test_reconnects_after_server_restart(own_server, make_client, recorder):
    """The server restarts on the same port and database file: both clients come back by
    themselves and messages flow again."""
    own_server.create_user("alice")
    own_server.create_user("bob")
    ra, rb = recorder(), recorder()
    ca = make_client(own_server, listeners={"rec": ra}, **FAST)
    cb = make_client(own_server, listeners={"rec": rb}, **FAST)
    login_connected(ca, ra, "alice")
    login_connected(cb, rb, "bob")
    before = ca.send_text("bob", "before")
    rb.wait_for("text_message_received", lambda m: m.id == before.id)
    na, nb = len(ra.of("state_changed")), len(rb.of("state_changed"))

    own_server.restart()

    for rec, n in ((ra, na), (rb, nb)):
        lost = rec.wait_state(S.RECONNECTING, after=n)
        assert lost.retry_in_ms is not None and lost.retry_in_ms >= 0
        rec.wait_state(S.CONNECTED, after=n)
    assert ca.status == S.CONNECTED
    after = ca.send_text("bob", "after")
    got = rb.wait_for("text_message_received", lambda m: m.id == after.id)
    assert got.text == "after"
    assert [m.text for m in rb.of("text_message_received")] == ["before", "after"]


def test_network_hints(server, uid, make_client, recorder):
    a = uid("alice")
    rec = recorder()
    c = make_client(server, listeners={"rec": rec}, **FAST)
    login_connected(c, rec, a)
    n = len(rec.of("state_changed"))
    c.network_changed("down")
    rec.wait_for("disconnected", lambda ch: ch.reason == chinwag.StateReason.NETWORK_CHANGED)
    c.network_changed(True)
    rec.wait_state(S.CONNECTED, after=n + 1)
    c.app_state_changed(chinwag.AppState.BACKGROUND)
    c.app_state_changed("foreground")
    assert c.status in (S.CONNECTED, S.CONNECTING)


def test_revoked_token_fails_without_retry(server, uid, make_client, recorder):
    a = uid("alice")
    rec = recorder()
    c = make_client(server, listeners={"rec": rec}, **FAST)
    login_connected(c, rec, a)
    status, _ = server.rest("DELETE", f"/v1/users/{a}/tokens")
    assert status == 200
    failed = rec.wait_state(S.FAILED)
    assert failed.reason == chinwag.StateReason.AUTH_REJECTED
    err = rec.wait_for("connection_error")
    assert isinstance(err, chinwag.SessionExpiredError)
    assert isinstance(rec.wait_for("session_expired"), chinwag.ChinwagError)
    assert c.status == S.FAILED
