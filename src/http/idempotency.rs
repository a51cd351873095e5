//! Safe retries for every unsafe request of the API (`POST`, `PUT`, `PATCH`, `DELETE`
//! under `/api/v1`): one mechanism, in front of every handler.
//!
//! A request with an `Idempotency-Key` reserves the key for its owner (the signed-in
//! user, or an anonymous caller's address) before it runs. The same key and the same
//! request (method, path, query, body) later replays the first answer, status and body,
//! with `Idempotent-Replayed: true`; the same key on another request is 422
//! `idempotency_key_reused`; a second request while the first still runs waits for its
//! answer. An answer that is not final (a server error, 401, 408, 429) gives the key back
//! so that a retry runs again. Keys live 24 hours.
//!
//! Handlers that can store the answer inside their own transaction (enrollments) find the
//! request's `Retry` in the request's extensions and do so; the effect and its answer are
//! then kept together even if the process dies between them.

use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpResponse};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::auth::TokenKeys;
use crate::config::Settings;
use crate::db::DbPool;
use crate::error::ApiError;
use crate::http::client_address;
use crate::http::middleware::RequestId;
use crate::i18n::{negotiate, Code};
use crate::models::idempotency::{self, Earlier, Retry};

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Bodies beyond this are not the API's (it refuses them at 64 KiB); they pass through.
const MAX_FINGERPRINTED_BODY: usize = 1024 * 1024;
/// How long a second request waits for the first one's answer.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(10);
/// A reservation this old belongs to a request whose process died: it may be taken over.
const ABANDONED_AFTER: Duration = Duration::from_secs(60);

/// A valid `Idempotency-Key`: surrounding spaces are ignored, the rest must be 1–255
/// visible ASCII characters.
pub fn parse_idempotency_key(raw: &[u8]) -> Result<String, ApiError> {
    let invalid = || ApiError::field("Idempotency-Key", Code::InvalidValue);
    let key = std::str::from_utf8(raw).map_err(|_| invalid())?.trim();
    if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(invalid());
    }
    Ok(key.to_string())
}

/// What identifies a request for its key: method, path, query and body (surrounding
/// white space aside).
pub fn fingerprint(method: &Method, path: &str, query: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("{method} {path}?{query}\n").as_bytes());
    hasher.update(body.trim_ascii());
    format!("{:x}", hasher.finalize())
}

/// The unsafe routes anyone may call without signing in; their keys belong to the
/// caller's address.
const ANONYMOUS_ROUTES: &[&str] = &[
    "/api/v1/auth/register",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/otp/request",
    "/api/v1/auth/otp/verify",
];

/// Whose key it is: the user of a valid bearer token, or the caller's address on the
/// routes that need no sign-in. `None` leaves the request to its handler (which refuses
/// a caller who is not signed in before a key could matter).
fn owner_of(req: &ServiceRequest) -> Option<String> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string());
    if let (Some(token), Some(keys)) = (
        bearer,
        req.app_data::<web::Data<std::sync::Arc<TokenKeys>>>(),
    ) {
        if let Ok(claims) = keys.verify_access(&token) {
            return Some(claims.sub);
        }
    }
    if !ANONYMOUS_ROUTES.contains(&req.path()) {
        return None;
    }
    let settings = req.app_data::<web::Data<Settings>>()?;
    let address = client_address::of_request(req.request(), &settings.trusted_proxies)?;
    Some(format!(
        "address:{}",
        settings.keyed_hash("idempotency", &client_address::limit_key(address))
    ))
}

/// Whether the API serves `method` on `path` (a route of `routes::ROUTES`): only then
/// is there a request to make safe; anything else is the router's 404 or 405.
fn is_served(method: &Method, path: &str) -> bool {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    crate::routes::ROUTES.iter().any(|(m, pattern, _)| {
        let parts: Vec<&str> = pattern.split('/').collect();
        *m == method.as_str()
            && parts.len() == segments.len()
            && parts.iter().zip(&segments).all(|(p, s)| {
                if p.starts_with('{') {
                    !s.is_empty()
                } else {
                    p == s
                }
            })
    })
}

