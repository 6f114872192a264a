-- Broker sessions: a technician's connection code and the session a target
-- (not an enrolled agent) opens by redeeming it. The code is stored only as
-- a keyed hash (HMAC-SHA256 with a key in the data directory): nine digits
-- would fall to an offline search of a plain hash.

CREATE TABLE broker_sessions (
    id                      TEXT PRIMARY KEY,
    owner_id                TEXT NOT NULL REFERENCES users (id),
    code_hash               TEXT NOT NULL,
    -- CodeState::as_str(); `deadline` is expires_at or the acceptance deadline.
    status                  TEXT NOT NULL,
    deadline                BIGINT,
    wrong_guesses           BIGINT NOT NULL DEFAULT 0,
    -- The policy the code was issued under.
    lifetime_secs           BIGINT NOT NULL,
    max_wrong_guesses       BIGINT NOT NULL,
    acceptance_timeout_secs BIGINT NOT NULL,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL,
    -- Set by the redemption.
    session_id              TEXT UNIQUE,
    session_token_hash      TEXT UNIQUE,
    target_info             TEXT,
    broker                  TEXT,
    broker_address          TEXT
);
CREATE INDEX broker_sessions_code ON broker_sessions (code_hash);
CREATE INDEX broker_sessions_deadline ON broker_sessions (status, deadline);
CREATE INDEX broker_sessions_owner ON broker_sessions (owner_id, created_at);

-- A session's target is an enrolled agent or a broker session's target:
-- `agent_id` becomes nullable, so the table is rebuilt (SQLite cannot drop
-- NOT NULL in place).
DROP INDEX sessions_technician;
ALTER TABLE sessions RENAME TO sessions_before_0004;
CREATE TABLE sessions (
    id                TEXT PRIMARY KEY,
    technician_id     TEXT NOT NULL REFERENCES users (id),
    agent_id          TEXT REFERENCES agents (id),
    broker_session_id TEXT REFERENCES broker_sessions (id),
    state             TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    ended_at          BIGINT,
    end_reason        TEXT,
    CHECK (agent_id IS NOT NULL OR broker_session_id IS NOT NULL)
);
INSERT INTO sessions (id, technician_id, agent_id, state, created_at, ended_at, end_reason)
    SELECT id, technician_id, agent_id, state, created_at, ended_at, end_reason FROM sessions_before_0004;
DROP TABLE sessions_before_0004;
CREATE INDEX sessions_technician ON sessions (technician_id, created_at);
