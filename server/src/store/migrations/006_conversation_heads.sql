-- A group message costs one head row, not one conversation row per member (the write path of
-- issue 10: a 1,000-member group wrote 1,000 rows and their index entries per message). A
-- member's unread count is the head's message count minus the messages it has seen (read, its
-- own, or from users it blocked): `seen_count`. Direct conversations keep their per-row counts.
CREATE TABLE conversation_heads (
    conversation_id TEXT PRIMARY KEY,
    last_message_id INTEGER NOT NULL,
    message_count INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
ALTER TABLE conversations ADD COLUMN seen_count INTEGER NOT NULL DEFAULT 0;
-- A group row is hidden while the head's last message is at most this (deleted for me, or
-- joined and nothing new since).
ALTER TABLE conversations ADD COLUMN hidden_upto INTEGER NOT NULL DEFAULT 0;

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
