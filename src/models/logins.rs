//! Login sessions and their refresh tokens. A session is one device's login; its refresh
//! tokens form a family that rotates on every use. Presenting a spent token again (after a
//! short grace for two requests racing from one phone) means it was copied: the whole
//! family is revoked.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::tokens::{hash_refresh_token, new_refresh_token};
use crate::db::{self, DbConn};
use crate::domain::Role;
use crate::models::users::{new_id, User};
use crate::schema::{auth_sessions, refresh_tokens, users};

/// A refresh token handed to a client (the only time it exists in plain text).
#[derive(Debug)]
pub struct IssuedRefresh {
    pub session_id: String,
    pub token: String,
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum RefreshOutcome {
    Rotated {
        user: Box<User>,
        refresh: IssuedRefresh,
    },
    /// Unknown, expired, or from a session that has ended.
    Invalid,
    /// A spent token came back after the grace period: the session is now revoked.
    Reused,
}

fn expiry(now: NaiveDateTime, ttl: Duration) -> NaiveDateTime {
    now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(60))
}

fn insert_refresh(
    conn: &mut DbConn,
    session_id: &str,
    ttl: Duration,
    now: NaiveDateTime,
) -> anyhow::Result<String> {
    let token = new_refresh_token()?;
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(hash_refresh_token(&token)),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::issued_at.eq(now),
            refresh_tokens::expires_at.eq(expiry(now, ttl)),
        ))
        .execute(conn)?;
    Ok(token)
}

/// A new login session row; `console_key` is the hash of a console cookie's key.
fn insert_session(
    conn: &mut DbConn,
    user_id: &str,
    user_agent: Option<&str>,
    console_key_hash: Option<String>,
    now: NaiveDateTime,
) -> QueryResult<String> {
    let session_id = new_id();
    diesel::insert_into(auth_sessions::table)
        .values((
            auth_sessions::id.eq(&session_id),
            auth_sessions::user_id.eq(user_id),
            auth_sessions::created_at.eq(now),
            auth_sessions::last_used_at.eq(now),
            auth_sessions::user_agent
                .eq(user_agent.map(|ua| ua.chars().take(200).collect::<String>())),
            auth_sessions::console_key_hash.eq(console_key_hash),
        ))
        .execute(conn)?;
    Ok(session_id)
}

/// Starts a login session for `user_id` and returns its first refresh token.
pub fn start(
    conn: &mut DbConn,
    user_id: &str,
    user_agent: Option<&str>,
    ttl: Duration,
) -> anyhow::Result<IssuedRefresh> {
    let now = db::now();
    db::write_transaction(conn, |conn| {
        let session_id = insert_session(conn, user_id, user_agent, None, now)?;
        let token = insert_refresh(conn, &session_id, ttl, now)?;
        Ok(IssuedRefresh { session_id, token })
    })
}

/// Exchanges a refresh token for a new one in the same session.
pub fn rotate(
    conn: &mut DbConn,
    presented: &str,
    ttl: Duration,
    reuse_grace: Duration,
) -> anyhow::Result<RefreshOutcome> {
    let hash = hash_refresh_token(presented);
    let now = db::now();
    db::write_transaction(conn, |conn| {
        let found: Option<(
            String,
            NaiveDateTime,
            Option<NaiveDateTime>,
            Option<NaiveDateTime>,
        )> = refresh_tokens::table
            .inner_join(auth_sessions::table)
            .filter(refresh_tokens::token_hash.eq(&hash))
            .select((
                refresh_tokens::session_id,
                refresh_tokens::expires_at,
                refresh_tokens::used_at,
                auth_sessions::revoked_at,
            ))
            .first(conn)
            .optional()?;
        let Some((session_id, expires_at, used_at, revoked_at)) = found else {
            return Ok(RefreshOutcome::Invalid);
        };
        if revoked_at.is_some() || expires_at <= now {
            return Ok(RefreshOutcome::Invalid);
        }
        let first_use = used_at.is_none()
            && diesel::update(
                refresh_tokens::table
                    .find(&hash)
                    .filter(refresh_tokens::used_at.is_null()),
            )
            .set(refresh_tokens::used_at.eq(now))
            .execute(conn)?
                == 1;
        if !first_use {
            // Spent already. A second request from the same phone moments later (a retry
            // on a flaky network) is tolerated; anything later is a stolen token.
            let spent_at = match used_at {
                Some(t) => t,
                None => refresh_tokens::table
                    .find(&hash)
                    .select(refresh_tokens::used_at)
                    .first::<Option<NaiveDateTime>>(conn)?
                    .unwrap_or(now),
            };
            let grace = chrono::Duration::from_std(reuse_grace).unwrap_or_default();
            if now - spent_at > grace {
                revoke(conn, &session_id, "refresh_token_reused")?;
                return Ok(RefreshOutcome::Reused);
            }
        }
        diesel::update(auth_sessions::table.find(&session_id))
            .set(auth_sessions::last_used_at.eq(now))
            .execute(conn)?;
        let token = insert_refresh(conn, &session_id, ttl, now)?;
        let user = users::table
            .inner_join(auth_sessions::table)
            .filter(auth_sessions::id.eq(&session_id))
            .select(User::as_select())
            .first(conn)?;
        Ok(RefreshOutcome::Rotated {
            user: Box::new(user),
            refresh: IssuedRefresh { session_id, token },
        })
    })
}

