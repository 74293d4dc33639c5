#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target (fuzz/corpus/<target>/seed-*), taken from the
shapes the tests use. Run again after changing it; libFuzzer adds its own finds next to them."""
import json, os, struct, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

def write(target, items):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith("seed-"):
            os.remove(os.path.join(d, f))
    for i, data in enumerate(items):
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, "seed-%03d" % i), "wb") as f:
            f.write(data)

j = lambda v: json.dumps(v, separators=(",", ":"))

frames = [
    {"type": "send", "req": "s1", "message": {"receiver_type": "user", "receiver": "bob", "text": "hi", "muid": "m1"}},
    {"type": "send", "req": "s2", "message": {"receiver_type": "group", "receiver": "g1", "text": "hello group"}},
    {"type": "send", "req": "s3", "message": {"receiver_type": "user", "receiver": "bob", "category": "custom", "type": "location", "data": {"lat": 1.5, "lon": -2}, "metadata": {"k": [1, 2]}}},
    {"type": "send", "req": "s4", "message": {"receiver_type": "user", "receiver": "bob", "type": "image", "attachments": [{"url": "https://example.invalid/a.png"}], "parent_id": 1, "quoted_id": 1}},
    {"type": "send", "req": "s5", "message": {"receiver_type": "user", "receiver": "nobody", "text": "x"}},
    {"type": "edit", "req": "e1", "message_id": 1, "text": "edited", "metadata": {"e": True}},
    {"type": "delete", "req": "d1", "message_id": 2},
    {"type": "receipt", "req": "r1", "kind": "read", "message_id": 1},
    {"type": "receipt", "kind": "delivered", "message_id": 1},
    {"type": "typing_start", "receiver_type": "user", "receiver": "bob"},
    {"type": "typing_end", "req": "t1", "receiver_type": "group", "receiver": "g1", "metadata": {}},
    {"type": "transient", "req": "x1", "receiver_type": "user", "receiver": "bob", "data": {"live": 1}},
    {"type": "call_initiate", "req": "c1", "session_id": "call-1", "call_type": "audio", "receiver_type": "user", "receiver": "bob"},
    {"type": "call_cancel", "req": "c2", "session_id": "call-1"},
    {"type": "call_accept", "req": "c3", "session_id": "nope"},
    {"type": "call_reject", "req": "c4", "session_id": "nope", "status": "busy"},
    {"type": "call_end", "req": "c5", "session_id": "nope"},
    {"type": "ping", "req": "p1"},
    {"type": "ping"},
]
server = [j(f) for f in frames] + [
    '{"type":"send","req":"bad"}', '{"type":"nope","req":"u1"}', '{"req":7}', "not json", "",
    '{"type":"edit","req":"e2","message_id":-1,"text":""}', '{"type":"ping","req":"p","extra":1}',
    b"\xff\xfe\x00binary",
]
write("server_frames", server)

def sdk(phase, fs):
    return bytes([phase]) + b"\n".join(f.encode() if isinstance(f, str) else f for f in fs)

msg = {"id": 5, "muid": "m5", "sender": "bob", "receiver_type": "user", "receiver": "alice", "conversation_id": "alice_user_bob",
       "category": "message", "type": "text", "text": "hi", "metadata": {}, "sent_at": 1}
user = {"uid": "bob", "name": "bob", "role": "default", "status": "online"}
call = {"session_id": "c1", "initiator": "bob", "receiver_type": "user", "receiver": "alice", "call_type": "audio", "status": "initiated", "initiated_at": 1}
server_frames = [
    j({"type": "event", "seq": 1, "event": "message", "data": msg}),
    j({"type": "event", "seq": 2, "event": "message_edited", "data": dict(msg, text="e", edited_at=2)}),
    j({"type": "event", "seq": 3, "event": "message_deleted", "data": dict(msg, deleted_at=3, deleted_by="bob")}),
    j({"type": "event", "seq": 4, "event": "receipt", "data": {"kind": "read", "by": "bob", "message_id": 5, "message_sender": "alice", "conversation_id": "alice_user_bob", "receiver_type": "user", "receiver": "bob", "at": 4}}),
    j({"type": "event", "seq": 5, "event": "call_initiated", "data": call}),
    j({"type": "event", "seq": 6, "event": "group_member", "data": {"action": "added", "guid": "g1", "member": "bob", "by": "bob", "added": [{"uid": "carol", "scope": "participant"}]}}),
    j({"type": "ack", "req": "$REQ", "result": {"seq": 7, "event": "message", "data": dict(msg, sender="alice", receiver="bob", muid="x")}}),
    j({"type": "ack", "req": "$REQ"}),
    j({"type": "error", "req": "$REQ", "code": "NOT_A_MEMBER", "message": "no"}),
    j({"type": "error", "code": "MALFORMED_FRAME", "message": "?"}),
    j({"type": "typing_started", "sender": "bob", "receiver_type": "user", "receiver": "alice"}),
    j({"type": "typing_ended", "sender": "bob", "receiver_type": "user", "receiver": "alice"}),
    j({"type": "transient", "sender": "bob", "receiver_type": "user", "receiver": "alice", "data": [1]}),
    j({"type": "presence", "uid": "bob", "status": "online"}),
    j({"type": "presence_snapshot", "users": [{"uid": "bob", "status": "online"}]}),
    j({"type": "throttled", "feature": "typing", "duration_ms": 1000}),
    j({"type": "unthrottled", "feature": "typing"}),
    j({"type": "replay_done", "last_seq": 9}),
    j({"type": "accept", "session_id": "1", "app_id": "chinwag-app", "user": dict(user, uid="alice"), "ping_interval_ms": 20000, "server_time": 1, "protocol": 1, "resume": {"status": "fresh", "replay_count": 0, "last_seq": 0}}),
    j({"type": "accept", "session_id": "1", "app_id": "chinwag-app", "user": dict(user, uid="alice"), "ping_interval_ms": 0, "server_time": 1, "protocol": 2, "resume": {"status": "gap", "replay_count": 0, "gap": {"from_seq": 1, "to_seq": 5}, "last_seq": 9}}),
    "{", "null", b"\xc3\x28",
]
sdk_seeds = []
for phase in range(4):
    sdk_seeds.append(sdk(phase, server_frames[:6]))
    sdk_seeds.append(sdk(phase, server_frames[6:12]))
    sdk_seeds.append(sdk(phase, server_frames[12:]))
write("sdk_frames", sdk_seeds)

# rest: credential byte, endpoint byte (index into chinwag_server::routes() without the
# WebSocket path), then param1 \n param2 \n query \n body.
ROUTES = 37
bodies = {
    "users": j({"uid": "carol", "name": "Carol", "metadata": {"a": 1}}),
    "groups": j({"guid": "g2", "name": "G2", "type": "private"}),
    "messages": j({"receiver_type": "user", "receiver": "bob", "text": "hi"}),
}
rest = []
for e in range(ROUTES):
    for cred in (1, 2):
        rest.append(bytes([cred, e]) + b"alice\nbob\nlimit=5&after=1&receiver_type=user&receiver=bob\n" + bodies["messages"].encode())
rest += [
    bytes([1, 5]) + b"\n\n\n" + bodies["users"].encode(),
    bytes([2, 17]) + b"\n\n\n" + bodies["groups"].encode(),
    bytes([2, 28]) + b"\n\nreceiver_type=group&receiver=g1&limit=%ZZ\n",
    bytes([0, 1]) + b"\n\n\n" + j({"uid": "alice", "auth_key": "fuzz-auth"}).encode(),
    bytes([4, 3]) + b"\n\n\n{",
    bytes([1, 6]) + b"\n\nsearch=al&status=online&role=x&limit=0\n",
]
write("rest", rest)

def c_abi(*parts):
    return b"".join(p if isinstance(p, bytes) else bytes(p) for p in parts)
S = b"\xff"
rest_seeds = [
    # real URL, full struct, auto mode, no roles, no pem, default timings, thread mode, app id
    c_abi([1, 2, 0, 0, 0], S, [1, 0], b"chinwag-app", S,
          [0, 0], b"alice", S, [0],               # login alice with the key
          [2, 1], [1], b"bob", S, [1], b"hello", S,  # send_text to bob
          [9, 1], [13, 1], [11, 1, 40], [14, 1], [15, 1]),
    c_abi([0], b"not a url", S, [2, 0, 0, 0], S, [1, 0], b"chinwag-app", S),
    c_abi([1, 0, 1, 0, 0, 0], [0, 0], S, [1, 2], b"", S),
    c_abi([1, 2, 1, 3, 1], b"admin,staff", S, b"-----BEGIN CERTIFICATE-----", S, [0, 1, 5, 1, 5, 1, 5, 1, 5, 1, 5, 1, 5, 1, 5, 1], b"chinwag-app", S,
          [3, 1], b"bob", S, b"location", S, [1], b"{\"a\":1}", S,
          [4, 1], b"{\"receiver_type\":\"user\",\"receiver\":\"bob\",\"type\":\"image\"}", S,
          [5, 2], b"g1", S, b"[1]", S, [6, 1, 1], b"bob", S, [7, 1, 5, 0, 0, 0, 0, 0, 0, 0],
          [8, 1, 1], b"bob", S, [1, 10, 0, 0, 0, 1], b"custom", S, [0], [0] * 8, [1], [10, 1, 1, 0, 0, 0, 0, 0, 0, 0], [12, 1, 255, 255, 255, 255]),
    c_abi([1, 2, 0, 0, 0], S, [1, 0], b"chinwag-app", S, [1, 1], b"\xc3\x28", S, [2, 1, 0], [0] * 4, [8, 0, 9, 9, 9, 9, 0]),
]
write("c_abi", rest_seeds)
