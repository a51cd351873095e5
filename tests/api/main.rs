//! Integration tests: the real server on a random port, over real HTTP, each test on a
//! fresh database. SQLite by default; PostgreSQL when `OCOD_TEST_DATABASE_URL` is set.

mod admin;
mod attendance;
mod auth;
mod authorization;
mod backup;
mod bad_input;
mod broadcasts;
mod caching;
mod centers;
mod channels;
mod cli;
mod concurrency;
mod console;
mod console_browser;
mod course_sessions;
mod crash;
mod delivery;
mod enrollment;
mod fcm;
mod helpers;
mod idempotency;
mod limits;
mod line;
mod me;
mod openapi;
mod otp;
mod owasp;
mod privacy;
mod push;
mod shutdown;
mod system;
mod tokens;
mod walk_ins;
mod writer;
