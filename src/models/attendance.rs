//! The rows of the attendance loop: check-in tickets, certificates and calendar feeds, and
//! the facts a ticket, certificate or calendar entry shows (session, course, center).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::domain::{
    random_code, EnrollmentId, EnrollmentStatus, Locale, UserId, CERTIFICATE_SYMBOLS,
    TICKET_SYMBOLS,
};
use crate::models::course_sessions::CourseSession;
use crate::models::enrollments::Enrollment;
use crate::schema::{
    calendar_feeds, centers, certificates, course_sessions as sessions_t, courses, enrollments,
    tickets, users,
};

/// Inserts a row keyed by a fresh random code unless the enrollment already has one (the
/// unique index decides between two requests at once); a clash of codes, odds 2^-44 per
/// pair, draws again.
fn code_for(
    conn: &mut DbConn,
    symbols: usize,
    existing: impl Fn(&mut DbConn) -> QueryResult<Option<String>>,
    insert: impl Fn(&mut DbConn, &str) -> QueryResult<usize>,
) -> QueryResult<String> {
    for _ in 0..8 {
        if let Some(code) = existing(conn)? {
            return Ok(code);
        }
        let code = random_code(symbols);
        if insert(conn, &code)? == 1 {
            return Ok(code);
        }
    }
    Err(diesel::result::Error::RollbackTransaction)
}

/// The enrollment's check-in code, if it has one yet.
pub fn existing_ticket_code(
    conn: &mut DbConn,
    enrollment_id: &EnrollmentId,
) -> QueryResult<Option<String>> {
    tickets::table
        .filter(tickets::enrollment_id.eq(enrollment_id))
        .select(tickets::code)
        .first(conn)
        .optional()
}

/// The enrollment's check-in code, made on first use.
pub fn ticket_code(conn: &mut DbConn, enrollment_id: &EnrollmentId) -> QueryResult<String> {
    code_for(
        conn,
        TICKET_SYMBOLS,
        |conn| existing_ticket_code(conn, enrollment_id),
        |conn, code| {
            insert_or_keep!(
                conn,
                tickets::table,
                (
                    tickets::code.eq(code),
                    tickets::enrollment_id.eq(enrollment_id),
                    tickets::created_at.eq(db::now()),
                )
            )
        },
    )
}

/// The enrollment a check-in code belongs to.
pub fn enrollment_by_ticket(conn: &mut DbConn, code: &str) -> QueryResult<Option<Enrollment>> {
    tickets::table
        .inner_join(enrollments::table)
        .filter(tickets::code.eq(code))
        .select(Enrollment::as_select())
        .first(conn)
        .optional()
}

/// Issues the certificate of an attended enrollment (once: a second call keeps the first).
pub fn issue_certificate(conn: &mut DbConn, enrollment: &Enrollment) -> QueryResult<String> {
    code_for(
        conn,
        CERTIFICATE_SYMBOLS,
        |conn| {
            certificates::table
                .filter(certificates::enrollment_id.eq(&enrollment.id))
                .select(certificates::code)
                .first(conn)
                .optional()
        },
        |conn, code| {
            insert_or_keep!(
                conn,
                certificates::table,
                (
                    certificates::code.eq(code),
                    certificates::enrollment_id.eq(&enrollment.id),
                    certificates::user_id.eq(&enrollment.user_id),
                    certificates::issued_at.eq(db::now()),
                )
            )
        },
    )
}

/// What a seat is for: the session with its course and center, as tickets, calendars and
/// certificates show them.
#[derive(Debug, Clone, Queryable)]
pub struct SeatFacts {
    pub enrollment: Enrollment,
    pub session: CourseSession,
    pub course_th: String,
    pub course_en: String,
    pub center_th: String,
    pub center_en: String,
    pub district: String,
    pub province: String,
}

impl SeatFacts {
    /// The course's title in `locale`.
    pub fn course(&self, locale: Locale) -> &str {
        match locale {
            Locale::Th => &self.course_th,
            Locale::En => &self.course_en,
        }
    }

    /// The center's name in `locale`.
    pub fn center(&self, locale: Locale) -> &str {
        match locale {
            Locale::Th => &self.center_th,
            Locale::En => &self.center_en,
        }
    }
}

/// The facts of one enrollment.
pub fn seat_facts(
    conn: &mut DbConn,
    enrollment_id: &EnrollmentId,
) -> QueryResult<Option<SeatFacts>> {
    Ok(seats_where(
        conn,
        SeatFilter::Enrollments(std::slice::from_ref(enrollment_id)),
    )?
    .into_iter()
    .next())
}

