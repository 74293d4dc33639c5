"""Protocol interop test: the real `chinwag-server` binary driven by a client this project did not
write (the `websockets` package for the WebSocket, `urllib.request` for REST).

The wire format checked here is the one defined by the Rust crate `protocol/src` (frames.rs,
rest.rs, model.rs): JSON text frames tagged by `type`, durable events with a per-user `seq`.

Run:
    make venv
    CHINWAG_SERVER_BIN=$PWD/target/debug/chinwag-server target/venv/bin/python -m pytest -q tests/interop

Every wait is bounded (asyncio.wait_for / queue and process timeouts); nothing sleeps to
synchronise.
"""

import asyncio
import inspect
import json
import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

try:  # websockets >= 13: the asyncio implementation, headers via `additional_headers`.
    from websockets.asyncio.client import connect as _ws_connect

    _HEADERS_KW = "additional_headers"
except ImportError:  # websockets 12: the legacy implementation, headers via `extra_headers`.
    from websockets.client import connect as _ws_connect

    _HEADERS_KW = "extra_headers"

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SERVER_BIN = REPO_ROOT / "target" / "debug" / "chinwag-server"

AUTH_KEY = "interop-auth-key"
API_KEY = "interop-api-key"
PROTOCOL_VERSION = 1
# close::TOKEN_INVALID in protocol/src/close.rs
CLOSE_TOKEN_INVALID = 4401

STARTUP_TIMEOUT = 30.0  # seconds to wait for the "listening on" line
SHUTDOWN_TIMEOUT = 15.0  # seconds to wait for exit after SIGTERM
TIMEOUT = 10.0  # seconds for any single network wait

LISTENING_RE = re.compile(r"^chinwag-server (\S+) listening on (http://\S+?)/?$")


# --------------------------------------------------------------------------------------------
# Server process fixture (one fresh server per test)
# --------------------------------------------------------------------------------------------


class Server:
    def __init__(self, proc, version, url, stderr_path):
        self.proc = proc
        self.version = version
        self.url = url  # e.g. http://127.0.0.1:PORT
        self.stderr_path = stderr_path

    @property
    def ws_url(self):
        return "ws" + self.url[len("http") :] + "/v1/ws"

    def stderr_tail(self, limit=4000):
        try:
            return Path(self.stderr_path).read_text(errors="replace")[-limit:]
        except OSError:
            return "<no stderr>"


def _server_bin():
    path = Path(os.environ.get("CHINWAG_SERVER_BIN") or DEFAULT_SERVER_BIN)
    if not path.is_file():
        pytest.fail(
            f"server binary {path} not found: run `cargo build -p chinwag-server` "
            "or set CHINWAG_SERVER_BIN"
        )
    return path


def _drain(stream, lines):
    """Reads the server's stdout to the end (so it never blocks on a full pipe)."""
    for line in iter(stream.readline, ""):
        lines.put(line)
    lines.put(None)
    stream.close()


@pytest.fixture
def server():
    """A fresh server (empty in-memory database) per test; stopped with SIGTERM afterwards."""
    binary = _server_bin()
    stderr_file = tempfile.NamedTemporaryFile(
        prefix="chinwag-server-", suffix=".stderr", delete=False
    )
    proc = subprocess.Popen(
        [
            str(binary),
            "--listen",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--auth-key",
            AUTH_KEY,
            "--api-key",
            API_KEY,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr_file,
        text=True,
    )
    stderr_file.close()
    lines = queue.Queue()
    threading.Thread(target=_drain, args=(proc.stdout, lines), daemon=True).start()

    srv = None
    try:
        try:
            first = lines.get(timeout=STARTUP_TIMEOUT)
        except queue.Empty:
            first = None
        match = LISTENING_RE.match(first.strip()) if first else None
        if match is None:
            srv = Server(proc, None, None, stderr_file.name)
            pytest.fail(
                f"server did not announce its URL within {STARTUP_TIMEOUT}s; "
                f"first stdout line: {first!r}; exit code: {proc.poll()}; "
                f"stderr:\n{srv.stderr_tail()}"
            )
        srv = Server(proc, match.group(1), match.group(2), stderr_file.name)
        yield srv
    finally:
        _stop(proc, srv, stderr_file.name)


def _stop(proc, srv, stderr_path):
    try:
        if proc.poll() is not None:
            code, hung = proc.returncode, False
        else:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                code, hung = proc.wait(timeout=SHUTDOWN_TIMEOUT), False
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=SHUTDOWN_TIMEOUT)
                code, hung = None, True
        tail = srv.stderr_tail() if srv else Path(stderr_path).read_text(errors="replace")[-4000:]
        assert not hung, (
            f"server did not exit within {SHUTDOWN_TIMEOUT}s of SIGTERM (killed); "
            f"stderr:\n{tail}"
        )
        assert code == 0, f"server exited with {code} (expected 0 after SIGTERM); stderr:\n{tail}"
    finally:
        try:
            os.unlink(stderr_path)
        except OSError:
            pass


