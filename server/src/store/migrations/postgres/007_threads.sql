-- SQLite's migration 008 (issue 20's threads) in PostgreSQL's terms.
ALTER TABLE messages ADD COLUMN reply_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN last_reply_at BIGINT;
-- Partial: a message that is not a reply (most) adds no index entry, one page less to write in
-- its commit.
CREATE INDEX messages_by_parent ON messages(parent_id, id) WHERE parent_id IS NOT NULL;
UPDATE messages SET
    reply_count = (SELECT COUNT(*) FROM messages r WHERE r.parent_id = messages.id),
    last_reply_at = (SELECT MAX(r.sent_at) FROM messages r WHERE r.parent_id = messages.id)
WHERE id IN (SELECT parent_id FROM messages WHERE parent_id IS NOT NULL);
