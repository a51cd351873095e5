//! Sign-up, login, token refresh and logout.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::auth::hashers::Hashers;
use crate::auth::password::hash_password;
use crate::auth::sign_in::check_password;
use crate::auth::{AuthUser, TokenKeys};
use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::domain::{DisplayName, Email, Locale, Password, Phone, Role, UserId};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::client_address;
use crate::http::extract::JsonBody;
use crate::i18n::Code;
use crate::models::logins::{self, IssuedRefresh, RefreshOutcome};
use crate::models::rate_limits::{self, Admission};
use crate::models::users::{self, CreateUserError, NewUser, User};

use super::fields::{accept, parse_locale};
use super::views::{TokenPair, UserView};
use super::with_db;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    phone: Option<String>,
    email: Option<String>,
    password: String,
    display_name: String,
    locale: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    login: String,
    password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    refresh_token: String,
}

pub(super) fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

pub(super) fn token_pair(
    keys: &TokenKeys,
    user: User,
    refresh: IssuedRefresh,
) -> ApiResult<TokenPair> {
    let role = user.role;
    let access_token = keys.issue_access(&user.id, &refresh.session_id, role)?;
    Ok(TokenPair {
        user: UserView::from(user),
        access_token,
        refresh_token: refresh.token,
        token_type: "Bearer",
        expires_in: keys.access_ttl_secs,
    })
}

/// A text field that was sent and is not blank.
fn present(field: &Option<String>) -> Option<&str> {
    field.as_deref().filter(|s| !s.trim().is_empty())
}

/// Counts a sign-up against the caller's address: at most
/// `OCOD_SIGNUPS_PER_ADDRESS_PER_HOUR` an hour (OWASP API6, mass account creation).
async fn admit_signup(
    req: &HttpRequest,
    pool: &web::Data<DbPool>,
    settings: &Settings,
) -> ApiResult<()> {
    let limit = settings.signups_per_address_per_hour;
    let Some(address) = client_address::of_request(req, &settings.trusted_proxies) else {
        return Ok(());
    };
    if limit == 0 {
        return Ok(());
    }
    let key = settings.keyed_hash("signup", &client_address::limit_key(address));
    let admission = with_db(pool, move |conn| {
        Ok(rate_limits::admit(
            conn,
            "signup",
            &key,
            limit,
            std::time::Duration::from_secs(3600),
        )?)
    })
    .await?;
    match admission {
        Admission::Allowed => Ok(()),
        Admission::Limited { retry_after_secs } => Err(ApiError::TooManyRequests {
            code: Code::TooManySignups,
            retry_after_secs,
        }),
    }
}

/// `POST /auth/register`
pub async fn register(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    hashers: web::Data<Hashers>,
    keys: web::Data<Arc<TokenKeys>>,
    settings: web::Data<Settings>,
    JsonBody(body): JsonBody<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    let phone =
        present(&body.phone).and_then(|raw| accept(&mut errors, "phone", Phone::parse(raw)));
    let email =
        present(&body.email).and_then(|raw| accept(&mut errors, "email", Email::parse(raw)));
    if present(&body.phone).is_none() && present(&body.email).is_none() {
        errors.push(FieldError::new("phone", Code::PhoneOrEmailRequired));
    }
    let password = accept(&mut errors, "password", Password::parse(&body.password));
    let display_name = accept(
        &mut errors,
        "display_name",
        DisplayName::parse(&body.display_name),
    );
    let locale = accept(
        &mut errors,
        "locale",
        body.locale.as_deref().map_or(Ok(Locale::Th), parse_locale),
    );
    let (Some(password), Some(display_name), Some(locale), true) =
        (password, display_name, locale, errors.is_empty())
    else {
        return Err(ApiError::Validation(errors));
    };

    // The turn first: a sign-up turned away as busy (503) does not count against the
    // address's hourly limit.
    let turn = hashers.reserve()?;
    admit_signup(&req, &pool, &settings).await?;
    let password_hash = turn.run(move || hash_password(password.expose())).await??;
    let now = db::now();
    let new_user = NewUser {
        id: UserId::generate(),
        phone: phone.map(|p| p.as_str().to_string()),
        email: email.map(|e| e.as_str().to_string()),
        password_hash,
        display_name: display_name.into_inner(),
        role: Role::Resident,
        locale,
        created_at: now,
        updated_at: now,
    };
    let agent = user_agent(&req);
    let ttl = settings.refresh_token_ttl;
    let (user, refresh) = with_db(&pool, move |conn| {
        let user = users::create_user(conn, &new_user)?.map_err(|taken| match taken {
            CreateUserError::PhoneTaken => ApiError::Conflict(Code::PhoneTaken),
            CreateUserError::EmailTaken => ApiError::Conflict(Code::EmailTaken),
        })?;
        let refresh = logins::start(conn, &user.id, agent.as_deref(), ttl)?;
        Ok((user, refresh))
    })
    .await?;
    Ok(HttpResponse::Created().json(token_pair(&keys, user, refresh)?))
}

/// `POST /auth/login`: the same answer, in about the same time, for an unknown login and
/// a wrong password; too many failures lock the login for a while (429 + Retry-After).
pub async fn login(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    hashers: web::Data<Hashers>,
    keys: web::Data<Arc<TokenKeys>>,
    settings: web::Data<Settings>,
    JsonBody(body): JsonBody<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let user = check_password(&pool, &hashers, &settings, &body.login, body.password).await?;
    let agent = user_agent(&req);
    let ttl = settings.refresh_token_ttl;
    let user_id = user.id.clone();
    let refresh = with_db(&pool, move |conn| {
        Ok(logins::start(conn, &user_id, agent.as_deref(), ttl)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(token_pair(&keys, user, refresh)?))
}

/// `POST /auth/refresh`: rotates the refresh token; a spent one presented again ends the
/// whole login session.
pub async fn refresh_tokens(
    pool: web::Data<DbPool>,
    keys: web::Data<Arc<TokenKeys>>,
    settings: web::Data<Settings>,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    if body.refresh_token.is_empty() || body.refresh_token.len() > 200 {
        return Err(ApiError::Unauthorized(Code::InvalidRefreshToken));
    }
    let (ttl, grace) = (settings.refresh_token_ttl, settings.refresh_reuse_grace);
    let outcome = with_db(&pool, move |conn| {
        Ok(logins::rotate(conn, &body.refresh_token, ttl, grace)?)
    })
    .await?;
    match outcome {
        RefreshOutcome::Rotated { user, refresh } => {
            Ok(HttpResponse::Ok().json(token_pair(&keys, *user, refresh)?))
        }
        RefreshOutcome::Invalid => Err(ApiError::Unauthorized(Code::InvalidRefreshToken)),
        RefreshOutcome::Reused => {
            tracing::warn!("a spent refresh token was presented again; its session was revoked");
            Err(ApiError::Unauthorized(Code::RefreshTokenReused))
        }
    }
}

/// `POST /auth/logout`: ends the session of the given refresh token (if it is the
/// caller's) and the session the access token belongs to.
pub async fn logout(
    user: AuthUser,
    pool: web::Data<DbPool>,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    with_db(&pool, move |conn| {
        if let Some(session_id) = logins::session_of_refresh(conn, &body.refresh_token, &user.id)? {
            logins::revoke(conn, &session_id, "logout")?;
        }
        logins::revoke(conn, &user.login_id, "logout")?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
