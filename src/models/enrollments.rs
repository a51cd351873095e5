//! Enrollment in sessions: confirmed while seats last, then a FIFO waitlist whose head is
//! promoted, in the same transaction, whenever a seat frees up.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::config::Limits;
use crate::db::{self, DbConn};
use crate::domain::{EnrollmentStatus, SessionStatus};
use crate::models::course_sessions::{self, lock_session, CourseSession};
use crate::models::users::new_id;
use crate::schema::{course_sessions as sessions_t, enrollments, users};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = enrollments)]
pub struct Enrollment {
    pub id: String,
    pub session_id: String,
    pub user_id: String,
    pub status: EnrollmentStatus,
    pub waitlist_seq: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Why an enrollment was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum EnrollRefusal {
    SessionNotFound,
    /// Cancelled or completed.
    SessionNotOpen,
    SessionStarted,
    AlreadyEnrolled,
    /// The person already holds as many upcoming seats as one may.
    TooManyUpcoming,
    /// The person already waits on as many waitlists as one may.
    TooManyWaitlisted,
}

/// A new enrollment and, if waitlisted, its place in the queue (1 = next).
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub enrollment: Enrollment,
    pub waitlist_position: Option<i64>,
    /// The session as read under its lock (seat counts from before this enrollment).
    pub session: CourseSession,
}

/// Enrolls `user_id` in `session_id`: confirmed if a seat is free, waitlisted otherwise.
pub fn enroll(
    conn: &mut DbConn,
    session_id: &str,
    user_id: &str,
    limits: &Limits,
) -> QueryResult<Result<Enrolled, EnrollRefusal>> {
    let result = db::write_transaction(conn, |conn| {
        let now = db::now();
        // Two enrollments at once in different sessions must not both slip under the
        // limit. Person first, then session, as everywhere else.
        crate::models::users::lock(conn, user_id)?;
        if !lock_session(conn, session_id)? {
            return Ok(Err(EnrollRefusal::SessionNotFound));
        }
        let session =
            course_sessions::find(conn, session_id)?.ok_or(diesel::result::Error::NotFound)?;
        if session.status != SessionStatus::Scheduled {
            return Ok(Err(EnrollRefusal::SessionNotOpen));
        }
        if session.starts_at <= now {
            return Ok(Err(EnrollRefusal::SessionStarted));
        }
        if live_enrollment(conn, session_id, user_id)?.is_some() {
            return Ok(Err(EnrollRefusal::AlreadyEnrolled));
        }
        // Seats are only ever free while the waitlist is empty (a freed seat promotes the
        // head at once), so a newcomer never jumps the queue.
        let seat_free = session.seats_taken < session.capacity;
        let (held, limit, refusal) = if seat_free {
            let held = upcoming_seats(conn, user_id, now)?;
            (
                held,
                limits.upcoming_enrollments,
                EnrollRefusal::TooManyUpcoming,
            )
        } else {
            let held = waitlist_places(conn, user_id, now)?;
            (held, limits.waitlisted, EnrollRefusal::TooManyWaitlisted)
        };
        if held >= limit {
            return Ok(Err(refusal));
        }
        let (status, waitlist_seq) = if seat_free {
            diesel::update(sessions_t::table.find(session_id))
                .set(sessions_t::seats_taken.eq(sessions_t::seats_taken + 1))
                .execute(conn)?;
            (EnrollmentStatus::Confirmed, None)
        } else {
            let seq = session.waitlist_seq + 1;
            diesel::update(sessions_t::table.find(session_id))
                .set((
                    sessions_t::waitlist_seq.eq(seq),
                    sessions_t::waitlist_count.eq(sessions_t::waitlist_count + 1),
                ))
                .execute(conn)?;
            (EnrollmentStatus::Waitlisted, Some(seq))
        };
        let enrollment = Enrollment {
            id: new_id(),
            session_id: session_id.to_string(),
            user_id: user_id.to_string(),
            status,
            waitlist_seq,
            created_at: now,
            updated_at: now,
        };
        diesel::insert_into(enrollments::table)
            .values(&enrollment)
            .execute(conn)?;
        let waitlist_position = match waitlist_seq {
            Some(seq) => Some(waitlist_position(conn, session_id, seq)?),
            None => None,
        };
        Ok(Ok(Enrolled {
            enrollment,
            waitlist_position,
            session,
        }))
    });
    match result {
        // The unique index caught two simultaneous tries by one person.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(Err(EnrollRefusal::AlreadyEnrolled)),
        other => other,
    }
}

