-- Keyed records cannot be turned back into logins; throttling starts afresh.
DELETE FROM login_failures;
