//! *A session*: its roster with search, one tap per person for attended or no-show,
//! walk-ins, giving a seat up, the CSV, rescheduling, resizing, cancelling and messaging
//! everyone enrolled. Each action is the API's operation; each confirmation says how many
//! people will be told.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::{self, DbPool};
use crate::domain::{CourseSessionId, EnrollmentStatus, Locale, Phone, SessionStatus};
use crate::error::ApiError;
use crate::handlers::roster::{self, RosterLine};
use crate::handlers::with_db;
use crate::i18n::Code;
use crate::models::course_sessions::CourseSession;
use crate::models::{centers, courses};

use super::session::Staff;
use super::today::course_title;
use super::view::{here, html, see_other, FormErrors, Shell};
use super::words::{self, bangkok, Words};
use super::{ConsoleError, PageResult};

/// What the last action did, from `?done=` after its redirect.
pub fn notice(w: &'static Words, done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "attendance" => w.done_attendance,
        "checked_in" => w.done_checked_in,
        "already_in" => w.done_already_in,
        "walk_in" => w.done_walk_in,
        "waitlisted" => w.done_waitlisted,
        "released" => w.done_released,
        "updated" => w.done_updated,
        "cancelled" => w.done_cancelled,
        "created" => w.done_created,
        "message" => w.done_message,
        "role" => w.done_role,
        "sign_ins" => w.done_sign_ins,
        _ => return None,
    })
}

/// A phone as people in Thailand write it: `081-234-5678`.
pub fn local_phone(e164: &str) -> String {
    match e164.strip_prefix("+66") {
        Some(rest) if rest.len() == 9 => format!("0{}-{}-{}", &rest[..2], &rest[2..5], &rest[5..]),
        Some(rest) if rest.len() == 8 => format!("0{}-{}-{}", &rest[..1], &rest[1..4], &rest[4..]),
        _ => e164.to_string(),
    }
}

/// Whether a roster line matches what was typed into the search: part of the name, or
/// part of the phone however it is written (`081 234`, `+6681…`).
pub(super) fn matches(line: &RosterLine, query: &str) -> bool {
    let query = query.trim();
    if query.is_empty() {
        return true;
    }
    if line
        .user
        .display_name
        .to_lowercase()
        .contains(&query.to_lowercase())
    {
        return true;
    }
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 3 || digits.len() * 2 < query.chars().filter(|c| !c.is_whitespace()).count() {
        return false;
    }
    let digits = match digits.strip_prefix('0') {
        Some(rest) => format!("66{rest}"),
        None => digits,
    };
    line.user.phone.as_deref().is_some_and(|phone| {
        phone
            .chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
            .contains(&digits)
    })
}

/// One person on the roster as the page shows them.
pub struct PersonRow {
    pub anchor: String,
    pub enrollment_id: String,
    pub name: String,
    pub phone: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub waitlist_position: Option<i64>,
    /// Attended / no-show buttons (a seat holder, or attendance already recorded).
    pub can_mark: bool,
    pub attended: bool,
    pub no_show: bool,
    /// A seat or a waitlist place that can be given up.
    pub can_release: bool,
    /// The person answered "still coming" to their reminder.
    pub confirmed: bool,
}

pub(super) fn person_row(locale: Locale, line: &RosterLine) -> PersonRow {
    let status = line.status;
    PersonRow {
        anchor: format!("e-{}", line.id),
        enrollment_id: line.id.to_string(),
        name: line.user.display_name.clone(),
        phone: line
            .user
            .phone
            .as_deref()
            .map(local_phone)
            .unwrap_or_default(),
        status: words::enrollment_status(locale, status),
        status_class: match status {
            EnrollmentStatus::Confirmed => "status-open",
            EnrollmentStatus::Waitlisted => "status-waiting",
            EnrollmentStatus::Attended => "status-done",
            EnrollmentStatus::NoShow | EnrollmentStatus::Cancelled => "status-cancelled",
        },
        waitlist_position: line.waitlist_position,
        can_mark: matches!(
            status,
            EnrollmentStatus::Confirmed | EnrollmentStatus::Attended | EnrollmentStatus::NoShow
        ),
        attended: status == EnrollmentStatus::Attended,
        no_show: status == EnrollmentStatus::NoShow,
        can_release: matches!(
            status,
            EnrollmentStatus::Confirmed | EnrollmentStatus::Waitlisted
        ),
        confirmed: line.confirmed_at.is_some() && status == EnrollmentStatus::Confirmed,
    }
}

