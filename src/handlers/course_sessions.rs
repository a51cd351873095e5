//! Course sessions: browsing (anyone), and creating, rescheduling, resizing and
//! cancelling (staff of the session's center, or admins).

use crate::handlers::fields::Whole;
use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::auth::StaffUser;
use crate::db::{self, DbConn, DbPool};
use crate::directory::CenterDirectory;
use crate::domain::{CenterId, CourseId, CourseSessionId, SessionStatus};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::pagination::{
    decode_key, encode_key, page_limit, parse_time_part, time_part, Page,
};
use crate::i18n::Code;
use crate::models::course_sessions::{self, CourseSession, SessionChange, SessionFilter};
use crate::models::{centers, courses};
use crate::ops::{
    self,
    course_sessions::{check_times, parse_capacity, NewSession},
};
use crate::push::notify::PushPolicy;

use super::fields::{accept, optional_text, parse_near, parse_time};
use super::views::SessionView;
use super::with_db;

/// Turns sessions into views, loading their courses and centers in two queries.
pub fn session_views(
    conn: &mut DbConn,
    sessions: &[CourseSession],
) -> Result<Vec<SessionView>, ApiError> {
    let mut course_ids: Vec<CourseId> = sessions.iter().map(|s| s.course_id.clone()).collect();
    let mut center_ids: Vec<CenterId> = sessions.iter().map(|s| s.center_id.clone()).collect();
    course_ids.sort();
    course_ids.dedup();
    center_ids.sort();
    center_ids.dedup();
    let courses: HashMap<CourseId, _> = courses::find_many(conn, &course_ids)?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let centers: HashMap<CenterId, _> = centers::find_many(conn, &center_ids)?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    sessions
        .iter()
        .map(
            |s| match (courses.get(&s.course_id), centers.get(&s.center_id)) {
                (Some(course), Some(center)) => Ok(SessionView::new(s, course, center)),
                _ => Err(ApiError::Internal(anyhow::anyhow!(
                    "session {} lost its course or center",
                    s.id
                ))),
            },
        )
        .collect()
}

fn session_view(conn: &mut DbConn, session: &CourseSession) -> Result<SessionView, ApiError> {
    session_views(conn, std::slice::from_ref(session))?
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no view for session {}", session.id)))
}

