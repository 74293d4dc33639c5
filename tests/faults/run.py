#!/usr/bin/env python3
"""Fault suite: real network and process faults between real chinwag processes (`make test-faults`).

Each case builds its own pair of network namespaces joined by a veth pair (10.231.0.1/30 for the
server, 10.231.0.2/30 for the clients; the namespaces have no other interface and no route, so no
packet can leave them), starts `chinwag-server` in one and two `fault_client` processes (a
sender and a receiver, examples/fault_client.rs) in the other, streams numbered messages from
the sender to the receiver, and injects one fault mid-stream:

  blackhole       iptables DROP of everything crossing the veth, for a few seconds
  loss-delay      10 % random packet loss (iptables statistic match) on the veth plus 200 ms
                  delay each way (tests/faults/delay_proxy.py; this kernel has no netem)
  link-flap       the clients' veth end set down, then up
  server-kill     chinwag-server killed with SIGKILL while the sender has hundreds of sends in
                  flight on its socket, restarted on the same database and port; once with
                  `--durability power`, once (server-kill-process) with `--durability process`
  busy-sender     no fault at all: an unthrottled sender with its socket full of sends; any
                  reconnect is a failure (a busy sender must not miss its heartbeat)
  freeze-short    the receiver frozen (SIGSTOP) past its heartbeat bound, then SIGCONT
  freeze-long     the same, frozen past the server's heartbeat bound as well
  token-revoked   the receiver's tokens revoked through the REST API while it is connected

and checks "none lost, none duplicated, order kept" on what the receiver got (and on the
server's stored history), plus the timing promises of the docs/behaviour.md (sections 3-5)
that the fault exercises. A client that leaves CONNECTED outside its case's fault window (before
the fault, or again after it came back) fails the case: nothing but the fault may cause a
reconnect. It needs root (namespaces, iptables). Every process it starts is
tracked by PID and stopped, and its namespaces (with their iptables rules) deleted, when a case
ends, whether it passed or not; every wait has a timeout.

  python3 tests/faults/run.py [--bin-dir target/debug] [--only CASE,...] [--count N] [--strict]

A case that cannot run here (no root, no iptables, no statistic match) is reported as SKIP with
the reason; with --strict a skip fails the run. Contract deviations that a case sees outside its
own checks (own messages echoed to the sender after a resume, a woken process staying on its old
socket, a blocked write delaying the heartbeat) are printed as "SDK ISSUE" and listed at the end;
--fail-on-issues turns them into failures. Logs of every case are kept in --logs (JSON lines per
client, server output, summary.json with the figures). The last line is
"faults: N passed, N failed, N skipped".
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

SRV_IP = "10.231.0.1"
CLI_IP = "10.231.0.2"
NET_BITS = 30
PORT = 7000
PROXY_PORT = 7001
SRV_DEV = "cwf-srv"
CLI_DEV = "cwf-cli"
NS_PREFIX = "chinwag-faults-"
AUTH_KEY = "faults-auth-key"
API_KEY = "faults-api-key"
SENDER = "fault-sender"
RECEIVER = "fault-receiver"
PREFIX = "m"

# Timings every case uses unless it says otherwise (shortened so faults show within seconds).
PING_MS = 1000  # server --ping-interval-ms
GRACE_MS = 1000  # client heartbeat_grace
SERVER_GRACE_MS = 10_000  # server-side silence bound beyond the ping (fixed in the server)
CLIENT_TIMINGS = {
    "--heartbeat-grace-ms": GRACE_MS,
    "--first-retry-max-ms": 500,
    "--backoff-base-ms": 200,
    "--backoff-cap-ms": 2000,
    "--connect-timeout-ms": 3000,
}
# Slack on top of a contract bound for the 100 ms timer tick, scheduling and the harness poll.
SLACK_S = 0.6


class Skip(Exception):
    pass


class Fail(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def run(cmd, timeout=20, check=True):
    """Runs a short command; raises Fail with its output if it fails and `check`."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Fail(f"command timed out after {timeout}s: {' '.join(cmd)}")
    if check and p.returncode != 0:
        raise Fail(f"command failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout}{p.stderr}")
    return p


# ----- processes ---------------------------------------------------------------------------


class Proc:
    """A process this harness started, stopped only through its own PID."""

    def __init__(self, name, argv, logdir, stdout_name=None):
        self.name = name
        self.stdout_path = os.path.join(logdir, stdout_name or f"{name}.stdout")
        self.stderr_path = os.path.join(logdir, f"{name}.stderr")
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        # `ip netns exec` execs the command itself, so this PID is the program's own.
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err)
        self.pid = self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def wait(self, timeout):
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace=3.0):
        if self.alive():
            try:
                os.kill(self.pid, signal.SIGCONT)  # a frozen process cannot act on SIGTERM
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            if self.wait(grace) is None:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.wait(5)
        for f in (self._out, self._err):
            try:
                f.close()
            except OSError:
                pass

    def stderr_tail(self, n=15):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