/// Which seats to read.
enum SeatFilter<'a> {
    Enrollments(&'a [EnrollmentId]),
    /// A person's seats (confirmed, attended, or given up) in sessions ending after the time.
    Calendar(&'a UserId, NaiveDateTime),
}

fn seats_where(conn: &mut DbConn, filter: SeatFilter<'_>) -> QueryResult<Vec<SeatFacts>> {
    let mut query = enrollments::table
        .inner_join(
            sessions_t::table
                .inner_join(courses::table)
                .inner_join(centers::table),
        )
        .select((
            Enrollment::as_select(),
            CourseSession::as_select(),
            courses::title_th,
            courses::title_en,
            centers::name_th,
            centers::name_en,
            centers::district,
            centers::province,
        ))
        .into_boxed();
    match filter {
        SeatFilter::Enrollments(ids) => query = query.filter(enrollments::id.eq_any(ids)),
        SeatFilter::Calendar(user_id, since) => {
            query = query
                .filter(enrollments::user_id.eq(user_id))
                .filter(enrollments::status.ne(EnrollmentStatus::Waitlisted))
                .filter(sessions_t::ends_at.gt(since))
                .order((sessions_t::starts_at.asc(), enrollments::id.asc()))
        }
    }
    query.load(conn)
}

/// A person's seats for their calendar feed: sessions ending after `since`, cancelled
/// ones and seats given up included (so calendars that have them mark them cancelled).
pub fn calendar_seats(
    conn: &mut DbConn,
    user_id: &UserId,
    since: NaiveDateTime,
) -> QueryResult<Vec<SeatFacts>> {
    seats_where(conn, SeatFilter::Calendar(user_id, since))
}

/// A certificate as its pages show it.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub code: String,
    /// The person's name; `None` once they erased their account.
    pub name: Option<String>,
    pub seat: SeatFacts,
}

fn certificates_where(
    conn: &mut DbConn,
    code: Option<&str>,
    user_id: Option<&UserId>,
) -> QueryResult<Vec<Certificate>> {
    let mut query = certificates::table
        .inner_join(users::table.on(users::id.eq(certificates::user_id)))
        .filter(
            certificates::enrollment_id.eq_any(
                enrollments::table
                    .filter(enrollments::status.eq(EnrollmentStatus::Attended))
                    .select(enrollments::id),
            ),
        )
        .select((
            certificates::code,
            certificates::enrollment_id,
            users::display_name,
            users::deleted_at,
        ))
        .order(certificates::issued_at.desc())
        .into_boxed();
    if let Some(code) = code {
        query = query.filter(certificates::code.eq(code));
    }
    if let Some(user_id) = user_id {
        query = query.filter(certificates::user_id.eq(user_id));
    }
    let rows: Vec<(String, EnrollmentId, String, Option<NaiveDateTime>)> = query.load(conn)?;
    // The seats in one read, not one per certificate.
    let ids: Vec<EnrollmentId> = rows.iter().map(|(_, id, _, _)| id.clone()).collect();
    let mut seats: std::collections::HashMap<EnrollmentId, SeatFacts> =
        seats_where(conn, SeatFilter::Enrollments(&ids))?
            .into_iter()
            .map(|seat| (seat.enrollment.id.clone(), seat))
            .collect();
    let mut found: Vec<Certificate> = rows
        .into_iter()
        .filter_map(|(code, enrollment_id, name, deleted_at)| {
            Some(Certificate {
                code,
                name: deleted_at.is_none().then_some(name),
                seat: seats.remove(&enrollment_id)?,
            })
        })
        .collect();
    found.sort_by_key(|c| std::cmp::Reverse(c.seat.session.starts_at));
    Ok(found)
}

/// The certificate with this code, if it stands (attendance not corrected since).
pub fn certificate(conn: &mut DbConn, code: &str) -> QueryResult<Option<Certificate>> {
    Ok(certificates_where(conn, Some(code), None)?
        .into_iter()
        .next())
}

/// A person's certificates, the most recent session first.
pub fn certificates_of(conn: &mut DbConn, user_id: &UserId) -> QueryResult<Vec<Certificate>> {
    certificates_where(conn, None, Some(user_id))
}

/// Gives the person a new feed token (its hash), replacing any earlier one.
pub fn replace_calendar_feed(
    conn: &mut DbConn,
    user_id: &UserId,
    token_hash: &str,
) -> QueryResult<()> {
    db::write_transaction(conn, |conn| {
        diesel::delete(calendar_feeds::table.find(user_id)).execute(conn)?;
        diesel::insert_into(calendar_feeds::table)
            .values((
                calendar_feeds::user_id.eq(user_id),
                calendar_feeds::token_hash.eq(token_hash),
                calendar_feeds::created_at.eq(db::now()),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Whose feed a token hash opens (nobody's once replaced, or once the person is erased).
pub fn calendar_feed_owner(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<UserId>> {
    calendar_feeds::table
        .inner_join(users::table.on(users::id.eq(calendar_feeds::user_id)))
        .filter(calendar_feeds::token_hash.eq(token_hash))
        .filter(users::deleted_at.is_null())
        .select(calendar_feeds::user_id)
        .first(conn)
        .optional()
}

/// Stops the person's feed (erasure).
pub fn forget_calendar_feed(conn: &mut DbConn, user_id: &UserId) -> QueryResult<usize> {
    diesel::delete(calendar_feeds::table.find(user_id)).execute(conn)
}
