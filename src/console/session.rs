//! Who is using the console: the page's language, the cookie session, and the checks every
//! state-changing form passes (same origin, CSRF token) before a handler sees it.
//!
//! A handler states what it needs by the type it takes: `Visitor` (anyone, with the page's
//! language), `Staff` (a signed-in staff member or admin) or `Posted<F>` (a form from a
//! signed-in staff member, already checked for origin and CSRF token and parsed as `F`).

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, Method};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::Sha256;

use crate::config::Settings;
use crate::db::DbPool;
use crate::domain::{Locale, Role, UserId};
use crate::i18n::negotiate;
use crate::models::logins;
use crate::ops::Actor;

use super::ConsoleError;

/// The cookie holding a console sign-in's key.
pub const SESSION_COOKIE: &str = "ocod_console";
/// The cookie remembering the language chosen with the switch.
pub const LANGUAGE_COOKIE: &str = "ocod_lang";
/// Largest form the console accepts.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The page's language: the switch's choice if made, else the browser's preference.
pub fn page_locale(req: &HttpRequest) -> Locale {
    match req.cookie(LANGUAGE_COOKIE).as_ref().map(Cookie::value) {
        Some("en") => Locale::En,
        Some("th") => Locale::Th,
        _ => negotiate(
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        ),
    }
}

/// The cookie that signs a browser in: readable by no script, sent only to the console,
/// not on cross-site requests, and only over HTTPS unless the server runs with `--dev`.
pub fn session_cookie(key: &str, settings: &Settings) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, key.to_string())
        .path("/console")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(settings.secure_cookies)
        .max_age(actix_web::cookie::time::Duration::seconds(
            settings.console_session_ttl.as_secs() as i64,
        ))
        .finish()
}

/// The cookie that removes the session cookie.
pub fn expired_session_cookie(settings: &Settings) -> Cookie<'static> {
    let mut cookie = session_cookie("", settings);
    cookie.make_removal();
    cookie
}

/// Anyone opening a console page.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub locale: Locale,
}

impl FromRequest for Visitor {
    type Error = ConsoleError;
    type Future = std::future::Ready<Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Visitor {
            locale: page_locale(req),
        }))
    }
}

/// A signed-in staff member or admin.
#[derive(Debug, Clone)]
pub struct Staff {
    pub id: UserId,
    pub role: Role,
    pub display_name: String,
    pub login_id: String,
    pub locale: Locale,
    /// The token this session's forms carry.
    pub csrf: String,
}

impl Staff {
    pub fn actor(&self) -> Actor {
        Actor {
            id: self.id.clone(),
            role: self.role,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Admin pages: staff get the "not allowed" page.
    pub fn require_admin(&self) -> Result<(), ConsoleError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden(self.locale))
        }
    }
}

type HmacSha256 = Hmac<Sha256>;

fn csrf_mac(settings: &Settings, login_id: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(settings.jwt_secret.expose())
        .expect("HMAC takes a key of any length");
    mac.update(b"ocod-console-csrf\0");
    mac.update(login_id.as_bytes());
    mac
}

/// The CSRF token of a login session: an HMAC of its ID under the server's secret, so it
/// needs no storage and no other session's token fits.
pub fn csrf_token(settings: &Settings, login_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(csrf_mac(settings, login_id).finalize().into_bytes())
}

fn csrf_matches(settings: &Settings, login_id: &str, presented: &str) -> bool {
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(presented.trim()) else {
        return false;
    };
    // Compared in constant time.
    csrf_mac(settings, login_id).verify_slice(&bytes).is_ok()
}

/// Whether a state-changing request comes from a console page of this server: its
/// `Origin` names this host, or (a browser that sends no `Origin`) `Sec-Fetch-Site` says
/// same-origin. A request with neither is refused: every browser the console supports
/// sends one of them on a form post.
pub fn same_origin(req: &HttpRequest) -> bool {
    let headers = req.headers();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let origin_host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        return matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h));
    }
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| site == "same-origin")
}

/// Where to come back to after signing in: the page asked for, if it is a console page.
pub fn safe_next(path: Option<&str>) -> String {
    match path {
        Some(p)
            if p.starts_with("/console/")
                && !p.starts_with("/console/login")
                && !p.contains("//")
                && !p.contains('\\')
                && p.len() <= 512 =>
        {
            p.to_string()
        }
        _ => "/console/today".to_string(),
    }
}

fn app_data<T: 'static>(req: &HttpRequest) -> Result<web::Data<T>, ConsoleError> {
    req.app_data::<web::Data<T>>().cloned().ok_or_else(|| {
        ConsoleError::Internal(
            page_locale(req),
            anyhow::anyhow!("{} not configured", std::any::type_name::<T>()),
        )
    })
}

