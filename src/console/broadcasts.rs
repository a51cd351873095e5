//! Admin *Broadcasts*: the list with delivery figures, the composer (Thai and English
//! texts with their character counts and a lock-screen preview, the audience with its
//! count of people and devices, now or at a Bangkok time), a broadcast's figures with
//! cancel before sending, and the push failures. Without JavaScript "Preview" redraws the
//! page with the count; `composer.js` keeps counts, preview and reach live as one types.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::db::{self, DbConn, DbPool};
use crate::domain::{find_province, AudienceKind, BroadcastStatus, CenterId, Locale, PROVINCES};
use crate::error::ApiError;
use crate::handlers::broadcasts::{validate_new_broadcast, BODY_MAX, TITLE_MAX};
use crate::handlers::with_db;
use crate::i18n::Code;
use crate::models::broadcasts::{self, Audience, Broadcast, Stats};
use crate::models::idempotency::Retry;
use crate::models::{centers, course_sessions, courses, users};
use crate::ops::{self, broadcasts::AudienceInput, Actor};

use super::admin_words::{self as aw, admin_words};
use super::schedule::parse_local;
use super::session::{ConsoleForm, CsrfOnly, Posted, Staff};
use super::session_page::once_key;
use super::today::{center_label, course_title};
use super::view::{
    here, html, line_breaks, see_other, Choice, DoneQuery, FormErrors, InputField, Shell,
};
use super::words::{self, from_bangkok};
use super::{ConsoleError, PageResult};

/// How many broadcasts the list shows (newest first).
const MAX_LISTED: i64 = 50;

fn when(locale: Locale, t: NaiveDateTime) -> String {
    format!("{} {}", words::date(locale, t), words::clock(locale, t))
}

/// Written out is not gone out: while anyone still waits (quiet hours, retries), it is
/// still sending (as the API shows it).
fn shown_status(b: &Broadcast, stats: &Stats) -> BroadcastStatus {
    match b.status {
        BroadcastStatus::Sent if stats.in_flight() => BroadcastStatus::Sending,
        status => status,
    }
}

fn title(locale: Locale, b: &Broadcast) -> &str {
    match locale {
        Locale::Th => &b.title_th,
        Locale::En => &b.title_en,
    }
}

/// Who a stored broadcast is for, in words: "Province: เชียงใหม่".
fn audience_words(conn: &mut DbConn, locale: Locale, b: &Broadcast) -> Result<String, ApiError> {
    let kind = aw::audience_kind(locale, b.audience_kind);
    let Some(audience) = Audience::from_db(b.audience_kind, b.audience_value.as_deref()) else {
        return Ok(kind.to_string());
    };
    let value = match audience {
        Audience::All => return Ok(kind.to_string()),
        Audience::Province(p) => find_province(&p).map_or(p.clone(), |p| match locale {
            Locale::Th => p.name_th.to_string(),
            Locale::En => p.name_en.to_string(),
        }),
        Audience::Center(id) => {
            centers::find(conn, &id)?.map_or_else(|| id.to_string(), |c| center_label(locale, &c))
        }
        Audience::Course(id) => courses::find(conn, &id)?
            .map_or_else(|| id.to_string(), |c| course_title(locale, &c).to_string()),
        Audience::Session(id) => match course_sessions::find(conn, &id)? {
            Some(s) => {
                let course = courses::find(conn, &s.course_id)?;
                let name =
                    course.map_or_else(String::new, |c| course_title(locale, &c).to_string());
                format!("{name} {}", when(locale, s.starts_at))
            }
            None => id.to_string(),
        },
    };
    Ok(format!("{kind}: {value}"))
}

pub struct BroadcastRow {
    pub href: String,
    pub title: String,
    pub audience: String,
    pub sends_at: String,
    pub status: &'static str,
    pub figures: String,
}

#[derive(Template)]
#[template(path = "console/broadcasts.html")]
struct BroadcastsPage {
    shell: Shell,
    rows: Vec<BroadcastRow>,
}

