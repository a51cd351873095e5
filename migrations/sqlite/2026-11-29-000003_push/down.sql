DROP TABLE audit_log;
DROP TABLE broadcasts;
DROP TABLE push_deliveries;
DROP TABLE notifications;
DROP TABLE devices;
