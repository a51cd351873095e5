//! What every page has (the shell: language, who is signed in, navigation) and how a page
//! becomes a response.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;

use crate::domain::Locale;

use super::admin_words::{admin_words, AdminWords};
use super::session::Staff;
use super::words::{words, Words};

/// This page's path and query (where the language switch comes back to).
pub fn here(req: &actix_web::HttpRequest) -> String {
    match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    }
}

/// `?done=`: what the last action did, for the page to say so.
#[derive(Debug, Default, serde::Deserialize)]
pub struct DoneQuery {
    pub done: Option<String>,
}

/// The frame around every signed-in page.
pub struct Shell {
    pub w: &'static Words,
    /// The admin screens' words.
    pub a: &'static AdminWords,
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
            a: admin_words(staff.locale),
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

pub fn composer_script_href() -> &'static str {
    super::assets::COMPOSER_SCRIPT_HREF.as_str()
}

pub fn checkin_script_href() -> &'static str {
    super::assets::CHECKIN_SCRIPT_HREF.as_str()
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
                "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; \
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

/// A textarea's text with the line breaks the API takes: browsers send CRLF, and a bare
/// carriage return is a control character the API refuses.
pub fn line_breaks(typed: &str) -> String {
    typed.replace("\r\n", "\n")
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
        self.add_text(field, code.message(locale));
    }

    /// A refusal the console words itself (not one of the API's codes).
    pub fn add_text(&mut self, field: &str, message: &str) {
        if self.get(field).is_none() {
            self.fields.push((field.to_string(), message.to_string()));
        }
    }

    /// Adds `other`'s refusals (the first one per field stays).
    pub fn merge(&mut self, other: FormErrors) {
        for (field, message) in other.fields {
            self.add_text(&field, &message);
        }
        self.top = self.top.take().or(other.top);
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

/// One choice of a `select`.
pub struct Choice {
    pub value: String,
    pub label: String,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Self {
        Choice {
            value: value.into(),
            label: label.into(),
        }
    }
}

/// One control of a form as `fields.html` draws it: label, kind (an input type,
/// `select` or `textarea`), what was typed, help, a character count, its error.
pub struct InputField {
    pub name: &'static str,
    pub label: &'static str,
    pub optional: bool,
    pub kind: &'static str,
    pub inputmode: Option<&'static str>,
    pub min: Option<&'static str>,
    pub max: Option<&'static str>,
    pub maxlength: Option<&'static str>,
    pub help: Option<&'static str>,
    pub options: Vec<Choice>,
    /// Show how many characters are typed of this many (kept live by the script).
    pub counter: Option<usize>,
    pub value: String,
    pub error: Option<String>,
}

impl InputField {
    pub fn new(
        name: &'static str,
        label: &'static str,
        kind: &'static str,
        value: impl Into<String>,
        errors: &FormErrors,
    ) -> Self {
        InputField {
            name,
            label,
            optional: false,
            kind,
            inputmode: None,
            min: None,
            max: None,
            maxlength: None,
            help: None,
            options: Vec::new(),
            counter: None,
            value: value.into(),
            error: errors.get(name).map(str::to_string),
        }
    }

    pub fn described(&self) -> bool {
        self.help.is_some() || self.counter.is_some() || self.error.is_some()
    }

    /// The IDs of the help, count and error beside the control.
    pub fn describedby(&self) -> String {
        let mut ids = Vec::new();
        if self.help.is_some() {
            ids.push(format!("f-{}-help", self.name));
        }
        if self.counter.is_some() {
            ids.push(format!("f-{}-count", self.name));
        }
        if self.error.is_some() {
            ids.push(format!("f-{}-error", self.name));
        }
        ids.join(" ")
    }
}

/// The date, times, capacity, room and instructor of a session's forms.
pub fn schedule_fields<'a>(
    w: &'static Words,
    value: impl Fn(&str) -> &'a str,
    errors: &FormErrors,
) -> Vec<InputField> {
    let field = |name: &'static str, label: &'static str, kind: &'static str| {
        InputField::new(name, label, kind, value(name), errors)
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
