//! Database code: plain functions on a connection, knowing nothing of HTTP.

pub mod login_throttle;
pub mod sessions;
pub mod users;
