//! What staff do to one person on a session's roster: enroll a walk-in, record
//! attendance with one tap, give a seat up. Each is the API's operation.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use askama::Template;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::db::DbPool;
use crate::domain::{CourseSessionId, DisplayName, EnrollmentId, EnrollmentStatus, Phone};
use crate::error::ApiError;
use crate::handlers::fields::accept;
use crate::handlers::with_db;
use crate::i18n::Code;
use crate::models::enrollments;
use crate::ops;
use crate::ops::enrollments::{EnrollOutcome, Retry, WalkIn};
use crate::push::notify::PushPolicy;

use super::session::{ConsoleForm, CsrfOnly, Posted, Staff};
use super::session_page::{
    back_to_roster, load, refusal_code, render_session, ConfirmPage, Extra, SessionQuery, Typed,
};
use super::view::{here, html, see_other, FormErrors, Shell};
use super::words;
use super::{ConsoleError, PageResult};

#[derive(Debug, Deserialize)]
pub struct WalkInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    once: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    name: String,
}

impl ConsoleForm for WalkInForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /console/sessions/{id}/walk-in`: the API's walk-in enrollment. The form's
/// one-time key makes a double tap one enrollment.
pub async fn walk_in(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    writer: web::Data<crate::db::Writer>,
    policy: web::Data<PushPolicy>,
    settings: web::Data<Settings>,
    path: web::Path<String>,
    posted: Posted<WalkInForm>,
) -> PageResult {
    let Posted { staff, form } = posted;
    let locale = staff.locale;
    let id = path.into_inner();
    let mut errors = Vec::new();
    let phone = accept(&mut errors, "phone", Phone::parse(&form.phone));
    let name = if form.name.trim().is_empty() {
        // A known phone needs no name; a new one is refused by the operation.
        None
    } else {
        accept(&mut errors, "name", DisplayName::parse(&form.name))
    };
    let typed = Typed {
        phone: form.phone.clone(),
        name: form.name.clone(),
        ..Typed::default()
    };
    let refused = |errors: FormErrors, typed: Typed| Extra {
        typed,
        walk_in_errors: errors,
        ..Extra::default()
    };
    let no_query = SessionQuery::default();
    let Some(phone) = phone.filter(|_| errors.is_empty()) else {
        let mut shown = FormErrors::default();
        shown.add_all(locale, &errors, &[]);
        return render_session(&req, staff, &pool, id, &no_query, refused(shown, typed)).await;
    };
    let retry = (!form.once.is_empty() && form.once.len() <= 64).then(|| Retry {
        key: format!("console:{}", form.once),
        fingerprint: format!(
            "{:x}",
            Sha256::digest(format!(
                "walk-in {id}\n{}\n{}",
                phone.as_str(),
                form.name.trim()
            ))
        ),
    });
    let actor = staff.actor();
    let limits = settings.limits;
    let session_id = CourseSessionId::from_raw(id.clone());
    // Through the writer, as the API's enrollments (batched with them on SQLite).
    let outcome = writer
        .run(move |conn| {
            let who = match name.clone() {
                Some(display_name) => WalkIn::Phone {
                    phone: phone.clone(),
                    display_name,
                },
                None => match crate::models::users::find_by_login(conn, phone.as_str())? {
                    Some(user) => WalkIn::Account(user.id),
                    None => return Err(ApiError::field("name", Code::Required)),
                },
            };
            ops::enrollments::enroll_walk_in(
                conn,
                &policy,
                &limits,
                &actor,
                &session_id,
                who,
                retry.as_ref(),
                |enrolled| Ok(enrolled.enrollment.status.as_str().to_string()),
            )
        })
        .await;
    match outcome {
        Ok(EnrollOutcome::Enrolled { body, .. } | EnrollOutcome::Replayed { body, .. }) => {
            let done = if body == EnrollmentStatus::Waitlisted.as_str() {
                "waitlisted"
            } else {
                "walk_in"
            };
            Ok(see_other(format!("/console/sessions/{id}?done={done}")))
        }
        Err(e) => {
            let shown =
                FormErrors::from_api(locale, e, &[("user_id", "phone"), ("display_name", "name")])?;
            render_session(&req, staff, &pool, id, &no_query, refused(shown, typed)).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct AttendanceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
}

impl ConsoleForm for AttendanceForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `PATCH /enrollments/{id}`). A refusal is shown above the roster; nothing changes.
pub async fn mark_attendance(
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    posted: Posted<AttendanceForm>,
) -> PageResult {
    let Posted { staff, form } = posted;
    let locale = staff.locale;
    let enrollment_id = EnrollmentId::from_raw(path.into_inner());
    let status = match form.status.as_str() {
        "attended" => EnrollmentStatus::Attended,
        "no_show" => EnrollmentStatus::NoShow,
        _ => return Err(ConsoleError::BadForm(locale)),
    };
    let actor = staff.actor();
    let id = enrollment_id.clone();
    let outcome = with_db(&pool, move |conn| {
        let session_id = enrollments::find(conn, &id)?
            .ok_or(ApiError::NotFound)?
            .session_id;
        Ok((
            session_id,
            ops::enrollments::mark_attendance(conn, &actor, &id, status),
        ))
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    let anchor = format!("e-{enrollment_id}");
    Ok(match outcome {
        (session_id, Ok(_)) => {
            back_to_roster(&session_id, &form.q, ("done", "attendance"), &anchor)
        }
        (session_id, Err(e)) => {
            let code = refusal_code(locale, e)?;
            back_to_roster(&session_id, &form.q, ("refused", code.as_str()), &anchor)
        }
    })
}

/// `GET /console/enrollments/{id}/release`: "Give up this person's seat?"
pub async fn release_form(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> PageResult {
    let locale = staff.locale;
    let w = words::words(locale);
    let id = EnrollmentId::from_raw(path.into_inner());
    let lookup = id.clone();
    let session_id = with_db(&pool, move |conn| {
        Ok(enrollments::find(conn, &lookup)?.map(|e| e.session_id))
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?
    .ok_or(ConsoleError::NotFound(locale))?;
    let loaded = load(&staff, &pool, session_id.to_string()).await?;
    let line = loaded
        .lines
        .iter()
        .find(|l| l.id == id)
        .ok_or(ConsoleError::NotFound(locale))?;
    let page = ConfirmPage {
        shell: Shell::new(&staff, w.give_up_seat, here(&req), "today"),
        question: format!("{}: {}", w.give_up_seat, line.user.display_name),
        detail: w.give_up_seat_confirm.to_string(),
        action: format!("/console/enrollments/{id}/release"),
        hidden: Vec::new(),
        button: w.give_up_seat,
        back: format!("{}#e-{id}", loaded.facts.href),
        s: loaded.facts,
        error: None,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// `POST /console/enrollments/{id}/release`: the API's `DELETE /enrollments/{id}`; the
/// waitlist moves up and the person is told. Given up already (a second tap) is not an
/// error: the roster shows it.
pub async fn release_seat(
    pool: web::Data<DbPool>,
    policy: web::Data<PushPolicy>,
    path: web::Path<String>,
    posted: Posted<CsrfOnly>,
) -> PageResult {
    let locale = posted.staff.locale;
    let actor = posted.staff.actor();
    let id = EnrollmentId::from_raw(path.into_inner());
    let lookup = id.clone();
    let (session_id, outcome) = with_db(&pool, move |conn| {
        let enrollment = enrollments::find(conn, &lookup)?.ok_or(ApiError::NotFound)?;
        let session_id = enrollment.session_id.clone();
        ops::course_sessions::find_managed(conn, &actor, &session_id)?;
        let outcome = if enrollment.status == EnrollmentStatus::Cancelled {
            Ok(enrollment)
        } else {
            ops::enrollments::release_for(conn, &policy, &actor, &lookup)
        };
        Ok((session_id, outcome))
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    let anchor = format!("e-{id}");
    Ok(match outcome {
        Ok(_) => back_to_roster(&session_id, "", ("done", "released"), "roster"),
        Err(e) => back_to_roster(
            &session_id,
            "",
            ("refused", refusal_code(locale, e)?.as_str()),
            &anchor,
        ),
    })
}
