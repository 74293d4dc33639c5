-- SQLite's migration 005 (issue 20's blocking) in PostgreSQL's terms.
-- Nothing of `blocked` (messages, typing, calls) reaches `uid`.
CREATE TABLE blocks (
    uid TEXT NOT NULL REFERENCES users(uid),
    blocked TEXT NOT NULL REFERENCES users(uid),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (uid, blocked)
);
-- A sender's blockers, looked up on every group message, typing indicator and call.
CREATE INDEX blocks_by_blocked ON blocks (blocked);
