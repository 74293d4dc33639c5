"""Chinwag quickstart in Python (auto-connect mode).

Two users chat: each app creates a client with a data directory, adds a listener, logs in
(which saves the session and connects by itself), and they exchange messages. Then Alice's app
"restarts": a new client on the same data directory restores her session without a network
call and reconnects by itself.

Run:  python quickstart.py URL AUTH_KEY      (or set CHINWAG_URL and CHINWAG_AUTH_KEY)
The users "alice" and "bob" must exist on the server (server/examples/serve_for_tests creates
them; so does `make demo`).
"""

from __future__ import annotations

import os
import queue
import sys
import tempfile

import chinwag

TIMEOUT = 10.0


class App(chinwag.ConnectionListener, chinwag.MessageListener):
    """What one app shows. Callbacks run on the client's dispatcher thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.states: "queue.Queue[chinwag.ConnectionState]" = queue.Queue()
        self.inbox: "queue.Queue[chinwag.Message]" = queue.Queue()

    def on_state_changed(self, change: chinwag.StateChange) -> None:
        print(f"[{self.name}] connection: {change.previous.name} -> {change.current.name} ({change.message})")
        self.states.put(change.current)

    def on_text_message_received(self, message: chinwag.Message) -> None:
        print(f"[{self.name}] message #{message.id} from {message.sender}: {message.text}")
        self.inbox.put(message)

    def on_custom_message_received(self, message: chinwag.Message) -> None:
        print(f"[{self.name}] custom {message.type!r} from {message.sender}: {message.data}")
        self.inbox.put(message)

    def wait_connected(self) -> None:
        while self.states.get(timeout=TIMEOUT) != chinwag.ConnectionState.CONNECTED:
            pass


def main() -> int:
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CHINWAG_URL")
    auth_key = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("CHINWAG_AUTH_KEY")
    if not url or not auth_key:
        print("usage: quickstart.py URL AUTH_KEY (or set CHINWAG_URL and CHINWAG_AUTH_KEY)")
        return 2
    print(f"chinwag {chinwag.version()}; server {url}")
    with tempfile.TemporaryDirectory(prefix="chinwag-quickstart-") as home:
        return run(url, auth_key, home)


def run(url: str, auth_key: str, home: str) -> int:
    alice_dir = os.path.join(home, "alice")

    alice, bob = App("alice"), App("bob")
    # Listeners passed at creation hear everything from the first event on.
    with chinwag.Client("chinwag-app", url, data_dir=alice_dir, listeners={"ui": alice}) as a, \
         chinwag.Client("chinwag-app", url, data_dir=os.path.join(home, "bob"), listeners={"ui": bob}) as b:
        user = a.login("alice", auth_key)          # blocking form: returns the user or raises
        print(f"[alice] logged in as {user.uid} ({user.name})")
        b.login("bob", auth_key)
        alice.wait_connected()
        bob.wait_connected()

        sent = a.send_text("bob", "Hi Bob!")       # returns the stored message
        print(f"[alice] sent message #{sent.id}")
        bob.inbox.get(timeout=TIMEOUT)

        # The callback form returns at once (here: the muid); the callback runs later.
        done: "queue.Queue[object]" = queue.Queue()
        b.send_custom("alice", "location", {"lat": 52.52, "lon": 13.40}, callback=lambda err, m: done.put(err or m))
        print(f"[bob] custom message sent: {done.get(timeout=TIMEOUT)}")
        alice.inbox.get(timeout=TIMEOUT)

    # Alice's app restarts: the saved session is restored without a network call.
    again = App("alice, restarted")
    with chinwag.Client("chinwag-app", url, data_dir=alice_dir, listeners={"ui": again}) as a:
        print(f"[alice, restarted] logged in as {a.logged_in_user().uid} without logging in")
        again.wait_connected()
        a.logout()
        print("[alice, restarted] logged out")
    print("quickstart: done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
