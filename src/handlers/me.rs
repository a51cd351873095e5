//! The caller's own profile.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Deserializer};

use crate::auth::AuthUser;
use crate::db::DbPool;
use crate::domain::DisplayName;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::i18n::Code;
use crate::models::users::{self, ProfileChanges};

use super::auth::{accept, parse_locale};
use super::views::UserView;
use super::with_db;

/// Tells "absent" (leave alone) from `null` (clear) for nullable fields.
pub fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// For fields that may be left out but never be `null` (which would otherwise read as
/// "left out" and be silently accepted): `null` is refused as the wrong type.
pub fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

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
    #[serde(default, deserialize_with = "present")]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    locale: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    home_lat: Option<Option<f64>>,
    #[serde(default, deserialize_with = "nullable")]
    home_lon: Option<Option<f64>>,
    #[serde(default, deserialize_with = "nullable")]
    province: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    quiet_hours: Option<Option<QuietHours>>,
    #[serde(default, deserialize_with = "present")]
    reminders_enabled: Option<bool>,
}

/// `HH:MM` on a 24-hour clock.
pub fn parse_clock_time(raw: &str) -> Result<String, Code> {
    let (h, m) = raw.trim().split_once(':').ok_or(Code::InvalidTime)?;
    let valid = h.len() == 2
        && m.len() == 2
        && h.parse::<u8>().is_ok_and(|h| h < 24)
        && m.parse::<u8>().is_ok_and(|m| m < 60);
    if valid {
        Ok(format!("{h}:{m}"))
    } else {
        Err(Code::InvalidTime)
    }
}

fn in_range(value: f64, limit: f64) -> Result<f64, Code> {
    if value.is_finite() && (-limit..=limit).contains(&value) {
        Ok(value)
    } else {
        Err(Code::OutOfRange)
    }
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
                changes.home_lat = accept(&mut errors, "home_lat", in_range(lat, 90.0)).map(Some);
                changes.home_lon = accept(&mut errors, "home_lon", in_range(lon, 180.0)).map(Some);
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
                let start = accept(&mut errors, "quiet_hours.start", parse_clock_time(&q.start));
                let end = accept(&mut errors, "quiet_hours.end", parse_clock_time(&q.end));
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
    let found = with_db(&pool, move |conn| {
        users::find(conn, &user.id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(UserView::from(found)))
}

/// `PATCH /me`
pub async fn update_me(
    user: AuthUser,
    pool: web::Data<DbPool>,
    crate::http::extract::JsonBody(body): crate::http::extract::JsonBody<UpdateMeRequest>,
) -> ApiResult<HttpResponse> {
    let changes = body.into_changes()?;
    let updated = with_db(&pool, move |conn| {
        Ok(users::update_profile(conn, &user.id, changes)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(UserView::from(updated)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_are_strict() {
        assert_eq!(parse_clock_time("21:00"), Ok("21:00".into()));
        assert_eq!(parse_clock_time("07:30"), Ok("07:30".into()));
        for bad in ["7:00", "24:00", "23:60", "2100", "ab:cd", "", "21:00:00"] {
            assert!(parse_clock_time(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