/// Confirmed seats of `user_id` in scheduled sessions that have not ended.
fn upcoming_seats(conn: &mut DbConn, user_id: &str, now: NaiveDateTime) -> QueryResult<i64> {
    enrollments::table
        .inner_join(sessions_t::table)
        .filter(enrollments::user_id.eq(user_id))
        .filter(enrollments::status.eq(EnrollmentStatus::Confirmed))
        .filter(sessions_t::status.eq(SessionStatus::Scheduled))
        .filter(sessions_t::ends_at.gt(now))
        .count()
        .get_result(conn)
}

/// Waitlist places of `user_id` in scheduled sessions that have not started.
fn waitlist_places(conn: &mut DbConn, user_id: &str, now: NaiveDateTime) -> QueryResult<i64> {
    enrollments::table
        .inner_join(sessions_t::table)
        .filter(enrollments::user_id.eq(user_id))
        .filter(enrollments::status.eq(EnrollmentStatus::Waitlisted))
        .filter(sessions_t::status.eq(SessionStatus::Scheduled))
        .filter(sessions_t::starts_at.gt(now))
        .count()
        .get_result(conn)
}

fn live_enrollment(
    conn: &mut DbConn,
    session_id: &str,
    user_id: &str,
) -> QueryResult<Option<Enrollment>> {
    enrollments::table
        .filter(enrollments::session_id.eq(session_id))
        .filter(enrollments::user_id.eq(user_id))
        .filter(enrollments::status.ne(EnrollmentStatus::Cancelled))
        .select(Enrollment::as_select())
        .first(conn)
        .optional()
}

/// 1-based place in the waitlist of the entry holding ticket `seq`.
pub fn waitlist_position(conn: &mut DbConn, session_id: &str, seq: i32) -> QueryResult<i64> {
    enrollments::table
        .filter(enrollments::session_id.eq(session_id))
        .filter(enrollments::status.eq(EnrollmentStatus::Waitlisted))
        .filter(enrollments::waitlist_seq.le(seq))
        .count()
        .get_result(conn)
}

/// Fills free seats from the head of the waitlist, oldest first. Call with the session
/// locked; returns the promoted enrollments (they are told by push).
pub fn promote_waitlist_heads(conn: &mut DbConn, session_id: &str) -> QueryResult<Vec<Enrollment>> {
    let mut promoted = Vec::new();
    loop {
        let session: CourseSession =
            course_sessions::find(conn, session_id)?.ok_or(diesel::result::Error::NotFound)?;
        if session.status != SessionStatus::Scheduled || session.seats_taken >= session.capacity {
            break;
        }
        let head: Option<Enrollment> = enrollments::table
            .filter(enrollments::session_id.eq(session_id))
            .filter(enrollments::status.eq(EnrollmentStatus::Waitlisted))
            .order(enrollments::waitlist_seq.asc())
            .select(Enrollment::as_select())
            .first(conn)
            .optional()?;
        let Some(mut head) = head else { break };
        let now = db::now();
        diesel::update(enrollments::table.find(&head.id))
            .set((
                enrollments::status.eq(EnrollmentStatus::Confirmed),
                enrollments::updated_at.eq(now),
            ))
            .execute(conn)?;
        diesel::update(sessions_t::table.find(session_id))
            .set((
                sessions_t::seats_taken.eq(sessions_t::seats_taken + 1),
                sessions_t::waitlist_count.eq(sessions_t::waitlist_count - 1),
            ))
            .execute(conn)?;
        head.status = EnrollmentStatus::Confirmed;
        head.updated_at = now;
        promoted.push(head);
    }
    Ok(promoted)
}

/// Why a cancellation was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum CancelRefusal {
    NotFound,
    AlreadyCancelled,
    /// Attendance was recorded, or the session has started.
    Closed,
}

/// The cancelled enrollment and whoever took the freed seat.
#[derive(Debug)]
pub struct Cancelled {
    pub enrollment: Enrollment,
    pub promoted: Vec<Enrollment>,
}

