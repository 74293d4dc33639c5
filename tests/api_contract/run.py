#!/usr/bin/env python3
"""`make api-contract-test`: schemathesis against a live chinwag-server, once per credential kind.

Starts the server binary (CHINWAG_SERVER_BIN) on a free loopback port with a fresh SQLite file,
creates a few users and a group so that generated requests can reach real rows, then runs
schemathesis on the server's own description (GET /v1/openapi.json) with the app's API key
(admin), with a user's bearer token, and with no credentials. Checks: no 5xx, every status
documented, every body and header as described. Stops the server by its PID whatever happens.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

API_KEY = "contract-api-key"
AUTH_KEY = "contract-auth-key"
CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
])
# Bounded: examples per operation (no time budget: schemathesis would repeat fuzzing until it
# was spent), so that the four runs together take about two minutes.
MAX_EXAMPLES = os.environ.get("API_CONTRACT_EXAMPLES", "25")
SEED = os.environ.get("API_CONTRACT_SEED", "17")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url, method="GET", body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def wait_healthy(base, proc, deadline_s=30):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"api-contract: the server exited with {proc.returncode} before answering")
        try:
            call(f"{base}/v1/health")
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"api-contract: the server did not answer within {deadline_s} s")


def seed_data(base):
    """Users alice, bob and carol, a group of alice's with bob in it, a message: the names the
    runs below pass as path parameters' examples are real."""
    admin = {"x-api-key": API_KEY}
    for uid in ("alice", "bob", "carol"):
        call(f"{base}/v1/users", "POST", {"uid": uid, "name": uid.title()}, admin)
    alice = call(f"{base}/v1/users/alice/tokens", "POST", None, admin)["token"]
    user = {"authorization": f"Bearer {alice}"}
    call(f"{base}/v1/groups", "POST", {"guid": "g1", "name": "G1"}, user)
    call(f"{base}/v1/groups/g1/members", "POST", {"members": [{"uid": "bob"}]}, user)
    call(f"{base}/v1/messages", "POST",
         {"receiver_type": "user", "receiver": "bob", "text": "hi"}, user)
    return alice


def schemathesis(base, name, headers, extra, report_dir):
    exe = shutil.which("schemathesis", path=os.path.dirname(sys.executable))
    if exe is None:
        sys.exit("api-contract: schemathesis is not installed in this venv "
                 "(tests/api_contract/requirements.txt; `make venv` installs it)")
    cmd = [exe, "run", f"{base}/v1/openapi.json",
           "--checks", CHECKS,
           "--max-examples", MAX_EXAMPLES,
           "--seed", SEED,
           "--workers", "2",
           "--phases", "examples,coverage,fuzzing",
           "--request-timeout", "10",
           "--generation-with-security-parameters", "false",
           "--generation-database", "none",
           "--suppress-health-check", "all",
           "--no-color",
           "--report", "junit,har",
           "--report-junit-path", os.path.join(report_dir, f"{name}.xml"),
           "--report-har-path", os.path.join(report_dir, f"{name}.har")]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    cmd += extra
    print(f"== api-contract: {name}", flush=True)
    started = time.monotonic()
    # Run from the report directory: schemathesis keeps a cache in its working directory.
    rc = subprocess.call(cmd, cwd=report_dir)
    print(f"== api-contract: {name}: exit {rc} in {time.monotonic() - started:.0f} s; "
          f"answers by status: {statuses(os.path.join(report_dir, f'{name}.har'))}", flush=True)
    return rc


def statuses(har_path):
    """How many answers had each status (from schemathesis's HAR log): shows how many requests
    got past validation, so that the success bodies were checked too."""
    try:
        with open(har_path) as f:
            entries = json.load(f)["log"]["entries"]
    except (OSError, ValueError, KeyError):
        return "no HAR log"
    counts = {}
    for e in entries:
        status = e.get("response", {}).get("status", 0)
        counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))


def main():
    server_bin = os.environ.get("CHINWAG_SERVER_BIN")
    if not server_bin or not os.path.exists(server_bin):
        sys.exit("api-contract: set CHINWAG_SERVER_BIN to a built chinwag-server")
    report_dir = os.path.abspath(os.environ.get("API_CONTRACT_REPORTS", "target/api-contract"))
    os.makedirs(report_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="chinwag-contract-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    lots = "1000000"
    log = open(os.path.join(report_dir, "server.log"), "w")
    proc = subprocess.Popen(
        [server_bin, "--listen", f"127.0.0.1:{port}", "--db", os.path.join(tmp, "contract.db"),
         "--auth-key", AUTH_KEY, "--api-key", API_KEY, "--durability", "process",
         "--max-connections-per-ip", lots, "--upgrades-per-ip", lots,
         "--auth-failures-per-minute", lots, "--send-limit", lots],
        stdout=log, stderr=subprocess.STDOUT)
    failed = []
    try:
        wait_healthy(base, proc)
        alice = seed_data(base)
        bearer = {"Authorization": f"Bearer {alice}"}
        runs = [
            # Logging out revokes the token the other operations use: it runs alone, after
            # them; the API key's run may then deactivate alice or revoke her tokens.
            ("user-token", bearer, ["--exclude-path", "/v1/logout"]),
            ("user-token-logout", bearer, ["--include-path", "/v1/logout"]),
            ("api-key", {"X-Api-Key": API_KEY}, []),
            ("no-credentials", {}, []),
        ]
        for name, headers, extra in runs:
            if schemathesis(base, name, headers, extra, report_dir) != 0:
                failed.append(name)
            if proc.poll() is not None:
                failed.append(f"server exited with {proc.returncode}")
                break
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if failed:
        print(f"api-contract: FAILED ({', '.join(failed)}); reports in {report_dir}")
        sys.exit(1)
    print("api-contract: every run passed")


if __name__ == "__main__":
    main()
