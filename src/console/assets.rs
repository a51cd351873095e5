//! The console's own files, compiled into the binary: no CDN, no fetched fonts. Each is
//! served at an address carrying its version (the start of its SHA-256), so a changed file
//! has a new address and browsers may keep each for a year.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};

use super::session::Visitor;
use super::{ConsoleError, PageResult};

/// One file: its name, content, type and version.
struct Asset {
    name: &'static str,
    body: &'static str,
    content_type: &'static str,
    version: String,
}

impl Asset {
    fn new(name: &'static str, body: &'static str, content_type: &'static str) -> Self {
        let version = Sha256::digest(body.as_bytes())
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect();
        Asset {
            name,
            body,
            content_type,
            version,
        }
    }

    fn href(&self) -> String {
        format!("/console/static/{}?v={}", self.name, self.version)
    }
}

static ASSETS: LazyLock<[Asset; 3]> = LazyLock::new(|| {
    [
        Asset::new(
            "console.css",
            include_str!("../../static/console/console.css"),
            "text/css; charset=utf-8",
        ),
        // The broadcast composer's live counts, preview and reach (the page works without).
        Asset::new(
            "composer.js",
            include_str!("../../static/console/composer.js"),
            "text/javascript; charset=utf-8",
        ),
        // Check-in by camera and the roster kept current (typing works without).
        Asset::new(
            "checkin.js",
            include_str!("../../static/console/checkin.js"),
            "text/javascript; charset=utf-8",
        ),
    ]
});

pub static STYLESHEET_HREF: LazyLock<String> = LazyLock::new(|| ASSETS[0].href());
pub static COMPOSER_SCRIPT_HREF: LazyLock<String> = LazyLock::new(|| ASSETS[1].href());
pub static CHECKIN_SCRIPT_HREF: LazyLock<String> = LazyLock::new(|| ASSETS[2].href());

/// `GET /console/static/{file}`
pub async fn asset(visitor: Visitor, file: web::Path<String>) -> PageResult {
    let Some(asset) = ASSETS.iter().find(|a| a.name == file.as_str()) else {
        return Err(ConsoleError::NotFound(visitor.locale));
    };
    Ok(HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::ETAG, format!("\"{}\"", asset.version)))
        .body(asset.body))
}
