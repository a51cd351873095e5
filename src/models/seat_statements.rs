//! The statements every enrollment runs, written out so each is one round trip that the
//! connection keeps prepared. Through diesel's query builder the look was three
//! statements, and the take an `UPDATE` and an `INSERT` with a default, which diesel
//! prepares afresh on every run (on PostgreSQL a round trip more each).
//!
//! When a popular course opens, every create of it waits its turn for the session (its
//! row lock on PostgreSQL, where they run one after another in the session's writer
//! lane; SQLite's one writer), so the statements each create runs set the pace of the
//! storm:
//!
//! - `Enroll` (PostgreSQL): the whole create in one data-modifying `WITH`: the look, the
//!   seat counter (or waitlist ticket), which takes the session's row lock, and the new
//!   enrollment. A create that nothing refuses is this one round trip.
//! - `FirstLook` (both backends): the session, whether the person is already enrolled in
//!   it, and what they hold against the limits, in one `SELECT`. On PostgreSQL it runs
//!   only when `Enroll` took nothing, to say why. SQLite cannot modify data in a `WITH`
//!   clause; there the look comes first and the take and the insert follow
//!   (`seats::take_promised`).

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

/// Enrolls `user_id` in `session_id` as `enrollment_id` (PostgreSQL) in one statement:
/// looks at the session and the person's own rows as `FirstLook` does, and if nothing
/// refuses, takes the seat (while one is free) or the next waitlist ticket and stores the
/// enrollment. Returns the session as updated and whether a seat was taken, or nothing if
/// anything stood in the way (then `FirstLook` and the locked path say what).
///
/// The look reads the statement's snapshot; the `UPDATE` then takes the session's row
/// lock and checks again, on the row as it is once locked, that the session is open and
/// still has a free seat exactly when the look saw one, so a change committed meanwhile
/// (a seat freed, the session cancelled) takes nothing. What the person holds cannot
/// change meanwhile: their row lock is held.
pub(crate) struct Enroll<'a> {
    pub session_id: &'a str,
    pub user_id: &'a str,
    pub enrollment_id: &'a str,
    pub now: NaiveDateTime,
    /// How many upcoming seats and waitlist places one may hold.
    pub seat_limit: i64,
    pub place_limit: i64,
}

impl QueryFragment<Pg> for Enroll<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH look AS (SELECT seats_taken < capacity AS free, ");
        push_enrolled(&mut out, self.session_id, self.user_id)?;
        out.push_sql(" AS enrolled FROM course_sessions WHERE id = ");
        out.push_bind_param::<Text, str>(self.session_id)?;
        out.push_sql("), held AS (SELECT free, enrolled, CASE WHEN free THEN ");
        push_held(&mut out, self.user_id, &self.now, true)?;
        out.push_sql(" ELSE ");
        push_held(&mut out, self.user_id, &self.now, false)?;
        out.push_sql(
            " END AS held FROM look), taken AS (UPDATE course_sessions SET \
             seats_taken = seats_taken + CASE WHEN held.free THEN 1 ELSE 0 END, \
             waitlist_seq = waitlist_seq + CASE WHEN held.free THEN 0 ELSE 1 END, \
             waitlist_count = waitlist_count + CASE WHEN held.free THEN 0 ELSE 1 END \
             FROM held WHERE course_sessions.id = ",
        );
        out.push_bind_param::<Text, str>(self.session_id)?;
        out.push_sql(" AND course_sessions.status = '");
        out.push_sql(SessionStatus::Scheduled.as_str());
        out.push_sql("' AND course_sessions.starts_at > ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        // Seats are only free while no one waits, so a newcomer never jumps the queue.
        out.push_sql(
            " AND NOT held.enrolled \
             AND (course_sessions.seats_taken < course_sessions.capacity) = held.free \
             AND held.held < CASE WHEN held.free THEN ",
        );
        out.push_bind_param::<BigInt, _>(&self.seat_limit)?;
        out.push_sql(" ELSE ");
        out.push_bind_param::<BigInt, _>(&self.place_limit)?;
        out.push_sql(" END RETURNING course_sessions.*, held.free AS seat), ");
        out.push_sql(
            "enrolled AS (INSERT INTO enrollments \
             (id, session_id, user_id, status, waitlist_seq, created_at, updated_at, \
             holds_until) SELECT ",
        );
        out.push_bind_param::<Text, str>(self.enrollment_id)?;
        out.push_sql(", id, ");
        out.push_bind_param::<Text, str>(self.user_id)?;
        out.push_sql(", CASE WHEN seat THEN '");
        out.push_sql(EnrollmentStatus::Confirmed.as_str());
        out.push_sql("' ELSE '");
        out.push_sql(EnrollmentStatus::Waitlisted.as_str());
        // A waitlisted person's ticket is the session's counter after the update.
        out.push_sql("' END, CASE WHEN seat THEN NULL ELSE waitlist_seq END, ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        // As `seats::holds_until` (the session is scheduled: the update saw it so).
        out.push_sql(", CASE WHEN seat THEN ends_at ELSE starts_at END");
        // Named as the table, so the columns read as diesel writes them.
        out.push_sql(" FROM taken) SELECT ");
        course_sessions::all_columns.walk_ast(out.reborrow())?;
        out.push_sql(", seat FROM taken AS course_sessions");
        Ok(())
    }
}

// One fixed text: cached under it.
impl QueryId for Enroll<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Enroll<'_> {
    type SqlType = (
        diesel::dsl::SqlTypeOf<<course_sessions::table as Table>::AllColumns>,
        Bool,
    );
}

