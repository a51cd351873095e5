//! *A session*: its roster with search, one tap per person for attended or no-show,
//! walk-ins, giving a seat up, the CSV, rescheduling, resizing, cancelling and messaging
//! everyone enrolled. Each action is the API's operation; each confirmation says how many
//! people will be told.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::domain::{
    CourseSessionId, DisplayName, EnrollmentId, EnrollmentStatus, Locale, Phone, SessionStatus,
};
use crate::error::{ApiError, FieldError};
use crate::handlers::fields::{accept, required_text};
use crate::handlers::roster::{self, RosterLine};
use crate::handlers::with_db;
use crate::i18n::Code;
use crate::models::course_sessions::{CourseSession, SessionChange};
use crate::models::{centers, courses, enrollments};
use crate::ops::broadcasts::{AudienceInput, NewBroadcast};
use crate::ops::enrollments::{EnrollOutcome, Retry, WalkIn};
use crate::ops::{self};
use crate::push::notify::PushPolicy;

use super::session::{ConsoleForm, Posted, Staff};
use super::today::{course_title, ScheduleForm, SCHEDULE_FIELDS};
use super::view::{html, schedule_fields, see_other, FormErrors, InputField, Shell};
use super::words::{self, bangkok, Words};
use super::{ConsoleError, PageResult};

/// What the last action did, from `?done=` after its redirect.
pub fn notice(w: &'static Words, done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "attendance" => w.done_attendance,
        "walk_in" => w.done_walk_in,
        "waitlisted" => w.done_waitlisted,
        "released" => w.done_released,
        "updated" => w.done_updated,
        "cancelled" => w.done_cancelled,
        "created" => w.done_created,
        "message" => w.done_message,
        _ => return None,
    })
}

/// A phone as people in Thailand write it: `081-234-5678`.
fn local_phone(e164: &str) -> String {
    match e164.strip_prefix("+66") {
        Some(rest) if rest.len() == 9 => format!("0{}-{}-{}", &rest[..2], &rest[2..5], &rest[5..]),
        Some(rest) if rest.len() == 8 => format!("0{}-{}-{}", &rest[..1], &rest[1..4], &rest[4..]),
        _ => e164.to_string(),
    }
}

/// Whether a roster line matches what was typed into the search: part of the name, or
/// part of the phone however it is written (`081 234`, `+6681…`).
fn matches(line: &RosterLine, query: &str) -> bool {
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
}

fn person_row(locale: Locale, line: &RosterLine) -> PersonRow {
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
    }
}

