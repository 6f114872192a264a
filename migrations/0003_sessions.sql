-- Remote sessions between a technician and an agent.

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    technician_id TEXT NOT NULL REFERENCES users (id),
    agent_id      TEXT NOT NULL REFERENCES agents (id),
    state         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    ended_at      BIGINT,
    end_reason    TEXT
);
CREATE INDEX sessions_technician ON sessions (technician_id, created_at);
