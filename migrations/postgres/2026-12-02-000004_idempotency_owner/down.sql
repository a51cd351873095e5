DELETE FROM idempotency_keys WHERE owner NOT IN (SELECT id FROM users);
ALTER TABLE idempotency_keys RENAME COLUMN owner TO user_id;
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
