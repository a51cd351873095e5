//! Integration tests: the real server on a random port, over real HTTP, each test on a
//! fresh database. SQLite by default; PostgreSQL when `OCOD_TEST_DATABASE_URL` is set.

mod admin;
mod auth;
mod bad_input;
mod cli;
mod helpers;
mod me;
mod openapi;
mod system;
mod tokens;
