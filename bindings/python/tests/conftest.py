"""Fixtures: a real ``chinwag-server`` process (temp SQLite file, loopback port 0), users made
with its REST API, clients closed at the end of each test, and a listener that records events.

Environment: ``CHINWAG_LIBRARY`` (the library under test; the package finds it),
``CHINWAG_SERVER_BIN`` (default: ``target/debug/chinwag-server`` of this repository).
Every wait is bounded; nothing sleeps to synchronise.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import re
import signal
import subprocess
import threading
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

import chinwag
from chinwag.listeners import FAMILY_METHODS

REPO = Path(__file__).resolve().parents[3]
AUTH_KEY = "py-tests-auth-key"
API_KEY = "py-tests-api-key"
APP_ID = "chinwag-app"
TIMEOUT = 15.0  # seconds, for any single wait
LISTENING = re.compile(r"^chinwag-server (\S+) listening on (http://\S+?)/?$")

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def server_binary() -> Path:
    path = Path(os.environ.get("CHINWAG_SERVER_BIN") or REPO / "target/debug/chinwag-server")
    if not path.is_file():
        pytest.fail(f"{path} not found: `cargo build -p chinwag-server` or set CHINWAG_SERVER_BIN")
    return path


class Server:
    """A chinwag-server process on a SQLite file; ``restart()`` keeps the port and the file."""

    def __init__(self, db: Path, extra_args: Tuple[str, ...] = ()) -> None:
        self.db = db
        self.extra_args = extra_args
        self.url = ""
        self.port = 0
        self.proc: Optional[subprocess.Popen] = None
        self.stderr_path = db.with_suffix(".stderr")

    def start(self) -> "Server":
        listen = f"127.0.0.1:{self.port}"
        stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(
            [
                str(server_binary()),
                "--listen", listen,
                "--db", str(self.db),
                "--auth-key", AUTH_KEY,
                "--api-key", API_KEY,
                "--app-id", APP_ID,
                "--login-per-minute", "1000000",
                # Every test connects from 127.0.0.1: lift the per-address caps.
                "--upgrades-per-ip", "1000000",
                "--max-connections-per-ip", "100000",
                "--max-sockets-per-user", "1000",
                # The tests exercise every presence mode (the server's default is friends only).
                "--presence-modes", "friends,roles,all_users",
                "--log", "warn",
                *self.extra_args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        stderr.close()
        lines: "queue.Queue[Optional[str]]" = queue.Queue()

        def drain(stream: Any) -> None:
            for line in iter(stream.readline, ""):
                lines.put(line)
            lines.put(None)

        threading.Thread(target=drain, args=(self.proc.stdout,), daemon=True).start()
        try:
            first = lines.get(timeout=TIMEOUT)
        except queue.Empty:
            first = None
        m = LISTENING.match(first.strip()) if first else None
        if m is None:
            self.stop()
            raise RuntimeError(f"server did not start: {first!r}\n{self.stderr_tail()}")
        self.url = m.group(2)
        self.port = int(self.url.rsplit(":", 1)[1])
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=TIMEOUT)

    def restart(self) -> None:
        self.stop()
        self.start()

    def stderr_tail(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    # REST (docs/protocol.md section 7), with the API key.
    def rest(self, method: str, path: str, body: Any = None, token: Optional[str] = None) -> Tuple[int, Any]:
        """As the backend (API key), or as the user of ``token``."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if token is None:
            req.add_header("x-api-key", API_KEY)
        else:
            req.add_header("authorization", f"Bearer {token}")
        if data is not None:
            req.add_header("content-type", "application/json")
        try:
            with _opener.open(req, timeout=TIMEOUT) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        return status, (json.loads(raw) if raw else None)

    def create_user(self, uid: str, name: Optional[str] = None, role: Optional[str] = None) -> Dict[str, Any]:
        body: Dict[str, Any] = {"uid": uid, "name": name or uid.capitalize()}
        if role:
            body["role"] = role
        status, resp = self.rest("POST", "/v1/users", body)
        assert status == 201, (status, resp)
        return resp

    def mint_token(self, uid: str) -> str:
        status, resp = self.rest("POST", f"/v1/users/{uid}/tokens")
        assert status == 201, (status, resp)
        return resp["token"]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory):
    """One server for the session (tests use unique uids)."""
    srv = Server(tmp_path_factory.mktemp("server") / "chinwag.sqlite3").start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def own_server(tmp_path: Path):
    """A server of this test's own (e.g. to restart it)."""
    srv = Server(tmp_path / "own.sqlite3").start()
    try:
        yield srv
    finally:
        srv.stop()


