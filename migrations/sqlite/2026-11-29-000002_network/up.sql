-- The network: centers and their staff, the course catalogue, sessions and enrollments.
CREATE TABLE centers (
    id            TEXT PRIMARY KEY NOT NULL,
    code          TEXT NOT NULL UNIQUE,
    name_th       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    province      TEXT NOT NULL,
    district      TEXT NOT NULL,
    subdistrict   TEXT NOT NULL,
    lat           DOUBLE NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon           DOUBLE NOT NULL CHECK (lon BETWEEN -180 AND 180),
    status        TEXT NOT NULL CHECK (status IN ('active', 'under_construction', 'closed')),
    phone         TEXT,
    opening_hours TEXT,
    -- Lower-cased names and district, for text search in either language.
    search_text   TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX centers_province ON centers (province, id);
CREATE INDEX centers_lat ON centers (lat);

CREATE TABLE center_staff (
    center_id  TEXT NOT NULL REFERENCES centers (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (center_id, user_id)
);
CREATE INDEX center_staff_user ON center_staff (user_id);

CREATE TABLE courses (
    id               TEXT PRIMARY KEY NOT NULL,
    title_th         TEXT NOT NULL,
    title_en         TEXT NOT NULL,
    description_th   TEXT NOT NULL,
    description_en   TEXT NOT NULL,
    category         TEXT NOT NULL,
    level            TEXT NOT NULL CHECK (level IN ('beginner', 'intermediate', 'advanced')),
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0),
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);

CREATE TABLE course_sessions (
    id             TEXT PRIMARY KEY NOT NULL,
    center_id      TEXT NOT NULL REFERENCES centers (id),
    course_id      TEXT NOT NULL REFERENCES courses (id),
    starts_at      TIMESTAMP NOT NULL,
    ends_at        TIMESTAMP NOT NULL,
    capacity       INTEGER NOT NULL CHECK (capacity > 0),
    -- Confirmed seats, kept in step with enrollments in the same transaction; the
    -- conditional increment on this row is what makes overbooking impossible.
    seats_taken    INTEGER NOT NULL DEFAULT 0 CHECK (seats_taken >= 0 AND seats_taken <= capacity),
    waitlist_count INTEGER NOT NULL DEFAULT 0 CHECK (waitlist_count >= 0),
    -- Ever-increasing ticket number for the waitlist (FIFO order).
    waitlist_seq   INTEGER NOT NULL DEFAULT 0,
    instructor     TEXT,
    room           TEXT,
    status         TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled', 'completed')),
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    CHECK (starts_at < ends_at)
);
CREATE INDEX course_sessions_center ON course_sessions (center_id, starts_at);
CREATE INDEX course_sessions_course ON course_sessions (course_id, starts_at);
CREATE INDEX course_sessions_starts ON course_sessions (starts_at);

CREATE TABLE enrollments (
    id            TEXT PRIMARY KEY NOT NULL,
    session_id    TEXT NOT NULL REFERENCES course_sessions (id),
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status        TEXT NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'cancelled', 'attended', 'no_show')),
    waitlist_seq  INTEGER,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
-- One live enrollment per person and session; a cancelled one may be followed by another.
CREATE UNIQUE INDEX enrollments_one_live ON enrollments (session_id, user_id) WHERE status <> 'cancelled';
CREATE INDEX enrollments_waitlist ON enrollments (session_id, status, waitlist_seq);
CREATE INDEX enrollments_user ON enrollments (user_id, created_at);

-- Answers to POST requests that carried an Idempotency-Key, replayed on retry.
CREATE TABLE idempotency_keys (
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code  INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Bumped in the same transaction as every change to centers, so caches in any server
-- process can tell when their copy is stale.
CREATE TABLE data_versions (
    name    TEXT PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL
);
INSERT INTO data_versions (name, version) VALUES ('centers', 1);
