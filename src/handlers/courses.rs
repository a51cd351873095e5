//! The course catalogue: everyone reads it, admins manage it.

use crate::handlers::fields::Whole;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::auth::AdminUser;
use crate::db::{self, DbPool};
use crate::domain::CourseId;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::pagination::{decode_cursor, page_limit, paginate};
use crate::i18n::Code;
use crate::models::courses::{self, Course, CourseChanges, CourseFilter};
use crate::ops;

use super::fields::{accept, required_text};
use super::views::CourseView;
use super::with_db;

pub const LEVELS: [&str; 3] = ["beginner", "intermediate", "advanced"];

fn parse_level(raw: &str) -> Result<String, Code> {
    LEVELS
        .iter()
        .find(|l| **l == raw.trim())
        .map(|l| l.to_string())
        .ok_or(Code::InvalidValue)
}

/// Categories are short snake_case words (`smartphone_basics`, `online_safety`, …).
fn parse_category(raw: &str) -> Result<String, Code> {
    let category = raw.trim();
    let valid = !category.is_empty()
        && category.len() <= 50
        && category
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(category.to_string())
    } else {
        Err(Code::InvalidValue)
    }
}

fn parse_duration_minutes(minutes: i32) -> Result<i32, Code> {
    if (1..=24 * 60).contains(&minutes) {
        Ok(minutes)
    } else {
        Err(Code::OutOfRange)
    }
}

#[derive(Debug, Deserialize)]
pub struct ListCoursesQuery {
    category: Option<String>,
    level: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// `GET /courses`
pub async fn list_courses(
    pool: web::Data<DbPool>,
    QueryParams(query): QueryParams<ListCoursesQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)?;
    let filter = CourseFilter {
        category: query
            .category
            .map(|c| parse_category(&c).map_err(|code| ApiError::field("category", code)))
            .transpose()?,
        level: query
            .level
            .map(|l| parse_level(&l).map_err(|code| ApiError::field("level", code)))
            .transpose()?,
        after_id: query.cursor.as_deref().map(decode_cursor).transpose()?,
        limit: limit + 1,
    };
    let rows = with_db(&pool, move |conn| Ok(courses::list(conn, &filter)?)).await?;
    Ok(HttpResponse::Ok().json(paginate(
        rows,
        limit,
        |c| c.id.to_string(),
        |c| CourseView::from(&c),
    )))
}

/// `GET /courses/{id}`
pub async fn get_course(
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = CourseId::from_raw(path.into_inner());
    let course = with_db(&pool, move |conn| {
        courses::find(conn, &id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(CourseView::from(&course)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCourseRequest {
    title_th: String,
    title_en: String,
    description_th: String,
    description_en: String,
    category: String,
    level: String,
    duration_minutes: Whole,
}

/// `POST /courses`
pub async fn create_course(
    AdminUser(admin): AdminUser,
    pool: web::Data<DbPool>,
    JsonBody(body): JsonBody<CreateCourseRequest>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    let title_th = accept(&mut errors, "title_th", required_text(&body.title_th, 200));
    let title_en = accept(&mut errors, "title_en", required_text(&body.title_en, 200));
    let description_th = accept(
        &mut errors,
        "description_th",
        required_text(&body.description_th, 4000),
    );
    let description_en = accept(
        &mut errors,
        "description_en",
        required_text(&body.description_en, 4000),
    );
    let category = accept(&mut errors, "category", parse_category(&body.category));
    let level = accept(&mut errors, "level", parse_level(&body.level));
    let duration_minutes = accept(
        &mut errors,
        "duration_minutes",
        parse_duration_minutes(body.duration_minutes.0),
    );
    let (
        Some(title_th),
        Some(title_en),
        Some(description_th),
        Some(description_en),
        Some(category),
        Some(level),
        Some(duration_minutes),
    ) = (
        title_th,
        title_en,
        description_th,
        description_en,
        category,
        level,
        duration_minutes,
    )
    else {
        return Err(ApiError::Validation(errors));
    };
    let now = db::now();
    let course = Course {
        id: CourseId::generate(),
        title_th,
        title_en,
        description_th,
        description_en,
        category,
        level,
        duration_minutes,
        created_at: now,
        updated_at: now,
    };
    let actor = admin.actor();
    let course = with_db(&pool, move |conn| {
        ops::courses::create(conn, &actor, course)
    })
    .await?;
    Ok(HttpResponse::Created().json(CourseView::from(&course)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateCourseRequest {
    #[serde(default, deserialize_with = "super::fields::present")]
    title_th: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    title_en: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    description_th: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    description_en: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    category: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    level: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    duration_minutes: Option<Whole>,
}

/// `PATCH /courses/{id}`
pub async fn update_course(
    AdminUser(admin): AdminUser,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    JsonBody(body): JsonBody<UpdateCourseRequest>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    let changes = CourseChanges {
        title_th: body
            .title_th
            .and_then(|t| accept(&mut errors, "title_th", required_text(&t, 200))),
        title_en: body
            .title_en
            .and_then(|t| accept(&mut errors, "title_en", required_text(&t, 200))),
        description_th: body
            .description_th
            .and_then(|t| accept(&mut errors, "description_th", required_text(&t, 4000))),
        description_en: body
            .description_en
            .and_then(|t| accept(&mut errors, "description_en", required_text(&t, 4000))),
        category: body
            .category
            .and_then(|c| accept(&mut errors, "category", parse_category(&c))),
        level: body
            .level
            .and_then(|l| accept(&mut errors, "level", parse_level(&l))),
        duration_minutes: body
            .duration_minutes
            .and_then(|m| accept(&mut errors, "duration_minutes", parse_duration_minutes(m.0))),
        updated_at: None,
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let id = CourseId::from_raw(path.into_inner());
    let actor = admin.actor();
    let course = with_db(&pool, move |conn| {
        ops::courses::update(conn, &actor, &id, changes)
    })
    .await?;
    Ok(HttpResponse::Ok().json(CourseView::from(&course)))
}
