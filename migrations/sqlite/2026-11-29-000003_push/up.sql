-- Push notifications: devices, the inbox (one row per notification per user, also the
-- schedule of what is still to be sent), and the delivery queue (one row per device).
CREATE TABLE devices (
    token        TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform     TEXT NOT NULL CHECK (platform IN ('android', 'ios', 'web')),
    locale       TEXT CHECK (locale IN ('th', 'en')),
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX devices_user ON devices (user_id);

CREATE TABLE notifications (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    -- The same logical notification is never queued twice (e.g. reminder:{enrollment}:{offset}).
    dedup_key    TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    -- JSON object of strings for the app (kind, session_id, ...).
    data         TEXT NOT NULL,
    collapse_key TEXT NOT NULL,
    -- Non-urgent notifications wait for the end of the user's quiet hours.
    urgent       BOOLEAN NOT NULL,
    due_at       TIMESTAMP NOT NULL,
    -- Not worth delivering after this (a reminder after its session started).
    expires_at   TIMESTAMP,
    status       TEXT NOT NULL CHECK (status IN ('scheduled', 'delivered', 'cancelled', 'dropped')),
    delivered_at TIMESTAMP,
    read_at      TIMESTAMP,
    broadcast_id TEXT,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX notifications_due ON notifications (status, due_at);
CREATE INDEX notifications_inbox ON notifications (user_id, status, delivered_at);
CREATE INDEX notifications_broadcast ON notifications (broadcast_id);

CREATE TABLE push_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id TEXT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    device_token    TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'leased', 'sent', 'failed', 'invalid_token', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    due_at          TIMESTAMP NOT NULL,
    leased_until    TIMESTAMP,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (notification_id, device_token)
);
CREATE INDEX push_deliveries_due ON push_deliveries (status, due_at);

-- Admin (and staff) broadcasts: expanded into one notification per user when due, in
-- batches whose progress is kept, so a killed worker resumes where it stopped.
CREATE TABLE broadcasts (
    id             TEXT PRIMARY KEY NOT NULL,
    created_by     TEXT NOT NULL REFERENCES users (id),
    audience_kind  TEXT NOT NULL CHECK (audience_kind IN ('all', 'province', 'center', 'course', 'session')),
    audience_value TEXT,
    title_th       TEXT NOT NULL,
    title_en       TEXT NOT NULL,
    body_th        TEXT NOT NULL,
    body_en        TEXT NOT NULL,
    send_at        TIMESTAMP NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('scheduled', 'sending', 'sent', 'cancelled')),
    -- Users are expanded in ID order; the last one done.
    expanded_until TEXT,
    targeted_users BIGINT NOT NULL DEFAULT 0,
    created_at     TIMESTAMP NOT NULL,
    finished_at    TIMESTAMP
);
CREATE INDEX broadcasts_due ON broadcasts (status, send_at);

-- What staff, admins and erasures did: who, what, when, which center. Never personal data
-- beyond the IDs.
CREATE TABLE audit_log (
    id         TEXT PRIMARY KEY NOT NULL,
    actor_id   TEXT NOT NULL,
    action     TEXT NOT NULL,
    target_id  TEXT,
    center_id  TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_created ON audit_log (created_at);
