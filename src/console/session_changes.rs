//! Changes to a whole session: reschedule or resize, cancel, message everyone enrolled.
//! Each confirmation says how many people will be told; each is the API's operation.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::db::DbPool;
use crate::domain::CourseSessionId;
use crate::error::FieldError;
use crate::handlers::broadcasts::validate_new_broadcast;
use crate::handlers::with_db;
use crate::models::course_sessions::SessionChange;
use crate::models::idempotency::Retry;
use crate::ops;
use crate::ops::broadcasts::AudienceInput;
use crate::push::notify::PushPolicy;

use super::schedule::{ScheduleForm, SCHEDULE_FIELDS};
use super::session::{ConsoleForm, CsrfOnly, Posted, Staff};
use super::session_page::{
    load, people_to_tell, refusal_code, render_session, ConfirmPage, Extra, Loaded, SessionFacts,
    SessionQuery, Typed,
};
use super::view::{
    here, html, line_breaks, schedule_fields, see_other, FormErrors, InputField, Shell,
};
use super::words::{self, bangkok};
use super::{ConsoleError, PageResult};

/// `GET /console/sessions/{id}/cancel`: "Cancel this session? N people will be told"
pub async fn cancel_form(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> PageResult {
    let w = words::words(staff.locale);
    let loaded = load(&staff, &pool, path.into_inner()).await?;
    if !loaded.facts.scheduled {
        return Err(ConsoleError::NotFound(staff.locale));
    }
    let page = ConfirmPage {
        shell: Shell::new(&staff, w.cancel_session, here(&req), "today"),
        question: w.cancel_session_confirm.to_string(),
        detail: words::people_told(staff.locale, people_to_tell(&loaded.lines)),
        action: format!("{}/cancel", loaded.facts.href),
        hidden: Vec::new(),
        button: w.cancel_session,
        back: loaded.facts.href.clone(),
        s: loaded.facts,
        error: None,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// `POST /console/sessions/{id}/cancel`: the API's `POST /sessions/{id}/cancel`.
pub async fn cancel_session(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    posted: Posted<CsrfOnly>,
) -> PageResult {
    let staff = posted.staff;
    let locale = staff.locale;
    let actor = staff.actor();
    let id = CourseSessionId::from_raw(path.into_inner());
    let target = id.clone();
    let cancelled = with_db(&pool, move |conn| {
        ops::course_sessions::cancel(conn, &actor, &target)
    })
    .await;
    match cancelled {
        Ok(_) => Ok(see_other(format!("/console/sessions/{id}?done=cancelled"))),
        Err(e) => {
            let code = refusal_code(locale, e)?;
            let query = SessionQuery {
                refused: Some(code.as_str().to_string()),
                ..SessionQuery::default()
            };
            let extra = Extra::default();
            render_session(&req, staff, &pool, id.to_string(), &query, extra).await
        }
    }
}

/// A session's schedule as its edit form holds it.
#[derive(Debug, Default, Deserialize)]
pub struct EditForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    schedule: ScheduleForm,
    /// Set by the confirmation page: the person has read how many will be told.
    #[serde(default)]
    confirmed: String,
}

impl ConsoleForm for EditForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Template)]
#[template(path = "console/edit_session.html")]
struct EditPage {
    shell: Shell,
    s: SessionFacts,
    fields: Vec<InputField>,
    errors: FormErrors,
}

fn edit_page(
    req: &HttpRequest,
    staff: &Staff,
    loaded: Loaded,
    form: EditForm,
    errors: FormErrors,
) -> HttpResponse {
    let w = words::words(staff.locale);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = EditPage {
        shell: Shell::new(staff, w.change_session, here(req), "today"),
        s: loaded.facts,
        fields: schedule_fields(w, |name| form.schedule.value(name), &errors),
        errors,
    };
    html(status, page.render())
}

