-- Accounts, login sessions (refresh-token families) and the failed-login log.
-- Times are UTC, written by the application with microsecond precision.
CREATE TABLE users (
    id                TEXT PRIMARY KEY NOT NULL,
    phone             TEXT UNIQUE,
    email             TEXT UNIQUE,
    password_hash     TEXT NOT NULL,
    display_name      TEXT NOT NULL,
    role              TEXT NOT NULL DEFAULT 'resident' CHECK (role IN ('resident', 'staff', 'admin')),
    locale            TEXT NOT NULL DEFAULT 'th' CHECK (locale IN ('th', 'en')),
    home_lat          DOUBLE,
    home_lon          DOUBLE,
    province          TEXT,
    quiet_hours_start TEXT,
    quiet_hours_end   TEXT,
    reminders_enabled BOOLEAN NOT NULL DEFAULT 1,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    -- Set when the person erased their account (PDPA): personal data is gone, the row
    -- stays so past attendance still counts in reports.
    deleted_at        TIMESTAMP,
    CHECK (phone IS NOT NULL OR email IS NOT NULL OR deleted_at IS NOT NULL)
);

CREATE TABLE auth_sessions (
    id             TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     TIMESTAMP NOT NULL,
    last_used_at   TIMESTAMP NOT NULL,
    revoked_at     TIMESTAMP,
    revoked_reason TEXT,
    user_agent     TEXT
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
    issued_at  TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE login_failures (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    login_key TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (login_key, failed_at);
CREATE INDEX login_failures_time ON login_failures (failed_at);
