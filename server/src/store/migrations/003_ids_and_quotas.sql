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
