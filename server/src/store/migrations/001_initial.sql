CREATE TABLE users (
    uid TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    avatar TEXT,
    role TEXT NOT NULL DEFAULT 'default',
    metadata TEXT NOT NULL DEFAULT '{}',
    last_active_at INTEGER,
    deactivated INTEGER NOT NULL DEFAULT 0,
    -- newest per-user event sequence number handed out
    last_seq INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,          -- SHA-256 of the token, hex
    uid TEXT NOT NULL REFERENCES users(uid),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX tokens_by_uid ON tokens(uid);

CREATE TABLE friends (
    uid TEXT NOT NULL REFERENCES users(uid),
    friend TEXT NOT NULL REFERENCES users(uid),
    PRIMARY KEY (uid, friend)
) WITHOUT ROWID;

CREATE TABLE groups (
    guid TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    description TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    owner TEXT NOT NULL REFERENCES users(uid),
    created_at INTEGER NOT NULL
);

CREATE TABLE group_members (
    guid TEXT NOT NULL REFERENCES groups(guid),
    uid TEXT NOT NULL REFERENCES users(uid),
    scope TEXT NOT NULL,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (guid, uid)
) WITHOUT ROWID;
CREATE INDEX group_members_by_uid ON group_members(uid);

CREATE TABLE group_bans (
    guid TEXT NOT NULL REFERENCES groups(guid),
    uid TEXT NOT NULL REFERENCES users(uid),
    banned_by TEXT NOT NULL,
    banned_at INTEGER NOT NULL,
    PRIMARY KEY (guid, uid)
) WITHOUT ROWID;

CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    muid TEXT NOT NULL,
    sender TEXT NOT NULL REFERENCES users(uid),
    receiver_type TEXT NOT NULL,
    receiver TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    category TEXT NOT NULL,
    type TEXT NOT NULL,
    text TEXT,
    data TEXT,
    attachments TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    parent_id INTEGER,
    quoted_id INTEGER,
    sent_at INTEGER NOT NULL,
    edited_at INTEGER,
    deleted_at INTEGER,
    deleted_by TEXT,
    -- the sender's own sequence number for this message, so a repeated muid gets the same ack
    sender_seq INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX messages_by_muid ON messages(sender, muid);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);

-- Durable events, one row per recipient, replayed on resume.
CREATE TABLE events (
    uid TEXT NOT NULL,
    seq INTEGER NOT NULL,
    payload TEXT NOT NULL,          -- {"event": ..., "data": ...}
    created_at INTEGER NOT NULL,
    PRIMARY KEY (uid, seq)
) WITHOUT ROWID;

CREATE TABLE calls (
    session_id TEXT PRIMARY KEY,
    initiator TEXT NOT NULL REFERENCES users(uid),
    receiver_type TEXT NOT NULL,
    receiver TEXT NOT NULL,
    call_type TEXT NOT NULL,
    status TEXT NOT NULL,
    by_uid TEXT NOT NULL,
    initiated_at INTEGER NOT NULL,
    joined_at INTEGER,
    ended_at INTEGER,
    metadata TEXT NOT NULL DEFAULT '{}'
);
