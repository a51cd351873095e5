DROP INDEX course_sessions_open;
DROP INDEX enrollments_held;
