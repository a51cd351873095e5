//! The caller's own profile.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::db::DbPool;
use crate::domain::{ClockTime, DisplayName, Latitude, Longitude};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::i18n::Code;
use crate::models::users::{self, ProfileChanges};

use super::fields::{accept, parse_locale};
use super::views::UserView;
use super::with_db;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    start: String,
    end: String,
}

/// What a user may change about themselves; `role` is deliberately absent, so sending
/// it is refused as an unknown field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    #[serde(default, deserialize_with = "super::fields::present")]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    locale: Option<String>,
    #[serde(default, deserialize_with = "super::fields::nullable")]
    home_lat: Option<Option<f64>>,
    #[serde(default, deserialize_with = "super::fields::nullable")]
    home_lon: Option<Option<f64>>,
    #[serde(default, deserialize_with = "super::fields::nullable")]
    province: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::fields::nullable")]
    quiet_hours: Option<Option<QuietHours>>,
    #[serde(default, deserialize_with = "super::fields::present")]
    reminders_enabled: Option<bool>,
}

impl UpdateMeRequest {
    fn into_changes(self) -> Result<ProfileChanges, ApiError> {
        let mut errors = Vec::new();
        let mut changes = ProfileChanges {
            display_name: self
                .display_name
                .and_then(|n| accept(&mut errors, "display_name", DisplayName::parse(&n)))
                .map(DisplayName::into_inner),
            locale: self
                .locale
                .and_then(|l| accept(&mut errors, "locale", parse_locale(&l))),
            reminders_enabled: self.reminders_enabled,
            ..ProfileChanges::default()
        };
        // A home location is a point: both coordinates or neither.
        match (self.home_lat, self.home_lon) {
            (None, None) => {}
            (Some(None), Some(None)) => {
                changes.home_lat = Some(None);
                changes.home_lon = Some(None);
            }
            (Some(Some(lat)), Some(Some(lon))) => {
                changes.home_lat = accept(
                    &mut errors,
                    "home_lat",
                    Latitude::parse(lat).map(Latitude::degrees),
                )
                .map(Some);
                changes.home_lon = accept(
                    &mut errors,
                    "home_lon",
                    Longitude::parse(lon).map(Longitude::degrees),
                )
                .map(Some);
            }
            (lat, _) => {
                let missing = if lat.flatten().is_none() {
                    "home_lat"
                } else {
                    "home_lon"
                };
                errors.push(FieldError::new(missing, Code::Required));
            }
        }
        if let Some(province) = self.province {
            changes.province = match province.as_deref().map(str::trim) {
                None | Some("") => Some(None),
                Some(p) if p.chars().count() > 100 => {
                    errors.push(FieldError::new("province", Code::TooLong));
                    None
                }
                Some(p) => Some(Some(p.to_string())),
            };
        }
        match self.quiet_hours {
            None => {}
            Some(None) => {
                changes.quiet_hours_start = Some(None);
                changes.quiet_hours_end = Some(None);
            }
            Some(Some(q)) => {
                let start = accept(
                    &mut errors,
                    "quiet_hours.start",
                    ClockTime::parse(&q.start).map(ClockTime::into_inner),
                );
                let end = accept(
                    &mut errors,
                    "quiet_hours.end",
                    ClockTime::parse(&q.end).map(ClockTime::into_inner),
                );
                changes.quiet_hours_start = start.map(Some);
                changes.quiet_hours_end = end.map(Some);
            }
        }
        if errors.is_empty() {
            Ok(changes)
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

/// `GET /me`
pub async fn get_me(user: AuthUser, pool: web::Data<DbPool>) -> ApiResult<HttpResponse> {
    let (found, line_linked) = with_db(&pool, move |conn| {
        let found = users::find(conn, &user.id)?.ok_or(ApiError::NotFound)?;
        let linked = crate::line::is_linked(conn, &user.id)?;
        Ok((found, linked))
    })
    .await?;
    Ok(HttpResponse::Ok().json(me_view(found, line_linked)?))
}

/// The caller as `GET /me` and `PATCH /me` show them: the profile, and whether notices
/// can reach them on LINE (`POST /me/line/link`).
fn me_view(user: users::User, line_linked: bool) -> ApiResult<serde_json::Value> {
    let mut body = serde_json::to_value(UserView::from(user)).map_err(anyhow::Error::from)?;
    body["line_linked"] = serde_json::Value::Bool(line_linked);
    Ok(body)
}

/// `PATCH /me`
pub async fn update_me(
    user: AuthUser,
    pool: web::Data<DbPool>,
    crate::http::extract::JsonBody(body): crate::http::extract::JsonBody<UpdateMeRequest>,
) -> ApiResult<HttpResponse> {
    let changes = body.into_changes()?;
    let (updated, line_linked) = with_db(&pool, move |conn| {
        let updated = users::update_profile(conn, &user.id, changes)?;
        let linked = crate::line::is_linked(conn, &user.id)?;
        Ok((updated, linked))
    })
    .await?;
    Ok(HttpResponse::Ok().json(me_view(updated, line_linked)?))
}
