//! Admin *Centers*: find a center by name, code, province or district; create and edit
//! one (status, opening hours, phone); assign and remove its staff, found by phone or
//! e-mail. Fields are checked by the API's own rules (`handlers::center_fields`).

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use askama::Template;
use serde::Deserialize;

use crate::db::DbPool;
use crate::directory::search::CenterSearch;
use crate::directory::CenterDirectory;
use crate::domain::{
    find_province, normalise_login, CenterId, CenterStatus, Locale, UserId, PROVINCES,
};
use crate::error::ApiError;
use crate::handlers::center_fields::{
    parse_center_changes, validate_new_center, CreateCenterRequest, UpdateCenterRequest,
};
use crate::handlers::with_db;
use crate::i18n::Code;
use crate::models::centers::{self, Center};
use crate::models::users;
use crate::ops;

use super::admin_words::{self as aw, admin_words};
use super::session::{ConsoleForm, CsrfOnly, Posted, Staff};
use super::session_page::local_phone;
use super::today::center_label;
use super::view::{here, html, see_other, Choice, DoneQuery, FormErrors, InputField, Shell};
use super::{ConsoleError, PageResult};

/// Most centers a search lists.
const MAX_LISTED: usize = 100;

pub struct CenterRow {
    pub href: String,
    pub label: String,
    pub place: String,
    pub status: &'static str,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "console/centers.html")]
struct CentersPage {
    shell: Shell,
    query: String,
    rows: Vec<CenterRow>,
    more: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CentersQuery {
    q: Option<String>,
}

fn name(locale: Locale, th: &str, en: &str) -> String {
    match locale {
        Locale::Th => th.to_string(),
        Locale::En => en.to_string(),
    }
}

fn province_name(locale: Locale, province_th: &str) -> String {
    find_province(province_th).map_or_else(
        || province_th.to_string(),
        |p| name(locale, p.name_th, p.name_en),
    )
}

/// `GET /console/centers?q=`: a province's name lists its centers; other words are found
/// in codes, names, districts and subdistricts.
pub async fn centers_page(
    req: HttpRequest,
    staff: Staff,
    directory: web::Data<Arc<CenterDirectory>>,
    query: web::Query<CentersQuery>,
) -> PageResult {
    staff.require_admin()?;
    let locale = staff.locale;
    let typed = query.q.clone().unwrap_or_default();
    let wanted: String = typed.trim().to_lowercase().chars().take(100).collect();
    let search = match find_province(&wanted) {
        Some(p) => CenterSearch {
            near: None,
            province: Some(p.name_th),
            status: None,
            text: None,
            after: None,
        },
        None => CenterSearch {
            near: None,
            province: None,
            status: None,
            text: Some(wanted).filter(|w| !w.is_empty()),
            after: None,
        },
    };
    let snapshot = directory.snapshot();
    let (found, next) = snapshot.search(&search, MAX_LISTED);
    let rows = found
        .iter()
        .map(|f| {
            let c = snapshot.center(f.index);
            CenterRow {
                href: format!("/console/centers/{}", c.id),
                label: center_label(locale, c),
                place: format!("{}, {}", c.district, province_name(locale, &c.province)),
                status: aw::center_status(locale, c.status),
                open: c.status == CenterStatus::Active,
            }
        })
        .collect();
    let page = CentersPage {
        shell: Shell::new(&staff, admin_words(locale).centers, here(&req), "centers"),
        query: typed,
        rows,
        more: next.map(|_| aw::first_shown(locale, MAX_LISTED)),
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// What the center form holds, as typed.
#[derive(Debug, Default, Deserialize)]
pub struct CenterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name_th: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    province: String,
    #[serde(default)]
    district: String,
    #[serde(default)]
    subdistrict: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    opening_hours: String,
}

impl ConsoleForm for CenterForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl CenterForm {
    fn of(c: &Center) -> Self {
        CenterForm {
            csrf: String::new(),
            code: c.code.clone(),
            name_th: c.name_th.clone(),
            name_en: c.name_en.clone(),
            province: c.province.clone(),
            district: c.district.clone(),
            subdistrict: c.subdistrict.clone(),
            lat: c.lat.to_string(),
            lon: c.lon.to_string(),
            status: c.status.as_str().to_string(),
            phone: c.phone.as_deref().map(local_phone).unwrap_or_default(),
            opening_hours: c.opening_hours.clone().unwrap_or_default(),
        }
    }

    /// A coordinate as typed; one that is not a number is refused as such (the API's
    /// range check would say "out of range", which misleads).
    fn coordinate(raw: &str, field: &str, locale: Locale, errors: &mut FormErrors) -> f64 {
        match raw.trim().replace(',', ".").parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => {
                let code = if raw.trim().is_empty() {
                    Code::Required
                } else {
                    Code::InvalidValue
                };
                errors.add(locale, field, code);
                f64::NAN
            }
        }
    }

    fn fields(&self, locale: Locale, errors: &FormErrors, new: bool) -> Vec<InputField> {
        let a = admin_words(locale);
        let w = super::words::words(locale);
        let text = |name, label, value: &str, max| InputField {
            maxlength: Some(max),
            ..InputField::new(name, label, "text", value, errors)
        };
        let mut provinces = vec![Choice::new("", a.choose)];
        provinces.extend(
            PROVINCES
                .iter()
                .map(|p| Choice::new(p.name_th, name(locale, p.name_th, p.name_en))),
        );
        let statuses = [
            CenterStatus::Active,
            CenterStatus::UnderConstruction,
            CenterStatus::Closed,
        ]
        .into_iter()
        .map(|s| Choice::new(s.as_str(), aw::center_status(locale, s)))
        .collect();
        let coordinate = |name, label, value: &str| InputField {
            inputmode: Some("decimal"),
            ..InputField::new(name, label, "text", value, errors)
        };
        let mut fields = vec![
            text("code", a.code, &self.code, "32"),
            text("name_th", a.name_th, &self.name_th, "200"),
            text("name_en", a.name_en, &self.name_en, "200"),
            InputField {
                options: provinces,
                ..InputField::new("province", a.province, "select", &self.province, errors)
            },
            text("district", a.district, &self.district, "100"),
            text("subdistrict", a.subdistrict, &self.subdistrict, "100"),
            coordinate("lat", a.latitude, &self.lat),
            coordinate("lon", a.longitude, &self.lon),
            InputField {
                options: statuses,
                ..InputField::new("status", w.status, "select", &self.status, errors)
            },
            InputField {
                optional: true,
                ..InputField::new("phone", w.phone, "tel", &self.phone, errors)
            },
            InputField {
                optional: true,
                help: Some(a.opening_hours_help),
                ..text("opening_hours", a.opening_hours, &self.opening_hours, "200")
            },
        ];
        if new && self.status.is_empty() {
            fields[8].value = CenterStatus::Active.as_str().to_string();
        }
        fields
    }
}

#[derive(Template)]
#[template(path = "console/center_form.html")]
struct NewCenterPage {
    shell: Shell,
    fields: Vec<InputField>,
    errors: FormErrors,
}

/// `GET /console/centers/new`
pub async fn new_center_form(req: HttpRequest, staff: Staff) -> PageResult {
    staff.require_admin()?;
    let locale = staff.locale;
    let errors = FormErrors::default();
    let page = NewCenterPage {
        fields: CenterForm::default().fields(locale, &errors, true),
        shell: Shell::new(
            &staff,
            admin_words(locale).new_center,
            here(&req),
            "centers",
        ),
        errors,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// `POST /console/centers/new`: the API's `POST /centers`.
pub async fn create_center(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    directory: web::Data<Arc<CenterDirectory>>,
    posted: Posted<CenterForm>,
) -> PageResult {
    let Posted { staff, form } = posted;
    staff.require_admin()?;
    let locale = staff.locale;
    let mut errors = FormErrors::default();
    let lat = CenterForm::coordinate(&form.lat, "lat", locale, &mut errors);
    let lon = CenterForm::coordinate(&form.lon, "lon", locale, &mut errors);
    let body = CreateCenterRequest {
        code: form.code.clone(),
        name_th: form.name_th.clone(),
        name_en: form.name_en.clone(),
        province: form.province.clone(),
        district: form.district.clone(),
        subdistrict: form.subdistrict.clone(),
        lat,
        lon,
        status: Some(form.status.clone()).filter(|s| !s.is_empty()),
        phone: Some(form.phone.clone()),
        opening_hours: Some(form.opening_hours.clone()),
    };
    let created = match validate_new_center(body) {
        Err(fields) => Err(ApiError::Validation(fields)),
        Ok(_) if !errors.is_empty() => Err(ApiError::Validation(Vec::new())),
        Ok(center) => {
            let (directory, actor) = (Arc::clone(&directory), staff.actor());
            with_db(&pool, move |conn| {
                ops::centers::create(conn, &directory, &actor, center)
            })
            .await
        }
    };
    match created {
        Ok(center) => Ok(see_other(format!(
            "/console/centers/{}?done=center_created",
            center.id
        ))),
        Err(e) => {
            let shown = FormErrors::from_api(locale, e, &[])?;
            errors.merge(shown);
            let status = refusal_status(&errors);
            let page = NewCenterPage {
                fields: form.fields(locale, &errors, true),
                shell: Shell::new(
                    &staff,
                    admin_words(locale).new_center,
                    here(&req),
                    "centers",
                ),
                errors,
            };
            Ok(html(status, page.render()))
        }
    }
}

/// A refused form: 409 for a clash with what is stored (a code taken), 422 otherwise.
fn refusal_status(errors: &FormErrors) -> StatusCode {
    if errors.top.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

pub struct StaffRow {
    pub name: String,
    pub href: String,
    pub contact: String,
    pub remove: String,
}

#[derive(Template)]
#[template(path = "console/center.html")]
struct CenterPage {
    shell: Shell,
    action: String,
    fields: Vec<InputField>,
    errors: FormErrors,
    staff: Vec<StaffRow>,
    who: String,
    staff_errors: FormErrors,
}

/// What a refused form on the center's page puts back.
#[derive(Default)]
struct Refused {
    form: Option<CenterForm>,
    errors: FormErrors,
    who: String,
    staff_errors: FormErrors,
}

async fn render_center(
    req: &HttpRequest,
    staff: &Staff,
    pool: &web::Data<DbPool>,
    id: CenterId,
    done: Option<&str>,
    refused: Refused,
) -> PageResult {
    let locale = staff.locale;
    let (center, members) = with_db(pool, move |conn| {
        let center = centers::find(conn, &id)?.ok_or(ApiError::NotFound)?;
        let members = centers::staff_of(conn, &id)?;
        Ok((center, members))
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    let mut shell = Shell::new(staff, center_label(locale, &center), here(req), "centers");
    shell.notice = aw::notice(locale, done);
    let status = if refused.errors.is_empty() && refused.staff_errors.is_empty() {
        StatusCode::OK
    } else if refused.staff_errors.top.is_some() || refused.errors.top.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let form = refused.form.unwrap_or_else(|| CenterForm::of(&center));
    let action = format!("/console/centers/{}", center.id);
    let page = CenterPage {
        fields: form.fields(locale, &refused.errors, false),
        staff: members
            .into_iter()
            .map(|u| StaffRow {
                href: format!("/console/users/{}", u.id),
                remove: format!("{action}/staff/{}/remove", u.id),
                contact: u
                    .phone
                    .as_deref()
                    .map(local_phone)
                    .or(u.email)
                    .unwrap_or_default(),
                name: u.display_name,
            })
            .collect(),
        action,
        shell,
        errors: refused.errors,
        who: refused.who,
        staff_errors: refused.staff_errors,
    };
    Ok(html(status, page.render()))
}

/// `GET /console/centers/{id}`: the center's fields to edit, and its staff.
pub async fn center_page(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> PageResult {
    staff.require_admin()?;
    let id = CenterId::from_raw(path.into_inner());
    render_center(
        &req,
        &staff,
        &pool,
        id,
        query.done.as_deref(),
        Refused::default(),
    )
    .await
}

/// `POST /console/centers/{id}`: the API's `PATCH /centers/{id}` with every field.
pub async fn update_center(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    directory: web::Data<Arc<CenterDirectory>>,
    path: web::Path<String>,
    posted: Posted<CenterForm>,
) -> PageResult {
    let Posted { staff, form } = posted;
    staff.require_admin()?;
    let locale = staff.locale;
    let id = CenterId::from_raw(path.into_inner());
    let mut errors = FormErrors::default();
    let lat = CenterForm::coordinate(&form.lat, "lat", locale, &mut errors);
    let lon = CenterForm::coordinate(&form.lon, "lon", locale, &mut errors);
    let body = UpdateCenterRequest {
        code: Some(form.code.clone()),
        name_th: Some(form.name_th.clone()),
        name_en: Some(form.name_en.clone()),
        province: Some(form.province.clone()),
        district: Some(form.district.clone()),
        subdistrict: Some(form.subdistrict.clone()),
        lat: Some(lat),
        lon: Some(lon),
        status: Some(form.status.clone()),
        phone: Some(Some(form.phone.clone())),
        opening_hours: Some(Some(form.opening_hours.clone())),
    };
    let changed = match parse_center_changes(body) {
        Err(fields) => Err(ApiError::Validation(fields)),
        Ok(_) if !errors.is_empty() => Err(ApiError::Validation(Vec::new())),
        Ok(changes) => {
            let (directory, actor, target) = (Arc::clone(&directory), staff.actor(), id.clone());
            with_db(&pool, move |conn| {
                ops::centers::update(conn, &directory, &actor, &target, changes)
            })
            .await
        }
    };
    match changed {
        Ok(_) => Ok(see_other(format!(
            "/console/centers/{id}?done=center_saved"
        ))),
        Err(e) => {
            errors.merge(FormErrors::from_api(locale, e, &[])?);
            let refused = Refused {
                form: Some(form),
                errors,
                ..Refused::default()
            };
            render_center(&req, &staff, &pool, id, None, refused).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    who: String,
}

impl ConsoleForm for AssignForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /console/centers/{id}/staff`: finds the person by phone or e-mail, then the
/// API's `PUT /centers/{id}/staff/{user_id}`.
pub async fn assign_staff(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    posted: Posted<AssignForm>,
) -> PageResult {
    let Posted { staff, form } = posted;
    staff.require_admin()?;
    let locale = staff.locale;
    let id = CenterId::from_raw(path.into_inner());
    let typed = form.who.trim().to_string();
    let mut staff_errors = FormErrors::default();
    if typed.is_empty() || typed.chars().count() > 254 {
        staff_errors.add(locale, "who", Code::Required);
    } else {
        let (login, actor, center) = (normalise_login(&typed), staff.actor(), id.clone());
        let assigned = with_db(&pool, move |conn| {
            let person = users::find_by_login(conn, &login)?
                .filter(|u| u.deleted_at.is_none())
                .ok_or_else(|| ApiError::field("who", Code::NotFound))?;
            ops::centers::assign_staff(conn, &actor, &center, &person.id)
        })
        .await;
        match assigned {
            Ok(_) => {
                return Ok(see_other(format!(
                    "/console/centers/{id}?done=staff_assigned#staff"
                )))
            }
            Err(ApiError::Validation(_)) => {
                staff_errors.add_text("who", admin_words(locale).no_such_account)
            }
            Err(e) => staff_errors = FormErrors::from_api(locale, e, &[])?,
        }
    }
    let refused = Refused {
        who: typed,
        staff_errors,
        ..Refused::default()
    };
    render_center(&req, &staff, &pool, id, None, refused).await
}

/// `POST /console/centers/{id}/staff/{user_id}/remove`: the API's
/// `DELETE /centers/{id}/staff/{user_id}`.
pub async fn unassign_staff(
    pool: web::Data<DbPool>,
    path: web::Path<(String, String)>,
    posted: Posted<CsrfOnly>,
) -> PageResult {
    posted.staff.require_admin()?;
    let locale = posted.staff.locale;
    let (center, user) = path.into_inner();
    let (center, user) = (CenterId::from_raw(center), UserId::from_raw(user));
    let (actor, target) = (posted.staff.actor(), center.clone());
    with_db(&pool, move |conn| {
        ops::centers::unassign_staff(conn, &actor, &target, &user)
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    Ok(see_other(format!(
        "/console/centers/{center}?done=staff_removed#staff"
    )))
}
