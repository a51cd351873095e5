//! *Today*, the landing page (sessions today and in the next 7 days at my centers), and
//! *New session*.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use askama::Template;
use chrono::{NaiveDate, NaiveTime};
use serde::Deserialize;

use crate::db::{self, DbConn, DbPool};
use crate::domain::{CenterId, CourseId, Locale, SessionStatus};
use crate::error::{ApiError, FieldError};
use crate::handlers::fields::{accept, optional_text};
use crate::handlers::with_db;
use crate::i18n::Code;
use crate::models::centers::{self, Center};
use crate::models::course_sessions::{self, CourseSession, SessionFilter};
use crate::models::courses::{self, Course, CourseFilter};
use crate::ops::{self, course_sessions::NewSession, Actor};

use super::session::{ConsoleForm, Posted, Staff};
use super::view::{html, schedule_fields, see_other, FormErrors, InputField, Shell};
use super::words::{self, bangkok, from_bangkok};
use super::{ConsoleError, PageResult};

/// Most sessions Today lists (an admin looking at the whole network without a center).
const MAX_LISTED: i64 = 200;

fn here(req: &HttpRequest) -> String {
    match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    }
}

/// A center as a picker shows it.
pub struct CenterChoice {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

fn center_label(locale: Locale, c: &Center) -> String {
    let name = match locale {
        Locale::Th => &c.name_th,
        Locale::En => &c.name_en,
    };
    format!("{name} ({})", c.code)
}

pub fn course_title(locale: Locale, c: &Course) -> &str {
    match locale {
        Locale::Th => &c.title_th,
        Locale::En => &c.title_en,
    }
}

/// The centers a page is about: staff their own (one of them if chosen); admins the one
/// chosen by ID or code, or every center.
struct Scope {
    /// `None`: every center (admins only).
    center_ids: Option<Vec<CenterId>>,
    choices: Vec<CenterChoice>,
    chosen: Option<Center>,
    /// What the admin typed, to show it again.
    typed: String,
    /// An admin typed a code no center has.
    unknown: bool,
}

fn scope(conn: &mut DbConn, staff: &Staff, wanted: Option<&str>) -> Result<Scope, ApiError> {
    let wanted = wanted.map(str::trim).filter(|w| !w.is_empty());
    if staff.is_admin() {
        let chosen = match wanted {
            None => None,
            Some(w) => match centers::find(conn, &CenterId::from_raw(w))? {
                Some(c) => Some(c),
                None => centers::find_by_code(conn, w)?,
            },
        };
        let unknown = wanted.is_some() && chosen.is_none();
        return Ok(Scope {
            center_ids: match (&chosen, unknown) {
                (Some(c), _) => Some(vec![c.id.clone()]),
                (None, true) => Some(Vec::new()),
                (None, false) => None,
            },
            choices: Vec::new(),
            typed: wanted.unwrap_or_default().to_string(),
            chosen,
            unknown,
        });
    }
    let ids = centers::centers_of_staff(conn, &staff.id)?;
    let mut mine = centers::find_many(conn, &ids)?;
    mine.sort_by(|a, b| a.code.cmp(&b.code));
    let chosen = wanted.and_then(|w| mine.iter().find(|c| *c.id == *w || c.code == w).cloned());
    let choices = mine
        .iter()
        .map(|c| CenterChoice {
            id: c.id.to_string(),
            label: center_label(staff.locale, c),
            selected: chosen.as_ref().is_some_and(|x| x.id == c.id),
        })
        .collect();
    let center_ids = match &chosen {
        Some(c) => vec![c.id.clone()],
        None => mine.iter().map(|c| c.id.clone()).collect(),
    };
    Ok(Scope {
        center_ids: Some(center_ids),
        choices,
        chosen: chosen.or_else(|| (mine.len() == 1).then(|| mine[0].clone())),
        typed: String::new(),
        unknown: false,
    })
}

/// One session in Today's list.
pub struct SessionRow {
    pub href: String,
    pub course: String,
    pub time: String,
    pub seats: String,
    pub waiting: Option<String>,
    pub status: &'static str,
    pub status_class: &'static str,
    pub center: String,
}

/// The sessions of one Bangkok day.
pub struct DayGroup {
    pub heading: String,
    pub rows: Vec<SessionRow>,
}

#[derive(Template)]
#[template(path = "console/today.html")]
struct TodayPage {
    shell: Shell,
    days: Vec<DayGroup>,
    choices: Vec<CenterChoice>,
    typed: String,
    unknown_center: Option<String>,
    new_session_href: Option<String>,
    truncated: bool,
}

#[derive(Debug, Deserialize)]
pub struct TodayQuery {
    center: Option<String>,
    done: Option<String>,
}

fn status_class(status: SessionStatus) -> &'static str {
    match status {
        SessionStatus::Scheduled => "status-open",
        SessionStatus::Cancelled => "status-cancelled",
        SessionStatus::Completed => "status-done",
    }
}

