-- Failed logins are now recorded under a keyed hash of the login, not the login itself.
-- The rows kept so far name phones and e-mails in clear text (a stranger's typed login, an
-- erased account's e-mail): they go. They only ever throttle for 15 minutes.
DELETE FROM login_failures;
