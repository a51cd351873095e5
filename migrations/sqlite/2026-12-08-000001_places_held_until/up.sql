-- Until when an enrollment counts against its person's limits (models::seats): a seat
-- until its session ends, a waitlist place until the session starts, nothing once the
-- session is cancelled. Kept with the session's times and status and with a promotion
-- (a place that becomes a seat counts until the end), so the count at every enrollment
-- reads only the person's places that still count, from one index, without visiting
-- each place's session: it was a lookup per place ever held.
ALTER TABLE enrollments ADD COLUMN holds_until TIMESTAMP;
UPDATE enrollments SET holds_until = (
    SELECT CASE
        WHEN s.status <> 'scheduled' THEN NULL
        WHEN enrollments.status = 'confirmed' THEN s.ends_at
        WHEN enrollments.status = 'waitlisted' THEN s.starts_at
    END
    FROM course_sessions s WHERE s.id = enrollments.session_id
);
DROP INDEX enrollments_held;
DROP INDEX course_sessions_open;
CREATE INDEX enrollments_holding ON enrollments (user_id, status, holds_until);
