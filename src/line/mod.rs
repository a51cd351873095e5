//! LINE as a channel: residents link their LINE account to OCOD by sending a code to the
//! official account; the webhook (`handlers::line`) reads the chat; `client` talks to the
//! Messaging API; `fake` stands in for it in tests.

pub mod client;
pub mod fake;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::domain::UserId;
use crate::error::ApiError;
use crate::schema::{line_link_codes, line_links};

/// A new link code for `user` (six digits, only an HMAC kept), replacing any earlier
/// one; no two live codes are the same.
pub fn new_link_code(
    conn: &mut DbConn,
    user: &UserId,
    ttl: chrono::Duration,
    hash: impl Fn(&str) -> String,
) -> Result<(String, NaiveDateTime), ApiError> {
    let now = db::now();
    let expires_at = now + ttl;
    db::write_transaction(conn, |conn| {
        diesel::update(
            line_link_codes::table
                .filter(line_link_codes::user_id.eq(user.as_str()))
                .filter(line_link_codes::used_at.is_null()),
        )
        .set(line_link_codes::used_at.eq(now))
        .execute(conn)?;
        loop {
            let code = crate::auth::otp::new_code()?;
            let code_hash = hash(&code);
            let clash: i64 = line_link_codes::table
                .filter(line_link_codes::code_hash.eq(&code_hash))
                .filter(line_link_codes::used_at.is_null())
                .filter(line_link_codes::expires_at.gt(now))
                .count()
                .get_result(conn)?;
            if clash > 0 {
                continue;
            }
            diesel::insert_into(line_link_codes::table)
                .values((
                    line_link_codes::user_id.eq(user.as_str()),
                    line_link_codes::code_hash.eq(&code_hash),
                    line_link_codes::created_at.eq(now),
                    line_link_codes::expires_at.eq(expires_at),
                ))
                .execute(conn)?;
            return Ok((code, expires_at));
        }
    })
}

/// Links `line_user` to the person whose live code this is (using the code up); the LINE
/// account's and the person's earlier links give way. `None`: no such live code.
pub fn link_by_code(
    conn: &mut DbConn,
    code_hash: &str,
    line_user: &str,
) -> QueryResult<Option<UserId>> {
    let now = db::now();
    db::write_transaction(conn, |conn| {
        let found: Option<(i64, String)> = line_link_codes::table
            .filter(line_link_codes::code_hash.eq(code_hash))
            .filter(line_link_codes::used_at.is_null())
            .filter(line_link_codes::expires_at.gt(now))
            .select((line_link_codes::id, line_link_codes::user_id))
            .first(conn)
            .optional()?;
        let Some((id, user)) = found else {
            return Ok(None);
        };
        diesel::update(line_link_codes::table.find(id))
            .set(line_link_codes::used_at.eq(now))
            .execute(conn)?;
        diesel::delete(
            line_links::table.filter(
                line_links::user_id
                    .eq(&user)
                    .or(line_links::line_user_id.eq(line_user)),
            ),
        )
        .execute(conn)?;
        diesel::insert_into(line_links::table)
            .values((
                line_links::user_id.eq(&user),
                line_links::line_user_id.eq(line_user),
                line_links::linked_at.eq(now),
            ))
            .execute(conn)?;
        Ok(Some(UserId::from_raw(user)))
    })
}

/// Unlinks a person; whether they were linked.
pub fn unlink_user(conn: &mut DbConn, user: &UserId) -> QueryResult<bool> {
    let removed = diesel::delete(line_links::table.filter(line_links::user_id.eq(user.as_str())))
        .execute(conn)?;
    diesel::delete(line_link_codes::table.filter(line_link_codes::user_id.eq(user.as_str())))
        .execute(conn)?;
    Ok(removed > 0)
}

/// Unlinks a LINE account (it unfollowed or blocked OCOD).
pub fn unlink_line_user(conn: &mut DbConn, line_user: &str) -> QueryResult<usize> {
    diesel::delete(line_links::table.filter(line_links::line_user_id.eq(line_user))).execute(conn)
}

pub fn is_linked(conn: &mut DbConn, user: &UserId) -> QueryResult<bool> {
    let n: i64 = line_links::table
        .filter(line_links::user_id.eq(user.as_str()))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
