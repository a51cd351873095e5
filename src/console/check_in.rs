//! Checking people in at the door from a session's page: the code typed or scanned (the
//! camera through the browser's `BarcodeDetector`, where it has one) goes to the API's
//! check-in operation; the page's roster shows who is in, and keeps up while it is open.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::db::DbPool;
use crate::domain::{normalise_code, CourseSessionId, EnrollmentStatus, TICKET_SYMBOLS};
use crate::error::ApiError;
use crate::handlers::{roster, with_db};
use crate::models::attendance;
use crate::ops;

use super::session::{ConsoleForm, Posted, Staff};
use super::session_page::{back_to_roster, render_session, Extra, SessionQuery, Typed};
use super::view::FormErrors;
use super::words;
use super::{ConsoleError, PageResult};

#[derive(Debug, Deserialize)]
pub struct CheckInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

impl ConsoleForm for CheckInForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// What became of a code typed on this session's page.
enum Desk {
    In(ops::attendance::CheckedIn),
    /// A real ticket, for another session (the API would check the person in there).
    OtherSession,
    Refused(ApiError),
}

/// `POST /console/sessions/{id}/check-in`: the API's `POST /checkins` for a ticket of this
/// session. Checked in (or already): back to the roster at the person; refused: the reason
/// beside the code, which stays typed.
pub async fn check_in(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    posted: Posted<CheckInForm>,
) -> PageResult {
    let Posted { staff, form } = posted;
    let locale = staff.locale;
    let w = words::words(locale);
    let id = path.into_inner();
    let actor = staff.actor();
    let (session_id, typed) = (id.clone(), form.code.clone());
    let outcome = with_db(&pool, move |conn| {
        ops::course_sessions::find_managed(conn, &actor, &CourseSessionId::from_raw(&session_id))?;
        if let Some(code) = normalise_code(&typed, TICKET_SYMBOLS) {
            let found = attendance::enrollment_by_ticket(conn, &code)?;
            if found.is_some_and(|e| e.session_id.as_str() != session_id) {
                return Ok(Desk::OtherSession);
            }
        }
        Ok(match ops::attendance::check_in(conn, &actor, &typed) {
            Ok(done) => Desk::In(done),
            Err(refusal) => Desk::Refused(refusal),
        })
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    let mut errors = FormErrors::default();
    match outcome {
        Desk::In(done) => {
            // A second scan is no mistake, but the desk should know it was one.
            let said = if done.changed {
                "checked_in"
            } else {
                "already_in"
            };
            return Ok(back_to_roster(
                &id,
                "",
                ("done", said),
                &format!("e-{}", done.enrollment.id),
            ));
        }
        Desk::OtherSession => errors.add_text("code", w.ticket_other_session),
        Desk::Refused(ApiError::NotFound) => errors.add_text("code", w.ticket_not_found),
        Desk::Refused(ApiError::Validation(fields)) => errors.add_all(locale, &fields, &[]),
        Desk::Refused(
            ApiError::Conflict(code)
            | ApiError::BadRequest(code)
            | ApiError::UnprocessableEntity(code),
        ) => errors.add(locale, "code", code),
        Desk::Refused(other) => return Err(ConsoleError::from_api(locale, other)),
    }
    let extra = Extra {
        typed: Typed {
            code: form.code,
            ..Typed::default()
        },
        check_in_errors: errors,
        ..Extra::default()
    };
    render_session(&req, staff, &pool, id, &SessionQuery::default(), extra).await
}

/// `GET /console/sessions/{id}/attendance.json`: who is checked in now, for the page's
/// script to keep the roster current while two desks check people in.
pub async fn attendance_now(
    staff: Staff,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let locale = staff.locale;
    let actor = staff.actor();
    let id = CourseSessionId::from_raw(path.into_inner());
    let lines = with_db(&pool, move |conn| Ok(roster::load(conn, &actor, &id)?.1))
        .await
        .map_err(|e| ConsoleError::from_api(locale, e))?;
    let attended: Vec<String> = lines
        .iter()
        .filter(|l| l.status == EnrollmentStatus::Attended)
        .map(|l| l.id.to_string())
        .collect();
    let seated = seated(&lines);
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(json!({ "attended": attended, "seated": seated })))
}

/// Seats held on a roster (confirmed, checked in or absent): the "of M" of "checked in N/M".
pub(super) fn seated(lines: &[roster::RosterLine]) -> usize {
    lines
        .iter()
        .filter(|l| l.status != EnrollmentStatus::Waitlisted)
        .count()
}
