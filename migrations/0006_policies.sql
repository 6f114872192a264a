-- Session policies set by administrators. One row per policy kind (only
-- `session` so far), its body the JSON form of `tether_shared::policy`'s
-- type, so a field added later reads from older rows with its default.
-- No row means the built-in defaults.

CREATE TABLE policies (
    kind        TEXT PRIMARY KEY,
    body        TEXT NOT NULL,
    updated_by  TEXT NOT NULL REFERENCES users (id),
    updated_at  BIGINT NOT NULL
);

-- A broker session keeps the policy its code was issued under: whether its
-- target's user must accept (1) or not (0). Older rows asked nobody.
ALTER TABLE broker_sessions ADD COLUMN user_acceptance BIGINT NOT NULL DEFAULT 0;
