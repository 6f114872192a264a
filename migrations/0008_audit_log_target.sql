-- A session's timeline looks entries up by target (the session, its
-- broker session).
CREATE INDEX audit_log_target ON audit_log (target, seq);
