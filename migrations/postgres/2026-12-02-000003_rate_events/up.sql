-- Events counted by per-caller limits (sign-ups per client address, and later one-time
-- codes per phone and per address). `key_hash` is an HMAC of what is limited, never the
-- address or phone itself.
CREATE TABLE rate_events (
    id        BIGSERIAL PRIMARY KEY,
    bucket    TEXT NOT NULL,
    key_hash  TEXT NOT NULL,
    at        TIMESTAMP NOT NULL
);
CREATE INDEX rate_events_key ON rate_events (bucket, key_hash, at);
CREATE INDEX rate_events_time ON rate_events (at);