_serial = itertools.count(1)


@pytest.fixture
def uid(server: Server) -> Callable[..., str]:
    """``uid("alice")`` creates a fresh user on the session server and returns its uid."""

    def make(prefix: str = "user", srv: Optional[Server] = None, **kw: Any) -> str:
        u = f"{prefix}-{next(_serial)}-{uuid.uuid4().hex[:6]}"
        (srv or server).create_user(u, **kw)
        return u

    return make


@pytest.fixture
def make_client():
    """``make_client(server, **settings)``: a Client closed at the end of the test."""
    clients: List[chinwag.Client] = []

    def make(srv: Server, **kw: Any) -> chinwag.Client:
        kw.setdefault("default_timeout", TIMEOUT)
        c = chinwag.Client(APP_ID, srv.url, **kw)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


class Recorder:
    """A listener of every family that records ``(event, payload)`` and lets tests wait."""

    def __init__(self) -> None:
        self.events: List[Tuple[str, Any]] = []
        self.cond = threading.Condition()
        self.threads: set = set()

    def _record(self, event: str, payload: Any) -> None:
        with self.cond:
            self.events.append((event, payload))
            self.threads.add(threading.get_ident())
            self.cond.notify_all()

    def of(self, event: str) -> List[Any]:
        with self.cond:
            return [p for e, p in self.events if e == event]

    def wait_for(self, event: str, pred: Callable[[Any], bool] = lambda p: True, timeout: float = TIMEOUT) -> Any:
        found: List[Any] = []

        def check() -> bool:
            for e, p in self.events:
                if e == event and pred(p):
                    found.append(p)
                    return True
            return False

        with self.cond:
            if not self.cond.wait_for(check, timeout):
                raise AssertionError(
                    f"no {event!r} event matching within {timeout}s; got: "
                    f"{[(e, p) for e, p in self.events][-20:]}"
                )
        return found[0]

    def wait_state(self, state: chinwag.ConnectionState, timeout: float = TIMEOUT, after: int = 0) -> chinwag.StateChange:
        """Waits for a change to ``state`` among the state changes from index ``after`` on."""
        deadline_box: List[chinwag.StateChange] = []

        def check() -> bool:
            changes = [p for e, p in self.events if e == "state_changed"][after:]
            for c in changes:
                if c.current == state:
                    deadline_box.append(c)
                    return True
            return False

        with self.cond:
            if not self.cond.wait_for(check, timeout):
                raise AssertionError(
                    f"no change to {state.name} within {timeout}s; states: "
                    f"{[(c.previous.name, c.current.name, c.reason.name) for c in self.of('state_changed')]}"
                )
        return deadline_box[0]

    def states(self) -> List[chinwag.ConnectionState]:
        return [c.current for c in self.of("state_changed")]


def _recorder_method(event: str) -> Callable[..., None]:
    def method(self: Recorder, payload: Any = None) -> None:
        self._record(event, payload)

    method.__name__ = "on_" + event
    return method


for _methods in FAMILY_METHODS.values():
    for _m in _methods:
        setattr(Recorder, _m, _recorder_method(_m[3:]))


@pytest.fixture
def recorder() -> Callable[[], Recorder]:
    return Recorder


def login_connected(client: chinwag.Client, rec: Recorder, uid: str) -> chinwag.User:
    """Logs in (auto mode) and waits for CONNECTED."""
    user = client.login(uid, AUTH_KEY)
    rec.wait_state(chinwag.ConnectionState.CONNECTED)
    return user
