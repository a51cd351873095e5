//! Enrollment: residents enroll and cancel; staff read the roster and record attendance.

use actix_web::http::header;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::{AuthUser, StaffUser};
use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::domain::{
    CourseSessionId, DisplayName, EnrollmentId, EnrollmentStatus, Phone, Role, UserId,
};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams, MAX_BODY_BYTES};
use crate::http::pagination::{decode_cursor, encode_cursor, page_limit, Page};
use crate::i18n::Code;
use crate::models::seats::Enrolled;
use crate::models::{enrollments, seats};
use crate::ops::{
    self,
    enrollments::{EnrollOutcome, Retry, WalkIn},
};
use crate::push::notify::PushPolicy;

use super::course_sessions::session_views;
use super::fields::accept;
use super::roster::{self, roster_csv};
use super::views::{EnrollmentView, SessionView};
use super::with_db;

/// Whom staff enroll at the desk; a resident sends nothing (or `{}`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    #[serde(default, deserialize_with = "super::fields::present")]
    user_id: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    phone: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    display_name: Option<String>,
}

impl EnrollRequest {
    fn is_empty(&self) -> bool {
        self.user_id.is_none() && self.phone.is_none() && self.display_name.is_none()
    }

    /// The person staff name: an account by ID, or a phone with the name to give a new
    /// account (every problem collected).
    fn walk_in(self) -> Result<WalkIn, ApiError> {
        match (self.user_id, self.phone) {
            (Some(id), None) if self.display_name.is_none() => {
                Ok(WalkIn::Account(UserId::from_raw(id.trim())))
            }
            (None, Some(phone)) => {
                let mut errors = Vec::new();
                let phone = accept(&mut errors, "phone", Phone::parse(&phone));
                let name = match self.display_name {
                    Some(name) => accept(&mut errors, "display_name", DisplayName::parse(&name)),
                    None => accept(&mut errors, "display_name", Err(Code::Required)),
                };
                match (phone, name) {
                    (Some(phone), Some(display_name)) => Ok(WalkIn::Phone {
                        phone,
                        display_name,
                    }),
                    _ => Err(ApiError::Validation(errors)),
                }
            }
            (None, None) => Err(ApiError::field("phone", Code::Required)),
            _ => Err(ApiError::field("user_id", Code::InvalidValue)),
        }
    }
}

/// `POST /sessions/{id}/enrollments`: a resident enrolls themselves (no body); staff of
/// the session's center or an admin enroll a walk-in (`{user_id}` or `{phone,
/// display_name}`). With an `Idempotency-Key`, a retry of the same request replays the
/// first answer; the key on a different request (another session, another body) is
/// refused with 422.
pub async fn enroll(
    req: HttpRequest,
    user: AuthUser,
    writer: web::Data<db::Writer>,
    policy: web::Data<PushPolicy>,
    settings: web::Data<Settings>,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let limits = settings.limits;
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        EnrollRequest::default()
    } else {
        crate::http::extract::parse_json::<EnrollRequest>(&body)?
    };
    // A resident enrolls only themselves; staff always name someone.
    let walk_in = match user.role {
        Role::Resident if request.is_empty() => None,
        Role::Resident => return Err(ApiError::Forbidden),
        Role::Staff | Role::Admin => Some(request.walk_in()?),
    };
    let session_id = CourseSessionId::from_raw(path.into_inner());
    // The Idempotency-Key layer reserved the key; the answer is stored with the seat.
    let retry = req.extensions().get::<Retry>().cloned();
    let actor = user.actor();
    let render = |enrolled: &Enrolled| {
        serde_json::to_string(&EnrollmentView::new(
            &enrolled.enrollment,
            enrolled.waitlist_position,
        ))
        .map_err(|e| ApiError::Internal(e.into()))
    };
    // A writer thread runs it, batched with other enrollments arriving now: on SQLite
    // all of them, on PostgreSQL those of the same session (walk-ins, made at a desk one
    // at a time, use the pool there).
    let outcome = match walk_in {
        None => {
            let (session, person) = (session_id.to_string(), actor.id.to_string());
            writer
                .run_in_session(&session, &person, move |conn| {
                    ops::enrollments::enroll_self(
                        conn,
                        &policy,
                        &limits,
                        &actor,
                        &session_id,
                        retry.as_ref(),
                        render,
                    )
                })
                .await?
        }
        Some(who) => {
            writer
                .run(move |conn| {
                    ops::enrollments::enroll_walk_in(
                        conn,
                        &policy,
                        &limits,
                        &actor,
                        &session_id,
                        who.clone(),
                        retry.as_ref(),
                        render,
                    )
                })
                .await?
        }
    };
    let (status, body, replayed) = match outcome {
        EnrollOutcome::Enrolled { status, body } => (status, body, false),
        EnrollOutcome::Replayed { status, body } => (status, body, true),
    };
    let mut response = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status).map_err(anyhow::Error::from)?,
    );
    response.content_type("application/json");
    if replayed {
        response.insert_header(("idempotent-replayed", "true"));
    }
    Ok(response.body(body))
}

