//! Stored answers for requests that carried an `Idempotency-Key`, so a phone that retries
//! on a bad network gets the first answer again instead of a second enrollment.

use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::schema::idempotency_keys;

/// What an earlier request with the same key left behind.
#[derive(Debug, PartialEq, Eq)]
pub enum Earlier {
    None,
    /// The same request: replay this answer.
    Answer {
        status: u16,
        body: String,
    },
    /// The key was used for a different request.
    OtherRequest,
}

pub fn lookup(
    conn: &mut DbConn,
    user_id: &str,
    key: &str,
    request_hash: &str,
) -> QueryResult<Earlier> {
    let row: Option<(String, i32, String)> = idempotency_keys::table
        .find((user_id, key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status_code,
            idempotency_keys::body,
        ))
        .first(conn)
        .optional()?;
    Ok(match row {
        None => Earlier::None,
        Some((hash, status, body)) if hash == request_hash => Earlier::Answer {
            status: status as u16,
            body,
        },
        Some(_) => Earlier::OtherRequest,
    })
}

pub fn store(
    conn: &mut DbConn,
    user_id: &str,
    key: &str,
    request_hash: &str,
    status: u16,
    body: &str,
) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(user_id),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::status_code.eq(i32::from(status)),
            idempotency_keys::body.eq(body),
            idempotency_keys::created_at.eq(db::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets answers older than a day: retries come within minutes.
pub fn prune(conn: &mut DbConn) -> QueryResult<usize> {
    let cutoff = db::now() - chrono::Duration::hours(24);
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(cutoff)))
        .execute(conn)
}
