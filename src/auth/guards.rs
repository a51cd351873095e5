//! Extractors that authenticate the caller. A handler states who may call it by the type
//! it takes: `AuthUser` (anyone logged in), `StaffUser` (staff or admin), `AdminUser`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};

use crate::db::DbPool;
use crate::domain::{Role, UserId};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::models::logins;

use super::TokenKeys;

/// A caller with a valid access token whose login session is still live.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub role: Role,
    /// The login session (a row of `auth_sessions`) the token belongs to.
    pub login_id: String,
}

impl AuthUser {
    /// The caller as the operations see them.
    pub fn actor(&self) -> crate::ops::Actor {
        crate::ops::Actor {
            id: self.id.clone(),
            role: self.role,
        }
    }
}

/// A caller with the staff or admin role (what staff may touch is checked per center).
#[derive(Debug, Clone)]
pub struct StaffUser(pub AuthUser);

/// A caller with the admin role.
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::Unauthorized(Code::MissingToken))?
        .to_str()
        .map_err(|_| ApiError::Unauthorized(Code::InvalidToken))?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or(ApiError::Unauthorized(Code::InvalidToken))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthorized(Code::InvalidToken));
    }
    Ok(token.trim().to_string())
}

/// Checks the token, then (for a role `allowed` accepts) that its login session is live
/// and its role current.
///
/// A token whose own role is not allowed is refused at once, before any database work.
/// actix polls a handler's extractors together and answers with the first failure, so
/// this also keeps a resident calling an admin route from getting a body-validation
/// answer (which would tell them what the route wants) instead of 403.
async fn authenticate(req: HttpRequest, allowed: fn(Role) -> bool) -> Result<AuthUser, ApiError> {
    let token = bearer_token(&req)?;
    let keys = req
        .app_data::<web::Data<Arc<TokenKeys>>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("token keys not configured")))?;
    let claims = keys.verify_access(&token)?;
    if !allowed(claims.role) {
        return Err(ApiError::Forbidden);
    }
    let pool = req
        .app_data::<web::Data<DbPool>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("database pool not configured")))?
        .clone();
    let (sid, sub) = (claims.sid.clone(), claims.sub.clone());
    let live_role = web::block(move || -> Result<Option<Role>, ApiError> {
        let mut conn = pool.get()?;
        Ok(logins::live_role(&mut conn, &sid, &sub)?)
    })
    .await??;
    match live_role {
        None => Err(ApiError::Unauthorized(Code::SessionRevoked)),
        // The role travels in the token; if it has changed since, the app must refresh
        // (getting a token with the new role) before acting with it.
        Some(role) if role != claims.role => Err(ApiError::Unauthorized(Code::StaleToken)),
        Some(role) => Ok(AuthUser {
            id: UserId::from_raw(claims.sub),
            role,
            login_id: claims.sid,
        }),
    }
}

type Extraction<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(authenticate(req.clone(), |_| true))
    }
}

impl FromRequest for StaffUser {
    type Error = ApiError;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let authenticated = authenticate(req.clone(), |role| role != Role::Resident);
        Box::pin(async move { Ok(StaffUser(authenticated.await?)) })
    }
}

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let authenticated = authenticate(req.clone(), |role| role == Role::Admin);
        Box::pin(async move { Ok(AdminUser(authenticated.await?)) })
    }
}
