DROP TABLE data_versions;
DROP TABLE idempotency_keys;
DROP TABLE enrollments;
DROP TABLE course_sessions;
DROP TABLE courses;
DROP TABLE center_staff;
DROP TABLE centers;
