//! The public pages of certificates: `GET /verify/{code}` (anyone holding the code can
//! check it: name, course, center, date and nothing more) and `GET /certificates/{code}`
//! (the same on an A4 sheet to print, with a QR code of the verification page), in Thai or
//! English, in the Thai font OCOD serves itself (`GET /fonts/{file}`).

use std::sync::LazyLock;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::db::DbPool;
use crate::domain::{display_code, normalise_code, Locale, CERTIFICATE_SYMBOLS};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::QueryParams;
use crate::i18n::negotiate;
use crate::models::attendance::{self, Certificate};

use super::attendance::verify_url;
use super::with_db;

const KINNARI: &[u8] = include_bytes!("../../static/fonts/Kinnari.woff");
const KINNARI_BOLD: &[u8] = include_bytes!("../../static/fonts/Kinnari-Bold.woff");

fn version(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The pages' one stylesheet, inline (and allowed by its hash in the CSP). The fonts'
/// addresses carry their versions, so browsers and printers may keep them for a year.
pub static PAGE_STYLE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "@font-face{{font-family:'Kinnari';font-weight:400;font-display:swap;src:url('/fonts/kinnari.woff?v={}') format('woff')}}\
         @font-face{{font-family:'Kinnari';font-weight:700;font-display:swap;src:url('/fonts/kinnari-bold.woff?v={}') format('woff')}}\
         {}",
        version(KINNARI),
        version(KINNARI_BOLD),
        include_str!("../../static/certificate.css")
    )
});

/// For the templates.
pub fn page_style() -> &'static str {
    PAGE_STYLE.as_str()
}

static PAGE_CSP: LazyLock<String> = LazyLock::new(|| {
    let hash =
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(PAGE_STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; font-src 'self'; img-src 'self' data:; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
});

/// `GET /fonts/{file}`: the Thai font of the certificate pages.
pub async fn get_font(path: web::Path<String>) -> ApiResult<HttpResponse> {
    let body = match path.as_str() {
        "kinnari.woff" => KINNARI,
        "kinnari-bold.woff" => KINNARI_BOLD,
        _ => return Err(ApiError::NotFound),
    };
    Ok(HttpResponse::Ok()
        .content_type("font/woff")
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(body))
}

/// The words of the pages.
pub struct PageWords {
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub other_lang_name: &'static str,
    pub verify_title: &'static str,
    pub certificate_title: &'static str,
    pub valid: &'static str,
    pub name: &'static str,
    pub name_removed: &'static str,
    pub course: &'static str,
    pub center: &'static str,
    pub date: &'static str,
    pub code: &'static str,
    pub printable: &'static str,
    pub not_found_title: &'static str,
    pub not_found: &'static str,
    pub issuer: &'static str,
    pub given_to: &'static str,
    pub attended: &'static str,
    pub scan_to_verify: &'static str,
}

const TH: PageWords = PageWords {
    lang: "th",
    other_lang: "en",
    other_lang_name: "English",
    verify_title: "ตรวจสอบใบรับรองการเข้าอบรม",
    certificate_title: "ใบรับรองการเข้าอบรม",
    valid: "ใบรับรองนี้ออกโดยศูนย์ดิจิทัลชุมชน และยังมีผลอยู่",
    name: "ชื่อ",
    name_removed: "ไม่แสดงชื่อ (เจ้าของลบบัญชีแล้ว)",
    course: "หลักสูตร",
    center: "ศูนย์",
    date: "วันที่อบรม",
    code: "รหัสใบรับรอง",
    printable: "เปิดฉบับพิมพ์",
    not_found_title: "ไม่พบใบรับรอง",
    not_found: "ไม่มีใบรับรองรหัสนี้ หรือใบรับรองถูกยกเลิกแล้ว กรุณาตรวจรหัสอีกครั้ง",
    issuer: "ศูนย์ดิจิทัลชุมชน (One Community One Digital Center)",
    given_to: "ขอรับรองว่า",
    attended: "ได้เข้าร่วมการอบรมหลักสูตร",
    scan_to_verify: "สแกนเพื่อตรวจสอบใบรับรอง",
};

const EN: PageWords = PageWords {
    lang: "en",
    other_lang: "th",
    other_lang_name: "ภาษาไทย",
    verify_title: "Certificate check",
    certificate_title: "Certificate of attendance",
    valid: "This certificate was issued by a Community Digital Center and stands.",
    name: "Name",
    name_removed: "Not shown (the holder erased their account)",
    course: "Course",
    center: "Center",
    date: "Date",
    code: "Certificate code",
    printable: "Open the printable copy",
    not_found_title: "Certificate not found",
    not_found:
        "There is no certificate with this code, or it was withdrawn. Please check the code.",
    issuer: "Community Digital Centers (One Community One Digital Center)",
    given_to: "This certifies that",
    attended: "attended the course",
    scan_to_verify: "Scan to check this certificate",
};

fn page_words(locale: Locale) -> &'static PageWords {
    match locale {
        Locale::Th => &TH,
        Locale::En => &EN,
    }
}

