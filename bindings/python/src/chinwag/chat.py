"""A terminal chat on the asyncio client: ``python -m chinwag.chat``.

::

    python -m chinwag.chat --server http://127.0.0.1:8080 --user alice --auth-key KEY --to bob
    python -m chinwag.chat --server http://127.0.0.1:8080 --user bob --auth-key KEY --to alice
    python -m chinwag.chat --server URL --user carol --auth-key KEY --group team
    python -m chinwag.chat --server URL --user dave --auth-key KEY --to alice --create

Type a line and press Enter to send it. Incoming messages, typing indicators, read receipts,
presence and connection changes are printed as they happen. Commands: ``/typing`` (tell the
other side you are typing), ``/stop`` (stopped typing), ``/history`` (the last 10 messages),
``/list`` (the conversations, newest first, with their unread counts; also shown at the start),
``/who`` (the current status), ``/quit`` (or end of input, Ctrl-D).

Standard input is read with ``loop.add_reader`` next to the SDK's own descriptor: one thread,
no polling. The auth key may also come from ``$CHINWAG_AUTH_KEY``; ``--token`` logs in with a
token minted by the app's backend instead. With ``--data-dir`` the session is saved and the next
start reconnects without logging in again. ``--create`` creates the user first if it does not
exist yet (with the auth key: development servers). When the login fails, the chat says why and
what to do, and exits with status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
from typing import Any, Callable, List, Optional

from . import aio
from .errors import (
    AuthFailedError,
    ChinwagError,
    NetworkError,
    NotFoundError,
    SessionExpiredError,
    UserDeactivatedError,
    UserExistsError,
)
from .types import Message, ReceiverType

__all__ = ["main", "run"]

#: Exit status when the login fails (1: any other SDK error).
LOGIN_FAILED = 2


class LoginFailed(Exception):
    """The login failed; ``str()`` says why and what to do."""


def _login_advice(e: ChinwagError, args: argparse.Namespace) -> str:
    who = f"user {args.user!r}"
    if isinstance(e, NotFoundError):
        return (
            f"{who} does not exist on {args.server}. Start again with --create to create it "
            "with the auth key (development servers), or create it with the server's REST API "
            "(POST /v1/users)."
        )
    if isinstance(e, AuthFailedError):
        return (
            f"the server refused the auth key for {who}. Pass the server's development auth "
            "key with --auth-key or $CHINWAG_AUTH_KEY (chinwag-server --dev prints it)."
        )
    if isinstance(e, SessionExpiredError):
        return "the server rejected the token: mint a new one with the API key, or use --auth-key."
    if isinstance(e, UserDeactivatedError):
        return f"{who} is deactivated; an admin can activate it again."
    if isinstance(e, NetworkError):
        return f"cannot reach {args.server}: is chinwag-server running there?"
    return "see the message above."


def _say(text: str) -> None:
    print(text, flush=True)


def _describe(m: Message) -> str:
    if m.is_deleted:
        return "(deleted)"
    if m.is_custom:
        return f"<{m.type}: {m.data!r}>"
    if m.is_media:
        urls = " ".join(a.url for a in m.attachments)
        return f"<{m.type} {urls}>" + (f" {m.text}" if m.text else "")
    return m.text or ""


class Chat:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.me: str = args.user
        if args.group:
            self.receiver, self.receiver_type = args.group, ReceiverType.GROUP
        else:
            self.receiver, self.receiver_type = args.to, ReceiverType.USER
        self.done = asyncio.Event()
        self.client: Optional[aio.AsyncClient] = None
        self.buffer = b""

    # -- what comes in ----------------------------------------------------------------------

    def ours(self, m: Message) -> bool:
        if self.receiver_type == ReceiverType.GROUP:
            return m.receiver_type == ReceiverType.GROUP and m.receiver == self.receiver
        return m.receiver_type == ReceiverType.USER and self.receiver in (m.sender, m.receiver)

    def prefix(self, sender: str, receiver_type: ReceiverType, receiver: str) -> str:
        if receiver_type == ReceiverType.GROUP:
            return f"[{receiver}/{sender}]"
        return f"[{sender}]"

    def show(self, name: str, data: Any) -> None:
        assert self.client is not None
        if name in ("text_message_received", "media_message_received", "custom_message_received"):
            m: Message = data
            _say(f"{self.prefix(m.sender, m.receiver_type, m.receiver)} {_describe(m)}")
            if self.ours(m):
                try:
                    self.client.mark_read(m)
                except ChinwagError:
                    pass
        elif name == "message_edited":
            _say(f"* {data.sender} edited #{data.id}: {_describe(data)}")
        elif name == "message_deleted":
            _say(f"* {data.sender} deleted #{data.id}")
        elif name == "typing_started":
            _say(f"* {data.sender} is typing...")
        elif name == "typing_ended":
            _say(f"* {data.sender} stopped typing")
        elif name == "messages_read":
            if data.by != self.me:
                _say(f"* {data.by} read up to #{data.message_id}")
        elif name == "user_online":
            if data.uid != self.me:
                _say(f"* {data.uid} is online")
        elif name == "user_offline":
            if data.uid != self.me:
                _say(f"* {data.uid} is offline")
        elif name == "connected":
            _say(f"* connected as {self.me}")
        elif name == "disconnected":
            retry = f", retrying in {data.retry_in_ms} ms" if data.retry_in_ms is not None else ""
            _say(f"* {data.current.name.lower()} ({data.message}){retry}")
        elif name in ("connection_error", "session_expired"):
            _say(f"! {data.name}: {data.message}")
        elif name in ("member_joined", "member_left", "member_added", "member_kicked", "member_banned"):
            _say(f"* {data.member} {name.split('_', 1)[1]} {data.guid}")
        elif name == "incoming_call_received":
            _say(f"* {data.initiator} is calling ({data.call_type.label}); not answered here")
        elif name == "gap":
            _say("* some events were missed: /history shows the latest messages")

    # -- what goes out ----------------------------------------------------------------------

    def on_stdin(self, chunk: bytes) -> None:
        if not chunk:
            self.done.set()
            return
        self.buffer += chunk
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            self.line(line.decode("utf-8", "replace").rstrip("\r"))

    def line(self, text: str) -> None:
        assert self.client is not None
        client = self.client
        if not text.strip():
            return
        if text.startswith("/"):
            cmd = text.split()[0]
            try:
                if cmd == "/quit":
                    self.done.set()
                elif cmd == "/typing":
                    client.start_typing(self.receiver, receiver_type=self.receiver_type)
                elif cmd == "/stop":
                    client.end_typing(self.receiver, receiver_type=self.receiver_type)
                elif cmd == "/who":
                    _say(f"* {self.me}, {client.status.name.lower()}, chatting with {self.receiver}")
                elif cmd == "/history":
                    asyncio.get_running_loop().create_task(self.history())
                elif cmd == "/list":
                    asyncio.get_running_loop().create_task(self.conversations())
                else:
                    _say("* commands: /typing /stop /history /list /who /quit")
            except ChinwagError as e:
                _say(f"! {e.name}: {e.message}")
            return
        asyncio.get_running_loop().create_task(self.send(text))

    async def send(self, text: str) -> None:
        assert self.client is not None
        try:
            m = await self.client.send_text(self.receiver, text, receiver_type=self.receiver_type)
            _say(f"* sent #{m.id}")
        except ChinwagError as e:
            _say(f"! not sent ({e.name}): {e.message}")

    async def history(self) -> None:
        assert self.client is not None
        request = self.client.messages_request(
            self.receiver, receiver_type=self.receiver_type, limit=10
        )
        try:
            page = await request.fetch_previous()
            for m in page.messages:
                _say(f"  #{m.id} {self.prefix(m.sender, m.receiver_type, m.receiver)} {_describe(m)}")
        except ChinwagError as e:
            _say(f"! {e.name}: {e.message}")
        finally:
            request.close()

    async def conversations(self) -> None:
        """The conversation list, newest first, each with its unread count and last message."""
        assert self.client is not None
        request = self.client.conversations_request(limit=20)
        try:
            page = await request.fetch()
            counts = await self.client.unread_counts()
            plural = "" if len(page) == 1 else "s"
            _say(f"* {len(page)} conversation{plural}, {counts.total} unread:")
            for c in page.conversations:
                last = c.last_message
                shown = f"[{last.sender}] {_describe(last)}" if last is not None else "-"
                _say(f"  {c.with_id}: {c.unread_count} unread, last: {shown}")
        except ChinwagError as e:
            _say(f"! {e.name}: {e.message}")
        finally:
            request.close()

    # -- the session ----------------------------------------------------------------------------

    async def login(self, attempt: Any) -> None:
        try:
            await attempt
        except ChinwagError as e:
            raise LoginFailed(
                f"! cannot log in as {self.me!r} ({e.name}: {e.message})\n"
                f"  {_login_advice(e, self.args)}"
            ) from e

    async def start(self) -> None:
        args = self.args
        client = self.client
        assert client is not None
        saved = client.logged_in_user()
        if saved is not None and saved.uid == self.me:
            _say(f"* restored the session of {self.me}")
        elif args.token:
            await self.login(client.login_with_token(args.token))
        else:
            if not args.auth_key:
                raise SystemExit("chinwag.chat: --auth-key (or $CHINWAG_AUTH_KEY) or --token is needed")
            if args.create:
                try:
                    await client.create_user(self.me, args.auth_key)
                    _say(f"* created user {self.me}")
                except UserExistsError:
                    pass
                except ChinwagError as e:
                    raise LoginFailed(
                        f"! cannot create user {self.me!r} ({e.name}: {e.message})\n"
                        f"  {_login_advice(e, args)}"
                    ) from e
            await self.login(client.login(self.me, args.auth_key))
        if self.receiver_type == ReceiverType.GROUP:
            try:
                group = await client.get_group(self.receiver)
                if group.scope is None:
                    await client.join_group(self.receiver)
            except NotFoundError:
                await client.create_group(self.receiver, self.receiver)
                _say(f"* created group {self.receiver}")
        await self.conversations()
        _say(f"* chatting with {self.receiver} (/quit to leave)")


def _watch_stdin(loop: asyncio.AbstractEventLoop, on_chunk: Callable[[bytes], None]) -> Callable[[], None]:
    """Calls ``on_chunk`` with what stdin gives (``b""`` at its end); returns the undo."""
    fd = sys.stdin.fileno()

    def readable() -> None:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            loop.remove_reader(fd)
        on_chunk(chunk)

    try:
        loop.add_reader(fd, readable)

        def undo() -> None:
            loop.remove_reader(fd)

        return undo
    except (PermissionError, OSError, ValueError, NotImplementedError):
        pass  # a regular file (not pollable), or a loop without add_reader: read in a thread

    def reader() -> None:
        while True:
            chunk = os.read(fd, 65536)
            try:
                loop.call_soon_threadsafe(on_chunk, chunk)
            except RuntimeError:
                return
            if not chunk:
                return

    threading.Thread(target=reader, name="chinwag-chat-stdin", daemon=True).start()
    return lambda: None


async def run(args: argparse.Namespace) -> int:
    chat = Chat(args)
    loop = asyncio.get_running_loop()
    client = aio.AsyncClient(
        args.app_id,
        args.server,
        data_dir=args.data_dir,
        presence="all_users",
        log=not args.quiet,
    )
    chat.client = client
    stream = client.events()
    undo = None
    try:

        async def show_events() -> None:
            async for event in stream:
                chat.show(event.name, event.data)

        printer = loop.create_task(show_events())
        await chat.start()
        undo = _watch_stdin(loop, chat.on_stdin)
        await chat.done.wait()
        printer.cancel()
        return 0
    except LoginFailed as e:
        _say(str(e))
        return LOGIN_FAILED
    except ChinwagError as e:
        _say(f"! {e.name}: {e.message}")
        return 1
    finally:
        if undo is not None:
            undo()
        stream.close()
        client.close()


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m chinwag.chat", description="Chat in a terminal.")
    p.add_argument("--server", required=True, help="the server's URL, e.g. http://127.0.0.1:8080")
    p.add_argument("--user", required=True, help="your uid")
    p.add_argument("--auth-key", default=os.environ.get("CHINWAG_AUTH_KEY"), help="the server's development auth key")
    p.add_argument("--token", help="log in with this token instead of the auth key")
    p.add_argument(
        "--create",
        action="store_true",
        help="create the user first if it does not exist (with the auth key)",
    )
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", help="chat with this user")
    target.add_argument("--group", help="chat in this group (joined, or created, on start)")
    p.add_argument("--app-id", default="chinwag-app")
    p.add_argument("--data-dir", help="keep the session here and restore it next time")
    p.add_argument("--quiet", action="store_true", help="do not log the SDK's records to stderr")
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
