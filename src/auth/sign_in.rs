//! Checking a login and password: one path for the API's `POST /auth/login` and the
//! console's sign-in form, so both throttle, lock out and answer alike.

use actix_web::web;

use crate::auth::hashers::Hashers;
use crate::auth::password::{verify_against_dummy, verify_password};
use crate::config::Settings;
use crate::db::DbPool;
use crate::domain::{normalise_login, Password};
use crate::error::ApiError;
use crate::handlers::with_db;
use crate::i18n::Code;
use crate::models::login_throttle::{self, Admission};
use crate::models::users::{self, User};

/// The account a login and password open. An unknown login and a wrong password get the
/// same answer in about the same time; too many failures lock the login for a while
/// (429 with the seconds to wait). A success clears the login's failures. The check
/// waits its turn at the hashers (503 `server_busy` when too many already wait).
pub async fn check_password(
    pool: &web::Data<DbPool>,
    hashers: &Hashers,
    settings: &Settings,
    login: &str,
    password: String,
) -> Result<User, ApiError> {
    if login.trim().is_empty() || login.chars().count() > 254 {
        return Err(ApiError::field("login", Code::Required));
    }
    if password.chars().count() > Password::MAX_CHARS {
        // Never verify a megabyte password: it would only burn CPU. Same answer as a wrong one.
        return Err(ApiError::Unauthorized(Code::InvalidCredentials));
    }
    let login_key = settings.login_keyer().key(login);
    let (max_failures, window) = (settings.login_max_failures, settings.login_lockout);
    let key = login_key.clone();
    let login = normalise_login(login);
    // Before the attempt is recorded: a login turned away as busy is not a failure.
    let turn = hashers.reserve()?;
    let user = with_db(pool, move |conn| {
        match login_throttle::admit(conn, &key, max_failures, window)? {
            Admission::Locked { retry_after_secs } => Err(ApiError::TooManyRequests {
                code: Code::TooManyLoginAttempts,
                retry_after_secs,
            }),
            Admission::Allowed => Ok(users::find_by_login(conn, &login)?),
        }
    })
    .await?;

    let (verified, user) = turn
        .run(move || match user {
            Some(user) => (verify_password(&password, &user.password_hash), Some(user)),
            None => {
                verify_against_dummy(&password);
                (false, None)
            }
        })
        .await?;
    let Some(user) = user.filter(|_| verified) else {
        return Err(ApiError::Unauthorized(Code::InvalidCredentials));
    };
    with_db(pool, move |conn| {
        Ok(login_throttle::clear(conn, &login_key)?)
    })
    .await?;
    Ok(user)
}
