//! The outermost middleware: gives every request an ID, answers every error as problem+json
//! in the caller's language, logs one line per request and records metrics.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use tracing::Instrument;

use crate::error::ApiError;
use crate::http::metrics::Metrics;
use crate::i18n::negotiate;
use crate::i18n::Code;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's ID, available to handlers through request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn incoming_request_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let valid = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    valid.then(|| value.to_string())
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let request_id = incoming_request_id(&req).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let locale = negotiate(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().to_string();
    // The access line below carries the request's facts itself; the span, for events
    // deeper in the handlers, is a debug one: building and formatting a span for every
    // request at `info` cost a third of a small endpoint's throughput.
    let path = req.path().to_string();
    let span =
        tracing::debug_span!("request", request_id = %request_id, method = %method, path = %path);
    if let Some(m) = &metrics {
        m.in_flight.inc();
    }

    let outcome = next.call(req).instrument(span.clone()).await;
    let mut res: ServiceResponse<BoxBody> = match outcome {
        Ok(res) => res.map_into_boxed_body(),
        Err(err) => {
            // Middleware below us failed; there is no request to hand back, so answer here.
            if let Some(m) = &metrics {
                m.in_flight.dec();
            }
            return Err(err);
        }
    };

    let status = res.status();
    if status.is_client_error() || status.is_server_error() {
        let api_error = res
            .response()
            .error()
            .and_then(|e| e.as_error::<ApiError>());
        let rendered = match api_error {
            Some(e) => {
                if let ApiError::Internal(cause) = e {
                    span.in_scope(|| {
                        tracing::error!(request_id = %request_id, method = %method, path = %path, error = format!("{cause:#}"), "internal error")
                    });
                }
                if let ApiError::Unavailable(cause) = e {
                    span.in_scope(|| tracing::warn!(request_id = %request_id, method = %method, path = %path, error = %cause, "service unavailable"));
                }
                Some(e.render(locale, Some(&request_id)))
            }
            // A console page answers with its own HTML page (in the page's language).
            None if !is_problem(&res) && !is_page(&res) => {
                if let Some(e) = res.response().error() {
                    span.in_scope(|| tracing::warn!(request_id = %request_id, method = %method, path = %path, error = %e, "framework error"));
                }
                Some(fallback_error(status).render(locale, Some(&request_id)))
            }
            None => None,
        };
        if let Some(rendered) = rendered {
            res = res.into_response(rendered);
        }
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    harden(res.headers_mut());

    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    let elapsed = started.elapsed();
    if let Some(m) = &metrics {
        m.in_flight.dec();
        m.requests
            .with_label_values(&[method.as_str(), route.as_str(), status.as_str()])
            .inc();
        m.latency
            .with_label_values(&[method.as_str(), route.as_str()])
            .observe(elapsed.as_secs_f64());
    }
    let status_code = res.status().as_u16();
    span.in_scope(|| {
        tracing::info!(request_id = %request_id, method = %method, path = %path, status = status_code, route = %route, elapsed_ms = elapsed.as_secs_f64() * 1000.0, "answered")
    });
    Ok(res)
}

/// Headers OWASP's REST guidance asks of every API answer: browsers must not guess
/// content types or frame our pages, and nothing (personal data above all) is kept by
/// shared caches unless a handler chose caching for public content.
fn harden(headers: &mut header::HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Console pages bring their own, stricter policy.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
    }
    if !headers.contains_key(header::REFERRER_POLICY) {
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

fn is_page(res: &ServiceResponse<BoxBody>) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

fn is_problem(res: &ServiceResponse<BoxBody>) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"))
}

/// The problem to show for an error the framework produced on its own.
fn fallback_error(status: StatusCode) -> ApiError {
    match status {
        StatusCode::NOT_FOUND => ApiError::RouteNotFound,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed(""),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
        StatusCode::UNAUTHORIZED => ApiError::Unauthorized(Code::InvalidToken),
        StatusCode::FORBIDDEN => ApiError::Forbidden,
        s if s.is_client_error() => ApiError::BadRequest(Code::InvalidPath),
        _ => ApiError::Internal(anyhow::anyhow!("framework answered {status}")),
    }
}
