//! Admin *Courses*: the catalogue, and creating and editing a course in Thai and English.
//! Fields are checked by the API's own rules (`handlers::course_fields`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use askama::Template;
use serde::Deserialize;

use crate::db::DbPool;
use crate::domain::{CourseId, Locale};
use crate::error::ApiError;
use crate::handlers::course_fields::{
    parse_course_changes, validate_new_course, CreateCourseRequest, UpdateCourseRequest, LEVELS,
};
use crate::handlers::fields::Whole;
use crate::handlers::with_db;
use crate::i18n::Code;
use crate::models::courses::{self, Course, CourseFilter};
use crate::ops;

use super::admin_words::{self as aw, admin_words};
use super::session::{ConsoleForm, Posted, Staff};
use super::today::course_title;
use super::view::{
    here, html, line_breaks, see_other, Choice, DoneQuery, FormErrors, InputField, Shell,
};
use super::{ConsoleError, PageResult};

/// The catalogue is small (tens of courses); a page lists this many at most.
const MAX_LISTED: i64 = 500;

pub struct CourseRow {
    pub href: String,
    pub title: String,
    pub category: String,
    pub level: &'static str,
    pub minutes: i32,
}

#[derive(Template)]
#[template(path = "console/courses.html")]
struct CoursesPage {
    shell: Shell,
    rows: Vec<CourseRow>,
}

/// `GET /console/courses`
pub async fn courses_page(req: HttpRequest, staff: Staff, pool: web::Data<DbPool>) -> PageResult {
    staff.require_admin()?;
    let locale = staff.locale;
    let filter = CourseFilter {
        limit: MAX_LISTED,
        ..CourseFilter::default()
    };
    let mut all = with_db(&pool, move |conn| Ok(courses::list(conn, &filter)?))
        .await
        .map_err(|e| ConsoleError::from_api(locale, e))?;
    all.sort_by(|a, b| course_title(locale, a).cmp(course_title(locale, b)));
    let page = CoursesPage {
        shell: Shell::new(&staff, admin_words(locale).courses, here(&req), "courses"),
        rows: all
            .iter()
            .map(|c| CourseRow {
                href: format!("/console/courses/{}", c.id),
                title: course_title(locale, c).to_string(),
                category: c.category.clone(),
                level: aw::level(locale, &c.level),
                minutes: c.duration_minutes,
            })
            .collect(),
    };
    Ok(html(StatusCode::OK, page.render()))
}

#[derive(Debug, Default, Deserialize)]
pub struct CourseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title_th: String,
    #[serde(default)]
    title_en: String,
    #[serde(default)]
    description_th: String,
    #[serde(default)]
    description_en: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    duration_minutes: String,
}

impl ConsoleForm for CourseForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl CourseForm {
    fn of(c: &Course) -> Self {
        CourseForm {
            csrf: String::new(),
            title_th: c.title_th.clone(),
            title_en: c.title_en.clone(),
            description_th: c.description_th.clone(),
            description_en: c.description_en.clone(),
            category: c.category.clone(),
            level: c.level.clone(),
            duration_minutes: c.duration_minutes.to_string(),
        }
    }

    /// The minutes as typed; not a whole number is refused as such.
    fn minutes(&self, locale: Locale, errors: &mut FormErrors) -> Whole {
        match self.duration_minutes.trim().parse::<i32>() {
            Ok(m) => Whole(m),
            Err(_) => {
                let code = if self.duration_minutes.trim().is_empty() {
                    Code::Required
                } else {
                    Code::InvalidValue
                };
                errors.add(locale, "duration_minutes", code);
                Whole(0)
            }
        }
    }

    fn fields(&self, locale: Locale, errors: &FormErrors) -> Vec<InputField> {
        let a = admin_words(locale);
        let text = |name, label, value: &str, kind, max| InputField {
            maxlength: Some(max),
            ..InputField::new(name, label, kind, value, errors)
        };
        let mut levels = vec![Choice::new("", a.choose)];
        levels.extend(LEVELS.iter().map(|l| Choice::new(*l, aw::level(locale, l))));
        vec![
            text("title_th", a.title_th, &self.title_th, "text", "200"),
            text("title_en", a.title_en, &self.title_en, "text", "200"),
            text(
                "description_th",
                a.description_th,
                &self.description_th,
                "textarea",
                "4000",
            ),
            text(
                "description_en",
                a.description_en,
                &self.description_en,
                "textarea",
                "4000",
            ),
            InputField {
                help: Some(a.category_help),
                ..text("category", a.category, &self.category, "text", "50")
            },
            InputField {
                options: levels,
                ..InputField::new("level", a.level, "select", &self.level, errors)
            },
            InputField {
                min: Some("1"),
                max: Some("1440"),
                ..InputField::new(
                    "duration_minutes",
                    a.duration_minutes,
                    "number",
                    &self.duration_minutes,
                    errors,
                )
            },
        ]
    }
}

#[derive(Template)]
#[template(path = "console/course.html")]
struct CoursePage {
    shell: Shell,
    action: String,
    button: &'static str,
    fields: Vec<InputField>,
    errors: FormErrors,
}

