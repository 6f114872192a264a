-- Agent enrollment: admins issue enrollment tokens; an agent trades one for
-- its own credential. Secrets are stored only as SHA-256 hashes.

CREATE TABLE enrollment_tokens (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    label       TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    max_uses    BIGINT NOT NULL,
    uses        BIGINT NOT NULL DEFAULT 0,
    revoked_at  BIGINT
);

CREATE TABLE agents (
    id               TEXT PRIMARY KEY,
    credential_hash  TEXT NOT NULL UNIQUE,
    enrollment_token TEXT NOT NULL REFERENCES enrollment_tokens (id),
    hostname         TEXT NOT NULL,
    info             TEXT NOT NULL,
    enrolled_at      BIGINT NOT NULL,
    last_seen_at     BIGINT,
    revoked_at       BIGINT
);
