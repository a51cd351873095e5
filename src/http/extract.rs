//! Request body and query extractors whose every failure is a clear problem document:
//! wrong content type 415, over 64 KiB 413, bad UTF-8 or broken JSON 400 with a code,
//! wrong types, missing and unknown fields 400 naming the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};
use crate::i18n::Code;

/// Largest JSON body accepted on any route.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON request body, parsed into `T` (which should `deny_unknown_fields`).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json"
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        let declared_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::UnsupportedMediaType);
            }
            if declared_length.is_some_and(|n| n > MAX_BODY_BYTES) {
                return Err(ApiError::PayloadTooLarge);
            }
            let mut body = Vec::with_capacity(declared_length.unwrap_or(1024).min(MAX_BODY_BYTES));
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| ApiError::BadRequest(Code::MalformedJson))?;
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(ApiError::PayloadTooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(JsonBody)
        })
    }
}

/// Parses a JSON document, telling apart unreadable input from a readable one with
/// wrong content.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| ApiError::BadRequest(Code::InvalidUtf8))?;
    // Every body is an object. serde would also read a struct from an array (`["a","b"]`),
    // which only hides client bugs.
    if !text.trim_start().starts_with('{') {
        return match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => Err(ApiError::field("body", Code::InvalidType)),
            Err(_) => Err(ApiError::BadRequest(Code::MalformedJson)),
        };
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize::<_, T>(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                ApiError::Validation(vec![field_error(&path, &inner.to_string())])
            }
            _ => ApiError::BadRequest(Code::MalformedJson),
        }
    })?;
    deserializer
        .end()
        .map_err(|_| ApiError::BadRequest(Code::MalformedJson))?;
    Ok(value)
}

/// Turns serde's description of a data error into a field name and a stable code.
fn field_error(path: &str, message: &str) -> FieldError {
    let path = if path == "." { "" } else { path };
    let named = |name: &str| match (path.is_empty(), path.ends_with(name)) {
        (true, _) => name.to_string(),
        (false, true) => path.to_string(),
        (false, false) => format!("{path}.{name}"),
    };
    let quoted = message.split('`').nth(1).unwrap_or("");
    if message.starts_with("unknown field") {
        return FieldError::new(named(quoted), Code::UnknownField);
    }
    if message.starts_with("missing field") {
        return FieldError::new(named(quoted), Code::Required);
    }
    let field = if path.is_empty() {
        "body".to_string()
    } else {
        path.to_string()
    };
    let code = if message.starts_with("invalid type") {
        Code::InvalidType
    } else {
        Code::InvalidValue
    };
    FieldError::new(field, code)
}

/// Query parameters parsed into `T`, with the offending parameter named on failure.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned> FromRequest for QueryParams<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let query = without_empty_cursor(req.query_string());
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded_parse(&query));
        let result = serde_path_to_error::deserialize::<_, T>(deserializer)
            .map(QueryParams)
            .map_err(|err| {
                let path = err.path().to_string();
                let message = err.into_inner().to_string();
                let mut error = field_error(&path, &message);
                if error.field == "body" {
                    error.field = "query".into();
                }
                ApiError::Validation(vec![error])
            });
        std::future::ready(result)
    }
}

/// `cursor=` with no value asks for the first page, as no cursor does (a client that
/// always sends the parameter, empty at first).
fn without_empty_cursor(query: &str) -> std::borrow::Cow<'_, str> {
    let empty_cursor = |(k, v): &(std::borrow::Cow<str>, std::borrow::Cow<str>)| {
        k == "cursor" && v.trim().is_empty()
    };
    if !form_urlencoded::parse(query.as_bytes()).any(|pair| empty_cursor(&pair)) {
        return query.into();
    }
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form_urlencoded::parse(query.as_bytes()).filter(|pair| !empty_cursor(pair)))
        .finish()
        .into()
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Login {
        login: String,
        password: String,
    }

    /// The code of the refusal (`ok` when accepted) and its field errors, as words.
    fn codes(result: Result<Login, ApiError>) -> (&'static str, Vec<(String, &'static str)>) {
        match result {
            Ok(_) => ("ok", vec![]),
            Err(ApiError::Validation(fields)) => (
                Code::ValidationFailed.as_str(),
                fields
                    .into_iter()
                    .map(|f| (f.field, f.code.as_str()))
                    .collect(),
            ),
            Err(other) => (other.code().as_str(), vec![]),
        }
    }

    #[test]
    fn each_kind_of_bad_body_has_its_own_code() {
        assert_eq!(
            codes(parse_json(br#"{"login":"a","password":"b"}"#)).0,
            "ok"
        );
        assert_eq!(codes(parse_json(b"{\"login\":")).0, "malformed_json");
        assert_eq!(
            codes(parse_json(b"{\"login\":\"a\",\"password\":\"b\"} x")).0,
            "malformed_json"
        );
        assert_eq!(
            codes(parse_json(b"{\"login\":\"\xff\xfe\"}")).0,
            "invalid_utf8"
        );
        assert_eq!(
            codes(parse_json(br#"{"login":1,"password":"b"}"#)).1,
            vec![("login".into(), "invalid_type")]
        );
        assert_eq!(
            codes(parse_json(br#"{"password":"b"}"#)).1,
            vec![("login".into(), "required")]
        );
        assert_eq!(
            codes(parse_json(
                br#"{"login":"a","password":"b","role":"admin"}"#
            ))
            .1,
            vec![("role".into(), "unknown_field")]
        );
        assert_eq!(
            codes(parse_json(b"\"text\"")).1,
            vec![("body".into(), "invalid_type")]
        );
        assert_eq!(
            codes(parse_json(br#"["a", "b"]"#)).1,
            vec![("body".into(), "invalid_type")]
        );
        assert_eq!(codes(parse_json(b"[1,")).0, "malformed_json");
    }
}