async fn authenticate(req: HttpRequest) -> Result<Staff, ConsoleError> {
    let locale = page_locale(&req);
    let sign_in = || {
        let wanted = (req.method() == Method::GET).then(|| {
            let query = req.query_string();
            if query.is_empty() {
                req.path().to_string()
            } else {
                format!("{}?{query}", req.path())
            }
        });
        ConsoleError::SignIn {
            next: safe_next(wanted.as_deref()),
        }
    };
    let Some(key) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return Err(sign_in());
    };
    if key.is_empty() || key.len() > 100 {
        return Err(sign_in());
    }
    let pool = app_data::<DbPool>(&req)?;
    let settings = app_data::<Settings>(&req)?;
    let ttl = settings.console_session_ttl;
    let login = web::block(move || -> anyhow::Result<Option<logins::ConsoleLogin>> {
        let mut conn = pool.get()?;
        let login = logins::console_login(&mut conn, &key, ttl)?;
        if let Some(found) = &login {
            if found.role == Role::Resident {
                // No longer staff: the sign-in ends here.
                logins::revoke(&mut conn, &found.session_id, "role_changed")?;
                return Ok(None);
            }
            logins::touch(&mut conn, &found.session_id, found.last_used_at)?;
        }
        Ok(login)
    })
    .await
    .map_err(|e| ConsoleError::Internal(locale, e.into()))?
    .map_err(|e| ConsoleError::Internal(locale, e))?;
    let Some(login) = login else {
        return Err(sign_in());
    };
    Ok(Staff {
        csrf: csrf_token(&settings, &login.session_id),
        id: UserId::from_raw(login.user_id),
        role: login.role,
        display_name: login.display_name,
        login_id: login.session_id,
        locale,
    })
}

type Extraction<T> = Pin<Box<dyn Future<Output = Result<T, ConsoleError>>>>;

impl FromRequest for Staff {
    type Error = ConsoleError;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}

/// Reads an `application/x-www-form-urlencoded` body (at most `MAX_FORM_BYTES`).
async fn read_form<F: DeserializeOwned>(
    locale: Locale,
    mut payload: Payload,
) -> Result<F, ConsoleError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ConsoleError::BadForm(locale))?;
        if body.len() + chunk.len() > MAX_FORM_BYTES {
            return Err(ConsoleError::BadForm(locale));
        }
        body.extend_from_slice(&chunk);
    }
    serde_urlencoded::from_bytes(&body).map_err(|_| ConsoleError::BadForm(locale))
}

/// A form every console form is: its fields and the CSRF token.
pub trait ConsoleForm: DeserializeOwned + 'static {
    fn csrf(&self) -> &str;
}

/// A form with nothing but its CSRF token (a button: sign out, cancel, give a seat up).
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

impl ConsoleForm for CsrfOnly {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// A form posted by a signed-in staff member from a console page: same origin, the
/// session's CSRF token, parsed. Anything else changes nothing and is answered 403.
pub struct Posted<F> {
    pub staff: Staff,
    pub form: F,
}

impl<F: ConsoleForm> FromRequest for Posted<F> {
    type Error = ConsoleError;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let locale = page_locale(&req);
            if !same_origin(&req) {
                return Err(ConsoleError::FormRefused(locale));
            }
            let staff = authenticate(req.clone()).await?;
            let form: F = read_form(locale, payload).await?;
            let settings = app_data::<Settings>(&req)?;
            if !csrf_matches(&settings, &staff.login_id, form.csrf()) {
                return Err(ConsoleError::FormRefused(locale));
            }
            Ok(Posted { staff, form })
        })
    }
}

/// A form posted by someone not signed in (the sign-in form): same origin, parsed.
pub struct AnonymousForm<F> {
    pub locale: Locale,
    pub form: F,
}

impl<F: DeserializeOwned + 'static> FromRequest for AnonymousForm<F> {
    type Error = ConsoleError;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let locale = page_locale(&req);
            if !same_origin(&req) {
                return Err(ConsoleError::FormRefused(locale));
            }
            Ok(AnonymousForm {
                locale,
                form: read_form(locale, payload).await?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_pages_are_returned_to_after_sign_in() {
        assert_eq!(
            safe_next(Some("/console/sessions/x?q=1")),
            "/console/sessions/x?q=1"
        );
        for bad in [
            None,
            Some("https://evil.example/"),
            Some("//evil.example/console/"),
            Some("/console//evil.example"),
            Some("/api/v1/me"),
            Some("/console/login?next=/console/today"),
            Some("/console/\\evil"),
        ] {
            assert_eq!(safe_next(bad), "/console/today", "{bad:?}");
        }
    }
}