class Lines:
    """The JSON lines a fault_client writes, read incrementally."""

    def __init__(self, path):
        self.path = path
        self.items = []
        self._pos = 0
        self._partial = b""
        self.n_msgs = 0

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self._pos)
                data = f.read()
                self._pos = f.tell()
        except FileNotFoundError:
            return self.items
        data = self._partial + data
        *complete, self._partial = data.split(b"\n")
        for raw in complete:
            if raw.strip():
                try:
                    it = json.loads(raw)
                except ValueError:
                    it = {"ev": "unparsable", "raw": raw.decode(errors="replace"), "t": 0}
                self.items.append(it)
                if is_msg(it):
                    self.n_msgs += 1
        return self.items

    def find(self, pred, start=0):
        self.poll()
        for i in range(start, len(self.items)):
            if pred(self.items[i]):
                return i, self.items[i]
        return None

    def wait(self, pred, timeout, what, start=0, proc=None):
        deadline = time.time() + timeout
        while True:
            hit = self.find(pred, start)
            if hit:
                return hit
            start = max(start, len(self.items))  # scanned: look only at new lines next time
            if proc is not None and not proc.alive():
                hit = self.find(pred, start)
                if hit:
                    return hit
                raise Fail(f"{proc.name} exited ({proc.popen.returncode}) before {what}\n{proc.stderr_tail()}")
            if time.time() >= deadline:
                raise Fail(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(0.05)

    def count(self, pred):
        self.poll()
        return sum(1 for it in self.items if pred(it))

    def states(self, start=0):
        self.poll()
        return [it for it in self.items[start:] if it.get("ev") == "state"]


def is_state(cur, prev=None):
    return lambda it: it.get("ev") == "state" and it.get("cur") == cur and (prev is None or it.get("prev") == prev)


def left_connected(it):
    return it.get("ev") == "state" and it.get("prev") == "CONNECTED"


def is_msg(it):
    return it.get("ev") == "msg" and it.get("sender") == SENDER


# ----- namespaces --------------------------------------------------------------------------


def netns_list():
    p = run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in p.stdout.splitlines() if line.strip()]


def remove_stale_namespaces():
    """Deletes namespaces left by an earlier run of this harness whose process is gone."""
    for ns in netns_list():
        m = re.match(re.escape(NS_PREFIX) + r"(\d+)-", ns)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            run(["ip", "netns", "del", ns], check=False)


