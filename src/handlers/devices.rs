//! The caller's devices (FCM registration tokens) and their in-app inbox.

use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::auth::AuthUser;
use crate::db::DbPool;
use crate::domain::{Locale, Platform};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::pagination::{
    decode_key, encode_key, page_limit, parse_time_part, time_part, Page,
};
use crate::i18n::Code;
use crate::models::devices::{self, Device};
use crate::models::notifications::{self, Notification};

use super::fields::{accept, parse_locale};
use super::views::rfc3339;
use super::with_db;

/// FCM registration tokens are long strings of URL-safe characters and colons.
fn parse_token(raw: &str) -> Result<String, Code> {
    let token = raw.trim();
    let valid = !token.is_empty()
        && token.len() <= 4096
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'));
    if valid {
        Ok(token.to_string())
    } else {
        Err(Code::InvalidValue)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterDeviceRequest {
    token: String,
    platform: String,
    locale: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DeviceView {
    token: String,
    platform: Platform,
    locale: Option<Locale>,
    created_at: String,
    last_seen_at: String,
}

impl From<Device> for DeviceView {
    fn from(d: Device) -> Self {
        DeviceView {
            token: d.token,
            platform: d.platform,
            locale: d.locale,
            created_at: rfc3339(d.created_at),
            last_seen_at: rfc3339(d.last_seen_at),
        }
    }
}

/// `POST /me/devices`: idempotent; a token moves to whoever registered it last.
pub async fn register_device(
    user: AuthUser,
    pool: web::Data<DbPool>,
    JsonBody(body): JsonBody<RegisterDeviceRequest>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    let token = accept(&mut errors, "token", parse_token(&body.token));
    let platform = accept(
        &mut errors,
        "platform",
        Platform::parse(body.platform.trim()).ok_or(Code::InvalidValue),
    );
    let locale = accept(
        &mut errors,
        "locale",
        body.locale.as_deref().map(parse_locale).transpose(),
    );
    let (Some(token), Some(platform), Some(locale)) = (token, platform, locale) else {
        return Err(ApiError::Validation(errors));
    };
    let (device, new_to_user) = with_db(&pool, move |conn| {
        Ok(devices::register(conn, &user.id, &token, platform, locale)?)
    })
    .await?;
    let view = DeviceView::from(device);
    Ok(if new_to_user {
        HttpResponse::Created().json(view)
    } else {
        HttpResponse::Ok().json(view)
    })
}

/// `DELETE /me/devices/{token}`
pub async fn forget_device(
    user: AuthUser,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let token = path.into_inner();
    let removed = with_db(&pool, move |conn| {
        Ok(devices::forget(conn, &user.id, &token)?)
    })
    .await?;
    if removed {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound)
    }
}

#[derive(Debug, Serialize)]
pub struct NotificationView {
    id: String,
    kind: String,
    title: String,
    body: String,
    data: serde_json::Value,
    delivered_at: Option<String>,
    read_at: Option<String>,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        NotificationView {
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            data: serde_json::from_str(&n.data).unwrap_or_else(|_| serde_json::json!({})),
            delivered_at: n.delivered_at.map(rfc3339),
            read_at: n.read_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Inbox {
    items: Vec<NotificationView>,
    next_cursor: Option<String>,
    unread: i64,
}

#[derive(Debug, Deserialize)]
pub struct InboxQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

fn decode_inbox_cursor(raw: &str) -> Result<(NaiveDateTime, String), ApiError> {
    let mut parts = decode_key(raw, "n", 2)?;
    let id = parts.pop().unwrap_or_default();
    Ok((parse_time_part(&parts[0])?, id))
}

/// `GET /me/notifications`: everything pushed to the caller, newest first, so nothing
/// is lost when a push is.
pub async fn list_notifications(
    user: AuthUser,
    pool: web::Data<DbPool>,
    QueryParams(query): QueryParams<InboxQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)?;
    let before = query
        .cursor
        .as_deref()
        .map(decode_inbox_cursor)
        .transpose()?;
    let (page, unread) = with_db(&pool, move |conn| {
        let mut rows = notifications::inbox(conn, &user.id, before, limit + 1)?;
        let next_cursor = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().and_then(|n| {
                n.delivered_at
                    .map(|at| encode_key("n", &[&time_part(at), &n.id]))
            })
        } else {
            None
        };
        let unread = notifications::unread_count(conn, &user.id)?;
        Ok((
            Page {
                items: rows.into_iter().map(NotificationView::from).collect(),
                next_cursor,
            },
            unread,
        ))
    })
    .await?;
    Ok(HttpResponse::Ok().json(Inbox {
        items: page.items,
        next_cursor: page.next_cursor,
        unread,
    }))
}

/// `POST /me/notifications/{id}/read`
pub async fn read_notification(
    user: AuthUser,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let read = with_db(&pool, move |conn| {
        notifications::mark_read(conn, &user.id, &id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(NotificationView::from(read)))
}
