-- A session's timeline looks entries up by target (the session, its
-- broker session).
CREATE INDEX audit_log_target ON audit_log (target, seq);

-- The host name a broker session's target gave, beside its whole
-- description (target_info, JSON), so the audit log can name it in portable
-- SQL. Rows redeemed before this migration keep NULL: the log shows their
-- ids.
ALTER TABLE broker_sessions ADD COLUMN target_hostname TEXT;
