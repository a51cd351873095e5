//! The one error type of the API, rendered once as `application/problem+json` (RFC 9457)
//! with a stable machine `code` and a message in the caller's language.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::Locale;
use crate::i18n::Code;

/// One refused field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: Code,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: Code) -> Self {
        FieldError {
            field: field.into(),
            code,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    /// A request the server cannot read at all (`malformed_json`, `invalid_utf8`, …).
    #[error("bad request: {0}")]
    BadRequest(Code),
    #[error("body too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("unauthorized: {0}")]
    Unauthorized(Code),
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("no such route")]
    RouteNotFound,
    #[error("method not allowed")]
    /// With the methods the resource allows, for the `Allow` header.
    MethodNotAllowed(&'static str),
    #[error("conflict: {0}")]
    Conflict(Code),
    /// Well-formed but cannot be done as asked (`idempotency_key_reused`).
    #[error("unprocessable: {0}")]
    UnprocessableEntity(Code),
    #[error("too many requests: {code}, retry after {retry_after_secs}s")]
    TooManyRequests { code: Code, retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Too much work of one kind already waits (password hashes): try again shortly.
    #[error("busy, retry after {retry_after_secs}s")]
    Busy { retry_after_secs: u64 },
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn field(field: &str, code: Code) -> Self {
        ApiError::Validation(vec![FieldError::new(field, code)])
    }

    pub fn code(&self) -> Code {
        match self {
            ApiError::Validation(_) => Code::ValidationFailed,
            ApiError::BadRequest(code)
            | ApiError::Unauthorized(code)
            | ApiError::Conflict(code)
            | ApiError::UnprocessableEntity(code)
            | ApiError::TooManyRequests { code, .. } => *code,
            ApiError::PayloadTooLarge => Code::PayloadTooLarge,
            ApiError::UnsupportedMediaType => Code::UnsupportedMediaType,
            ApiError::Forbidden => Code::Forbidden,
            ApiError::NotFound => Code::NotFound,
            ApiError::RouteNotFound => Code::RouteNotFound,
            ApiError::MethodNotAllowed(_) => Code::MethodNotAllowed,
            ApiError::Unavailable(_) => Code::ServiceUnavailable,
            ApiError::Busy { .. } => Code::ServerBusy,
            ApiError::Internal(_) => Code::InternalError,
        }
    }

    /// Renders the problem document in `locale`, tagged with the request's ID.
    pub fn render(&self, locale: Locale, request_id: Option<&str>) -> HttpResponse {
        let code = self.code();
        let title = code.message(locale);
        let errors: Vec<ProblemField> = match self {
            ApiError::Validation(fields) => fields
                .iter()
                .map(|f| ProblemField {
                    field: &f.field,
                    code: f.code,
                    message: f.code.message(locale),
                })
                .collect(),
            _ => Vec::new(),
        };
        let detail = match self {
            ApiError::Validation(fields) => fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.code.message(locale)))
                .collect::<Vec<_>>()
                .join("; "),
            ApiError::TooManyRequests {
                retry_after_secs, ..
            } => match locale {
                Locale::Th => format!("{title} ลองใหม่ได้ในอีก {} นาที", retry_after_secs.div_ceil(60)),
                Locale::En => format!(
                    "{title} Try again in {} minutes.",
                    retry_after_secs.div_ceil(60)
                ),
            },
            _ => title.to_string(),
        };
        let status = self.status_code();
        let body = Problem {
            kind: format!("urn:ocod:problem:{code}"),
            title,
            status: status.as_u16(),
            detail,
            code,
            errors,
            request_id,
        };
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        response.insert_header((header::CONTENT_LANGUAGE, locale.as_str()));
        if let ApiError::TooManyRequests {
            retry_after_secs, ..
        }
        | ApiError::Busy { retry_after_secs } = self
        {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        if let ApiError::MethodNotAllowed(allow) = self {
            if !allow.is_empty() {
                response.insert_header((header::ALLOW, *allow));
            }
        }
        if matches!(self, ApiError::Unauthorized(_)) {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.body(serde_json::to_string(&body).unwrap_or_default())
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    detail: String,
    code: Code,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<ProblemField<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

#[derive(Serialize)]
struct ProblemField<'a> {
    field: &'a str,
    code: Code,
    message: &'static str,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound | ApiError::RouteNotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::UnprocessableEntity(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) | ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Thai without a request ID; the `problem` middleware re-renders with both.
    fn error_response(&self) -> HttpResponse {
        self.render(Locale::Th, None)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => ApiError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                ApiError::Conflict(Code::Conflict)
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<r2d2::Error> for ApiError {
    fn from(e: r2d2::Error) -> Self {
        ApiError::Unavailable(format!("database pool: {e}"))
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_tell_clients_nothing_of_their_cause() {
        let error = ApiError::Internal(anyhow::anyhow!("connection to db-7.internal:5432 refused"));
        let response = error.render(Locale::En, Some("req-1"));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = actix_web::body::to_bytes(response.into_body());
        let body = futures_util::FutureExt::now_or_never(body)
            .and_then(Result::ok)
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("\"code\":\"internal_error\""), "{text}");
        assert!(!text.contains("db-7") && !text.contains("5432"), "{text}");
    }

    #[test]
    fn database_errors_map_to_http_meanings() {
        use diesel::result::{DatabaseErrorKind, Error};
        assert!(matches!(
            ApiError::from(Error::NotFound),
            ApiError::NotFound
        ));
        let unique = Error::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("dup".to_string()),
        );
        assert!(matches!(
            ApiError::from(unique),
            ApiError::Conflict(Code::Conflict)
        ));
        assert!(matches!(
            ApiError::from(Error::BrokenTransactionManager),
            ApiError::Internal(_)
        ));
    }
}