# --------------------------------------------------------------------------------------------
# REST helpers (urllib, no proxies)
# --------------------------------------------------------------------------------------------

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_json(method, url, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with _opener.open(req, timeout=TIMEOUT) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    return status, (json.loads(raw) if raw else None)


def create_user(server, uid, name):
    status, body = http_json(
        "POST", server.url + "/v1/users", {"uid": uid, "name": name}, {"x-auth-key": AUTH_KEY}
    )
    assert status == 201, f"POST /v1/users {uid}: {status} {body}"
    assert body["uid"] == uid and body["name"] == name, body
    return body


def login(server, uid):
    status, body = http_json(
        "POST", server.url + "/v1/login", {"uid": uid, "auth_key": AUTH_KEY}
    )
    assert status == 200, f"POST /v1/login {uid}: {status} {body}"
    assert isinstance(body.get("token"), str) and body["token"], body
    assert isinstance(body.get("app_id"), str) and body["app_id"], body
    assert body["user"]["uid"] == uid, body
    return body


# --------------------------------------------------------------------------------------------
# WebSocket helpers (websockets package)
# --------------------------------------------------------------------------------------------


def _connect_kwargs(headers):
    kwargs = {"open_timeout": TIMEOUT, "close_timeout": TIMEOUT}
    if headers:
        kwargs[_HEADERS_KW] = headers
    try:
        params = inspect.signature(_ws_connect).parameters
    except (TypeError, ValueError):
        params = {}
    if "proxy" in params:  # websockets >= 15 honours proxy env vars by default
        kwargs["proxy"] = None
    return kwargs


async def ws_open(server, token=None, via="header", **query):
    """Opens a socket to /v1/ws. `via`: "header" (Authorization: Bearer), "query" (?token=)."""
    headers = {}
    if token is not None and via == "header":
        headers["Authorization"] = f"Bearer {token}"
    elif token is not None and via == "query":
        query["token"] = token
    url = server.ws_url
    if query:
        url += "?" + urllib.parse.urlencode(query)
    return await asyncio.wait_for(_ws_connect(url, **_connect_kwargs(headers)), TIMEOUT)


async def recv(ws, what="a frame"):
    try:
        raw = await asyncio.wait_for(ws.recv(), TIMEOUT)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out after {TIMEOUT}s waiting for {what}") from None
    assert isinstance(raw, str), f"expected a JSON text frame, got {type(raw).__name__}: {raw!r}"
    frame = json.loads(raw)
    assert isinstance(frame, dict) and "type" in frame, frame
    return frame


async def recv_type(ws, frame_type, what=None):
    frame = await recv(ws, what or f"a {frame_type!r} frame")
    assert frame["type"] == frame_type, f"expected a {frame_type!r} frame, got {frame}"
    return frame


async def ws_close(ws):
    await asyncio.wait_for(ws.close(), TIMEOUT)


async def open_session(server, uid, token, via="header", last_seq=None):
    """Connects and reads accept, the replayed events and replay_done.

    Returns (ws, accept, replayed_events, replay_done)."""
    query = {} if last_seq is None else {"last_seq": str(last_seq)}
    ws = await ws_open(server, token, via=via, **query)
    accept = await recv_type(ws, "accept", f"accept for {uid}")
    assert accept["user"]["uid"] == uid, accept
    assert accept["user"]["status"] == "online", accept
    assert accept["protocol"] == PROTOCOL_VERSION, accept
    assert isinstance(accept["session_id"], str) and accept["session_id"], accept
    assert isinstance(accept["ping_interval_ms"], int) and accept["ping_interval_ms"] > 0, accept
    assert isinstance(accept["server_time"], int), accept
    resume = accept["resume"]
    assert resume["status"] in ("fresh", "complete", "gap"), resume
    replayed = []
    while True:
        frame = await recv(ws, f"replay frames / replay_done for {uid}")
        if frame["type"] == "replay_done":
            done = frame
            break
        assert frame["type"] == "event", f"expected event or replay_done during replay, got {frame}"
        replayed.append(frame)
    assert len(replayed) == resume["replay_count"], (resume, replayed)
    assert done["last_seq"] == resume["last_seq"], (done, resume)
    return ws, accept, replayed, done


def send_frame(req, receiver, text):
    return json.dumps(
        {
            "type": "send",
            "req": req,
            "message": {"receiver_type": "user", "receiver": receiver, "text": text},
        }
    )


async def send_text(ws, req, sender, receiver, text):
    """Sends a text message and returns the ack's result (the sender's copy of the event)."""
    await asyncio.wait_for(ws.send(send_frame(req, receiver, text)), TIMEOUT)
    ack = await recv(ws, f"ack {req}")
    assert ack["type"] == "ack", f"expected ack for {req}, got {ack}"
    assert ack["req"] == req, ack
    result = ack["result"]
    assert result["event"] == "message", ack
    assert isinstance(result["seq"], int) and result["seq"] > 0, ack
    msg = result["data"]
    assert isinstance(msg["id"], int), msg
    assert msg["sender"] == sender, msg
    assert msg["receiver_type"] == "user", msg
    assert msg["receiver"] == receiver, msg
    assert msg["text"] == text, msg
    assert msg["type"] == "text" and msg["category"] == "message", msg
    lo, hi = sorted([sender, receiver])
    assert msg["conversation_id"] == f"user:{lo}:{hi}", msg
    assert isinstance(msg["muid"], str) and msg["muid"], msg
    assert isinstance(msg["sent_at"], int), msg
    return result


def assert_same_message(event, sent):
    """`event`: a received event frame; `sent`: the sender's ack result."""
    assert event["type"] == "event", event
    assert event["event"] == "message", event
    assert isinstance(event["seq"], int) and event["seq"] > 0, event
    got, want = event["data"], sent["data"]
    for key in ("id", "muid", "sender", "receiver_type", "receiver", "conversation_id", "text",
                "type", "category", "sent_at"):
        assert got[key] == want[key], f"{key}: receiver saw {got[key]!r}, sender {want[key]!r}"


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def test_two_users_exchange_messages(server):
    create_user(server, "alice", "Alice")
    create_user(server, "bob", "Bob")
    alice_login = login(server, "alice")
    bob_login = login(server, "bob")

    async def scenario():
        a_ws, a_accept, a_replay, a_done = await open_session(server, "alice", alice_login["token"])
        b_ws, b_accept, b_replay, b_done = await open_session(server, "bob", bob_login["token"])
        try:
            for accept, replay, lg in ((a_accept, a_replay, alice_login),
                                       (b_accept, b_replay, bob_login)):
                assert accept["resume"]["status"] == "fresh", accept
                assert accept["resume"]["replay_count"] == 0, accept
                assert replay == []
                assert accept["app_id"] == lg["app_id"], (accept, lg)

            # alice -> bob
            sent = await send_text(a_ws, "r1", "alice", "bob", "hi bob")
            assert sent["seq"] > a_done["last_seq"], (sent, a_done)
            got = await recv(b_ws, "bob's message event")
            assert_same_message(got, sent)
            assert got["data"]["sender"] == "alice"
            assert got["data"]["text"] == "hi bob"
            assert got["seq"] > b_done["last_seq"], (got, b_done)

            # bob -> alice
            reply = await send_text(b_ws, "r2", "bob", "alice", "hi alice")
            assert reply["seq"] > got["seq"], (reply, got)  # bob's own sequence keeps growing
            assert reply["data"]["id"] > sent["data"]["id"], (reply, sent)  # store order
            # The sending socket got the ack instead of an event frame for its own message, so
            # alice's next frame is bob's reply.
            got2 = await recv(a_ws, "alice's message event")
            assert_same_message(got2, reply)
            assert got2["data"]["sender"] == "bob"
            assert got2["data"]["text"] == "hi alice"
            assert got2["seq"] > sent["seq"], (got2, sent)
        finally:
            await ws_close(a_ws)
            await ws_close(b_ws)

    asyncio.run(scenario())


def test_query_token_and_bad_token(server):
    create_user(server, "carol", "Carol")
    carol = login(server, "carol")

    async def scenario():
        # ?token= instead of the Authorization header
        ws, accept, replay, done = await open_session(server, "carol", carol["token"], via="query")
        try:
            assert accept["resume"]["status"] == "fresh", accept
            assert replay == []
            await asyncio.wait_for(ws.send(json.dumps({"type": "ping", "req": "p1"})), TIMEOUT)
            pong = await recv_type(ws, "ack", "ack of ping")
            assert pong["req"] == "p1" and "result" not in pong, pong
        finally:
            await ws_close(ws)

        # A bad or missing token: the upgrade succeeds, then the server closes with 4401.
        for label, token, via in (
            ("bad token in header", "not-a-real-token", "header"),
            ("bad token in query", "not-a-real-token", "query"),
            ("no token", None, "header"),
        ):
            ws = await ws_open(server, token, via=via)
            try:
                with pytest.raises(ConnectionClosed) as info:
                    frame = await asyncio.wait_for(ws.recv(), TIMEOUT)
                    pytest.fail(f"{label}: expected a close, got frame {frame!r}")
                rcvd = info.value.rcvd
                assert rcvd is not None, f"{label}: no close frame received: {info.value}"
                assert rcvd.code == CLOSE_TOKEN_INVALID, f"{label}: close {rcvd.code} {rcvd.reason!r}"
            finally:
                await ws_close(ws)

    asyncio.run(scenario())


def test_resume_replays_missed_messages(server):
    create_user(server, "alice", "Alice")
    create_user(server, "bob", "Bob")
    alice = login(server, "alice")  # goes offline and resumes
    bob = login(server, "bob")  # keeps sending

    async def scenario():
        b_ws, _, _, _ = await open_session(server, "bob", bob["token"])
        try:
            a_ws, _, _, a_done = await open_session(server, "alice", alice["token"])
            try:
                sent = await send_text(a_ws, "a1", "alice", "bob", "before")
                assert_same_message(await recv(b_ws, "bob's event"), sent)
                reply = await send_text(b_ws, "b1", "bob", "alice", "reply")
                got = await recv(a_ws, "alice's event")
                assert_same_message(got, reply)
                # The last seq alice saw: her ack for "before", then bob's "reply".
                last_seen = got["seq"]
                assert a_done["last_seq"] < sent["seq"] < last_seen, (a_done, sent, got)
            finally:
                await ws_close(a_ws)

            # alice is offline: bob sends three messages, each acked (stored) before the next.
            missed = []
            for i in range(3):
                missed.append(await send_text(b_ws, f"m{i}", "bob", "alice", f"missed {i}"))

            a_ws, accept, replay, done = await open_session(
                server, "alice", alice["token"], last_seq=last_seen
            )
            try:
                resume = accept["resume"]
                assert resume["status"] == "complete", resume
                assert resume["after_seq"] == last_seen, resume
                assert resume["replay_count"] == 3, resume
                assert "gap" not in resume, resume
                assert resume["last_seq"] == last_seen + 3, resume
                assert [e["seq"] for e in replay] == [last_seen + 1, last_seen + 2, last_seen + 3]
                for event, sent_msg in zip(replay, missed):
                    assert_same_message(event, sent_msg)
                assert [e["data"]["text"] for e in replay] == ["missed 0", "missed 1", "missed 2"]
                assert done["last_seq"] == last_seen + 3, done

                # Live delivery continues after the replay, with the next sequence number.
                live = await send_text(b_ws, "m3", "bob", "alice", "live again")
                got = await recv(a_ws, "alice's live event after resume")
                assert_same_message(got, live)
                assert got["seq"] == last_seen + 4, got
            finally:
                await ws_close(a_ws)
        finally:
            await ws_close(b_ws)

    asyncio.run(scenario())
