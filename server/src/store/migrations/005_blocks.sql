-- Blocking (issue 20): nothing of `blocked` (messages, typing, calls) reaches `uid`.
CREATE TABLE blocks (
    uid TEXT NOT NULL REFERENCES users(uid),
    blocked TEXT NOT NULL REFERENCES users(uid),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (uid, blocked)
) WITHOUT ROWID;
-- A sender's blockers, looked up on every group message, typing indicator and call.
CREATE INDEX blocks_by_blocked ON blocks (blocked);
