//! Database code: plain functions on a connection, knowing nothing of HTTP.

/// `INSERT … ON CONFLICT DO NOTHING`, which diesel builds per backend.
macro_rules! insert_or_keep {
    ($conn:expr, $table:expr, $values:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite(c) => diesel::insert_into($table)
                .values($values)
                .on_conflict_do_nothing()
                .execute(c),
            $crate::db::DbConn::Postgres(c) => diesel::insert_into($table)
                .values($values)
                .on_conflict_do_nothing()
                .execute(c),
        }
    };
}
pub(crate) use insert_or_keep;

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
mod seat_statements;
pub mod seats;
pub mod users;
