//! Response shapes shared by several handlers.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::models::users::User;

/// RFC 3339 in UTC, e.g. `2026-11-29T10:00:00Z`.
pub fn rfc3339(t: NaiveDateTime) -> String {
    DateTime::<Utc>::from_naive_utc_and_offset(t, Utc).to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[derive(Debug, Serialize)]
pub struct QuietHoursView {
    pub start: String,
    pub end: String,
}

/// A user as the user (or an admin) sees them. Never includes the password hash.
#[derive(Debug, Serialize)]
pub struct UserView {
    pub id: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub display_name: String,
    pub role: String,
    pub locale: String,
    pub home_lat: Option<f64>,
    pub home_lon: Option<f64>,
    pub province: Option<String>,
    /// `null` means the server's default quiet hours apply.
    pub quiet_hours: Option<QuietHoursView>,
    pub reminders_enabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        let quiet_hours = match (u.quiet_hours_start, u.quiet_hours_end) {
            (Some(start), Some(end)) => Some(QuietHoursView { start, end }),
            _ => None,
        };
        UserView {
            id: u.id,
            phone: u.phone,
            email: u.email,
            display_name: u.display_name,
            role: u.role,
            locale: u.locale,
            home_lat: u.home_lat,
            home_lon: u.home_lon,
            province: u.province,
            quiet_hours,
            reminders_enabled: u.reminders_enabled,
            created_at: rfc3339(u.created_at),
            updated_at: rfc3339(u.updated_at),
        }
    }
}

/// What register, login and refresh answer.
#[derive(Debug, Serialize)]
pub struct TokenPair {
    pub user: UserView,
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}
