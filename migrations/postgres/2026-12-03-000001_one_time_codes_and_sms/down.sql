DROP TABLE sms_messages;
DROP TABLE otp_codes;
