-- SQLite's migration 007 (issue 20's mentions) in PostgreSQL's terms.
ALTER TABLE messages ADD COLUMN mentions TEXT;
CREATE TABLE mentions (
    uid TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    message_id BIGINT NOT NULL,
    PRIMARY KEY (uid, conversation_id, message_id)
);
ALTER TABLE conversations ADD COLUMN unread_mentions BIGINT NOT NULL DEFAULT 0;
