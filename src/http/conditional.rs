//! Cheap re-reads for phones on slow networks: the public reads and the caller's own lists
//! carry a strong `ETag`, and a request whose `If-None-Match` names it gets `304 Not
//! Modified` with no body.
//!
//! The tag is a hash of the bytes as sent (after compression), so a gzip answer and an
//! uncompressed one have different tags, as strong validators must (RFC 9110 §8.8.1).
//! The answer is still computed; what is saved is the download, which is what costs on
//! 2G/3G.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};
use sha2::{Digest, Sha256};

/// How a route's answers may be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// The same for everyone, and changing rarely: kept for a minute, then revalidated.
    PublicMinute,
    /// The same for everyone, but live figures (seats left): revalidated every time.
    PublicRevalidate,
    /// The caller's own: kept by their device only, revalidated every time.
    Private,
}

impl Caching {
    fn header(self) -> &'static str {
        match self {
            Caching::PublicMinute => "public, max-age=60",
            Caching::PublicRevalidate => "public, no-cache",
            Caching::Private => "private, no-cache",
        }
    }
}

/// The routes that answer with validators, by route pattern.
pub fn caching_of(pattern: &str) -> Option<Caching> {
    Some(match pattern {
        "/api/v1/centers" | "/api/v1/centers/{id}" | "/api/v1/courses" | "/api/v1/courses/{id}" => {
            Caching::PublicMinute
        }
        "/api/v1/sessions" | "/api/v1/sessions/{id}" => Caching::PublicRevalidate,
        "/api/v1/me/enrollments" | "/api/v1/me/notifications" => Caching::Private,
        _ => return None,
    })
}

/// A strong tag for these bytes.
pub fn entity_tag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether `If-None-Match` (a list of tags, or `*`) names `tag`. Weak comparison, as
/// RFC 9110 §13.1.2 asks for `If-None-Match`.
pub fn none_match(if_none_match: &str, tag: &str) -> bool {
    let tag = tag.trim_start_matches("W/");
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == tag)
}

pub async fn conditional(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let readable = matches!(*req.method(), Method::GET | Method::HEAD);
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let res = next.call(req).await?;
    let caching = res
        .request()
        .match_pattern()
        .as_deref()
        .and_then(caching_of);
    let (Some(caching), true, StatusCode::OK) = (caching, readable, res.status()) else {
        return Ok(res.map_into_boxed_body());
    };
    let (req, response) = res.into_parts();
    let (mut head, body) = response.into_parts();
    let bytes = match actix_web::body::to_bytes(body).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return Ok(ServiceResponse::new(
                req,
                HttpResponse::InternalServerError().finish(),
            ))
        }
    };
    let tag = entity_tag(&bytes);
    let headers = head.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&tag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(caching.header()),
    );
    if if_none_match.is_some_and(|inm| none_match(&inm, &tag)) {
        let mut not_modified = HttpResponse::NotModified();
        for name in [header::ETAG, header::CACHE_CONTROL, header::VARY] {
            if let Some(value) = head.headers().get(&name) {
                not_modified.insert_header((name, value.clone()));
            }
        }
        return Ok(ServiceResponse::new(req, not_modified.finish()));
    }
    Ok(ServiceResponse::new(
        req,
        head.set_body(bytes).map_into_boxed_body(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_names_a_tag_among_several_weak_or_not() {
        let tag = entity_tag(b"[1,2,3]");
        assert!(none_match(&tag, &tag));
        assert!(none_match(&format!("\"x\", {tag}"), &tag));
        assert!(none_match(&format!("W/{tag}"), &tag));
        assert!(none_match("*", &tag));
        assert!(!none_match("\"x\"", &tag));
        assert!(!none_match("", &tag));
        assert_ne!(entity_tag(b"[1,2,3]"), entity_tag(b"[1,2,4]"));
    }
}