#[derive(Debug, Deserialize)]
pub struct ListSessionsQuery {
    center_id: Option<String>,
    course_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    radius_km: Option<f64>,
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

fn encode_cursor(starts_at: NaiveDateTime, id: &str) -> String {
    encode_key("s", &[&time_part(starts_at), id])
}

fn decode_cursor(raw: &str) -> Result<(NaiveDateTime, String), ApiError> {
    let mut parts = decode_key(raw, "s", 2)?;
    let id = parts.pop().unwrap_or_default();
    Ok((parse_time_part(&parts[0])?, id))
}

/// `GET /sessions`: upcoming sessions (from now, unless `from` says otherwise), soonest
/// first, filtered by center, course, time range, status and nearness.
pub async fn list_sessions(
    pool: web::Data<DbPool>,
    directory: web::Data<Arc<CenterDirectory>>,
    QueryParams(query): QueryParams<ListSessionsQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)?;
    let mut errors = Vec::new();
    let from = query
        .from
        .as_deref()
        .map(|t| accept(&mut errors, "from", parse_time(t)));
    let to = query
        .to
        .as_deref()
        .map(|t| accept(&mut errors, "to", parse_time(t)));
    let status = query.status.as_deref().map(|s| {
        accept(
            &mut errors,
            "status",
            SessionStatus::parse(s).ok_or(Code::InvalidValue),
        )
    });
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (from, to, status) = (from.flatten(), to.flatten(), status.flatten());
    if let (Some(from), Some(to)) = (from, to) {
        if from >= to {
            return Err(ApiError::field("to", Code::EndsBeforeStart));
        }
    }
    let near = parse_near(query.lat, query.lon, query.radius_km)?;
    let mut center_ids: Option<Vec<CenterId>> =
        query.center_id.map(|id| vec![CenterId::from_raw(id)]);
    if let Some((origin, radius)) = near {
        let snapshot = directory.snapshot();
        let nearby: Vec<CenterId> = snapshot
            .within(origin, radius)
            .into_iter()
            .map(|(i, _)| snapshot.center(i).id.clone())
            .collect();
        center_ids = Some(match center_ids {
            Some(wanted) => wanted
                .into_iter()
                .filter(|id| nearby.contains(id))
                .collect(),
            None => nearby,
        });
    }
    let filter = SessionFilter {
        center_ids,
        course_id: query.course_id.map(CourseId::from_raw),
        from: Some(from.unwrap_or_else(db::now)),
        to,
        status,
        after: query.cursor.as_deref().map(decode_cursor).transpose()?,
        limit: limit + 1,
    };
    let page = with_db(&pool, move |conn| {
        let mut rows = course_sessions::list(conn, &filter)?;
        let next_cursor = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|s| encode_cursor(s.starts_at, &s.id))
        } else {
            None
        };
        Ok(Page {
            items: session_views(conn, &rows)?,
            next_cursor,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `GET /sessions/{id}`
pub async fn get_session(
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = CourseSessionId::from_raw(path.into_inner());
    let view = with_db(&pool, move |conn| {
        let session = course_sessions::find(conn, &id)?.ok_or(ApiError::NotFound)?;
        session_view(conn, &session)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSessionRequest {
    course_id: String,
    starts_at: String,
    ends_at: String,
    capacity: Whole,
    instructor: Option<String>,
    room: Option<String>,
}

/// `POST /centers/{id}/sessions`
pub async fn create_session(
    StaffUser(user): StaffUser,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    JsonBody(body): JsonBody<CreateSessionRequest>,
) -> ApiResult<HttpResponse> {
    let center_id = CenterId::from_raw(path.into_inner());
    let mut errors = Vec::new();
    let starts_at = accept(&mut errors, "starts_at", parse_time(&body.starts_at));
    let ends_at = accept(&mut errors, "ends_at", parse_time(&body.ends_at));
    let capacity = accept(&mut errors, "capacity", parse_capacity(body.capacity.0));
    let instructor = accept(
        &mut errors,
        "instructor",
        optional_text(body.instructor.as_deref(), 100),
    );
    let room = accept(
        &mut errors,
        "room",
        optional_text(body.room.as_deref(), 100),
    );
    if let (Some(s), Some(e)) = (starts_at, ends_at) {
        check_times(s, e, &mut errors);
    }
    let (Some(starts_at), Some(ends_at), Some(capacity), Some(instructor), Some(room), true) = (
        starts_at,
        ends_at,
        capacity,
        instructor,
        room,
        errors.is_empty(),
    ) else {
        return Err(ApiError::Validation(errors));
    };
    let new = NewSession {
        course_id: CourseId::from_raw(body.course_id),
        starts_at,
        ends_at,
        capacity,
        instructor,
        room,
    };
    let actor = user.actor();
    let view = with_db(&pool, move |conn| {
        let session = ops::course_sessions::create(conn, &actor, &center_id, new)?;
        session_view(conn, &session)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateSessionRequest {
    #[serde(default, deserialize_with = "super::fields::present")]
    starts_at: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    ends_at: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    capacity: Option<Whole>,
    #[serde(default, deserialize_with = "super::fields::nullable")]
    instructor: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::fields::nullable")]
    room: Option<Option<String>>,
}

/// `PATCH /sessions/{id}`: reschedule, resize (never below the seats taken; added seats
/// go to the waitlist at once), or change instructor and room.
pub async fn update_session(
    StaffUser(user): StaffUser,
    pool: web::Data<DbPool>,
    policy: web::Data<PushPolicy>,
    path: web::Path<String>,
    JsonBody(body): JsonBody<UpdateSessionRequest>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    let change = SessionChange {
        starts_at: body
            .starts_at
            .as_deref()
            .and_then(|t| accept(&mut errors, "starts_at", parse_time(t))),
        ends_at: body
            .ends_at
            .as_deref()
            .and_then(|t| accept(&mut errors, "ends_at", parse_time(t))),
        capacity: body
            .capacity
            .and_then(|c| accept(&mut errors, "capacity", parse_capacity(c.0))),
        // Absent: leave alone; null or empty: clear; text: set.
        instructor: body
            .instructor
            .and_then(|i| accept(&mut errors, "instructor", optional_text(i.as_deref(), 100))),
        room: body
            .room
            .and_then(|r| accept(&mut errors, "room", optional_text(r.as_deref(), 100))),
    };
    if change.starts_at.is_some_and(|s| s <= db::now()) {
        errors.push(FieldError::new("starts_at", Code::MustBeInFuture));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let id = CourseSessionId::from_raw(path.into_inner());
    let actor = user.actor();
    let view = with_db(&pool, move |conn| {
        let session = ops::course_sessions::update(conn, &policy, &actor, &id, change)?;
        session_view(conn, &session)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// `POST /sessions/{id}/cancel`
pub async fn cancel_session(
    StaffUser(user): StaffUser,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = CourseSessionId::from_raw(path.into_inner());
    let actor = user.actor();
    let view = with_db(&pool, move |conn| {
        let session = ops::course_sessions::cancel(conn, &actor, &id)?;
        session_view(conn, &session)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
