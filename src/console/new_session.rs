//! *New session*: course, date, start and end time (Bangkok), capacity, room and
//! instructor, at one of my centers (the API's `POST /centers/{id}/sessions`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use askama::Template;
use serde::Deserialize;

use crate::db::{DbConn, DbPool};
use crate::domain::{CenterId, CourseId};
use crate::error::{ApiError, FieldError};
use crate::handlers::with_db;
use crate::i18n::Code;
use crate::models::courses::{self, CourseFilter};
use crate::ops::{self, course_sessions::NewSession, Actor};

use super::schedule::{ScheduleForm, SCHEDULE_FIELDS};
use super::session::{ConsoleForm, Posted, Staff};
use super::today::{center_label, course_title, scope, CenterChoice};
use super::view::{here, html, schedule_fields, see_other, FormErrors, InputField, Shell};
use super::words;
use super::{ConsoleError, PageResult};

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
