DROP INDEX auth_sessions_console_key;
ALTER TABLE auth_sessions DROP COLUMN console_key_hash;
