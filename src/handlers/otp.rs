//! Sign-in (and sign-up) by a one-time code sent by SMS: `POST /auth/otp/request` and
//! `POST /auth/otp/verify`. The rules are in `auth::otp`.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::otp::{self, Asker, Verified};
use crate::auth::TokenKeys;
use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::domain::{DisplayName, Phone, Role, UserId};
use crate::error::{ApiError, ApiResult};
use crate::http::client_address;
use crate::http::extract::JsonBody;
use crate::i18n::{negotiate, Code};
use crate::models::logins;
use crate::models::users::{self, CreateUserError, NewUser};

use super::auth::{token_pair, user_agent};
use super::with_db;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtpRequest {
    phone: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtpVerify {
    phone: String,
    code: String,
    display_name: Option<String>,
}

/// A Thai mobile number, or the field's refusal.
fn mobile(raw: &str) -> ApiResult<Phone> {
    let phone = Phone::parse(raw).map_err(|code| ApiError::field("phone", code))?;
    if !phone.is_mobile() {
        return Err(ApiError::field("phone", Code::PhoneNotMobile));
    }
    Ok(phone)
}

/// A code bound to its phone, as stored.
fn code_hash(settings: &Settings, phone: &Phone) -> impl Fn(&str) -> String {
    let (key, phone) = (settings.hash_key(), phone.as_str().to_string());
    move |code| crate::config::keyed_hash(&key, "otp", &format!("{phone}:{code}"))
}

fn locale_of(req: &HttpRequest) -> crate::domain::Locale {
    negotiate(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// `POST /auth/otp/request`: 202 whether or not the phone has an account.
pub async fn request_otp(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    settings: web::Data<Settings>,
    JsonBody(body): JsonBody<OtpRequest>,
) -> ApiResult<HttpResponse> {
    let phone = mobile(&body.phone)?;
    let asker = Asker {
        phone_key: settings.keyed_hash("otp_phone", phone.as_str()),
        address_key: client_address::of_request(&req, &settings.trusted_proxies)
            .map(|a| settings.keyed_hash("otp_address", &client_address::limit_key(a))),
    };
    let (rules, locale, hash) = (settings.otp, locale_of(&req), code_hash(&settings, &phone));
    with_db(&pool, move |conn| {
        otp::request(conn, &rules, &phone, &asker, locale, hash)
    })
    .await?;
    Ok(HttpResponse::Accepted().json(json!({
        "expires_in": rules.ttl.as_secs(),
        "resend_after": rules.resend_after.as_secs(),
    })))
}

/// `POST /auth/otp/verify`: 200 with tokens as login; 201 with the new account when the
/// phone had none (`display_name` is then required: 400 without it, the code kept).
pub async fn verify_otp(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    keys: web::Data<Arc<TokenKeys>>,
    settings: web::Data<Settings>,
    JsonBody(body): JsonBody<OtpVerify>,
) -> ApiResult<HttpResponse> {
    let phone = mobile(&body.phone)?;
    let code = body.code.trim().to_string();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::field("code", Code::InvalidValue));
    }
    let name = body
        .display_name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .map(|n| DisplayName::parse(n).map_err(|c| ApiError::field("display_name", c)))
        .transpose()?;
    let (agent, ttl) = (user_agent(&req), settings.refresh_token_ttl);
    let (hash, locale) = (code_hash(&settings, &phone), locale_of(&req));
    let (user, refresh, created) = with_db(&pool, move |conn| {
        let (user, created) = match otp::verify(conn, &phone, &code, hash)? {
            Verified::Existing(user) => (*user, false),
            Verified::NewPhone { code_id } => {
                let Some(name) = name else {
                    return Err(ApiError::BadRequest(Code::DisplayNameRequired));
                };
                let now = db::now();
                let new = NewUser {
                    id: UserId::generate(),
                    phone: Some(phone.as_str().to_string()),
                    email: None,
                    password_hash: users::NO_PASSWORD.to_string(),
                    display_name: name.into_inner(),
                    role: Role::Resident,
                    locale,
                    created_at: now,
                    updated_at: now,
                };
                let user = db::write_transaction(conn, |conn| {
                    if !otp::use_code(conn, code_id)? {
                        return Err(ApiError::Unauthorized(Code::OtpInvalid));
                    }
                    users::create_user(conn, &new)?.map_err(|taken| match taken {
                        CreateUserError::PhoneTaken => ApiError::Conflict(Code::PhoneTaken),
                        CreateUserError::EmailTaken => ApiError::Conflict(Code::EmailTaken),
                    })
                })?;
                (user, true)
            }
        };
        let refresh = logins::start(conn, &user.id, agent.as_deref(), ttl)?;
        Ok((user, refresh, created))
    })
    .await?;
    let pair = token_pair(&keys, user, refresh)?;
    Ok(if created {
        HttpResponse::Created().json(pair)
    } else {
        HttpResponse::Ok().json(pair)
    })
}