/// A certificate's facts in one language.
pub struct Shown {
    pub code: String,
    pub name: Option<String>,
    pub course: String,
    pub center: String,
    pub date: String,
}

impl Shown {
    fn new(c: &Certificate, locale: Locale) -> Self {
        let (course, center) = match locale {
            Locale::Th => (&c.seat.course_th, &c.seat.center_th),
            Locale::En => (&c.seat.course_en, &c.seat.center_en),
        };
        Shown {
            code: display_code(&c.code),
            name: c.name.clone(),
            course: course.clone(),
            center: format!(
                "{center} ({})",
                crate::calendar::location_area(&c.seat, locale)
            ),
            date: crate::console::words::date(locale, c.seat.session.starts_at),
        }
    }
}

#[derive(Template)]
#[template(path = "public/verify.html")]
struct VerifyPage {
    w: &'static PageWords,
    certificate: Option<Shown>,
}

#[derive(Template)]
#[template(path = "public/certificate.html")]
struct CertificatePage {
    w: &'static PageWords,
    c: Shown,
    qr_svg: String,
    verify_url: String,
}

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    /// `th` or `en`; anything else is a 400, as for every query of the API.
    lang: Option<Locale>,
}

/// `?lang=` first, then `Accept-Language`, then Thai.
fn page_locale(req: &HttpRequest, query: &LangQuery) -> Locale {
    match query.lang {
        Some(locale) => locale,
        None => negotiate(
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        ),
    }
}

fn page(status: StatusCode, rendered: askama::Result<String>) -> ApiResult<HttpResponse> {
    let body = rendered.map_err(|e| ApiError::Internal(e.into()))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        // Erasure or a corrected attendance shows at once.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_CSP.as_str()))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header(("X-Robots-Tag", "noindex"))
        .body(body))
}

async fn find(pool: &web::Data<DbPool>, typed: String) -> ApiResult<Option<Certificate>> {
    let Some(code) = normalise_code(&typed, CERTIFICATE_SYMBOLS) else {
        return Ok(None);
    };
    with_db(pool, move |conn| Ok(attendance::certificate(conn, &code)?)).await
}

/// `GET /verify/{code}`: whether a certificate stands, and for whom, what and where.
pub async fn verify_certificate(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    path: web::Path<String>,
    QueryParams(query): QueryParams<LangQuery>,
) -> ApiResult<HttpResponse> {
    let locale = page_locale(&req, &query);
    let w = page_words(locale);
    let found = find(&pool, path.into_inner()).await?;
    let status = if found.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let certificate = found.map(|c| Shown::new(&c, locale));
    page(status, VerifyPage { w, certificate }.render())
}

/// `GET /certificates/{code}`: the certificate on an A4 sheet, to print or save as PDF.
pub async fn print_certificate(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    settings: web::Data<Settings>,
    path: web::Path<String>,
    QueryParams(query): QueryParams<LangQuery>,
) -> ApiResult<HttpResponse> {
    let locale = page_locale(&req, &query);
    let w = page_words(locale);
    let Some(found) = find(&pool, path.into_inner()).await? else {
        return page(
            StatusCode::NOT_FOUND,
            VerifyPage {
                w,
                certificate: None,
            }
            .render(),
        );
    };
    let verify_url = verify_url(&settings, &found.code);
    page(
        StatusCode::OK,
        CertificatePage {
            w,
            c: Shown::new(&found, locale),
            qr_svg: crate::qr::svg(&verify_url, 160),
            verify_url,
        }
        .render(),
    )
}
