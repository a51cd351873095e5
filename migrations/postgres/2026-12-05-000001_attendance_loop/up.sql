-- The attendance loop: a person says they are still coming, shows a ticket at the door,
-- follows their seats in a calendar and keeps a certificate of what they attended.
ALTER TABLE enrollments ADD COLUMN confirmed_at TIMESTAMP;

-- One check-in code per enrollment, made when the person first asks for the ticket.
CREATE TABLE tickets (
    code          TEXT PRIMARY KEY NOT NULL,
    enrollment_id TEXT NOT NULL UNIQUE REFERENCES enrollments (id) ON DELETE CASCADE,
    created_at    TIMESTAMP NOT NULL
);

-- One certificate per attended enrollment, issued when attendance is first recorded. It
-- stands while the enrollment is `attended` (a correction to no-show withdraws it, and a
-- correction back restores the same code). Names, courses and centers are read when
-- shown, so an erased person's certificate no longer names them.
CREATE TABLE certificates (
    code          TEXT PRIMARY KEY NOT NULL,
    enrollment_id TEXT NOT NULL UNIQUE REFERENCES enrollments (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issued_at     TIMESTAMP NOT NULL
);
CREATE INDEX certificates_user ON certificates (user_id);

-- A person's calendar feed: only the SHA-256 of its secret token is kept; a new token
-- replaces the old one.
CREATE TABLE calendar_feeds (
    user_id    TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
