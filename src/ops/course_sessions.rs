//! Creating, changing and cancelling course sessions (staff of the session's center, or
//! admins). Changes that move or cancel a session tell everyone enrolled.

use chrono::NaiveDateTime;

use crate::db::{self, DbConn};
use crate::domain::{CenterId, CenterStatus, CourseId, CourseSessionId, SessionStatus};
use crate::error::{ApiError, FieldError};
use crate::i18n::Code;
use crate::models::course_sessions::{self, ChangeRefusal, CourseSession, SessionChange};
use crate::models::{audit, centers, courses, seats};
use crate::push::notify::{self, PushPolicy};

use super::Actor;

/// Largest number of seats a session may have.
pub const MAX_CAPACITY: i32 = 500;

/// A new session, its fields already parsed.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub course_id: CourseId,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub capacity: i32,
    pub instructor: Option<String>,
    pub room: Option<String>,
}

/// A capacity within 1..=`MAX_CAPACITY`.
pub fn parse_capacity(capacity: i32) -> Result<i32, Code> {
    if (1..=MAX_CAPACITY).contains(&capacity) {
        Ok(capacity)
    } else {
        Err(Code::OutOfRange)
    }
}

/// Start and end of a session: the start in the future, the end after it, at most a week.
pub fn check_times(starts_at: NaiveDateTime, ends_at: NaiveDateTime, errors: &mut Vec<FieldError>) {
    if starts_at <= db::now() {
        errors.push(FieldError::new("starts_at", Code::MustBeInFuture));
    }
    if ends_at <= starts_at {
        errors.push(FieldError::new("ends_at", Code::EndsBeforeStart));
    } else if ends_at - starts_at > chrono::Duration::days(7) {
        errors.push(FieldError::new("ends_at", Code::OutOfRange));
    }
}

fn refusal_error(refusal: ChangeRefusal) -> ApiError {
    match refusal {
        ChangeRefusal::NotFound => ApiError::NotFound,
        ChangeRefusal::NotScheduled => ApiError::Conflict(Code::SessionNotScheduled),
        ChangeRefusal::EndsBeforeStart => ApiError::field("ends_at", Code::EndsBeforeStart),
        ChangeRefusal::CapacityBelowSeatsTaken => ApiError::Conflict(Code::CapacityBelowSeatsTaken),
    }
}

/// The session, if `actor` may manage it (404 before 403: an unknown ID says nothing).
pub fn find_managed(
    conn: &mut DbConn,
    actor: &Actor,
    session_id: &CourseSessionId,
) -> Result<CourseSession, ApiError> {
    let session = course_sessions::find(conn, session_id)?.ok_or(ApiError::NotFound)?;
    actor.ensure_manages(conn, &session.center_id)?;
    Ok(session)
}

/// Schedules a session at an active center.
pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    center_id: &CenterId,
    new: NewSession,
) -> Result<CourseSession, ApiError> {
    db::write_transaction(conn, |conn| {
        let center = centers::find(conn, center_id)?.ok_or(ApiError::NotFound)?;
        actor.ensure_manages(conn, &center.id)?;
        if center.status != CenterStatus::Active {
            return Err(ApiError::Conflict(Code::CenterNotActive));
        }
        if courses::find(conn, &new.course_id)?.is_none() {
            return Err(ApiError::field("course_id", Code::UnknownCourse));
        }
        let now = db::now();
        let session = CourseSession {
            id: CourseSessionId::generate(),
            center_id: center.id,
            course_id: new.course_id,
            starts_at: new.starts_at,
            ends_at: new.ends_at,
            capacity: new.capacity,
            seats_taken: 0,
            waitlist_count: 0,
            waitlist_seq: 0,
            instructor: new.instructor,
            room: new.room,
            status: SessionStatus::Scheduled,
            created_at: now,
            updated_at: now,
        };
        course_sessions::insert(conn, &session)?;
        audit::record(
            conn,
            &actor.id,
            "session_created",
            Some(&session.id),
            Some(&session.center_id),
        )?;
        Ok(session)
    })
}

/// Reschedules, resizes (never below the seats taken; added seats go to the waitlist at
/// once, and those promoted are told), or changes instructor and room. A move in time
/// tells everyone enrolled and moves their reminders.
pub fn update(
    conn: &mut DbConn,
    policy: &PushPolicy,
    actor: &Actor,
    session_id: &CourseSessionId,
    change: SessionChange,
) -> Result<CourseSession, ApiError> {
    db::write_transaction(conn, |conn| {
        find_managed(conn, actor, session_id)?;
        let changed = course_sessions::change(conn, session_id, change)?.map_err(refusal_error)?;
        let promoted = seats::promote_waitlist_heads(conn, session_id)?;
        let session = if promoted.is_empty() {
            changed.session
        } else {
            course_sessions::find(conn, session_id)?.ok_or(ApiError::NotFound)?
        };
        notify::tell_promoted(conn, policy, &promoted, &session)?;
        if changed.rescheduled {
            notify::tell_session_rescheduled(conn, policy, &session)?;
        }
        audit::record(
            conn,
            &actor.id,
            "session_updated",
            Some(&session.id),
            Some(&session.center_id),
        )?;
        Ok(session)
    })
}

/// Cancels a scheduled session; everyone enrolled is told and their reminders dropped.
pub fn cancel(
    conn: &mut DbConn,
    actor: &Actor,
    session_id: &CourseSessionId,
) -> Result<CourseSession, ApiError> {
    db::write_transaction(conn, |conn| {
        find_managed(conn, actor, session_id)?;
        let cancelled = course_sessions::cancel(conn, session_id)?
            .ok_or(ApiError::NotFound)?
            .map_err(refusal_error)?;
        notify::tell_session_cancelled(conn, &cancelled)?;
        audit::record(
            conn,
            &actor.id,
            "session_cancelled",
            Some(&cancelled.id),
            Some(&cancelled.center_id),
        )?;
        Ok(cancelled)
    })
}
