-- Every unsafe request may carry an Idempotency-Key now, anonymous ones (sign-up) too, so
-- a key belongs to an owner: a user's ID, or a keyed hash of an anonymous caller's address.
-- A row whose status_code is 0 is a request still in progress (its key is reserved).
CREATE TABLE idempotency_answers (
    owner        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code  INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (owner, key)
);
INSERT INTO idempotency_answers (owner, key, request_hash, status_code, body, created_at)
    SELECT user_id, key, request_hash, status_code, body, created_at FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_answers RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
