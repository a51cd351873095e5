//! PostgreSQL's way of taking a place in a session: the seat counter (or waitlist ticket)
//! and the new enrollment in one statement, kept prepared.
//!
//! When a popular course opens, every create waits at the session's row lock, so what
//! runs while it is held sets the pace of the whole storm. Taking the place locks the
//! row; written as an `UPDATE` and then an `INSERT`, each of which diesel prepares afresh
//! (it never caches those), the lock was held through four round trips before the
//! commit. As one data-modifying `WITH` statement with a fixed text it is one round trip,
//! and the connection keeps it prepared. SQLite cannot modify data in a `WITH` clause;
//! there the writer thread runs the two statements (`seats::record`) and no row lock is
//! waited on.

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Text, Timestamp};

use crate::domain::{EnrollmentStatus, SessionStatus};
use crate::models::course_sessions::CourseSession;
use crate::schema::course_sessions;

/// Takes a seat (`seat`) or the next waitlist ticket in an open session and stores the
/// enrollment `enrollment_id` of `user_id` for it; returns the session as updated, or
/// nothing if the session is no longer open or no longer has what was asked for.
pub(crate) struct TakeAndEnroll<'a> {
    pub session_id: &'a str,
    pub seat: bool,
    pub enrollment_id: &'a str,
    pub user_id: &'a str,
    pub now: NaiveDateTime,
}

impl QueryFragment<Pg> for TakeAndEnroll<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH taken AS (UPDATE course_sessions SET ");
        out.push_sql(if self.seat {
            "seats_taken = seats_taken + 1"
        } else {
            "waitlist_seq = waitlist_seq + 1, waitlist_count = waitlist_count + 1"
        });
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<Text, str>(self.session_id)?;
        out.push_sql(" AND status = '");
        out.push_sql(SessionStatus::Scheduled.as_str());
        out.push_sql("' AND starts_at > ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        // Seats are only free while no one waits, so a newcomer never jumps the queue.
        out.push_sql(if self.seat {
            " AND seats_taken < capacity"
        } else {
            " AND seats_taken >= capacity"
        });
        out.push_sql(" RETURNING ");
        course_sessions::all_columns.walk_ast(out.reborrow())?;
        out.push_sql(
            "), enrolled AS (INSERT INTO enrollments \
             (id, session_id, user_id, status, waitlist_seq, created_at, updated_at) SELECT ",
        );
        out.push_bind_param::<Text, str>(self.enrollment_id)?;
        out.push_sql(", id, ");
        out.push_bind_param::<Text, str>(self.user_id)?;
        out.push_sql(", '");
        let (status, ticket) = if self.seat {
            (EnrollmentStatus::Confirmed, "NULL")
        } else {
            // The ticket just drawn: the session's counter after the update.
            (EnrollmentStatus::Waitlisted, "waitlist_seq")
        };
        out.push_sql(status.as_str());
        out.push_sql("', ");
        out.push_sql(ticket);
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(" FROM taken) SELECT * FROM taken");
        Ok(())
    }
}

// The text depends only on `seat`: two statements, each cached under its SQL text.
impl QueryId for TakeAndEnroll<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for TakeAndEnroll<'_> {
    type SqlType = diesel::dsl::SqlTypeOf<<course_sessions::table as Table>::AllColumns>;
}

impl<Conn> RunQueryDsl<Conn> for TakeAndEnroll<'_> {}

impl TakeAndEnroll<'_> {
    /// Runs the statement: the session as it is after the take, if taken.
    pub fn run(self, conn: &mut diesel::pg::PgConnection) -> QueryResult<Option<CourseSession>> {
        self.get_result::<CourseSession>(conn).optional()
    }
}
