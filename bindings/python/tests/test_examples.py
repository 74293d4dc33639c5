"""The examples run against a real server and finish with their "done" line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import AUTH_KEY

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("name", ["quickstart", "manual_connection"])
def test_example(own_server, name):
    for user in ("alice", "bob", "carol", "dave"):
        own_server.create_user(user)
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), own_server.url, AUTH_KEY],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.rstrip().endswith(f"{name}: done"), out.stdout
