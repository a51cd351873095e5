//! Broadcasts: admins tell an audience something, now or later; staff may tell the
//! people of their own center's sessions.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::{AdminUser, StaffUser};
use crate::config::Settings;
use crate::db::DbPool;
use crate::domain::BroadcastStatus;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::pagination::{decode_cursor, page_limit, paginate};
use crate::i18n::Code;
use crate::models::broadcasts::{self, Broadcast, Stats};
use crate::ops::{
    self,
    broadcasts::{AudienceInput, NewBroadcast},
};

use super::fields::{accept, parse_time, required_text};
use super::views::rfc3339;
use super::with_db;

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
    let actor = user.actor();
    let (users, devices) = with_db(&pool, move |conn| {
        ops::broadcasts::preview(conn, &actor, &body.audience)
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
    status: BroadcastStatus,
    created_by: String,
    created_at: String,
    finished_at: Option<String>,
    #[serde(flatten)]
    stats: Option<Stats>,
    /// While quiet hours hold some of it: when the last held notice goes out.
    #[serde(skip_serializing_if = "Option::is_none")]
    held_until: Option<String>,
}

fn view(b: Broadcast, stats: Option<Stats>) -> BroadcastView {
    // Written out is not gone out: while anyone still waits (quiet hours, retries), it is
    // still sending.
    let status = match (b.status, &stats) {
        (BroadcastStatus::Sent, Some(s)) if s.in_flight() => BroadcastStatus::Sending,
        (status, _) => status,
    };
    BroadcastView {
        held_until: stats.and_then(|s| s.held_until).map(rfc3339),
        audience: serde_json::json!({ "kind": b.audience_kind, "value": b.audience_value }),
        title: serde_json::json!({ "th": b.title_th, "en": b.title_en }),
        body: serde_json::json!({ "th": b.body_th, "en": b.body_en }),
        send_at: rfc3339(b.send_at),
        status,
        created_by: b.created_by,
        created_at: rfc3339(b.created_at),
        finished_at: b.finished_at.map(rfc3339),
        id: b.id,
        stats,
    }
}

/// Longest title and body, in characters: what a lock screen shows without cutting
/// (the console counts against the same figures).
pub const TITLE_MAX: usize = 65;
pub const BODY_MAX: usize = 240;

/// Checks a broadcast's texts (Thai title, English title, Thai body, English body) and
/// time, collecting every problem; a time in the past means now.
pub fn validate_new_broadcast(
    audience: AudienceInput,
    [title_th, title_en, body_th, body_en]: [&str; 4],
    send_at: Option<&str>,
) -> Result<NewBroadcast, Vec<FieldError>> {
    let mut errors: Vec<FieldError> = Vec::new();
    let title_th = accept(&mut errors, "title.th", required_text(title_th, TITLE_MAX));
    let title_en = accept(&mut errors, "title.en", required_text(title_en, TITLE_MAX));
    let body_th = accept(&mut errors, "body.th", required_text(body_th, BODY_MAX));
    let body_en = accept(&mut errors, "body.en", required_text(body_en, BODY_MAX));
    let send_at = send_at.map(|t| accept(&mut errors, "send_at", parse_time(t)));
    let (Some(title_th), Some(title_en), Some(body_th), Some(body_en), true) =
        (title_th, title_en, body_th, body_en, errors.is_empty())
    else {
        return Err(errors);
    };
    Ok(NewBroadcast {
        audience,
        title_th,
        title_en,
        body_th,
        body_en,
        send_at: send_at.flatten(),
    })
}

/// `POST /admin/broadcasts`: sent now, or at `send_at`.
pub async fn create_broadcast(
    StaffUser(user): StaffUser,
    pool: web::Data<DbPool>,
    settings: web::Data<Settings>,
    JsonBody(body): JsonBody<CreateBroadcastRequest>,
) -> ApiResult<HttpResponse> {
    let new = validate_new_broadcast(
        body.audience,
        [&body.title.th, &body.title.en, &body.body.th, &body.body.en],
        body.send_at.as_deref(),
    )
    .map_err(ApiError::Validation)?;
    let per_day = settings.limits.broadcasts_per_day;
    let actor = user.actor();
    let created = with_db(&pool, move |conn| {
        ops::broadcasts::create(conn, &actor, per_day, new, None)
    })
    .await?;
    Ok(HttpResponse::Created().json(view(created, None)))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

/// `GET /admin/broadcasts`: newest first, each with its delivery figures.
pub async fn list_broadcasts(
    _admin: AdminUser,
    pool: web::Data<DbPool>,
    QueryParams(query): QueryParams<ListQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)?;
    let before = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let rows = with_db(&pool, move |conn| {
        let rows = broadcasts::list(conn, before, limit + 1)?;
        let mut with_stats = Vec::with_capacity(rows.len());
        for b in rows {
            let stats = broadcasts::stats(conn, &b)?;
            with_stats.push((b, stats));
        }
        Ok(with_stats)
    })
    .await?;
    Ok(HttpResponse::Ok().json(paginate(
        rows,
        limit,
        |(b, _)| b.id.clone(),
        |(b, stats)| view(b, Some(stats)),
    )))
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
    let actor = admin.actor();
    let broadcast = with_db(&pool, move |conn| {
        ops::broadcasts::cancel(conn, &actor, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view(broadcast, None)))
}

#[derive(Debug, Serialize)]
pub struct FailedView {
    id: i64,
    notification_id: String,
    kind: String,
    user_id: String,
    channel: crate::domain::Channel,
    /// The end of the address only: enough to recognise it, not to use it.
    device: String,
    attempts: i32,
    reason: Option<String>,
    failed_at: String,
}

/// `GET /admin/push/failures`: deliveries given up on (any channel), with the reason, newest first.
pub async fn list_push_failures(
    _admin: AdminUser,
    pool: web::Data<DbPool>,
    QueryParams(query): QueryParams<ListQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)?;
    let before = match query.cursor.as_deref().map(decode_cursor).transpose()? {
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| ApiError::field("cursor", Code::InvalidCursor))?,
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
            device: f.address_tail(),
            channel: f.channel,
            id: f.id,
            notification_id: f.notification_id,
            kind: f.kind,
            user_id: f.user_id,
            attempts: f.attempts,
            reason: f.last_error,
            failed_at: rfc3339(f.updated_at),
        },
    )))
}