fn course_page(
    req: &HttpRequest,
    staff: &Staff,
    title: String,
    action: String,
    form: &CourseForm,
    errors: FormErrors,
    done: Option<&str>,
) -> PageResult {
    let locale = staff.locale;
    let a = admin_words(locale);
    let mut shell = Shell::new(staff, title, here(req), "courses");
    shell.notice = aw::notice(locale, done);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = CoursePage {
        button: if action.ends_with("/new") {
            a.create_course
        } else {
            super::words::words(locale).save_changes
        },
        fields: form.fields(locale, &errors),
        shell,
        action,
        errors,
    };
    Ok(html(status, page.render()))
}

/// `GET /console/courses/new`
pub async fn new_course_form(req: HttpRequest, staff: Staff) -> PageResult {
    staff.require_admin()?;
    let title = admin_words(staff.locale).new_course.to_string();
    let action = "/console/courses/new".to_string();
    let form = CourseForm {
        duration_minutes: "120".into(),
        level: "beginner".into(),
        ..CourseForm::default()
    };
    course_page(
        &req,
        &staff,
        title,
        action,
        &form,
        FormErrors::default(),
        None,
    )
}

/// `POST /console/courses/new`: the API's `POST /courses`.
pub async fn create_course(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    posted: Posted<CourseForm>,
) -> PageResult {
    let Posted { staff, form } = posted;
    staff.require_admin()?;
    let locale = staff.locale;
    let mut errors = FormErrors::default();
    let body = CreateCourseRequest {
        title_th: form.title_th.clone(),
        title_en: form.title_en.clone(),
        description_th: line_breaks(&form.description_th),
        description_en: line_breaks(&form.description_en),
        category: form.category.clone(),
        level: form.level.clone(),
        duration_minutes: form.minutes(locale, &mut errors),
    };
    let created = match validate_new_course(body) {
        Err(fields) => Err(ApiError::Validation(fields)),
        Ok(_) if !errors.is_empty() => Err(ApiError::Validation(Vec::new())),
        Ok(course) => {
            let actor = staff.actor();
            with_db(&pool, move |conn| {
                ops::courses::create(conn, &actor, course)
            })
            .await
        }
    };
    match created {
        Ok(c) => Ok(see_other(format!(
            "/console/courses/{}?done=course_created",
            c.id
        ))),
        Err(e) => {
            errors.merge(FormErrors::from_api(locale, e, &[])?);
            let title = admin_words(locale).new_course.to_string();
            let action = "/console/courses/new".to_string();
            course_page(&req, &staff, title, action, &form, errors, None)
        }
    }
}

/// `GET /console/courses/{id}`
pub async fn course_edit_page(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> PageResult {
    staff.require_admin()?;
    let locale = staff.locale;
    let id = CourseId::from_raw(path.into_inner());
    let course = with_db(&pool, move |conn| {
        courses::find(conn, &id)?.ok_or(ApiError::NotFound)
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    let title = course_title(locale, &course).to_string();
    let action = format!("/console/courses/{}", course.id);
    let form = CourseForm::of(&course);
    let done = query.done.as_deref();
    course_page(
        &req,
        &staff,
        title,
        action,
        &form,
        FormErrors::default(),
        done,
    )
}

/// `POST /console/courses/{id}`: the API's `PATCH /courses/{id}` with every field.
pub async fn update_course(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    posted: Posted<CourseForm>,
) -> PageResult {
    let Posted { staff, form } = posted;
    staff.require_admin()?;
    let locale = staff.locale;
    let id = CourseId::from_raw(path.into_inner());
    let mut errors = FormErrors::default();
    let body = UpdateCourseRequest {
        title_th: Some(form.title_th.clone()),
        title_en: Some(form.title_en.clone()),
        description_th: Some(line_breaks(&form.description_th)),
        description_en: Some(line_breaks(&form.description_en)),
        category: Some(form.category.clone()),
        level: Some(form.level.clone()),
        duration_minutes: Some(form.minutes(locale, &mut errors)),
    };
    let changed = match parse_course_changes(body) {
        Err(fields) => Err(ApiError::Validation(fields)),
        Ok(_) if !errors.is_empty() => Err(ApiError::Validation(Vec::new())),
        Ok(changes) => {
            let (actor, target) = (staff.actor(), id.clone());
            with_db(&pool, move |conn| {
                ops::courses::update(conn, &actor, &target, changes)
            })
            .await
        }
    };
    match changed {
        Ok(_) => Ok(see_other(format!(
            "/console/courses/{id}?done=course_saved"
        ))),
        Err(ApiError::NotFound) => Err(ConsoleError::NotFound(locale)),
        Err(e) => {
            errors.merge(FormErrors::from_api(locale, e, &[])?);
            let title = match locale {
                Locale::Th => form.title_th.clone(),
                Locale::En => form.title_en.clone(),
            };
            let action = format!("/console/courses/{id}");
            course_page(&req, &staff, title, action, &form, errors, None)
        }
    }
}
