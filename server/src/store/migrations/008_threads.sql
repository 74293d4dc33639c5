-- Threads (issue 20): a parent message keeps its reply count and last reply time, updated in
-- each reply's transaction, so every read of the parent carries them without counting; the
-- thread's history pages by (parent_id, id).
ALTER TABLE messages ADD COLUMN reply_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN last_reply_at INTEGER;
-- Partial: a message that is not a reply (most) adds no index entry, one page less to write in
-- its commit.
CREATE INDEX messages_by_parent ON messages(parent_id, id) WHERE parent_id IS NOT NULL;
-- Existing replies.
UPDATE messages SET
    reply_count = (SELECT COUNT(*) FROM messages r WHERE r.parent_id = messages.id),
    last_reply_at = (SELECT MAX(r.sent_at) FROM messages r WHERE r.parent_id = messages.id)
WHERE id IN (SELECT parent_id FROM messages WHERE parent_id IS NOT NULL);
