-- Every unsafe request may carry an Idempotency-Key now, anonymous ones (sign-up) too, so
-- a key belongs to an owner: a user's ID, or a keyed hash of an anonymous caller's address.
-- A row whose status_code is 0 is a request still in progress (its key is reserved).
ALTER TABLE idempotency_keys DROP CONSTRAINT IF EXISTS idempotency_keys_user_id_fkey;
ALTER TABLE idempotency_keys RENAME COLUMN user_id TO owner;
