"""Callbacks: threads, exceptions in app code, decorators, listener removal during dispatch,
lifetimes of the ctypes objects, the client freed while events are in flight, app-driven
dispatch with the synchronous client."""

from __future__ import annotations

import gc
import logging
import select
import threading
import weakref

import pytest

import chinwag
from chinwag import ConnectionState as S
from chinwag import _bridge

from conftest import APP_ID, AUTH_KEY, TIMEOUT, login_connected


@pytest.fixture
def pair(server, uid, make_client, recorder):
    a, b = uid("alice"), uid("bob")
    ra, rb = recorder(), recorder()
    ca = make_client(server, listeners={"rec": ra})
    cb = make_client(server, listeners={"rec": rb})
    login_connected(ca, ra, a)
    login_connected(cb, rb, b)
    return (a, ca, ra), (b, cb, rb)


class _Capture(logging.Handler):
    """Collects the records of logger "chinwag"; ``wait(n)`` waits until n arrived."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list = []
        self.cond = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self.cond:
            self.records.append(record)
            self.cond.notify_all()

    def wait(self, n: int) -> list:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.records) >= n, TIMEOUT), self.records
            return list(self.records)


@pytest.fixture
def chinwag_errors():
    capture = _Capture()
    logger = logging.getLogger("chinwag")
    logger.addHandler(capture)
    try:
        yield capture
    finally:
        logger.removeHandler(capture)


def test_a_callback_that_raises_is_logged_and_delivery_continues(pair, chinwag_errors):
    (a, ca, ra), (b, cb, rb) = pair

    class Grumpy(chinwag.MessageListener):
        def __init__(self):
            self.seen = []

        def on_text_message_received(self, message):
            self.seen.append(message.text)
            raise RuntimeError(f"boom on {message.text}")

    grumpy = Grumpy()
    cb.add_message_listener("grumpy", grumpy)

    @cb.on("text_message_received")
    def also_grumpy(message):
        raise ValueError("handler boom")

    for i in range(3):
        ca.send_text(b, f"m{i}")
    records = chinwag_errors.wait(6)  # 3 from the listener, 3 from the handler
    rb.wait_for("text_message_received", lambda m: m.text == "m2")
    assert grumpy.seen == ["m0", "m1", "m2"]  # the raising listener keeps getting events
    assert [m.text for m in rb.of("text_message_received")] == ["m0", "m1", "m2"]
    boom = [r for r in records if "Grumpy.on_text_message_received" in r.getMessage()]
    assert [str(r.exc_info[1]) for r in boom] == ["boom on m0", "boom on m1", "boom on m2"]
    assert sum("handler boom" in str(r.exc_info[1]) for r in records) == 3
    assert cb.status == S.CONNECTED


def test_decorators_and_listener_objects(pair):
    (a, ca, ra), (b, cb, rb) = pair
    got = []
    done = threading.Event()

    @cb.on("message")
    def any_message(message):
        got.append(("message", message.type))

    @cb.on("on_custom_message_received")
    def custom(message):
        got.append(("custom", message.data))
        done.set()

    cb.on("typing_started", lambda t: got.append(("typing", t.sender)))
    ca.start_typing(b)
    ca.send_text(b, "x")
    ca.send_custom(b, "poll", [1, 2])
    assert done.wait(TIMEOUT)
    assert got == [("typing", a), ("message", "text"), ("message", "poll"), ("custom", [1, 2])]
    cb.off("message", any_message)
    cb.off("custom_message_received")
    done.clear()
    cb.on("custom_message_received", lambda m: done.set())
    ca.send_custom(b, "poll", [3])
    assert done.wait(TIMEOUT)
    assert len(got) == 4
    with pytest.raises(ValueError, match="unknown event"):
        cb.on("nonsense")

    class Both:  # any object with on_* methods; families found by their names
        def __init__(self):
            self.events = []
            self.got = threading.Event()

        def on_text_message_received(self, m):
            self.events.append(m.text)
            self.got.set()

        def on_user_online(self, p):
            self.events.append(p.uid)

    both = Both()
    assert cb.add_listener("both", both) == ["message", "user"]
    assert "both" in cb.listener_ids() and "rec" in cb.listener_ids()
    ca.send_text(b, "to both")
    assert both.got.wait(TIMEOUT)
    cb.remove_listener("both")  # when this returns, it never runs again
    assert "both" not in cb.listener_ids()
    ca.send_text(b, "after removal")
    rb.wait_for("text_message_received", lambda m: m.text == "after removal")
    assert both.events == ["to both"]


def test_blocking_call_inside_a_callback_raises_and_callback_form_works(pair):
    (a, ca, ra), (b, cb, rb) = pair
    outcome = {}
    done = threading.Event()

    def on_message(message):
        try:
            cb.get_user(message.sender)
        except chinwag.ReentrantCallError as e:
            outcome["blocking"] = e
        # the callback form is fine, and so are non-blocking calls
        cb.mark_read(message)
        cb.get_user(message.sender, callback=lambda err, user: (outcome.update(user=user), done.set()))

    cb.on("text_message_received", on_message)
    ca.send_text(b, "hi")
    assert done.wait(TIMEOUT)
    assert outcome["blocking"].code == 205 and "callback=" in outcome["blocking"].message
    assert outcome["user"].uid == a
    ra.wait_for("messages_read")


def test_listener_removed_during_dispatch(pair):
    """A listener removes another one and itself from inside a callback: neither gets a later
    event, both are released (their registry entries gone)."""
    (a, ca, ra), (b, cb, rb) = pair
    calls = {"first": [], "second": []}
    errors = []

    class First:
        def on_text_message_received(self, m):
            calls["first"].append(m.text)
            try:
                cb.remove_message_listener("second")
                cb.remove_message_listener("first")  # its own removal, inside its callback
            except Exception as e:  # pragma: no cover
                errors.append(e)

    class Second:
        def on_text_message_received(self, m):
            calls["second"].append(m.text)

    first, second = First(), Second()
    before = _bridge.registry_size()
    refs = [weakref.ref(first), weakref.ref(second)]
    cb.add_message_listener("first", first)
    cb.add_message_listener("second", second)
    assert _bridge.registry_size() == before + 2
    ca.send_text(b, "one")
    ca.send_text(b, "two")
    rb.wait_for("text_message_received", lambda m: m.text == "two")
    assert errors == []
    assert calls["first"] == ["one"]
    assert "two" not in calls["second"] and calls["second"] in ([], ["one"])
    assert _bridge.registry_size() == before  # user_data_free ran for both
    del first, second
    gc.collect()
    assert [r() for r in refs] == [None, None]  # nothing keeps the objects alive
    assert "first" not in cb.listener_ids()


def test_replacing_a_listener_releases_the_old_one(pair):
    (a, ca, ra), (b, cb, rb) = pair
    before = _bridge.registry_size()
    olds = []
    for i in range(50):
        obj = type("L", (), {"on_text_message_received": lambda self, m: None})()
        olds.append(weakref.ref(obj))
        cb.add_message_listener("same", obj)
    del obj
    assert _bridge.registry_size() == before + 1
    cb.remove_message_listener("same")
    assert _bridge.registry_size() == before
    gc.collect()
    assert all(r() is None for r in olds)


def test_client_freed_while_events_are_in_flight(server, uid, make_client, recorder):
    a, b = uid("alice"), uid("bob")
    ra = recorder()
    ca = make_client(server, listeners={"rec": ra})
    login_connected(ca, ra, a)
    before = _bridge.registry_size()
    cb = chinwag.Client(APP_ID, server.url)
    first = threading.Event()
    closed = threading.Event()
    late = []
    received = []

    @cb.on("text_message_received")
    def on_message(m):
        if closed.is_set():
            late.append(m.text)
        received.append(m.text)
        first.set()

    connected = threading.Event()
    cb.on("connected", lambda change: connected.set())
    cb.login(b, AUTH_KEY)
    assert connected.wait(TIMEOUT)
    completions = []
    all_done = threading.Event()
    n = 200

    def sent(err, m):
        completions.append(err)
        if len(completions) == n:
            all_done.set()

    for i in range(n):
        ca.send_text(b, f"flood {i}", callback=sent)
    assert first.wait(TIMEOUT)
    cb.close()  # outside a callback: when this returns, no callback runs any more
    closed.set()
    assert all_done.wait(TIMEOUT)
    assert len(completions) == n and all(e is None for e in completions)
    assert late == []
    assert received == [f"flood {i}" for i in range(len(received))]  # in order, no repeats
    assert _bridge.registry_size() == before  # the hub, the log sink, everything released
    with pytest.raises(chinwag.ClientFreedError):
        cb.send_text(a, "x")


def test_client_freed_from_inside_its_own_callback(server, uid, make_client, recorder):
    a, b = uid("alice"), uid("bob")
    ra = recorder()
    ca = make_client(server, listeners={"rec": ra})
    login_connected(ca, ra, a)
    before = _bridge.registry_size()
    cb = chinwag.Client(APP_ID, server.url)
    seen = []
    released = threading.Event()

    class Once:
        def on_text_message_received(self, m):
            seen.append(m.text)
            cb.close()  # deferred until this callback returns; never a deadlock

        def on_connection_error(self, e):  # pragma: no cover
            pass

    cb.add_listener("once", Once())
    connected = threading.Event()
    cb.on("connected", lambda change: connected.set())
    cb.login(b, AUTH_KEY)
    assert connected.wait(TIMEOUT)
    pending = []
    cb.get_user(a, callback=lambda e, u: pending.append(e))  # may finish or be cancelled
    for i in range(20):
        ca.send_text(b, f"m{i}")
    deadline = threading.Event()

    def wait_released():
        while _bridge.registry_size() != before:
            if deadline.wait(0.01):
                return
        released.set()

    t = threading.Thread(target=wait_released)
    t.start()
    ok = released.wait(TIMEOUT)
    deadline.set()
    t.join()
    assert ok, "the client's listeners were not released after the deferred free"
    assert seen == ["m0"]
    assert len(pending) == 1
    assert cb.closed


def test_queued_sends_complete_exactly_once_when_the_client_is_freed(own_server, make_client, recorder):
    own_server.create_user("alice")
    rec = recorder()
    c = chinwag.Client(APP_ID, own_server.url, listeners={"rec": rec}, first_retry_max_ms=100)
    login_connected(c, rec, "alice")
    own_server.stop()
    rec.wait_state(S.RECONNECTING)
    results = []
    muids = [c.send_text("bob", f"queued {i}", callback=lambda e, m: results.append(e)) for i in range(5)]
    assert len(set(muids)) == 5
    c.close()
    assert len(results) == 5  # each exactly once, before close returned
    assert all(isinstance(e, (chinwag.OperationCancelledError, chinwag.DisconnectedError)) for e in results)


def test_an_unreferenced_client_is_freed_by_the_garbage_collector(server, uid):
    before = _bridge.registry_size()

    def make():
        c = chinwag.Client(APP_ID, server.url)
        c.on("message", lambda m: None)
        c.add_listener("x", type("L", (chinwag.MessageListener,), {"on_gap": lambda s, g: None})())
        return weakref.ref(c)

    ref = make()
    gc.collect()
    assert ref() is None
    assert _bridge.registry_size() == before


def test_app_driven_dispatch_with_the_sync_client(server, uid, make_client, recorder):
    a, b = uid("alice"), uid("bob")
    rb = recorder()
    cb = make_client(server, listeners={"rec": rb}, dispatch_mode="app")
    assert cb.dispatch_mode == chinwag.DispatchMode.APP
    fd = cb.dispatch_fd()
    assert isinstance(fd, int) and fd >= 0
    user = cb.login(b, AUTH_KEY)  # blocking: runs dispatch on this thread while it waits
    assert user.uid == b
    while cb.status != S.CONNECTED or not rb.of("connected"):
        select.select([fd], [], [], TIMEOUT)
        cb.dispatch()
    assert rb.threads == {threading.get_ident()}  # callbacks ran on this thread
    ra = recorder()
    ca = make_client(server, listeners={"rec": ra})
    login_connected(ca, ra, a)
    m = ca.send_text(b, "app driven")
    # nothing is delivered until this thread dispatches
    readable, _, _ = select.select([fd], [], [], TIMEOUT)
    assert readable == [fd]
    assert rb.of("text_message_received") == []
    ran = 0
    while not rb.of("text_message_received"):
        ran += cb.dispatch()
        if not rb.of("text_message_received"):
            select.select([fd], [], [], TIMEOUT)
    assert ran >= 1 and rb.of("text_message_received")[0].id == m.id
    assert select.select([fd], [], [], 0)[0] == []  # drained

    # dispatch from inside a callback is refused; KeyboardInterrupt in a callback surfaces
    inner = []

    @cb.on("text_message_received")
    def nested(message):
        try:
            cb.dispatch()
        except chinwag.ReentrantCallError as e:
            inner.append(e)
        if message.text == "interrupt":
            raise KeyboardInterrupt

    ca.send_text(b, "interrupt")
    with pytest.raises(KeyboardInterrupt):
        while not inner:
            select.select([fd], [], [], TIMEOUT)
            cb.dispatch()
    assert inner and inner[0].code == 205

    thread_client = make_client(server)
    with pytest.raises(chinwag.InvalidArgumentError):
        thread_client.dispatch()
