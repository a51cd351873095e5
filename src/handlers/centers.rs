//! Centers: nearest-first and text search (from the in-memory directory), admin
//! management, and staff assignment.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::AdminUser;
use crate::db::{self, DbPool};
use crate::directory::search::{CenterCursor, CenterSearch};
use crate::directory::CenterDirectory;
use crate::domain::{find_province, CenterId, CenterStatus, UserId};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::pagination::page_limit;
use crate::i18n::Code;
use crate::models::centers;
use crate::ops::{self, centers::Assigned};

use super::center_fields::{
    parse_center_changes, validate_new_center, CreateCenterRequest, UpdateCenterRequest,
};
use super::fields::parse_near;
use super::views::CenterView;
use super::with_db;

#[derive(Debug, Deserialize)]
pub struct ListCentersQuery {
    lat: Option<f64>,
    lon: Option<f64>,
    radius_km: Option<f64>,
    q: Option<String>,
    province: Option<String>,
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// `GET /centers`: nearest first with `lat`/`lon`, or by code; filtered by `q`
/// (Thai or English name, district), `province` and `status`. Answered from memory.
pub async fn list_centers(
    directory: web::Data<Arc<CenterDirectory>>,
    QueryParams(query): QueryParams<ListCentersQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)? as usize;
    let near = parse_near(query.lat, query.lon, query.radius_km)?;
    let province = match query
        .province
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(p) => Some(
            find_province(p)
                .ok_or_else(|| ApiError::field("province", Code::UnknownProvince))?
                .name_th,
        ),
    };
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => Some(
            CenterStatus::parse(s).ok_or_else(|| ApiError::field("status", Code::InvalidValue))?,
        ),
    };
    let q = query
        .q
        .as_deref()
        .map(|q| q.trim().to_lowercase())
        .filter(|q| !q.is_empty());
    if q.as_ref().is_some_and(|q| q.chars().count() > 100) {
        return Err(ApiError::field("q", Code::TooLong));
    }
    let after = query
        .cursor
        .as_deref()
        .map(|c| CenterCursor::decode(c, near.is_some()))
        .transpose()?;
    let search = CenterSearch {
        near,
        province,
        status,
        text: q,
        after,
    };
    let snapshot = directory.snapshot();
    let (found, next) = snapshot.search(&search, limit);
    let next_cursor = next.map(|c| c.encode());
    // The hottest route of the app: copy pre-rendered centers rather than serialise
    // twenty structs per request.
    let mut body = String::with_capacity(64 + found.len() * 512);
    body.push_str(r#"{"items":["#);
    for (n, f) in found.iter().enumerate() {
        if n > 0 {
            body.push(',');
        }
        body.push_str(snapshot.fragment(f.index));
        body.push_str(r#","distance_km":"#);
        let rounded = f.distance_km.map(|d| (d * 100.0).round() / 100.0);
        body.push_str(&serde_json::to_string(&rounded).map_err(anyhow::Error::from)?);
        body.push('}');
    }
    body.push_str(r#"],"next_cursor":"#);
    body.push_str(&serde_json::to_string(&next_cursor).map_err(anyhow::Error::from)?);
    body.push('}');
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// `GET /centers/{id}`: one center, read fresh from the database, with how many
/// sessions are coming up there.
pub async fn get_center(
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = CenterId::from_raw(path.into_inner());
    let (center, upcoming) = with_db(&pool, move |conn| {
        let center = centers::find(conn, &id)?.ok_or(ApiError::NotFound)?;
        let upcoming = centers::upcoming_sessions_count(conn, &id, db::now())?;
        Ok((center, upcoming))
    })
    .await?;
    let mut body =
        serde_json::to_value(CenterView::new(&center, None)).map_err(anyhow::Error::from)?;
    body["upcoming_sessions_count"] = json!(upcoming);
    Ok(HttpResponse::Ok().json(body))
}

/// `POST /centers`
pub async fn create_center(
    AdminUser(admin): AdminUser,
    pool: web::Data<DbPool>,
    directory: web::Data<Arc<CenterDirectory>>,
    JsonBody(body): JsonBody<CreateCenterRequest>,
) -> ApiResult<HttpResponse> {
    let new_center = validate_new_center(body).map_err(ApiError::Validation)?;
    let directory = Arc::clone(&directory);
    let actor = admin.actor();
    let center = with_db(&pool, move |conn| {
        ops::centers::create(conn, &directory, &actor, new_center)
    })
    .await?;
    Ok(HttpResponse::Created().json(CenterView::new(&center, None)))
}

/// `PATCH /centers/{id}`
pub async fn update_center(
    AdminUser(admin): AdminUser,
    pool: web::Data<DbPool>,
    directory: web::Data<Arc<CenterDirectory>>,
    path: web::Path<String>,
    JsonBody(body): JsonBody<UpdateCenterRequest>,
) -> ApiResult<HttpResponse> {
    let changes = parse_center_changes(body).map_err(ApiError::Validation)?;
    let id = CenterId::from_raw(path.into_inner());
    let directory = Arc::clone(&directory);
    let actor = admin.actor();
    let center = with_db(&pool, move |conn| {
        ops::centers::update(conn, &directory, &actor, &id, changes)
    })
    .await?;
    Ok(HttpResponse::Ok().json(CenterView::new(&center, None)))
}

/// `DELETE /centers/{id}`: only centers that never held a session; others are closed
/// (`status: closed`) so their history stays.
pub async fn delete_center(
    AdminUser(admin): AdminUser,
    pool: web::Data<DbPool>,
    directory: web::Data<Arc<CenterDirectory>>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = CenterId::from_raw(path.into_inner());
    let directory = Arc::clone(&directory);
    let actor = admin.actor();
    with_db(&pool, move |conn| {
        ops::centers::delete(conn, &directory, &actor, &id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `PUT /centers/{id}/staff/{user_id}`: idempotent.
pub async fn assign_staff(
    AdminUser(admin): AdminUser,
    pool: web::Data<DbPool>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (center_id, user_id) = path.into_inner();
    let (center_id, user_id) = (CenterId::from_raw(center_id), UserId::from_raw(user_id));
    let actor = admin.actor();
    let assigned = with_db(&pool, move |conn| {
        ops::centers::assign_staff(conn, &actor, &center_id, &user_id)
    })
    .await?;
    let body = json!({ "assigned": true });
    Ok(match assigned {
        Assigned::New => HttpResponse::Created().json(body),
        Assigned::Already => HttpResponse::Ok().json(body),
    })
}

/// `DELETE /centers/{id}/staff/{user_id}`
pub async fn unassign_staff(
    AdminUser(admin): AdminUser,
    pool: web::Data<DbPool>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (center_id, user_id) = path.into_inner();
    let (center_id, user_id) = (CenterId::from_raw(center_id), UserId::from_raw(user_id));
    let actor = admin.actor();
    with_db(&pool, move |conn| {
        ops::centers::unassign_staff(conn, &actor, &center_id, &user_id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
