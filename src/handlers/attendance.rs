//! The attendance loop over HTTP: tickets and check-ins, "still coming?" answers,
//! calendars, and certificates (the list in the API; the public pages are
//! `handlers::certificates`).

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::AuthUser;
use crate::calendar;
use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::domain::{display_code, EnrollmentId, Locale};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::JsonBody;
use crate::i18n::dates::bangkok;
use crate::models::{attendance, users};
use crate::ops::attendance as loop_ops;
use crate::push::notify::PushPolicy;

use super::roster;
use super::views::EnrollmentView;
use super::with_db;

/// A calendar feed keeps sessions that ended this recently, so a calendar app does not
/// drop last week's class from a person's history.
const FEED_KEEPS_DAYS: i64 = 30;

/// The person's language (for calendar texts).
fn locale_of(conn: &mut db::DbConn, user: &crate::domain::UserId) -> ApiResult<Locale> {
    Ok(users::find(conn, user)?.ok_or(ApiError::NotFound)?.locale)
}

/// `GET /me/enrollments/{id}/ticket`: the check-in code of the person's confirmed seat
/// and its QR code as SVG.
pub async fn get_ticket(
    user: AuthUser,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = EnrollmentId::from_raw(path.into_inner());
    let actor = user.actor();
    let ticket = with_db(&pool, move |conn| loop_ops::ticket(conn, &actor, &id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(json!({
            "code": ticket.code,
            "qr_svg": crate::qr::svg(&ticket.code, 240),
            "enrollment_id": ticket.seat.enrollment.id,
            "session_id": ticket.seat.session.id,
        })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckInRequest {
    code: String,
}

/// `POST /checkins`: staff of the session's center or an admin check a person in by the
/// code on their ticket; the answer is their roster line, now `attended` (the same again
/// for a code already used).
pub async fn check_in(
    user: AuthUser,
    pool: web::Data<DbPool>,
    JsonBody(body): JsonBody<CheckInRequest>,
) -> ApiResult<HttpResponse> {
    let actor = user.actor();
    let line = with_db(&pool, move |conn| {
        let checked_in = loop_ops::check_in(conn, &actor, &body.code)?;
        roster::line_of(conn, &checked_in.enrollment)
    })
    .await?;
    Ok(HttpResponse::Ok().json(line))
}

/// `POST /me/enrollments/{id}/confirm`: the person is still coming.
pub async fn confirm_my_enrollment(
    user: AuthUser,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = EnrollmentId::from_raw(path.into_inner());
    let actor = user.actor();
    let confirmed = with_db(&pool, move |conn| loop_ops::confirm(conn, &actor, &id)).await?;
    Ok(HttpResponse::Ok().json(EnrollmentView::new(&confirmed, None)))
}

/// `POST /me/enrollments/{id}/release`: the person cannot come; the seat goes to the
/// waitlist exactly as when they cancel (`DELETE /me/enrollments/{id}`).
pub async fn release_my_enrollment(
    user: AuthUser,
    pool: web::Data<DbPool>,
    policy: web::Data<PushPolicy>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    super::enrollments::cancel_my_enrollment(user, pool, policy, path).await
}

fn ics(body: String, file_name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{file_name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .body(body)
}

/// `GET /me/enrollments/{id}/calendar.ics`: one seat as an iCalendar event.
pub async fn get_enrollment_calendar(
    user: AuthUser,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = EnrollmentId::from_raw(path.into_inner());
    let body = with_db(&pool, move |conn| {
        let seat = attendance::seat_facts(conn, &id)?
            .filter(|seat| seat.enrollment.user_id == user.id)
            .ok_or(ApiError::NotFound)?;
        let locale = locale_of(conn, &user.id)?;
        let name = seat.course(locale).to_string();
        Ok(calendar::calendar(&[seat], locale, &name, db::now()))
    })
    .await?;
    Ok(ics(body, "ocod-session.ics"))
}

/// `POST /me/calendar-feed`: a new secret address of the person's calendar feed; the
/// address given before stops working.
pub async fn create_calendar_feed(
    user: AuthUser,
    pool: web::Data<DbPool>,
    settings: web::Data<Settings>,
) -> ApiResult<HttpResponse> {
    let actor = user.actor();
    let token = with_db(&pool, move |conn| loop_ops::new_calendar_feed(conn, &actor)).await?;
    let url = format!(
        "{}/calendar/{token}.ics",
        settings.public_url.trim_end_matches('/')
    );
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(json!({
            "url": url,
            "webcal_url": url.replacen("https://", "webcal://", 1).replacen("http://", "webcal://", 1),
        })))
}

/// `GET /calendar/{token}.ics`: the person's seats (upcoming, and those of the last
/// month), cancelled ones marked so; 404 once the token is replaced or the person erased.
pub async fn get_calendar_feed(
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let token = path.into_inner();
    let body = with_db(&pool, move |conn| {
        let owner = attendance::calendar_feed_owner(conn, &loop_ops::feed_token_hash(&token))?
            .ok_or(ApiError::NotFound)?;
        let locale = locale_of(conn, &owner)?;
        let now = db::now();
        let seats = attendance::calendar_seats(
            conn,
            &owner,
            now - chrono::Duration::days(FEED_KEEPS_DAYS),
        )?;
        let name = match locale {
            Locale::Th => "อบรมที่ศูนย์ดิจิทัลชุมชน",
            Locale::En => "Community Digital Center sessions",
        };
        Ok(calendar::calendar(&seats, locale, name, now))
    })
    .await?;
    Ok(ics(body, "ocod.ics"))
}

/// The public page of a certificate.
pub fn verify_url(settings: &Settings, code: &str) -> String {
    format!(
        "{}/verify/{}",
        settings.public_url.trim_end_matches('/'),
        display_code(code)
    )
}

/// `GET /me/certificates`: one per attended session, the most recent first.
pub async fn list_my_certificates(
    user: AuthUser,
    pool: web::Data<DbPool>,
    settings: web::Data<Settings>,
) -> ApiResult<HttpResponse> {
    let (certificates, locale) = with_db(&pool, move |conn| {
        Ok((
            attendance::certificates_of(conn, &user.id)?,
            locale_of(conn, &user.id)?,
        ))
    })
    .await?;
    let items: Vec<_> = certificates
        .iter()
        .map(|c| {
            json!({
                "code": display_code(&c.code),
                "verify_url": verify_url(&settings, &c.code),
                "course": c.seat.course(locale),
                "center": c.seat.center(locale),
                "attended_on": bangkok(c.seat.session.starts_at).date().to_string(),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}