/// "Delivered 120 · Failed 2 · Still to go 30", from the figures the API gives.
fn figures_line(locale: Locale, s: &Stats) -> String {
    let a = admin_words(locale);
    format!(
        "{} {} · {} {} · {} {} · {} {}",
        a.people,
        s.targeted,
        a.sent,
        s.sent,
        a.failed,
        s.failed + s.invalid_tokens,
        a.still_to_go,
        s.pending
    )
}

/// `GET /console/broadcasts`: newest first, each with its status and figures.
pub async fn broadcasts_page(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
) -> PageResult {
    staff.require_admin()?;
    let locale = staff.locale;
    let rows = with_db(&pool, move |conn| {
        let mut rows = Vec::new();
        for b in broadcasts::list(conn, None, MAX_LISTED)? {
            let stats = broadcasts::stats(conn, &b)?;
            rows.push(BroadcastRow {
                href: format!("/console/broadcasts/{}", b.id),
                title: title(locale, &b).to_string(),
                audience: audience_words(conn, locale, &b)?,
                sends_at: when(locale, b.send_at),
                status: aw::broadcast_status(locale, shown_status(&b, &stats)),
                figures: figures_line(locale, &stats),
            });
        }
        Ok(rows)
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    let page = BroadcastsPage {
        shell: Shell::new(
            &staff,
            admin_words(locale).broadcasts,
            here(&req),
            "broadcasts",
        ),
        rows,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// The composer as typed.
#[derive(Debug, Default, Deserialize)]
pub struct ComposerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    once: String,
    /// `preview` redraws the page with the count; `send` schedules it.
    #[serde(default)]
    intent: String,
    #[serde(default)]
    title_th: String,
    #[serde(default)]
    title_en: String,
    #[serde(default)]
    body_th: String,
    #[serde(default)]
    body_en: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    province: String,
    #[serde(default)]
    center: String,
    #[serde(default)]
    course: String,
    #[serde(default)]
    session: String,
    #[serde(default)]
    when: String,
    #[serde(default)]
    send_date: String,
    #[serde(default)]
    send_time: String,
}

impl ConsoleForm for ComposerForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The audience fields of the composer (also the live count's query).
#[derive(Debug, Default, Deserialize)]
pub struct AudienceQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    province: String,
    #[serde(default)]
    center: String,
    #[serde(default)]
    course: String,
    #[serde(default)]
    session: String,
}

impl ComposerForm {
    fn audience(&self) -> AudienceQuery {
        AudienceQuery {
            kind: self.kind.clone(),
            province: self.province.clone(),
            center: self.center.clone(),
            course: self.course.clone(),
            session: self.session.clone(),
        }
    }
}

/// The form field that names the audience of `kind`.
fn value_field(kind: &str) -> &'static str {
    match kind {
        "province" => "province",
        "center" => "center",
        "course" => "course",
        "session" => "session",
        _ => "kind",
    }
}

impl AudienceQuery {
    /// The API's audience: a center is typed by its code (as printed on its sign).
    fn resolve(
        &self,
        conn: &mut DbConn,
        actor: &Actor,
    ) -> Result<(Audience, AudienceInput), ApiError> {
        let kind = if self.kind.is_empty() {
            "all"
        } else {
            self.kind.as_str()
        };
        let value = match kind {
            "province" => Some(self.province.clone()),
            "center" => {
                let typed = self.center.trim();
                if typed.is_empty() {
                    None
                } else {
                    let found = centers::find_by_code(conn, &typed.to_uppercase())?
                        .or(centers::find(conn, &CenterId::from_raw(typed))?);
                    Some(found.map_or_else(|| typed.to_string(), |c| c.id.to_string()))
                }
            }
            "course" => Some(self.course.clone()),
            "session" => Some(self.session.trim().to_string()),
            _ => None,
        };
        let input = AudienceInput {
            kind: kind.to_string(),
            value,
        };
        let audience = ops::broadcasts::resolve_audience(conn, actor, &input)?;
        Ok((audience, input))
    }

    /// The operation's refusals, under the composer's field names.
    fn rename(&self) -> [(&'static str, &'static str); 2] {
        [
            ("audience.value", value_field(&self.kind)),
            ("audience.kind", "kind"),
        ]
    }
}

/// How many people and devices the audience reaches: the API's preview operation.
fn reach(
    conn: &mut DbConn,
    actor: &Actor,
    audience: &AudienceQuery,
) -> Result<(i64, i64), ApiError> {
    let (_, input) = audience.resolve(conn, actor)?;
    ops::broadcasts::preview(conn, actor, &input)
}

/// One lock-screen preview (a phone's notification: app, title, body cut short).
pub struct LockScreen {
    pub lang: &'static str,
    pub language: &'static str,
    pub title: String,
    pub body: String,
}

#[derive(Template)]
#[template(path = "console/composer.html")]
struct ComposerPage {
    shell: Shell,
    once: String,
    texts: Vec<InputField>,
    kinds: Vec<Choice>,
    kind: String,
    audience_fields: Vec<InputField>,
    reach: Option<String>,
    when_later: bool,
    time_fields: Vec<InputField>,
    previews: Vec<LockScreen>,
    errors: FormErrors,
}

async fn render_composer(
    req: &HttpRequest,
    staff: &Staff,
    pool: &web::Data<DbPool>,
    form: &ComposerForm,
    mut errors: FormErrors,
    mut status: StatusCode,
) -> PageResult {
    let locale = staff.locale;
    let (a, w) = (admin_words(locale), words::words(locale));
    let (actor, audience, count) = (staff.actor(), form.audience(), errors.is_empty());
    let rename = audience.rename();
    let (all_courses, reached) = with_db(pool, move |conn| {
        let all = courses::list(
            conn,
            &courses::CourseFilter {
                limit: 500,
                ..courses::CourseFilter::default()
            },
        )?;
        // The count is shown when the audience is sound; a refused one has its error.
        let reached = if count {
            match reach(conn, &actor, &audience) {
                Ok(counted) => Ok(Some(counted)),
                Err(ApiError::Validation(fields)) => Err(fields),
                Err(e) => return Err(e),
            }
        } else {
            Ok(None)
        };
        Ok((all, reached))
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    // A preview of an audience the API refuses shows why, beside its field.
    let reached = reached.unwrap_or_else(|fields| {
        errors.add_all(locale, &fields, &rename);
        status = StatusCode::UNPROCESSABLE_ENTITY;
        None
    });
    let text = |name, label, value: &str, kind, max: usize, maxlength| InputField {
        maxlength: Some(maxlength),
        counter: Some(max),
        ..InputField::new(name, label, kind, value, &errors)
    };
    let texts = vec![
        text(
            "title_th",
            a.title_th,
            &form.title_th,
            "text",
            TITLE_MAX,
            "65",
        ),
        text(
            "body_th",
            a.body_th,
            &form.body_th,
            "textarea",
            BODY_MAX,
            "240",
        ),
        text(
            "title_en",
            a.title_en,
            &form.title_en,
            "text",
            TITLE_MAX,
            "65",
        ),
        text(
            "body_en",
            a.body_en,
            &form.body_en,
            "textarea",
            BODY_MAX,
            "240",
        ),
    ];
    let kinds = [
        AudienceKind::All,
        AudienceKind::Province,
        AudienceKind::Center,
        AudienceKind::Course,
        AudienceKind::Session,
    ]
    .into_iter()
    .map(|k| Choice::new(k.as_str(), aw::audience_kind(locale, k)))
    .collect();
    let mut provinces = vec![Choice::new("", a.choose)];
    provinces.extend(PROVINCES.iter().map(|p| {
        Choice::new(
            p.name_th,
            match locale {
                Locale::Th => p.name_th,
                Locale::En => p.name_en,
            },
        )
    }));
    let mut course_choices = vec![Choice::new("", a.choose)];
    let mut sorted = all_courses;
    sorted.sort_by(|x, y| course_title(locale, x).cmp(course_title(locale, y)));
    course_choices.extend(
        sorted
            .iter()
            .map(|c| Choice::new(c.id.to_string(), course_title(locale, c))),
    );
    let audience_fields = vec![
        InputField {
            options: provinces,
            ..InputField::new("province", a.province, "select", &form.province, &errors)
        },
        InputField {
            maxlength: Some("64"),
            ..InputField::new("center", a.center_code, "text", &form.center, &errors)
        },
        InputField {
            options: course_choices,
            ..InputField::new("course", a.courses, "select", &form.course, &errors)
        },
        InputField {
            maxlength: Some("64"),
            help: Some(a.session_id_help),
            ..InputField::new("session", a.session_id, "text", &form.session, &errors)
        },
    ];
    let time_fields = vec![
        InputField::new("send_date", w.date, "date", &form.send_date, &errors),
        InputField::new("send_time", w.time, "time", &form.send_time, &errors),
    ];
    let lock = |lang, language, t: &str, b: &str| LockScreen {
        lang,
        language,
        title: t.trim().to_string(),
        body: b.trim().to_string(),
    };
    let page = ComposerPage {
        shell: Shell::new(staff, a.new_broadcast, here(req), "broadcasts"),
        once: once_key(),
        texts,
        kinds,
        kind: if form.kind.is_empty() {
            "all".into()
        } else {
            form.kind.clone()
        },
        audience_fields,
        reach: reached.map(|(p, d)| aw::reach(locale, p, d)),
        when_later: form.when == "later",
        time_fields,
        previews: vec![
            lock("th", "ภาษาไทย", &form.title_th, &form.body_th),
            lock("en", "English", &form.title_en, &form.body_en),
        ],
        errors,
    };
    Ok(html(status, page.render()))
}

/// `GET /console/broadcasts/new`
pub async fn composer(req: HttpRequest, staff: Staff, pool: web::Data<DbPool>) -> PageResult {
    staff.require_admin()?;
    let form = ComposerForm::default();
    render_composer(
        &req,
        &staff,
        &pool,
        &form,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

/// The Bangkok date and time typed for "later", as UTC; one already past is refused (the
/// API reads a past time as "now", which a typing slip should not become).
fn send_at(locale: Locale, form: &ComposerForm, errors: &mut FormErrors) -> Option<NaiveDateTime> {
    if form.when != "later" {
        return None;
    }
    match parse_local(&form.send_date, &form.send_time) {
        (Ok(day), Ok(time)) => {
            let at = from_bangkok(day.and_time(time));
            if at <= db::now() {
                errors.add(locale, "send_time", Code::InvalidTimestamp);
            }
            Some(at)
        }
        (day, time) => {
            if let Err(code) = day {
                errors.add(locale, "send_date", code);
            }
            if let Err(code) = time {
                errors.add(locale, "send_time", code);
            }
            None
        }
    }
}

/// `POST /console/broadcasts/new`: "Preview" redraws the page with the count; "Send" is
/// the API's `POST /admin/broadcasts` (the same form sent twice schedules it once).
pub async fn compose(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    settings: web::Data<Settings>,
    posted: Posted<ComposerForm>,
) -> PageResult {
    let Posted { staff, form } = posted;
    staff.require_admin()?;
    let locale = staff.locale;
    if form.intent != "send" {
        return render_composer(
            &req,
            &staff,
            &pool,
            &form,
            FormErrors::default(),
            StatusCode::OK,
        )
        .await;
    }
    let mut errors = FormErrors::default();
    let at = send_at(locale, &form, &mut errors);
    let (body_th, body_en) = (line_breaks(&form.body_th), line_breaks(&form.body_en));
    let texts = [form.title_th.as_str(), &form.title_en, &body_th, &body_en];
    let rename = [
        ("title.th", "title_th"),
        ("title.en", "title_en"),
        ("body.th", "body_th"),
        ("body.en", "body_en"),
    ];
    let placeholder = AudienceInput {
        kind: "all".into(),
        value: None,
    };
    let mut new = match validate_new_broadcast(placeholder, texts, None) {
        Ok(new) => Some(new),
        Err(fields) => {
            errors.add_all(locale, &fields, &rename);
            None
        }
    };
    let audience = form.audience();
    let actor = staff.actor();
    let fingerprint = format!(
        "{:x}",
        Sha256::digest(format!(
            "broadcast\n{}\n{:?}\n{:?}",
            texts.join("\n"),
            audience,
            at
        ))
    );
    let retry = (!form.once.is_empty() && form.once.len() <= 64).then(|| Retry {
        key: format!("console:{}", form.once),
        fingerprint,
    });
    let per_day = settings.limits.broadcasts_per_day;
    let audience_rename = audience.rename();
    let proceed = errors.is_empty();
    let outcome = with_db(&pool, move |conn| {
        let (_, input) = audience.resolve(conn, &actor)?;
        let Some(mut new) = new.take().filter(|_| proceed) else {
            return Ok(None);
        };
        new.audience = input;
        new.send_at = at;
        ops::broadcasts::create(conn, &actor, per_day, new, retry.as_ref()).map(Some)
    })
    .await;
    match outcome {
        Ok(Some(b)) => Ok(see_other(format!(
            "/console/broadcasts/{}?done=broadcast_created",
            b.id
        ))),
        Ok(None) => {
            render_composer(
                &req,
                &staff,
                &pool,
                &form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => {
            let status = match &e {
                ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            errors.merge(FormErrors::from_api(locale, e, &audience_rename)?);
            render_composer(&req, &staff, &pool, &form, errors, status).await
        }
    }
}

/// `GET /console/broadcasts/reach?kind=&province=&center=&course=&session=`: the live
/// count for `composer.js`, as JSON: `{"text": "12 people, 15 devices"}` or, for an
/// audience the API refuses, `{"error": "…"}` in the page's language.
pub async fn reach_count(
    staff: Staff,
    pool: web::Data<DbPool>,
    query: web::Query<AudienceQuery>,
) -> Result<HttpResponse, ConsoleError> {
    staff.require_admin()?;
    let locale = staff.locale;
    let actor = staff.actor();
    let audience = query.into_inner();
    let counted = with_db(&pool, move |conn| reach(conn, &actor, &audience)).await;
    let body = match counted {
        Ok((people, devices)) => serde_json::json!({
            "people": people,
            "devices": devices,
            "text": aw::reach(locale, people, devices),
        }),
        Err(ApiError::Validation(fields)) => serde_json::json!({
            "error": fields.first().map_or("", |f| f.code.message(locale)),
        }),
        Err(e) => return Err(ConsoleError::from_api(locale, e)),
    };
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(body))
}

pub struct FigureCell {
    pub label: &'static str,
    pub value: i64,
}

#[derive(Template)]
#[template(path = "console/broadcast.html")]
struct BroadcastPage {
    shell: Shell,
    action: String,
    status: &'static str,
    audience: String,
    sends_at: String,
    created_by: String,
    cells: Vec<FigureCell>,
    held_until: Option<String>,
    cancellable: bool,
    in_flight: bool,
    previews: Vec<LockScreen>,
    errors: FormErrors,
}

async fn render_broadcast(
    req: &HttpRequest,
    staff: &Staff,
    pool: &web::Data<DbPool>,
    id: String,
    done: Option<&str>,
    errors: FormErrors,
) -> PageResult {
    let locale = staff.locale;
    let (b, stats, audience, creator) = with_db(pool, move |conn| {
        let b = broadcasts::find(conn, &id)?.ok_or(ApiError::NotFound)?;
        let stats = broadcasts::stats(conn, &b)?;
        let audience = audience_words(conn, locale, &b)?;
        let creator = users::names(conn, std::slice::from_ref(&b.created_by))?
            .remove(&b.created_by)
            .unwrap_or_default();
        Ok((b, stats, audience, creator))
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    let a = admin_words(locale);
    let mut shell = Shell::new(
        staff,
        title(locale, &b).to_string(),
        here(req),
        "broadcasts",
    );
    shell.notice = aw::notice(locale, done);
    let status_code = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    let cell = |label, value| FigureCell { label, value };
    let page = BroadcastPage {
        shell,
        action: format!("/console/broadcasts/{}", b.id),
        status: aw::broadcast_status(locale, shown_status(&b, &stats)),
        audience,
        sends_at: when(locale, b.send_at),
        created_by: creator,
        cells: vec![
            cell(a.people, stats.targeted),
            cell(a.devices, stats.devices),
            cell(a.sent, stats.sent),
            cell(a.sent_push, stats.by_channel.push),
            cell(a.sent_line, stats.by_channel.line),
            cell(a.sent_sms, stats.by_channel.sms),
            cell(a.failed, stats.failed),
            cell(a.uninstalled, stats.invalid_tokens),
            cell(a.still_to_go, stats.pending),
        ],
        held_until: stats.held_until.map(|t| when(locale, t)),
        cancellable: b.status == BroadcastStatus::Scheduled,
        in_flight: b.status == BroadcastStatus::Scheduled
            || b.status == BroadcastStatus::Sending
            || stats.in_flight(),
        previews: vec![
            LockScreen {
                lang: "th",
                language: "ภาษาไทย",
                title: b.title_th.clone(),
                body: b.body_th.clone(),
            },
            LockScreen {
                lang: "en",
                language: "English",
                title: b.title_en.clone(),
                body: b.body_en.clone(),
            },
        ],
        errors,
    };
    Ok(html(status_code, page.render()))
}

/// `GET /console/broadcasts/{id}`: its texts, audience, status and delivery figures.
pub async fn broadcast_page(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> PageResult {
    staff.require_admin()?;
    let done = query.done.as_deref();
    render_broadcast(
        &req,
        &staff,
        &pool,
        path.into_inner(),
        done,
        FormErrors::default(),
    )
    .await
}

/// `POST /console/broadcasts/{id}/cancel`: the API's cancel, before sending starts.
pub async fn cancel_broadcast(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    posted: Posted<CsrfOnly>,
) -> PageResult {
    let staff = posted.staff;
    staff.require_admin()?;
    let locale = staff.locale;
    let id = path.into_inner();
    let (actor, target) = (staff.actor(), id.clone());
    let cancelled = with_db(&pool, move |conn| {
        ops::broadcasts::cancel(conn, &actor, &target)
    })
    .await;
    match cancelled {
        Ok(_) => Ok(see_other(format!(
            "/console/broadcasts/{id}?done=broadcast_cancelled"
        ))),
        Err(e) => {
            let errors = FormErrors::from_api(locale, e, &[])?;
            render_broadcast(&req, &staff, &pool, id, None, errors).await
        }
    }
}

pub struct FailureRow {
    pub when: String,
    pub person: String,
    pub person_href: String,
    pub kind: String,
    pub device: String,
    pub channel: &'static str,
    pub attempts: i32,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "console/push_failures.html")]
struct FailuresPage {
    shell: Shell,
    rows: Vec<FailureRow>,
}

/// `GET /console/push-failures`: pushes given up on, newest first, with FCM's reason.
pub async fn push_failures(req: HttpRequest, staff: Staff, pool: web::Data<DbPool>) -> PageResult {
    staff.require_admin()?;
    let locale = staff.locale;
    let (failed, names) = with_db(&pool, move |conn| {
        let failed = crate::push::queue::failed(conn, None, 100)?;
        let ids: Vec<String> = failed.iter().map(|f| f.user_id.clone()).collect();
        let names = users::names(conn, &ids)?;
        Ok((failed, names))
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    let rows = failed
        .into_iter()
        .map(|f| FailureRow {
            device: f.address_tail(),
            channel: admin_words(locale).channel_word(f.channel),
            when: when(locale, f.updated_at),
            person: names
                .get(&f.user_id)
                .cloned()
                .unwrap_or_else(|| f.user_id.clone()),
            person_href: format!("/console/users/{}", f.user_id),
            kind: f.kind,
            attempts: f.attempts,
            reason: f.last_error.unwrap_or_default(),
        })
        .collect();
    let page = FailuresPage {
        shell: Shell::new(
            &staff,
            admin_words(locale).push_failures,
            here(&req),
            "broadcasts",
        ),
        rows,
    };
    Ok(html(StatusCode::OK, page.render()))
}