impl<Conn> RunQueryDsl<Conn> for Enroll<'_> {}

impl Enroll<'_> {
    /// Runs the statement: the session as it is after the take and whether the take was
    /// a seat, if anything was taken.
    pub fn run(
        self,
        conn: &mut diesel::pg::PgConnection,
    ) -> QueryResult<Option<(CourseSession, bool)>> {
        self.get_result(conn).optional()
    }
}

/// Whether `user_id` holds a live enrollment in `session_id`, in the words of the
/// partial index `enrollments_one_live`.
fn push_enrolled<'b, DB>(
    out: &mut AstPass<'_, 'b, DB>,
    session_id: &'b str,
    user_id: &'b str,
) -> QueryResult<()>
where
    DB: Backend,
    str: ToSql<Text, DB>,
{
    out.push_sql("EXISTS (SELECT 1 FROM enrollments e WHERE e.session_id = ");
    out.push_bind_param::<Text, str>(session_id)?;
    out.push_sql(" AND e.user_id = ");
    out.push_bind_param::<Text, str>(user_id)?;
    out.push_sql(" AND e.status <> '");
    out.push_sql(EnrollmentStatus::Cancelled.as_str());
    out.push_sql("')");
    Ok(())
}

/// What `user_id` holds that a new seat (`seat`) or waitlist place counts against, as a
/// subquery: what `seats::held` counts.
fn push_held<'b, DB>(
    out: &mut AstPass<'_, 'b, DB>,
    user_id: &'b str,
    now: &'b NaiveDateTime,
    seat: bool,
) -> QueryResult<()>
where
    DB: Backend,
    str: ToSql<Text, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
{
    let status = if seat {
        EnrollmentStatus::Confirmed
    } else {
        EnrollmentStatus::Waitlisted
    };
    out.push_sql("(SELECT COUNT(*) FROM enrollments e WHERE e.user_id = ");
    out.push_bind_param::<Text, str>(user_id)?;
    out.push_sql(" AND e.status = '");
    out.push_sql(status.as_str());
    out.push_sql("' AND e.holds_until > ");
    out.push_bind_param::<Timestamp, _>(now)?;
    out.push_sql(")");
    Ok(())
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
        out.push_sql("SELECT ");
        course_sessions::all_columns.walk_ast(out.reborrow())?;
        out.push_sql(", ");
        push_enrolled(&mut out, self.session_id, self.user_id)?;
        for seat in [true, false] {
            out.push_sql(", ");
            push_held(&mut out, self.user_id, &self.now, seat)?;
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
