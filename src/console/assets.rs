//! The console's own files, compiled into the binary: no CDN, no fetched fonts.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};

use super::session::Visitor;
use super::{ConsoleError, PageResult};

const STYLESHEET: &str = include_str!("../../static/console/console.css");

/// The stylesheet's version: the start of its SHA-256, so a changed file has a new address.
static STYLESHEET_VERSION: LazyLock<String> = LazyLock::new(|| {
    Sha256::digest(STYLESHEET.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
});

pub static STYLESHEET_HREF: LazyLock<String> =
    LazyLock::new(|| format!("/console/static/console.css?v={}", *STYLESHEET_VERSION));

/// `GET /console/static/{file}`
pub async fn asset(visitor: Visitor, file: web::Path<String>) -> PageResult {
    let (body, content_type) = match file.as_str() {
        "console.css" => (STYLESHEET, "text/css; charset=utf-8"),
        _ => return Err(ConsoleError::NotFound(visitor.locale)),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        // The address carries the version: a browser may keep it for a year.
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::ETAG, format!("\"{}\"", *STYLESHEET_VERSION)))
        .body(body))
}
