//! The course catalogue: everyone reads it, admins manage it.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::auth::AdminUser;
use crate::db::DbPool;
use crate::domain::CourseId;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::pagination::{decode_cursor, page_limit, paginate};
use crate::models::courses::{self, CourseFilter};
use crate::ops;

use super::course_fields::{
    parse_category, parse_course_changes, parse_level, validate_new_course, CreateCourseRequest,
    UpdateCourseRequest,
};
use super::views::CourseView;
use super::with_db;

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

/// `POST /courses`
pub async fn create_course(
    AdminUser(admin): AdminUser,
    pool: web::Data<DbPool>,
    JsonBody(body): JsonBody<CreateCourseRequest>,
) -> ApiResult<HttpResponse> {
    let course = validate_new_course(body).map_err(ApiError::Validation)?;
    let actor = admin.actor();
    let course = with_db(&pool, move |conn| {
        ops::courses::create(conn, &actor, course)
    })
    .await?;
    Ok(HttpResponse::Created().json(CourseView::from(&course)))
}

/// `PATCH /courses/{id}`
pub async fn update_course(
    AdminUser(admin): AdminUser,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    JsonBody(body): JsonBody<UpdateCourseRequest>,
) -> ApiResult<HttpResponse> {
    let changes = parse_course_changes(body).map_err(ApiError::Validation)?;
    let id = CourseId::from_raw(path.into_inner());
    let actor = admin.actor();
    let course = with_db(&pool, move |conn| {
        ops::courses::update(conn, &actor, &id, changes)
    })
    .await?;
    Ok(HttpResponse::Ok().json(CourseView::from(&course)))
}