/// Ends a session: its refresh tokens stop working and so do access tokens naming it.
pub fn revoke(conn: &mut DbConn, session_id: &str, reason: &str) -> QueryResult<()> {
    diesel::update(
        auth_sessions::table
            .find(session_id)
            .filter(auth_sessions::revoked_at.is_null()),
    )
    .set((
        auth_sessions::revoked_at.eq(db::now()),
        auth_sessions::revoked_reason.eq(reason),
    ))
    .execute(conn)?;
    Ok(())
}

/// Ends every live login session of `user_id` (the app's and the console's); returns how
/// many were live.
pub fn revoke_all(conn: &mut DbConn, user_id: &str, reason: &str) -> QueryResult<usize> {
    diesel::update(
        auth_sessions::table
            .filter(auth_sessions::user_id.eq(user_id))
            .filter(auth_sessions::revoked_at.is_null()),
    )
    .set((
        auth_sessions::revoked_at.eq(db::now()),
        auth_sessions::revoked_reason.eq(reason),
    ))
    .execute(conn)
}

/// The session a refresh token belongs to, if it is `user_id`'s.
pub fn session_of_refresh(
    conn: &mut DbConn,
    presented: &str,
    user_id: &str,
) -> QueryResult<Option<String>> {
    refresh_tokens::table
        .inner_join(auth_sessions::table)
        .filter(refresh_tokens::token_hash.eq(hash_refresh_token(presented)))
        .filter(auth_sessions::user_id.eq(user_id))
        .select(auth_sessions::id)
        .first(conn)
        .optional()
}

/// The current role of `user_id` if `session_id` is theirs and still live; checked on every
/// authenticated request so logout, erasure and role changes take effect at once.
pub fn live_role(conn: &mut DbConn, session_id: &str, user_id: &str) -> QueryResult<Option<Role>> {
    auth_sessions::table
        .inner_join(users::table)
        .filter(auth_sessions::id.eq(session_id))
        .filter(auth_sessions::user_id.eq(user_id))
        .filter(auth_sessions::revoked_at.is_null())
        .select(users::role)
        .first(conn)
        .optional()
}

/// A console sign-in handed to a browser: the login session and the cookie's key (the only
/// time the key exists in plain text).
#[derive(Debug)]
pub struct IssuedConsoleKey {
    pub session_id: String,
    pub key: String,
}

/// Starts a console login session for `user_id`.
pub fn start_console(
    conn: &mut DbConn,
    user_id: &str,
    user_agent: Option<&str>,
) -> anyhow::Result<IssuedConsoleKey> {
    let key = new_refresh_token()?;
    let session_id = insert_session(
        conn,
        user_id,
        user_agent,
        Some(hash_refresh_token(&key)),
        db::now(),
    )?;
    Ok(IssuedConsoleKey { session_id, key })
}

/// Who a console cookie belongs to, read on every console request.
#[derive(Debug, Clone, Queryable)]
pub struct ConsoleLogin {
    pub session_id: String,
    pub user_id: String,
    pub role: Role,
    pub display_name: String,
    pub last_used_at: NaiveDateTime,
}

/// The live console session a cookie's key opens: not revoked, started less than `ttl` ago.
/// The role is the user's current one, so a role change takes effect on the next page.
pub fn console_login(
    conn: &mut DbConn,
    key: &str,
    ttl: Duration,
) -> QueryResult<Option<ConsoleLogin>> {
    let oldest = db::now() - chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(12));
    auth_sessions::table
        .inner_join(users::table)
        .filter(auth_sessions::console_key_hash.eq(hash_refresh_token(key)))
        .filter(auth_sessions::revoked_at.is_null())
        .filter(auth_sessions::created_at.gt(oldest))
        .select((
            auth_sessions::id,
            auth_sessions::user_id,
            users::role,
            users::display_name,
            auth_sessions::last_used_at,
        ))
        .first(conn)
        .optional()
}

/// Notes that a session was used (at most once a minute, so reading pages is not a write
/// each time).
pub fn touch(conn: &mut DbConn, session_id: &str, last_used_at: NaiveDateTime) -> QueryResult<()> {
    let now = db::now();
    if now - last_used_at >= chrono::Duration::minutes(1) {
        diesel::update(auth_sessions::table.find(session_id))
            .set(auth_sessions::last_used_at.eq(now))
            .execute(conn)?;
    }
    Ok(())
}
