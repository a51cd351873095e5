//! Enrollment rows: a person's seat or waitlist place in a course session, and the reads
//! over them (rosters, a person's list). Taking and giving up seats is `models::seats`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::domain::{CourseSessionId, EnrollmentId, EnrollmentStatus, UserId};
use crate::models::course_sessions::CourseSession;
use crate::schema::{course_sessions as sessions_t, enrollments, users};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = enrollments)]
pub struct Enrollment {
    pub id: EnrollmentId,
    pub session_id: CourseSessionId,
    pub user_id: UserId,
    pub status: EnrollmentStatus,
    pub waitlist_seq: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When the person said they are still coming (the first reminder asks).
    pub confirmed_at: Option<NaiveDateTime>,
}

pub fn find(conn: &mut DbConn, id: &EnrollmentId) -> QueryResult<Option<Enrollment>> {
    enrollments::table
        .find(id)
        .select(Enrollment::as_select())
        .first(conn)
        .optional()
}

/// Records when the person said they are still coming.
pub fn mark_confirmed(
    conn: &mut DbConn,
    id: &EnrollmentId,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(enrollments::table.find(id))
        .set((
            enrollments::confirmed_at.eq(Some(at)),
            enrollments::updated_at.eq(at),
        ))
        .execute(conn)
}

/// A test of `enrollments.status` against one status with the word written into the SQL,
/// not bound (`status_is`, `not_cancelled`).
///
/// A bound status hides from the planner whether the partial index
/// `enrollments_one_live` (`WHERE status <> 'cancelled'`) applies: SQLite, whose plans
/// never depend on bound values here (`SQLITE_ENABLE_QPSG`, `.cargo/config.toml`), would
/// read every enrollment of the session instead, hundreds when a popular course opens;
/// PostgreSQL's generic plans likewise use a partial index only for words in the SQL.
/// The words come from the closed `EnrollmentStatus` set, so nothing from outside
/// reaches the SQL; each distinct test is one statement text, cached as any other.
#[derive(Debug, Clone, Copy)]
pub struct StatusTest {
    status: EnrollmentStatus,
    equal: bool,
}

/// `enrollments.status = '<status>'`, the word in the SQL (see `StatusTest`).
pub fn status_is(status: EnrollmentStatus) -> StatusTest {
    StatusTest {
        status,
        equal: true,
    }
}

/// `enrollments.status <> 'cancelled'`, in the same words as `enrollments_one_live`'s
/// WHERE (the migrations), so the planner answers from that index.
pub fn not_cancelled() -> StatusTest {
    StatusTest {
        status: EnrollmentStatus::Cancelled,
        equal: false,
    }
}

impl diesel::query_builder::QueryId for StatusTest {
    type QueryId = ();
    // The statement's text differs with the word: the cache keys it by its SQL.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::Expression for StatusTest {
    type SqlType = diesel::sql_types::Bool;
}

impl<QS> diesel::AppearsOnTable<QS> for StatusTest where
    enrollments::status: diesel::AppearsOnTable<QS>
{
}

impl diesel::expression::ValidGrouping<()> for StatusTest {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for StatusTest {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        out.push_sql("\"enrollments\".\"status\" ");
        out.push_sql(if self.equal { "= '" } else { "<> '" });
        out.push_sql(self.status.as_str());
        out.push_sql("'");
        Ok(())
    }
}

/// The person's enrollment in the session that is not cancelled, if any.
pub fn live_enrollment(
    conn: &mut DbConn,
    session_id: &CourseSessionId,
    user_id: &UserId,
) -> QueryResult<Option<Enrollment>> {
    enrollments::table
        .filter(enrollments::session_id.eq(session_id))
        .filter(enrollments::user_id.eq(user_id))
        .filter(not_cancelled())
        .select(Enrollment::as_select())
        .first(conn)
        .optional()
}

/// One line of a session's roster.
#[derive(Debug, Clone, Queryable)]
pub struct RosterEntry {
    pub enrollment: Enrollment,
    pub display_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// One enrollment as its roster line shows it.
pub fn roster_entry(conn: &mut DbConn, id: &EnrollmentId) -> QueryResult<Option<RosterEntry>> {
    enrollments::table
        .inner_join(users::table)
        .filter(enrollments::id.eq(id))
        .select((
            Enrollment::as_select(),
            users::display_name,
            users::phone,
            users::email,
        ))
        .first::<(Enrollment, String, Option<String>, Option<String>)>(conn)
        .optional()
        .map(|row| {
            row.map(|(enrollment, display_name, phone, email)| RosterEntry {
                enrollment,
                display_name,
                phone,
                email,
            })
        })
}

/// Everyone enrolled in a session (cancelled ones excluded): seats first in enrollment
/// order, then the waitlist in queue order.
pub fn roster(conn: &mut DbConn, session_id: &CourseSessionId) -> QueryResult<Vec<RosterEntry>> {
    let mut rows: Vec<RosterEntry> = enrollments::table
        .inner_join(users::table)
        .filter(enrollments::session_id.eq(session_id))
        .filter(not_cancelled())
        .select((
            Enrollment::as_select(),
            users::display_name,
            users::phone,
            users::email,
        ))
        .load::<(Enrollment, String, Option<String>, Option<String>)>(conn)?
        .into_iter()
        .map(|(enrollment, display_name, phone, email)| RosterEntry {
            enrollment,
            display_name,
            phone,
            email,
        })
        .collect();
    rows.sort_by(|a, b| {
        let key = |e: &Enrollment| {
            (
                e.status == EnrollmentStatus::Waitlisted,
                e.waitlist_seq.unwrap_or(0),
                e.created_at,
                e.id.clone(),
            )
        };
        key(&a.enrollment).cmp(&key(&b.enrollment))
    });
    Ok(rows)
}

/// A user's enrollments with their sessions: upcoming first (soonest first), then past
/// ones (most recent first).
pub fn of_user(
    conn: &mut DbConn,
    user_id: &UserId,
    now: NaiveDateTime,
) -> QueryResult<Vec<(Enrollment, CourseSession)>> {
    let mut rows: Vec<(Enrollment, CourseSession)> = enrollments::table
        .inner_join(sessions_t::table)
        .filter(enrollments::user_id.eq(user_id))
        .select((Enrollment::as_select(), CourseSession::as_select()))
        .load(conn)?;
    rows.sort_by(|(ea, a), (eb, b)| {
        let a_past = a.starts_at < now;
        let b_past = b.starts_at < now;
        a_past.cmp(&b_past).then_with(|| {
            if a_past {
                b.starts_at.cmp(&a.starts_at)
            } else {
                a.starts_at.cmp(&b.starts_at)
            }
            .then_with(|| ea.id.cmp(&eb.id))
        })
    });
    Ok(rows)
}