/// How many people a change to the session tells: everyone with a seat or waiting.
pub(super) fn people_to_tell(lines: &[RosterLine]) -> usize {
    lines
        .iter()
        .filter(|l| {
            matches!(
                l.status,
                EnrollmentStatus::Confirmed | EnrollmentStatus::Waitlisted
            )
        })
        .count()
}

/// The facts at the top of a session's pages.
pub struct SessionFacts {
    pub href: String,
    pub course: String,
    pub center: String,
    pub date: String,
    pub time: String,
    pub seats: String,
    pub waiting: Option<String>,
    pub room: String,
    pub instructor: String,
    pub status: &'static str,
    pub scheduled: bool,
}

pub(super) struct Loaded {
    pub(super) session: CourseSession,
    pub(super) facts: SessionFacts,
    pub(super) lines: Vec<RosterLine>,
}

pub(super) async fn load(
    staff: &Staff,
    pool: &web::Data<DbPool>,
    id: String,
) -> Result<Loaded, ConsoleError> {
    let locale = staff.locale;
    let actor = staff.actor();
    let (session, lines, course, center) = with_db(pool, move |conn| {
        let (session, lines) = roster::load(conn, &actor, &CourseSessionId::from_raw(id))?;
        let course = courses::find(conn, &session.course_id)?;
        let center = centers::find(conn, &session.center_id)?;
        Ok((session, lines, course, center))
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    let status = session.status_at(db::now());
    let facts = SessionFacts {
        href: format!("/console/sessions/{}", session.id),
        course: course.as_ref().map_or_else(
            || session.course_id.to_string(),
            |c| course_title(locale, c).to_string(),
        ),
        center: center.map_or_else(String::new, |c| match locale {
            Locale::Th => format!("{} ({})", c.name_th, c.code),
            Locale::En => format!("{} ({})", c.name_en, c.code),
        }),
        date: words::date(locale, session.starts_at),
        time: words::time_range(locale, session.starts_at, session.ends_at),
        seats: format!("{}/{}", session.seats_taken, session.capacity),
        waiting: (session.waitlist_count > 0)
            .then(|| words::waiting(locale, session.waitlist_count)),
        room: session.room.clone().unwrap_or_default(),
        instructor: session.instructor.clone().unwrap_or_default(),
        status: words::session_status(locale, status),
        scheduled: status == SessionStatus::Scheduled,
    };
    Ok(Loaded {
        session,
        facts,
        lines,
    })
}

/// A fresh key for a form that must not take effect twice (a double tap on "Enroll").
pub(super) fn once_key() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

#[derive(Default)]
pub(super) struct Typed {
    pub(super) phone: String,
    pub(super) name: String,
    pub(super) title: String,
    pub(super) body: String,
    pub(super) code: String,
}

#[derive(Template)]
#[template(path = "console/session.html")]
pub(super) struct SessionPage {
    shell: Shell,
    s: SessionFacts,
    people: Vec<PersonRow>,
    enrolled: usize,
    query: String,
    once: String,
    typed: Typed,
    walk_in_errors: FormErrors,
    walk_in: WalkInStep,
    message_errors: FormErrors,
    check_in_errors: FormErrors,
    /// Seats checked in, of seats held (attended or not yet).
    checked_in: usize,
    seated: usize,
    /// The roster's word for `attended`, for the script that keeps it current.
    attended_word: &'static str,
    /// An action on one person was refused (shown above the roster).
    roster_error: Option<String>,
}

/// Where a walk-in stands: the phone to look up, then either the account it found or a
/// name for a new one.
#[derive(Default)]
pub(super) struct WalkInStep {
    /// The phone as stored (E.164), once looked up.
    phone: Option<String>,
    /// The account's name, when the phone has one.
    found: Option<String>,
    /// Their status here, when already on the roster.
    on_roster: Option<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SessionQuery {
    pub(super) q: Option<String>,
    pub(super) done: Option<String>,
    pub(super) refused: Option<String>,
    /// A walk-in's phone to look up.
    pub(super) phone: Option<String>,
}

#[derive(Default)]
pub(super) struct Extra {
    pub(super) typed: Typed,
    pub(super) walk_in_errors: FormErrors,
    pub(super) message_errors: FormErrors,
    pub(super) check_in_errors: FormErrors,
}

pub(super) async fn render_session(
    req: &HttpRequest,
    staff: Staff,
    pool: &web::Data<DbPool>,
    id: String,
    query: &SessionQuery,
    extra: Extra,
) -> PageResult {
    let mut extra = extra;
    let loaded = load(&staff, pool, id).await?;
    let locale = staff.locale;
    let w = words::words(locale);
    let search = query.q.clone().unwrap_or_default();
    // A phone to look up: asked for with "Look up", or sent with a refused walk-in.
    if let Some(raw) = query.phone.as_deref().filter(|p| !p.trim().is_empty()) {
        extra.typed.phone = raw.to_string();
    }
    let mut walk_in = WalkInStep::default();
    if !extra.typed.phone.trim().is_empty() && extra.walk_in_errors.get("phone").is_none() {
        match Phone::parse(&extra.typed.phone) {
            Err(code) => extra.walk_in_errors.add(locale, "phone", code),
            Ok(phone) => {
                let e164 = phone.as_str().to_string();
                let lookup = e164.clone();
                walk_in.found = with_db(pool, move |conn| {
                    Ok(crate::models::users::find_by_login(conn, &lookup)?.map(|u| u.display_name))
                })
                .await
                .map_err(|e| ConsoleError::from_api(locale, e))?;
                walk_in.on_roster = loaded
                    .lines
                    .iter()
                    .find(|l| l.user.phone.as_deref() == Some(e164.as_str()))
                    .map(|l| words::enrollment_status(locale, l.status));
                walk_in.phone = Some(e164);
            }
        }
    }
    let people: Vec<PersonRow> = loaded
        .lines
        .iter()
        .filter(|l| matches(l, &search))
        .map(|l| person_row(locale, l))
        .collect();
    let checked_in = loaded
        .lines
        .iter()
        .filter(|l| l.status == EnrollmentStatus::Attended)
        .count();
    let seated = super::check_in::seated(&loaded.lines);
    let status = if extra.walk_in_errors.is_empty()
        && extra.message_errors.is_empty()
        && extra.check_in_errors.is_empty()
    {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut shell = Shell::new(&staff, loaded.facts.course.clone(), here(req), "today");
    shell.notice = notice(w, query.done.as_deref());
    let page = SessionPage {
        shell,
        enrolled: loaded.lines.len(),
        s: loaded.facts,
        people,
        query: search,
        once: once_key(),
        typed: extra.typed,
        walk_in_errors: extra.walk_in_errors,
        walk_in,
        message_errors: extra.message_errors,
        check_in_errors: extra.check_in_errors,
        checked_in,
        seated,
        attended_word: words::enrollment_status(locale, EnrollmentStatus::Attended),
        roster_error: query
            .refused
            .as_deref()
            .and_then(|word| Code::ALL.iter().find(|c| c.as_str() == word))
            .map(|c| c.message(locale).to_string()),
    };
    Ok(html(status, page.render()))
}

/// `GET /console/sessions/{id}?q=…`
pub async fn session_page(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    query: web::Query<SessionQuery>,
) -> PageResult {
    render_session(
        &req,
        staff,
        &pool,
        path.into_inner(),
        &query,
        Extra::default(),
    )
    .await
}

/// `GET /console/sessions/{id}/roster.csv`: the API's roster CSV.
pub async fn roster_csv(
    staff: Staff,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> PageResult {
    let loaded = load(&staff, &pool, path.into_inner()).await?;
    let csv =
        roster::roster_csv(&loaded.lines).map_err(|e| ConsoleError::from_api(staff.locale, e))?;
    let day = bangkok(loaded.session.starts_at).format("%Y-%m-%d");
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"roster-{day}-{}.csv\"",
                loaded.session.id
            ),
        ))
        .body(csv))
}

pub(super) fn back_to_roster(
    session_id: &str,
    q: &str,
    outcome: (&str, &str),
    anchor: &str,
) -> HttpResponse {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if !q.trim().is_empty() {
        query.append_pair("q", q.trim());
    }
    query.append_pair(outcome.0, outcome.1);
    see_other(format!(
        "/console/sessions/{session_id}?{}#{anchor}",
        query.finish()
    ))
}

/// `POST /console/enrollments/{id}/attendance`: one tap, attended or no-show (the API's
/// The code of a refusal shown on the page it came from; not found, forbidden and
/// failures become the error page.
pub(super) fn refusal_code(locale: Locale, error: ApiError) -> Result<Code, ConsoleError> {
    match error {
        ApiError::Validation(fields) => Ok(fields.first().map_or(Code::InvalidValue, |f| f.code)),
        ApiError::Conflict(code)
        | ApiError::UnprocessableEntity(code)
        | ApiError::BadRequest(code)
        | ApiError::TooManyRequests { code, .. } => Ok(code),
        other => Err(ConsoleError::from_api(locale, other)),
    }
}

/// A question before an action that tells people: what will happen and to how many.
#[derive(Template)]
#[template(path = "console/confirm.html")]
pub(super) struct ConfirmPage {
    pub(super) shell: Shell,
    pub(super) s: SessionFacts,
    pub(super) question: String,
    pub(super) detail: String,
    pub(super) action: String,
    pub(super) hidden: Vec<(&'static str, String)>,
    pub(super) button: &'static str,
    pub(super) back: String,
    pub(super) error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EnrollmentId, UserId};
    use crate::handlers::roster::RosterUser;

    fn line(name: &str, phone: Option<&str>) -> RosterLine {
        RosterLine {
            id: EnrollmentId::from_raw("e1"),
            user: RosterUser {
                id: UserId::from_raw("u1"),
                display_name: name.into(),
                phone: phone.map(str::to_string),
                email: None,
            },
            status: EnrollmentStatus::Confirmed,
            waitlist_position: None,
            created_at: String::new(),
            confirmed_at: None,
        }
    }

    #[test]
    fn the_roster_search_finds_names_and_phones_however_written() {
        let somchai = line("สมชาย ใจดี", Some("+66812345678"));
        for q in [
            "",
            "สมชาย",
            "ใจดี",
            "0812345678",
            "081-234-5678",
            "+66 81 234",
            "5678",
        ] {
            assert!(matches(&somchai, q), "{q}");
        }
        for q in ["สมหญิง", "0899999999", "12", "abc5678xyzw"] {
            assert!(!matches(&somchai, q), "{q}");
        }
        let anna = line("Anna Smith", None);
        assert!(matches(&anna, "anna"));
        assert!(!matches(&anna, "0812"));
    }

    #[test]
    fn phones_are_shown_as_written_in_thailand() {
        assert_eq!(local_phone("+66812345678"), "081-234-5678");
        assert_eq!(local_phone("+6621234567"), "02-123-4567");
        assert_eq!(local_phone("+4420"), "+4420");
    }
}
