-- Notifications reach people by more than FCM: each delivery says by which channel, and
-- its address is the device token (push), the LINE user ID (line) or the phone (sms).
ALTER TABLE push_deliveries RENAME COLUMN device_token TO address;
ALTER TABLE push_deliveries ADD COLUMN channel TEXT NOT NULL DEFAULT 'push'
    CHECK (channel IN ('push', 'line', 'sms'));
