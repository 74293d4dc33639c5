-- Fan-out without copies: an event's body is stored once and each recipient's log row refers to
-- it. Rows written before this migration keep their body inline in `payload`.
CREATE TABLE event_bodies (
    id INTEGER PRIMARY KEY,
    payload TEXT NOT NULL,          -- {"event": ..., "data": ...}
    refs INTEGER NOT NULL           -- log rows that refer to it; the prune drops it at 0
);

CREATE TABLE events_v2 (
    uid TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body_id INTEGER,                -- event_bodies.id, or NULL for an inline payload
    payload TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (uid, seq)
) WITHOUT ROWID;
INSERT INTO events_v2 (uid, seq, body_id, payload, created_at)
    SELECT uid, seq, NULL, payload, created_at FROM events;
DROP TABLE events;
ALTER TABLE events_v2 RENAME TO events;
