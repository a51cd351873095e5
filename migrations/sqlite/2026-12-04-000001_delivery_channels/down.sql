ALTER TABLE push_deliveries DROP COLUMN channel;
ALTER TABLE push_deliveries RENAME COLUMN address TO device_token;
