-- SQLite's migration 004 (issue 20's conversations) in PostgreSQL's terms: the same table, index
-- and backfill. Integers are BIGINT, as in 001.
CREATE TABLE conversations (
    uid TEXT NOT NULL REFERENCES users(uid),
    conversation_id TEXT NOT NULL,
    conversation_type TEXT NOT NULL,    -- 'user' or 'group'
    with_id TEXT NOT NULL,              -- the other user's uid, or the guid
    last_message_id BIGINT NOT NULL,
    unread_count BIGINT NOT NULL DEFAULT 0,
    last_read_id BIGINT NOT NULL DEFAULT 0,
    last_delivered_id BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    hidden BIGINT NOT NULL DEFAULT 0,   -- deleted for this user until the next message
    PRIMARY KEY (uid, conversation_id)
);
-- The list, newest first, pages by last message id.
CREATE INDEX conversations_by_recency ON conversations (uid, last_message_id);

-- Existing history: one row per participant of every conversation with messages, everything
-- already read. The other user of a one-to-one conversation is the same on every row of a
-- (uid, conversation_id) group; PostgreSQL wants it aggregated (MIN) where SQLite takes it bare.
INSERT INTO conversations (uid, conversation_id, conversation_type, with_id,
    last_message_id, unread_count, last_read_id, last_delivered_id, updated_at)
SELECT p.uid, p.conversation_id, 'user', MIN(p.other), MAX(p.id), 0, MAX(p.id), MAX(p.id),
    MAX(p.sent_at)
FROM (SELECT sender AS uid, receiver AS other, conversation_id, id, sent_at
        FROM messages WHERE receiver_type = 'user'
      UNION ALL
      SELECT receiver, sender, conversation_id, id, sent_at
        FROM messages WHERE receiver_type = 'user' AND receiver != sender) p
WHERE p.uid IN (SELECT uid FROM users)
GROUP BY p.uid, p.conversation_id
ON CONFLICT DO NOTHING;
INSERT INTO conversations (uid, conversation_id, conversation_type, with_id,
    last_message_id, unread_count, last_read_id, last_delivered_id, updated_at)
SELECT gm.uid, 'group:' || gm.guid, 'group', gm.guid, x.last_id, 0, x.last_id, x.last_id, x.last_at
FROM group_members gm
JOIN (SELECT receiver AS guid, MAX(id) AS last_id, MAX(sent_at) AS last_at
        FROM messages WHERE receiver_type = 'group' GROUP BY receiver) x ON x.guid = gm.guid
ON CONFLICT DO NOTHING;
