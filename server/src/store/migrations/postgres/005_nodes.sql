-- Several nodes on one database (issue 12): each node's heartbeat, and which nodes hold a socket
-- of which user (a user is online while any node does). PostgreSQL only: a SQLite file has one
-- node.
CREATE TABLE nodes (
    node TEXT PRIMARY KEY,
    beat_at BIGINT NOT NULL
);
CREATE TABLE presence (
    uid TEXT NOT NULL,
    node TEXT NOT NULL,
    PRIMARY KEY (uid, node)
);
CREATE INDEX presence_by_node ON presence (node);
