//! Signing in and out of the console, and the language switch.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::hashers::Hashers;
use crate::auth::sign_in::check_password;
use crate::config::Settings;
use crate::db::DbPool;
use crate::domain::Role;
use crate::error::ApiError;
use crate::handlers::with_db;
use crate::i18n::Code;
use crate::models::logins;

use super::session::{
    expired_session_cookie, safe_next, session_cookie, AnonymousForm, CsrfOnly, Posted, Staff,
    Visitor, LANGUAGE_COOKIE,
};
use super::view::{html, language_href, see_other, stylesheet_href};
use super::words::{words, Words};
use super::{ConsoleError, PageResult};

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    w: &'static Words,
    switch_href: String,
    next: String,
    login: String,
    /// Shown above the form (signed out, please sign in again).
    notice: Option<&'static str>,
    login_error: Option<String>,
    password_error: Option<String>,
    /// Shown when a resident signs in.
    refusal: Option<&'static str>,
}

impl LoginPage {
    fn new(w: &'static Words, next: String) -> Self {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("next", &next)
            .finish();
        let here = format!("/console/login?{query}");
        LoginPage {
            w,
            switch_href: language_href(w, &here),
            next,
            login: String::new(),
            notice: None,
            login_error: None,
            password_error: None,
            refusal: None,
        }
    }

    fn stylesheet(&self) -> &'static str {
        stylesheet_href()
    }
}

/// `GET /console`: the landing page is Today.
pub async fn home() -> HttpResponse {
    see_other("/console/today")
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    signed_out: Option<String>,
}

/// `GET /console/login`
pub async fn login_form(visitor: Visitor, query: web::Query<LoginQuery>) -> PageResult {
    let w = words(visitor.locale);
    let mut page = LoginPage::new(w, safe_next(query.next.as_deref()));
    page.notice = if query.signed_out.is_some() {
        Some(w.signed_out)
    } else if query.next.is_some() {
        Some(w.session_expired)
    } else {
        None
    };
    Ok(html(StatusCode::OK, page.render()))
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// `POST /console/login`: the API's login rules (throttling, lockout, the same answer for
/// an unknown login and a wrong password); residents are told the console is not for them.
pub async fn sign_in(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    hashers: web::Data<Hashers>,
    settings: web::Data<Settings>,
    posted: AnonymousForm<LoginForm>,
) -> PageResult {
    let AnonymousForm { locale, form } = posted;
    let w = words(locale);
    let next = safe_next(form.next.as_deref());
    let mut page = LoginPage::new(w, next.clone());
    page.login = form.login.chars().take(254).collect();
    let user = match check_password(&pool, &hashers, &settings, &form.login, form.password).await {
        Ok(user) => user,
        Err(ApiError::Validation(_)) => {
            page.login_error = Some(Code::Required.message(locale).to_string());
            return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page.render()));
        }
        Err(ApiError::TooManyRequests { code, .. }) => {
            page.password_error = Some(code.message(locale).to_string());
            return Ok(html(StatusCode::TOO_MANY_REQUESTS, page.render()));
        }
        Err(busy @ ApiError::Busy { retry_after_secs }) => {
            page.password_error = Some(busy.code().message(locale).to_string());
            let mut res = html(StatusCode::SERVICE_UNAVAILABLE, page.render());
            res.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(retry_after_secs),
            );
            return Ok(res);
        }
        Err(ApiError::Unauthorized(code)) => {
            page.password_error = Some(code.message(locale).to_string());
            return Ok(html(StatusCode::UNAUTHORIZED, page.render()));
        }
        Err(other) => return Err(ConsoleError::from_api(locale, other)),
    };
    if user.role == Role::Resident {
        page.refusal = Some(w.residents_use_the_app);
        return Ok(html(StatusCode::FORBIDDEN, page.render()));
    }
    let agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let user_id = user.id.clone();
    let issued = with_db(&pool, move |conn| {
        Ok(logins::start_console(conn, &user_id, agent.as_deref())?)
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    let mut res = see_other(next);
    res.add_cookie(&session_cookie(&issued.key, &settings))
        .map_err(|e| ConsoleError::Internal(locale, e.into()))?;
    Ok(res)
}

/// `POST /console/logout`: ends the login session at once (the cookie alone would not).
pub async fn sign_out(
    pool: web::Data<DbPool>,
    settings: web::Data<Settings>,
    posted: Posted<CsrfOnly>,
) -> PageResult {
    let Staff {
        login_id, locale, ..
    } = posted.staff;
    with_db(&pool, move |conn| {
        Ok(logins::revoke(conn, &login_id, "logout")?)
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    let mut res = see_other("/console/login?signed_out=1");
    res.add_cookie(&expired_session_cookie(&settings))
        .map_err(|e| ConsoleError::Internal(locale, e.into()))?;
    Ok(res)
}

#[derive(Debug, Deserialize)]
pub struct LanguageQuery {
    to: Option<String>,
    back: Option<String>,
}

/// `GET /console/language?to=en&back=/console/today`: remembers the choice for a year
/// (a preference of this browser, not a change to anything stored) and goes back.
pub async fn switch_language(visitor: Visitor, query: web::Query<LanguageQuery>) -> PageResult {
    let lang = match query.to.as_deref() {
        Some("en") => "en",
        Some("th") => "th",
        _ => return Err(ConsoleError::NotFound(visitor.locale)),
    };
    let back = match query.back.as_deref() {
        Some(login) if login.starts_with("/console/login") && !login.contains("//") => {
            login.to_string()
        }
        other => safe_next(other),
    };
    let cookie = Cookie::build(LANGUAGE_COOKIE, lang)
        .path("/console")
        .same_site(actix_web::cookie::SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::days(365))
        .finish();
    let mut res = see_other(back);
    res.add_cookie(&cookie)
        .map_err(|e| ConsoleError::Internal(visitor.locale, e.into()))?;
    Ok(res)
}
