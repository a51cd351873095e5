//! Admin: find users and change their role.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::auth::AdminUser;
use crate::db::DbPool;
use crate::domain::{Role, UserId};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::pagination::{decode_cursor, page_limit, paginate};
use crate::i18n::Code;
use crate::models::audit;
use crate::models::users::{self, UserFilter};
use crate::ops;

use super::views::UserView;
use super::with_db;

#[derive(Debug, Deserialize)]
pub struct ListUsersQuery {
    q: Option<String>,
    role: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    role: String,
}

/// `GET /admin/users`
pub async fn list_users(
    _admin: AdminUser,
    pool: web::Data<DbPool>,
    QueryParams(query): QueryParams<ListUsersQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)?;
    let role = match query.role.as_deref() {
        None => None,
        Some(r) => Some(Role::parse(r).ok_or_else(|| ApiError::field("role", Code::InvalidRole))?),
    };
    let q = query
        .q
        .map(|q| q.trim().to_string())
        .filter(|q| !q.is_empty());
    if q.as_ref().is_some_and(|q| q.chars().count() > 100) {
        return Err(ApiError::field("q", Code::TooLong));
    }
    let filter = UserFilter {
        q,
        role: role.map(|r| r.as_str().to_string()),
        after_id: query.cursor.as_deref().map(decode_cursor).transpose()?,
        limit: limit + 1,
    };
    let rows = with_db(&pool, move |conn| Ok(users::list(conn, &filter)?)).await?;
    Ok(HttpResponse::Ok().json(paginate(rows, limit, |u| u.id.to_string(), UserView::from)))
}

/// `PATCH /admin/users/{id}`: the new role applies at once; the user's app is told to
/// refresh its token (401 `stale_token`) and receives the new role with it.
pub async fn update_user(
    AdminUser(admin): AdminUser,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    JsonBody(body): JsonBody<UpdateUserRequest>,
) -> ApiResult<HttpResponse> {
    let target = UserId::from_raw(path.into_inner());
    let role =
        Role::parse(body.role.trim()).ok_or_else(|| ApiError::field("role", Code::InvalidRole))?;
    let actor = admin.actor();
    let updated = with_db(&pool, move |conn| {
        ops::accounts::set_role(conn, &actor, &target, role)
    })
    .await?;
    Ok(HttpResponse::Ok().json(UserView::from(updated)))
}

/// `POST /admin/users/{id}/end-sign-ins`: every app and console session of the person
/// ends at once.
pub async fn end_user_sign_ins(
    AdminUser(admin): AdminUser,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let target = UserId::from_raw(path.into_inner());
    let actor = admin.actor();
    let ended = with_db(&pool, move |conn| {
        ops::accounts::end_sign_ins(conn, &actor, &target)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "ended": ended })))
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    actor_id: Option<String>,
    center_id: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct AuditView {
    id: String,
    actor_id: String,
    action: String,
    target_id: Option<String>,
    center_id: Option<String>,
    at: String,
}

/// `GET /admin/audit`: what staff and admins did, newest first.
pub async fn list_audit(
    _admin: AdminUser,
    pool: web::Data<DbPool>,
    QueryParams(query): QueryParams<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)?;
    let filter = audit::AuditFilter {
        actor_id: query.actor_id,
        center_id: query.center_id,
        before_id: query.cursor.as_deref().map(decode_cursor).transpose()?,
        limit: limit + 1,
        ..audit::AuditFilter::default()
    };
    let rows = with_db(&pool, move |conn| Ok(audit::list(conn, &filter)?)).await?;
    Ok(HttpResponse::Ok().json(paginate(
        rows,
        limit,
        |e| e.id.clone(),
        |e| AuditView {
            id: e.id,
            actor_id: e.actor_id,
            action: e.action,
            target_id: e.target_id,
            center_id: e.center_id,
            at: super::views::rfc3339(e.created_at),
        },
    )))
}
