-- Who ended a session (an account's username, "system", or the target),
-- for the sessions pages; the audit log holds the same in its entry.
ALTER TABLE sessions ADD COLUMN ended_by TEXT;
