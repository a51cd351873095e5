//! The two statements every enrollment runs, written out so each is one round trip that
//! the connection keeps prepared. Through diesel's query builder the look was three
//! statements, and the take an `UPDATE` and an `INSERT` with a default, which diesel
//! prepares afresh on every run (on PostgreSQL a round trip more each).
//!
//! When a popular course opens, every create of it waits its turn for the session (its
//! row lock on PostgreSQL, where they run one after another in the session's writer
//! lane; SQLite's one writer), so the statements each create runs set the pace of the
//! storm:
//!
//! - `FirstLook` (both backends): the session, whether the person is already enrolled in
//!   it, and what they hold against the limits, in one `SELECT`;
//! - `TakeAndEnroll` (PostgreSQL): the seat counter (or waitlist ticket) and the new
//!   enrollment in one data-modifying `WITH`, which takes the session's row lock. SQLite
//!   cannot modify data in a `WITH` clause; there `seats::record` runs the two statements.

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, Text, Timestamp};

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

/// What the person's own rows decide about enrolling `user_id` in `session_id`, read
/// before the session is locked: the session (if there is one), whether the person holds
/// a live enrollment in it, their confirmed seats in sessions not yet ended and their
/// waitlist places in sessions not yet started (what `upcoming_enrollments` and
/// `waitlisted` limit).
pub(crate) struct FirstLook<'a> {
    pub session_id: &'a str,
    pub user_id: &'a str,
    pub now: NaiveDateTime,
}

/// What `FirstLook` saw.
pub(crate) struct Looked {
    pub session: CourseSession,
    pub enrolled: bool,
    pub seats: i64,
    pub places: i64,
}

impl<DB> QueryFragment<DB> for FirstLook<'_>
where
    DB: Backend,
    str: ToSql<Text, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
    <course_sessions::table as Table>::AllColumns: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let scheduled = SessionStatus::Scheduled.as_str();
        out.push_sql("SELECT ");
        course_sessions::all_columns.walk_ast(out.reborrow())?;
        // The words as the partial indexes' own tests (`enrollments_one_live`).
        out.push_sql(", EXISTS (SELECT 1 FROM enrollments e WHERE e.session_id = ");
        out.push_bind_param::<Text, str>(self.session_id)?;
        out.push_sql(" AND e.user_id = ");
        out.push_bind_param::<Text, str>(self.user_id)?;
        out.push_sql(" AND e.status <> '");
        out.push_sql(EnrollmentStatus::Cancelled.as_str());
        out.push_sql("')");
        for (status, until) in [
            (EnrollmentStatus::Confirmed, "ends_at"),
            (EnrollmentStatus::Waitlisted, "starts_at"),
        ] {
            out.push_sql(
                ", (SELECT COUNT(*) FROM enrollments e \
                 INNER JOIN course_sessions s ON s.id = e.session_id WHERE e.user_id = ",
            );
            out.push_bind_param::<Text, str>(self.user_id)?;
            out.push_sql(" AND e.status = '");
            out.push_sql(status.as_str());
            out.push_sql("' AND s.status = '");
            out.push_sql(scheduled);
            out.push_sql("' AND s.");
            out.push_sql(until);
            out.push_sql(" > ");
            out.push_bind_param::<Timestamp, _>(&self.now)?;
            out.push_sql(")");
        }
        out.push_sql(" FROM course_sessions WHERE course_sessions.id = ");
        out.push_bind_param::<Text, str>(self.session_id)?;
        Ok(())
    }
}

// One fixed text: cached under it.
impl QueryId for FirstLook<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for FirstLook<'_> {
    type SqlType = (
        diesel::dsl::SqlTypeOf<<course_sessions::table as Table>::AllColumns>,
        Bool,
        BigInt,
        BigInt,
    );
}

impl<Conn> RunQueryDsl<Conn> for FirstLook<'_> {}

impl FirstLook<'_> {
    /// Runs the look: nothing if there is no such session.
    pub fn run(self, conn: &mut crate::db::DbConn) -> QueryResult<Option<Looked>> {
        let row: Option<(CourseSession, bool, i64, i64)> = self.get_result(conn).optional()?;
        Ok(row.map(|(session, enrolled, seats, places)| Looked {
            session,
            enrolled,
            seats,
            places,
        }))
    }
}