/// Whether an answer is final: the same request retried would get it again.
fn is_final(status: StatusCode) -> bool {
    !(status.is_server_error()
        || matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS
        ))
}

fn replay(status: u16, body: String) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut res = HttpResponse::build(status);
    res.insert_header((REPLAYED, HeaderValue::from_static("true")));
    if body.is_empty() {
        return res.finish();
    }
    let content_type = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    res.content_type(content_type).body(body)
}

enum Reservation {
    Mine,
    Replay(u16, String),
    Refused(ApiError),
}

async fn reserve(
    pool: &web::Data<DbPool>,
    owner: &str,
    retry: &Retry,
) -> Result<Reservation, ApiError> {
    let started = std::time::Instant::now();
    loop {
        let (pool, owner, retry) = (pool.clone(), owner.to_string(), retry.clone());
        let step = web::block(move || -> Result<Option<Reservation>, ApiError> {
            let mut conn = pool.get()?;
            match idempotency::lookup(&mut conn, &owner, &retry.key, &retry.fingerprint)? {
                Earlier::None => {
                    Ok(
                        idempotency::reserve(&mut conn, &owner, &retry.key, &retry.fingerprint)?
                            .then_some(Reservation::Mine),
                    )
                }
                Earlier::Answer { status, body } => Ok(Some(Reservation::Replay(status, body))),
                Earlier::OtherRequest => Ok(Some(Reservation::Refused(
                    ApiError::UnprocessableEntity(Code::IdempotencyKeyReused),
                ))),
                Earlier::InProgress { .. } => {
                    let stale_before = crate::db::now()
                        - chrono::Duration::from_std(ABANDONED_AFTER).unwrap_or_default();
                    Ok(
                        idempotency::take_over(&mut conn, &owner, &retry.key, stale_before)?
                            .then_some(Reservation::Mine),
                    )
                }
            }
        })
        .await??;
        if let Some(reservation) = step {
            return Ok(reservation);
        }
        if started.elapsed() > WAIT_FOR_FIRST {
            return Ok(Reservation::Refused(ApiError::TooManyRequests {
                code: Code::IdempotencyKeyInUse,
                retry_after_secs: 1,
            }));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn read_body(req: &mut ServiceRequest) -> Option<web::Bytes> {
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    let mut complete = true;
    while let Some(chunk) = payload.next().await {
        match chunk {
            Ok(chunk) if body.len() + chunk.len() <= MAX_FINGERPRINTED_BODY => {
                body.extend_from_slice(&chunk)
            }
            _ => {
                complete = false;
                break;
            }
        }
    }
    let body = body.freeze();
    let (_, mut replacement) = actix_http::h1::Payload::create(true);
    replacement.unread_data(body.clone());
    req.set_payload(replacement.into());
    complete.then_some(body)
}

/// Gives a reservation back (the request may run again); failing that, it is taken over
/// once abandoned.
async fn give_back(pool: &web::Data<DbPool>, owner: &str, key: &str) {
    let (pool, owner, key) = (pool.clone(), owner.to_string(), key.to_string());
    let released = web::block(move || -> anyhow::Result<()> {
        Ok(idempotency::release(&mut *pool.get()?, &owner, &key)?)
    })
    .await;
    if !matches!(released, Ok(Ok(()))) {
        tracing::warn!(
            "an idempotency key could not be given back; it is taken over after a minute"
        );
    }
}

pub async fn idempotent(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let applies = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) && req.path().starts_with("/api/v1/")
        && is_served(req.method(), req.path());
    let raw_key = req
        .headers()
        .get(&IDEMPOTENCY_KEY)
        .map(|v| v.as_bytes().to_vec());
    let (true, Some(raw_key)) = (applies, raw_key) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = match parse_idempotency_key(&raw_key) {
        Ok(key) => key,
        Err(e) => return Ok(req.error_response(e)),
    };
    let (Some(owner), Some(pool)) = (owner_of(&req), req.app_data::<web::Data<DbPool>>().cloned())
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(body) = read_body(&mut req).await else {
        // Too large to be an API request: the handler refuses it.
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let retry = Retry {
        key,
        fingerprint: fingerprint(req.method(), req.path(), req.query_string(), &body),
    };
    match reserve(&pool, &owner, &retry).await {
        Ok(Reservation::Mine) => {}
        Ok(Reservation::Replay(status, body)) => {
            let (http_req, _) = req.into_parts();
            return Ok(ServiceResponse::new(http_req, replay(status, body)));
        }
        Ok(Reservation::Refused(e)) | Err(e) => return Ok(req.error_response(e)),
    }
    let locale = negotiate(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    req.extensions_mut().insert(retry.clone());

    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => {
            give_back(&pool, &owner, &retry.key).await;
            return Err(e);
        }
    };
    let status = res.status();
    if !is_final(status) {
        give_back(&pool, &owner, &retry.key).await;
        return Ok(res);
    }
    // The answer as the client sees it: a refusal rendered as its problem document.
    let (http_req, response) = res.into_parts();
    let response = match response.error().and_then(|e| e.as_error::<ApiError>()) {
        Some(api_error) => api_error.render(locale, request_id.as_deref()),
        None => response,
    };
    let (head, body) = response.into_parts();
    let bytes = actix_web::body::to_bytes(body).await.unwrap_or_default();
    let stored = String::from_utf8(bytes.to_vec()).ok();
    if let Some(text) = stored {
        let (owner, key, fingerprint) = (owner, retry.key, retry.fingerprint);
        let kept = web::block(move || -> anyhow::Result<bool> {
            Ok(idempotency::complete(
                &mut *pool.get()?,
                &owner,
                &key,
                &fingerprint,
                status.as_u16(),
                &text,
            )?)
        })
        .await;
        if !matches!(kept, Ok(Ok(_))) {
            tracing::warn!("an answer could not be kept for its idempotency key");
        }
    }
    Ok(ServiceResponse::new(
        http_req,
        head.set_body(bytes).map_into_boxed_body(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_served_routes_take_keys() {
        assert!(is_served(&Method::POST, "/api/v1/admin/broadcasts"));
        assert!(is_served(&Method::DELETE, "/api/v1/me/enrollments/e-1"));
        assert!(is_served(&Method::PUT, "/api/v1/centers/c-1/staff/u-1"));
        assert!(
            !is_served(&Method::PUT, "/api/v1/auth/login"),
            "PUT is not served there"
        );
        assert!(!is_served(&Method::POST, "/api/v1/nothing"));
        assert!(
            !is_served(&Method::DELETE, "/api/v1/me/enrollments/"),
            "an empty ID"
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn visible_ascii_keys_are_taken_as_sent(key in "[!-~]{1,255}", pad in " {0,3}") {
            let sent = format!("{pad}{key}{pad}");
            prop_assert_eq!(parse_idempotency_key(sent.as_bytes()).ok(), Some(key));
        }

        #[test]
        fn keys_that_are_too_long_or_hold_other_characters_are_refused(
            head in "[!-~]{1,20}",
            odd in "[\\x00-\\x1f\\x7f ก-๙é]",
            tail in "[!-~]{1,20}",
            long in "[!-~]{256,300}",
        ) {
            let with_odd = format!("{head}{odd}{tail}");
            prop_assert!(parse_idempotency_key(with_odd.as_bytes()).is_err());
            prop_assert!(parse_idempotency_key(long.as_bytes()).is_err());
        }

        #[test]
        fn any_bytes_give_a_key_or_a_refusal(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(key) = parse_idempotency_key(&raw) {
                prop_assert!((1..=255).contains(&key.len()));
                prop_assert!(key.bytes().all(|b| b.is_ascii_graphic()));
            }
        }

        #[test]
        fn a_fingerprint_ignores_surrounding_white_space_only(body in "[ -~]{0,40}") {
            let a = fingerprint(&Method::POST, "/api/v1/x", "", body.as_bytes());
            let padded = format!("  {body}\n");
            prop_assert_eq!(&a, &fingerprint(&Method::POST, "/api/v1/x", "", padded.as_bytes()));
            prop_assert_ne!(&a, &fingerprint(&Method::POST, "/api/v1/y", "", body.as_bytes()));
            prop_assert_ne!(&a, &fingerprint(&Method::PATCH, "/api/v1/x", "", body.as_bytes()));
        }
    }
}
