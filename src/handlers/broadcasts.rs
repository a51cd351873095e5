//! Broadcasts: admins tell an audience something, now or later; staff may tell the
//! people of their own center's sessions.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::{AdminUser, AuthUser, StaffUser};
use crate::config::Settings;
use crate::db::{self, DbConn, DbPool};
use crate::domain::{find_province, Role};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::pagination::{decode_cursor, page_limit, paginate};
use crate::models::broadcasts::{self, Audience, Broadcast, Stats};
use crate::models::users::new_id;
use crate::models::{audit, course_sessions, courses};
use crate::schema::centers;

use super::auth::accept;
use super::params::{ensure_manages, parse_time, required_text};
use super::views::rfc3339;
use super::with_db;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudienceInput {
    kind: String,
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    audience: AudienceInput,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    th: String,
    en: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBroadcastRequest {
    audience: AudienceInput,
    title: Texts,
    body: Texts,
    send_at: Option<String>,
}

/// Parses the audience and checks that what it names exists and that `user` may reach it:
/// admins anyone; staff only a session at a center of theirs.
fn resolve_audience(
    conn: &mut DbConn,
    user: &AuthUser,
    input: &AudienceInput,
) -> Result<Audience, ApiError> {
    let value = input
        .value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let missing = || ApiError::field("audience.value", "required");
    let unknown = || ApiError::field("audience.value", "not_found");
    let audience = match input.kind.trim() {
        "all" => Audience::All,
        "province" => Audience::Province(
            find_province(value.ok_or_else(missing)?)
                .ok_or_else(|| ApiError::field("audience.value", "unknown_province"))?
                .name_th
                .to_string(),
        ),
        "center" => {
            use diesel::prelude::*;
            let id = value.ok_or_else(missing)?;
            let found: i64 = centers::table
                .filter(centers::id.eq(id))
                .count()
                .get_result(conn)?;
            if found == 0 {
                return Err(unknown());
            }
            Audience::Center(id.to_string())
        }
        "course" => {
            let id = value.ok_or_else(missing)?;
            courses::find(conn, id)?.ok_or_else(unknown)?;
            Audience::Course(id.to_string())
        }
        "session" => {
            let id = value.ok_or_else(missing)?;
            let session = course_sessions::find(conn, id)?.ok_or_else(unknown)?;
            ensure_manages(conn, user, &session.center_id)?;
            Audience::Session(id.to_string())
        }
        _ => return Err(ApiError::field("audience.kind", "invalid_value")),
    };
    if user.role != Role::Admin && !matches!(audience, Audience::Session(_)) {
        // Staff reach the people of their own sessions, nobody else.
        return Err(ApiError::Forbidden);
    }
    Ok(audience)
}

#[derive(Debug, Serialize)]
struct PreviewView {
    users: i64,
    devices: i64,
}

/// `POST /admin/broadcasts/preview`: how many people and devices an audience reaches.
pub async fn preview_broadcast(
    StaffUser(user): StaffUser,
    pool: web::Data<DbPool>,
    JsonBody(body): JsonBody<PreviewRequest>,
) -> ApiResult<HttpResponse> {
    let (users, devices) = with_db(&pool, move |conn| {
        let audience = resolve_audience(conn, &user, &body.audience)?;
        Ok(broadcasts::preview(conn, &audience)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(PreviewView { users, devices }))
}

#[derive(Debug, Serialize)]
pub struct BroadcastView {
    id: String,
    audience: serde_json::Value,
    title: serde_json::Value,
    body: serde_json::Value,
    send_at: String,
    status: String,
    created_by: String,
    created_at: String,
    finished_at: Option<String>,
    #[serde(flatten)]
    stats: Option<Stats>,
}

fn view(b: Broadcast, stats: Option<Stats>) -> BroadcastView {
    BroadcastView {
        audience: serde_json::json!({ "kind": b.audience_kind, "value": b.audience_value }),
        title: serde_json::json!({ "th": b.title_th, "en": b.title_en }),
        body: serde_json::json!({ "th": b.body_th, "en": b.body_en }),
        send_at: rfc3339(b.send_at),
        status: b.status,
        created_by: b.created_by,
        created_at: rfc3339(b.created_at),
        finished_at: b.finished_at.map(rfc3339),
        id: b.id,
        stats,
    }
}

/// `POST /admin/broadcasts`: sent now, or at `send_at`.
pub async fn create_broadcast(
    StaffUser(user): StaffUser,
    pool: web::Data<DbPool>,
    settings: web::Data<Settings>,
    JsonBody(body): JsonBody<CreateBroadcastRequest>,
) -> ApiResult<HttpResponse> {
    let mut errors: Vec<FieldError> = Vec::new();
    let title_th = accept(&mut errors, "title.th", required_text(&body.title.th, 65));
    let title_en = accept(&mut errors, "title.en", required_text(&body.title.en, 65));
    let body_th = accept(&mut errors, "body.th", required_text(&body.body.th, 240));
    let body_en = accept(&mut errors, "body.en", required_text(&body.body.en, 240));
    let send_at = body
        .send_at
        .as_deref()
        .map(|t| accept(&mut errors, "send_at", parse_time(t)));
    let (Some(title_th), Some(title_en), Some(body_th), Some(body_en), true) =
        (title_th, title_en, body_th, body_en, errors.is_empty())
    else {
        return Err(ApiError::Validation(errors));
    };
    let now = db::now();
    // A time in the past means now.
    let send_at = send_at.flatten().unwrap_or(now).max(now);
    let per_day = settings.limits.broadcasts_per_day;
    let created = with_db(&pool, move |conn| db::write_transaction(conn, |conn| {
        let audience = resolve_audience(conn, &user, &body.audience)?;
        if let Some(allowed) = broadcasts::next_allowed(conn, &user.id, per_day, now)? {
            return Err(ApiError::TooManyRequests {
                code: "broadcast_limit_reached",
                retry_after_secs: (allowed - now).num_seconds().max(1) as u64,
            });
        }
        let broadcast = Broadcast {
            id: new_id(),
            created_by: user.id.clone(),
            audience_kind: audience.kind(),
            audience_value: audience.value().map(str::to_string),
            title_th,
            title_en,
            body_th,
            body_en,
            send_at,
            status: "scheduled".into(),
            expanded_until: None,
            targeted_users: 0,
            created_at: now,
            finished_at: None,
        };
        broadcasts::insert(conn, &broadcast)?;
        let center = match &audience {
            Audience::Session(id) => course_sessions::find(conn, id)?.map(|s| s.center_id),
            Audience::Center(id) => Some(id.clone()),
            _ => None,
        };
        audit::record(conn, &user.id, "broadcast_created", Some(&broadcast.id), center.as_deref())?;
        tracing::info!(broadcast = %broadcast.id, by = %user.id, audience = %audience.kind(), "broadcast created");
        Ok(broadcast)
    }))
    .await?;
    Ok(HttpResponse::Created().json(view(created, None)))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

/// `GET /admin/broadcasts`: newest first.
pub async fn list_broadcasts(
    _admin: AdminUser,
    pool: web::Data<DbPool>,
    QueryParams(query): QueryParams<ListQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)?;
    let before = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let rows = with_db(&pool, move |conn| {
        Ok(broadcasts::list(conn, before, limit + 1)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(paginate(rows, limit, |b| b.id.clone(), |b| view(b, None))))
}

/// `GET /admin/broadcasts/{id}`: with delivery figures, each device counted once.
pub async fn get_broadcast(
    _admin: AdminUser,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let (broadcast, stats) = with_db(&pool, move |conn| {
        let broadcast = broadcasts::find(conn, &id)?.ok_or(ApiError::NotFound)?;
        let stats = broadcasts::stats(conn, &broadcast)?;
        Ok((broadcast, stats))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view(broadcast, Some(stats))))
}

/// `POST /admin/broadcasts/{id}/cancel`: only before sending has begun.
pub async fn cancel_broadcast(
    AdminUser(admin): AdminUser,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let (broadcast, cancelled) = with_db(&pool, move |conn| {
        let outcome = broadcasts::cancel(conn, &id)?.ok_or(ApiError::NotFound)?;
        if outcome.1 {
            audit::record(conn, &admin.id, "broadcast_cancelled", Some(&id), None)?;
        }
        Ok(outcome)
    })
    .await?;
    if !cancelled {
        return Err(ApiError::Conflict("broadcast_already_sent"));
    }
    Ok(HttpResponse::Ok().json(view(broadcast, None)))
}

#[derive(Debug, Serialize)]
pub struct FailedView {
    id: i64,
    notification_id: String,
    kind: String,
    user_id: String,
    /// The end of the device token only: enough to recognise it, not to use it.
    device: String,
    attempts: i32,
    reason: Option<String>,
    failed_at: String,
}

/// `GET /admin/push/failures`: pushes given up on, with FCM's reason, newest first.
pub async fn list_push_failures(
    _admin: AdminUser,
    pool: web::Data<DbPool>,
    QueryParams(query): QueryParams<ListQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)?;
    let before = match query.cursor.as_deref().map(decode_cursor).transpose()? {
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| ApiError::field("cursor", "invalid_cursor"))?,
        ),
        None => None,
    };
    let rows = with_db(&pool, move |conn| {
        Ok(crate::push::queue::failed(conn, before, limit + 1)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(paginate(
        rows,
        limit,
        |f| f.id.to_string(),
        |f| FailedView {
            id: f.id,
            notification_id: f.notification_id,
            kind: f.kind,
            user_id: f.user_id,
            device: format!(
                "…{}",
                f.device_token
                    .chars()
                    .rev()
                    .take(6)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<String>()
            ),
            attempts: f.attempts,
            reason: f.last_error,
            failed_at: rfc3339(f.updated_at),
        },
    )))
}