/// `DELETE /enrollments/{id}`: staff of the session's center (or an admin) give a seat
/// up for someone; the person is told and the waitlist moves up.
pub async fn cancel_enrollment(
    StaffUser(user): StaffUser,
    pool: web::Data<DbPool>,
    policy: web::Data<PushPolicy>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = EnrollmentId::from_raw(path.into_inner());
    let actor = user.actor();
    let released = with_db(&pool, move |conn| {
        ops::enrollments::release_for(conn, &policy, &actor, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(EnrollmentView::new(&released, None)))
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Offset cursors, for short lists kept in a computed order.
fn offset_from(cursor: Option<&str>) -> Result<usize, ApiError> {
    match cursor {
        None => Ok(0),
        Some(c) => decode_cursor(c)?
            .strip_prefix("o:")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| ApiError::field("cursor", Code::InvalidCursor)),
    }
}

fn page_of<T>(mut all: Vec<T>, offset: usize, limit: usize) -> (Vec<T>, Option<String>) {
    let more = all.len() > offset + limit;
    let items: Vec<T> = all.drain(offset.min(all.len())..).take(limit).collect();
    (
        items,
        more.then(|| encode_cursor(&format!("o:{}", offset + limit))),
    )
}

#[derive(Debug, Serialize)]
pub struct MyEnrollment {
    #[serde(flatten)]
    enrollment: EnrollmentView,
    session: SessionView,
}

/// `GET /me/enrollments`: upcoming first (soonest first), then past ones.
pub async fn list_my_enrollments(
    user: AuthUser,
    pool: web::Data<DbPool>,
    QueryParams(query): QueryParams<PageQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)? as usize;
    let offset = offset_from(query.cursor.as_deref())?;
    let page = with_db(&pool, move |conn| {
        let all = enrollments::of_user(conn, &user.id, db::now())?;
        let (rows, next_cursor) = page_of(all, offset, limit);
        let sessions: Vec<_> = rows.iter().map(|(_, s)| s.clone()).collect();
        let views = session_views(conn, &sessions)?;
        let mut items = Vec::with_capacity(rows.len());
        for ((enrollment, _), session) in rows.into_iter().zip(views) {
            let position = match enrollment.waitlist_seq {
                Some(seq) if enrollment.status == EnrollmentStatus::Waitlisted => {
                    Some(seats::waitlist_position(conn, &enrollment.session_id, seq)?)
                }
                _ => None,
            };
            items.push(MyEnrollment {
                enrollment: EnrollmentView::new(&enrollment, position),
                session,
            });
        }
        Ok(Page { items, next_cursor })
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `DELETE /me/enrollments/{id}`: cancels; the freed seat goes to the waitlist head.
pub async fn cancel_my_enrollment(
    user: AuthUser,
    pool: web::Data<DbPool>,
    policy: web::Data<PushPolicy>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = EnrollmentId::from_raw(path.into_inner());
    let actor = user.actor();
    let cancelled = with_db(&pool, move |conn| {
        ops::enrollments::cancel_own(conn, &policy, &actor, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(EnrollmentView::new(&cancelled, None)))
}

/// `GET /sessions/{id}/enrollments`: the roster, as JSON or (`Accept: text/csv`) a CSV
/// file that opens in Excel with Thai intact.
pub async fn list_session_enrollments(
    req: HttpRequest,
    StaffUser(user): StaffUser,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    QueryParams(query): QueryParams<PageQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)? as usize;
    let offset = offset_from(query.cursor.as_deref())?;
    let wants_csv = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.split(',').any(|t| t.trim().starts_with("text/csv")));
    let session_id = CourseSessionId::from_raw(path.into_inner());
    let actor = user.actor();
    let (session, lines) =
        with_db(&pool, move |conn| roster::load(conn, &actor, &session_id)).await?;
    let session_id = session.id;
    if wants_csv {
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"roster-{session_id}.csv\""),
            ))
            .body(roster_csv(&lines)?));
    }
    let (items, next_cursor) = page_of(lines, offset, limit);
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateEnrollmentRequest {
    status: String,
}

/// `PATCH /enrollments/{id}`: records `attended` or `no_show`.
pub async fn update_enrollment(
    StaffUser(user): StaffUser,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    JsonBody(body): JsonBody<UpdateEnrollmentRequest>,
) -> ApiResult<HttpResponse> {
    let status = match EnrollmentStatus::parse(body.status.trim()) {
        Some(s) if s.is_attendance() => s,
        _ => return Err(ApiError::field("status", Code::InvalidValue)),
    };
    let id = EnrollmentId::from_raw(path.into_inner());
    let actor = user.actor();
    let updated = with_db(&pool, move |conn| {
        ops::enrollments::mark_attendance(conn, &actor, &id, status)
    })
    .await?;
    Ok(HttpResponse::Ok().json(EnrollmentView::new(&updated, None)))
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn offset_cursors_round_trip(offset in 0usize..10_000_000) {
            let cursor = encode_cursor(&format!("o:{offset}"));
            prop_assert_eq!(offset_from(Some(&cursor)).ok(), Some(offset));
        }
    }
}
