"""The SDK's log records: the settings' log callback (to `logging` by default), log listeners
and ``@client.on("log")``."""

from __future__ import annotations

import logging
import queue
import socket
import threading

import chinwag

from conftest import APP_ID, TIMEOUT, login_connected


def dead_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: connection refused
    return f"http://127.0.0.1:{port}"


def test_log_records_reach_callbacks_listeners_and_handlers(server, uid, make_client, recorder):
    a = uid("alice")
    store = chinwag.MemorySessionStore()
    rec = recorder()
    c = make_client(server, session_store=store, listeners={"rec": rec})
    login_connected(c, rec, a)
    c.close()

    from_settings: "queue.Queue[chinwag.LogRecord]" = queue.Queue()
    from_listener: "queue.Queue[chinwag.LogRecord]" = queue.Queue()
    from_handler: "queue.Queue[chinwag.LogRecord]" = queue.Queue()

    class Logs(chinwag.LogListener):
        def on_log(self, record):
            from_listener.put(record)

    # a restored session against a server that is gone: attempts fail and are logged
    c2 = chinwag.Client(APP_ID, dead_url(), session_store=store, log=from_settings.put,
                        first_retry_max_ms=50, backoff_base_ms=50, backoff_cap_ms=100)
    try:
        c2.add_log_listener("logs", Logs())
        c2.on("log", from_handler.put)
        for q in (from_settings, from_listener, from_handler):
            record = q.get(timeout=TIMEOUT)
            assert isinstance(record, chinwag.LogRecord)
            assert record.level in tuple(chinwag.LogLevel) and record.target and record.message
        c2.remove_log_listener("logs")
    finally:
        c2.close()


def test_corrupt_saved_session_is_logged_to_python_logging(tmp_path, caplog):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    (data_dir / "chinwag-session.json").write_text("{ not json")
    # Records reach Python logging on the client's dispatcher thread, after init returned: wait
    # for the one this test is about before the client closes.
    moved_aside = threading.Event()

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "moved aside" in record.getMessage():
                moved_aside.set()

    watch = Watch()
    logging.getLogger("chinwag.sdk").addHandler(watch)
    try:
        with caplog.at_level(logging.INFO, logger="chinwag.sdk"):
            with chinwag.Client(APP_ID, dead_url(), data_dir=data_dir) as c:
                assert c.logged_in_user() is None  # treated as logged out, never a crash
                assert moved_aside.wait(TIMEOUT), "the corrupt session was not logged"
    finally:
        logging.getLogger("chinwag.sdk").removeHandler(watch)
    records = [r for r in caplog.records if r.name == "chinwag.sdk"]
    assert records, caplog.text
    assert any(r.levelno >= logging.WARNING and "moved aside" in r.getMessage() for r in records), [
        r.getMessage() for r in records
    ]
    assert any("corrupt" in f.name for f in data_dir.iterdir())
