-- What a person holds, counted at every enrollment against the limits (models::seats):
-- their seats or waitlist places, then each one's session (scheduled? not yet over?).
-- Read from these two indexes alone, without visiting either table's rows.
CREATE INDEX enrollments_held ON enrollments (user_id, status, session_id);
CREATE INDEX course_sessions_open ON course_sessions (id, status, starts_at, ends_at);
