"""The asyncio client: awaitable operations, event streams, handlers, on app-driven dispatch
(``loop.add_reader`` on the SDK's descriptor, callbacks on the loop thread)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

import pytest

import chinwag
from chinwag.aio import AsyncClient, Event

from conftest import APP_ID, AUTH_KEY, TIMEOUT


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_login_send_receive(server, uid):
    a, b = uid("alice"), uid("bob")

    async def main():
        async with AsyncClient(APP_ID, server.url) as ca, AsyncClient(APP_ID, server.url) as cb:
            assert cb.sync.dispatch_mode == chinwag.DispatchMode.APP
            async with cb.events() as everything, cb.events("message", "typing_started") as chat:
                user = await cb.login(b, AUTH_KEY)
                assert user.uid == b
                await cb.wait_for_state("connected", TIMEOUT)
                await ca.login(a, AUTH_KEY)
                await ca.wait_for_state(chinwag.ConnectionState.CONNECTED, TIMEOUT)

                ca.start_typing(b)
                sent = await ca.send_text(b, "hello async")
                assert isinstance(sent, chinwag.Message) and sent.text == "hello async"
                custom = await ca.send_custom(b, "ping", {"n": 1})

                first = await chat.get(TIMEOUT)
                assert first == Event("typing_started", first.data) and first.data.sender == a
                second = await chat.get(TIMEOUT)
                assert second.name == "text_message_received" and second.data == sent
                third = await chat.get(TIMEOUT)
                assert third.name == "custom_message_received" and third.data.id == custom.id

                names = []
                async for event in everything:
                    names.append(event.name)
                    if event.name == "custom_message_received":
                        break
                assert names[:3] == ["login_success", "state_changed", "connecting"]
                assert "connected" in names and "text_message_received" in names

                page = await cb.messages_request(a, limit=10).fetch_previous()
                assert [m.id for m in page] == [sent.id, custom.id]
                edited = await ca.edit_message(sent, text="edited")
                assert (await everything.wait_for("message_edited", timeout=TIMEOUT)).text == "edited"
                assert edited.text == "edited"
                users = [u.uid async for u in ca.users_request(search=a)]
                assert users == [a]
                await ca.logout()
                assert ca.logged_in_user() is None

    run(main())


def test_callbacks_run_on_the_loop_thread(server, uid):
    a, b = uid("alice"), uid("bob")

    async def main():
        loop_thread = threading.get_ident()
        threads = set()
        got = asyncio.Event()
        async_seen = []

        async with AsyncClient(APP_ID, server.url) as ca, AsyncClient(APP_ID, server.url) as cb:

            @cb.on("text_message_received")
            def plain(message):
                threads.add(threading.get_ident())

            @cb.on("text_message_received")
            async def coroutine(message):
                await asyncio.sleep(0)
                async_seen.append(message.text)
                got.set()

            class Listener(chinwag.ConnectionListener):
                def on_connected(self, change):
                    threads.add(threading.get_ident())

            cb.add_listener("l", Listener())
            await cb.login(b, AUTH_KEY)
            await cb.wait_for_state("connected", TIMEOUT)
            await ca.login(a, AUTH_KEY)
            await ca.send_text(b, "where do you run?")
            await asyncio.wait_for(got.wait(), TIMEOUT)
            assert threads == {loop_thread}
            assert async_seen == ["where do you run?"]
            cb.remove_listener("l")

    run(main())


def test_errors_are_raised_by_await(server, uid):
    a = uid("alice")

    async def main():
        async with AsyncClient(APP_ID, server.url) as c:
            with pytest.raises(chinwag.AuthFailedError) as info:
                await c.login(a, "wrong")
            assert info.value.code == 400
            with pytest.raises(chinwag.InvalidArgumentError):
                await c.login("", AUTH_KEY)  # synchronous failures raise at once too
            await c.login(a, AUTH_KEY)
            with pytest.raises(chinwag.NotFoundError):
                await c.get_user("nobody-here")
            await c.create_group("g-" + a, "G")
            with pytest.raises(chinwag.ForbiddenError):
                await c.leave_group("g-" + a)  # the owner cannot leave

    run(main())


def test_close_cancels_pending_operations_and_ends_streams():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)

    async def main():
        c = AsyncClient(APP_ID, f"http://127.0.0.1:{silent.getsockname()[1]}")
        stream = c.events()
        login = asyncio.ensure_future(c.login("alice", AUTH_KEY))
        await asyncio.sleep(0)  # the login is under way
        c.close()
        with pytest.raises(chinwag.OperationCancelledError):
            await asyncio.wait_for(login, TIMEOUT)
        assert [e async for e in stream] == []  # ended
        with pytest.raises(chinwag.ClientFreedError):
            await c.login("alice", AUTH_KEY)
        c.close()

    try:
        run(main())
    finally:
        silent.close()


def test_cancelled_await_drops_the_late_result(server, uid, caplog):
    a = uid("alice")

    async def main():
        async with AsyncClient(APP_ID, server.url) as c:
            await c.login(a, AUTH_KEY)
            task = asyncio.ensure_future(c.get_user(a))
            await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert (await c.get_user(a)).uid == a  # the late result of the first went nowhere

    with caplog.at_level(logging.ERROR):
        run(main())
    assert "InvalidStateError" not in caplog.text


def test_restored_session_is_heard_from_the_first_event(server, uid, tmp_path):
    a = uid("alice")

    async def main():
        async with AsyncClient(APP_ID, server.url, data_dir=tmp_path) as c:
            await c.login(a, AUTH_KEY)
            await c.wait_for_state("connected", TIMEOUT)
        async with AsyncClient(APP_ID, server.url, data_dir=tmp_path) as c:
            # in app mode nothing runs before the loop dispatches: a stream made now hears all
            stream = c.events("state_changed")
            assert c.logged_in_user().uid == a
            first = await stream.get(TIMEOUT)
            second = await stream.get(TIMEOUT)
            assert (first.data.current, second.data.current) == (
                chinwag.ConnectionState.CONNECTING,
                chinwag.ConnectionState.CONNECTED,
            )

    run(main())


def test_flood_with_small_dispatch_batches(server, uid):
    a, b = uid("alice"), uid("bob")
    n = 300

    async def main():
        async with AsyncClient(APP_ID, server.url) as ca, AsyncClient(APP_ID, server.url, dispatch_batch=3) as cb:
            await cb.login(b, AUTH_KEY)
            await cb.wait_for_state("connected", TIMEOUT)
            await ca.login(a, AUTH_KEY)
            async with cb.events("text_message_received") as stream:
                sends = [ca.send_text(b, f"n{i}") for i in range(n)]
                ticks = 0

                async def ticker():
                    nonlocal ticks
                    while True:
                        ticks += 1
                        await asyncio.sleep(0)

                t = asyncio.ensure_future(ticker())
                sent = await asyncio.gather(*sends)
                got = [(await stream.get(TIMEOUT)).data for _ in range(n)]
                t.cancel()
                assert [m.text for m in got] == [f"n{i}" for i in range(n)]
                assert [m.id for m in got] == [m.id for m in sent]
                assert ticks > 10  # the loop kept running other tasks meanwhile

    run(main())


def test_asyncclient_needs_a_running_loop():
    with pytest.raises(RuntimeError):
        AsyncClient(APP_ID, "http://127.0.0.1:1")
