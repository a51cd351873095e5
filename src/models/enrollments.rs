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
    /// Until when it counts against the person's limits: a seat until its session ends,
    /// a waitlist place until it starts; `None` once the session is cancelled
    /// (`seats::holds_until`).
    pub holds_until: Option<NaiveDateTime>,
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

/// `enrollments.status = '<status>'`, with the word written into the SQL, not bound
/// (`EnrollmentStatus::in_sql`).
///
/// A bound status hides from the planner whether the partial index
/// `enrollments_one_live` (`WHERE status <> 'cancelled'`) applies: SQLite, whose plans
/// never depend on bound values here (`SQLITE_ENABLE_QPSG`, `.cargo/config.toml`), would
/// read every enrollment of the session instead, hundreds when a popular course opens;
/// PostgreSQL's generic plans likewise use a partial index only for words in the SQL.
pub fn status_is(
    status: EnrollmentStatus,
) -> diesel::dsl::Eq<enrollments::status, crate::domain::SqlWord> {
    enrollments::status.eq(status.in_sql())
}

/// `enrollments.status <> 'cancelled'`, the test of `enrollments_one_live`'s WHERE (the
/// migrations), written as `status_is` is, so the planner answers from that index.
pub fn not_cancelled() -> diesel::dsl::NotEq<enrollments::status, crate::domain::SqlWord> {
    enrollments::status.ne(EnrollmentStatus::Cancelled.in_sql())
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

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::sqlite::{Sqlite, SqliteConnection};

    #[derive(QueryableByName)]
    struct PlanStep {
        #[diesel(sql_type = diesel::sql_types::Text)]
        detail: String,
    }

    /// The status words reach the SQL as the partial index's own test, so SQLite finds a
    /// person's live enrollment in `enrollments_one_live` instead of reading the
    /// session's every enrollment.
    #[test]
    fn a_live_enrollment_is_found_in_the_partial_index() {
        let mut conn = DbConn::Sqlite(SqliteConnection::establish(":memory:").unwrap());
        crate::db::run_migrations(&mut conn).unwrap();
        let query = enrollments::table
            .filter(enrollments::session_id.eq("s"))
            .filter(enrollments::user_id.eq("u"))
            .filter(not_cancelled())
            .select(enrollments::id);
        let sql = diesel::debug_query::<Sqlite, _>(&query).to_string();
        let sql = sql.split(" -- binds:").next().unwrap();
        assert!(sql.contains("'cancelled'"), "{sql}");
        let plan: Vec<PlanStep> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load(&mut conn)
            .unwrap();
        let plan: Vec<String> = plan.into_iter().map(|s| s.detail).collect();
        assert!(
            plan.iter().any(|d| d.contains("enrollments_one_live")),
            "{plan:?}"
        );
    }

    /// Statements cached by the connection, by their SQL text.
    #[derive(Clone, Default)]
    struct Cached(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    impl diesel::connection::Instrumentation for Cached {
        fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
            if let diesel::connection::InstrumentationEvent::CacheQuery { sql, .. } = event {
                self.0.lock().unwrap().push(sql.to_string());
            }
        }
    }

    /// A statement holding a status word is prepared once and reused, one statement per
    /// word: the look for a live enrollment runs on every create.
    #[test]
    fn status_words_keep_a_statement_prepared_one_per_word() {
        let mut conn = DbConn::Sqlite(SqliteConnection::establish(":memory:").unwrap());
        crate::db::run_migrations(&mut conn).unwrap();
        let cached = Cached::default();
        conn.set_instrumentation(cached.clone());
        // The look for a live enrollment (`FirstLook` has the same test).
        for _ in 0..3 {
            let live: Option<String> = enrollments::table
                .filter(enrollments::session_id.eq("s"))
                .filter(enrollments::user_id.eq("u"))
                .filter(not_cancelled())
                .select(enrollments::id)
                .first(&mut conn)
                .optional()
                .unwrap();
            assert!(live.is_none());
        }
        let count = |conn: &mut DbConn, status: EnrollmentStatus| -> i64 {
            enrollments::table
                .filter(status_is(status))
                .count()
                .get_result(conn)
                .unwrap()
        };
        for _ in 0..2 {
            assert_eq!(count(&mut conn, EnrollmentStatus::Waitlisted), 0);
            assert_eq!(count(&mut conn, EnrollmentStatus::Confirmed), 0);
        }
        let cached = cached.0.lock().unwrap().clone();
        assert_eq!(cached.len(), 3, "{cached:#?}");
        assert!(cached[1].contains("'waitlisted'") && cached[2].contains("'confirmed'"));
    }
}