/// `GET /console/sessions/{id}/edit`
pub async fn edit_form(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> PageResult {
    let loaded = load(&staff, &pool, path.into_inner()).await?;
    if !loaded.facts.scheduled {
        return Err(ConsoleError::NotFound(staff.locale));
    }
    let (starts, ends) = (
        bangkok(loaded.session.starts_at),
        bangkok(loaded.session.ends_at),
    );
    let form = EditForm {
        schedule: ScheduleForm {
            date: starts.format("%Y-%m-%d").to_string(),
            starts: starts.format("%H:%M").to_string(),
            ends: ends.format("%H:%M").to_string(),
            capacity: loaded.session.capacity.to_string(),
            room: loaded.session.room.clone().unwrap_or_default(),
            instructor: loaded.session.instructor.clone().unwrap_or_default(),
        },
        ..EditForm::default()
    };
    Ok(edit_page(&req, &staff, loaded, form, FormErrors::default()))
}

/// `POST /console/sessions/{id}/edit`: first says how many people the change tells, then
/// (confirmed) makes it with the API's `PATCH /sessions/{id}`.
pub async fn edit_session(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    policy: web::Data<PushPolicy>,
    path: web::Path<String>,
    posted: Posted<EditForm>,
) -> PageResult {
    let Posted { staff, form } = posted;
    let locale = staff.locale;
    let w = words::words(locale);
    let loaded = load(&staff, &pool, path.into_inner()).await?;
    let mut errors: Vec<FieldError> = Vec::new();
    let session = &loaded.session;
    let mut change = SessionChange::default();
    if let Some(schedule) = form.schedule.parse(&mut errors) {
        if schedule.starts_at != session.starts_at || schedule.ends_at != session.ends_at {
            ops::course_sessions::check_times(schedule.starts_at, schedule.ends_at, &mut errors);
            change.starts_at = Some(schedule.starts_at);
            change.ends_at = Some(schedule.ends_at);
        }
        if schedule.capacity != session.capacity {
            change.capacity = Some(schedule.capacity);
        }
        if schedule.room != session.room {
            change.room = Some(schedule.room);
        }
        if schedule.instructor != session.instructor {
            change.instructor = Some(schedule.instructor);
        }
    }
    if !errors.is_empty() {
        let mut shown = FormErrors::default();
        shown.add_all(locale, &errors, SCHEDULE_FIELDS);
        return Ok(edit_page(&req, &staff, loaded, form, shown));
    }
    let moved = change.starts_at.is_some();
    let promoted = change.capacity.map_or(0, |c| {
        (c - session.capacity).clamp(0, session.waitlist_count)
    }) as usize;
    let told = if moved {
        people_to_tell(&loaded.lines)
    } else {
        promoted
    };
    if form.confirmed != "yes" {
        let mut hidden = form.schedule.hidden();
        hidden.push(("confirmed", "yes".to_string()));
        let page = ConfirmPage {
            shell: Shell::new(&staff, w.change_session, here(&req), "today"),
            question: w.change_session.to_string(),
            detail: words::people_told(locale, told),
            action: format!("{}/edit", loaded.facts.href),
            hidden,
            button: w.save_changes,
            back: format!("{}/edit", loaded.facts.href),
            s: loaded.facts,
            error: None,
        };
        return Ok(html(StatusCode::OK, page.render()));
    }
    let actor = staff.actor();
    let id = session.id.clone();
    let updated = with_db(&pool, move |conn| {
        ops::course_sessions::update(conn, &policy, &actor, &id, change)
    })
    .await;
    match updated {
        Ok(s) => Ok(see_other(format!(
            "/console/sessions/{}?done=updated",
            s.id
        ))),
        Err(e) => {
            let shown = FormErrors::from_api(locale, e, SCHEDULE_FIELDS)?;
            Ok(edit_page(&req, &staff, loaded, form, shown))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct MessageForm {
    #[serde(default)]
    csrf: String,
    /// The page's one-time key: the same message sent twice (a double tap) goes once.
    #[serde(default)]
    once: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

impl ConsoleForm for MessageForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /console/sessions/{id}/message`: a push to everyone enrolled in the session (the
/// API's broadcast to a session audience, within the same daily limit). One text is sent
/// to readers of both languages.
pub async fn message_session(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    settings: web::Data<Settings>,
    path: web::Path<String>,
    posted: Posted<MessageForm>,
) -> PageResult {
    let Posted { staff, form } = posted;
    let locale = staff.locale;
    let id = path.into_inner();
    let typed = Typed {
        title: form.title.clone(),
        body: form.body.clone(),
        ..Typed::default()
    };
    let no_query = SessionQuery::default();
    let refused = |errors: FormErrors, typed: Typed| Extra {
        typed,
        message_errors: errors,
        ..Extra::default()
    };
    let audience = AudienceInput {
        kind: "session".into(),
        value: Some(id.clone()),
    };
    let (title, body) = (form.title.trim(), line_breaks(&form.body));
    let rename = [
        ("title.th", "title"),
        ("title.en", "title"),
        ("body.th", "body"),
        ("body.en", "body"),
    ];
    let new = match validate_new_broadcast(audience, [title, title, &body, &body], None) {
        Ok(new) => new,
        Err(errors) => {
            let mut shown = FormErrors::default();
            shown.add_all(locale, &errors, &rename);
            return render_session(&req, staff, &pool, id, &no_query, refused(shown, typed)).await;
        }
    };
    let retry = (!form.once.is_empty() && form.once.len() <= 64).then(|| Retry {
        key: format!("console:message:{}", form.once),
        fingerprint: format!(
            "{:x}",
            Sha256::digest(format!("message {id}\n{title}\n{body}"))
        ),
    });
    let actor = staff.actor();
    let per_day = settings.limits.broadcasts_per_day;
    let created = with_db(&pool, move |conn| {
        ops::broadcasts::create(conn, &actor, per_day, new, retry.as_ref())
    })
    .await;
    match created {
        Ok(_) => Ok(see_other(format!(
            "/console/sessions/{id}?done=message#message"
        ))),
        Err(e) => {
            let shown = FormErrors::from_api(locale, e, &rename)?;
            render_session(&req, staff, &pool, id, &no_query, refused(shown, typed)).await
        }
    }
}
