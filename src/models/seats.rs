//! Seats: the one place that takes, counts and gives up seats in a course session and
//! moves its waitlist. A session is confirmed while seats last, then a FIFO waitlist whose
//! head is promoted, in the same transaction, whenever a seat frees up (a cancellation, a
//! seat given up at the desk, more capacity, an erasure).
//!
//! Locking rule: every change to a session's seats or enrollments first takes the
//! session's row lock (`course_sessions::lock`, or the update of `take_place`, which
//! locks the row as it writes it), after the person's (`users::lock`) where
//! both are needed, so on PostgreSQL such changes to one session are serialised in one
//! order and cannot deadlock; SQLite's immediate transactions serialise them anyway.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::config::Limits;
use crate::db::{self, DbConn};
use crate::domain::{CourseSessionId, EnrollmentId, EnrollmentStatus, SessionStatus, UserId};
use crate::models::attendance;
use crate::models::course_sessions::{self, CourseSession};
use crate::models::enrollments::{self as enrollment_rows, Enrollment};
use crate::models::users;
use crate::schema::{course_sessions as sessions_t, enrollments};

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
pub fn take(
    conn: &mut DbConn,
    session_id: &CourseSessionId,
    user_id: &UserId,
    limits: &Limits,
) -> QueryResult<Result<Enrolled, EnrollRefusal>> {
    // Joined, not nested: both callers give up their transaction on any error or refusal.
    let result = db::joined_write_transaction(conn, |conn| {
        let now = db::now();
        // Two enrollments at once in different sessions must not both slip under the
        // limit. Person first, then session, as everywhere else.
        users::lock(conn, user_id)?;
        // Most creates of a storm end here, in one statement that takes the session's
        // row lock only as it writes the row (which stores the enrollment too): every
        // create in a popular session waits at that one lock, so it is held for as little
        // as possible, through this statement and the commit.
        if let Some(enrolled) = enroll_at_once(conn, session_id, user_id, limits, now)? {
            return Ok(Ok(enrolled));
        }
        // What only the person's own rows decide (already enrolled? how much held?) is
        // read under the person's lock alone, before the session's.
        let look = super::seat_statements::FirstLook {
            session_id: session_id.as_str(),
            user_id: user_id.as_str(),
            now,
        }
        .run(conn)?;
        let Some(look) = look else {
            return Ok(Err(EnrollRefusal::SessionNotFound));
        };
        if let Some(refusal) = closed(&look.session, now) {
            return Ok(Err(refusal));
        }
        if look.enrolled {
            return Ok(Err(EnrollRefusal::AlreadyEnrolled));
        }
        let expected_free = look.session.seats_taken < look.session.capacity;
        let held_then = if expected_free {
            look.seats
        } else {
            look.places
        };
        // SQLite: the seat or place the first look promised, taken and stored (its one
        // writer changes nothing meanwhile). PostgreSQL tried this above.
        if !matches!(conn, DbConn::Postgres(_)) && held_then < limit(limits, expected_free).0 {
            if let Some(enrolled) = take_promised(conn, session_id, expected_free, user_id, now)? {
                return Ok(Ok(enrolled));
            }
        }
        // The person is at the limit for what the first look promised, or (PostgreSQL)
        // the session changed before its lock was taken: look again under the lock.
        if !course_sessions::lock(conn, session_id)? {
            return Ok(Err(EnrollRefusal::SessionNotFound));
        }
        let Some(session) = course_sessions::find(conn, session_id)? else {
            return Ok(Err(EnrollRefusal::SessionNotFound));
        };
        if let Some(refusal) = closed(&session, now) {
            return Ok(Err(refusal));
        }
        // Seats are only ever free while the waitlist is empty (a freed seat promotes the
        // head at once), so a newcomer never jumps the queue.
        let seat_free = session.seats_taken < session.capacity;
        let held = if seat_free == expected_free {
            held_then
        } else {
            held(conn, user_id, now, seat_free)?
        };
        let (limit, refusal) = limit(limits, seat_free);
        if held >= limit {
            return Ok(Err(refusal));
        }
        // Under the lock nothing changes meanwhile: this takes what was just read.
        let before = course_sessions::take_place(conn, session_id, seat_free, now)?
            .ok_or(diesel::result::Error::NotFound)?;
        record(conn, before, seat_free, user_id, now).map(Ok)
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

/// How many seats (`seat`) or waitlist places one may hold, and the refusal past it.
fn limit(limits: &Limits, seat: bool) -> (i64, EnrollRefusal) {
    if seat {
        (limits.upcoming_enrollments, EnrollRefusal::TooManyUpcoming)
    } else {
        (limits.waitlisted, EnrollRefusal::TooManyWaitlisted)
    }
}

/// Takes the seat (`seat`) or waitlist place the first look promised and stores the
/// enrollment, if the session still has it (SQLite: two statements).
fn take_promised(
    conn: &mut DbConn,
    session_id: &CourseSessionId,
    seat: bool,
    user_id: &UserId,
    now: NaiveDateTime,
) -> QueryResult<Option<Enrolled>> {
    match course_sessions::take_place(conn, session_id, seat, now)? {
        Some(before) => record(conn, before, seat, user_id, now).map(Some),
        None => Ok(None),
    }
}

/// The whole create in one statement (`seat_statements::Enroll`), if nothing stands in
/// its way; always nothing on SQLite, which cannot write in a `WITH`.
fn enroll_at_once(
    conn: &mut DbConn,
    session_id: &CourseSessionId,
    user_id: &UserId,
    limits: &Limits,
    now: NaiveDateTime,
) -> QueryResult<Option<Enrolled>> {
    let DbConn::Postgres(pg) = conn else {
        return Ok(None);
    };
    let id = EnrollmentId::generate();
    let taken = super::seat_statements::Enroll {
        session_id: session_id.as_str(),
        user_id: user_id.as_str(),
        enrollment_id: id.as_str(),
        now,
        seat_limit: limits.upcoming_enrollments,
        place_limit: limits.waitlisted,
    }
    .run(pg)?;
    let Some((mut before, seat)) = taken else {
        return Ok(None);
    };
    if seat {
        before.seats_taken -= 1;
    } else {
        before.waitlist_seq -= 1;
        before.waitlist_count -= 1;
    }
    let enrollment = new_enrollment(id, &before, seat, user_id, now);
    enrolled(conn, before, enrollment).map(Some)
}

/// The enrollment of `user_id` in the seat (`seat`) or the next waitlist place of a
/// session that was `before` just before it was taken.
fn new_enrollment(
    id: EnrollmentId,
    before: &CourseSession,
    seat: bool,
    user_id: &UserId,
    now: NaiveDateTime,
) -> Enrollment {
    let (status, waitlist_seq) = if seat {
        (EnrollmentStatus::Confirmed, None)
    } else {
        (EnrollmentStatus::Waitlisted, Some(before.waitlist_seq + 1))
    };
    Enrollment {
        id,
        session_id: before.id.clone(),
        user_id: user_id.clone(),
        status,
        waitlist_seq,
        created_at: now,
        updated_at: now,
        confirmed_at: None,
        holds_until: holds_until(before, status),
    }
}

/// Stores the enrollment of `user_id` in the seat (`seat`) or waitlist place just taken
/// in the session, which was `before` just before.
fn record(
    conn: &mut DbConn,
    before: CourseSession,
    seat: bool,
    user_id: &UserId,
    now: NaiveDateTime,
) -> QueryResult<Enrolled> {
    let enrollment = new_enrollment(EnrollmentId::generate(), &before, seat, user_id, now);
    diesel::insert_into(enrollments::table)
        .values(&enrollment)
        .execute(conn)?;
    enrolled(conn, before, enrollment)
}

/// What a stored enrollment came to, with its place in the waitlist.
fn enrolled(
    // Read only by the debug check of the waitlist count.
    #[cfg_attr(not(debug_assertions), allow(unused_variables))] conn: &mut DbConn,
    before: CourseSession,
    enrollment: Enrollment,
) -> QueryResult<Enrolled> {
    let waitlist_seq = enrollment.waitlist_seq;
    // Last in line: the session's count of waiting people, kept with every change of
    // the waitlist (counting the line instead reads all of it, hundreds of entries
    // when a popular course opens). Debug builds check the two agree.
    let position = waitlist_seq.map(|_| i64::from(before.waitlist_count) + 1);
    #[cfg(debug_assertions)]
    if let (Some(seq), Some(position)) = (waitlist_seq, position) {
        assert_eq!(
            waitlist_position(conn, &before.id, seq)?,
            position,
            "waitlist_count is out of step with the waitlist"
        );
    }
    Ok(Enrolled {
        enrollment,
        waitlist_position: position,
        session: before,
    })
}

/// Why no one may enroll in `session` now, if so.
fn closed(session: &CourseSession, now: NaiveDateTime) -> Option<EnrollRefusal> {
    if session.status != SessionStatus::Scheduled {
        Some(EnrollRefusal::SessionNotOpen)
    } else if session.starts_at <= now {
        Some(EnrollRefusal::SessionStarted)
    } else {
        None
    }
}

/// What the person holds that a new seat (`seat`: confirmed seats in scheduled sessions
/// not yet ended) or waitlist place (places in scheduled sessions not yet started)
/// counts against.
fn held(conn: &mut DbConn, user_id: &UserId, now: NaiveDateTime, seat: bool) -> QueryResult<i64> {
    let status = if seat {
        EnrollmentStatus::Confirmed
    } else {
        EnrollmentStatus::Waitlisted
    };
    enrollments::table
        .filter(enrollments::user_id.eq(user_id))
        .filter(enrollment_rows::status_is(status))
        .filter(enrollments::holds_until.gt(now))
        .count()
        .get_result(conn)
}

/// Until when an enrollment of `status` in `session` counts against its person's limits
/// (`held`): a seat until the session ends, a waitlist place until it starts, nothing
/// in a session no longer scheduled. Every change of these is written to the rows.
pub(crate) fn holds_until(
    session: &CourseSession,
    status: EnrollmentStatus,
) -> Option<NaiveDateTime> {
    match status {
        _ if session.status != SessionStatus::Scheduled => None,
        EnrollmentStatus::Confirmed => Some(session.ends_at),
        EnrollmentStatus::Waitlisted => Some(session.starts_at),
        _ => None,
    }
}

/// 1-based place in the waitlist of the entry holding ticket `seq`.
pub fn waitlist_position(
    conn: &mut DbConn,
    session_id: &CourseSessionId,
    seq: i32,
) -> QueryResult<i64> {
    enrollments::table
        .filter(enrollments::session_id.eq(session_id))
        .filter(enrollment_rows::status_is(EnrollmentStatus::Waitlisted))
        .filter(enrollments::waitlist_seq.le(seq))
        .count()
        .get_result(conn)
}

/// Fills free seats from the head of the waitlist, oldest first. Call with the session
/// locked; returns the promoted enrollments (they are told by push).
pub fn promote_waitlist_heads(
    conn: &mut DbConn,
    session_id: &CourseSessionId,
) -> QueryResult<Vec<Enrollment>> {
    let mut promoted = Vec::new();
    loop {
        let session: CourseSession =
            course_sessions::find(conn, session_id)?.ok_or(diesel::result::Error::NotFound)?;
        if session.status != SessionStatus::Scheduled || session.seats_taken >= session.capacity {
            break;
        }
        let head: Option<Enrollment> = enrollments::table
            .filter(enrollments::session_id.eq(session_id))
            .filter(enrollment_rows::status_is(EnrollmentStatus::Waitlisted))
            .order(enrollments::waitlist_seq.asc())
            .select(Enrollment::as_select())
            .first(conn)
            .optional()?;
        let Some(mut head) = head else { break };
        let now = db::now();
        let holds = holds_until(&session, EnrollmentStatus::Confirmed);
        diesel::update(enrollments::table.find(&head.id))
            .set((
                enrollments::status.eq(EnrollmentStatus::Confirmed),
                enrollments::updated_at.eq(now),
                enrollments::holds_until.eq(holds),
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
        head.holds_until = holds;
        promoted.push(head);
    }
    Ok(promoted)
}

/// Why a seat could not be given up.
#[derive(Debug, PartialEq, Eq)]
pub enum GiveUpRefusal {
    NotFound,
    AlreadyCancelled,
    /// Attendance was recorded, or the session has started.
    Closed,
}

/// The cancelled enrollment and whoever took the freed seat.
#[derive(Debug)]
pub struct GivenUp {
    pub enrollment: Enrollment,
    pub promoted: Vec<Enrollment>,
}

/// Gives up a seat or waitlist place (cancels the enrollment); a freed seat goes to the
/// waitlist head at once. With `owner`, only that person's enrollment is found (a
/// resident cancelling their own); without, any (staff at the desk, who were checked
/// before).
pub fn give_up(
    conn: &mut DbConn,
    enrollment_id: &EnrollmentId,
    owner: Option<&UserId>,
) -> QueryResult<Result<GivenUp, GiveUpRefusal>> {
    db::write_transaction(conn, |conn| {
        let find_own = |conn: &mut DbConn| {
            let mut query = enrollments::table
                .find(enrollment_id)
                .select(Enrollment::as_select())
                .into_boxed();
            if let Some(owner) = owner {
                query = query.filter(enrollments::user_id.eq(owner));
            }
            query.first(conn).optional()
        };
        let Some(first_look) = find_own(conn)? else {
            return Ok(Err(GiveUpRefusal::NotFound));
        };
        course_sessions::lock(conn, &first_look.session_id)?;
        // Read again under the lock: a promotion may have changed it meanwhile.
        let Some(mut enrollment) = find_own(conn)? else {
            return Ok(Err(GiveUpRefusal::NotFound));
        };
        let session = course_sessions::find(conn, &enrollment.session_id)?
            .ok_or(diesel::result::Error::NotFound)?;
        let now = db::now();
        match enrollment.status {
            EnrollmentStatus::Cancelled => return Ok(Err(GiveUpRefusal::AlreadyCancelled)),
            EnrollmentStatus::Attended | EnrollmentStatus::NoShow => {
                return Ok(Err(GiveUpRefusal::Closed))
            }
            _ if session.starts_at <= now && session.status == SessionStatus::Scheduled => {
                return Ok(Err(GiveUpRefusal::Closed))
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
        Ok(Ok(GivenUp {
            enrollment,
            promoted,
        }))
    })
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
    id: &EnrollmentId,
    status: EnrollmentStatus,
) -> QueryResult<Result<Enrollment, AttendanceRefusal>> {
    db::write_transaction(conn, |conn| {
        let Some(current) = enrollment_rows::find(conn, id)? else {
            return Ok(Err(AttendanceRefusal::NotFound));
        };
        course_sessions::lock(conn, &current.session_id)?;
        let Some(current) = enrollment_rows::find(conn, id)? else {
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
        let marked = enrollment_rows::find(conn, id)?.ok_or(diesel::result::Error::NotFound)?;
        // The certificate stands while the attendance does (its pages look at the
        // enrollment): corrected to a no-show and back, it is the same certificate.
        if status == EnrollmentStatus::Attended {
            attendance::issue_certificate(conn, &marked)?;
        }
        Ok(Ok(marked))
    })
}
