//! Enrolling, giving seats up and recording attendance: residents for themselves, staff
//! of the session's center (and admins) for the people at their desk.

use crate::config::Limits;
use crate::db::{self, DbConn};
use crate::domain::{
    CourseSessionId, DisplayName, EnrollmentId, EnrollmentStatus, Locale, Phone, Role, UserId,
};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::models::enrollments::{self, Enrollment};
pub use crate::models::idempotency::Retry;
use crate::models::idempotency::{self, Earlier};
use crate::models::seats::{self, AttendanceRefusal, EnrollRefusal, Enrolled, GiveUpRefusal};
use crate::models::users::{self, NewUser};
use crate::models::{audit, course_sessions};
use crate::push::notify::{self, PushPolicy};

use super::Actor;

/// What an enrollment request came to: a new enrollment, or the answer first given to
/// the same retried request.
#[derive(Debug)]
pub enum EnrollOutcome {
    Enrolled { status: u16, body: String },
    Replayed { status: u16, body: String },
}

/// The answer first given to this retried request, if it was answered before; the key
/// on another request is 422.
fn earlier_answer(
    conn: &mut DbConn,
    actor: &Actor,
    retry: Option<&Retry>,
) -> Result<Option<EnrollOutcome>, ApiError> {
    let Some(retry) = retry else { return Ok(None) };
    match idempotency::lookup(conn, &actor.id, &retry.key, &retry.fingerprint)? {
        Earlier::Answer { status, body } => Ok(Some(EnrollOutcome::Replayed { status, body })),
        Earlier::OtherRequest => Err(ApiError::UnprocessableEntity(Code::IdempotencyKeyReused)),
        // Reserved for this very request (the API's idempotency layer), or never used.
        Earlier::InProgress { .. } | Earlier::None => Ok(None),
    }
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
        if let Some(earlier) = earlier_answer(conn, actor, retry)? {
            return Ok(earlier);
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
    replay_if_raced(conn, actor, retry, answer)
}

/// Two tries with one key racing on PostgreSQL: the loser finds the person enrolled; by
/// now the winner's answer is stored, so it is replayed.
fn replay_if_raced(
    conn: &mut DbConn,
    actor: &Actor,
    retry: Option<&Retry>,
    answer: Result<EnrollOutcome, ApiError>,
) -> Result<EnrollOutcome, ApiError> {
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

/// Who staff enroll at the desk.
#[derive(Debug, Clone)]
pub enum WalkIn {
    /// An account found before (by the person's phone, for example).
    Account(UserId),
    /// A person by phone: their account if the phone has one (its name is left as it
    /// is), otherwise a new phone-only resident with this name, who signs in later with
    /// a one-time code.
    Phone {
        phone: Phone,
        display_name: DisplayName,
    },
}

/// The account a walk-in names, made at the desk when the phone is new.
fn walk_in_account(conn: &mut DbConn, actor: &Actor, who: WalkIn) -> Result<UserId, ApiError> {
    match who {
        WalkIn::Account(id) => match users::find(conn, &id)? {
            Some(user) if user.deleted_at.is_none() => Ok(user.id),
            _ => Err(ApiError::field("user_id", Code::NotFound)),
        },
        WalkIn::Phone {
            phone,
            display_name,
        } => {
            if let Some(user) = users::find_by_login(conn, phone.as_str())? {
                return Ok(user.id);
            }
            let now = db::now();
            let new = NewUser {
                id: UserId::generate(),
                phone: Some(phone.as_str().to_string()),
                email: None,
                password_hash: users::NO_PASSWORD.to_string(),
                display_name: display_name.into_inner(),
                role: Role::Resident,
                locale: Locale::Th,
                created_at: now,
                updated_at: now,
            };
            match users::create_user(conn, &new)? {
                Ok(user) => {
                    audit::record(
                        conn,
                        &actor.id,
                        "account_created_at_desk",
                        Some(&user.id),
                        None,
                    )?;
                    Ok(user.id)
                }
                // Made a moment ago by another desk: enroll that account.
                Err(_) => users::find_by_login(conn, phone.as_str())?
                    .map(|u| u.id)
                    .ok_or(ApiError::Conflict(Code::PhoneTaken)),
            }
        }
    }
}

/// Staff of the session's center (or an admin) enroll someone at the desk: a seat if one
/// is free, else the waitlist, with reminders as if they had enrolled themselves. Retried
/// with the same key, the first answer is replayed.
#[allow(clippy::too_many_arguments)]
pub fn enroll_walk_in(
    conn: &mut DbConn,
    policy: &PushPolicy,
    limits: &Limits,
    actor: &Actor,
    session_id: &CourseSessionId,
    who: WalkIn,
    retry: Option<&Retry>,
    render: impl FnOnce(&Enrolled) -> Result<String, ApiError>,
) -> Result<EnrollOutcome, ApiError> {
    if actor.role == Role::Resident {
        return Err(ApiError::Forbidden);
    }
    let answer = db::write_transaction(conn, |conn| {
        if let Some(earlier) = earlier_answer(conn, actor, retry)? {
            return Ok(earlier);
        }
        let session = super::course_sessions::find_managed(conn, actor, session_id)?;
        let user_id = walk_in_account(conn, actor, who)?;
        let enrolled = seats::take(conn, session_id, &user_id, limits)?.map_err(enroll_refusal)?;
        if enrolled.enrollment.status == EnrollmentStatus::Confirmed {
            notify::plan_reminders(conn, policy, &enrolled.enrollment, &enrolled.session)?;
        }
        audit::record(
            conn,
            &actor.id,
            "walk_in_enrolled",
            Some(&enrolled.enrollment.id),
            Some(&session.center_id),
        )?;
        let body = render(&enrolled)?;
        if let Some(retry) = retry {
            idempotency::store(conn, &actor.id, &retry.key, &retry.fingerprint, 201, &body)?;
        }
        Ok(EnrollOutcome::Enrolled { status: 201, body })
    });
    replay_if_raced(conn, actor, retry, answer)
}

fn give_up_refusal(refusal: GiveUpRefusal) -> ApiError {
    match refusal {
        GiveUpRefusal::NotFound => ApiError::NotFound,
        GiveUpRefusal::AlreadyCancelled => ApiError::Conflict(Code::EnrollmentCancelled),
        GiveUpRefusal::Closed => ApiError::Conflict(Code::EnrollmentClosed),
    }
}

/// Staff give up a seat or waitlist place for someone (who asked at the desk or by
/// phone): the person is told, and the freed seat goes to the head of the waitlist.
pub fn release_for(
    conn: &mut DbConn,
    policy: &PushPolicy,
    actor: &Actor,
    enrollment_id: &EnrollmentId,
) -> Result<Enrollment, ApiError> {
    db::write_transaction(conn, |conn| {
        let enrollment = enrollments::find(conn, enrollment_id)?.ok_or(ApiError::NotFound)?;
        let session = super::course_sessions::find_managed(conn, actor, &enrollment.session_id)?;
        let given_up = seats::give_up(conn, enrollment_id, None)?.map_err(give_up_refusal)?;
        notify::tell_seat_released(conn, &given_up.enrollment, &session)?;
        if !given_up.promoted.is_empty() {
            let session = course_sessions::find(conn, &session.id)?.ok_or(ApiError::NotFound)?;
            notify::tell_promoted(conn, policy, &given_up.promoted, &session)?;
        }
        audit::record(
            conn,
            &actor.id,
            "seat_released",
            Some(&given_up.enrollment.id),
            Some(&session.center_id),
        )?;
        Ok(given_up.enrollment)
    })
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
        let given_up =
            seats::give_up(conn, enrollment_id, Some(&actor.id))?.map_err(give_up_refusal)?;
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
