//! The web console at `/console`: server-rendered pages for center staff and admins,
//! compiled into the binary (askama templates under `templates/console`, the stylesheet
//! under `static/console`). Pages work without JavaScript; every action calls the same
//! operation (`crate::ops`) as the API, so the rules, audit records, notifications and
//! errors are the API's, shown in the page's language beside the field they concern.

mod admin;
mod admin_words;
mod assets;
mod audit;
mod broadcasts;
mod centers;
mod check_in;
mod courses;
mod dashboard;
mod new_session;
mod reports;
mod roster_actions;
mod schedule;
pub mod session;
mod session_changes;
mod session_page;
mod sign_in;
mod today;
mod view;
pub mod words;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse, ResponseError};
use askama::Template;

use crate::domain::Locale;
use crate::error::ApiError;
use crate::routes::get_or_head;

pub use view::Shell;
use words::words;

/// What a console request can end in besides its page.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// Not signed in (or no longer): to the sign-in page, then back to `next`.
    #[error("sign-in needed")]
    SignIn { next: String },
    #[error("not found")]
    NotFound(Locale),
    #[error("forbidden")]
    Forbidden(Locale),
    /// A form from another site, without this session's CSRF token, or from a page
    /// signed in as someone else: nothing was changed.
    #[error("form refused")]
    FormRefused(Locale),
    /// A body that is not a form the console sends.
    #[error("unreadable form")]
    BadForm(Locale),
    #[error("internal error: {1:#}")]
    Internal(Locale, anyhow::Error),
}

impl ConsoleError {
    /// An operation's refusal that has no field to show it beside, as a page.
    pub fn from_api(locale: Locale, error: ApiError) -> Self {
        match error {
            ApiError::NotFound | ApiError::RouteNotFound => ConsoleError::NotFound(locale),
            ApiError::Forbidden => ConsoleError::Forbidden(locale),
            ApiError::Internal(e) => ConsoleError::Internal(locale, e),
            other => ConsoleError::Internal(locale, anyhow::anyhow!("unexpected refusal: {other}")),
        }
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    w: &'static words::Words,
    title: &'static str,
    message: &'static str,
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn { .. } => StatusCode::SEE_OTHER,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::Forbidden(_) | ConsoleError::FormRefused(_) => StatusCode::FORBIDDEN,
            ConsoleError::BadForm(_) => StatusCode::BAD_REQUEST,
            ConsoleError::Internal(..) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (locale, message) = match self {
            ConsoleError::SignIn { next } => {
                let query: String = form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", next)
                    .finish();
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, format!("/console/login?{query}")))
                    .finish();
            }
            ConsoleError::NotFound(l) => (*l, words(*l).not_found),
            ConsoleError::Forbidden(l) => (*l, words(*l).forbidden),
            ConsoleError::FormRefused(l) | ConsoleError::BadForm(l) => (*l, words(*l).form_expired),
            ConsoleError::Internal(l, cause) => {
                tracing::error!(error = format!("{cause:#}"), "console internal error");
                (*l, words(*l).something_went_wrong)
            }
        };
        let w = words(locale);
        let page = ErrorPage {
            w,
            title: w.error_title,
            message,
        };
        view::html(self.status_code(), page.render())
    }
}

pub type PageResult = Result<HttpResponse, ConsoleError>;

/// Registers the console's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/console")
            .route("", get_or_head().to(sign_in::home))
            .route("/", get_or_head().to(sign_in::home))
            .route("/login", get_or_head().to(sign_in::login_form))
            .route("/login", web::post().to(sign_in::sign_in))
            .route("/logout", web::post().to(sign_in::sign_out))
            .route("/language", get_or_head().to(sign_in::switch_language))
            .route("/today", get_or_head().to(today::today))
            .route(
                "/sessions/new",
                get_or_head().to(new_session::new_session_form),
            )
            .route("/sessions/new", web::post().to(new_session::create_session))
            .route(
                "/sessions/{id}",
                get_or_head().to(session_page::session_page),
            )
            .route(
                "/sessions/{id}/roster.csv",
                get_or_head().to(session_page::roster_csv),
            )
            .route(
                "/sessions/{id}/check-in",
                web::post().to(check_in::check_in),
            )
            .route(
                "/sessions/{id}/attendance.json",
                get_or_head().to(check_in::attendance_now),
            )
            .route(
                "/sessions/{id}/walk-in",
                web::post().to(roster_actions::walk_in),
            )
            .route(
                "/sessions/{id}/edit",
                get_or_head().to(session_changes::edit_form),
            )
            .route(
                "/sessions/{id}/edit",
                web::post().to(session_changes::edit_session),
            )
            .route(
                "/sessions/{id}/cancel",
                get_or_head().to(session_changes::cancel_form),
            )
            .route(
                "/sessions/{id}/cancel",
                web::post().to(session_changes::cancel_session),
            )
            .route(
                "/sessions/{id}/message",
                web::post().to(session_changes::message_session),
            )
            .route(
                "/enrollments/{id}/attendance",
                web::post().to(roster_actions::mark_attendance),
            )
            .route(
                "/enrollments/{id}/release",
                get_or_head().to(roster_actions::release_form),
            )
            .route(
                "/enrollments/{id}/release",
                web::post().to(roster_actions::release_seat),
            )
            .route("/dashboard", get_or_head().to(dashboard::dashboard))
            .route("/centers", get_or_head().to(centers::centers_page))
            .route("/centers/new", get_or_head().to(centers::new_center_form))
            .route("/centers/new", web::post().to(centers::create_center))
            .route("/centers/{id}", get_or_head().to(centers::center_page))
            .route("/centers/{id}", web::post().to(centers::update_center))
            .route("/centers/{id}/staff", web::post().to(centers::assign_staff))
            .route(
                "/centers/{id}/staff/{user_id}/remove",
                web::post().to(centers::unassign_staff),
            )
            .route("/courses", get_or_head().to(courses::courses_page))
            .route("/courses/new", get_or_head().to(courses::new_course_form))
            .route("/courses/new", web::post().to(courses::create_course))
            .route("/courses/{id}", get_or_head().to(courses::course_edit_page))
            .route("/courses/{id}", web::post().to(courses::update_course))
            .route("/broadcasts", get_or_head().to(broadcasts::broadcasts_page))
            .route("/broadcasts/new", get_or_head().to(broadcasts::composer))
            .route("/broadcasts/new", web::post().to(broadcasts::compose))
            .route(
                "/broadcasts/reach",
                get_or_head().to(broadcasts::reach_count),
            )
            .route(
                "/broadcasts/{id}",
                get_or_head().to(broadcasts::broadcast_page),
            )
            .route(
                "/broadcasts/{id}/cancel",
                web::post().to(broadcasts::cancel_broadcast),
            )
            .route(
                "/push-failures",
                get_or_head().to(broadcasts::push_failures),
            )
            .route("/reports", get_or_head().to(reports::reports_page))
            .route("/reports.csv", get_or_head().to(reports::report_csv))
            .route("/users", get_or_head().to(admin::users_page))
            .route("/users/{id}", get_or_head().to(admin::user_page))
            .route("/users/{id}/role", web::post().to(admin::set_role))
            .route(
                "/users/{id}/end-sign-ins",
                web::post().to(admin::end_sign_ins),
            )
            .route("/audit", get_or_head().to(audit::audit_page))
            .route("/static/{file}", get_or_head().to(assets::asset))
            .default_service(web::to(not_found)),
    );
}

async fn not_found(visitor: session::Visitor) -> PageResult {
    Err(ConsoleError::NotFound(visitor.locale))
}