class Case:
    """One case's world: two namespaces, a log folder, and the processes started in them."""

    def __init__(self, name, n, args):
        self.name = name
        self.args = args
        self.ns_srv = f"{NS_PREFIX}{os.getpid()}-{n}s"
        self.ns_cli = f"{NS_PREFIX}{os.getpid()}-{n}c"
        self.logdir = os.path.join(args.logs, name)
        shutil.rmtree(self.logdir, ignore_errors=True)
        os.makedirs(self.logdir)
        self.tmp = tempfile.mkdtemp(prefix="chinwag-faults-")
        self.db = os.path.join(self.tmp, "chinwag.db")
        self.procs = []
        self.server = None
        self.figures = {}
        self.issues = []  # contract deviations seen that are not what this case checks
        # Per client, the (start, end) wall-clock spans (seconds; end None: open) in which the
        # case's fault may make it leave CONNECTED; outside them any reconnect is spurious.
        # None: the fault spans the whole stream (loss-delay), nothing to check.
        self.fault_windows = {"receiver": [], "sender": []}
        self.made_ns = []
        self.t0 = time.time()

    # -- setup and teardown

    def __enter__(self):
        try:
            for ns in (self.ns_srv, self.ns_cli):
                run(["ip", "netns", "add", ns])
                self.made_ns.append(ns)
            # The veth pair is created directly inside the namespaces: it never exists outside.
            run(["ip", "link", "add", SRV_DEV, "netns", self.ns_srv, "type", "veth",
                 "peer", "name", CLI_DEV, "netns", self.ns_cli])
            for ns, dev, ip in ((self.ns_srv, SRV_DEV, SRV_IP), (self.ns_cli, CLI_DEV, CLI_IP)):
                run(["ip", "-n", ns, "addr", "add", f"{ip}/{NET_BITS}", "dev", dev])
                run(["ip", "-n", ns, "link", "set", dev, "up"])
                run(["ip", "-n", ns, "link", "set", "lo", "up"])
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        for p in reversed(self.procs):
            p.stop()
        for ns in self.made_ns:
            # The namespace takes its interfaces and iptables rules with it.
            run(["ip", "netns", "del", ns], check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False

    def in_ns(self, ns, argv):
        return ["ip", "netns", "exec", ns] + [str(a) for a in argv]

    def start(self, name, ns, argv, stdout_name=None):
        p = Proc(name, self.in_ns(ns, argv), self.logdir, stdout_name)
        self.procs.append(p)
        return p

    # -- network faults

    def iptables(self, ns, *rule):
        if not shutil.which("iptables"):
            raise Skip("iptables is not installed (apt-get install iptables)")
        p = run(self.in_ns(ns, ["iptables", "-w", "5"] + list(rule)), check=False)
        if p.returncode != 0:
            raise Skip(f"iptables {' '.join(rule)} failed in a namespace: {p.stderr.strip()}")

    def blackhole(self, on):
        op = "-I" if on else "-D"
        self.iptables(self.ns_srv, op, "INPUT", "-i", SRV_DEV, "-j", "DROP")
        self.iptables(self.ns_cli, op, "INPUT", "-i", CLI_DEV, "-j", "DROP")

    def link(self, up):
        run(["ip", "-n", self.ns_cli, "link", "set", CLI_DEV, "up" if up else "down"])

    # -- server and clients

    def rest(self, *argv, timeout=60):
        p = run(self.in_ns(self.ns_cli, [sys.executable, os.path.join(HERE, "rest.py")] + list(argv)),
                timeout=timeout, check=False)
        if p.returncode != 0:
            raise Fail(f"REST {argv[0]} failed: {p.stderr.strip()}")
        return json.loads(p.stdout)

    def start_server(self, ping_ms=PING_MS, durability="process", count=None):
        n = sum(1 for p in self.procs if p.name.startswith("server"))
        name = "server" if n == 0 else f"server{n + 1}"
        replay = max(100_000, (count or 0) * 2)
        self.server = self.start(name, self.ns_srv, [
            self.args.server_bin, "--listen", f"{SRV_IP}:{PORT}", "--db", self.db,
            "--auth-key", AUTH_KEY, "--api-key", API_KEY, "--ping-interval-ms", ping_ms,
            "--replay-limit", replay, "--durability", durability, "--log", "warn",
            # The cases measure delivery under faults, not the per-user send quota.
            "--send-limit", "1000000000",
        ])
        deadline = time.time() + 20
        while time.time() < deadline:
            with open(self.server.stdout_path, errors="replace") as f:
                if "listening on" in f.read():
                    return self.server
            if not self.server.alive():
                raise Fail(f"chinwag-server exited ({self.server.popen.returncode}):\n{self.server.stderr_tail()}")
            time.sleep(0.05)
        raise Fail("chinwag-server did not report listening within 20s")

    def server_url(self):
        return f"http://{SRV_IP}:{PORT}"

    def start_client(self, role, url, count, extra=None, rate=1000, deadline_s=120):
        uid, peer = (SENDER, RECEIVER) if role == "sender" else (RECEIVER, SENDER)
        out = os.path.join(self.logdir, f"{role}.jsonl")
        timings = dict(CLIENT_TIMINGS)
        timings.update(extra or {})
        argv = [self.args.client_bin, "--role", role, "--server", url, "--uid", uid, "--peer", peer,
                "--auth-key", AUTH_KEY, "--count", count, "--rate", rate, "--window", 1000,
                "--out", out, "--deadline-s", deadline_s, "--linger-ms", 1500, "--prefix", PREFIX]
        for k, v in timings.items():
            argv += [k, v]
        proc = self.start(role, self.ns_cli, argv)
        return proc, Lines(out)

    def start_stream(self, count, url=None, extra=None, rate=1000, deadline_s=120):
        """Users, a CONNECTED receiver, then the sender. Returns (recv proc, lines, send proc, lines)."""
        self.rest("create-user", self.server_url(), AUTH_KEY, SENDER, RECEIVER)
        url = url or self.server_url()
        rp, rl = self.start_client("receiver", url, count, extra, rate, deadline_s)
        rl.wait(is_state("CONNECTED"), 30, "the receiver's first CONNECTED", proc=rp)
        sp, sl = self.start_client("sender", url, count, extra, rate, deadline_s)
        return rp, rl, sp, sl

    def wait_messages(self, lines, n, timeout, proc):
        """Waits until the receiver holds `n` messages (the fault goes in mid-stream)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            lines.poll()
            if lines.n_msgs >= n:
                return
            if not proc.alive():
                raise Fail(f"{proc.name} exited early ({proc.popen.returncode})\n{proc.stderr_tail()}")
            time.sleep(0.05)
        raise Fail(f"the receiver had {lines.count(is_msg)} of the {n} messages expected by now ({timeout}s)")

    def ensure_connected(self, *pairs, timeout=15):
        """Waits until each (proc, lines) client is CONNECTED, so a fault starts from a steady
        state even if a slow moment just made one reconnect."""
        for proc, lines in pairs:
            deadline = time.time() + timeout
            while True:
                states = lines.states()
                if states and states[-1]["cur"] == "CONNECTED":
                    break
                if not proc.alive():
                    raise Fail(f"{proc.name} exited early ({proc.popen.returncode})\n{proc.stderr_tail()}")
                if time.time() >= deadline:
                    raise Fail(f"{proc.name} not CONNECTED before the fault (last state: {states[-1] if states else None})")
                time.sleep(0.05)

    def finish(self, procs, timeout):
        """Waits for the clients to end by themselves."""
        deadline = time.time() + timeout
        for p in procs:
            rc = p.wait(max(0.1, deadline - time.time()))
            if rc is None:
                raise Fail(f"{p.name} still running after {timeout:.0f}s")
            if rc != 0:
                raise Fail(f"{p.name} ended with exit code {rc} (3: its deadline passed)\n{p.stderr_tail()}")


# ----- checks ------------------------------------------------------------------------------


def first(xs, n=5):
    xs = sorted(xs)
    return ", ".join(map(str, xs[:n])) + (" ..." if len(xs) > n else "")


def check_delivery(recv, count, prefix_only=False):
    """None lost, none duplicated, order kept. With `prefix_only`, the receiver may have stopped
    early (token revoked): what it got must be exactly 0..k-1 in order."""
    msgs = [it for it in recv.poll() if is_msg(it)]
    idx = [m.get("i") for m in msgs]
    problems = []
    if None in idx:
        problems.append(f"{idx.count(None)} messages with an unexpected text")
    idx = [i for i in idx if i is not None]
    seen, dupes = set(), set()
    for i in idx:
        if i in seen:
            dupes.add(i)
        seen.add(i)
    expected = set(range(len(seen) if prefix_only else count))
    lost = expected - seen
    extra = seen - set(range(count))
    disorder = [k for k in range(1, len(idx)) if idx[k] <= idx[k - 1]]
    ids = [m.get("id") for m in msgs]
    id_disorder = [k for k in range(1, len(ids)) if ids[k] <= ids[k - 1]]
    gaps = [it for it in recv.items if it.get("ev") == "gap"]
    if lost:
        problems.append(f"{len(lost)} lost (first: {first(lost)})")
    if dupes:
        problems.append(f"{len(dupes)} duplicated (first: {first(dupes)})")
    if extra:
        problems.append(f"{len(extra)} unknown indexes (first: {first(extra)})")
    if disorder:
        k = disorder[0]
        problems.append(f"{len(disorder)} out of order (first: #{idx[k]} after #{idx[k - 1]})")
    elif id_disorder:
        problems.append(f"server ids not increasing at {len(id_disorder)} places")
    if gaps:
        problems.append(f"{len(gaps)} gap notices: {gaps[:3]}")
    if problems:
        raise Fail("receiver: " + "; ".join(problems))
    return len(idx)


def check_sends(send, count):
    """Every send completed exactly once, as sent, with server ids in send order."""
    items = send.poll()
    done = {}
    problems = []
    for it in items:
        if it.get("ev") in ("sent", "send_failed", "send_refused"):
            i = it.get("i")
            if i in done:
                problems.append(f"send #{i} completed twice")
            done[i] = it
    failed = [it for it in done.values() if it["ev"] != "sent"]
    missing = set(range(count)) - set(done)
    if failed:
        problems.append(f"{len(failed)} sends failed (first: {failed[0]})")
    if missing:
        problems.append(f"{len(missing)} sends never completed (first: {first(missing)})")
    ids = [done[i]["id"] for i in range(count) if i in done and done[i]["ev"] == "sent"]
    if any(b <= a for a, b in zip(ids, ids[1:])):
        problems.append("stored ids are not in send order")
    if problems:
        raise Fail("sender: " + "; ".join(problems[:5]))
    return {i: it["id"] for i, it in done.items()}


def check_same_messages(recv, sent_ids):
    for it in recv.items:
        if is_msg(it) and sent_ids.get(it["i"]) != it["id"]:
            raise Fail(f"receiver got #{it['i']} as message {it['id']}, the sender's ack said {sent_ids.get(it['i'])}")


def check_history(case, count):
    """The server stored each message once, in send order. Returns the stored rows."""
    hist = case.rest("history", case.server_url(), API_KEY, RECEIVER, SENDER, timeout=120)
    texts = [h[3] for h in hist if h[2] == SENDER]
    want = [f"{PREFIX}:{i}" for i in range(count)]
    if texts != want:
        have = set(texts)
        lost = [t for t in want if t not in have]
        dup = len(texts) - len(have)
        raise Fail(f"server history: {len(texts)} stored for {count} sent; missing {len(lost)} "
                   f"(first: {lost[:3]}), duplicated {dup}, in order: {texts == sorted(texts, key=lambda t: int(t.split(':')[1]))}")
    muids = [h[1] for h in hist]
    if len(set(muids)) != len(muids):
        raise Fail("server history: a muid is stored twice")
    return hist


def check_no_spurious_reconnects(case, lines, who):
    """Every time the client left CONNECTED falls in one of its fault windows."""
    windows = case.fault_windows.get(who, [])
    for it in lines.poll():
        if it.get("ev") == "end":
            break  # the client's own shutdown
        if not left_connected(it):
            continue
        t = it["t"] / 1000
        if not any(a - 0.05 <= t and (b is None or t <= b + 0.05) for a, b in windows):
            raise Fail(f"{who}: spurious reconnect at {fmt_t(case, it['t'])} ({it['reason']}: {it['msg']}), "
                       f"outside the fault window{'s' if len(windows) != 1 else ''} "
                       f"{[(round(a - case.t0, 2), b and round(b - case.t0, 2)) for a, b in windows]}")


def check_state_chain(lines, who):
    """Contract section 3: each state event follows from the last one and none repeats it. A
    connection listener added after init first hears the current state (reason LISTENER_ADDED,
    previous == current): allowed once, as the first event."""
    last = "DISCONNECTED"
    for i, s in enumerate(lines.states()):
        if i == 0 and s["reason"] == "LISTENER_ADDED" and s["prev"] == s["cur"]:
            last = s["cur"]
            continue
        if s["prev"] == s["cur"] or s["prev"] != last:
            raise Fail(f"{who}: state event {s['prev']} -> {s['cur']} ({s['reason']}) after {last}")
        last = s["cur"]


def check_no_echo(case, send):
    """Contract section 6: own messages are not echoed to the sending client."""
    echoed = [it for it in send.poll() if is_msg(it)]
    if echoed:
        idx = [it.get("i") for it in echoed]
        case.issues.append(
            f"sender received {len(echoed)} of its own messages as incoming messages "
            f"(#{min(idx)}..#{max(idx)}, at {fmt_t(case, echoed[0]['t'])}); contract section 6 says own "
            "messages are not echoed to the sending client")


def fmt_t(case, t_ms):
    return f"t+{t_ms / 1000 - case.t0:.2f}s"


def reconnects(lines):
    return max(0, lines.count(is_state("CONNECTED")) - 1)


def full_checks(case, rl, sl, count):
    check_state_chain(rl, "receiver")
    check_state_chain(sl, "sender")
    got = check_delivery(rl, count)
    sent = check_sends(sl, count)
    check_same_messages(rl, sent)
    hist = check_history(case, count)
    check_no_echo(case, sl)
    if case.fault_windows is not None:
        check_no_spurious_reconnects(case, rl, "receiver")
        check_no_spurious_reconnects(case, sl, "sender")
    case.figures["delivered"] = got
    case.figures["receiver_reconnects"] = reconnects(rl)
    case.figures["sender_reconnects"] = reconnects(sl)
    first_msg = rl.find(is_msg)
    last = [it for it in rl.items if is_msg(it)][-1]
    if first_msg:
        case.figures["stream_s"] = round((last["t"] - first_msg[1]["t"]) / 1000, 1)
    return hist


def leave_after(lines, t0, proc=None, timeout=15, what="leaving CONNECTED"):
    """The first state event leaving CONNECTED stamped at or after t0 (seconds)."""
    _, it = lines.wait(lambda it: left_connected(it) and it["t"] >= t0 * 1000 - 50, timeout, what, proc=proc)
    return it


def connected_after(lines, t0, proc=None, timeout=20, what="CONNECTED again"):
    _, it = lines.wait(lambda it: is_state("CONNECTED")(it) and it["t"] >= t0 * 1000, timeout, what, proc=proc)
    return it


def assert_within(name, value, bound):
    if value > bound:
        raise Fail(f"{name} took {value:.2f}s, over the bound of {bound:.2f}s")


# ----- cases -------------------------------------------------------------------------------


def outage_case(case, count, fault_on, fault_off, outage_s, detect_bound, label):
    """A network outage for both clients: both must leave CONNECTED within `detect_bound`, stay
    off while it lasts, come back after it, and the stream must be intact."""
    case.start_server(count=count)
    rp, rl, sp, sl = case.start_stream(count)
    case.wait_messages(rl, count // 4, 30, rp)
    case.ensure_connected((rp, rl), (sp, sl))
    mark_r, mark_s = len(rl.poll()), len(sl.poll())
    t_on = time.time()
    fault_on()
    leave_r = leave_after(rl, t_on, rp, timeout=detect_bound + 5, what=f"the receiver leaving CONNECTED after the {label}")
    leave_s = leave_after(sl, t_on, sp, timeout=detect_bound + 5, what=f"the sender leaving CONNECTED after the {label}")
    det_r, det_s = leave_r["t"] / 1000 - t_on, leave_s["t"] / 1000 - t_on
    assert_within(f"receiver detection of the {label}", det_r, detect_bound + SLACK_S)
    # A sender blocked in a socket write (send buffer full, no ACKs) cannot run its heartbeat
    # check until the write times out (connect_timeout): bound it by the larger of the two and
    # note it when the heartbeat bound itself was missed.
    write_bound = CLIENT_TIMINGS["--connect-timeout-ms"] / 1000
    assert_within(f"sender detection of the {label}", det_s, max(detect_bound, write_bound) + SLACK_S)
    if det_s > detect_bound + SLACK_S:
        case.issues.append(
            f"sender left CONNECTED {det_s:.2f}s after the {label} ({leave_s['msg']!r}), past the heartbeat "
            f"bound of {detect_bound:.1f}s (ping + heartbeat_grace): while a socket write is blocked the "
            "heartbeat deadline is not checked, only the write stall timeout (connect_timeout) applies")
    time.sleep(max(0.0, t_on + outage_s - time.time()))
    t_off = time.time()
    early = [it for it in rl.states(mark_r) + sl.states(mark_s) if it["cur"] == "CONNECTED" and it["t"] < t_off * 1000]
    if early:
        raise Fail(f"CONNECTED during the {label}: {early[0]}")
    fault_off()
    back_r = connected_after(rl, t_off, rp)
    back_s = connected_after(sl, t_off, sp)
    case.fault_windows = {"receiver": [(t_on, back_r["t"] / 1000)], "sender": [(t_on, back_s["t"] / 1000)]}
    case.figures.update({
        "detect_receiver_s": round(det_r, 2),
        "detect_sender_s": round(det_s, 2),
        "outage_s": round(t_off - t_on, 1),
        "recover_receiver_s": round(back_r["t"] / 1000 - t_off, 2),
        "recover_sender_s": round(back_s["t"] / 1000 - t_off, 2),
    })
    case.finish([sp, rp], 90)
    full_checks(case, rl, sl, count)


def case_blackhole(case, count):
    case.iptables(case.ns_cli, "-S")  # iptables usable in a namespace, or Skip
    outage_case(case, count, lambda: case.blackhole(True), lambda: case.blackhole(False),
                outage_s=5, detect_bound=(PING_MS + GRACE_MS) / 1000, label="blackhole")


def case_link_flap(case, count):
    outage_case(case, count, lambda: case.link(False), lambda: case.link(True),
                outage_s=5, detect_bound=(PING_MS + GRACE_MS) / 1000, label="link down")


def case_loss_delay(case, count):
    # Loss on both ends of the veth, each direction; delay in a proxy beside the clients.
    for ns, dev in ((case.ns_srv, SRV_DEV), (case.ns_cli, CLI_DEV)):
        case.iptables(ns, "-A", "INPUT", "-i", dev)  # no target: only counts what arrives
        case.iptables(ns, "-A", "INPUT", "-i", dev, "-m", "statistic", "--mode", "random",
                      "--probability", "0.1", "-j", "DROP")
    case.start_server(count=count)
    proxy = case.start("delay-proxy", case.ns_cli, [
        sys.executable, os.path.join(HERE, "delay_proxy.py"), "--listen", f"127.0.0.1:{PROXY_PORT}",
        "--upstream", f"{SRV_IP}:{PORT}", "--delay-ms", 200])
    deadline = time.time() + 10
    while True:
        with open(proxy.stdout_path) as f:
            if "listening" in f.read():
                break
        if time.time() > deadline or not proxy.alive():
            raise Fail(f"the delay proxy did not start\n{proxy.stderr_tail()}")
        time.sleep(0.05)
    extra = {"--heartbeat-grace-ms": 2000, "--connect-timeout-ms": 10_000}
    rp, rl, sp, sl = case.start_stream(count, url=f"http://127.0.0.1:{PROXY_PORT}", extra=extra)
    case.fault_windows = None  # the fault lasts the whole stream
    case.finish([sp, rp], 150)
    dropped = arrived = 0
    for ns, dev in ((case.ns_srv, SRV_DEV), (case.ns_cli, CLI_DEV)):
        rules = run(case.in_ns(ns, ["iptables", "-w", "5", "-L", "INPUT", "-v", "-n", "-x"])).stdout
        for row in rules.splitlines()[2:]:
            cols = row.split()
            if len(cols) > 2 and cols[0].isdigit():
                if cols[2] == "DROP":
                    dropped += int(cols[0])
                else:
                    arrived += int(cols[0])
        # The fault is over: the history check below runs on a clean link.
        case.iptables(ns, "-D", "INPUT", "-i", dev, "-m", "statistic", "--mode", "random",
                      "--probability", "0.1", "-j", "DROP")
    if dropped == 0:
        raise Fail("the loss rules dropped no packet: the fault was not applied")
    case.figures["veth_packets"] = arrived
    case.figures["veth_packets_dropped"] = dropped
    case.figures["loss_pct"] = round(100 * dropped / max(1, arrived), 1)
    full_checks(case, rl, sl, count)
    msgs = [it for it in rl.items if is_msg(it)]
    case.figures["latency_note"] = "200 ms each way + 10 % loss each way"
    case.figures["throughput_msg_s"] = round(len(msgs) / max(0.001, (msgs[-1]["t"] - msgs[0]["t"]) / 1000))


# Sends the sender must have unfinished (written or queued, not yet acked) when the server is
# killed: the kill must hit a socket full of sends, not one with a send or two in flight.
KILL_MIN_IN_FLIGHT = 100


def server_kill_case(case, count, durability):
    case.start_server(count=count, durability=durability)
    # Unthrottled: the sender keeps its whole window (1,000) of sends going on one socket.
    rp, rl, sp, sl = case.start_stream(count, rate=0)
    case.wait_messages(rl, count // 4, 30, rp)
    case.ensure_connected((rp, rl), (sp, sl))
    t_kill = time.time()
    case.server.signal(signal.SIGKILL)
    if case.server.wait(5) is None:
        raise Fail("the server survived SIGKILL for 5s")
    before = [it for it in sl.poll() if it.get("ev") == "issued" and it["t"] < t_kill * 1000]
    in_flight = before[-1]["outstanding"] if before else 0
    if in_flight < KILL_MIN_IN_FLIGHT:
        raise Fail(f"the sender had {in_flight} sends unfinished when the server was killed, "
                   f"not the {KILL_MIN_IN_FLIGHT}+ of a pipelined socket")
    acked = {it["i"]: it["id"] for it in sl.items if it.get("ev") == "sent" and it["t"] < t_kill * 1000}
    delivered = {it["i"]: it["id"] for it in rl.poll() if is_msg(it) and it["t"] < t_kill * 1000}
    leave_r = leave_after(rl, t_kill, rp, timeout=5, what="the receiver leaving CONNECTED after the kill")
    leave_s = leave_after(sl, t_kill, sp, timeout=5, what="the sender leaving CONNECTED after the kill")
    time.sleep(max(0.0, t_kill + 2 - time.time()))
    t_up = time.time()
    case.start_server(count=count, durability=durability)
    t_listen = time.time()
    back_r = connected_after(rl, t_up, rp)
    back_s = connected_after(sl, t_up, sp)
    case.fault_windows = {"receiver": [(t_kill, back_r["t"] / 1000)], "sender": [(t_kill, back_s["t"] / 1000)]}
    case.figures.update({
        "durability": durability,
        "in_flight_at_kill": in_flight,
        "acked_before_kill": len(acked),
        "delivered_before_kill": len(delivered),
        "detect_receiver_s": round(leave_r["t"] / 1000 - t_kill, 2),
        "detect_sender_s": round(leave_s["t"] / 1000 - t_kill, 2),
        "server_down_s": round(t_listen - t_kill, 1),
        "recover_receiver_s": round(back_r["t"] / 1000 - t_listen, 2),
        "recover_sender_s": round(back_s["t"] / 1000 - t_listen, 2),
    })
    case.finish([sp, rp], 90)
    hist = full_checks(case, rl, sl, count)
    # Acknowledged before the kill: stored, as the very message the ack named (a lost one would
    # not be resent: its send had completed). Delivered before the kill: stored as delivered (a
    # message sent to a socket before its commit could be lost, then stored anew on a resend).
    stored = {h[0]: h[3] for h in hist}
    for what, got in (("acknowledged", acked), ("delivered", delivered)):
        for i, mid in got.items():
            if stored.get(mid) != f"{PREFIX}:{i}":
                raise Fail(f"#{i} {what} before the kill as message {mid}, which the restarted server "
                           f"does not hold (it holds {stored.get(mid)!r} under that id)")


def case_server_kill(case, count):
    server_kill_case(case, count, "power")


def case_server_kill_process(case, count):
    server_kill_case(case, count, "process")


def case_busy_sender(case, count):
    """No fault: an unthrottled sender keeps its window of sends on one socket while the server
    fsyncs every commit; neither client may leave CONNECTED (the server must keep answering its
    heartbeat while sends wait for their commit)."""
    case.start_server(count=count, durability="power")
    rp, rl, sp, sl = case.start_stream(count, rate=0)
    case.finish([sp, rp], 90)
    full_checks(case, rl, sl, count)
    issued = [it["outstanding"] for it in sl.items if it.get("ev") == "issued"]
    case.figures["max_unfinished_sends"] = max(issued, default=0)


WAKE_BOUND_S = 1.0


def freeze_case(case, count, freeze_s, must_reconnect):
    case.start_server(count=count)
    rp, rl, sp, sl = case.start_stream(count)
    case.wait_messages(rl, count // 4, 30, rp)
    case.ensure_connected((rp, rl))
    t_stop = time.time()
    rp.signal(signal.SIGSTOP)
    time.sleep(freeze_s)
    mark = len(rl.poll())
    t_cont = time.time()
    rp.signal(signal.SIGCONT)
    early = [it for it in rl.items[:mark] if left_connected(it) and it["t"] >= t_stop * 1000 - 50]
    if early:
        raise Fail(f"state changed while frozen: {early[0]}")
    case.figures["frozen_s"] = round(t_cont - t_stop, 1)
    # Contract: deadlines are checked on every tick, so the woken process finds the socket dead.
    try:
        leave = leave_after(rl, t_stop, rp, timeout=WAKE_BOUND_S + 2, what="the woken receiver leaving CONNECTED")
    except Fail:
        if must_reconnect:
            raise
        leave = None
        n = sum(1 for it in rl.poll()[mark:] if is_msg(it))
        case.figures["reconnected_after_wake"] = False
        case.issues.append(
            f"receiver frozen {t_cont - t_stop:.1f}s (past its {(PING_MS + GRACE_MS) / 1000:.0f}s heartbeat bound) "
            f"stayed CONNECTED on the old socket after SIGCONT and took {n} more messages on it: it read the "
            "frames buffered while it was frozen before its watchdog ran; contract section 4 says a process "
            "frozen past the bound finds the socket dead when it wakes")
    # The sender has no fault: it must not reconnect at all.
    case.fault_windows = {"receiver": [(t_stop, t_cont + WAKE_BOUND_S + 2)], "sender": []}
    if leave is not None:
        back = connected_after(rl, t_cont, rp)
        case.fault_windows["receiver"] = [(t_stop, back["t"] / 1000)]
        detect = leave["t"] / 1000 - t_cont
        case.figures.update({
            "reconnected_after_wake": True,
            "detect_after_wake_s": round(detect, 2),
            "recover_after_wake_s": round(back["t"] / 1000 - t_cont, 2),
            "leave_reason": f"{leave['reason']}: {leave['msg']}",
        })
        assert_within("detecting the dead socket after waking", detect, WAKE_BOUND_S)
    case.finish([sp, rp], 90)
    full_checks(case, rl, sl, count)


def case_freeze_short(case, count):
    # Past the client's bound (ping + grace = 2 s), within the server's (ping + 10 s): the old
    # socket still works, so staying on it loses nothing; a missed reconnect is noted, not failed.
    freeze_case(case, count, (PING_MS + GRACE_MS) / 1000 + 2, must_reconnect=False)


def case_freeze_long(case, count):
    # Past the server's bound too: the server has dropped the socket by the time it wakes.
    freeze_case(case, count, (PING_MS + SERVER_GRACE_MS) / 1000 + 2.5, must_reconnect=True)


# The issue's promise: FAILED, then no retry for a minute. The receiver's deadline leaves room
# for the whole watch after the stream's first quarter.
REVOKE_WATCH_S = 60


def case_token_revoked(case, count):
    case.start_server(count=count)
    rp, rl, sp, sl = case.start_stream(count, deadline_s=REVOKE_WATCH_S + 120)
    case.wait_messages(rl, count // 4, 30, rp)
    case.ensure_connected((rp, rl))
    mark = len(rl.poll())
    t_rev = time.time()
    case.rest("revoke", case.server_url(), API_KEY, RECEIVER)
    _, failed = rl.wait(is_state("FAILED"), 5, "the receiver entering FAILED after the revoke", start=mark, proc=rp)
    if failed["reason"] != "AUTH_REJECTED":
        raise Fail(f"FAILED with reason {failed['reason']}, expected AUTH_REJECTED: {failed}")
    rl.wait(lambda it: it.get("ev") == "session_expired", 3, "the session-expired notice", start=mark, proc=rp)
    t_failed = failed["t"] / 1000
    # The contract says no retry at all; the issue asks for none within a minute: we watch
    # REVOKE_WATCH_S (60 s) after FAILED, with the receiver alive all along.
    time.sleep(max(0.0, t_failed + REVOKE_WATCH_S - time.time()))
    if not rp.alive():
        raise Fail(f"{rp.name} exited during the {REVOKE_WATCH_S}s watch ({rp.popen.returncode})\n{rp.stderr_tail()}")
    after = [it for it in rl.states(mark)]
    if [s["cur"] for s in after] != ["FAILED"]:
        raise Fail(f"expected FAILED and nothing after it for {REVOKE_WATCH_S}s, got {[(s['prev'], s['cur'], s['reason']) for s in after]}")
    case.figures.update({
        "failed_after_s": round(t_failed - t_rev, 2),
        "watched_without_retry_s": REVOKE_WATCH_S,
        "received_before_revoke": rl.count(is_msg),
    })
    rp.stop()
    case.finish([sp], 90)
    check_state_chain(rl, "receiver")
    check_state_chain(sl, "sender")
    case.fault_windows = {"receiver": [(t_rev, None)], "sender": []}
    check_no_spurious_reconnects(case, rl, "receiver")
    check_no_spurious_reconnects(case, sl, "sender")
    check_delivery(rl, count, prefix_only=True)
    sent = check_sends(sl, count)
    check_same_messages(rl, sent)
    check_history(case, count)
    check_no_echo(case, sl)


CASES = [
    ("blackhole", case_blackhole),
    ("loss-delay", case_loss_delay),
    ("link-flap", case_link_flap),
    ("server-kill", case_server_kill),
    ("server-kill-process", case_server_kill_process),
    ("busy-sender", case_busy_sender),
    ("freeze-short", case_freeze_short),
    ("freeze-long", case_freeze_long),
    ("token-revoked", case_token_revoked),
]


# ----- main --------------------------------------------------------------------------------


def preflight(args):
    """Returns None, or the reason no case can run here."""
    if os.geteuid() != 0:
        return "needs root (network namespaces and iptables)"
    if not shutil.which("ip"):
        return "needs iproute2's `ip`"
    for b in (args.server_bin, args.client_bin):
        if not os.access(b, os.X_OK):
            raise SystemExit(f"missing binary {b}: run `make test-faults` (it builds them)")
    probe = f"{NS_PREFIX}{os.getpid()}-probe"
    p = run(["ip", "netns", "add", probe], check=False)
    if p.returncode != 0:
        return f"`ip netns add` failed: {p.stderr.strip()}"
    run(["ip", "netns", "del", probe], check=False)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "target", "debug"))
    ap.add_argument("--logs", default=os.path.join(ROOT, "target", "faults"))
    ap.add_argument("--only", default="", help="comma-separated case names")
    ap.add_argument("--count", type=int, default=10_000, help="messages per case")
    ap.add_argument("--strict", action="store_true", help="a skipped case fails the run")
    ap.add_argument("--fail-on-issues", action="store_true",
                    help="contract deviations outside a case's own checks (listed as SDK ISSUE) fail it")
    args = ap.parse_args()
    args.server_bin = os.path.join(args.bin_dir, "chinwag-server")
    args.client_bin = os.path.join(args.bin_dir, "examples", "fault_client")
    os.makedirs(args.logs, exist_ok=True)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    wanted = [c for c in args.only.split(",") if c]
    unknown = set(wanted) - {n for n, _ in CASES}
    if unknown:
        raise SystemExit(f"unknown cases: {', '.join(sorted(unknown))}")
    cases = [(n, f) for n, f in CASES if not wanted or n in wanted]

    results = []
    reason = preflight(args)
    if reason:
        for name, _ in cases:
            log(f"SKIP {name}: {reason}")
            results.append({"case": name, "result": "SKIP", "reason": reason})
    else:
        remove_stale_namespaces()
        started = time.time()
        for n, (name, fn) in enumerate(cases):
            t0 = time.time()
            log(f"---- {name}")
            entry = {"case": name}
            case = None
            try:
                with Case(name, n, args) as case:
                    fn(case, args.count)
                entry.update(result="PASS", figures=case.figures)
                if case.issues and args.fail_on_issues:
                    entry.update(result="FAIL", reason="contract deviations (--fail-on-issues)")
            except Skip as e:
                entry.update(result="SKIP", reason=str(e))
            except Fail as e:
                entry.update(result="FAIL", reason=str(e), figures=case.figures if case else {})
            except KeyboardInterrupt:
                log(f"interrupted during {name}; cleaned up")
                raise
            except Exception:
                entry.update(result="FAIL", reason="harness error:\n" + traceback.format_exc())
            entry["seconds"] = round(time.time() - t0, 1)
            entry["issues"] = case.issues if case else []
            results.append(entry)
            detail = json.dumps(entry.get("figures", {})) if entry["result"] == "PASS" else entry["reason"]
            log(f"{entry['result']} {name} ({entry['seconds']}s): {detail}")
            for issue in entry["issues"]:
                log(f"     SDK ISSUE (not failing this case): {issue}")
            if entry["result"] == "FAIL":
                log(f"     logs: {os.path.join(args.logs, name)}")
        log(f"total {time.time() - started:.0f}s")
    with open(os.path.join(args.logs, "summary.json"), "w") as f:
        json.dump(results, f, indent=2)
    passed = sum(r["result"] == "PASS" for r in results)
    failed = sum(r["result"] == "FAIL" for r in results)
    skipped = sum(r["result"] == "SKIP" for r in results)
    for r in results:
        if r["result"] == "SKIP":
            log(f"skipped {r['case']}: {r['reason']}")
    for r in results:
        for issue in r.get("issues", []):
            log(f"issue seen in {r['case']}: {issue}")
    log(f"faults: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or (skipped and args.strict) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
