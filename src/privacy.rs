//! PDPA (Thailand's Personal Data Protection Act) rights: erasure of one's account. What
//! is erased or anonymised, in one transaction: profile, devices, inbox and every pending
//! push, login sessions and tokens, idempotency answers, failed-login records; future
//! seats are given up (promoting waitlists). Past attendance stays, tied to an anonymous
//! row, so centers' figures stay true. An audit record of the erasure remains, without
//! personal data.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::domain::{EnrollmentStatus, Role, UserId};
use crate::models::course_sessions;
use crate::models::enrollments::Enrollment;
use crate::models::login_throttle::LoginKeyer;
use crate::models::notifications::Notification;
use crate::models::seats;
use crate::push::notify::{self, PushPolicy};
use crate::schema::{
    auth_sessions, center_staff, course_sessions as sessions_t, devices,
    enrollments as enrollments_t, idempotency_keys, login_failures, notifications, refresh_tokens,
    users,
};

/// The name left on an erased account.
pub const ERASED_NAME: &str = "ผู้ใช้ที่ลบบัญชีแล้ว (deleted user)";

/// What an erasure did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Erased {
    pub enrollments_cancelled: usize,
    pub devices_removed: usize,
    pub notifications_removed: usize,
    pub sessions_revoked: usize,
}

pub fn erase_account(
    conn: &mut DbConn,
    user_id: &UserId,
    policy: &PushPolicy,
    keyer: &LoginKeyer,
) -> anyhow::Result<Erased> {
    db::write_transaction(conn, |conn| -> anyhow::Result<Erased> {
        let now = db::now();
        let mut erased = Erased::default();
        let (phone, email): (Option<String>, Option<String>) = users::table
            .find(user_id)
            .select((users::phone, users::email))
            .first(conn)?;

        // Give up seats in sessions that have not started; the waitlist moves up.
        let upcoming: Vec<Enrollment> = enrollments_t::table
            .inner_join(sessions_t::table)
            .filter(enrollments_t::user_id.eq(user_id))
            .filter(
                enrollments_t::status
                    .eq_any([EnrollmentStatus::Confirmed, EnrollmentStatus::Waitlisted]),
            )
            .filter(sessions_t::starts_at.gt(now))
            .select(Enrollment::as_select())
            .load(conn)?;
        for enrollment in upcoming {
            if let Ok(cancelled) = seats::give_up(conn, &enrollment.id, Some(user_id))? {
                erased.enrollments_cancelled += 1;
                if let Some(session) = course_sessions::find(conn, &enrollment.session_id)? {
                    notify::tell_promoted(conn, policy, &cancelled.promoted, &session)?;
                }
            }
        }
        // The inbox and every push not yet sent.
        erased.notifications_removed = crate::push::queue::forget_person(conn, user_id)?;
        erased.devices_removed =
            diesel::delete(devices::table.filter(devices::user_id.eq(user_id))).execute(conn)?;
        let session_ids: Vec<String> = auth_sessions::table
            .filter(auth_sessions::user_id.eq(user_id))
            .select(auth_sessions::id)
            .load(conn)?;
        diesel::delete(
            refresh_tokens::table.filter(refresh_tokens::session_id.eq_any(&session_ids)),
        )
        .execute(conn)?;
        erased.sessions_revoked =
            diesel::update(auth_sessions::table.filter(auth_sessions::user_id.eq(user_id)))
                .set((
                    auth_sessions::revoked_at.eq(now),
                    auth_sessions::revoked_reason.eq("account_erased"),
                    auth_sessions::user_agent.eq(None::<String>),
                ))
                .execute(conn)?;
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::owner.eq(user_id)))
            .execute(conn)?;
        let logins: Vec<String> = phone
            .iter()
            .chain(email.iter())
            .map(|l| keyer.key(l))
            .collect();
        diesel::delete(login_failures::table.filter(login_failures::login_key.eq_any(&logins)))
            .execute(conn)?;
        diesel::delete(center_staff::table.filter(center_staff::user_id.eq(user_id)))
            .execute(conn)?;
        crate::line::unlink_user(conn, user_id)?;
        // Their calendar feed's address stops working.
        crate::models::attendance::forget_calendar_feed(conn, user_id)?;
        if let Some(phone) = &phone {
            // Sign-in codes and texts not yet sent to the phone go with it.
            crate::auth::otp::forget(conn, phone)?;
            crate::sms::outbox::forget_pending(conn, phone)?;
        }
        diesel::update(users::table.find(user_id))
            .set((
                users::phone.eq(None::<String>),
                users::email.eq(None::<String>),
                // Not a valid hash: nothing can log in as this account again.
                users::password_hash.eq("!erased"),
                users::display_name.eq(ERASED_NAME),
                users::role.eq(Role::Resident),
                users::home_lat.eq(None::<f64>),
                users::home_lon.eq(None::<f64>),
                users::province.eq(None::<String>),
                users::quiet_hours_start.eq(None::<String>),
                users::quiet_hours_end.eq(None::<String>),
                users::reminders_enabled.eq(false),
                users::updated_at.eq(now),
                users::deleted_at.eq(now),
            ))
            .execute(conn)?;
        crate::models::audit::record(conn, user_id, "account_erased", Some(user_id), None)?;
        Ok(erased)
    })
}

/// One login session, as its owner's export shows it.
pub type LoginRecord = (
    String,
    NaiveDateTime,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<String>,
    Option<String>,
);

/// Every login session of the person (id, started, last used, revoked, why, device), oldest
/// first.
pub fn login_history(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<LoginRecord>> {
    auth_sessions::table
        .filter(auth_sessions::user_id.eq(user_id))
        .select((
            auth_sessions::id,
            auth_sessions::created_at,
            auth_sessions::last_used_at,
            auth_sessions::revoked_at,
            auth_sessions::revoked_reason,
            auth_sessions::user_agent,
        ))
        .order(auth_sessions::created_at.asc())
        .load(conn)
}

/// When failed sign-ins under any of `logins` (phone, e-mail) were recorded, oldest first.
pub fn failed_login_times(
    conn: &mut DbConn,
    keyer: &LoginKeyer,
    logins: &[String],
) -> QueryResult<Vec<NaiveDateTime>> {
    let keys: Vec<String> = logins.iter().map(|l| keyer.key(l)).collect();
    login_failures::table
        .filter(login_failures::login_key.eq_any(keys))
        .select(login_failures::failed_at)
        .order(login_failures::failed_at.asc())
        .load(conn)
}

/// The person's whole inbox, including what is still to be sent, oldest first.
pub fn whole_inbox(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<Notification>> {
    notifications::table
        .filter(notifications::user_id.eq(user_id))
        .select(Notification::as_select())
        .order(notifications::created_at.asc())
        .load(conn)
}
