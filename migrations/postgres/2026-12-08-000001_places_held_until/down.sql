DROP INDEX enrollments_holding;
ALTER TABLE enrollments DROP COLUMN holds_until;
CREATE INDEX enrollments_held ON enrollments (user_id, status, session_id);
CREATE INDEX course_sessions_open ON course_sessions (id, status, starts_at, ends_at);
