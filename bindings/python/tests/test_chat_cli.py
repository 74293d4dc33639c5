"""``python -m chinwag.chat`` for two (and three) people, driven through pipes against the real
server."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from typing import List, Optional

import pytest

from conftest import AUTH_KEY, TIMEOUT, login_connected


def test_the_conversation_list_with_unread_counts(server, uid, chats, make_client, recorder):
    a, b, c = uid("alice"), uid("bob"), uid("carol")
    rec = recorder()
    alice = make_client(server, listeners={"rec": rec})
    login_connected(alice, rec, a)
    alice.send_text(c, "are you there?")
    alice.send_text(c, "hello?")
    # carol opens a chat with bob: the list at the start shows alice's two unread messages.
    carol = chats(server.url, c, "--to", b)
    carol.expect(r"^\* 1 conversation, 2 unread:$")
    carol.expect(rf"^  {a}: 2 unread, last: \[{a}\] hello\?$")
    carol.expect(rf"^\* chatting with {b}")
    carol.say("hi bob")
    carol.expect(r"^\* sent #\d+$")
    carol.say("/list")
    carol.expect(r"^\* 2 conversations, 2 unread:$")
    carol.expect(rf"^  {b}: 0 unread, last: \[{c}\] hi bob$")
    carol.expect(rf"^  {a}: 2 unread")
    carol.say("/quit")
    assert carol.end() == 0


class Chat:
    """One ``python -m chinwag.chat`` process; ``expect`` waits for an output line."""

    def __init__(self, server_url: str, user: str, *target: str, extra: tuple = ()) -> None:
        self.user = user
        self.lines: "queue.Queue[Optional[str]]" = queue.Queue()
        self.seen: List[str] = []
        env = dict(os.environ)
        env["CHINWAG_AUTH_KEY"] = AUTH_KEY
        env["PYTHONUNBUFFERED"] = "1"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chinwag.chat", "--server", server_url, "--user", user, "--quiet", *target, *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in iter(self.proc.stdout.readline, ""):
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, pattern: str, timeout: float = TIMEOUT) -> re.Match:
        rx = re.compile(pattern)
        for line in self.seen:  # already read
            m = rx.search(line)
            if m:
                self.seen.remove(line)
                return m
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(0.0, remaining))
            except queue.Empty:
                raise AssertionError(f"{self.user}: no line matching {pattern!r}; got {self.seen}") from None
            if line is None:
                raise AssertionError(f"{self.user} exited ({self.proc.poll()}) before {pattern!r}; got {self.seen}")
            m = rx.search(line)
            if m:
                return m
            self.seen.append(line)

    def say(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def end(self) -> int:
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        return self.proc.wait(timeout=TIMEOUT)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)


@pytest.fixture
def chats():
    started: List[Chat] = []

    def start(*args, **kw) -> Chat:
        c = Chat(*args, **kw)
        started.append(c)
        return c

    yield start
    for c in started:
        c.kill()


def test_two_people_chat_in_two_terminals(server, uid, chats):
    a, b = uid("alice"), uid("bob")
    alice = chats(server.url, a, "--to", b)
    alice.expect(rf"^\* connected as {a}$")
    alice.expect(rf"^\* chatting with {b}")
    bob = chats(server.url, b, "--to", a)
    bob.expect(rf"^\* connected as {b}$")
    alice.expect(rf"^\* {b} is online$")

    alice.say("hello bob")
    bob.expect(rf"^\[{a}\] hello bob$")
    sent = int(alice.expect(r"^\* sent #(\d+)$").group(1))
    alice.expect(rf"^\* {b} read up to #{sent}$")  # bob's chat marks what it shows as read

    bob.say("/typing")
    alice.expect(rf"^\* {b} is typing\.\.\.$")
    bob.say("/stop")
    alice.expect(rf"^\* {b} stopped typing$")
    bob.say("hi alice, nice to see you")
    alice.expect(rf"^\[{b}\] hi alice, nice to see you$")

    bob.say("/history")
    bob.expect(rf"#{sent} \[{a}\] hello bob$")
    bob.expect(rf"\[{b}\] hi alice, nice to see you$")

    assert bob.end() == 0  # end of input: leaves
    alice.expect(rf"^\* {b} is offline$")
    alice.say("/quit")
    assert alice.end() == 0


def test_group_chat_and_restored_session(server, uid, chats, tmp_path):
    c, d = uid("carol"), uid("dave")
    group = f"room-{c}"
    carol = chats(server.url, c, "--group", group, extra=("--data-dir", str(tmp_path / "carol")))
    carol.expect(rf"^\* created group {group}$")
    carol.expect(rf"^\* chatting with {group}")
    dave = chats(server.url, d, "--group", group)
    dave.expect(rf"^\* chatting with {group}")
    carol.expect(rf"^\* {d} joined {group}$")
    dave.say("hello room")
    carol.expect(rf"^\[{group}/{d}\] hello room$")
    assert carol.end() == 0

    # carol again, from her saved session: no login needed
    carol = chats(server.url, c, "--group", group, extra=("--data-dir", str(tmp_path / "carol")))
    carol.expect(rf"^\* restored the session of {c}$")
    carol.expect(rf"^\* connected as {c}$")
    carol.say("back")
    dave.expect(rf"^\[{group}/{c}\] back$")
    assert carol.end() == 0
    assert dave.end() == 0
