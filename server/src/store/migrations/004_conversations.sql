-- Conversations as each participant sees them (issue 20), kept current in the transaction that
-- stores each message: the list and the unread badges read these rows and never count messages.
CREATE TABLE conversations (
    uid TEXT NOT NULL REFERENCES users(uid),
    conversation_id TEXT NOT NULL,
    conversation_type TEXT NOT NULL,    -- 'user' or 'group'
    with_id TEXT NOT NULL,              -- the other user's uid, or the guid
    last_message_id INTEGER NOT NULL,
    unread_count INTEGER NOT NULL DEFAULT 0,
    last_read_id INTEGER NOT NULL DEFAULT 0,
    last_delivered_id INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    hidden INTEGER NOT NULL DEFAULT 0,  -- deleted for this user until the next message
    PRIMARY KEY (uid, conversation_id)
) WITHOUT ROWID;
-- The list, newest first, pages by last message id.
CREATE INDEX conversations_by_recency ON conversations (uid, last_message_id);

-- Existing history: one row per participant of every conversation with messages, everything
-- already read (a badge for old messages would be noise after an upgrade).
INSERT OR IGNORE INTO conversations (uid, conversation_id, conversation_type, with_id,
    last_message_id, unread_count, last_read_id, last_delivered_id, updated_at)
SELECT p.uid, p.conversation_id, 'user', p.other, MAX(p.id), 0, MAX(p.id), MAX(p.id), MAX(p.sent_at)
FROM (SELECT sender AS uid, receiver AS other, conversation_id, id, sent_at
        FROM messages WHERE receiver_type = 'user'
      UNION ALL
      SELECT receiver, sender, conversation_id, id, sent_at
        FROM messages WHERE receiver_type = 'user' AND receiver != sender) p
WHERE p.uid IN (SELECT uid FROM users)
GROUP BY p.uid, p.conversation_id;
INSERT OR IGNORE INTO conversations (uid, conversation_id, conversation_type, with_id,
    last_message_id, unread_count, last_read_id, last_delivered_id, updated_at)
SELECT gm.uid, 'group:' || gm.guid, 'group', gm.guid, x.last_id, 0, x.last_id, x.last_id, x.last_at
FROM group_members gm
JOIN (SELECT receiver AS guid, MAX(id) AS last_id, MAX(sent_at) AS last_at
        FROM messages WHERE receiver_type = 'group' GROUP BY receiver) x ON x.guid = gm.guid;
