#!/usr/bin/env python3
"""REST calls to chinwag-server for the fault suite (stdlib only).

The harness runs this inside the clients' network namespace (`ip netns exec NS python3 rest.py
...`), since the server's address exists only there. Every request has a timeout. Prints JSON on
stdout; exits non-zero with the reason on stderr when a call fails.

  rest.py create-user URL AUTH_KEY UID...     create users (201, or 409 if they exist)
  rest.py revoke URL API_KEY UID              revoke every token of UID
  rest.py history URL API_KEY UID OTHER       the whole UID<->OTHER history, oldest first
  rest.py health URL                          GET /v1/health
"""

import json
import sys
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = 10


def call(method, url, headers=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    if data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as e:
        raw = e.read()
        status = e.code
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        value = raw.decode(errors="replace")
    return status, value


def need(status, value, ok, what):
    if status not in ok:
        sys.exit(f"{what}: HTTP {status}: {value}")


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, base = argv[0], argv[1].rstrip("/")
    if cmd == "create-user":
        auth_key, uids = argv[2], argv[3:]
        for uid in uids:
            s, v = call("POST", f"{base}/v1/users", {"x-auth-key": auth_key}, {"uid": uid, "name": uid})
            need(s, v, (201, 409), f"create user {uid}")
        print(json.dumps({"created": uids}))
    elif cmd == "revoke":
        api_key, uid = argv[2], argv[3]
        s, v = call("DELETE", f"{base}/v1/users/{urllib.parse.quote(uid)}/tokens", {"x-api-key": api_key})
        need(s, v, (200,), f"revoke tokens of {uid}")
        print(json.dumps(v))
    elif cmd == "history":
        api_key, uid, other = argv[2], argv[3], argv[4]
        s, v = call("POST", f"{base}/v1/users/{urllib.parse.quote(uid)}/tokens", {"x-api-key": api_key})
        need(s, v, (201,), f"mint a token for {uid}")
        auth = {"authorization": f"Bearer {v['token']}"}
        out, after = [], 0
        for _ in range(100_000):
            q = urllib.parse.urlencode(
                {"receiver_type": "user", "receiver": other, "limit": 100, "after": after}
            )
            s, v = call("GET", f"{base}/v1/messages?{q}", auth)
            need(s, v, (200,), "history page")
            page = v["messages"]
            for m in page:
                out.append([m["id"], m["muid"], m["sender"], m.get("text")])
            if page:
                after = page[-1]["id"]
            if not v.get("has_more"):
                break
        print(json.dumps(out))
    elif cmd == "health":
        s, v = call("GET", f"{base}/v1/health")
        need(s, v, (200,), "health")
        print(json.dumps(v))
    else:
        sys.exit(f"unknown command {cmd}\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv[1:])
