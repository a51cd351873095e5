//! Deciding what to tell people, inside the transaction of the change that causes it:
//! reminders for confirmed seats, and notices of promotion, cancellation and rescheduling.
//! Everything is written as notifications; the worker delivers them when due.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::domain::{offset_label, EnrollmentStatus, Locale, NotificationStatus, SessionStatus};
use crate::models::course_sessions::CourseSession;
use crate::models::enrollments::Enrollment;
use crate::models::notifications::{self, Notification};
use crate::models::users::new_id;
use crate::schema::{centers, courses, enrollments, users};

use super::messages::{session_notice, SessionFacts, SessionNotice};

/// The server's push settings that planning needs.
#[derive(Debug, Clone)]
pub struct PushPolicy {
    /// How long before a session each reminder goes out, longest first.
    pub reminder_offsets: Vec<Duration>,
}

fn session_facts(conn: &mut DbConn, session: &CourseSession) -> QueryResult<SessionFacts> {
    let ((course_th, course_en), (center_th, center_en)) = courses::table
        .inner_join(centers::table.on(centers::id.eq(&session.center_id)))
        .filter(courses::id.eq(&session.course_id))
        .select((
            (courses::title_th, courses::title_en),
            (centers::name_th, centers::name_en),
        ))
        .first(conn)?;
    Ok(SessionFacts {
        course_th,
        course_en,
        center_th,
        center_en,
        starts_at: session.starts_at,
    })
}

/// The user's language and whether they want reminders.
fn preferences(conn: &mut DbConn, user_id: &str) -> QueryResult<(Locale, bool)> {
    let (locale, reminders): (Locale, bool) = users::table
        .find(user_id)
        .select((users::locale, users::reminders_enabled))
        .first(conn)?;
    Ok((locale, reminders))
}

struct Draft<'a> {
    notice: SessionNotice,
    locale: Locale,
    user_id: &'a str,
    session: &'a CourseSession,
    enrollment_id: &'a str,
    dedup_key: String,
    collapse_key: String,
    due_at: NaiveDateTime,
    extra: Vec<(&'static str, String)>,
}

fn write(conn: &mut DbConn, facts: &SessionFacts, draft: Draft) -> QueryResult<bool> {
    let (title, body) = session_notice(draft.notice, facts, draft.locale);
    let mut data: BTreeMap<&str, String> = BTreeMap::new();
    data.insert("kind", draft.notice.kind().to_string());
    data.insert("session_id", draft.session.id.to_string());
    data.insert("enrollment_id", draft.enrollment_id.to_string());
    data.insert(
        "starts_at",
        crate::handlers::views::rfc3339(draft.session.starts_at),
    );
    for (k, v) in draft.extra {
        data.insert(k, v);
    }
    let now = db::now();
    notifications::schedule(
        conn,
        &Notification {
            id: new_id(),
            user_id: draft.user_id.to_string(),
            kind: draft.notice.kind().to_string(),
            dedup_key: draft.dedup_key,
            title,
            body,
            data: serde_json::to_string(&data).unwrap_or_else(|_| "{}".into()),
            collapse_key: draft.collapse_key,
            // A cancellation or a move may not wait out quiet hours if waiting would bring
            // it too close to the start (see `queue::release_time`).
            urgent: matches!(
                draft.notice,
                SessionNotice::SessionCancelled | SessionNotice::SessionRescheduled
            ),
            due_at: draft.due_at.max(now),
            // A push about a session is useless once it has started.
            expires_at: Some(draft.session.starts_at),
            status: NotificationStatus::Scheduled,
            delivered_at: None,
            read_at: None,
            broadcast_id: None,
            created_at: now,
        },
    )
}

/// Schedules the reminders of a confirmed enrollment (those not already past).
pub fn plan_reminders(
    conn: &mut DbConn,
    policy: &PushPolicy,
    enrollment: &Enrollment,
    session: &CourseSession,
) -> QueryResult<usize> {
    let facts = session_facts(conn, session)?;
    let preferences = preferences(conn, &enrollment.user_id)?;
    schedule_reminders(conn, policy, enrollment, session, &facts, preferences)
}

/// `plan_reminders` for callers that already hold the session's facts and the person's
/// (language, wants reminders).
fn schedule_reminders(
    conn: &mut DbConn,
    policy: &PushPolicy,
    enrollment: &Enrollment,
    session: &CourseSession,
    facts: &SessionFacts,
    (locale, wants_reminders): (Locale, bool),
) -> QueryResult<usize> {
    if !wants_reminders || session.status != SessionStatus::Scheduled {
        return Ok(0);
    }
    let now = db::now();
    let mut planned = 0;
    let mut first = true;
    for offset in &policy.reminder_offsets {
        let Ok(before) = chrono::Duration::from_std(*offset) else {
            continue;
        };
        let due_at = session.starts_at - before;
        if due_at <= now {
            continue;
        }
        let label = offset_label(*offset);
        let mut extra = vec![("offset", label.clone())];
        // The first reminder asks whether the person is still coming (the app offers
        // both answers: POST /me/enrollments/{id}/confirm or /release).
        if std::mem::take(&mut first) {
            extra.push(("actions", "confirm,release".to_string()));
        }
        let added = write(
            conn,
            facts,
            Draft {
                notice: SessionNotice::Reminder,
                locale,
                user_id: &enrollment.user_id,
                session,
                enrollment_id: &enrollment.id,
                // The start time is in the key: a rescheduled session gets new reminders.
                dedup_key: format!(
                    "reminder:{}:{label}:{}",
                    enrollment.id,
                    session.starts_at.and_utc().timestamp()
                ),
                // One per (enrollment, offset): a resent reminder replaces, never stacks.
                collapse_key: format!("reminder-{}-{label}", enrollment.id),
                due_at,
                extra,
            },
        )?;
        planned += usize::from(added);
    }
    Ok(planned)
}

