-- Brokers (TURN relays) added by administrators; built-in ones (the embedded
-- relay, `--broker` flags) come from the server's configuration instead.
-- Which broker a live session uses is kept in memory, like its signalling.

CREATE TABLE brokers (
    id          TEXT PRIMARY KEY,
    urls        TEXT NOT NULL, -- JSON array of turn:/turns: URLs
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL
);
