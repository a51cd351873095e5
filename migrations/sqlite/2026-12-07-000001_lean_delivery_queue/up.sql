-- Nothing changes on SQLite. On PostgreSQL this migration drops the deliveries' foreign
-- key and gives each queue status its own partial index; SQLite's key check is one
-- lookup in the notifications' primary key, its one write lock leaves nothing to race,
-- and it keeps its (status, due_at) indexes.
SELECT 1;