/// Cancels an enrollment's reminders that have not gone out yet.
pub fn cancel_reminders(conn: &mut DbConn, enrollment_id: &str) -> QueryResult<usize> {
    notifications::cancel_scheduled(conn, &format!("reminder:{enrollment_id}:"))
}

/// Tells people promoted from the waitlist, and schedules their reminders.
pub fn tell_promoted(
    conn: &mut DbConn,
    policy: &PushPolicy,
    promoted: &[Enrollment],
    session: &CourseSession,
) -> QueryResult<()> {
    if promoted.is_empty() {
        return Ok(());
    }
    let facts = session_facts(conn, session)?;
    for enrollment in promoted {
        let preferences = preferences(conn, &enrollment.user_id)?;
        write(
            conn,
            &facts,
            Draft {
                notice: SessionNotice::WaitlistPromoted,
                locale: preferences.0,
                user_id: &enrollment.user_id,
                session,
                enrollment_id: &enrollment.id,
                dedup_key: format!("promoted:{}", enrollment.id),
                collapse_key: format!("enrollment-{}", enrollment.id),
                due_at: db::now(),
                extra: Vec::new(),
            },
        )?;
        schedule_reminders(conn, policy, enrollment, session, &facts, preferences)?;
    }
    Ok(())
}

/// Staff gave up a person's seat for them: their reminders stop and they are told, so
/// nobody travels to a seat that is no longer theirs.
pub fn tell_seat_released(
    conn: &mut DbConn,
    enrollment: &Enrollment,
    session: &CourseSession,
) -> QueryResult<()> {
    cancel_reminders(conn, &enrollment.id)?;
    let facts = session_facts(conn, session)?;
    let (locale, _) = preferences(conn, &enrollment.user_id)?;
    write(
        conn,
        &facts,
        Draft {
            notice: SessionNotice::SeatReleased,
            locale,
            user_id: &enrollment.user_id,
            session,
            enrollment_id: &enrollment.id,
            dedup_key: format!("released:{}", enrollment.id),
            collapse_key: format!("enrollment-{}", enrollment.id),
            due_at: db::now(),
            extra: Vec::new(),
        },
    )?;
    Ok(())
}

fn live_enrollments(conn: &mut DbConn, session_id: &str) -> QueryResult<Vec<Enrollment>> {
    enrollments::table
        .filter(enrollments::session_id.eq(session_id))
        .filter(
            enrollments::status.eq_any([EnrollmentStatus::Confirmed, EnrollmentStatus::Waitlisted]),
        )
        .select(Enrollment::as_select())
        .load(conn)
}

/// A session was cancelled: its reminders stop, and everyone enrolled or waiting is told.
pub fn tell_session_cancelled(conn: &mut DbConn, session: &CourseSession) -> QueryResult<usize> {
    let facts = session_facts(conn, session)?;
    let people = live_enrollments(conn, &session.id)?;
    for enrollment in &people {
        cancel_reminders(conn, &enrollment.id)?;
        let (locale, _) = preferences(conn, &enrollment.user_id)?;
        write(
            conn,
            &facts,
            Draft {
                notice: SessionNotice::SessionCancelled,
                locale,
                user_id: &enrollment.user_id,
                session,
                enrollment_id: &enrollment.id,
                dedup_key: format!("session_cancelled:{}:{}", session.id, enrollment.id),
                collapse_key: format!("session-{}", session.id),
                due_at: db::now(),
                extra: Vec::new(),
            },
        )?;
    }
    Ok(people.len())
}

/// A session moved: reminders move with it, and everyone enrolled or waiting is told.
pub fn tell_session_rescheduled(
    conn: &mut DbConn,
    policy: &PushPolicy,
    session: &CourseSession,
) -> QueryResult<usize> {
    let facts = session_facts(conn, session)?;
    let people = live_enrollments(conn, &session.id)?;
    for enrollment in &people {
        cancel_reminders(conn, &enrollment.id)?;
        let preferences = preferences(conn, &enrollment.user_id)?;
        if enrollment.status == EnrollmentStatus::Confirmed {
            schedule_reminders(conn, policy, enrollment, session, &facts, preferences)?;
        }
        write(
            conn,
            &facts,
            Draft {
                notice: SessionNotice::SessionRescheduled,
                locale: preferences.0,
                user_id: &enrollment.user_id,
                session,
                enrollment_id: &enrollment.id,
                dedup_key: format!(
                    "session_rescheduled:{}:{}:{}",
                    session.id,
                    enrollment.id,
                    session.starts_at.and_utc().timestamp()
                ),
                collapse_key: format!("session-{}", session.id),
                due_at: db::now(),
                extra: Vec::new(),
            },
        )?;
    }
    Ok(people.len())
}
