DROP TABLE calendar_feeds;
DROP TABLE certificates;
DROP TABLE tickets;
ALTER TABLE enrollments DROP COLUMN confirmed_at;
