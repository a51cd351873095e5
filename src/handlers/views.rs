//! Response shapes shared by several handlers.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::domain::{
    CenterId, CenterStatus, CourseId, CourseSessionId, EnrollmentId, EnrollmentStatus, Locale,
    Role, SessionStatus, UserId,
};
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
    pub id: UserId,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub display_name: String,
    pub role: Role,
    pub locale: Locale,
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

use crate::models::centers::Center;
use crate::models::course_sessions::CourseSession;
use crate::models::courses::Course;
use crate::models::enrollments::Enrollment;

/// A center as everyone sees it. `distance_km` is set when the search had a location;
/// it must stay the last field (the directory pre-renders everything before it).
#[derive(Debug, Serialize)]
pub struct CenterView {
    pub id: CenterId,
    pub code: String,
    pub name_th: String,
    pub name_en: String,
    pub province: String,
    pub district: String,
    pub subdistrict: String,
    pub lat: f64,
    pub lon: f64,
    pub status: CenterStatus,
    pub phone: Option<String>,
    pub opening_hours: Option<String>,
    pub distance_km: Option<f64>,
}

impl CenterView {
    pub fn new(c: &Center, distance_km: Option<f64>) -> Self {
        CenterView {
            id: c.id.clone(),
            code: c.code.clone(),
            name_th: c.name_th.clone(),
            name_en: c.name_en.clone(),
            province: c.province.clone(),
            district: c.district.clone(),
            subdistrict: c.subdistrict.clone(),
            lat: c.lat,
            lon: c.lon,
            status: c.status,
            phone: c.phone.clone(),
            opening_hours: c.opening_hours.clone(),
            // Ten-metre precision is plenty, and keeps the JSON short.
            distance_km: distance_km.map(|d| (d * 100.0).round() / 100.0),
        }
    }
}

/// The short form of a center inside a session.
#[derive(Debug, Serialize)]
pub struct CenterBrief {
    pub id: CenterId,
    pub code: String,
    pub name_th: String,
    pub name_en: String,
    pub province: String,
    pub district: String,
    pub lat: f64,
    pub lon: f64,
}

impl From<&Center> for CenterBrief {
    fn from(c: &Center) -> Self {
        CenterBrief {
            id: c.id.clone(),
            code: c.code.clone(),
            name_th: c.name_th.clone(),
            name_en: c.name_en.clone(),
            province: c.province.clone(),
            district: c.district.clone(),
            lat: c.lat,
            lon: c.lon,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CourseView {
    pub id: CourseId,
    pub title_th: String,
    pub title_en: String,
    pub description_th: String,
    pub description_en: String,
    pub category: String,
    pub level: String,
    pub duration_minutes: i32,
}

impl From<&Course> for CourseView {
    fn from(c: &Course) -> Self {
        CourseView {
            id: c.id.clone(),
            title_th: c.title_th.clone(),
            title_en: c.title_en.clone(),
            description_th: c.description_th.clone(),
            description_en: c.description_en.clone(),
            category: c.category.clone(),
            level: c.level.clone(),
            duration_minutes: c.duration_minutes,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SessionView {
    pub id: CourseSessionId,
    pub course: CourseView,
    pub center: CenterBrief,
    pub starts_at: String,
    pub ends_at: String,
    pub capacity: i32,
    pub seats_left: i32,
    pub waitlist_count: i32,
    pub status: SessionStatus,
    pub instructor: Option<String>,
    pub room: Option<String>,
}

impl SessionView {
    pub fn new(s: &CourseSession, course: &Course, center: &Center) -> Self {
        SessionView {
            id: s.id.clone(),
            course: CourseView::from(course),
            center: CenterBrief::from(center),
            starts_at: rfc3339(s.starts_at),
            ends_at: rfc3339(s.ends_at),
            capacity: s.capacity,
            seats_left: s.seats_left(),
            waitlist_count: s.waitlist_count,
            status: s.status_at(crate::db::now()),
            instructor: s.instructor.clone(),
            room: s.room.clone(),
        }
    }
}

/// An enrollment as its owner sees it.
#[derive(Debug, Serialize)]
pub struct EnrollmentView {
    pub id: EnrollmentId,
    pub session_id: CourseSessionId,
    pub status: EnrollmentStatus,
    /// Place in the waitlist (1 = next), only while waitlisted.
    pub waitlist_position: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    /// When the person said they are still coming; null until they do.
    pub confirmed_at: Option<String>,
}

impl EnrollmentView {
    pub fn new(e: &Enrollment, waitlist_position: Option<i64>) -> Self {
        EnrollmentView {
            id: e.id.clone(),
            session_id: e.session_id.clone(),
            status: e.status,
            waitlist_position: if e.status == EnrollmentStatus::Waitlisted {
                waitlist_position
            } else {
                None
            },
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
            confirmed_at: e.confirmed_at.map(rfc3339),
        }
    }
}
