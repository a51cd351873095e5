//! Admin *Users*: find a person by phone, e-mail or name; change their role; their
//! enrollments; end all of their sign-ins. Staff who open it get the "not allowed" page;
//! every action is the API's operation.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use askama::Template;
use serde::Deserialize;

use crate::db::{self, DbPool};
use crate::domain::{Phone, Role, UserId};
use crate::error::ApiError;
use crate::handlers::with_db;
use crate::models::enrollments;
use crate::models::users::{self, UserFilter};
use crate::ops;

use super::session::{ConsoleForm, CsrfOnly, Posted, Staff};
use super::session_page::{local_phone, notice};
use super::view::{here, html, see_other, DoneQuery, FormErrors, Shell};
use super::words;
use super::{ConsoleError, PageResult};

/// Most people or records a page lists.
const MAX_LISTED: i64 = 100;

/// One person in the list.
pub struct UserRow {
    pub href: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub role: &'static str,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    shell: Shell,
    query: String,
    searched: bool,
    people: Vec<UserRow>,
}

#[derive(Debug, Deserialize)]
pub struct UsersQuery {
    q: Option<String>,
}

/// `GET /console/users?q=…`: a phone is found however it is written.
pub async fn users_page(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
    query: web::Query<UsersQuery>,
) -> PageResult {
    staff.require_admin()?;
    let locale = staff.locale;
    let typed = query.q.clone().unwrap_or_default();
    let wanted = typed.trim().chars().take(100).collect::<String>();
    let people = if wanted.is_empty() {
        Vec::new()
    } else {
        let q = Phone::parse(&wanted).map_or(wanted.clone(), |p| p.as_str().to_string());
        with_db(&pool, move |conn| {
            Ok(users::list(
                conn,
                &UserFilter {
                    q: Some(q),
                    limit: MAX_LISTED,
                    ..UserFilter::default()
                },
            )?)
        })
        .await
        .map_err(|e| ConsoleError::from_api(locale, e))?
    };
    let w = words::words(locale);
    let page = UsersPage {
        shell: Shell::new(&staff, w.users, here(&req), "users"),
        searched: !wanted.is_empty(),
        query: typed,
        people: people
            .into_iter()
            .filter(|u| u.deleted_at.is_none())
            .map(|u| UserRow {
                href: format!("/console/users/{}", u.id),
                phone: u.phone.as_deref().map(local_phone).unwrap_or_default(),
                email: u.email.unwrap_or_default(),
                role: words::role(locale, u.role),
                name: u.display_name,
            })
            .collect(),
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// One of the person's enrollments.
pub struct EnrollmentRow {
    pub href: String,
    pub when: String,
    pub status: &'static str,
}

pub struct RoleChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "console/user.html")]
struct UserPage {
    shell: Shell,
    action: String,
    name: String,
    phone: String,
    email: String,
    role: &'static str,
    roles: Vec<RoleChoice>,
    is_me: bool,
    enrollments: Vec<EnrollmentRow>,
    errors: FormErrors,
}

async fn render_user(
    req: &HttpRequest,
    staff: &Staff,
    pool: &web::Data<DbPool>,
    id: UserId,
    done: Option<&str>,
    errors: FormErrors,
) -> PageResult {
    let locale = staff.locale;
    let lookup = id.clone();
    let (user, mine) = with_db(pool, move |conn| {
        let user = users::find(conn, &lookup)?
            .filter(|u| u.deleted_at.is_none())
            .ok_or(ApiError::NotFound)?;
        let mine = enrollments::of_user(conn, &lookup, db::now())?;
        Ok((user, mine))
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    let w = words::words(locale);
    let mut shell = Shell::new(staff, user.display_name.clone(), here(req), "users");
    shell.notice = notice(w, done);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    let page = UserPage {
        shell,
        action: format!("/console/users/{}", user.id),
        is_me: user.id == staff.id,
        phone: user.phone.as_deref().map(local_phone).unwrap_or_default(),
        email: user.email.clone().unwrap_or_default(),
        role: words::role(locale, user.role),
        roles: [Role::Resident, Role::Staff, Role::Admin]
            .into_iter()
            .map(|r| RoleChoice {
                value: r.as_str(),
                label: words::role(locale, r),
                selected: r == user.role,
            })
            .collect(),
        enrollments: mine
            .iter()
            .map(|(e, s)| EnrollmentRow {
                href: format!("/console/sessions/{}", s.id),
                when: format!(
                    "{} {}",
                    words::date(locale, s.starts_at),
                    words::clock(locale, s.starts_at)
                ),
                status: words::enrollment_status(locale, e.status),
            })
            .collect(),
        name: user.display_name,
        errors,
    };
    Ok(html(status, page.render()))
}

/// `GET /console/users/{id}`
pub async fn user_page(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> PageResult {
    staff.require_admin()?;
    let id = UserId::from_raw(path.into_inner());
    render_user(
        &req,
        &staff,
        &pool,
        id,
        query.done.as_deref(),
        FormErrors::default(),
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
}

impl ConsoleForm for RoleForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /console/users/{id}/role`: the API's `PATCH /admin/users/{id}`.
pub async fn set_role(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    posted: Posted<RoleForm>,
) -> PageResult {
    let Posted { staff, form } = posted;
    staff.require_admin()?;
    let locale = staff.locale;
    let id = UserId::from_raw(path.into_inner());
    let role = Role::parse(form.role.trim()).ok_or(ConsoleError::BadForm(locale))?;
    let (actor, target) = (staff.actor(), id.clone());
    let changed = with_db(&pool, move |conn| {
        ops::accounts::set_role(conn, &actor, &target, role)
    })
    .await;
    match changed {
        Ok(_) => Ok(see_other(format!("/console/users/{id}?done=role"))),
        Err(e) => {
            let shown = FormErrors::from_api(locale, e, &[])?;
            render_user(&req, &staff, &pool, id, None, shown).await
        }
    }
}

/// `POST /console/users/{id}/end-sign-ins`: every app and console session of the person
/// ends at once.
pub async fn end_sign_ins(
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    posted: Posted<CsrfOnly>,
) -> PageResult {
    posted.staff.require_admin()?;
    let locale = posted.staff.locale;
    let id = UserId::from_raw(path.into_inner());
    let (actor, target) = (posted.staff.actor(), id.clone());
    with_db(&pool, move |conn| {
        ops::accounts::end_sign_ins(conn, &actor, &target)
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    Ok(see_other(format!("/console/users/{id}?done=sign_ins")))
}
