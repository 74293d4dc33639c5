-- The schema of SQLite's migrations 001-003 in PostgreSQL's terms. Integers are BIGINT (SQLite's
-- INTEGER is 64-bit); ids differing only in case are refused by unique indexes on lower().
CREATE TABLE users (
    uid TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    avatar TEXT,
    role TEXT NOT NULL DEFAULT 'default',
    metadata TEXT NOT NULL DEFAULT '{}',
    last_active_at BIGINT,
    deactivated BIGINT NOT NULL DEFAULT 0,
    -- newest per-user event sequence number handed out: the user's head, taken with
    -- UPDATE ... RETURNING inside the message's own transaction
    last_seq BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_uid_nocase ON users (lower(uid));

CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    uid TEXT NOT NULL REFERENCES users(uid),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX tokens_by_uid ON tokens(uid);

CREATE TABLE friends (
    uid TEXT NOT NULL REFERENCES users(uid),
    friend TEXT NOT NULL REFERENCES users(uid),
    PRIMARY KEY (uid, friend)
);

CREATE TABLE groups (
    guid TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    description TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    owner TEXT NOT NULL REFERENCES users(uid),
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX groups_guid_nocase ON groups (lower(guid));
CREATE INDEX groups_by_owner ON groups (owner);

CREATE TABLE group_members (
    guid TEXT NOT NULL REFERENCES groups(guid),
    uid TEXT NOT NULL REFERENCES users(uid),
    scope TEXT NOT NULL,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (guid, uid)
);
CREATE INDEX group_members_by_uid ON group_members(uid);

CREATE TABLE group_bans (
    guid TEXT NOT NULL REFERENCES groups(guid),
    uid TEXT NOT NULL REFERENCES users(uid),
    banned_by TEXT NOT NULL,
    banned_at BIGINT NOT NULL,
    PRIMARY KEY (guid, uid)
);

CREATE TABLE messages (
    id BIGSERIAL PRIMARY KEY,
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
    parent_id BIGINT,
    quoted_id BIGINT,
    sent_at BIGINT NOT NULL,
    edited_at BIGINT,
    deleted_at BIGINT,
    deleted_by TEXT,
    sender_seq BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX messages_by_muid ON messages(sender, muid);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);

CREATE TABLE event_bodies (
    id BIGSERIAL PRIMARY KEY,
    payload TEXT NOT NULL,
    refs BIGINT NOT NULL
);

CREATE TABLE events (
    uid TEXT NOT NULL,
    seq BIGINT NOT NULL,
    body_id BIGINT,
    payload TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (uid, seq)
);

CREATE TABLE calls (
    session_id TEXT PRIMARY KEY,
    initiator TEXT NOT NULL REFERENCES users(uid),
    receiver_type TEXT NOT NULL,
    receiver TEXT NOT NULL,
    call_type TEXT NOT NULL,
    status TEXT NOT NULL,
    by_uid TEXT NOT NULL,
    initiated_at BIGINT NOT NULL,
    joined_at BIGINT,
    ended_at BIGINT,
    metadata TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE friend_requests (
    from_uid TEXT NOT NULL REFERENCES users(uid),
    to_uid TEXT NOT NULL REFERENCES users(uid),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (from_uid, to_uid)
);
CREATE INDEX friend_requests_to ON friend_requests (to_uid);