/// The courses and centers sessions name.
struct Names {
    courses: HashMap<CourseId, Course>,
    centers: HashMap<CenterId, Center>,
}

/// Names of the courses and centers of `sessions`.
fn names(conn: &mut DbConn, sessions: &[CourseSession]) -> Result<Names, ApiError> {
    let mut course_ids: Vec<CourseId> = sessions.iter().map(|s| s.course_id.clone()).collect();
    course_ids.sort();
    course_ids.dedup();
    let mut center_ids: Vec<CenterId> = sessions.iter().map(|s| s.center_id.clone()).collect();
    center_ids.sort();
    center_ids.dedup();
    let courses = courses::find_many(conn, &course_ids)?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let centers = centers::find_many(conn, &center_ids)?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    Ok(Names { courses, centers })
}

/// `GET /console/today`
pub async fn today(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
    query: web::Query<TodayQuery>,
) -> PageResult {
    let locale = staff.locale;
    let w = words::words(locale);
    let now = db::now();
    let midnight = bangkok(now).date().and_time(NaiveTime::MIN);
    let (from, to) = (
        from_bangkok(midnight),
        from_bangkok(midnight + chrono::Duration::days(8)),
    );
    let who = staff.clone();
    let wanted = query.center.clone();
    let (scope, sessions, Names { courses, centers }) = with_db(&pool, move |conn| {
        let scope = scope(conn, &who, wanted.as_deref())?;
        let sessions = course_sessions::list(
            conn,
            &SessionFilter {
                center_ids: scope.center_ids.clone(),
                from: Some(from),
                to: Some(to),
                limit: MAX_LISTED + 1,
                ..SessionFilter::default()
            },
        )?;
        let names = names(conn, &sessions)?;
        Ok((scope, sessions, names))
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;

    let truncated = sessions.len() as i64 > MAX_LISTED;
    // Staff of one center need not read its name on every line.
    let show_center = staff.is_admin() || scope.choices.len() > 1;
    let today_date = bangkok(now).date();
    let mut days: Vec<DayGroup> = Vec::new();
    for s in sessions.iter().take(MAX_LISTED as usize) {
        let day = bangkok(s.starts_at).date();
        let heading = match (day - today_date).num_days() {
            0 => format!("{} · {}", w.today, words::date(locale, s.starts_at)),
            1 => format!("{} · {}", w.tomorrow, words::date(locale, s.starts_at)),
            _ => words::date(locale, s.starts_at),
        };
        if days.last().is_none_or(|d| d.heading != heading) {
            days.push(DayGroup {
                heading,
                rows: Vec::new(),
            });
        }
        let status = s.status_at(now);
        let row = SessionRow {
            href: format!("/console/sessions/{}", s.id),
            course: courses.get(&s.course_id).map_or_else(
                || s.course_id.to_string(),
                |c| course_title(locale, c).to_string(),
            ),
            time: words::time_range(locale, s.starts_at, s.ends_at),
            seats: format!("{}/{}", s.seats_taken, s.capacity),
            waiting: (s.waitlist_count > 0).then(|| words::waiting(locale, s.waitlist_count)),
            status: words::session_status(locale, status),
            status_class: status_class(status),
            center: centers
                .get(&s.center_id)
                .filter(|_| show_center)
                .map_or_else(String::new, |c| center_label(locale, c)),
        };
        if let Some(group) = days.last_mut() {
            group.rows.push(row);
        }
    }
    let mut shell = Shell::new(&staff, w.today_title, here(&req), "today");
    shell.notice = super::session_page::notice(w, query.done.as_deref());
    let page = TodayPage {
        shell,
        days,
        choices: scope.choices,
        unknown_center: scope
            .unknown
            .then(|| Code::NotFound.message(locale).to_string()),
        new_session_href: scope
            .chosen
            .as_ref()
            .map(|c| format!("/console/sessions/new?center={}", c.id))
            .or_else(|| (!staff.is_admin()).then(|| "/console/sessions/new".to_string())),
        typed: scope.typed,
        truncated,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// A session's date, times, size, room and instructor as its forms hold them (new
/// session and edit), kept as typed so a refused form shows them again.
#[derive(Debug, Default, Deserialize)]
pub struct ScheduleForm {
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub starts: String,
    #[serde(default)]
    pub ends: String,
    #[serde(default)]
    pub capacity: String,
    #[serde(default)]
    pub room: String,
    #[serde(default)]
    pub instructor: String,
}

/// A schedule as the operations take it.
pub struct Schedule {
    pub starts_at: chrono::NaiveDateTime,
    pub ends_at: chrono::NaiveDateTime,
    pub capacity: i32,
    pub room: Option<String>,
    pub instructor: Option<String>,
}

impl ScheduleForm {
    /// A field's text as typed, for the form shown again.
    pub fn value(&self, name: &str) -> &str {
        match name {
            "date" => &self.date,
            "starts" => &self.starts,
            "ends" => &self.ends,
            "capacity" => &self.capacity,
            "room" => &self.room,
            "instructor" => &self.instructor,
            _ => "",
        }
    }

    /// Every field, for a confirmation page to send on.
    pub fn hidden(&self) -> Vec<(&'static str, String)> {
        ["date", "starts", "ends", "capacity", "room", "instructor"]
            .into_iter()
            .map(|name| (name, self.value(name).to_string()))
            .collect()
    }

    /// Parses the fields (Bangkok date and times), adding refusals to `errors` under the
    /// form's field names.
    pub fn parse(&self, errors: &mut Vec<FieldError>) -> Option<Schedule> {
        let (day, start) = parse_local(&self.date, &self.starts);
        let (_, end) = parse_local(&self.date, &self.ends);
        let day = accept(errors, "date", day);
        let start = accept(errors, "starts", start);
        let end = accept(errors, "ends", end);
        let capacity = accept(
            errors,
            "capacity",
            self.capacity
                .trim()
                .parse::<i32>()
                .map_err(|_| Code::InvalidValue)
                .and_then(ops::course_sessions::parse_capacity),
        );
        let room = accept(errors, "room", optional_text(Some(&self.room), 100));
        let instructor = accept(
            errors,
            "instructor",
            optional_text(Some(&self.instructor), 100),
        );
        let (day, start, end) = (day?, start?, end?);
        Some(Schedule {
            starts_at: from_bangkok(day.and_time(start)),
            ends_at: from_bangkok(day.and_time(end)),
            capacity: capacity?,
            room: room?,
            instructor: instructor?,
        })
    }
}

/// What a new session's form holds, as typed (shown again when something is refused).
#[derive(Debug, Default, Deserialize)]
pub struct NewSessionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    center: String,
    #[serde(default)]
    course: String,
    #[serde(flatten)]
    schedule: ScheduleForm,
}

impl ConsoleForm for NewSessionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub struct CourseChoice {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "console/new_session.html")]
struct NewSessionPage {
    shell: Shell,
    /// The center the session will be at (staff of one center, or an admin who chose).
    fixed_center: Option<CenterChoice>,
    choices: Vec<CenterChoice>,
    courses: Vec<CourseChoice>,
    center: String,
    fields: Vec<InputField>,
    errors: FormErrors,
}

#[derive(Debug, Deserialize)]
pub struct NewSessionQuery {
    center: Option<String>,
}

/// Everything the new-session form offers.
struct FormChoices {
    fixed: Option<CenterChoice>,
    centers: Vec<CenterChoice>,
    courses: Vec<CourseChoice>,
}

/// Everything the form offers.
fn form_choices(
    conn: &mut DbConn,
    staff: &Staff,
    center: &str,
    course: &str,
) -> Result<FormChoices, ApiError> {
    let scope = scope(conn, staff, Some(center))?;
    let fixed = match (&scope.chosen, staff.is_admin(), scope.choices.len()) {
        (Some(c), true, _) | (Some(c), false, 1) => Some(CenterChoice {
            id: c.id.to_string(),
            label: center_label(staff.locale, c),
            selected: true,
        }),
        _ => None,
    };
    let mut all = courses::list(
        conn,
        &CourseFilter {
            limit: 1000,
            ..CourseFilter::default()
        },
    )?;
    all.sort_by(|a, b| course_title(staff.locale, a).cmp(course_title(staff.locale, b)));
    let courses = all
        .iter()
        .map(|c| CourseChoice {
            id: c.id.to_string(),
            label: course_title(staff.locale, c).to_string(),
            selected: *c.id == *course,
        })
        .collect();
    Ok(FormChoices {
        fixed,
        centers: scope.choices,
        courses,
    })
}

async fn new_session_page(
    req: &HttpRequest,
    staff: Staff,
    pool: &web::Data<DbPool>,
    form: NewSessionForm,
    errors: FormErrors,
) -> PageResult {
    let locale = staff.locale;
    let who = staff.clone();
    let (center, course) = (form.center.clone(), form.course.clone());
    let FormChoices {
        fixed: fixed_center,
        centers: choices,
        courses,
    } = with_db(pool, move |conn| form_choices(conn, &who, &center, &course))
        .await
        .map_err(|e| ConsoleError::from_api(locale, e))?;
    if fixed_center.is_none() && choices.is_empty() {
        // An admin must come from a center (Today with a center chosen).
        return Err(ConsoleError::NotFound(locale));
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let w = words::words(locale);
    let page = NewSessionPage {
        shell: Shell::new(&staff, w.new_session, here(req), "today"),
        fixed_center,
        choices,
        courses,
        center: form.center.clone(),
        fields: schedule_fields(w, |name| form.schedule.value(name), &errors),
        errors,
    };
    Ok(html(status, page.render()))
}

/// `GET /console/sessions/new?center=…`
pub async fn new_session_form(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
    query: web::Query<NewSessionQuery>,
) -> PageResult {
    let form = NewSessionForm {
        center: query.center.clone().unwrap_or_default(),
        schedule: ScheduleForm {
            capacity: "20".into(),
            ..ScheduleForm::default()
        },
        ..NewSessionForm::default()
    };
    new_session_page(&req, staff, &pool, form, FormErrors::default()).await
}

/// A Bangkok date and clock time typed into a form, as the UTC time stored.
pub fn parse_local(date: &str, time: &str) -> (Result<NaiveDate, Code>, Result<NaiveTime, Code>) {
    let date = if date.trim().is_empty() {
        Err(Code::Required)
    } else {
        NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").map_err(|_| Code::InvalidTimestamp)
    };
    let time = if time.trim().is_empty() {
        Err(Code::Required)
    } else {
        NaiveTime::parse_from_str(time.trim(), "%H:%M").map_err(|_| Code::InvalidTime)
    };
    (date, time)
}

/// How the operations name the fields these forms call otherwise.
pub const SCHEDULE_FIELDS: &[(&str, &str)] = &[
    ("starts_at", "starts"),
    ("ends_at", "ends"),
    ("course_id", "course"),
    ("center_id", "center"),
];

/// `POST /console/sessions/new`: the API's `POST /centers/{id}/sessions`.
pub async fn create_session(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    posted: Posted<NewSessionForm>,
) -> PageResult {
    let Posted { staff, form } = posted;
    let locale = staff.locale;
    let mut errors = Vec::new();
    if form.center.trim().is_empty() {
        errors.push(FieldError::new("center", Code::Required));
    }
    if form.course.trim().is_empty() {
        errors.push(FieldError::new("course", Code::Required));
    }
    let schedule = form.schedule.parse(&mut errors);
    if let Some(schedule) = &schedule {
        ops::course_sessions::check_times(schedule.starts_at, schedule.ends_at, &mut errors);
    }
    let mut shown = FormErrors::default();
    shown.add_all(locale, &errors, SCHEDULE_FIELDS);
    let (Some(schedule), true) = (schedule, errors.is_empty()) else {
        return new_session_page(&req, staff, &pool, form, shown).await;
    };
    let new = NewSession {
        course_id: CourseId::from_raw(form.course.trim()),
        starts_at: schedule.starts_at,
        ends_at: schedule.ends_at,
        capacity: schedule.capacity,
        instructor: schedule.instructor,
        room: schedule.room,
    };
    let actor: Actor = staff.actor();
    let center = CenterId::from_raw(form.center.trim());
    let created = with_db(&pool, move |conn| {
        ops::course_sessions::create(conn, &actor, &center, new)
    })
    .await;
    match created {
        Ok(session) => Ok(see_other(format!(
            "/console/sessions/{}?done=created",
            session.id
        ))),
        Err(ApiError::NotFound) => {
            shown.add(locale, "center", Code::NotFound);
            new_session_page(&req, staff, &pool, form, shown).await
        }
        Err(e) => {
            let shown = FormErrors::from_api(locale, e, SCHEDULE_FIELDS)?;
            new_session_page(&req, staff, &pool, form, shown).await
        }
    }
}
