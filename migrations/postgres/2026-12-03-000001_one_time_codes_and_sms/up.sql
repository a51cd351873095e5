-- One-time sign-in codes sent by SMS. Only an HMAC of the code (under the server's
-- secret, bound to the phone) is kept. A code is live until it expires, is used, is
-- burned by too many wrong tries, or a newer one for the same phone replaces it.
CREATE TABLE otp_codes (
    id          BIGSERIAL PRIMARY KEY,
    phone       TEXT NOT NULL,
    code_hash   TEXT NOT NULL,
    wrong_tries INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    -- When it stopped being live: used, burned or replaced (why, in `ended_by`).
    ended_at    TIMESTAMP,
    ended_by    TEXT CHECK (ended_by IN ('used', 'burned', 'replaced'))
);
CREATE INDEX otp_codes_phone ON otp_codes (phone, created_at);

-- Text messages waiting to go out, sent by the worker (never by a request handler):
-- claimed with a lease, retried with backoff, and taken over after a crash.
CREATE TABLE sms_messages (
    id           BIGSERIAL PRIMARY KEY,
    to_phone     TEXT NOT NULL,
    body         TEXT NOT NULL,
    -- What it is for (`otp`, `notice`), for figures and logs.
    purpose      TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'leased', 'sent', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    due_at       TIMESTAMP NOT NULL,
    leased_until TIMESTAMP,
    -- Not worth sending after this (a sign-in code past its 10 minutes).
    expires_at   TIMESTAMP,
    -- The provider's ID of the sent message (Twilio's SID).
    provider_id  TEXT,
    last_error   TEXT,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX sms_messages_due ON sms_messages (status, due_at);
