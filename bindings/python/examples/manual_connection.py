"""Chinwag in manual-connection mode (``auto_connect=False``), in Python.

Nothing connects until the app calls ``connect()``; ``disconnect()`` stops delivery at once, and
the next ``connect()`` resumes: what was sent meanwhile is replayed, nothing is lost.

Run:  python manual_connection.py URL AUTH_KEY   (or set CHINWAG_URL and CHINWAG_AUTH_KEY)
The users "carol" and "dave" must exist on the server (server/examples/serve_for_tests).
"""

from __future__ import annotations

import os
import queue
import sys

import chinwag

TIMEOUT = 10.0


def main() -> int:
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CHINWAG_URL")
    auth_key = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("CHINWAG_AUTH_KEY")
    if not url or not auth_key:
        print("usage: manual_connection.py URL AUTH_KEY (or set CHINWAG_URL and CHINWAG_AUTH_KEY)")
        return 2
    states: "queue.Queue[chinwag.ConnectionState]" = queue.Queue()
    inbox: "queue.Queue[chinwag.Message]" = queue.Queue()

    def wait_for(state: chinwag.ConnectionState) -> None:
        while states.get(timeout=TIMEOUT) != state:
            pass

    with chinwag.Client("chinwag-app", url, auto_connect=False) as carol, chinwag.Client("chinwag-app", url) as dave:

        @carol.on("state_changed")
        def show(change: chinwag.StateChange) -> None:
            print(f"[carol] connection: {change.previous.name} -> {change.current.name} ({change.reason.name})")
            states.put(change.current)

        @carol.on("text_message_received")
        def received(message: chinwag.Message) -> None:
            print(f"[carol] message #{message.id} from {message.sender}: {message.text}")
            inbox.put(message)

        try:
            carol.connect()
        except chinwag.NotLoggedInError as e:
            print(f"[carol] connect() before login: {e.name}: {e.message}")

        carol.login("carol", auth_key)
        print(f"[carol] after login the connection is {carol.status.name}")
        dave.login("dave", auth_key)

        print("[carol] connect()")
        carol.connect()
        wait_for(chinwag.ConnectionState.CONNECTED)
        dave.send_text("carol", "are you there?")
        inbox.get(timeout=TIMEOUT)

        print("[carol] disconnect()")
        carol.disconnect()
        wait_for(chinwag.ConnectionState.DISCONNECTED)
        missed = dave.send_text("carol", "sent while you were away")
        if not inbox.empty():
            print("manual_connection: carol got a message while disconnected")
            return 1
        print("[carol] nothing delivered while disconnected")

        print("[carol] connect()")
        carol.connect()
        wait_for(chinwag.ConnectionState.CONNECTED)
        replayed = inbox.get(timeout=TIMEOUT)
        assert replayed.id == missed.id, (replayed, missed)
        print(f"[carol] got #{replayed.id} on reconnect: nothing lost")
    print("manual_connection: done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
