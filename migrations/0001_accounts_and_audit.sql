-- Accounts, login sessions and the hash-chained audit log.
-- Portable SQL: the same file runs on SQLite and PostgreSQL through sqlx's
-- Any driver. Times are Unix milliseconds (BIGINT); flags are BIGINT 0/1.

CREATE TABLE users (
    id                   TEXT PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    role                 TEXT NOT NULL,
    password_hash        TEXT NOT NULL,
    must_change_password BIGINT NOT NULL DEFAULT 0,
    disabled_at          BIGINT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);

-- One row per login: the refresh token (stored only as a SHA-256 hash) and
-- whether the login was revoked. Access tokens name their login session, so
-- revoking it ends them at once.
CREATE TABLE login_sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    refresh_hash TEXT NOT NULL UNIQUE,
    source       TEXT,
    created_at   BIGINT NOT NULL,
    refreshed_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX login_sessions_user ON login_sessions (user_id);

-- Append-only. The server never updates or deletes rows here; each row's
-- hash covers its content and the previous row's hash.
CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor_id  TEXT,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT,
    source    TEXT,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_at ON audit_log (at);

-- The chain's head: updating this single row serialises appends (a row lock
-- on PostgreSQL, the write lock on SQLite).
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