/// How many people a change to the session tells: everyone with a seat or waiting.
fn people_to_tell(lines: &[RosterLine]) -> usize {
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

struct Loaded {
    session: CourseSession,
    facts: SessionFacts,
    lines: Vec<RosterLine>,
}

async fn load(staff: &Staff, pool: &web::Data<DbPool>, id: String) -> Result<Loaded, ConsoleError> {
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

fn here(req: &HttpRequest) -> String {
    match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    }
}

/// A fresh key for a form that must not take effect twice (a double tap on "Enroll").
fn once_key() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

#[derive(Default)]
struct Typed {
    phone: String,
    name: String,
    title: String,
    body: String,
}

#[derive(Template)]
#[template(path = "console/session.html")]
struct SessionPage {
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
    /// An action on one person was refused (shown above the roster).
    roster_error: Option<String>,
}

/// Where a walk-in stands: the phone to look up, then either the account it found or a
/// name for a new one.
#[derive(Default)]
struct WalkInStep {
    /// The phone as stored (E.164), once looked up.
    phone: Option<String>,
    /// The account's name, when the phone has one.
    found: Option<String>,
    /// Their status here, when already on the roster.
    on_roster: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
pub struct SessionQuery {
    q: Option<String>,
    done: Option<String>,
    refused: Option<String>,
    /// A walk-in's phone to look up.
    phone: Option<String>,
}

struct Extra {
    typed: Typed,
    walk_in_errors: FormErrors,
    message_errors: FormErrors,
}

async fn render_session(
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
    let status = if extra.walk_in_errors.is_empty() && extra.message_errors.is_empty() {
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
    let extra = Extra {
        typed: Typed::default(),
        walk_in_errors: FormErrors::default(),
        message_errors: FormErrors::default(),
    };
    render_session(&req, staff, &pool, path.into_inner(), &query, extra).await
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

#[derive(Debug, Deserialize)]
pub struct WalkInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    once: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    name: String,
}

impl ConsoleForm for WalkInForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /console/sessions/{id}/walk-in`: the API's walk-in enrollment. The form's
/// one-time key makes a double tap one enrollment.
pub async fn walk_in(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    policy: web::Data<PushPolicy>,
    settings: web::Data<Settings>,
    path: web::Path<String>,
    posted: Posted<WalkInForm>,
) -> PageResult {
    let Posted { staff, form } = posted;
    let locale = staff.locale;
    let id = path.into_inner();
    let mut errors = Vec::new();
    let phone = accept(&mut errors, "phone", Phone::parse(&form.phone));
    let name = if form.name.trim().is_empty() {
        // A known phone needs no name; a new one is refused by the operation.
        None
    } else {
        accept(&mut errors, "name", DisplayName::parse(&form.name))
    };
    let typed = Typed {
        phone: form.phone.clone(),
        name: form.name.clone(),
        ..Typed::default()
    };
    let refused = |errors: FormErrors, typed: Typed| Extra {
        typed,
        walk_in_errors: errors,
        message_errors: FormErrors::default(),
    };
    let no_query = SessionQuery {
        q: None,
        done: None,
        refused: None,
        phone: None,
    };
    let Some(phone) = phone.filter(|_| errors.is_empty()) else {
        let mut shown = FormErrors::default();
        shown.add_all(locale, &errors, &[]);
        return render_session(&req, staff, &pool, id, &no_query, refused(shown, typed)).await;
    };
    let retry = (!form.once.is_empty() && form.once.len() <= 64).then(|| Retry {
        key: format!("console:{}", form.once),
        fingerprint: format!(
            "{:x}",
            Sha256::digest(format!(
                "walk-in {id}\n{}\n{}",
                phone.as_str(),
                form.name.trim()
            ))
        ),
    });
    let actor = staff.actor();
    let limits = settings.limits;
    let session_id = CourseSessionId::from_raw(id.clone());
    let outcome = with_db(&pool, move |conn| {
        let who = match name {
            Some(display_name) => WalkIn::Phone {
                phone,
                display_name,
            },
            None => match crate::models::users::find_by_login(conn, phone.as_str())? {
                Some(user) => WalkIn::Account(user.id),
                None => return Err(ApiError::field("name", Code::Required)),
            },
        };
        ops::enrollments::enroll_walk_in(
            conn,
            &policy,
            &limits,
            &actor,
            &session_id,
            who,
            retry.as_ref(),
            |enrolled| Ok(enrolled.enrollment.status.as_str().to_string()),
        )
    })
    .await;
    match outcome {
        Ok(EnrollOutcome::Enrolled { body, .. } | EnrollOutcome::Replayed { body, .. }) => {
            let done = if body == EnrollmentStatus::Waitlisted.as_str() {
                "waitlisted"
            } else {
                "walk_in"
            };
            Ok(see_other(format!("/console/sessions/{id}?done={done}")))
        }
        Err(e) => {
            let shown =
                FormErrors::from_api(locale, e, &[("user_id", "phone"), ("display_name", "name")])?;
            render_session(&req, staff, &pool, id, &no_query, refused(shown, typed)).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct AttendanceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
}

impl ConsoleForm for AttendanceForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

fn back_to_roster(session_id: &str, q: &str, outcome: (&str, &str), anchor: &str) -> HttpResponse {
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
/// `PATCH /enrollments/{id}`). A refusal is shown above the roster; nothing changes.
pub async fn mark_attendance(
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    posted: Posted<AttendanceForm>,
) -> PageResult {
    let Posted { staff, form } = posted;
    let locale = staff.locale;
    let enrollment_id = EnrollmentId::from_raw(path.into_inner());
    let status = match form.status.as_str() {
        "attended" => EnrollmentStatus::Attended,
        "no_show" => EnrollmentStatus::NoShow,
        _ => return Err(ConsoleError::BadForm(locale)),
    };
    let actor = staff.actor();
    let id = enrollment_id.clone();
    let outcome = with_db(&pool, move |conn| {
        let session_id = enrollments::find(conn, &id)?
            .ok_or(ApiError::NotFound)?
            .session_id;
        Ok((
            session_id,
            ops::enrollments::mark_attendance(conn, &actor, &id, status),
        ))
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    let anchor = format!("e-{enrollment_id}");
    Ok(match outcome {
        (session_id, Ok(_)) => {
            back_to_roster(&session_id, &form.q, ("done", "attendance"), &anchor)
        }
        (session_id, Err(e)) => {
            let code = refusal_code(locale, e)?;
            back_to_roster(&session_id, &form.q, ("refused", code.as_str()), &anchor)
        }
    })
}

/// The code of a refusal shown on the page it came from; not found, forbidden and
/// failures become the error page.
fn refusal_code(locale: Locale, error: ApiError) -> Result<Code, ConsoleError> {
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
struct ConfirmPage {
    shell: Shell,
    s: SessionFacts,
    question: String,
    detail: String,
    action: String,
    hidden: Vec<(&'static str, String)>,
    button: &'static str,
    back: String,
    error: Option<String>,
}

/// `GET /console/enrollments/{id}/release`: "Give up this person's seat?"
pub async fn release_form(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> PageResult {
    let locale = staff.locale;
    let w = words::words(locale);
    let id = EnrollmentId::from_raw(path.into_inner());
    let lookup = id.clone();
    let session_id = with_db(&pool, move |conn| {
        Ok(enrollments::find(conn, &lookup)?.map(|e| e.session_id))
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?
    .ok_or(ConsoleError::NotFound(locale))?;
    let loaded = load(&staff, &pool, session_id.to_string()).await?;
    let line = loaded
        .lines
        .iter()
        .find(|l| l.id == id)
        .ok_or(ConsoleError::NotFound(locale))?;
    let page = ConfirmPage {
        shell: Shell::new(&staff, w.give_up_seat, here(&req), "today"),
        question: format!("{}: {}", w.give_up_seat, line.user.display_name),
        detail: w.give_up_seat_confirm.to_string(),
        action: format!("/console/enrollments/{id}/release"),
        hidden: Vec::new(),
        button: w.give_up_seat,
        back: format!("{}#e-{id}", loaded.facts.href),
        s: loaded.facts,
        error: None,
    };
    Ok(html(StatusCode::OK, page.render()))
}

#[derive(Debug, Deserialize)]
pub struct PlainForm {
    #[serde(default)]
    csrf: String,
}

impl ConsoleForm for PlainForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /console/enrollments/{id}/release`: the API's `DELETE /enrollments/{id}`; the
/// waitlist moves up and the person is told. Given up already (a second tap) is not an
/// error: the roster shows it.
pub async fn release_seat(
    pool: web::Data<DbPool>,
    policy: web::Data<PushPolicy>,
    path: web::Path<String>,
    posted: Posted<PlainForm>,
) -> PageResult {
    let locale = posted.staff.locale;
    let actor = posted.staff.actor();
    let id = EnrollmentId::from_raw(path.into_inner());
    let lookup = id.clone();
    let (session_id, outcome) = with_db(&pool, move |conn| {
        let enrollment = enrollments::find(conn, &lookup)?.ok_or(ApiError::NotFound)?;
        let session_id = enrollment.session_id.clone();
        ops::course_sessions::find_managed(conn, &actor, &session_id)?;
        let outcome = if enrollment.status == EnrollmentStatus::Cancelled {
            Ok(enrollment)
        } else {
            ops::enrollments::release_for(conn, &policy, &actor, &lookup)
        };
        Ok((session_id, outcome))
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    let anchor = format!("e-{id}");
    Ok(match outcome {
        Ok(_) => back_to_roster(&session_id, "", ("done", "released"), "roster"),
        Err(e) => back_to_roster(
            &session_id,
            "",
            ("refused", refusal_code(locale, e)?.as_str()),
            &anchor,
        ),
    })
}

/// `GET /console/sessions/{id}/cancel`: "Cancel this session? N people will be told"
pub async fn cancel_form(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> PageResult {
    let w = words::words(staff.locale);
    let loaded = load(&staff, &pool, path.into_inner()).await?;
    if !loaded.facts.scheduled {
        return Err(ConsoleError::NotFound(staff.locale));
    }
    let page = ConfirmPage {
        shell: Shell::new(&staff, w.cancel_session, here(&req), "today"),
        question: w.cancel_session_confirm.to_string(),
        detail: words::people_told(staff.locale, people_to_tell(&loaded.lines)),
        action: format!("{}/cancel", loaded.facts.href),
        hidden: Vec::new(),
        button: w.cancel_session,
        back: loaded.facts.href.clone(),
        s: loaded.facts,
        error: None,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// `POST /console/sessions/{id}/cancel`: the API's `POST /sessions/{id}/cancel`.
pub async fn cancel_session(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    posted: Posted<PlainForm>,
) -> PageResult {
    let staff = posted.staff;
    let locale = staff.locale;
    let actor = staff.actor();
    let id = CourseSessionId::from_raw(path.into_inner());
    let target = id.clone();
    let cancelled = with_db(&pool, move |conn| {
        ops::course_sessions::cancel(conn, &actor, &target)
    })
    .await;
    match cancelled {
        Ok(_) => Ok(see_other(format!("/console/sessions/{id}?done=cancelled"))),
        Err(e) => {
            let code = refusal_code(locale, e)?;
            let query = SessionQuery {
                q: None,
                done: None,
                refused: Some(code.as_str().to_string()),
                phone: None,
            };
            let extra = Extra {
                typed: Typed::default(),
                walk_in_errors: FormErrors::default(),
                message_errors: FormErrors::default(),
            };
            render_session(&req, staff, &pool, id.to_string(), &query, extra).await
        }
    }
}

/// A session's schedule as its edit form holds it.
#[derive(Debug, Default, Deserialize)]
pub struct EditForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    schedule: ScheduleForm,
    /// Set by the confirmation page: the person has read how many will be told.
    #[serde(default)]
    confirmed: String,
}

impl ConsoleForm for EditForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Template)]
#[template(path = "console/edit_session.html")]
struct EditPage {
    shell: Shell,
    s: SessionFacts,
    fields: Vec<InputField>,
    errors: FormErrors,
}

fn edit_page(
    req: &HttpRequest,
    staff: &Staff,
    loaded: Loaded,
    form: EditForm,
    errors: FormErrors,
) -> HttpResponse {
    let w = words::words(staff.locale);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = EditPage {
        shell: Shell::new(staff, w.change_session, here(req), "today"),
        s: loaded.facts,
        fields: schedule_fields(w, |name| form.schedule.value(name), &errors),
        errors,
    };
    html(status, page.render())
}

/// `GET /console/sessions/{id}/edit`
pub async fn edit_form(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> PageResult {
    let loaded = load(&staff, &pool, path.into_inner()).await?;
    if !loaded.facts.scheduled {
        return Err(ConsoleError::NotFound(staff.locale));
    }
    let (starts, ends) = (
        bangkok(loaded.session.starts_at),
        bangkok(loaded.session.ends_at),
    );
    let form = EditForm {
        schedule: ScheduleForm {
            date: starts.format("%Y-%m-%d").to_string(),
            starts: starts.format("%H:%M").to_string(),
            ends: ends.format("%H:%M").to_string(),
            capacity: loaded.session.capacity.to_string(),
            room: loaded.session.room.clone().unwrap_or_default(),
            instructor: loaded.session.instructor.clone().unwrap_or_default(),
        },
        ..EditForm::default()
    };
    Ok(edit_page(&req, &staff, loaded, form, FormErrors::default()))
}

/// `POST /console/sessions/{id}/edit`: first says how many people the change tells, then
/// (confirmed) makes it with the API's `PATCH /sessions/{id}`.
pub async fn edit_session(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    policy: web::Data<PushPolicy>,
    path: web::Path<String>,
    posted: Posted<EditForm>,
) -> PageResult {
    let Posted { staff, form } = posted;
    let locale = staff.locale;
    let w = words::words(locale);
    let loaded = load(&staff, &pool, path.into_inner()).await?;
    let mut errors: Vec<FieldError> = Vec::new();
    let session = &loaded.session;
    let mut change = SessionChange::default();
    if let Some(schedule) = form.schedule.parse(&mut errors) {
        if schedule.starts_at != session.starts_at || schedule.ends_at != session.ends_at {
            ops::course_sessions::check_times(schedule.starts_at, schedule.ends_at, &mut errors);
            change.starts_at = Some(schedule.starts_at);
            change.ends_at = Some(schedule.ends_at);
        }
        if schedule.capacity != session.capacity {
            change.capacity = Some(schedule.capacity);
        }
        if schedule.room != session.room {
            change.room = Some(schedule.room);
        }
        if schedule.instructor != session.instructor {
            change.instructor = Some(schedule.instructor);
        }
    }
    if !errors.is_empty() {
        let mut shown = FormErrors::default();
        shown.add_all(locale, &errors, SCHEDULE_FIELDS);
        return Ok(edit_page(&req, &staff, loaded, form, shown));
    }
    let moved = change.starts_at.is_some();
    let promoted = change.capacity.map_or(0, |c| {
        (c - session.capacity).clamp(0, session.waitlist_count)
    }) as usize;
    let told = if moved {
        people_to_tell(&loaded.lines)
    } else {
        promoted
    };
    if form.confirmed != "yes" {
        let mut hidden = form.schedule.hidden();
        hidden.push(("confirmed", "yes".to_string()));
        let page = ConfirmPage {
            shell: Shell::new(&staff, w.change_session, here(&req), "today"),
            question: w.change_session.to_string(),
            detail: words::people_told(locale, told),
            action: format!("{}/edit", loaded.facts.href),
            hidden,
            button: w.save_changes,
            back: format!("{}/edit", loaded.facts.href),
            s: loaded.facts,
            error: None,
        };
        return Ok(html(StatusCode::OK, page.render()));
    }
    let actor = staff.actor();
    let id = session.id.clone();
    let updated = with_db(&pool, move |conn| {
        ops::course_sessions::update(conn, &policy, &actor, &id, change)
    })
    .await;
    match updated {
        Ok(s) => Ok(see_other(format!(
            "/console/sessions/{}?done=updated",
            s.id
        ))),
        Err(e) => {
            let shown = FormErrors::from_api(locale, e, SCHEDULE_FIELDS)?;
            Ok(edit_page(&req, &staff, loaded, form, shown))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct MessageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

impl ConsoleForm for MessageForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /console/sessions/{id}/message`: a push to everyone enrolled in the session (the
/// API's broadcast to a session audience, within the same daily limit). One text is sent
/// to readers of both languages.
pub async fn message_session(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    settings: web::Data<Settings>,
    path: web::Path<String>,
    posted: Posted<MessageForm>,
) -> PageResult {
    let Posted { staff, form } = posted;
    let locale = staff.locale;
    let id = path.into_inner();
    let mut errors = Vec::new();
    let title = accept(&mut errors, "title", required_text(&form.title, 65));
    let body = accept(&mut errors, "body", required_text(&form.body, 240));
    let typed = Typed {
        title: form.title.clone(),
        body: form.body.clone(),
        ..Typed::default()
    };
    let no_query = SessionQuery {
        q: None,
        done: None,
        refused: None,
        phone: None,
    };
    let refused = |errors: FormErrors, typed: Typed| Extra {
        typed,
        walk_in_errors: FormErrors::default(),
        message_errors: errors,
    };
    let (Some(title), Some(body), true) = (title, body, errors.is_empty()) else {
        let mut shown = FormErrors::default();
        shown.add_all(locale, &errors, &[]);
        return render_session(&req, staff, &pool, id, &no_query, refused(shown, typed)).await;
    };
    let new = NewBroadcast {
        audience: AudienceInput {
            kind: "session".into(),
            value: Some(id.clone()),
        },
        title_th: title.clone(),
        title_en: title,
        body_th: body.clone(),
        body_en: body,
        send_at: None,
    };
    let actor = staff.actor();
    let per_day = settings.limits.broadcasts_per_day;
    let created = with_db(&pool, move |conn| {
        ops::broadcasts::create(conn, &actor, per_day, new)
    })
    .await;
    match created {
        Ok(_) => Ok(see_other(format!(
            "/console/sessions/{id}?done=message#message"
        ))),
        Err(e) => {
            let shown =
                FormErrors::from_api(locale, e, &[("title.th", "title"), ("body.th", "body")])?;
            render_session(&req, staff, &pool, id, &no_query, refused(shown, typed)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;
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
