//! Database code: plain functions on a connection, knowing nothing of HTTP.

pub mod attendance;
pub mod audit;
pub mod broadcasts;
pub mod centers;
pub mod course_sessions;
pub mod courses;
pub mod devices;
pub mod enrollments;
pub mod idempotency;
pub mod login_throttle;
pub mod logins;
pub mod notifications;
pub mod rate_limits;
pub mod reports;
pub mod seats;
pub mod users;
