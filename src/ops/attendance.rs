//! The attendance loop: a person shows a ticket and staff check them in; a person says
//! they are still coming; certificates of what they attended; their calendar feed.

use chrono::Duration;
use sha2::{Digest, Sha256};

use crate::db::{self, DbConn};
use crate::domain::{
    display_code, normalise_code, EnrollmentId, EnrollmentStatus, Role, SessionStatus,
    TICKET_SYMBOLS,
};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::models::attendance::{self, SeatFacts};
use crate::models::enrollments::{self, Enrollment};
use crate::models::{audit, course_sessions, seats};

use super::Actor;

/// The longest code accepted as typed (its symbols, spaces and hyphens).
pub const MAX_TYPED_CODE: usize = 40;

/// Check-in opens this long before a session starts (and closes when it ends).
pub const CHECK_IN_OPENS_BEFORE: Duration = Duration::hours(2);

/// The person's own enrollment with its facts, or 404 (someone else's is not theirs to see).
fn own_seat(conn: &mut DbConn, actor: &Actor, id: &EnrollmentId) -> Result<SeatFacts, ApiError> {
    attendance::seat_facts(conn, id)?
        .filter(|seat| seat.enrollment.user_id == actor.id)
        .ok_or(ApiError::NotFound)
}

/// A ticket: the check-in code as people see it and the seat it is for.
#[derive(Debug)]
pub struct Ticket {
    pub code: String,
    pub seat: SeatFacts,
}

/// The check-in ticket of the person's own confirmed seat (made on first request; the
/// same code ever after). Kept after check-in, so a second scan finds it.
pub fn ticket(conn: &mut DbConn, actor: &Actor, id: &EnrollmentId) -> Result<Ticket, ApiError> {
    let seat = own_seat(conn, actor, id)?;
    check_ticket_holder(&seat)?;
    // Shown again and again at the door: a read, unless the code is still to be made.
    let code = match attendance::existing_ticket_code(conn, id)? {
        Some(code) => code,
        None => db::write_transaction(conn, |conn| attendance::ticket_code(conn, id))?,
    };
    Ok(Ticket {
        code: display_code(&code),
        seat,
    })
}

/// Whether a seat has a ticket to show: held (not waiting, not given up) in a session
/// that was not cancelled.
fn check_ticket_holder(seat: &SeatFacts) -> Result<(), ApiError> {
    match seat.enrollment.status {
        // Marked absent too early, the person may still turn up and be checked in.
        EnrollmentStatus::Confirmed | EnrollmentStatus::Attended | EnrollmentStatus::NoShow => {}
        EnrollmentStatus::Waitlisted => return Err(ApiError::Conflict(Code::EnrollmentWaitlisted)),
        EnrollmentStatus::Cancelled => return Err(ApiError::Conflict(Code::EnrollmentCancelled)),
    }
    if seat.session.status == SessionStatus::Cancelled {
        return Err(ApiError::Conflict(Code::SessionNotScheduled));
    }
    Ok(())
}

/// What a check-in did.
#[derive(Debug)]
pub struct CheckedIn {
    pub enrollment: Enrollment,
    /// False when the person was already checked in (a second scan, another device).
    pub changed: bool,
}

/// Staff of the session's center (or an admin) check a person in by their ticket code:
/// from two hours before the start until the end; a code already used answers the same
/// attendance unchanged, whenever it is scanned again.
pub fn check_in(conn: &mut DbConn, actor: &Actor, typed: &str) -> Result<CheckedIn, ApiError> {
    if !matches!(actor.role, Role::Staff | Role::Admin) {
        return Err(ApiError::Forbidden);
    }
    let code = normalise_code(typed, TICKET_SYMBOLS)
        .filter(|_| typed.chars().count() <= MAX_TYPED_CODE)
        .ok_or_else(|| ApiError::field("code", Code::InvalidValue))?;
    db::write_transaction(conn, |conn| {
        let found = attendance::enrollment_by_ticket(conn, &code)?.ok_or(ApiError::NotFound)?;
        let session = course_sessions::find(conn, &found.session_id)?.ok_or(ApiError::NotFound)?;
        actor.ensure_manages(conn, &session.center_id)?;
        // Two desks scanning the same ticket at once: the second waits here and then
        // finds the attendance the first recorded.
        course_sessions::lock(conn, &session.id)?;
        let enrollment = enrollments::find(conn, &found.id)?.ok_or(ApiError::NotFound)?;
        if enrollment.status == EnrollmentStatus::Attended {
            return Ok(CheckedIn {
                enrollment,
                changed: false,
            });
        }
        if session.status == SessionStatus::Cancelled {
            return Err(ApiError::Conflict(Code::SessionNotScheduled));
        }
        let now = db::now();
        if now < session.starts_at - CHECK_IN_OPENS_BEFORE {
            return Err(ApiError::Conflict(Code::CheckinNotOpen));
        }
        if now > session.ends_at {
            return Err(ApiError::Conflict(Code::CheckinClosed));
        }
        // A person marked absent who turns up after all is checked in.
        if !matches!(
            enrollment.status,
            EnrollmentStatus::Confirmed | EnrollmentStatus::NoShow
        ) {
            return Err(ApiError::Conflict(Code::EnrollmentNotConfirmed));
        }
        let marked = seats::mark_attendance(conn, &enrollment.id, EnrollmentStatus::Attended)?
            .map_err(|_| ApiError::Conflict(Code::EnrollmentNotConfirmed))?;
        audit::record(
            conn,
            &actor.id,
            "checked_in",
            Some(&marked.id),
            Some(&session.center_id),
        )?;
        Ok(CheckedIn {
            enrollment: marked,
            changed: true,
        })
    })
}

/// The person says they are still coming to a seat they hold (before the session
/// starts); saying it again keeps the first time.
pub fn confirm(
    conn: &mut DbConn,
    actor: &Actor,
    id: &EnrollmentId,
) -> Result<Enrollment, ApiError> {
    db::write_transaction(conn, |conn| {
        let seat = own_seat(conn, actor, id)?;
        match seat.enrollment.status {
            EnrollmentStatus::Confirmed => {}
            EnrollmentStatus::Waitlisted => {
                return Err(ApiError::Conflict(Code::EnrollmentWaitlisted))
            }
            EnrollmentStatus::Cancelled => {
                return Err(ApiError::Conflict(Code::EnrollmentCancelled))
            }
            EnrollmentStatus::Attended | EnrollmentStatus::NoShow => {
                return Err(ApiError::Conflict(Code::SessionStarted))
            }
        }
        if seat.session.status == SessionStatus::Cancelled {
            return Err(ApiError::Conflict(Code::SessionNotScheduled));
        }
        let now = db::now();
        if seat.session.starts_at <= now {
            return Err(ApiError::Conflict(Code::SessionStarted));
        }
        if seat.enrollment.confirmed_at.is_none() {
            enrollments::mark_confirmed(conn, id, now)?;
        }
        enrollments::find(conn, id)?.ok_or(ApiError::NotFound)
    })
}

/// The SHA-256 of a feed token, as stored (the token itself is only in the person's URL).
pub fn feed_token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new secret feed token for the person; the old one stops working.
pub fn new_calendar_feed(conn: &mut DbConn, actor: &Actor) -> Result<String, ApiError> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(anyhow::anyhow!("random: {e}")))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    attendance::replace_calendar_feed(conn, &actor.id, &feed_token_hash(&token))?;
    Ok(token)
}
