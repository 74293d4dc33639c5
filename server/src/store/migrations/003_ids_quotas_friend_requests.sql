-- Ids are unique regardless of ASCII case: `ALICE` beside `alice` is refused (issue 16).
-- A trigger rather than a UNIQUE index, so a database that already holds two ids differing
-- only in case still migrates: those rows stay as they are and keep working, and only new
-- inserts are checked. RAISE(IGNORE) skips the row, which `INSERT OR IGNORE` reports as
-- "already exists". The NOCASE indexes keep the check an index lookup.
CREATE INDEX users_uid_nocase ON users (uid COLLATE NOCASE);
CREATE TRIGGER users_uid_nocase_unique BEFORE INSERT ON users
WHEN EXISTS (SELECT 1 FROM users WHERE uid = NEW.uid COLLATE NOCASE)
BEGIN
    SELECT RAISE(IGNORE);
END;
CREATE INDEX groups_guid_nocase ON groups (guid COLLATE NOCASE);
CREATE TRIGGER groups_guid_nocase_unique BEFORE INSERT ON groups
WHEN EXISTS (SELECT 1 FROM groups WHERE guid = NEW.guid COLLATE NOCASE)
BEGIN
    SELECT RAISE(IGNORE);
END;
CREATE INDEX groups_by_owner ON groups (owner);

-- Friendship needs both sides (issue 16): a user's ask waits here until the other asks back
-- (accept) or either side removes it (decline, cancel). The backend (API key) still creates
-- friendships directly.
CREATE TABLE friend_requests (
    from_uid TEXT NOT NULL REFERENCES users(uid),
    to_uid TEXT NOT NULL REFERENCES users(uid),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (from_uid, to_uid)
) WITHOUT ROWID;
CREATE INDEX friend_requests_to ON friend_requests (to_uid);
