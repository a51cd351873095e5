-- The delivery queue writes less per message (a broadcast to 100,000 devices writes each
-- delivery three times: queued, leased, sent).
--
-- No foreign key from deliveries to notifications: its check ran a query and locked the
-- notification for every delivery queued (12% of the server's time in a broadcast).
-- Erasure removes a person's deliveries itself (privacy::erase), and the fall-back to
-- the next channel locks the notifications it queues for, as the key check did.
ALTER TABLE push_deliveries DROP CONSTRAINT push_deliveries_notification_id_fkey;

-- Each status the worker looks for has its own partial index, so a delivery is in the
-- index of the state it is in and leaves it when it moves on; a sent one is in none.
-- The queries name the status as a word (push::queue), which is what lets PostgreSQL
-- choose these indexes with any plan.
DROP INDEX push_deliveries_due;
CREATE INDEX push_deliveries_pending ON push_deliveries (due_at) WHERE status = 'pending';
CREATE INDEX push_deliveries_leased ON push_deliveries (leased_until) WHERE status = 'leased';
CREATE INDEX push_deliveries_failed ON push_deliveries (id) WHERE status = 'failed';

-- Only notifications still waiting (quiet hours, reminders) are looked up by when they
-- fall due; a broadcast's notifications are written already delivered.
DROP INDEX notifications_due;
CREATE INDEX notifications_due ON notifications (due_at) WHERE status = 'scheduled';
