//! What every page has (the shell: language, who is signed in, navigation) and how a page
//! becomes a response.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;

use crate::domain::Locale;

use super::session::Staff;
use super::words::{words, Words};

/// This page's path and query (where the language switch comes back to).
pub fn here(req: &actix_web::HttpRequest) -> String {
    match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    }
}

/// The frame around every signed-in page.
pub struct Shell {
    pub w: &'static Words,
    pub locale: Locale,
    pub title: String,
    pub user_name: String,
    pub is_admin: bool,
    pub csrf: String,
    /// This page's path and query, for the language switch to come back to.
    pub here: String,
    /// Which navigation entry is this page's.
    pub section: &'static str,
    /// What the last action did, shown at the top.
    pub notice: Option<&'static str>,
}

impl Shell {
    pub fn new(
        staff: &Staff,
        title: impl Into<String>,
        here: String,
        section: &'static str,
    ) -> Self {
        Shell {
            w: words(staff.locale),
            locale: staff.locale,
            title: title.into(),
            user_name: staff.display_name.clone(),
            is_admin: staff.is_admin(),
            csrf: staff.csrf.clone(),
            here,
            section,
            notice: None,
        }
    }

    /// The language switch's link: to the other language, then back here (without the
    /// last action's notice, which was read already).
    pub fn switch_href(&self) -> String {
        let (path, query) = self.here.split_once('?').unwrap_or((&self.here, ""));
        let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k != "done" && k != "refused")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let back = if kept.is_empty() {
            path.to_string()
        } else {
            let query = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(kept)
                .finish();
            format!("{path}?{query}")
        };
        language_href(self.w, &back)
    }
}

pub fn language_href(w: &Words, here: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("to", w.other_lang)
        .append_pair("back", here)
        .finish();
    format!("/console/language?{query}")
}

/// The stylesheet's address; its version changes whenever the file does, so it may be
/// cached for a long time.
pub fn stylesheet_href() -> &'static str {
    super::assets::STYLESHEET_HREF.as_str()
}

/// A rendered page with the console's headers: never cached (pages show personal data),
/// and a content policy that lets the page load nothing but this server's own files.
pub fn html(status: StatusCode, rendered: askama::Result<String>) -> HttpResponse {
    match rendered {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ))
            .insert_header((header::REFERRER_POLICY, "same-origin"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("template error")
        }
    }
}

/// 303 to `location` (after a form: the browser then loads that page with GET).
pub fn see_other(location: impl Into<String>) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.into()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// A form's refusals in the page's language: beside their fields, or above the form when
/// they concern no field.
#[derive(Debug, Default)]
pub struct FormErrors {
    fields: Vec<(String, String)>,
    pub top: Option<String>,
}

impl FormErrors {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.top.is_none()
    }

    pub fn add(&mut self, locale: Locale, field: &str, code: crate::i18n::Code) {
        if self.get(field).is_none() {
            self.fields
                .push((field.to_string(), code.message(locale).to_string()));
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, message)| message.as_str())
    }

    /// Collects field errors as the parsers give them, under the form's field names.
    pub fn add_all(
        &mut self,
        locale: Locale,
        errors: &[crate::error::FieldError],
        rename: &[(&str, &str)],
    ) {
        for e in errors {
            let field = rename
                .iter()
                .find(|(api, _)| *api == e.field)
                .map_or(e.field.as_str(), |(_, form)| form);
            self.add(locale, field, e.code);
        }
    }

    /// An operation's refusal, placed where the person will see it; refusals that are no
    /// form's business (not found, forbidden, a failure) become the error page.
    pub fn from_api(
        locale: Locale,
        error: crate::error::ApiError,
        rename: &[(&str, &str)],
    ) -> Result<Self, super::ConsoleError> {
        use crate::error::ApiError;
        let mut errors = FormErrors::default();
        match error {
            ApiError::Validation(fields) => errors.add_all(locale, &fields, rename),
            ApiError::Conflict(code)
            | ApiError::UnprocessableEntity(code)
            | ApiError::BadRequest(code)
            | ApiError::TooManyRequests { code, .. } => {
                errors.top = Some(code.message(locale).to_string())
            }
            other => return Err(super::ConsoleError::from_api(locale, other)),
        }
        Ok(errors)
    }
}

/// One input of a form as a template draws it: label, type, what was typed, its error.
pub struct InputField {
    pub name: &'static str,
    pub label: &'static str,
    pub optional: bool,
    pub kind: &'static str,
    pub min: Option<&'static str>,
    pub max: Option<&'static str>,
    pub maxlength: Option<&'static str>,
    pub value: String,
    pub error: Option<String>,
}

/// The date, times, capacity, room and instructor of a session's forms.
pub fn schedule_fields<'a>(
    w: &'static Words,
    value: impl Fn(&str) -> &'a str,
    errors: &FormErrors,
) -> Vec<InputField> {
    let field = |name: &'static str, label: &'static str, kind: &'static str| InputField {
        name,
        label,
        optional: false,
        kind,
        min: None,
        max: None,
        maxlength: None,
        value: value(name).to_string(),
        error: errors.get(name).map(str::to_string),
    };
    vec![
        field("date", w.date, "date"),
        field("starts", w.starts, "time"),
        field("ends", w.ends, "time"),
        InputField {
            min: Some("1"),
            max: Some("500"),
            ..field("capacity", w.capacity, "number")
        },
        InputField {
            optional: true,
            maxlength: Some("100"),
            ..field("room", w.room, "text")
        },
        InputField {
            optional: true,
            maxlength: Some("100"),
            ..field("instructor", w.instructor, "text")
        },
    ]
}
