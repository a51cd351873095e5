DROP INDEX notifications_due;
CREATE INDEX notifications_due ON notifications (status, due_at);
DROP INDEX push_deliveries_failed;
DROP INDEX push_deliveries_leased;
DROP INDEX push_deliveries_pending;
CREATE INDEX push_deliveries_due ON push_deliveries (status, due_at);
DELETE FROM push_deliveries d WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.id = d.notification_id);
ALTER TABLE push_deliveries ADD CONSTRAINT push_deliveries_notification_id_fkey
    FOREIGN KEY (notification_id) REFERENCES notifications (id) ON DELETE CASCADE;
