-- Mentions (issue 20): `<@uid:UID>` parsed when a message is stored. The message keeps its list
-- (JSON array, NULL when none); one row per mentioned user lets mark-read recount a
-- conversation's unread mentions from an index range, as it recounts unread messages.
ALTER TABLE messages ADD COLUMN mentions TEXT;
CREATE TABLE mentions (
    uid TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (uid, conversation_id, message_id)
) WITHOUT ROWID;
ALTER TABLE conversations ADD COLUMN unread_mentions INTEGER NOT NULL DEFAULT 0;
