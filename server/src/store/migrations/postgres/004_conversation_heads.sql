-- SQLite's migration 006 (group conversations kept in one head row per group) in PostgreSQL's
-- terms. Integers are BIGINT, as in 001.
CREATE TABLE conversation_heads (
    conversation_id TEXT PRIMARY KEY,
    last_message_id BIGINT NOT NULL,
    message_count BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
ALTER TABLE conversations ADD COLUMN seen_count BIGINT NOT NULL DEFAULT 0;
-- A group row is hidden while the head's last message is at most this (deleted for me, or
-- joined and nothing new since).
ALTER TABLE conversations ADD COLUMN hidden_upto BIGINT NOT NULL DEFAULT 0;

INSERT INTO conversation_heads (conversation_id, last_message_id, message_count, updated_at)
SELECT conversation_id, MAX(id), COUNT(*), MAX(sent_at) FROM messages
WHERE receiver_type = 'group' GROUP BY conversation_id;

UPDATE conversations SET
    seen_count = (SELECT h.message_count FROM conversation_heads h
        WHERE h.conversation_id = conversations.conversation_id) - unread_count,
    hidden_upto = CASE WHEN hidden = 1 THEN last_message_id ELSE 0 END
WHERE conversation_type = 'group'
  AND EXISTS (SELECT 1 FROM conversation_heads h
        WHERE h.conversation_id = conversations.conversation_id);

-- Members without a row (no message since they joined) get one that stays hidden until the
-- next message, as before.
INSERT INTO conversations (uid, conversation_id, conversation_type, with_id, last_message_id,
    unread_count, last_read_id, last_delivered_id, updated_at, hidden, seen_count, hidden_upto)
SELECT gm.uid, 'group:' || gm.guid, 'group', gm.guid, 0, 0,
    COALESCE(h.last_message_id, 0), COALESCE(h.last_message_id, 0), gm.joined_at, 0,
    COALESCE(h.message_count, 0), COALESCE(h.last_message_id, 0)
FROM group_members gm
LEFT JOIN conversation_heads h ON h.conversation_id = 'group:' || gm.guid
WHERE NOT EXISTS (SELECT 1 FROM conversations c
    WHERE c.uid = gm.uid AND c.conversation_id = 'group:' || gm.guid);

-- The list sorts a user's rows itself (their recency is partly in the heads); keeping this
-- index current cost every message an index delete and insert per recipient.
DROP INDEX conversations_by_recency;
