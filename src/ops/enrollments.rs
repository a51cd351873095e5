//! Enrolling, giving seats up and recording attendance: residents for themselves, staff
//! of the session's center (and admins) for the people at their desk.

use crate::config::Limits;
use crate::db::{self, DbConn};
use crate::domain::{CourseSessionId, EnrollmentId, EnrollmentStatus, Role};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::models::enrollments::{self, Enrollment};
use crate::models::idempotency::{self, Earlier};
use crate::models::seats::{self, AttendanceRefusal, EnrollRefusal, Enrolled, GiveUpRefusal};
use crate::models::{audit, course_sessions};
use crate::push::notify::{self, PushPolicy};

use super::Actor;

/// A retried request's identity: the caller's `Idempotency-Key` and a fingerprint of the
/// request it was first used on.
#[derive(Debug, Clone)]
pub struct Retry {
    pub key: String,
    pub fingerprint: String,
}

/// What an enrollment request came to: a new enrollment, or the answer first given to
/// the same retried request.
#[derive(Debug)]
pub enum EnrollOutcome {
    Enrolled { status: u16, body: String },
    Replayed { status: u16, body: String },
}

fn enroll_refusal(refusal: EnrollRefusal) -> ApiError {
    match refusal {
        EnrollRefusal::SessionNotFound => ApiError::NotFound,
        EnrollRefusal::SessionNotOpen => ApiError::Conflict(Code::SessionNotOpen),
        EnrollRefusal::SessionStarted => ApiError::Conflict(Code::SessionStarted),
        EnrollRefusal::AlreadyEnrolled => ApiError::Conflict(Code::AlreadyEnrolled),
        EnrollRefusal::TooManyUpcoming => ApiError::Conflict(Code::EnrollmentLimitReached),
        EnrollRefusal::TooManyWaitlisted => ApiError::Conflict(Code::WaitlistLimitReached),
    }
}

/// Enrolls the actor (a resident) in a session: a seat if one is free, else the waitlist;
/// reminders are planned for a seat. `render` gives the answer's body, which is stored
/// with `retry` so that the same request retried replays it; the key on a different
/// request is refused with 422.
pub fn enroll_self(
    conn: &mut DbConn,
    policy: &PushPolicy,
    limits: &Limits,
    actor: &Actor,
    session_id: &CourseSessionId,
    retry: Option<&Retry>,
    render: impl FnOnce(&Enrolled) -> Result<String, ApiError>,
) -> Result<EnrollOutcome, ApiError> {
    if actor.role != Role::Resident {
        return Err(ApiError::Forbidden);
    }
    let answer = db::write_transaction(conn, |conn| {
        if let Some(retry) = retry {
            match idempotency::lookup(conn, &actor.id, &retry.key, &retry.fingerprint)? {
                Earlier::Answer { status, body } => {
                    return Ok(EnrollOutcome::Replayed { status, body })
                }
                Earlier::OtherRequest => {
                    return Err(ApiError::UnprocessableEntity(Code::IdempotencyKeyReused))
                }
                Earlier::None => {}
            }
        }
        let enrolled = seats::take(conn, session_id, &actor.id, limits)?.map_err(enroll_refusal)?;
        if enrolled.enrollment.status == EnrollmentStatus::Confirmed {
            notify::plan_reminders(conn, policy, &enrolled.enrollment, &enrolled.session)?;
        }
        let body = render(&enrolled)?;
        if let Some(retry) = retry {
            idempotency::store(conn, &actor.id, &retry.key, &retry.fingerprint, 201, &body)?;
        }
        Ok(EnrollOutcome::Enrolled { status: 201, body })
    });
    // Two tries with one key racing on PostgreSQL: the loser finds the person enrolled;
    // by now the winner's answer is stored, so replay it.
    match (answer, retry) {
        (Err(ApiError::Conflict(Code::AlreadyEnrolled)), Some(retry)) => {
            match idempotency::lookup(conn, &actor.id, &retry.key, &retry.fingerprint)? {
                Earlier::Answer { status, body } => Ok(EnrollOutcome::Replayed { status, body }),
                _ => Err(ApiError::Conflict(Code::AlreadyEnrolled)),
            }
        }
        (other, _) => other,
    }
}

/// The resident gives up their own seat or waitlist place; the freed seat goes to the
/// head of the waitlist, who is told.
pub fn cancel_own(
    conn: &mut DbConn,
    policy: &PushPolicy,
    actor: &Actor,
    enrollment_id: &EnrollmentId,
) -> Result<Enrollment, ApiError> {
    db::write_transaction(conn, |conn| {
        let given_up = seats::give_up(conn, enrollment_id, Some(&actor.id))?.map_err(
            |refusal| match refusal {
                GiveUpRefusal::NotFound => ApiError::NotFound,
                GiveUpRefusal::AlreadyCancelled => ApiError::Conflict(Code::EnrollmentCancelled),
                GiveUpRefusal::Closed => ApiError::Conflict(Code::EnrollmentClosed),
            },
        )?;
        notify::cancel_reminders(conn, &given_up.enrollment.id)?;
        if !given_up.promoted.is_empty() {
            let session = course_sessions::find(conn, &given_up.enrollment.session_id)?
                .ok_or(ApiError::NotFound)?;
            notify::tell_promoted(conn, policy, &given_up.promoted, &session)?;
        }
        Ok(given_up.enrollment)
    })
}

/// Staff record `attended` or `no_show` for a confirmed seat (and may correct it later).
pub fn mark_attendance(
    conn: &mut DbConn,
    actor: &Actor,
    enrollment_id: &EnrollmentId,
    status: EnrollmentStatus,
) -> Result<Enrollment, ApiError> {
    if !status.is_attendance() {
        return Err(ApiError::field("status", Code::InvalidValue));
    }
    db::write_transaction(conn, |conn| {
        let enrollment = enrollments::find(conn, enrollment_id)?.ok_or(ApiError::NotFound)?;
        let session =
            course_sessions::find(conn, &enrollment.session_id)?.ok_or(ApiError::NotFound)?;
        actor.ensure_manages(conn, &session.center_id)?;
        let marked =
            seats::mark_attendance(conn, enrollment_id, status)?.map_err(
                |refusal| match refusal {
                    AttendanceRefusal::NotFound => ApiError::NotFound,
                    AttendanceRefusal::NotConfirmed => {
                        ApiError::Conflict(Code::EnrollmentNotConfirmed)
                    }
                    AttendanceRefusal::SessionCancelled => {
                        ApiError::Conflict(Code::SessionNotScheduled)
                    }
                },
            )?;
        audit::record(
            conn,
            &actor.id,
            &format!("attendance_{status}"),
            Some(&marked.id),
            Some(&session.center_id),
        )?;
        Ok(marked)
    })
}
