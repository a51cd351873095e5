-- A console sign-in is a login session like an app's, so logout, role changes, erasure
-- and revocation end both the same way. The browser holds a random key in a cookie; only
-- its SHA-256 is stored (a database leak does not hand out sessions). App sessions leave
-- it empty.
ALTER TABLE auth_sessions ADD COLUMN console_key_hash TEXT;
CREATE UNIQUE INDEX auth_sessions_console_key ON auth_sessions (console_key_hash);