/// Cancels the caller's own enrollment; a freed seat goes to the waitlist head at once.
pub fn cancel_own(
    conn: &mut DbConn,
    enrollment_id: &str,
    user_id: &str,
) -> QueryResult<Result<Cancelled, CancelRefusal>> {
    db::write_transaction(conn, |conn| {
        let find_own = |conn: &mut DbConn| {
            enrollments::table
                .find(enrollment_id)
                .filter(enrollments::user_id.eq(user_id))
                .select(Enrollment::as_select())
                .first(conn)
                .optional()
        };
        let Some(first_look) = find_own(conn)? else {
            return Ok(Err(CancelRefusal::NotFound));
        };
        lock_session(conn, &first_look.session_id)?;
        // Read again under the lock: a promotion may have changed it meanwhile.
        let Some(mut enrollment) = find_own(conn)? else {
            return Ok(Err(CancelRefusal::NotFound));
        };
        let session = course_sessions::find(conn, &enrollment.session_id)?
            .ok_or(diesel::result::Error::NotFound)?;
        let now = db::now();
        match enrollment.status {
            EnrollmentStatus::Cancelled => return Ok(Err(CancelRefusal::AlreadyCancelled)),
            EnrollmentStatus::Attended | EnrollmentStatus::NoShow => {
                return Ok(Err(CancelRefusal::Closed))
            }
            _ if session.starts_at <= now && session.status == SessionStatus::Scheduled => {
                return Ok(Err(CancelRefusal::Closed))
            }
            _ => {}
        }
        let was_confirmed = enrollment.status == EnrollmentStatus::Confirmed;
        diesel::update(enrollments::table.find(enrollment_id))
            .set((
                enrollments::status.eq(EnrollmentStatus::Cancelled),
                enrollments::updated_at.eq(now),
            ))
            .execute(conn)?;
        if was_confirmed {
            diesel::update(sessions_t::table.find(&enrollment.session_id))
                .set(sessions_t::seats_taken.eq(sessions_t::seats_taken - 1))
                .execute(conn)?;
        } else {
            diesel::update(sessions_t::table.find(&enrollment.session_id))
                .set(sessions_t::waitlist_count.eq(sessions_t::waitlist_count - 1))
                .execute(conn)?;
        }
        let promoted = promote_waitlist_heads(conn, &enrollment.session_id)?;
        enrollment.status = EnrollmentStatus::Cancelled;
        enrollment.updated_at = now;
        Ok(Ok(Cancelled {
            enrollment,
            promoted,
        }))
    })
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Enrollment>> {
    enrollments::table
        .find(id)
        .select(Enrollment::as_select())
        .first(conn)
        .optional()
}

/// Why attendance could not be recorded.
#[derive(Debug, PartialEq, Eq)]
pub enum AttendanceRefusal {
    NotFound,
    /// Only confirmed seats attend (not waitlisted or cancelled ones).
    NotConfirmed,
    SessionCancelled,
}

/// Records `attended` or `no_show` for a confirmed enrollment (and may correct it later).
pub fn mark_attendance(
    conn: &mut DbConn,
    id: &str,
    status: EnrollmentStatus,
) -> QueryResult<Result<Enrollment, AttendanceRefusal>> {
    db::write_transaction(conn, |conn| {
        let Some(current) = find(conn, id)? else {
            return Ok(Err(AttendanceRefusal::NotFound));
        };
        lock_session(conn, &current.session_id)?;
        let Some(current) = find(conn, id)? else {
            return Ok(Err(AttendanceRefusal::NotFound));
        };
        if !(current.status == EnrollmentStatus::Confirmed || current.status.is_attendance()) {
            return Ok(Err(AttendanceRefusal::NotConfirmed));
        }
        let session = course_sessions::find(conn, &current.session_id)?
            .ok_or(diesel::result::Error::NotFound)?;
        if session.status == SessionStatus::Cancelled {
            return Ok(Err(AttendanceRefusal::SessionCancelled));
        }
        diesel::update(enrollments::table.find(id))
            .set((
                enrollments::status.eq(status),
                enrollments::updated_at.eq(db::now()),
            ))
            .execute(conn)?;
        Ok(Ok(find(conn, id)?.ok_or(diesel::result::Error::NotFound)?))
    })
}

/// One line of a session's roster.
#[derive(Debug, Clone, Queryable)]
pub struct RosterEntry {
    pub enrollment: Enrollment,
    pub display_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// Everyone enrolled in a session (cancelled ones excluded): seats first in enrollment
/// order, then the waitlist in queue order.
pub fn roster(conn: &mut DbConn, session_id: &str) -> QueryResult<Vec<RosterEntry>> {
    let mut rows: Vec<RosterEntry> = enrollments::table
        .inner_join(users::table)
        .filter(enrollments::session_id.eq(session_id))
        .filter(enrollments::status.ne(EnrollmentStatus::Cancelled))
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
    user_id: &str,
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
