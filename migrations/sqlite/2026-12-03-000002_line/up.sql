-- A resident's LINE account (the LINE user ID the official account's webhook names),
-- linked by a code the resident sends in the chat. One LINE account per person.
CREATE TABLE line_links (
    user_id      TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    line_user_id TEXT NOT NULL UNIQUE,
    linked_at    TIMESTAMP NOT NULL
);

-- Codes waiting to be sent in the chat (only an HMAC of each), one live per person.
CREATE TABLE line_link_codes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX line_link_codes_hash ON line_link_codes (code_hash);
CREATE INDEX line_link_codes_user ON line_link_codes (user_id);
