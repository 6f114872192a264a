-- The mode the person at the computer accepted a session in (`monitor`,
-- …), when their agent said: the server holds later grants of the session
-- to it, and lists and timelines show it. NULL until then, and for agents
-- that name no mode.
ALTER TABLE sessions ADD COLUMN mode TEXT;
